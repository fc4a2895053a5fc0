"""SQL typed by a user (`still2 sql`, the TUI's SQL screen): read statements only, on a sandboxed connection.

Two independent walls, so neither alone has to be perfect:

* the statement types are checked with DuckDB's own parser (``extract_statements`` -> ``.type``)
  before anything runs: only :data:`READ_STATEMENTS` pass unless the caller allows writes, and a
  multi-statement text is refused as a whole if any statement is not a read;
* read queries run on :meth:`Connector.sandboxed`: the store attached read-only, external access off,
  configuration locked. COPY TO, EXPORT DATABASE, ATTACH, read_csv('/etc/passwd'), INSTALL/LOAD and SET
  fail inside DuckDB even if the parser check let them through.

``write=True`` (``still2 sql --write``) runs the text as given on the store's write connection.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import duckdb

from store.connection import StoreError
from store.store import Store

READ_STATEMENTS = frozenset(
    {
        duckdb.StatementType.SELECT,  # also DESCRIBE, SHOW, SUMMARIZE, VALUES, FROM-first queries
        duckdb.StatementType.EXPLAIN,
        duckdb.StatementType.PRAGMA,  # table_info, version, database_list; setting pragmas hit the locked config
        duckdb.StatementType.CALL,  # table functions such as pragma_version(); file readers hit the sandbox
    }
)


class SqlRefused(StoreError):
    """The text contains a statement that may not run without --write (or that DuckDB cannot parse)."""


def _kind(statement: Any) -> str:
    return str(statement.type).rsplit(".", 1)[-1]


def read_statements(query: str) -> list[Any]:
    """The parsed statements of ``query``; SqlRefused unless every one is a read."""
    try:
        statements = duckdb.connect().extract_statements(query)
    except duckdb.Error as e:
        raise SqlRefused(str(e).strip().splitlines()[0]) from None
    if not statements:
        raise SqlRefused("no SQL statement given")
    for n, statement in enumerate(statements, start=1):
        if statement.type not in READ_STATEMENTS:
            where = f"statement {n} of {len(statements)}" if len(statements) > 1 else "the statement"
            raise SqlRefused(
                f"{where} is {_kind(statement)}, not a read: the SQL console only reads "
                "(pass --write to `still2 sql` to modify the store)"
            )
    return statements


@dataclass
class QueryResult:
    names: list[str]
    rows: list[tuple]
    more: bool  # rows beyond ``limit`` exist


@contextmanager
def open_query(store: Store, query: str, *, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run ``query`` and yield the connection holding its result (``.description``, ``.fetchmany``).

    Read-only unless ``write``: every statement is checked, then run in order on the sandbox; the
    result is the last statement's. The store lock is held until the block ends.
    """
    if write:
        with store.write() as conn:
            conn.execute(query)
            yield conn
        return
    statements = read_statements(query)
    if not store.exists:
        raise StoreError(f"no store at {store.path}")
    with store.connector.sandboxed() as conn:
        for statement in statements:
            conn.execute(statement)
        yield conn


def run_query(store: Store, query: str, *, write: bool = False, limit: int | None = None) -> QueryResult:
    """Run ``query`` and fetch at most ``limit`` rows (None = all)."""
    with open_query(store, query, write=write) as conn:
        if conn.description is None:
            return QueryResult([], [], False)
        names = [d[0] for d in conn.description]
        if limit is None:
            return QueryResult(names, conn.fetchall(), False)
        rows = conn.fetchmany(limit + 1)
        return QueryResult(names, rows[:limit], len(rows) > limit)
