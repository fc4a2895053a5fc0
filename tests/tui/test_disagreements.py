"""The disagreements view: ours vs the harness vs the judge; accepting an opinion, undo and redo; the
answer-source filter of the trajectories screen."""

from __future__ import annotations

import pytest

from still2tui.components.disagreements_screen import DisagreementsScreen
from still2tui.components.trajectories_screen import TrajectoriesScreen
from still2tui.components.virtual_table import VirtualTable
from store import Store
from tests.tui.test_app import filter_to, q, until

pytestmark = pytest.mark.asyncio


def _opinions(db):
    store = Store(db)
    with store.write() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM trajectory WHERE verdict = 'incorrect' AND harness_correct "
                "IS NOT NULL ORDER BY id LIMIT 3"
            ).fetchall()
        ]
        conn.execute(
            "UPDATE trajectory SET judge_verdict = 'correct', judge_model = 'judge-m', "
            "judge_reason = 'states the gold' WHERE id IN (SELECT unnest(?))",
            [ids],
        )
        conn.execute("UPDATE trajectory SET answer_source = CASE WHEN verdict = 'correct' THEN 'box' ELSE 'none' END")
    store.close()
    return ids


async def _open_disagreements(pilot, app) -> VirtualTable:
    """Key 7, then the disagreements table once it lists the three trajectories `_opinions` set up."""
    await pilot.press("7")
    await until(pilot, lambda: isinstance(app.screen, DisagreementsScreen))
    table = app.screen.query_one(VirtualTable)
    await until(pilot, lambda: table.total == 3)
    return table


async def test_accept_the_judge_then_undo_and_redo(make_app, tui_db):
    ids = _opinions(tui_db)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _open_disagreements(pilot, app)
        first = table.current_key
        assert first in ids
        assert "states the gold" in str(app.screen.query_one("#disagreement").render())
        await pilot.press("J")
        await until(pilot, lambda: table.total == 2)  # accepted: no longer open
        assert q(tui_db, "SELECT verdict, verdict_by FROM trajectory WHERE id = ?", [first]) == [("correct", "judge")]
        await pilot.press("u")
        await until(pilot, lambda: table.total == 3)
        assert q(tui_db, "SELECT verdict, verdict_by FROM trajectory WHERE id = ?", [first]) == [("incorrect", None)]
        await pilot.press("U")
        await until(pilot, lambda: table.total == 2)
        await pilot.press("d")  # all rows, the accepted one included
        await until(pilot, lambda: table.total == 3)
        table.move_to(next(i for i, row in enumerate(app.screen.source.rows()) if row[0] == first))
        await until(pilot, lambda: table.current_key == first)
        await pilot.press("v")  # back to ours
        await until(
            pilot,
            lambda: (
                q(tui_db, "SELECT verdict, verdict_by FROM trajectory WHERE id = ?", [first]) == [("incorrect", None)]
            ),
        )


async def test_filter_by_answer_source(make_app, tui_db):
    _opinions(tui_db)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, TrajectoriesScreen)
        await filter_to(pilot, "answer:box")
        table = app.screen.query_one(VirtualTable)
        expected = q(tui_db, "SELECT count(*) FROM trajectory WHERE answer_source = 'box'")[0][0]
        await until(pilot, lambda: table.total == expected)
        assert expected > 0
        await filter_to(pilot, "judge:correct")
        await until(pilot, lambda: table.total == 3)


async def test_the_panel_shows_every_judge_models_opinion(make_app, tui_db):
    ids = _opinions(tui_db)
    store = Store(tui_db)
    with store.write() as conn:  # an earlier judge model's opinion on the first row, kept in judge_opinion
        conn.execute(
            """INSERT INTO judge_opinion (trajectory_id, judge_model, verdict, reason)
               SELECT id, judge_model, judge_verdict, judge_reason FROM trajectory WHERE id IN (SELECT unnest(?))""",
            [ids],
        )
        conn.execute(
            "INSERT INTO judge_opinion (trajectory_id, judge_model, verdict, reason) "
            "VALUES (?, 'judge-old', 'incorrect', 'never says the gold')",
            [ids[0]],
        )
    store.close()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _open_disagreements(pilot, app)
        table.move_to(next(i for i, row in enumerate(app.screen.source.rows()) if row[0] == ids[0]))
        panel = app.screen.query_one("#disagreement")
        await until(pilot, lambda: "judge-old" in str(panel.render()))
        text = str(panel.render())
        assert "states the gold" in text and "(judge-old, earlier): never says the gold" in text
        assert text.count("(judge-m") == 1  # the latest opinion once, not again as an earlier one
        table.move_to(next(i for i, row in enumerate(app.screen.source.rows()) if row[0] == ids[1]))
        await until(pilot, lambda: app.screen.shown == ids[1])
        assert ", earlier):" not in str(panel.render())  # one judge only
