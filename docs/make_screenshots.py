"""Writes docs/screenshots/*.svg: every screen of the TUI on the test store (shared data), via Pilot.

.venv/bin/python docs/make_screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from store import Store  # noqa: E402
from tests.conftest import SHARED  # noqa: E402
from tests.tui.conftest import FAKE_CLI, fill  # noqa: E402

SHOTS = [
    ("trajectories", []),
    ("detail", ["enter"]),
    ("problems", ["2"]),
    ("pairs", ["3"]),
    ("overview-runs", ["4"]),
    ("jobs", ["5"]),
    ("sql", ["6"]),
    ("help", ["question_mark"]),
]


async def main() -> None:
    from still2tui.app import Still2App

    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "tour.duckdb"
        store = Store(db)
        store.init()
        fill(store, SHARED / "data")
        store.close()
        for name, keys in SHOTS + [("evals", ["4"]), ("plots", ["p"])]:
            app = Still2App(db, cli=[sys.executable, str(FAKE_CLI)], keymap={}, history_path=Path(tmp) / "h")
            async with app.run_test(size=(160, 48)) as pilot:
                await pilot.press(*keys)
                if name == "evals":
                    app.screen.query_one("TabbedContent").active = "tab-evals"
                if name == "sql":
                    app.screen.query_one(
                        "#sql-input"
                    ).value = (
                        "SELECT origin, verdict, count(*) n, round(avg(ppl), 2) ppl FROM trajectories GROUP BY ALL"
                    )
                    await pilot.press("enter")
                await pilot.pause()
                app.save_screenshot(str(out / f"{name}.svg"))
            print("wrote", out / f"{name}.svg")


if __name__ == "__main__":
    asyncio.run(main())
