"""`still2 problems add | generate | list`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.cli.common import (
    DbOption,
    JsonOption,
    console,
    default_db,
    err_console,
    fail,
    open_store,
    print_json,
)
from pipeline.cli.store_cmds import FieldOption, parse_fields, run_import


def _problem_ids(db: Path) -> set[str]:
    from store import Store

    if not Path(db).exists():
        return set()
    with Store(db).read() as conn:
        return {r[0] for r in conn.execute("SELECT id FROM problem").fetchall()}


def _warn_contamination(db: Path, before: set[str], shown: int = 5) -> None:
    from pipeline.filters.base import snippet
    from pipeline.filters.contamination import new_problem_overlaps
    from store import Store

    with Store(db).read() as conn:
        new = {r[0] for r in conn.execute("SELECT id FROM problem").fetchall()} - before
        overlaps = new_problem_overlaps(conn, new)
    if not overlaps:
        return
    c = err_console()
    c.print(
        f"[yellow]warning:[/] {len(overlaps)} train problem(s) match benchmark/test problems "
        "(`still2 filter --rules contamination` flags their trajectories; `dataset build` leaves them out):",
        highlight=False,
    )
    for pid, question, m in overlaps[:shown]:
        how = f"fuzzy ratio {m.score:.0f}" if m.method == "fuzzy" else f"{100 * m.score:.0f}% of its words"
        c.print(f"  {pid} ~ {m.item.label} ({how}): {snippet(question, 90)}", highlight=False, markup=False)
    if len(overlaps) > shown:
        c.print(f"  ... and {len(overlaps) - shown} more", highlight=False)


def register(app: typer.Typer) -> None:
    problems = typer.Typer(
        help="Problems: add from files, generate with exact answers, list with pass rates.", no_args_is_help=True
    )
    app.add_typer(problems, name="problems")

    @problems.command("add")
    def add(
        files: Annotated[
            list[Path],
            typer.Argument(
                help="JSONL/JSON/Parquet/CSV files, datasets folders, hub ids, or a packaged benchmark: humaneval."
            ),
        ],
        db: DbOption = default_db(),
        fmt: Annotated[
            Optional[str], typer.Option("--format", help="jsonl | json | parquet | csv | hf | hf-hub")
        ] = None,
        layout: Annotated[
            Optional[str],
            typer.Option(
                help="math | prompt | gsm8k | gt | gpqa | choices | generic | humaneval | mbpp | apps | livecodebench | "
                "codecontests | code_io"
            ),
        ] = None,
        field: FieldOption = None,
        source: Annotated[Optional[str], typer.Option(help="Source name (default: from the file name).")] = None,
        split: Annotated[Optional[str], typer.Option(help="Split to record / dataset split to read.")] = None,
        domain: Annotated[Optional[str], typer.Option(help="math | code | science | puzzle")] = None,
        answer_kind: Annotated[Optional[str], typer.Option(help="math | int | mc | code (default by source)")] = None,
        difficulty: Annotated[Optional[int], typer.Option(help="Difficulty to record for every row.")] = None,
        seed: Annotated[int, typer.Option(help="Seed for shuffling multiple-choice options (GPQA).")] = 0,
        skip_bad: Annotated[
            bool, typer.Option("--skip-bad", help="Import the good rows and report the bad ones.")
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Add problems from benchmark files (MATH-500, AIME, AMC, GSM8K, GPQA CSV, HumanEval, MBPP, APPS, ...
        auto-detected).

        Warns when a train problem matches a benchmark / test problem (the `contamination` rule's
        question checks), whichever side was just added.
        """
        from pipeline.problems.packaged import packaged_file

        resolved = []
        for f in files:
            try:
                packaged = None if f.exists() else packaged_file(str(f))
            except ValueError as e:
                raise fail(str(e)) from None
            if packaged is not None and source is None and len(files) == 1:
                source = str(f).lower()
            resolved.append(packaged or f)
        files = resolved
        before = _problem_ids(db)
        run_import(
            db,
            files,
            "problems",
            as_json,
            fmt=fmt,
            layout=layout,
            field_map=parse_fields(field),
            source=source,
            split=split,
            domain=domain,
            answer_kind=answer_kind,
            difficulty=difficulty,
            seed=seed,
            skip_bad=skip_bad,
        )
        _warn_contamination(db, before)

    @problems.command("generate")
    def generate(
        kind: Annotated[
            str, typer.Option(help="arithmetic | fractions | linear | modular | counting | ... | mixed")
        ] = "mixed",
        difficulty: Annotated[int, typer.Option(min=1, max=5, help="1 (easy) .. 5 (hard)")] = 2,
        n: Annotated[int, typer.Option("-n", "--n", min=1, help="How many problems.")] = 20,
        seed: Annotated[int, typer.Option(help="Same seed, same problems.")] = 0,
        split: Annotated[str, typer.Option(help="Split to record, e.g. train or test.")] = "train",
        source: Annotated[Optional[str], typer.Option(help="Source name (default gen-KIND-dD-sSEED).")] = None,
        db: DbOption = default_db(),
        as_json: JsonOption = False,
    ) -> None:
        """Generate problems with exact answers (deterministic per seed) and add them to the store."""
        from pipeline.problems import generators
        from store import Store
        from store.ingest import add_problems

        try:
            items = generators.generate(kind, difficulty, n, seed)
        except ValueError as e:
            raise fail(str(e)) from None
        name = source or f"gen-{kind}-d{difficulty}-s{seed}"
        rows = [g.problem_row(name, split) for g in items]
        with Store(db).write() as conn:
            added = add_problems(conn, rows)
        if as_json:
            print_json({"source": name, "generated": len(rows), "added": added})
        else:
            err_console().print(
                f"generated {len(rows)} {kind} problems (difficulty {difficulty}, seed {seed}) "
                f"as source [bold]{name}[/]: {added} new"
            )

    @problems.command("list")
    def list_(
        db: DbOption = default_db(),
        source: Annotated[Optional[str], typer.Option(help="Only this source.")] = None,
        where: Annotated[Optional[str], typer.Option(help="SQL filter over problem_stats (s.) / problem (p.).")] = None,
        order: Annotated[
            str, typer.Option(help="SQL ORDER BY, e.g. 's.pass_rate NULLS FIRST'.")
        ] = "s.source, p.source_key",
        limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
        as_json: JsonOption = False,
    ) -> None:
        """List problems with rollouts, correct count and pass rate."""
        from store.queries import list_problems

        store = open_store(db, create=False)
        clauses = [c for c in (where, f"s.source = '{source.replace(chr(39), chr(39) * 2)}'" if source else None) if c]
        try:
            with store.read() as conn:
                rows = list_problems(
                    conn, where=" AND ".join(f"({c})" for c in clauses) or None, limit=limit, order=order
                )
        except Exception as e:  # noqa: BLE001 - a bad --where is the user's SQL
            raise fail(f"query failed: {e}") from None
        if as_json:
            print_json(rows)
            return
        from rich.table import Table

        table = Table("id", "source", "key", "diff", "answer", "rollouts", "correct", "pass", "question")
        for r in rows:
            rate = "" if r["pass_rate"] is None else f"{r['pass_rate']:.0%}"
            table.add_row(
                r["id"],
                r["source"],
                str(r["source_key"] or ""),
                str(r["difficulty"] or ""),
                str((r["tests"] if r["answer_kind"] == "code" else r["answer"]) or "")[:20],
                str(r["rollouts"]),
                str(r["correct"]),
                rate,
                (r["question"] or "").replace("\n", " ")[:60],
            )
        console().print(table)
