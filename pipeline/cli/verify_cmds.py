"""`still2 verify`: re-verify trajectories in the store with the current verifier."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from pipeline.cli.common import DbOption, JsonOption, default_db, open_store
from pipeline.explore.config import ANSWER_POLICY_HELP

# The answer policy option of grade, verify and eval (explore/distill take it from ExploreConfig's field).
AnswerPolicyOption = Annotated[str, typer.Option("--answer-policy", help=ANSWER_POLICY_HELP)]


def check_policy(name: str) -> str:
    from pipeline.cli.common import fail
    from pipeline.verifier.policy import POLICIES

    if name not in POLICIES:
        raise fail(f"--answer-policy must be one of {', '.join(POLICIES)}, got {name!r}")
    return name


def register(app: typer.Typer) -> None:
    @app.command("verify")
    def verify(
        db: DbOption = default_db(),
        where: Annotated[Optional[str], typer.Option(help="SQL filter over the trajectories view.")] = None,
        stale: Annotated[
            bool,
            typer.Option(
                "--stale",
                help="Only never-verified rows or rows verified by another verifier version or answer policy.",
            ),
        ] = False,
        batch: Annotated[int, typer.Option(min=1, help="Trajectories per write.")] = 2000,
        timeout: Annotated[
            float,
            typer.Option(min=0.1, help="Hard time limit per item (reading the answer, and the comparison), seconds."),
        ] = 5.0,
        workers: Annotated[Optional[int], typer.Option(min=1, help="Worker processes (default: CPUs).")] = None,
        answer_policy: AnswerPolicyOption = "default",
        as_json: JsonOption = False,
    ) -> None:
        """Re-verify trajectories in the store (all, a filter, or --stale), in parallel, with progress.
        A verdict a curator accepted from the harness or the judge stays; the verifier's own is updated beside it."""
        from pipeline.cli.common import err_console, fail, print_json
        from pipeline.explore.reverify import reverify
        from pipeline.jobs.progress import JobProgress

        check_policy(answer_policy)
        store = open_store(db, create=False)
        with store.read() as conn:
            total = conn.execute("SELECT count(*) FROM trajectory").fetchone()[0]
        try:
            with JobProgress("verify", total) as bar:
                result = reverify(
                    store,
                    where=where,
                    stale_only=stale,
                    batch=batch,
                    timeout=timeout,
                    workers=workers,
                    policy=answer_policy,
                    on_batch=lambda n, ok: bar.advance(n, correct=ok),
                )
        except Exception as e:  # noqa: BLE001 - a bad --where is the user's SQL
            if type(e).__module__.startswith(("duckdb", "_duckdb")):
                raise fail(f"query failed: {e}") from None
            raise
        if as_json:
            print_json(result)
        else:
            err_console().print(
                f"verified {result['verified']} trajectories: {result['correct']} correct, "
                f"{result['changed']} verdicts changed (verifier {result['verifier_version']}, "
                f"answer policy {result['answer_policy']})",
                highlight=False,
            )
