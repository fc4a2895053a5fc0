"""Row sources for the virtual table: count + one window of rows at a time, straight from DuckDB.

A source gives ``count()`` and ``fetch(offset, limit)`` (one window of rows), and never reads the
long text columns. Trajectories (up to millions) are filtered, sorted and paged from the app's
in-memory TrajectoryIndex once it is loaded (table_index.py); before that (or for filters it cannot
express) from the store, with a plain ``LIMIT`` for the unfiltered first page. The small listings
(problems, pairs, runs) are held in memory.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from store import Store
from store.search_index import intersect_sorted
from still2tui.filter_lang import LATEST_PPL, Compiled, compile_filter
from still2tui.search import first_positions, text_clause, text_positions, word_candidates
from still2tui.table_index import TrajectoryIndex


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int
    sort: str  # SQL expression to order by
    priority: int = 5  # lower = kept longer when the terminal is narrow
    numeric: bool = False
    flex: bool = False  # takes the width left over


class Source(Protocol):
    columns: list[Column]
    sort_key: str
    descending: bool

    def count(self) -> int: ...
    def fetch(self, offset: int, limit: int) -> list[tuple]: ...


TRAJECTORY_COLUMNS = [
    Column("problem_id", "problem", 16, "t.problem_id", 1, flex=True),
    Column("domain", "domain", 7, "p.domain", 6),
    Column("model", "model", 14, "t.model", 4),
    Column("origin", "origin", 7, "t.origin", 5),
    Column("iteration", "it", 3, "t.iteration", 7, numeric=True),
    Column("verdict", "verdict", 9, "t.verdict", 1),
    Column("extracted", "answer", 9, "t.extracted", 3),
    Column("gold", "gold", 8, "p.answer", 3),
    Column("len", "len", 7, "coalesce(t.n_tokens, t.n_chars)", 2, numeric=True),
    Column("ppl", "ppl", 6, "pp.ppl", 2, numeric=True),
    Column("flags", "flags", 10, "fl.flags", 4),
    Column("status", "status", 8, "t.status", 1),
]
SORT_JOINS = {
    "p.": "LEFT JOIN problem p ON p.id = t.problem_id",
    "pp.": f"LEFT JOIN {LATEST_PPL.format(part='full')} pp ON pp.trajectory_id = t.id",
    "fl.": ("LEFT JOIN (SELECT trajectory_id, string_agg(rule, ',' ORDER BY rule) AS flags FROM flag "
            "GROUP BY trajectory_id) fl ON fl.trajectory_id = t.id"),
}


@dataclass
class TrajectorySource:
    """Trajectories matching a filter, sorted by any column; rows are (id, *column values, len_is_chars).

    With a ready ``index``: the ordered positions of the matches (a numpy array) come from memory and a
    window of rows is one lookup of ``BLOCK`` positions. Without it: one store query for the ordered
    ``rowid`` list (or, unfiltered and unsorted, ``count(*)`` and ``LIMIT``/``OFFSET``). Full-text
    search, and store-side perplexity filters/sorts, are ``slow``: the table counts them in a worker; a
    search that has many rows' text to read gives its first rows before its count (``first_rows``).
    """

    store: Store
    filter: Compiled = field(default_factory=lambda: compile_filter(""))
    sort_key: str = ""
    descending: bool = False
    columns: list[Column] = field(default_factory=lambda: list(TRAJECTORY_COLUMNS))
    index: TrajectoryIndex | None = None
    search_store: Store | None = None  # searches run in worker threads: a store of their own
    _rowids: np.ndarray | None = None
    _view: np.ndarray | None = None
    _found: dict | None = None  # search word -> its token-index candidates (store.search_index.Candidates)
    _matches: np.ndarray | None = None  # positions matching the other terms of the filter

    def set_filter(self, text: str) -> None:
        self.filter = compile_filter(text)
        self.invalidate()

    def set_sort(self, key: str, descending: bool) -> None:
        self.sort_key, self.descending = key, descending
        self.invalidate()

    def invalidate(self) -> None:
        self._rowids = None
        self._view = None
        self._found = None
        self._matches = None

    def _sort_expr(self) -> str | None:
        return next((c.sort for c in self.columns if c.key == self.sort_key), None)

    @property
    def uses_index(self) -> bool:
        return self.index is not None and self.index.ready and self.filter.index_where is not None

    @property
    def _plain(self) -> bool:
        """Unfiltered, unsorted, from the store: count(*) and LIMIT answer it at once."""
        return not self.uses_index and self.filter.where == "TRUE" and not self.filter.has_text \
            and self._sort_expr() is None

    @property
    def slow(self) -> bool:
        if self.uses_index:
            return self.filter.has_text
        if self._plain:
            return False
        expr = self._sort_expr() or ""
        return self.filter.has_text or "perplexity" in self.filter.where or expr.startswith(("pp.", "fl."))

    def view(self) -> np.ndarray:
        """Index positions of the matching rows in display order (index path only)."""
        if self._view is None:
            matches = self._filtered()
            found = self._candidates()
            for word in self.filter.text:
                matches = intersect_sorted(matches, text_positions(self._search_store, self.index, word, found[word]))
            self._view = self.index.view(matches, self.sort_key, self.descending)
        return self._view

    @property
    def _search_store(self) -> Store:
        return self.search_store or self.store

    def _filtered(self) -> np.ndarray:
        """Positions matching the filter's terms other than the search words (once per filter and reload)."""
        if self._matches is None:
            self._matches = self.index.filter(self.filter.index_clauses)
        return self._matches

    def _candidates(self) -> dict:
        """The token-index candidates of each search word, once per filter and reload."""
        if self._found is None:
            # never opens the search store for no words: view() runs on the UI thread then, and a search-index
            # catch-up may hold that store while it waits for the UI thread to hand its read connection back
            self._found = word_candidates(self._search_store, self.filter.text) if self.filter.text else {}
        return self._found

    def first_rows(self, limit: int) -> list[tuple] | None:
        """The first ``limit`` rows of a text search whose count takes long, found before it (None: count
        first, it is as quick). When they are all the matches, the view is known too."""
        if not (self.uses_index and self.filter.has_text) or self._view is not None:
            return None
        first = first_positions(self._search_store, self.index, self.filter.text, self._candidates(), self._filtered,
                                self.sort_key, self.descending, limit)
        if first is None:
            return None
        positions, complete = first
        if complete:
            self._view = positions
        return self.index.rows(positions)

    def counts(self) -> tuple[int, int, int, int] | None:
        """(all trajectories, correct, approved, rejected) of the matches, when the index answers."""
        return self.index.counts(self.view()) if self.uses_index else None

    def where(self) -> tuple[str, list]:
        clause, params = self.filter.where, list(self.filter.params)
        for word in self.filter.text:
            sql, value = text_clause(word)
            clause += f" AND {sql}"
            params.append(value)
        return clause, params

    def index_sql(self) -> tuple[str, list]:
        clause, params = self.where()
        expr = self._sort_expr()
        if expr is None:  # insertion order, which DuckDB preserves without a sort
            return f"SELECT t.rowid AS r FROM trajectory t WHERE {clause}", params
        joins = " ".join(j for prefix, j in SORT_JOINS.items() if expr.startswith(prefix))
        direction = "DESC NULLS FIRST" if self.descending else "ASC NULLS LAST"
        return (f"SELECT t.rowid AS r FROM trajectory t {joins} WHERE {clause} "
                f"ORDER BY {expr} {direction}, t.rowid", params)

    def rowids(self) -> np.ndarray:
        if self._rowids is None:
            sql, params = self.index_sql()
            with self.store.read() as conn:
                self._rowids = conn.execute(sql, params).fetchnumpy()["r"]
        return self._rowids

    def count(self) -> int:
        if self.uses_index:
            return len(self.view())
        if self._plain:
            with self.store.read() as conn:
                return conn.execute("SELECT count(*) FROM trajectory").fetchone()[0]
        return len(self.rowids())

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        if self.uses_index:
            return self.index.rows(self.view()[offset:offset + limit])
        if self._plain:
            with self.store.read() as conn:
                wanted = [r[0] for r in conn.execute("SELECT rowid FROM trajectory ORDER BY rowid LIMIT ? OFFSET ?",
                                                     [limit, offset]).fetchall()]
        else:
            wanted = [int(r) for r in self.rowids()[offset:offset + limit]]
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        with self.store.read() as conn:
            rows = conn.execute(f"""
                SELECT t.rowid, t.id, t.problem_id, t.model, t.origin, t.iteration, t.verdict, t.extracted,
                       coalesce(t.n_tokens, t.n_chars), t.status, t.n_tokens IS NULL
                FROM trajectory t WHERE t.rowid IN ({marks})""", wanted).fetchall()
            ids = [r[1] for r in rows]
            pids = sorted({r[2] for r in rows})
            id_marks = ",".join("?" * len(ids))
            problems = dict(conn.execute(
                f"SELECT id, (domain, answer) FROM problem WHERE id IN ({','.join('?' * len(pids))})", pids).fetchall())
            ppl = dict(conn.execute(
                f"""SELECT trajectory_id, arg_max(ppl, created) FROM perplexity
                    WHERE part = 'full' AND trajectory_id IN ({id_marks}) GROUP BY 1""", ids).fetchall())
            flags = dict(conn.execute(
                f"""SELECT trajectory_id, string_agg(rule, ',' ORDER BY rule) FROM flag
                    WHERE trajectory_id IN ({id_marks}) GROUP BY 1""", ids).fetchall())
        by_rowid = {}
        for rid, tid, pid, model, origin, it, verdict, extracted, length, status, is_chars in rows:
            domain, gold = problems.get(pid) or (None, None)
            by_rowid[rid] = (tid, pid, domain, model, origin, it, verdict, extracted, gold, length,
                             ppl.get(tid), flags.get(tid), status, is_chars)
        return [by_rowid[r] for r in wanted if r in by_rowid]


