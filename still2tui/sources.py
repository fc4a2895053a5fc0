"""Row sources for the virtual table: count + one window of rows at a time, straight from DuckDB.

A source gives ``count()`` and ``fetch(offset, limit)`` (one window of rows), and never reads the
long text columns. The trajectories (up to millions) have their own source (trajectory_source.py); the
small listings (problems, pairs, runs) are held in memory.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable

from store import Store
from store.tui_queries import Predicate


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int
    sort: str  # SQL expression to order by ("" : the column cannot be sorted)
    priority: int = 5  # lower = kept longer when the terminal is narrow
    numeric: bool = False
    flex: bool = False  # takes the width left over
    fmt: Callable[[Any], str] | None = field(default=None, compare=False)  # the cell's text (default cell_text)
    help: str = ""  # what the column shows (the column chooser lists it)
    join: str = ""  # the named join its ``sort`` expression reads, for sources that sort in SQL


def short_problem_id(value) -> str:
    """``source:hash`` shortened to the source and 6 characters of the hash (the question says the rest)."""
    text = str(value or "")
    head, sep, tail = text.partition(":")
    return f"{head}:{tail[:6]}" if sep and len(tail) > 6 else text


def answer_cell(value) -> str:
    """An answer in a table cell: LaTeX written as Unicode (``45^\\circ`` -> ``45°``, ``\\frac{1}{2}`` -> ``1/2``)."""
    text = str(value)
    if ("\\" in text or "^" in text) and len(text) < 200 and "\n" not in text:
        from still2tui.latex import math_to_unicode

        return math_to_unicode(text)
    return text


def question_cell(value) -> str:
    """A question in a table cell: its math as Unicode (``$\\frac{1}{2}$`` -> ``1/2``)."""
    from still2tui.latex import to_unicode

    return to_unicode(str(value))


class Source(ABC):
    """What a VirtualTable reads rows from: the whole contract, with defaults (a source that has nothing
    to say about a member keeps the default). Rows are ``(key, *one value per column)``.

    ``count``/``fetch`` take an optional ``query``: the token a slow count was started for (``query``
    below; None for sources whose answers do not change under a running count), so a worker still busy
    with an old filter never answers for the new one.
    """

    columns: list[Column]
    sort_key: str = ""
    descending: bool = False
    query: Any = None  # the current filter+sort as a token handed to the count worker (TrajectorySource: Query)

    @abstractmethod
    def count(self, query: Any = None) -> int:
        """Rows matching the current filter (or `query`'s)."""

    @abstractmethod
    def fetch(self, offset: int, limit: int) -> list[tuple]:
        """Rows offset .. offset+limit in display order."""

    @property
    def slow(self) -> bool:
        """True when counting may take long: the table counts in a worker and shows a spinner."""
        return False

    def first_rows(self, limit: int, query: Any = None) -> list[tuple] | None:
        """The first rows ahead of a slow count, when the source can give them sooner (else None)."""
        return None

    def set_sort(self, key: str, descending: bool) -> None:
        self.sort_key, self.descending = key, descending
        self.invalidate()

    def invalidate(self) -> None:  # noqa: B027 (a default: sources that cache nothing keep it)
        """Forget what was read: the filter, the sort or the store changed."""


@dataclass
class RowsSource(Source):
    """Rows already in memory (``(key, *values)``), shown in their given order."""

    rows: list[tuple]
    columns: list[Column]
    sort_key: str = ""
    descending: bool = False

    def count(self, query: Any = None) -> int:
        return len(self.rows)

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        return self.rows[offset : offset + limit]


@dataclass
class SqlSource(Source):
    """A small read query (problems, pairs, runs...) held in memory and sorted in Python.

    ``sql`` (one of store.tui_queries' listings) names every value it selects: one column named after each
    Column's key, and the row key named ``key`` (the same column when the key is also shown). Rows are
    read by those names, so the query's column order does not matter; a Column the query does not name,
    or a name selected twice, is an error at the first read. ``{where}`` in it is replaced by ``where``
    (a store.tui_queries.Predicate over the query's own aliases).
    """

    store: Store
    sql: str
    columns: list[Column]
    key: str = "id"
    sort_key: str = ""
    descending: bool = False
    where: Predicate = Predicate()
    _rows: list[tuple] | None = None

    def invalidate(self) -> None:
        self._rows = None

    def _read(self) -> list[tuple]:
        """``(key, *one value per column)`` of every row the query gives, picked by column name."""
        with self.store.read() as conn:
            cur = conn.execute(self.sql.format(where=self.where.sql), list(self.where.params))
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"the listing query selects {', '.join(twice)} more than once")
        wanted = [self.key, *(c.key for c in self.columns)]
        missing = [k for k in wanted if k not in names]
        if missing:
            raise ValueError(
                f"the listing query has no column named {', '.join(missing)} (it selects {', '.join(names)}): "
                "alias each value to its Column.key"
            )
        at = [names.index(k) for k in wanted]
        return [tuple(r[i] for i in at) for r in rows]

    def rows(self) -> list[tuple]:
        if self._rows is None:
            rows = self._read()
            keys = [c.key for c in self.columns]
            if self.sort_key in keys:
                i = keys.index(self.sort_key) + 1
                present = sorted(
                    (r for r in rows if r[i] is not None), key=lambda r: (r[i], str(r[0])), reverse=self.descending
                )
                missing = [r for r in rows if r[i] is None]
                rows = present + missing
            self._rows = rows
        return self._rows

    def count(self, query: Any = None) -> int:
        return len(self.rows())

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        return self.rows()[offset : offset + limit]
