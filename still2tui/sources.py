"""Row sources for the virtual table: count + one window of rows at a time, straight from DuckDB.

A source never loads a whole result: ``count()`` is one aggregate and ``fetch(offset, limit)`` one
``ORDER BY .. LIMIT .. OFFSET`` over a narrow projection (no long text columns). Past the middle of
the set the order is reversed so DuckDB's top-N never keeps more than half the rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from store import Store
from still2tui.filter_lang import LATEST_PPL, Compiled, compile_filter
from still2tui.search import text_clause


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
    """Trajectories matching a filter, sorted by any column; rows are (id, *column values)."""

    store: Store
    filter: Compiled = field(default_factory=lambda: compile_filter(""))
    sort_key: str = "created"
    descending: bool = False
    columns: list[Column] = field(default_factory=lambda: list(TRAJECTORY_COLUMNS))
    _count: int | None = None

    def set_filter(self, text: str) -> None:
        self.filter = compile_filter(text)
        self._count = None

    def set_sort(self, key: str, descending: bool) -> None:
        self.sort_key, self.descending = key, descending

    def invalidate(self) -> None:
        self._count = None

    @property
    def slow(self) -> bool:
        """Full-text search scans texts: run it off the UI thread."""
        return self.filter.has_text

    def where(self) -> tuple[str, list]:
        clause, params = self.filter.where, list(self.filter.params)
        for word in self.filter.text:
            sql, value = text_clause(word)
            clause += f" AND {sql}"
            params.append(value)
        return clause, params

    def count(self) -> int:
        if self._count is None:
            clause, params = self.where()
            with self.store.read() as conn:
                self._count = conn.execute(f"SELECT count(*) FROM trajectory t WHERE {clause}", params).fetchone()[0]
        return self._count

    def _sort_expr(self) -> str:
        if self.sort_key == "created":
            return "t.created"
        return next(c.sort for c in self.columns if c.key == self.sort_key)

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        clause, params = self.where()
        expr = self._sort_expr()
        joins = " ".join(j for prefix, j in SORT_JOINS.items() if expr.startswith(prefix))
        descending = self.descending
        total = self._count
        reverse = total is not None and offset > total // 2 and not self.filter.has_text
        if reverse:
            end = min(offset + limit, total)
            offset, limit = max(0, total - end), end - offset
            descending = not descending
        direction = "DESC" if descending else "ASC"
        nulls = "NULLS FIRST" if descending else "NULLS LAST"
        sql = f"""
            WITH page AS (
                SELECT t.id, t.problem_id, t.model, t.origin, t.iteration, t.verdict, t.extracted,
                       coalesce(t.n_tokens, t.n_chars) AS len, t.n_tokens IS NULL AS len_is_chars, t.status,
                       {expr} AS _k
                FROM trajectory t {joins}
                WHERE {clause}
                ORDER BY _k {direction} {nulls}, t.id {direction}
                LIMIT ? OFFSET ?)
            SELECT page.id, page.problem_id, p.domain, page.model, page.origin, page.iteration, page.verdict,
                   page.extracted, p.answer, page.len, pp.ppl, fl.flags, page.status, page.len_is_chars
            FROM page
            LEFT JOIN problem p ON p.id = page.problem_id
            LEFT JOIN (SELECT trajectory_id, arg_max(ppl, created) AS ppl FROM perplexity
                       WHERE part = 'full' AND trajectory_id IN (SELECT id FROM page) GROUP BY 1) pp
                   ON pp.trajectory_id = page.id
            LEFT JOIN (SELECT trajectory_id, string_agg(rule, ',' ORDER BY rule) AS flags FROM flag
                       WHERE trajectory_id IN (SELECT id FROM page) GROUP BY 1) fl
                   ON fl.trajectory_id = page.id
            ORDER BY page._k {direction} {nulls}, page.id {direction}"""
        with self.store.read() as conn:
            rows = conn.execute(sql, [*params, limit, offset]).fetchall()
        if reverse:
            rows.reverse()
        return rows


@dataclass
class SqlSource:
    """Any read query shown through the virtual table; rows are (key, *column values)."""

    store: Store
    sql: str  # must select the key first, then one value per column, and may use {where}
    columns: list[Column]
    params: list[Any] = field(default_factory=list)
    sort_key: str = ""
    descending: bool = False
    where_sql: str = "TRUE"
    _count: int | None = None

    def __post_init__(self) -> None:
        self.sort_key = self.sort_key or self.columns[0].key

    slow = False

    def set_sort(self, key: str, descending: bool) -> None:
        self.sort_key, self.descending = key, descending

    def invalidate(self) -> None:
        self._count = None

    def _query(self) -> str:
        return self.sql.format(where=self.where_sql)

    def count(self) -> int:
        if self._count is None:
            with self.store.read() as conn:
                self._count = conn.execute(f"SELECT count(*) FROM ({self._query()})", self.params).fetchone()[0]
        return self._count

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        expr = next(c.sort for c in self.columns if c.key == self.sort_key)
        direction = "DESC NULLS FIRST" if self.descending else "ASC NULLS LAST"
        with self.store.read() as conn:
            cur = conn.execute(f"SELECT * FROM ({self._query()}) q ORDER BY {expr} {direction}, 1 LIMIT ? OFFSET ?",
                               [*self.params, limit, offset])
            return cur.fetchall()
