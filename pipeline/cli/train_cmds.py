"""`still2 sft`, `dpo`, `eval`, `report`, `iterate`: training, evaluation and the self-improvement loop.

The options are generated from the config dataclasses' fields (SFTTrainConfig, DPOTrainConfig,
EvalConfig with EngineSpec, IterateConfig), where their help, flags and choices are declared. sft, dpo
and iterate are recipe-backed: `--recipe` presets the fields, then `--config FILE`, `--set key=value`,
then the flags given on the command line. Multi-GPU training:
`accelerate launch --config_file pipeline/training/accelerate/ddp.yaml -m pipeline sft ...`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from pipeline.cli.common import DbOption, JsonOption, default_db, err_console, fail, print_json
from pipeline.cli.options import Fields, config_command
from pipeline.engines.spec import EngineSpec
from pipeline.evaluation.report import ReportOptions
from pipeline.evaluation.run import EvalConfig
from pipeline.loop.config import IterateConfig
from pipeline.training.config import DPOTrainConfig, SFTTrainConfig

Opt = typer.Option
# sft and dpo: every field of the trainer's config, recipe-backed (only given values override the recipe)
TRAIN_FIELDS = Fields(exclude=("dataset",), overrides=True, config_file=True)


def _train(kind: str, db: Path, overrides: dict[str, Any], as_json: bool) -> None:
    from pipeline.cli.common import open_store
    from pipeline.training.config import recipe_config

    store = open_store(db, create=False)
    try:
        config = recipe_config(kind, overrides.pop("recipe", None), **overrides)
        if kind == "sft":
            from pipeline.training.sft import run_sft

            result = run_sft(store, config)
        else:
            from pipeline.training.dpo import run_dpo

            result = run_dpo(store, config)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if result is None:  # not the main process
        return
    if as_json:
        print_json(result.to_dict())
    else:
        m = result.metrics
        err_console().print(
            f"[bold]{result.model_id}[/] ({kind} from {result.parent}): {m['steps']} steps, "
            f"train loss {m['train_loss']:.4f}, {m['seconds']:.1f}s -> {result.path}",
            highlight=False,
        )


def run_eval_cmd(
    db: Path, model: str | None, engine: EngineSpec, benchmarks: list[str], config: EvalConfig, as_json: bool
) -> None:
    from pipeline.cli.common import open_store
    from pipeline.evaluation.run import run_eval
    from pipeline.jobs.progress import JobProgress
    from pipeline.training.lineage import load_path, resolve

    store = open_store(db, create=False)
    try:
        ref = resolve(store, model)
        path = ref.path if engine.engine == "openai" else load_path(ref)
        eng = engine.build(path)
    except (ValueError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    try:
        with JobProgress(f"eval {ref.id}", None) as bar:
            results = run_eval(
                store,
                eng,
                engine.engine.value,
                ref.id,
                benchmarks,
                config,
                on_batch=lambda info: bar.advance(info["rollouts"], correct=info["correct"]),
            )
    except ValueError as exc:
        raise fail(str(exc)) from None
    finally:
        eng.close()
    if as_json:
        print_json(results)
        return
    for r in results:
        se = r["stderr"]["accuracy"]
        figures = ", ".join(
            f"{k} {100 * v:.1f}%" + (f" ± {100 * se:.1f} (SE)" if k == "accuracy" else "")
            for k, v in r["metrics"].items()
        )
        rec = r["record"]
        err_console().print(
            f"[bold]{r['model']}[/] on {r['benchmark']} ({r['problems']} problems, k={r['n']}): "
            f"{figures}\n  protocol {rec['protocol']} (T={rec['temperature']}, top-p {rec['top_p']}), "
            f"prompt {rec['prompt']}, answer policy {rec['answer_policy']}, {rec['engine_version']}, dtype {rec['dtype']}, "
            f"max {rec['max_new_tokens']} tokens, seed {rec['seed']} "
            f"[{r['seconds']:.0f}s, run {r['run_id']}]",
            highlight=False,
        )


def _iterate_help() -> str:
    from pipeline.loop.iterate import stage_table

    lines = stage_table(markdown=False).splitlines()
    return (
        "The loop as the STILL-2 report runs it: imitate (M_1 = SFT(M_0, D_0)), then each round explore with "
        "the latest model M_t -> filter -> score with M_t -> D_t = D_{t-1} + selected -> M_{t+1} = SFT(M_0, D_t) "
        "(or DPO from M_1). Each step is recorded (run kind iterate-step); rerunning the same command skips "
        "finished steps.\n\nStages (ledger step, the report's stage, what the store records):\n\n"
        + "\n\n".join(lines)
        + "\n\n--recipe still2-paper: the report's values and ours; see --recipe-table."
    )


def register(app: typer.Typer) -> None:
    @app.command("sft")
    @config_command
    def sft(
        dataset: Annotated[str, typer.Argument(help="Dataset version to train on (see `still2 dataset list`).")],
        train: Annotated[SFTTrainConfig, TRAIN_FIELDS],
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """Supervised fine-tuning (TRL SFTTrainer) on a dataset version; loss on the response only.

        Trains from the base model M_0 unless --from is given (the report trains every M_t from M_0).
        """
        _train("sft", db, {**train, "dataset": dataset}, as_json)

    @app.command("dpo")
    @config_command
    def dpo(
        dataset: Annotated[
            Optional[str], typer.Argument(help="A dataset of kind 'pairs' (optional with --where).")
        ] = None,
        *,
        train: Annotated[DPOTrainConfig, TRAIN_FIELDS],
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """DPO (+ an SFT loss) on pairs, from M_1 unless --from; the reference model is the start model.

        --part says what DPO aligns (thought: both completions cut at <|end_of_thought|>), --sft-part what
        the SFT loss covers (full by default: thought and solution, as Table 4's caption says).
        """
        if dataset is None and train.get("where") is None:
            raise fail("give a pairs dataset or --where over the pair table")
        _train("dpo", db, {**train, "dataset": dataset}, as_json)

    @app.command("eval")
    @config_command
    def eval_(
        benchmark: Annotated[
            list[str],
            Opt(
                "--benchmark",
                "-b",
                help="math500 | aime24 | aime25 | amc23 | gsm8k | gpqa | SOURCE[:SPLIT] (repeatable).",
            ),
        ],
        model: Annotated[
            Optional[str], Opt("--model", help="Model id from the store, folder, HF id, served name or 'default'.")
        ] = None,
        *,
        engine: EngineSpec,
        config: EvalConfig,
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """Evaluate a model on benchmarks; every output is stored (origin eval) with its verdict; resumable.

        Each result records the protocol, prompt, engine and version, dtype, max tokens, seed and
        sampling it was measured under, the answer policy it was read under, and the standard error of the
        accuracy over problems.
        """
        run_eval_cmd(db, model, engine, benchmark, config, as_json)

    @app.command("report")
    @config_command
    def report(opts: ReportOptions, db: DbOption = default_db(), as_json: JsonOption = False) -> None:
        """The report's Tables 2, 3 and 4 from stored evals: Acc and Gain over the backbone, Num. Data, protocols.

        Refuses to put numbers measured under different protocols (greedy/sampled, k, temperature,
        top-p, max tokens) in one column unless --allow-mixed-protocols, which marks each cell.
        """
        import json

        from pipeline.cli.common import open_store
        from pipeline.evaluation import report as rep

        fmt = "json" if as_json else {"md": "markdown"}.get(opts.format, opts.format)
        table, out, show_se = opts.table, opts.out, opts.show_stderr
        store = open_store(db, create=False)
        try:
            data = rep.report_data(
                store,
                metric=opts.metric,
                backbone=opts.backbone,
                models=opts.models,
                benchmarks=opts.benchmarks,
                allow_mixed=opts.allow_mixed,
            )
        except rep.MixedProtocols as exc:
            raise fail(str(exc)) from None
        if table != 2:
            text = rep.other_table(table, store, data, fmt or "markdown", show_se)
            if fmt is None and out is None:
                typer.echo(text, nl=False)
                return
        elif fmt is None and out is None:
            err_console().print(rep.to_rich(data, show_se))
            return
        else:
            text = {
                "json": lambda: json.dumps(data, indent=2, default=str) + "\n",
                "csv": lambda: rep.to_csv(data),
                "latex": lambda: rep.to_latex(data, show_se),
                "markdown": lambda: rep.to_markdown(data, show_se),
            }[fmt or "markdown"]()
        if out:
            out.write_text(text, encoding="utf-8")
            err_console().print(f"wrote {out}")
        else:
            typer.echo(text, nl=False)

    @app.command("iterate", help=_iterate_help())
    @config_command
    def iterate_(
        loop: Annotated[IterateConfig, Fields(overrides=True, config_file=True)],
        recipe_table: Annotated[
            bool,
            Opt("--recipe-table", help="Print the still2-paper values (report vs ours) as a markdown table and exit."),
        ] = False,
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        if recipe_table:
            from pipeline.loop.paper import recipe_table as table

            typer.echo(table(), nl=False)
            return
        from pipeline.cli.common import open_store
        from pipeline.jobs.progress import JobProgress
        from pipeline.loop.config import MERGED, iterate_config
        from pipeline.loop.iterate import iterate

        added = {k: loop.pop(k) for k in MERGED if k in loop}  # --engine-opt & co. add to the recipe's
        try:
            cfg = iterate_config(loop.pop("recipe", None), **loop).merged(**added)
        except ValueError as exc:
            raise fail(str(exc)) from None
        store = open_store(db)
        with JobProgress(f"iterate {cfg.loop_name()}", None) as bar:
            try:
                history = iterate(store, cfg, on_step=lambda s, out: bar.advance(1, step=s))
            except ValueError as exc:
                raise fail(str(exc)) from None
        if as_json:
            print_json(history)
            return
        c = err_console()
        c.print(
            f"[bold]{history['loop']}[/]: ran {len(history['ran_steps'])} step(s), skipped "
            f"{len(history['skipped_steps'])} finished",
            highlight=False,
        )
        for r in history["rounds"]:
            acc = (r.get("eval") or {}).get("accuracy") or {}
            model_id = (r.get("train") or {}).get("model") or r.get("model")
            c.print(
                f"  round {r.get('round', 0)}: {model_id} "
                + ", ".join(f"{b} {100 * (v or 0):.1f}%" for b, v in acc.items()),
                highlight=False,
            )
