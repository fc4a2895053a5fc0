"""SVG snapshots of the main screens at 80x24 and 160x48 (fixed data and timestamps: deterministic)."""

from __future__ import annotations

import sys

import pytest

from tests.tui.conftest import FAKE_CLI

SCREENS = {
    "trajectories": [],
    "detail": ["enter"],
    "problems": ["2"],
    "pairs": ["3"],
    "overview": ["4"],
    "jobs": ["5"],
    "sql": ["6"],
    "help": ["question_mark"],
}


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen_snapshot(snap_compare, tui_db, tmp_path, screen, size):
    from still2tui.app import Still2App

    app = Still2App(tui_db, cli=[sys.executable, str(FAKE_CLI)], keymap={}, history_path=tmp_path / "h.jsonl")
    assert snap_compare(app, press=SCREENS[screen], terminal_size=size)
