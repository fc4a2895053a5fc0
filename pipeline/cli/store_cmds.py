"""Store commands: init, import, export, sql, stats."""

from __future__ import annotations

import inspect
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

FieldOption = Annotated[
    Optional[list[str]],
    typer.Option("--field", help="Column override TARGET=COLUMN, e.g. --field question=Problem (repeatable)."),
]


def parse_fields(fields: list[str] | None) -> dict[str, str]:
    out = {}
    for item in fields or []:
        if "=" not in item:
            raise fail(f"--field expects TARGET=COLUMN, got {item!r}")
        target, column = item.split("=", 1)
        out[target.strip()] = column.strip()
    return out


def _print_report(report, as_json: bool) -> None:
    if as_json:
        print_json(report.to_dict())
        return
    c = err_console()
    line = (
        f"[bold]{report.path}[/]: {report.kind} ({report.format}, layout {report.layout}) - "
        f"{report.rows_read} rows read, [green]{report.added} added[/]"
    )
    if report.kind == "trajectories":
        line += f", {report.problems_matched} problems matched, {report.problems_added} problems created"
    c.print(line, highlight=False, soft_wrap=True)
    if report.skipped:
        c.print(f"[yellow]skipped {len(report.skipped)} bad row(s):[/]")
        for e in report.skipped[:20]:
            c.print(f"  {e}", highlight=False, markup=False, soft_wrap=True)
        if len(report.skipped) > 20:
            c.print(f"  ... and {len(report.skipped) - 20} more (--json lists them all)")
    if report.incomplete:
        c.print(
            "[yellow]the file could not be read to its end: rows after the last line above were not imported[/]",
            highlight=False,
        )


def run_import(db: Path, files: list[Path], kind: str, as_json: bool, **options) -> None:
    from store import Store, StoreError
    from store.formats.errors import RowError
    from store.importer import detect_kind, import_problems, import_trajectories

    store = Store(db)
    reports = []
    for f in files:
        try:
            file_kind = kind if kind != "auto" else detect_kind(str(f), options.get("fmt"), options.get("split"))
            importer = import_problems if file_kind == "problems" else import_trajectories
            accepted = inspect.signature(importer).parameters  # each importer takes its own options
            report = importer(store, str(f), **{k: v for k, v in options.items() if k in accepted})
        except (StoreError, RowError, ValueError) as e:
            raise fail(str(e)) from None
        reports.append(report)
        if not as_json:
            _print_report(report, False)
    if as_json:
        print_json([r.to_dict() for r in reports])


