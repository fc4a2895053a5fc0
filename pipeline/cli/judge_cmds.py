"""`still2 judge`: a second opinion from an LLM on undecided verdicts or a random audit sample."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from pipeline.cli.common import DbOption, JsonOption, default_db, open_store
from pipeline.cli.engine_options import (
    ApiKeyEnvOption,
    BaseUrlOption,
    BatchOption,
    ConcurrencyOption,
    DPOption,
    EngineOptOption,
    EngineOption,
    ModelOption,
    TPOption,
    TrustOption,
    build_engine,
)


def register(app: typer.Typer) -> None:
    @app.command("judge")
    def judge_cmd(
        db: DbOption = default_db(),
        engine: EngineOption = "transformers",
        model: ModelOption = None,
        audit: Annotated[Optional[int], typer.Option(
            "--audit", min=1, help="Judge a seeded random sample of N decided rows instead of the undecided ones "
                                   "(no answer found, unparseable, timeout, error).")] = None,
        seed: Annotated[int, typer.Option(help="Seed of the audit sample.")] = 0,
        where: Annotated[Optional[str], typer.Option(help="SQL filter over the trajectories view.")] = None,
        limit: Annotated[Optional[int], typer.Option(min=1, help="At most this many rows.")] = None,
        max_new_tokens: Annotated[int, typer.Option(min=1, help="Tokens of the judge's reply.")] = 128,
        tail_chars: Annotated[int, typer.Option(min=100, help="Characters of the end of each response shown.")] = 1500,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="Judge again rows this model judged.")] = False,
        base_url: BaseUrlOption = None,
        api_key_env: ApiKeyEnvOption = "OPENAI_API_KEY",
        concurrency: ConcurrencyOption = 8,
        tensor_parallel_size: TPOption = 1,
        data_parallel_size: DPOption = 1,
        batch_size: BatchOption = 8,
        trust_remote_code: TrustOption = False,
        engine_opt: EngineOptOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Ask an LLM whether responses match their gold answer; stores judge_verdict/judge_model/judge_reason
        beside our verdict, never replacing it (accept one in the TUI's disagreements view, key 7)."""
        from pipeline.cli.common import err_console, fail, print_json
        from pipeline.jobs.progress import JobProgress
        from pipeline.judge import JudgeConfig, judge, select_rows

        cfg = JudgeConfig(audit=audit, seed=seed, where=where, limit=limit, max_new_tokens=max_new_tokens,
                          tail_chars=tail_chars, overwrite=overwrite, batch=batch_size)
        store = open_store(db, create=False)
        try:
            eng = build_engine(engine, model, base_url=base_url, api_key_env=api_key_env, concurrency=concurrency,
                               tensor_parallel_size=tensor_parallel_size, data_parallel_size=data_parallel_size,
                               batch_size=batch_size, trust_remote_code=trust_remote_code, engine_opt=engine_opt)
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
            err_console().print(
                f"judged {result['judged']} {result['mode']} rows with {result['model']}: {result['correct']} correct, "
                f"{result['incorrect']} incorrect, {result['unsure']} unsure; {result['disagree_with_verdict']} "
                f"disagree with the stored verdict (see the TUI's disagreements view)", highlight=False)