@dataclass
class RowsSource:
    """Rows already in memory (``(key, *values)``), shown in their given order."""

    rows: list[tuple]
    columns: list[Column]
    sort_key: str = ""
    descending: bool = False

    slow = False

    def set_sort(self, key: str, descending: bool) -> None:
        self.sort_key, self.descending = key, descending

    def invalidate(self) -> None:
        pass

    def count(self) -> int:
        return len(self.rows)

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        return self.rows[offset:offset + limit]


@dataclass
class SqlSource:
    """A small read query (problems, pairs, runs...) held in memory and sorted in Python.

    ``sql`` selects the row key first and then one value per column; ``{where}`` in it is replaced by
    ``where_sql`` (parameters in ``params``).
    """

    store: Store
    sql: str
    columns: list[Column]
    params: list[Any] = field(default_factory=list)
    sort_key: str = ""
    descending: bool = False
    where_sql: str = "TRUE"
    _rows: list[tuple] | None = None

    slow = False

    def set_sort(self, key: str, descending: bool) -> None:
        self.sort_key, self.descending = key, descending
        self._rows = None

    def invalidate(self) -> None:
        self._rows = None

    def rows(self) -> list[tuple]:
        if self._rows is None:
            with self.store.read() as conn:
                rows = conn.execute(self.sql.format(where=self.where_sql), self.params).fetchall()
            keys = [c.key for c in self.columns]
            if self.sort_key in keys:
                i = keys.index(self.sort_key) + 1
                present = sorted((r for r in rows if r[i] is not None), key=lambda r: (r[i], str(r[0])),
                                 reverse=self.descending)
                missing = [r for r in rows if r[i] is None]
                rows = present + missing
            self._rows = rows
        return self._rows

    def count(self) -> int:
        return len(self.rows())

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        return self.rows()[offset:offset + limit]