def register(app: typer.Typer) -> None:
    @app.command()
    def init(db: DbOption = default_db(), as_json: JsonOption = False) -> None:
        """Create a store (or upgrade an older one to the current schema)."""
        from store import Store
        from store.schema import SCHEMA_VERSION

        store = Store(db)
        existed = store.exists
        store.init()
        info = {
            "db": str(db),
            "schema_version": store.schema_version(),
            "created": not existed,
            "latest_version": SCHEMA_VERSION,
        }
        if as_json:
            print_json(info)
        else:
            console().print(f"{'created' if not existed else 'opened'} {db} (schema v{info['schema_version']})")

    @app.command("import")
    def import_(
        files: Annotated[list[Path], typer.Argument(help="JSONL/JSON/Parquet/CSV files, datasets folders or hub ids.")],
        db: DbOption = default_db(),
        kind: Annotated[str, typer.Option(help="auto | problems | trajectories")] = "auto",
        fmt: Annotated[
            Optional[str], typer.Option("--format", help="jsonl | json | parquet | csv | hf | hf-hub")
        ] = None,
        layout: Annotated[
            Optional[str], typer.Option(help="Force a layout (see README), e.g. skyt1, still2, gpqa.")
        ] = None,
        field: FieldOption = None,
        source: Annotated[Optional[str], typer.Option(help="Source name (default: from the file name).")] = None,
        split: Annotated[Optional[str], typer.Option(help="Split to record / dataset split to read.")] = None,
        model: Annotated[Optional[str], typer.Option(help="Model that generated the trajectories.")] = None,
        origin: Annotated[
            Optional[str], typer.Option(help="distill | explore | eval | import (default by layout).")
        ] = None,
        problem_source: Annotated[
            Optional[str], typer.Option(help="Prefer problems of this source when matching questions.")
        ] = None,
        skip_bad: Annotated[
            bool, typer.Option("--skip-bad", help="Import the good rows and report the bad ones.")
        ] = False,
        seed: Annotated[int, typer.Option(help="Seed for shuffling multiple-choice options (GPQA).")] = 0,
        as_json: JsonOption = False,
    ) -> None:
        """Import problems or trajectories (kind auto-detected); all-or-nothing per file, idempotent."""
        if kind not in ("auto", "problems", "trajectories"):
            raise fail("--kind must be auto, problems or trajectories")
        run_import(
            db,
            files,
            kind,
            as_json,
            fmt=fmt,
            layout=layout,
            field_map=parse_fields(field),
            source=source,
            split=split,
            model=model,
            origin=origin,
            problem_source=problem_source,
            skip_bad=skip_bad,
            seed=seed,
        )

    @app.command()
    def export(
        out: Annotated[Path, typer.Argument(help="Output: .jsonl, .parquet, or a folder (HF save_to_disk).")],
        db: DbOption = default_db(),
        what: Annotated[
            str, typer.Option(help="trajectories | pairs | problems | prm (step labels: prompt, completions, labels)")
        ] = "trajectories",
        shape: Annotated[str, typer.Option(help="messages | prompt-completion | raw (trajectories)")] = "messages",
        where: Annotated[
            Optional[str],
            typer.Option(
                help="SQL filter over the trajectories view (or pair table), "
                "e.g. \"verdict = 'correct' AND status != 'rejected'\"."
            ),
        ] = None,
        dataset: Annotated[Optional[str], typer.Option(help="Only members of this dataset version.")] = None,
        part: Annotated[Optional[str], typer.Option(help="Pairs: full | thought (cut at <|end_of_thought|>).")] = None,
        fmt: Annotated[Optional[str], typer.Option("--format", help="jsonl | parquet | hf (default from OUT).")] = None,
        no_system: Annotated[bool, typer.Option("--no-system", help="Leave the system prompt out.")] = False,
        with_meta: Annotated[bool, typer.Option("--with-meta", help="Add id/problem/origin columns.")] = False,
        with_correct: Annotated[
            bool,
            typer.Option(
                "--with-correct",
                help=(
                    "prm: also verified-correct rollouts, every step labelled good (ours: a right answer does not "
                    "prove every step)."
                ),
            ),
        ] = False,
        allow: Annotated[
            Optional[str],
            typer.Option(
                help="Default exclusions to lift, comma-separated: contaminated, eval (evaluation outputs), test "
                "(rows on test/benchmark problems); trajectories and pairs leave them out otherwise."
            ),
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Export trajectories, pairs, problems or step labels (PRM) in TRL-ready shapes."""
        from pipeline.datasets.exclusions import active, keep_sql
        from pipeline.datasets.recipe import parse_list
        from store import StoreError
        from store.formats import export as ex

        store = open_store(db, create=False)
        try:
            lifted = parse_list(allow) or []
            active(lifted)
            if what == "trajectories":
                if dataset:
                    member = f"v.id IN (SELECT member_id FROM dataset_member WHERE dataset = '{dataset.replace(chr(39), '')}')"
                    where = f"({where}) AND {member}" if where else member
                kept = keep_sql(lifted, "v.id")
                n = ex.export_trajectories(
                    store,
                    out,
                    fmt=fmt,
                    shape=shape,
                    where=f"({where}) AND {kept}" if where else kept,
                    use_system=not no_system,
                    with_meta=with_meta,
                )
            elif what == "pairs":
                kept = keep_sql(lifted, "pr.chosen_id", "pr.rejected_id")
                n = ex.export_pairs(
                    store,
                    out,
                    fmt=fmt,
                    where=f"({where}) AND {kept}" if where else kept,
                    part=part,
                    use_system=not no_system,
                    with_meta=with_meta,
                )
            elif what == "problems":
                with store.read() as conn:
                    clause = f"WHERE {where}" if where else ""
                    rows = (
                        conn.sql(f"SELECT * EXCLUDE (question_hash) FROM problem {clause} ORDER BY source, id")
                        .to_arrow_table()
                        .to_pylist()
                    )
                ex.write_rows(rows, out, ex.format_for(out, fmt))
                n = len(rows)
            elif what == "prm":
                from store.formats.prm import prm_rows

                got = prm_rows(store, where=where, with_correct=with_correct, with_meta=with_meta)
                ex.write_rows(got.rows, out, ex.format_for(out, fmt))
                n = len(got.rows)
                if got.stale:
                    err_console().print(
                        f"[yellow]skipped {len(got.stale)} label(s) whose steps changed since "
                        f"labelling: {', '.join(got.stale[:5])}[/]",
                        highlight=False,
                    )
            else:
                raise fail("--what must be trajectories, pairs, problems or prm")
        except (StoreError, ValueError) as e:
            raise fail(str(e)) from None
        except Exception as e:  # duckdb errors in a user's --where
            if type(e).__module__.startswith(("duckdb", "_duckdb")):
                raise fail(f"query failed: {e}") from None
            raise
        if as_json:
            print_json({"out": str(out), "rows": n, "what": what})
        else:
            err_console().print(f"wrote {n} {what} to {out}")

    @app.command()
    def sql(
        query: Annotated[str, typer.Argument(help="DuckDB SQL. Tables and views: see README.")],
        db: DbOption = default_db(),
        write: Annotated[bool, typer.Option("--write", help="Allow statements that modify the store.")] = False,
        limit: Annotated[int, typer.Option(help="Rows to print (0 = all).")] = 100,
        csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Run SQL on the store and print a table. Without --write only read statements run, on a
        connection that cannot reach any other file (see store/sql_console.py)."""
        import duckdb

        from store import StoreError
        from store.sql_console import run_query

        store = open_store(db, create=False)
        try:
            result = run_query(store, query, write=write, limit=limit or None)
            names, rows = result.names, result.rows
        except duckdb.Error as e:
            msg = str(e)
            if not write and ("read-only" in msg.lower() or "disabled by configuration" in msg.lower()):
                msg += "\n(the SQL console reads only the store; pass --write to modify it)"
            raise fail(msg) from None
        except StoreError as e:
            raise fail(str(e)) from None
        if as_json:
            print_json([dict(zip(names, r)) for r in rows])
        elif csv:
            import csv as csvmod
            import sys

            w = csvmod.writer(sys.stdout)
            w.writerow(names)
            w.writerows(rows)
        else:
            from rich.table import Table

            table = Table(*names, show_lines=False)
            for r in rows:
                table.add_row(*[_cell(v) for v in r])
            console().print(table)
            if limit and len(rows) == limit:
                err_console().print(f"[dim](first {limit} rows; --limit 0 for all)[/]")

    @app.command()
    def stats(db: DbOption = default_db(), as_json: JsonOption = False) -> None:
        """What is in the store: problems per source, trajectories per origin, verdicts, curation."""
        from store.queries import stats as store_stats
        from store.runs import repair_stale_runs

        store = open_store(db, create=False)
        repair_stale_runs(store)  # a killed command's run must not count as running
        with store.read() as conn:
            info = store_stats(conn)
        if as_json:
            print_json(info)
            return
        print_stats(info)


def _cell(value) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def print_stats(info: dict) -> None:
    from rich.table import Table

    c = console()
    c.print(
        " ".join(
            f"[bold]{info[k]}[/] {k.replace('_', ' ')}"
            for k in ("problems", "trajectories", "pairs", "datasets", "models", "runs")
        ),
        highlight=False,
    )
    for title, rows in (
        ("problems", info["problems_by_source"]),
        ("trajectories", info["trajectories_by_origin"]),
        ("runs", info["runs_by_state"]),
    ):
        if not rows:
            continue
        table = Table(*rows[0].keys(), title=title, title_justify="left")
        for r in rows:
            table.add_row(*[_cell(v) for v in r.values()])
        c.print(table)
