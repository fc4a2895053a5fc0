"""`still2 tui`: opens the Textual app in a fresh process (the pipeline never imports Textual)."""

from __future__ import annotations

import os
import sys

import typer

from pipeline.cli.common import DbOption, default_db


def register(app: typer.Typer) -> None:
    @app.command()
    def tui(db: DbOption = default_db()) -> None:
        """Open the curation TUI on the store (same as running `still2tui`)."""
        os.execv(sys.executable, [sys.executable, "-m", "still2tui", "--db", str(db)])
