"""`still2 jobs start|list|logs|cancel|resume|schema` and the hidden runner `jobs run`."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.cli.common import DbOption, JsonOption, console, default_db, fail, print_json


def register(app: typer.Typer) -> None:
    jobs = typer.Typer(
        help="Detached jobs: run any command in the background; state and progress in the store.", no_args_is_help=True
    )
    app.add_typer(jobs, name="jobs")

    @jobs.command("start", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def start(ctx: typer.Context, db: DbOption = default_db(), as_json: JsonOption = False) -> None:
        """Start `still2 COMMAND ...` detached: still2 jobs start -- explore --max-rollouts 8"""
        from pipeline.jobs.runner import start as start_job

        argv = [a for a in ctx.args if a != "--"]
        try:
            info = start_job(db, argv)
        except ValueError as e:
            raise fail(str(e)) from None
        if as_json:
            print_json(info)
        else:
            console().print(
                f"started job [bold]{info['id']}[/] (pid {info['pid']}); log: {info['log_path']}", soft_wrap=True
            )

    @jobs.command("run", hidden=True)
    def run_(run_id: str, db: DbOption = default_db()) -> None:
        """(internal) the detached runner of a job."""
        from pipeline.jobs.runner import run

        raise typer.Exit(run(str(db), run_id))

    @jobs.command("list")
    def list_(
        db: DbOption = default_db(),
        active: Annotated[bool, typer.Option(help="Only queued/running.")] = False,
        limit: Annotated[int, typer.Option(help="How many.")] = 30,
        as_json: JsonOption = False,
    ) -> None:
        """List jobs, newest first, with state and progress."""
        from pipeline.jobs.runner import list_jobs

        rows = list_jobs(str(db), limit=limit, active_only=active)
        if as_json:
            print_json(rows)
            return
        from rich.table import Table

        table = Table("id", "state", "progress", "started", "ended", "command")
        for r in rows:
            p = r["progress"] or {}
            prog = f"{p.get('done', '')}/{p.get('total', '') or '?'}" if p else ""
            table.add_row(
                r["id"],
                r["state"],
                prog,
                str(r["started"] or "")[:19],
                str(r["ended"] or "")[:19],
                " ".join(r["args"])[:60],
            )
        console().print(table)

    @jobs.command("logs")
    def logs(
        run_id: str,
        db: DbOption = default_db(),
        follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing until the job ends.")] = False,
        tail: Annotated[int, typer.Option(help="Lines from the end (0 = all).")] = 0,
    ) -> None:
        """Print a job's log."""
        import sys
        import time

        from pipeline.jobs.runner import list_jobs
        from store import Store

        with Store(db).read() as conn:
            row = conn.execute("SELECT log_path FROM run WHERE id = ?", [run_id]).fetchone()
        if row is None:
            raise fail(f"no job {run_id}")
        with open(row[0], encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
            sys.stdout.write("".join(lines[-tail:] if tail else lines))
            while follow:
                chunk = f.read()
                if chunk:
                    sys.stdout.write(chunk)
                    sys.stdout.flush()
                    continue
                states = {r["id"]: r["state"] for r in list_jobs(str(db), active_only=True, limit=1000)}
                if run_id not in states:
                    sys.stdout.write(f.read())
                    break
                time.sleep(0.5)

    @jobs.command("cancel")
    def cancel(run_id: str, db: DbOption = default_db(), as_json: JsonOption = False) -> None:
        """Stop a running job (SIGTERM to its process group, SIGKILL after 10 s)."""
        from pipeline.jobs.runner import cancel as cancel_job

        try:
            state = cancel_job(str(db), run_id)
        except ValueError as e:
            raise fail(str(e)) from None
        if as_json:
            print_json({"id": run_id, "state": state})
        else:
            console().print(f"{run_id}: {state}")

    @jobs.command("resume")
    def resume(run_id: str, db: DbOption = default_db(), as_json: JsonOption = False) -> None:
        """Start a finished, failed, cancelled or crashed job's command again (it skips finished work)."""
        from pipeline.jobs.runner import resume as resume_job

        try:
            info = resume_job(str(db), run_id)
        except ValueError as e:
            raise fail(str(e)) from None
        if as_json:
            print_json(info)
        else:
            console().print(f"started job [bold]{info['id']}[/] resuming {run_id}")

    @jobs.command("schema")
    def schema(as_json: JsonOption = True) -> None:  # noqa: ARG001 - always JSON; flag kept for symmetry
        """The job-able commands and their options as JSON (the TUI's job forms are built from it)."""
        from pipeline.cli.schema import cli_schema

        print_json(cli_schema())
