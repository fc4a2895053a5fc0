"""`still2 explore` and `still2 distill`: sample, verify and store rollouts (resumable)."""

# No `from __future__ import annotations`: config_command reads the annotations, and explore/distill's
# per-command defaults are a closure value that a string annotation could not resolve.
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.cli.common import DbOption, JsonOption, default_db, err_console, fail, print_json
from pipeline.cli.engine_options import ModelOption
from pipeline.cli.options import Fields, config_command
from pipeline.engines.spec import EngineSpec
from pipeline.explore.config import ExploreConfig, read_prompt
from pipeline.explore.selection import ProblemSelection
from pipeline.options import field_help

# `complete` takes the same two prompt options as explore (its own CompleteConfig has no option metadata)
PromptFileOption = Annotated[Optional[Path], typer.Option(help=field_help(ExploreConfig, "system_prompt"))]
NoSystemOption = Annotated[bool, typer.Option("--no-system", help=field_help(ExploreConfig, "use_system"))]


def run_generation(
    origin: str,
    db: Path,
    config: ExploreConfig,
    selection: ProblemSelection,
    engine: EngineSpec,
    model: str | None,
    run_id: str | None,
    as_json: bool,
    complete_solutions: bool = False,
) -> None:
    from pipeline.explore.loop import derive_run_id, explore
    from pipeline.jobs.progress import JobProgress
    from store import Store

    config.origin = origin
    store = Store(db)
    try:
        with store.read() as conn:
            chosen = selection.select(conn)
    except ValueError as e:
        raise fail(str(e)) from None
    except Exception as e:  # noqa: BLE001 - a bad --where is the user's SQL
        raise fail(f"problem selection failed: {e}") from None
    if not chosen:
        raise fail("no problems match (they need a gold answer); add some with `still2 problems add|generate`")
    chosen_sel = {**selection.to_dict(), "ids": [p.id for p in chosen]}
    kind = engine.engine.value
    err_console().print(
        f"{origin}: {len(chosen)} problems, up to {config.max_rollouts} rollouts each "
        f"(stop at {config.want_correct} correct); loading the {kind} engine ..."
    )
    eng = engine.build(model)
    rid = run_id or derive_run_id(origin, kind, eng.model_id, config, chosen_sel)
    try:
        with JobProgress(f"{origin} {rid}", len(chosen)) as bar:
            last = {"finished": 0}
            stats = {"rollouts": 0, "correct": 0, "tokens": 0, "seconds": 0.0}

            def on_batch(info: dict) -> None:
                for k in ("rollouts", "correct", "tokens"):
                    stats[k] += info[k]
                stats["seconds"] += info["gen_seconds"]
                bar.advance(
                    info["finished"] - last["finished"],
                    solved=info["solved"],
                    rollouts=stats["rollouts"],
                    correct_rate=stats["correct"] / max(stats["rollouts"], 1),
                    gen_tok_s=stats["tokens"] / max(stats["seconds"], 1e-9),  # while generating only
                )
                last["finished"] = info["finished"]

            summary = explore(
                store, eng, kind, chosen, config, rid, on_batch=on_batch, run_args={"selection": chosen_sel}
            )
            if complete_solutions:
                from pipeline.explore.complete import CompleteConfig, complete_solutions, select_sources

                done = complete_solutions(
                    store,
                    eng,
                    select_sources(store, f"v.run_id = '{rid}'"),
                    CompleteConfig(
                        system_prompt=config.system_prompt,
                        use_system=config.use_system,
                        seed=config.seed,
                        verifier_timeout=config.verifier_timeout,
                    ),
                )
                err_console().print(
                    f"completed {done.completed} missing solution section(s) with the same engine "
                    "(`still2 complete` chooses another completer)"
                )
    finally:
        eng.close()
    info = summary.to_dict()
    if as_json:
        print_json(info)
    else:
        err_console().print(
            f"[bold]{rid}[/]: {info['problems']} problems ({info['skipped_finished']} already finished), "
            f"solved {info['solved']} ({(info['solved_fraction'] or 0):.0%}), {info['rollouts_new']} new rollouts, "
            f"{info['correct_new']} correct, pass@1 {(info['pass_at_1'] or 0):.3f}, "
            f"{info['tokens_per_second']:.1f} tok/s end to end (verification and storage included), "
            f"{info['seconds']:.1f}s",
            highlight=False,
        )


# Per command: explore follows the report's rule (up to 20 rollouts, stop at the first correct one);
# distill collects several labelled rollouts per problem as the report does (§2.2.1: "multiple rollouts
# to generate a diverse set of responses ... label each solution"; 4 is ours). Both get the 32k-token
# budget the report evaluates with (§3.1), capped by the engine at the model's context window.
DEFAULTS = {"explore": {"max_rollouts": 20, "want_correct": 1}, "distill": {"max_rollouts": 4, "want_correct": 4}}


