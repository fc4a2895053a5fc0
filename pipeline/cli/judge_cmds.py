"""`still2 judge`: a second opinion from an LLM on undecided verdicts or a random audit sample."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer

from pipeline.cli.common import DbOption, JsonOption, default_db, open_store
from pipeline.cli.engine_options import ModelOption
from pipeline.cli.options import Fields, config_command
from pipeline.engines.spec import EngineSpec
from pipeline.judge import JudgeConfig


def register(app: typer.Typer) -> None:
    @app.command("judge")
    @config_command
    def judge_cmd(
        model: ModelOption = None,
        *,
        cfg: JudgeConfig,
        engine: Annotated[EngineSpec, Fields(defaults={"batch_size": 8})],
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """Ask an LLM whether responses match their gold answer; stores one opinion per (row, model) in
        judge_opinion, the latest also in judge_verdict/judge_model/judge_reason, beside our verdict, never
        replacing it (accept one in the TUI's disagreements view, key 7)."""
        from pipeline.cli.common import err_console, fail, print_json
        from pipeline.jobs.progress import JobProgress
        from pipeline.judge import judge, select_rows

        cfg = replace(cfg, batch=engine.batch_size)  # one engine batch per write
        store = open_store(db, create=False)
        try:
            eng = engine.build(model)
        except (ValueError, FileNotFoundError) as exc:
            raise fail(str(exc)) from None
        try:
            try:
                total = len(select_rows(store, cfg, eng.model_id))
            except Exception as e:  # noqa: BLE001 - a bad --where is the user's SQL
                if type(e).__module__.startswith(("duckdb", "_duckdb")):
                    raise fail(f"query failed: {e}") from None
                raise
            with JobProgress(f"judge ({eng.model_id})", total) as bar:
                result = judge(store, eng, cfg, on_batch=lambda n, counts: bar.advance(n, correct=counts["correct"]))
        finally:
            eng.close()
        if as_json:
            print_json(result)
        else:
            err_console().print(summary(result), highlight=False)


def summary(result: dict) -> str:
    """The end-of-run lines: counts, disagreement with ours, and the opinions kept or replaced on these rows."""
    lines = [
        f"judged {result['judged']} {result['mode']} rows with {result['model']}: {result['correct']} correct, "
        f"{result['incorrect']} incorrect, {result['unsure']} unsure; {result['disagree_with_verdict']} "
        f"disagree with the stored verdict (see the TUI's disagreements view)"
    ]
    if result["rows_with_other_judges"]:
        models = ", ".join(f"{m} on {n}" for m, n in result["other_judges"].items())
        lines.append(
            f"{result['rows_with_other_judges']} of these rows already had another model's opinion ({models}): "
            f"kept in table judge_opinion; judge_verdict now shows {result['model']}'s"
        )
    if result["replaced_own"]:
        lines.append(f"replaced {result['model']}'s earlier opinion on {result['replaced_own']} rows (--overwrite)")
    return "\n".join(lines)
