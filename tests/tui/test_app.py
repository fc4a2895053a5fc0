"""The first TUI: pages through real store rows and opens the detail of one (Pilot)."""
from __future__ import annotations

import pytest

from store.importer import import_problems, import_trajectories
from still2tui.app import DetailScreen, Still2App


@pytest.mark.asyncio
async def test_browse_and_open_detail(store, shared_data):
    import_problems(store, str(shared_data / "benchmarks" / "amc23.jsonl"))
    import_trajectories(store, str(shared_data / "trajectories" / "trajectories_skyt1_14b_amc23.jsonl"))
    store.close()
    app = Still2App(store.path)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one("DataTable")
        assert table.row_count == 40
        assert "40 trajectories" in str(app.query_one("#summary").render())
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.row["problem_id"].startswith("amc23:")
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)