def register(app: typer.Typer) -> None:
    def command(origin: str, doc: str):
        @config_command
        def cmd(
            *,
            db: DbOption = default_db(),
            engine: EngineSpec,
            model: ModelOption = None,
            selection: ProblemSelection,
            sampling: Annotated[ExploreConfig, Fields(defaults=DEFAULTS[origin])],
            run_id: Annotated[
                Optional[str],
                typer.Option(help="Run id (default: derived from the arguments, so the same command resumes)."),
            ] = None,
            complete_solutions: Annotated[
                bool,
                typer.Option(
                    "--complete-solutions",
                    help="Then write missing solution sections by continuing each thought with "
                    "this engine (see `still2 complete` for another completer).",
                ),
            ] = False,
            as_json: JsonOption = False,
        ) -> None:
            run_generation(
                origin, db, sampling, selection, engine, model, run_id, as_json, complete_solutions=complete_solutions
            )

        cmd.__doc__ = doc
        return cmd

    app.command("explore")(
        command(
            "explore",
            "Sample rollouts per problem in rounds, verify each, store every one "
            "(resumable: rerun the same command after a crash).",
        )
    )
    app.command("distill")(
        command(
            "distill",
            "Collect long-form thought from a teacher engine (origin distill): "
            "several labelled rollouts per problem; a reasoning_content field or "
            "R1/QwQ <think> output becomes the thought of the STILL format.",
        )
    )
    register_complete(app)


def register_complete(app: typer.Typer) -> None:
    @app.command("complete")
    @config_command
    def complete(
        *,
        db: DbOption = default_db(),
        engine: EngineSpec,
        model: ModelOption = None,
        where: Annotated[
            Optional[str],
            typer.Option(
                help="Which trajectories: SQL over the trajectories view (v.), e.g. \"v.model = 'QwQ-32B-Preview'\". "
                "Always only those with a thought and no solution."
            ),
        ] = None,
        run: Annotated[Optional[str], typer.Option(help="Only this run's trajectories.")] = None,
        dataset: Annotated[Optional[str], typer.Option(help="Only members of this dataset.")] = None,
        limit: Annotated[Optional[int], typer.Option(help="At most N trajectories.")] = None,
        max_new_tokens: Annotated[int, typer.Option(min=1, help="Per solution (4096, ours).")] = 4096,
        temperature: Annotated[float, typer.Option(min=0.0, help="0 = greedy (default).")] = 0.0,
        seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
        batch_problems: Annotated[int, typer.Option(min=1, help="Trajectories per generate call.")] = 8,
        prompt_file: PromptFileOption = None,
        no_system: NoSystemOption = False,
        verifier_timeout: Annotated[float, typer.Option(help="Seconds per verification at most.")] = 5.0,
        as_json: JsonOption = False,
    ) -> None:
        """Write the missing solution of trajectories that have a thought but no solution (report §2.2.1).

        The completer (--engine/--model: a model trained on STILL-format data) gets the problem under the
        STILL prompt and continues the assistant turn <|begin_of_thought|> THOUGHT <|end_of_thought|>
        <|begin_of_solution|>. Each result is a new trajectory (flag solution_completed, meta.completed_from
        = its source) with its own verdict; the source is left as it was. Reruns complete only what is left.
        """
        from pipeline.explore.complete import CompleteConfig, complete_solutions, select_sources
        from pipeline.jobs.progress import JobProgress
        from store import Store

        clauses = [
            c
            for c in (
                f"({where})" if where else None,
                "v.run_id = '" + run.replace("'", "''") + "'" if run else None,
                "v.id IN (SELECT member_id FROM dataset_member WHERE dataset = '" + dataset.replace("'", "''") + "')"
                if dataset
                else None,
            )
            if c
        ]
        store = Store(db)
        try:
            sources = select_sources(store, " AND ".join(clauses) or None)
        except Exception as e:  # noqa: BLE001 - a bad --where is the user's SQL
            raise fail(f"selection failed: {e}") from None
        sources = sources[:limit] if limit else sources
        if not sources:
            raise fail("no trajectory with a thought and no solution matches")
        config = CompleteConfig(
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            seed=seed,
            batch_problems=batch_problems,
            use_system=not no_system,
            system_prompt=read_prompt(prompt_file) if prompt_file else None,
            verifier_timeout=verifier_timeout,
        )
        err_console().print(
            f"complete: {len(sources)} trajectories without a solution; loading the {engine.engine.value} engine ..."
        )
        eng = engine.build(model)
        try:
            with JobProgress(f"complete {eng.model_id}", len(sources)) as bar:
                summary = complete_solutions(store, eng, sources, config, on_batch=lambda n: bar.advance(n))
        finally:
            eng.close()
        info = {**summary.to_dict(), "completer": eng.model_id}
        if as_json:
            print_json(info)
        else:
            err_console().print(
                f"{summary.completed} solution(s) written by {eng.model_id} ({summary.correct} "
                f"correct; {summary.already_done} done before)",
                highlight=False,
            )
