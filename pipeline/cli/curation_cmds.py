"""Curation commands: filter (rule flags), score (perplexity), dataset {build,list,show,export,push}, pairs {build,list,export}."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from pipeline.cli.common import DbOption, JsonOption, default_db, err_console, fail, print_json, progress

WhereOption = Annotated[Optional[str], typer.Option("--where", help="SQL condition over the trajectories view.")]
FormatOption = Annotated[Optional[str], typer.Option("--format", help="jsonl | parquet | hf (default: from OUT's suffix).")]
AllowOption = Annotated[Optional[str], typer.Option(
    "--allow", help="Default exclusions to lift, comma-separated: contaminated (rows overlapping a benchmark), "
                    "eval (evaluation outputs), test (rows on test/benchmark problems).")]


def _allow(value: str | None) -> list[str]:
    """--allow names, checked against the registry (an unknown one is an error naming the known ones)."""
    from pipeline.datasets.exclusions import active
    from pipeline.datasets.recipe import parse_list

    names = parse_list(value) or []
    active(names)
    return names


def _table(title: str, columns: list[str], rows: list[list[Any]]):
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right", overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else f"{v:,}" if isinstance(v, int) else str(v) for v in row))
    return table


def _store(db: Path):
    from pipeline.cli.common import open_store

    return open_store(db, create=False)


# -- filter ---------------------------------------------------------------------------------------
def _list_rules(as_json: bool) -> None:
    from pipeline.filters import RULES

    if as_json:
        print_json([{"rule": r.name, "kind": r.kind, "params": dict(r.defaults), "doc": r.doc} for r in RULES.values()])
        return
    rows = [[r.name, r.kind, ", ".join(f"{k}={v}" for k, v in r.defaults.items()), r.summary] for r in RULES.values()]
    err_console().print(_table("filter rules", ["rule", "kind", "defaults", "what it flags"], rows))


def run_filter(db: Path, rules: str | None, where: str | None, params: list[str] | None, chunk_size: int,
               as_json: bool) -> None:
    from pipeline.filters import parse_params, run_filters
    from store import StoreError

    store = _store(db)
    names = [r.strip() for r in rules.split(",") if r.strip()] if rules else None
    try:
        parsed = parse_params(params)
        with progress() as bar:
            task = bar.add_task("filtering", total=None)
            report = run_filters(store, names, where=where, params=parsed, chunk_size=chunk_size,
                                 on_progress=lambda n: bar.advance(task, n))
            bar.update(task, total=report.covered, completed=report.covered)
    except (ValueError, StoreError) as exc:
        raise fail(str(exc)) from None
    except Exception as exc:  # a bad --where surfaces as a DuckDB error
        raise fail(f"filter failed: {exc}") from None
    if as_json:
        print_json(report.to_dict())
        return
    rows = [[c.rule, c.checked, c.flagged, f"{c.checked / c.seconds:,.0f}" if c.seconds else "-"]
            for c in report.counts]
    err_console().print(_table(f"{report.covered:,} trajectories covered (flags replaced per rule)",
                               ["rule", "checked", "flagged", "per second"], rows))


# -- score ----------------------------------------------------------------------------------------
def run_score(db: Path, model: str | None, engine_kind: str, part: str, where: str | None, batch_size: int | None,
              scorer: str | None, rescore: bool, device: str | None, as_json: bool, tokens: bool = False) -> None:
    from pipeline.engines.base import make_engine
    from pipeline.scoring import score_trajectories
    from pipeline.scoring.score import parts_of

    store = _store(db)
    try:
        parts_of(part)
        opts: dict[str, Any] = {}
        if engine_kind in ("transformers", "hf"):
            opts = {"score_batch_size": batch_size, "device": device}
        engine = make_engine(engine_kind, model, **opts)
    except Exception as exc:
        raise fail(str(exc)) from None
    from pipeline.jobs.progress import JobProgress

    try:  # a line per chunk in a log (not a terminal); each chunk is committed as it is scored
        with JobProgress("scoring", None, log_interval=5.0) as bar:
            report = score_trajectories(store, engine, scorer=scorer, part=part, where=where,
                                        chunk_size=max(4 * (batch_size or 0), 64), rescore=rescore,
                                        tokens=tokens, on_progress=bar.advance, on_total=bar.set_total)
    except ValueError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.close()
    if as_json:
        print_json(report.to_dict())
        return
    rate = report.tokens / report.seconds if report.seconds else 0
    err_console().print(f"[bold]{report.scorer}[/]: {report.selected:,} trajectories, scored "
                        + ", ".join(f"{p} {n:,}" for p, n in report.scored.items())
                        + f", {report.tokens:,} tokens in {report.seconds:.1f}s ({rate:,.0f} tok/s)", highlight=False)


# -- metrics --------------------------------------------------------------------------------------
def run_metrics(db: Path, where: str | None, recompute: bool, tokenizer: str, chunk_size: int, as_json: bool) -> None:
    from pipeline.metrics import compute_metrics
    from store import StoreError

    store = _store(db)
    try:
        with progress() as bar:
            task = bar.add_task("metrics", total=None)
            report = compute_metrics(store, where=where, recompute=recompute, tokenizer=tokenizer,
                                     chunk_size=chunk_size, on_progress=lambda n: bar.advance(task, n),
                                     on_total=lambda n: bar.update(task, total=n))
    except (ValueError, OSError, StoreError) as exc:
        raise fail(str(exc)) from None
    except Exception as exc:  # a bad --where surfaces as a DuckDB error
        if type(exc).__module__.startswith(("duckdb", "_duckdb")):
            raise fail(f"query failed: {exc}") from None
        raise
    if as_json:
        print_json(report.to_dict())
        return
    kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(report.counts.items(), key=lambda kv: -kv[1])) or "none"
    err_console().print(f"{report.computed:,} of {report.selected:,} trajectories: correct answer found in the "
                        f"thought of {report.with_correct:,}; re-checks {report.rechecks:,} ({kinds}); "
                        f"tokens by {report.tokenizer or '(characters only)'}; {report.seconds:.1f}s",
                        highlight=False)


# -- dataset --------------------------------------------------------------------------------------
def _recipe(recipe_file: Path | None, overrides: dict[str, Any]):
    from pipeline.datasets import DatasetRecipe
    from pipeline.datasets.recipe import parse_list, parse_mix

    for key in ("exclude_flags", "origins", "models", "runs", "domains", "allow"):
        overrides[key] = parse_list(overrides[key])
    overrides["domain_mix"] = parse_mix(overrides["domain_mix"])
    base = DatasetRecipe.from_file(recipe_file) if recipe_file else DatasetRecipe()
    return base.updated(**overrides)


def _print_excluded(excluded: dict[str, dict[str, int]]) -> None:
    rows = [[name, group, n] for name, groups in excluded.items() for group, n in groups.items()]
    if rows:
        err_console().print(_table("left out by default exclusions (lift with --allow NAME)",
                                   ["exclusion", "group", "rows"], rows))


def _print_summary(s: dict[str, Any]) -> None:
    c = err_console()
    c.print(f"[bold]{s['name']}[/] ({s['kind']}): {s['n_members']:,} members"
            + (f", parent {s['parent']}" if s["parent"] else "")
            + (f" - ancestors {' <- '.join(s['ancestors'])}" if s["ancestors"] else ""), highlight=False)
    cols = ["domain", "count", "avg thought chars", "avg solution chars", "avg tokens", "inherited"]
    keys = ["domain", "count", "avg_thought_chars", "avg_solution_chars", "avg_tokens", "inherited"]
    c.print(_table("composition (STILL-2 Table 3 layout)", cols,
                   [[d[k] for k in keys] for d in s["domains"] + [s["total"]]]))
    if s.get("excluded"):
        _print_excluded(s["excluded"])
    elif s.get("excluded") is not None:
        c.print("no rows left out by the default exclusions", highlight=False)
    c.print(_table("difficulty", ["level", "difficulty", "count"],
                   [[d["level"], d["difficulty"], d["count"]] for d in s["difficulty"]]))
    c.print(_table("lineage", ["origin", "run", "model", "iteration", "count", "inherited"],
                   [[d["origin"], d["run_id"], d["model"], d["iteration"], d["count"], d["inherited"]]
                    for d in s["lineage"]]))


def _dataset_app() -> typer.Typer:
    dataset = typer.Typer(help="Dataset versions D_t = parent + selected trajectories (recipe recorded).",
                          no_args_is_help=True)

    @dataset.command("build")
    def build(
        name: Annotated[str, typer.Argument(help="Name of the new dataset version.")],
        recipe_file: Annotated[Optional[Path], typer.Option("--recipe", help="Recipe JSON; flags override it.")] = None,
        parent: Annotated[Optional[str], typer.Option(help="Parent dataset; all its members are inherited.")] = None,
        kind: Annotated[Optional[str], typer.Option(help="sft (default) or another label.")] = None,
        exclude_flags: Annotated[Optional[str], typer.Option(help="Filter rules that exclude, comma-separated; '*' any flag (default), '' none.")] = None,
        min_thought_chars: Annotated[Optional[int], typer.Option(help="Minimum thought length in characters.")] = None,
        min_thought_tokens: Annotated[Optional[int], typer.Option(help="Minimum thought length in lexical tokens.")] = None,
        min_tokens: Annotated[Optional[int], typer.Option(help="Minimum response model tokens (trajectory.n_tokens).")] = None,
        correct_only: Annotated[Optional[bool], typer.Option("--correct-only/--any-verdict", help="Only verdict 'correct' (default on).")] = None,
        approved_only: Annotated[Optional[bool], typer.Option("--approved-only/--any-status", help="Only approved trajectories.")] = None,
        exclude_rejected: Annotated[Optional[bool], typer.Option("--exclude-rejected/--include-rejected", help="Leave out rejected ones (default on).")] = None,
        origins: Annotated[Optional[str], typer.Option(help="Origins, comma-separated (distill,explore,...).")] = None,
        models: Annotated[Optional[str], typer.Option(help="Models, comma-separated.")] = None,
        runs: Annotated[Optional[str], typer.Option(help="Run ids, comma-separated.")] = None,
        domains: Annotated[Optional[str], typer.Option(help="Domains, comma-separated.")] = None,
        iteration_min: Annotated[Optional[int], typer.Option(help="Lowest iteration.")] = None,
        iteration_max: Annotated[Optional[int], typer.Option(help="Highest iteration.")] = None,
        where: WhereOption = None,
        ppl_scorer: Annotated[Optional[str], typer.Option(help="Scorer whose perplexity selects.")] = None,
        ppl_part: Annotated[Optional[str], typer.Option(help="full | thought.")] = None,
        ppl_top_percent: Annotated[Optional[float], typer.Option(help="Keep the top P% highest-perplexity per domain.")] = None,
        max_per_problem: Annotated[Optional[int], typer.Option(help="At most N trajectories per problem.")] = None,
        domain_mix: Annotated[Optional[str], typer.Option(help="Domain ratios, e.g. math=0.6,code=0.2,science=0.2.")] = None,
        hard_ratio: Annotated[Optional[float], typer.Option(help="Share of hard problems among new members.")] = None,
        hard_pass_rate: Annotated[Optional[float], typer.Option(help="Hard = pass rate below this (default 0.5).")] = None,
        hard_min_difficulty: Annotated[Optional[int], typer.Option(help="Hard = difficulty at least this.")] = None,
        size: Annotated[Optional[int], typer.Option(help="At most N new members.")] = None,
        seed: Annotated[Optional[int], typer.Option(help="Seed for sampling (default 0).")] = None,
        allow: AllowOption = None,
        note: Annotated[Optional[str], typer.Option(help="Free-text note.")] = None,
        replace: Annotated[bool, typer.Option("--replace", help="Rebuild an existing dataset of this name.")] = False,
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """Build a dataset version from a recipe (file and/or flags mirroring DatasetRecipe's fields)."""
        from pipeline.datasets import build_dataset

        overrides = {k: v for k, v in locals().items()
                     if k not in ("name", "recipe_file", "note", "replace", "db", "as_json", "build_dataset")}
        store = _store(db)
        try:
            recipe = _recipe(recipe_file, overrides)
            result = build_dataset(store, name, recipe, note=note, replace=replace)
        except (ValueError, TypeError) as exc:
            raise fail(str(exc)) from None
        except Exception as exc:
            raise fail(f"dataset build failed: {exc}") from None
        if as_json:
            print_json({**result.to_dict(), "recipe": recipe.to_dict()})
            return
        err_console().print(f"[bold]{name}[/]: {result.size:,} members ({result.inherited:,} inherited, "
                            f"{result.added:,} new of {result.selection.candidates:,} candidates)", highlight=False)
        _print_excluded(result.excluded)
        strata = result.selection.strata
        if len(strata) > 1 or "all" not in strata:
            err_console().print(_table("strata", ["stratum", "available", "taken"],
                                       [[k, v["available"], v["taken"]] for k, v in strata.items()]))

    @dataset.command("list")
    def list_(db: DbOption = default_db(), as_json: JsonOption = False) -> None:
        """List dataset versions with parent and size."""
        from pipeline.datasets import list_datasets

        rows = list_datasets(_store(db))
        if as_json:
            print_json(rows)
            return
        err_console().print(_table("datasets", ["name", "parent", "kind", "members", "new", "created"],
                                   [[r["name"], r["parent"], r["kind"], r["n_members"], r["added"],
                                     str(r["created"])[:19]] for r in rows]))

    @dataset.command("show")
    def show(name: Annotated[str, typer.Argument(help="Dataset name.")], db: DbOption = default_db(),
             as_json: JsonOption = False) -> None:
        """Size, per-domain counts and average lengths (Table 3 layout), difficulty mix and lineage."""
        from pipeline.datasets import dataset_summary

        try:
            summary = dataset_summary(_store(db), name)
        except ValueError as exc:
            raise fail(str(exc)) from None
        if as_json:
            print_json(summary)
        else:
            _print_summary(summary)

    @dataset.command("export")
    def export(
        name: Annotated[str, typer.Argument(help="Dataset name.")],
        out: Annotated[Path, typer.Argument(help="Output file (.jsonl, .parquet) or folder (HF save_to_disk).")],
        shape: Annotated[str, typer.Option(help="messages | prompt-completion | raw.")] = "messages",
        fmt: FormatOption = None,
        no_system: Annotated[bool, typer.Option("--no-system", help="Leave out the system prompt.")] = False,
        with_meta: Annotated[bool, typer.Option("--with-meta", help="Add id, problem_id, origin, model, verdict.")] = False,
        card: Annotated[bool, typer.Option("--card", help="OUT is a folder: data/train-00000-of-00001.parquet and a Hugging Face dataset card (README.md) generated from the store.")] = False,
        license: Annotated[str, typer.Option("--license", help="License in the card's metadata (--card).")] = "other",
        allow: AllowOption = None,
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """Write a dataset in TRL shapes (SFTTrainer: messages or prompt-completion); --card: a Hub-ready folder.

        The card states the recipe, lineage, filter counts with reasons, the decontamination report,
        verifier version and answer policy, domain mix and length statistics.
        """
        from pipeline.datasets import export_dataset

        try:
            if card:
                from pipeline.datasets.hub import export_folder

                info = export_folder(_store(db), name, out, shape=shape, use_system=not no_system,
                                     with_meta=with_meta, license=license)
                if as_json:
                    print_json(info)
                else:
                    err_console().print(f"wrote {info['rows']:,} rows ({shape}) and the dataset card to {out}/",
                                        highlight=False)
                return
            n = export_dataset(_store(db), name, out, shape=shape, fmt=fmt, use_system=not no_system,
                               with_meta=with_meta, allow=_allow(allow))
        except ValueError as exc:
            raise fail(str(exc)) from None
        if as_json:
            print_json({"dataset": name, "out": str(out), "rows": n, "shape": shape})
        else:
            err_console().print(f"wrote {n:,} rows ({shape}) to {out}", highlight=False)

    @dataset.command("push")
    def push(
        name: Annotated[str, typer.Argument(help="Dataset name.")],
        repo_id: Annotated[str, typer.Argument(help="Hub dataset repo, e.g. me/still2-math-d1 (created if missing).")],
        private: Annotated[bool, typer.Option("--private", help="Create the repo private.")] = False,
        revision: Annotated[Optional[str], typer.Option("--revision", help="Branch for this version (default: the dataset name).")] = None,
        main: Annotated[bool, typer.Option("--main/--no-main", help="Also commit to main (default on).")] = True,
        token_env: Annotated[str, typer.Option("--token-env", help="Environment variable holding the Hub token.")] = "HF_TOKEN",
        shape: Annotated[str, typer.Option(help="messages | prompt-completion | raw.")] = "messages",
        no_system: Annotated[bool, typer.Option("--no-system", help="Leave out the system prompt.")] = False,
        with_meta: Annotated[bool, typer.Option("--with-meta", help="Add id, problem_id, origin, model, verdict.")] = False,
        license: Annotated[str, typer.Option("--license", help="License in the card's metadata.")] = "other",
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """Upload a dataset version (Parquet + generated card) to the Hugging Face Hub with huggingface_hub.

        Each version goes to its own branch (--revision, default the dataset name) and to main.
        The endpoint is $HF_ENDPOINT as for any huggingface_hub client; the token is read from the
        environment variable --token-env names.
        """
        from pipeline.datasets.hub import push_dataset

        store = _store(db)
        try:
            info = push_dataset(store, name, repo_id, private=private, revision=revision, update_main=main,
                                token_env=token_env, shape=shape, use_system=not no_system, with_meta=with_meta,
                                license=license)
        except ValueError as exc:
            raise fail(str(exc)) from None
        except Exception as exc:  # HTTP errors from the Hub (auth, network) name the URL and status
            raise fail(f"push failed: {exc}") from None
        if as_json:
            print_json(info)
        else:
            err_console().print(f"pushed {info['rows']:,} rows of {name} to {info['endpoint']}/datasets/{repo_id} "
                                f"(revision {info['revision']}; commits "
                                + ", ".join(f"{k} {v[:10]}" for k, v in info["commits"].items()) + ")",
                                highlight=False)

    return dataset


# -- pairs ----------------------------------------------------------------------------------------
def _pairs_app() -> typer.Typer:
    pairs = typer.Typer(help="DPO pairs: chosen = correct with higher perplexity, rejected = incorrect with lower.",
                        no_args_is_help=True)

    @pairs.command("build")
    def build(
        scorer: Annotated[Optional[str], typer.Option(help="Scorer whose perplexity is used (default: newest).")] = None,
        part: Annotated[str, typer.Option(help="full | thought (perplexity and export cut at end of thought).")] = "full",
        max_per_problem: Annotated[int, typer.Option(help="At most N pairs per problem.")] = 1,
        problem: Annotated[Optional[str], typer.Option(help="Build for this problem id only.")] = None,
        approved_only: Annotated[bool, typer.Option("--approved-only", help="Only approved trajectories.")] = False,
        skip_flags: Annotated[str, typer.Option(help="Skip trajectories flagged by these rules ('*' any).")] = "",
        where: WhereOption = None,
        allow: AllowOption = None,
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """Build pairs for problems with both outcomes; re-running adds nothing new."""
        from pipeline.pairs import PairOptions, build_pairs

        try:
            opts = PairOptions(scorer=scorer, part=part, max_per_problem=max_per_problem, problem=problem,
                               approved_only=approved_only, where=where,
                               skip_flags=[f.strip() for f in skip_flags.split(",") if f.strip()], allow=_allow(allow))
            report = build_pairs(_store(db), opts)
        except ValueError as exc:
            raise fail(str(exc)) from None
        if as_json:
            print_json(report.to_dict())
        else:
            err_console().print(
                f"{report.added:,} new pairs ({report.candidates:,} found) from {report.problems_with_both:,} of "
                f"{report.problems:,} scored problems with both outcomes; scorer {report.scorer}, part {report.part}",
                highlight=False)

    @pairs.command("list")
    def list_(
        problem: Annotated[Optional[str], typer.Option(help="Only this problem.")] = None,
        status: Annotated[Optional[str], typer.Option(help="pending | approved | rejected.")] = None,
        limit: Annotated[int, typer.Option(help="At most N rows.")] = 50,
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """List pairs with both perplexities."""
        from pipeline.pairs import list_pairs

        rows = list_pairs(_store(db), problem=problem, status=status, limit=limit)
        if as_json:
            print_json(rows)
            return
        fmt = lambda v: "" if v is None else f"{v:.3f}"  # noqa: E731
        err_console().print(_table("pairs", ["id", "problem", "part", "status", "chosen", "ppl", "rejected", "ppl"],
                                   [[r["id"], r["problem_id"], r["part"], r["status"], r["chosen_id"],
                                     fmt(r["chosen_ppl"]), r["rejected_id"], fmt(r["rejected_ppl"])] for r in rows]))

    @pairs.command("export")
    def export(
        out: Annotated[Path, typer.Argument(help="Output file (.jsonl, .parquet) or folder (HF save_to_disk).")],
        part: Annotated[Optional[str], typer.Option(help="Override each pair's part: full | thought.")] = None,
        approved_only: Annotated[bool, typer.Option("--approved-only", help="Only approved pairs (default: all but rejected).")] = False,
        problem: Annotated[Optional[str], typer.Option(help="Only this problem.")] = None,
        fmt: FormatOption = None,
        no_system: Annotated[bool, typer.Option("--no-system", help="Leave out the system prompt.")] = False,
        with_meta: Annotated[bool, typer.Option("--with-meta", help="Add id, problem_id, part.")] = False,
        allow: AllowOption = None,
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """Write pairs as prompt/chosen/rejected for DPOTrainer (thought pairs cut at <|end_of_thought|>)."""
        from pipeline.pairs import export_pairs

        if part not in (None, "full", "thought"):
            raise fail(f"--part must be full or thought, got {part!r}")
        try:
            n = export_pairs(_store(db), out, part=part, include_pending=not approved_only, problem=problem,
                             fmt=fmt, use_system=not no_system, with_meta=with_meta, allow=_allow(allow))
        except ValueError as exc:
            raise fail(str(exc)) from None
        if as_json:
            print_json({"out": str(out), "rows": n})
        else:
            err_console().print(f"wrote {n:,} pairs to {out}", highlight=False)

    return pairs


def register(app: typer.Typer) -> None:
    @app.command("filter")
    def filter_(
        rules: Annotated[Optional[str], typer.Option("--rules", help="Rules to run, comma-separated (default: all).")] = None,
        where: WhereOption = None,
        param: Annotated[Optional[list[str]], typer.Option("--param", help="RULE.KEY=VALUE threshold override (repeatable).")] = None,
        list_rules: Annotated[bool, typer.Option("--list", help="List the rules with their default parameters.")] = False,
        chunk_size: Annotated[int, typer.Option(help="Trajectories per read/write chunk.")] = 2000,
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """Flag trajectories by rules (repetition, gibberish, language mix, length, format, duplicates, answer).

        Flags and reasons go to table `flag`; trajectories are never changed. Re-running a rule
        replaces its flags on the trajectories it covers.
        """
        if list_rules:
            _list_rules(as_json)
            return
        run_filter(db, rules, where, param, chunk_size, as_json)

    @app.command("score")
    def score(
        model: Annotated[Optional[str], typer.Option("--model", help="Model id or folder (default: SmolLM2-135M-Instruct).")] = None,
        engine: Annotated[str, typer.Option("--engine", help="transformers | vllm.")] = "transformers",
        part: Annotated[str, typer.Option("--part", help="full | thought | both.")] = "full",
        where: WhereOption = None,
        batch_size: Annotated[Optional[int], typer.Option(
            "--batch-size", help="Sequences per forward pass (default: 1 on CPU, 16 on a GPU).")] = None,
        scorer: Annotated[Optional[str], typer.Option("--scorer", help="Name stored with the scores (default: model id).")] = None,
        rescore: Annotated[bool, typer.Option("--rescore", help="Score again rows already scored by this scorer.")] = False,
        device: Annotated[Optional[str], typer.Option("--device", help="cpu | cuda | mps (default: best available).")] = None,
        tokens: Annotated[bool, typer.Option("--tokens", help=(
            "Also keep each token's NLL and character span (table token_nll, 4 bytes a token) for the TUI's "
            "surprise heatmap; rows scored before without them are scored again."))] = False,
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """Per-token mean NLL and perplexity of each response given its prompt, per (trajectory, scorer, part)."""
        run_score(db, model, engine, part, where, batch_size, scorer, rescore, device, as_json, tokens)

    @app.command("metrics")
    def metrics(
        where: WhereOption = None,
        recompute: Annotated[bool, typer.Option("--recompute", help="Compute again rows already computed.")] = False,
        tokenizer: Annotated[str, typer.Option("--tokenizer", help=(
            "Counts tokens after the first correct answer: default (SmolLM2's), a model id or folder, or none "
            "(characters only)."))] = "default",
        chunk_size: Annotated[int, typer.Option(help="Trajectories per read/write chunk.")] = 200,
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """Overthinking metrics per trajectory: where the correct answer first appears in the thought, the
        characters and tokens after it, and re-checks ("wait", "let me verify", "alternatively", ...).

        Stored in table `trajectory_metrics` (TUI columns and filter fields); resumable: rows computed
        with the same gold answer and metric version are skipped.
        """
        run_metrics(db, where, recompute, tokenizer, chunk_size, as_json)

    app.add_typer(_dataset_app(), name="dataset")
    app.add_typer(_pairs_app(), name="pairs")
