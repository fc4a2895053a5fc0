"""Bulk writes through Arrow: insert only rows whose key is new, in one statement per table.

Callers build a ``pyarrow.Table`` (or a list of dicts, converted here) with any subset of a
table's columns; missing columns take their defaults, missing ids and lengths are computed in SQL.
Never insert row by row (FINDINGS.md: Arrow ~11x faster than executemany).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

import duckdb
import numpy as np
import pyarrow as pa

from store.ids import IMPORTED_ID_SQL

JSON_COLUMNS = {"meta", "sampling", "args", "progress", "recipe", "metrics", "params", "detail"}

_KEYS = {
    "problem": ("id",),
    "trajectory": ("id",),
    "flag": ("trajectory_id", "rule"),
    "perplexity": ("trajectory_id", "scorer", "part"),
    "pair": ("id",),
    "dataset_member": ("dataset", "member_id"),
    "import_log": ("path", "sha256", "kind"),
    "token_nll": ("trajectory_id", "scorer", "part"),
    "trajectory_metrics": ("trajectory_id",),
    "judge_opinion": ("trajectory_id", "judge_model"),
}


def to_arrow(rows: Sequence[dict[str, Any]] | pa.Table) -> pa.Table:
    """Rows (dicts) to Arrow; dict/list values of JSON columns are serialised."""
    if isinstance(rows, pa.Table):
        return rows
    if not rows:
        return pa.table({})
    columns: dict[str, list] = {}
    for key in rows[0]:
        values = [r.get(key) for r in rows]
        if key in JSON_COLUMNS:
            values = [None if v is None else (v if isinstance(v, str) else json.dumps(v, default=str)) for v in values]
        columns[key] = values
    return pa.table(columns)


def _table_columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM pragma_table_info(?) ORDER BY cid", [table]).fetchall()]


def insert_new(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[dict] | pa.Table,
    computed: dict[str, str] | None = None,
    optional_inputs: Sequence[str] = (),
) -> int:
    """Insert rows whose key is not in ``table`` yet (and the first of duplicate keys); returns rows added.

    ``computed`` maps a column to a SQL expression over the incoming columns, used when the
    incoming data lacks that column; ``optional_inputs`` are columns those expressions read that
    may be absent from the incoming data (they read as NULL).
    """
    data = to_arrow(rows)
    if data.num_rows == 0:
        return 0
    keys = _KEYS[table]
    known = set(_table_columns(conn, table))
    unknown = [c for c in data.column_names if c not in known]
    if unknown:
        raise ValueError(f"unknown column(s) for table {table}: {', '.join(unknown)}")
    select = [f'"{c}"' for c in data.column_names]
    select += [f'NULL AS "{c}"' for c in optional_inputs if c not in data.column_names]
    # The input order decides which duplicate wins and the rows' order in the table: parallel
    # DISTINCT ON alone would make both vary from run to run.
    ordinal = "__ingest_ord"
    data = data.append_column(ordinal, pa.array(np.arange(data.num_rows, dtype=np.int64)))
    name = f"incoming_{table}"
    conn.register(name, data)
    try:
        key_list = ", ".join(f'"{k}"' for k in keys)
        match = " AND ".join(f'e."{k}" = n."{k}"' for k in keys)
        inner = ", ".join(select + [ordinal])
        outer = [f'"{c}"' for c in data.column_names]
        outer += [f'{expr} AS "{c}"' for c, expr in (computed or {}).items() if c not in data.column_names]
        sql = f"""
            INSERT INTO {table} BY NAME
            SELECT * EXCLUDE ({ordinal}) FROM (
                SELECT DISTINCT ON ({key_list}) {", ".join(outer)} FROM (SELECT {inner} FROM {name})
                ORDER BY {key_list}, {ordinal}) n
            WHERE NOT EXISTS (SELECT 1 FROM {table} e WHERE {match})
            ORDER BY {ordinal}
        """
        return conn.execute(sql).fetchall()[0][0]
    finally:
        _unregister(conn, name)


def _unregister(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    try:
        conn.unregister(name)
    except duckdb.Error:
        pass  # the transaction already failed; the caller's rollback discards the view too


TRAJECTORY_COMPUTED = {
    "id": IMPORTED_ID_SQL,
    "n_chars": "length(text)",
    "thought_chars": "length(thought)",
    "solution_chars": "length(solution)",
}


def add_problems(conn: duckdb.DuckDBPyConnection, rows: Sequence[dict] | pa.Table) -> int:
    return insert_new(conn, "problem", rows)


def add_trajectories(conn: duckdb.DuckDBPyConnection, rows: Sequence[dict] | pa.Table) -> int:
    """Insert new trajectories. The search index (store/search_index.py) is caught up separately, by the
    TUI in the background, so bulk ingest keeps DuckDB's speed."""
    return insert_new(conn, "trajectory", rows, TRAJECTORY_COMPUTED, ("model", "thought", "solution"))


def upsert(conn: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict] | pa.Table) -> int:
    """Insert or replace by the table's key (perplexities, flags: a re-run overwrites its own rows)."""
    data = to_arrow(rows)
    if data.num_rows == 0:
        return 0
    keys = _KEYS[table]
    name = f"upsert_{table}"
    conn.register(name, data)
    try:
        match = " AND ".join(f'e."{k}" = n."{k}"' for k in keys)
        conn.execute(f"DELETE FROM {table} e WHERE EXISTS (SELECT 1 FROM {name} n WHERE {match})")
        cols = ", ".join(f'"{c}"' for c in data.column_names)
        return conn.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}").fetchall()[0][0]
    finally:
        _unregister(conn, name)


def iter_batches(items: Iterable[dict], size: int) -> Iterable[list[dict]]:
    batch: list[dict] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
