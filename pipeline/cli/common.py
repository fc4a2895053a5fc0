"""Shared CLI plumbing: the --db/--json options, the console, and turning domain errors into exit codes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.jobs.progress import rich_bar as progress  # noqa: F401 - the CLI's bar

DEFAULT_DB = "still2.duckdb"

DbOption = Annotated[
    Path,
    typer.Option(
        "--db",
        envvar="STILL2_DB",
        help="Store file (DuckDB). Default ./still2.duckdb or $STILL2_DB.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]


def default_db() -> Path:
    return Path(os.environ.get("STILL2_DB", DEFAULT_DB))


def console():
    from rich.console import Console

    return Console()


def err_console():
    from rich.console import Console

    return Console(stderr=True)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, default=str, ensure_ascii=False, indent=2) + "\n")


def fail(message: str, code: int = 1) -> "typer.Exit":
    from rich.markup import escape

    err_console().print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def open_store(db: Path, *, create: bool = True):
    """Open the store for a command; a missing file is created (schema applied) unless create=False."""
    from store import Store

    if not create and not Path(db).exists():
        raise fail(f"no store at {db} (run `still2 init --db {db}` first)")
    return Store(db)
