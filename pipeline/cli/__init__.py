"""The `still2` Typer application: assembles the command modules; every heavy import stays inside commands."""

from __future__ import annotations

import importlib

import typer
from typer.core import TyperGroup


class _Still2Group(TyperGroup):
    """The root command: a store problem or an engine failure (server unreachable, bad model) raised by any
    command ends in one line, not a traceback."""

    def invoke(self, ctx):
        from store.connection import StoreError

        try:
            return super().invoke(ctx)
        except Exception as e:
            from pipeline.engines.base import EngineError

            if not isinstance(e, (StoreError, EngineError)):
                raise
            from pipeline.cli.common import fail

            raise fail(f"engine: {e}" if isinstance(e, EngineError) else str(e)) from None


app = typer.Typer(
    cls=_Still2Group,
    name="still2",
    help="still2: imitate, explore, self-improve. Pipeline steps over a DuckDB trajectory store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

# Each module exposes register(app); the order is the order of --help.
COMMAND_MODULES = (
    "store_cmds",
    "problems_cmds",
    "grade_cmds",
    "sandbox_cmds",
    "verify_cmds",
    "judge_cmds",
    "explore_cmds",
    "engine_cmds",
    "jobs_cmds",
    "curation_cmds",
    "train_cmds",
    "tui_cmds",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"pipeline.cli.{_name}").register(app)


def main() -> None:
    app()
