"""`still2 sandbox`: what isolation the code sandbox has on this machine, and (--check) proof by probes."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from pipeline.cli.common import JsonOption, print_json


def register(app: typer.Typer) -> None:
    @app.command("sandbox")
    def sandbox(
        check: Annotated[
            bool, typer.Option("--check", help="Run hostile probe programs and show what they did.")
        ] = False,
        name: Annotated[
            Optional[str], typer.Option("--sandbox", help="Sandbox to describe (default: $STILL2_SANDBOX or local).")
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Describe the sandbox that runs code answers (network, processes, files, disk, uid)."""
        from rich.console import Console
        from rich.table import Table

        from pipeline.cli.common import fail
        from pipeline.sandbox import get_sandbox
        from pipeline.sandbox.selfcheck import run_probes

        try:
            sb = get_sandbox(name)
        except ValueError as e:
            raise fail(str(e)) from None
        info = sb.describe()
        probes = run_probes(sb) if check else []
        if as_json:
            print_json({**info, "probes": [{"probe": p, "contained": ok, "outcome": what} for p, ok, what in probes]})
            return
        console = Console()
        table = Table(title="code sandbox", show_header=False)
        for key, value in info.items():
            table.add_row(key, str(value))
        console.print(table)
        if probes:
            t = Table(title="probes")
            for col in ("program", "contained", "what happened"):
                t.add_column(col)
            for p, ok, what in probes:
                t.add_row(p, "[green]yes[/]" if ok else "[red]NO[/]", what[:100])
            console.print(t)
