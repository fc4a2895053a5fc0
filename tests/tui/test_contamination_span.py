"""The detail view shows a contamination flag's matched benchmark span, highlighted."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from still2tui.components.virtual_table import VirtualTable
from store import Store
from store.ingest import insert_new

pytestmark = pytest.mark.asyncio


async def test_detail_highlights_the_matched_span_of_a_contamination_flag(make_app, tui_db):
    store = Store(tui_db)
    with store.read() as conn:
        tid, question = conn.execute("""SELECT t.id, p.question FROM trajectory t JOIN problem p ON p.id = t.problem_id
                                        ORDER BY t.rowid LIMIT 1""").fetchone()
    start, end = 0, min(len(question), 40)
    with store.write() as conn:
        insert_new(
            conn,
            "flag",
            [
                {
                    "trajectory_id": tid,
                    "rule": "contamination",
                    "reason": "question matches math500 x (…)",
                    "detail": {
                        "benchmark": "math500",
                        "benchmark_key": "test/x.json",
                        "method": "ngram5",
                        "field": "question",
                        "score": 0.9,
                        "span": [start, end],
                    },
                }
            ],
        )
    store.close()
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.screen.query_one(VirtualTable)
        table.move_to(0)
        assert table.current_key == tid
        await pilot.press("enter")
        await pilot.pause()
        facts = app.screen.query_one("#facts", Static).render()
        plain = str(facts)
        assert "question matches math500 test/x.json (90% of its words)" in " ".join(plain.split())
        span = " ".join(question[start:end].split())
        highlighted = [plain[s.start : s.end] for s in facts.spans if "reverse" in str(s.style)]
        assert highlighted == [span]
