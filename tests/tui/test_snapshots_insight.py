"""SVG snapshots of the first-divergence view and the surprise heatmap at 80x24 and 160x48 (fixed data)."""

from __future__ import annotations

import sys

import pytest

from store import Store
from tests.tui.conftest import FAKE_CLI
from tests.tui.test_insight_views import _fake_token_row


def _app(db, tmp_path):
    from still2tui.app import Still2App

    return Still2App(db, cli=[sys.executable, str(FAKE_CLI)], keymap={}, history_path=tmp_path / "h.jsonl")


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_divergence_snapshot(snap_compare, tui_db, tmp_path, size):
    async def open_first_pair(pilot):
        await pilot.press("3")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(_app(tui_db, tmp_path), run_before=open_first_pair, terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_surprise_heatmap_snapshot(snap_compare, tui_db, tmp_path, size):
    store = Store(tui_db)
    try:
        with store.read() as conn:
            tid = conn.execute(
                "SELECT id FROM trajectory WHERE verdict = 'incorrect' ORDER BY n_chars LIMIT 1"
            ).fetchone()[0]
    finally:
        store.close()
    _fake_token_row(tui_db, tid, hot_step=4)

    async def open_hot_step(pilot):
        app = pilot.app
        app.open_detail(tid)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("exclamation_mark", "h")
        await pilot.pause()

    assert snap_compare(_app(tui_db, tmp_path), run_before=open_hot_step, terminal_size=size)
