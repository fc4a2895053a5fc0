"""Curation commands: filter (rule flags), score (perplexity), dataset {build,list,show,export,push}, pairs {build,list,export}."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from pipeline.cli.common import DbOption, JsonOption, default_db, err_console, fail, print_json, progress
from pipeline.cli.options import Fields, config_command
from pipeline.datasets.recipe import ALLOW_HELP, DatasetRecipe, parse_list
from pipeline.options import comma_list, opt
from pipeline.pairs.config import PairOptions
from pipeline.scoring.config import ScoreConfig

WhereOption = Annotated[Optional[str], typer.Option("--where", help="SQL condition over the trajectories view.")]
FormatOption = Annotated[
    Optional[str], typer.Option("--format", help="jsonl | parquet | hf (default: from OUT's suffix).")
]
AllowOption = Annotated[Optional[str], typer.Option("--allow", help=ALLOW_HELP)]


@dataclass
class FilterConfig:
    """`still2 filter`'s options (run_filters' arguments)."""

    rules: list[str] | None = field(
        default=None,
        metadata=opt("Rules to run, comma-separated (default: all).", "--rules", parse=comma_list, cli_type=str),
    )
    where: str | None = field(default=None, metadata=opt("SQL condition over the trajectories view.", "--where"))
    param: list[str] = field(
        default_factory=list, metadata=opt("RULE.KEY=VALUE threshold override (repeatable).", "--param")
    )
    chunk_size: int = field(default=2000, metadata=opt("Trajectories per read/write chunk.", min=1))


def _allow(value: str | list[str] | None) -> list[str]:
    """--allow names, checked against the registry (an unknown one is an error naming the known ones)."""
    from pipeline.datasets.exclusions import active

    names = (parse_list(value) if isinstance(value, str) else value) or []
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


def run_filter(db: Path, cfg: FilterConfig, as_json: bool) -> None:
    from pipeline.filters import parse_params, run_filters
    from store import StoreError

    store = _store(db)
    try:
        parsed = parse_params(cfg.param)
        with progress() as bar:
            task = bar.add_task("filtering", total=None)
            report = run_filters(
                store,
                cfg.rules or None,
                where=cfg.where,
                params=parsed,
                chunk_size=cfg.chunk_size,
                on_progress=lambda n: bar.advance(task, n),
            )
            bar.update(task, total=report.covered, completed=report.covered)
    except (ValueError, StoreError) as exc:
        raise fail(str(exc)) from None
    except Exception as exc:  # a bad --where surfaces as a DuckDB error
        raise fail(f"filter failed: {exc}") from None
    if as_json:
        print_json(report.to_dict())
        return
    rows = [
        [c.rule, c.checked, c.flagged, f"{c.checked / c.seconds:,.0f}" if c.seconds else "-"] for c in report.counts
    ]
    err_console().print(
        _table(
            f"{report.covered:,} trajectories covered (flags replaced per rule)",
            ["rule", "checked", "flagged", "per second"],
            rows,
        )
    )


# -- score ----------------------------------------------------------------------------------------
def run_score(db: Path, cfg: ScoreConfig, as_json: bool) -> None:
    from pipeline.engines.base import make_engine
    from pipeline.scoring import score_trajectories
    from pipeline.scoring.score import parts_of

    store = _store(db)
    try:
        parts_of(cfg.part)
        engine = make_engine(cfg.engine, cfg.model, **cfg.engine_options())
    except Exception as exc:
        raise fail(str(exc)) from None
    from pipeline.jobs.progress import JobProgress

    try:  # a line per chunk in a log (not a terminal); each chunk is committed as it is scored
        with JobProgress("scoring", None, log_interval=5.0) as bar:
            report = score_trajectories(
                store,
                engine,
                scorer=cfg.scorer,
                part=cfg.part,
                where=cfg.where,
                chunk_size=max(4 * (cfg.batch_size or 0), 64),
                rescore=cfg.rescore,
                tokens=cfg.tokens,
                on_progress=bar.advance,
                on_total=bar.set_total,
            )
    except ValueError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.close()
    if as_json:
        print_json(report.to_dict())
        return
    rate = report.tokens / report.seconds if report.seconds else 0
    err_console().print(
        f"[bold]{report.scorer}[/]: {report.selected:,} trajectories, scored "
        + ", ".join(f"{p} {n:,}" for p, n in report.scored.items())
        + f", {report.tokens:,} tokens in {report.seconds:.1f}s ({rate:,.0f} tok/s)",
        highlight=False,
    )


# -- metrics --------------------------------------------------------------------------------------
def run_metrics(db: Path, where: str | None, recompute: bool, tokenizer: str, chunk_size: int, as_json: bool) -> None:
    from pipeline.metrics import compute_metrics
    from store import StoreError

    store = _store(db)
    try:
        with progress() as bar:
            task = bar.add_task("metrics", total=None)
            report = compute_metrics(
                store,
                where=where,
                recompute=recompute,
                tokenizer=tokenizer,
                chunk_size=chunk_size,
                on_progress=lambda n: bar.advance(task, n),
                on_total=lambda n: bar.update(task, total=n),
            )
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
    err_console().print(
        f"{report.computed:,} of {report.selected:,} trajectories: correct answer found in the "
        f"thought of {report.with_correct:,}; re-checks {report.rechecks:,} ({kinds}); "
        f"tokens by {report.tokenizer or '(characters only)'}; {report.seconds:.1f}s",
        highlight=False,
    )


# -- dataset --------------------------------------------------------------------------------------
def _recipe(recipe_file: Path | None, overrides: dict[str, Any]) -> DatasetRecipe:
    base = DatasetRecipe.from_file(recipe_file) if recipe_file else DatasetRecipe()
    return base.updated(**overrides)


def _print_excluded(excluded: dict[str, dict[str, int]]) -> None:
    rows = [[name, group, n] for name, groups in excluded.items() for group, n in groups.items()]
    if rows:
        err_console().print(
            _table("left out by default exclusions (lift with --allow NAME)", ["exclusion", "group", "rows"], rows)
        )


def _print_summary(s: dict[str, Any]) -> None:
    c = err_console()
    c.print(
        f"[bold]{s['name']}[/] ({s['kind']}): {s['n_members']:,} members"
        + (f", parent {s['parent']}" if s["parent"] else "")
        + (f" - ancestors {' <- '.join(s['ancestors'])}" if s["ancestors"] else ""),
        highlight=False,
    )
    cols = ["domain", "count", "avg thought chars", "avg solution chars", "avg tokens", "inherited"]
    keys = ["domain", "count", "avg_thought_chars", "avg_solution_chars", "avg_tokens", "inherited"]
    c.print(
        _table(
            "composition (STILL-2 Table 3 layout)", cols, [[d[k] for k in keys] for d in s["domains"] + [s["total"]]]
        )
    )
    if s.get("excluded"):
        _print_excluded(s["excluded"])
    elif s.get("excluded") is not None:
        c.print("no rows left out by the default exclusions", highlight=False)
    c.print(
        _table(
            "difficulty",
            ["level", "difficulty", "count"],
            [[d["level"], d["difficulty"], d["count"]] for d in s["difficulty"]],
        )
    )
    c.print(
        _table(
            "lineage",
            ["origin", "run", "model", "iteration", "count", "inherited"],
            [[d["origin"], d["run_id"], d["model"], d["iteration"], d["count"], d["inherited"]] for d in s["lineage"]],
        )
    )


def _dataset_app() -> typer.Typer:
    dataset = typer.Typer(
        help="Dataset versions D_t = parent + selected trajectories (recipe recorded).", no_args_is_help=True
    )

    @dataset.command("build")
    @config_command
    def build(
        name: Annotated[str, typer.Argument(help="Name of the new dataset version.")],
        *,
        recipe_file: Annotated[Optional[Path], typer.Option("--recipe", help="Recipe JSON; flags override it.")] = None,
        overrides: Annotated[DatasetRecipe, Fields(overrides=True)],
        note: Annotated[Optional[str], typer.Option(help="Free-text note.")] = None,
        replace: Annotated[bool, typer.Option("--replace", help="Rebuild an existing dataset of this name.")] = False,
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """Build a dataset version from a recipe (a --recipe file and/or flags: DatasetRecipe's fields)."""
        from pipeline.datasets import build_dataset

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
        err_console().print(
            f"[bold]{name}[/]: {result.size:,} members ({result.inherited:,} inherited, "
            f"{result.added:,} new of {result.selection.candidates:,} candidates)",
            highlight=False,
        )
        _print_excluded(result.excluded)
        strata = result.selection.strata
        if len(strata) > 1 or "all" not in strata:
            err_console().print(
                _table(
                    "strata",
                    ["stratum", "available", "taken"],
                    [[k, v["available"], v["taken"]] for k, v in strata.items()],
                )
            )

    @dataset.command("list")
    def list_(db: DbOption = default_db(), as_json: JsonOption = False) -> None:
        """List dataset versions with parent and size."""
        from pipeline.datasets import list_datasets

        rows = list_datasets(_store(db))
        if as_json:
            print_json(rows)
            return
        err_console().print(
            _table(
                "datasets",
                ["name", "parent", "kind", "members", "new", "created"],
                [[r["name"], r["parent"], r["kind"], r["n_members"], r["added"], str(r["created"])[:19]] for r in rows],
            )
        )

    @dataset.command("show")
    def show(
        name: Annotated[str, typer.Argument(help="Dataset name.")],
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
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
        with_meta: Annotated[
            bool, typer.Option("--with-meta", help="Add id, problem_id, origin, model, verdict.")
        ] = False,
        card: Annotated[
            bool,
            typer.Option(
                "--card",
                help="OUT is a folder: data/train-00000-of-00001.parquet and a Hugging Face dataset card (README.md) generated from the store.",
            ),
        ] = False,
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

                info = export_folder(
                    _store(db), name, out, shape=shape, use_system=not no_system, with_meta=with_meta, license=license
                )
                if as_json:
                    print_json(info)
                else:
                    err_console().print(
                        f"wrote {info['rows']:,} rows ({shape}) and the dataset card to {out}/", highlight=False
                    )
                return
            n = export_dataset(
                _store(db),
                name,
                out,
                shape=shape,
                fmt=fmt,
                use_system=not no_system,
                with_meta=with_meta,
                allow=_allow(allow),
            )
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
        revision: Annotated[
            Optional[str], typer.Option("--revision", help="Branch for this version (default: the dataset name).")
        ] = None,
        main: Annotated[bool, typer.Option("--main/--no-main", help="Also commit to main (default on).")] = True,
        token_env: Annotated[
            str, typer.Option("--token-env", help="Environment variable holding the Hub token.")
        ] = "HF_TOKEN",
        shape: Annotated[str, typer.Option(help="messages | prompt-completion | raw.")] = "messages",
        no_system: Annotated[bool, typer.Option("--no-system", help="Leave out the system prompt.")] = False,
        with_meta: Annotated[
            bool, typer.Option("--with-meta", help="Add id, problem_id, origin, model, verdict.")
        ] = False,
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
            info = push_dataset(
                store,
                name,
                repo_id,
                private=private,
                revision=revision,
                update_main=main,
                token_env=token_env,
                shape=shape,
                use_system=not no_system,
                with_meta=with_meta,
                license=license,
            )
        except ValueError as exc:
            raise fail(str(exc)) from None
        except Exception as exc:  # HTTP errors from the Hub (auth, network) name the URL and status
            raise fail(f"push failed: {exc}") from None
        if as_json:
            print_json(info)
        else:
            err_console().print(
                f"pushed {info['rows']:,} rows of {name} to {info['endpoint']}/datasets/{repo_id} "
                f"(revision {info['revision']}; commits "
                + ", ".join(f"{k} {v[:10]}" for k, v in info["commits"].items())
                + ")",
                highlight=False,
            )

    return dataset


# -- pairs ----------------------------------------------------------------------------------------
def _pairs_app() -> typer.Typer:
    pairs = typer.Typer(
        help="DPO pairs: chosen = correct with higher perplexity, rejected = incorrect with lower.",
        no_args_is_help=True,
    )

    @pairs.command("build")
    @config_command
    def build(opts: PairOptions, db: DbOption = default_db(), as_json: JsonOption = False) -> None:
        """Build pairs for problems with both outcomes; re-running adds nothing new."""
        from pipeline.pairs import build_pairs

        try:
            _allow(opts.allow)
            report = build_pairs(_store(db), opts)
        except ValueError as exc:
            raise fail(str(exc)) from None
        if as_json:
            print_json(report.to_dict())
        else:
            err_console().print(
                f"{report.added:,} new pairs ({report.candidates:,} found) from {report.problems_with_both:,} of "
                f"{report.problems:,} scored problems with both outcomes; scorer {report.scorer}, part {report.part}",
                highlight=False,
            )

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
        err_console().print(
            _table(
                "pairs",
                ["id", "problem", "part", "status", "chosen", "ppl", "rejected", "ppl"],
                [
                    [
                        r["id"],
                        r["problem_id"],
                        r["part"],
                        r["status"],
                        r["chosen_id"],
                        fmt(r["chosen_ppl"]),
                        r["rejected_id"],
                        fmt(r["rejected_ppl"]),
                    ]
                    for r in rows
                ],
            )
        )

    @pairs.command("export")
    def export(
        out: Annotated[Path, typer.Argument(help="Output file (.jsonl, .parquet) or folder (HF save_to_disk).")],
        part: Annotated[Optional[str], typer.Option(help="Override each pair's part: full | thought.")] = None,
        approved_only: Annotated[
            bool, typer.Option("--approved-only", help="Only approved pairs (default: all but rejected).")
        ] = False,
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
            n = export_pairs(
                _store(db),
                out,
                part=part,
                include_pending=not approved_only,
                problem=problem,
                fmt=fmt,
                use_system=not no_system,
                with_meta=with_meta,
                allow=_allow(allow),
            )
        except ValueError as exc:
            raise fail(str(exc)) from None
        if as_json:
            print_json({"out": str(out), "rows": n})
        else:
            err_console().print(f"wrote {n:,} pairs to {out}", highlight=False)

    return pairs


def register(app: typer.Typer) -> None:
    @app.command("filter")
    @config_command
    def filter_(
        cfg: FilterConfig,
        list_rules: Annotated[
            bool, typer.Option("--list", help="List the rules with their default parameters.")
        ] = False,
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
        run_filter(db, cfg, as_json)

    @app.command("score")
    @config_command
    def score(cfg: ScoreConfig, db: DbOption = default_db(), as_json: JsonOption = False) -> None:
        """Per-token mean NLL and perplexity of each response given its prompt, per (trajectory, scorer, part)."""
        run_score(db, cfg, as_json)

    @app.command("metrics")
    def metrics(
        where: WhereOption = None,
        recompute: Annotated[bool, typer.Option("--recompute", help="Compute again rows already computed.")] = False,
        tokenizer: Annotated[
            str,
            typer.Option(
                "--tokenizer",
                help=(
                    "Counts tokens after the first correct answer: default (SmolLM2's), a model id or folder, or none "
                    "(characters only)."
                ),
            ),
        ] = "default",
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
