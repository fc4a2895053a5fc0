"""The trajectories table's row source: up to millions of rows filtered, sorted and paged.

Each filter and sort the user sets becomes one TrajectoryQuery, whose class is the strategy that answers
it, chosen once (``plan``): IndexQuery from the app's in-memory TrajectoryIndex once it is loaded
(table_index.py); StoreQuery from the store before that, or for filters the index cannot express; PlainQuery
(``count(*)`` and ``LIMIT``) for the unfiltered, unsorted table before the index is loaded. A query keeps
what it has worked out (positions, rowids, search candidates), so a count worker still busy with an old
query fills only that one. Never reads the long text columns.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from still2tui.filter_fields import slow_on_store, to_index, to_store
from still2tui.filter_lang import Filter, parse_filter
from still2tui.search import first_positions, text_clause, text_positions, word_candidates
from still2tui.sources import Column, Source, answer_cell, question_cell, short_problem_id
from still2tui.table_index import TrajectoryIndex
from store import Store
from store import tui_queries as q
from store.search_index import intersect_sorted
from store.tui_queries import Predicate

# The trajectories table's columns. A column's key names its value in the in-memory index
# (table_index.DISPLAY_COLUMNS / DERIVED_COLUMNS) and on the store path (store.tui_queries.trajectory_rows);
# its ``join`` names the store.tui_queries.TRAJECTORY_JOINS entry its sort expression reads. Adding a
# column is one entry here and one there.
TRAJECTORY_COLUMNS = [
    Column(
        "problem_id",
        "problem",
        13,
        "t.problem_id",
        4,
        fmt=short_problem_id,
        help="problem id, shortened to source:hash",
    ),
    Column(
        "question", "question", 16, "", 2, flex=True, fmt=question_cell, help="the problem's question (first words)"
    ),
    Column("domain", "domain", 7, "p.domain", 7, join="problem"),
    Column("model", "model", 14, "t.model", 4),
    Column("origin", "origin", 7, "t.origin", 6, help="explore / distill / eval / import"),
    Column("iteration", "it", 2, "t.iteration", 7, numeric=True, help="self-improvement iteration"),
    Column("sample_index", "#", 3, "t.sample_index", 8, numeric=True, help="sample index among the rollouts"),
    Column("verdict", "verdict", 9, "t.verdict", 1),
    Column("extracted", "answer", 8, "t.extracted", 2, fmt=answer_cell, help="the extracted final answer"),
    Column("gold", "gold", 8, "p.answer", 2, fmt=answer_cell, help="the gold answer", join="problem"),
    Column(
        "n_tokens", "tokens", 6, "t.n_tokens", 5, numeric=True, help="token count (known for generated or scored rows)"
    ),
    Column("n_chars", "chars", 7, "t.n_chars", 3, numeric=True, help="length in characters"),
    Column("ppl", "ppl", 5, "pp.ppl", 4, numeric=True, help="latest perplexity of the full response", join="ppl"),
    Column("flags", "flags", 14, "fl.flags", 3, help="filter flags (the ones the filter asks for first)", join="flags"),
    # still2 metrics: thought tokens after the first correct answer, re-check phrases
    Column(
        "after_tokens",
        "after✓",
        7,
        "tm.tokens_after_correct",
        7,
        numeric=True,
        help="thought tokens after the first correct answer (still2 metrics)",
        join="metrics",
    ),
    Column(
        "rechecks", "rechk", 5, "tm.rechecks", 7, numeric=True, help="re-check phrases (still2 metrics)", join="metrics"
    ),
    Column("finish_reason", "finish", 6, "t.finish_reason", 6, help="why generation stopped (stop / length)"),
    Column("tags", "tags/notes", 10, "", 5, help="tags, then ✎n for n notes"),
    Column("status", "status", 8, "t.status", 1),
]


@dataclass
class TrajectoryQuery(ABC):
    """One filter and sort of the trajectories table, answered by the strategy its class is. Rows are
    ``(id, *one value per name in names)``."""

    filter: Filter
    sort: Column | None  # the sorted column (None: insertion order)
    descending: bool
    names: tuple[str, ...]
    store: Store
    search_store: Store

    uses_index = False

    @property
    def sort_key(self) -> str:
        return self.sort.key if self.sort else ""

    @property
    def slow(self) -> bool:
        """True when counting may take long: the table counts in a worker and shows a spinner."""
        return False

    @abstractmethod
    def count(self) -> int:
        """How many trajectories match."""

    @abstractmethod
    def fetch(self, offset: int, limit: int) -> list[tuple]:
        """Rows offset .. offset+limit in display order."""

    def first_rows(self, limit: int) -> list[tuple] | None:
        """The first rows ahead of a slow count, when they come sooner (None: count first)."""
        return None

    def counts(self) -> tuple[int, int, int, int] | None:
        """(all trajectories, correct, approved, rejected) of the matches, when known without the store."""
        return None

    def predicate(self) -> Predicate:
        """The filter as a condition on the store, search words included."""
        predicate = to_store(self.filter)
        for word in self.filter.words:
            predicate = predicate.also(*text_clause(word))
        return predicate


@dataclass
class IndexQuery(TrajectoryQuery):
    """From the in-memory index: the ordered positions of the matches (a numpy array) come from memory and
    a window of rows is one lookup of its positions. A search has text to read: ``slow``, and when it has
    many rows' text to read it gives its first rows before its count."""

    index: TrajectoryIndex = None
    clauses: tuple = ()  # filter_fields.to_index(filter)
    view: np.ndarray | None = None  # positions of the matches in display order
    found: dict | None = None  # search word -> its token-index candidates (store.search_index.Candidates)
    matches: np.ndarray | None = None  # positions matching the terms (not the search words)

    uses_index = True

    @property
    def slow(self) -> bool:
        return self.filter.has_text

    def positions(self) -> np.ndarray:
        """Index positions of the matching rows in display order (once per query)."""
        if self.view is None:
            matches = self._filtered()
            found = self._candidates()
            for word in self.filter.words:
                matches = intersect_sorted(matches, text_positions(self.search_store, self.index, word, found[word]))
            self.view = self.index.view(matches, self.sort_key, self.descending)
        return self.view

    def _filtered(self) -> np.ndarray:
        if self.matches is None:
            self.matches = self.index.filter(self.clauses)
        return self.matches

    def _candidates(self) -> dict:
        """The token-index candidates of each search word, once per query."""
        if self.found is None:
            # never opens the search store for no words: positions() runs on the UI thread then, and a
            # search-index catch-up may hold that store while it waits for the UI thread to hand its read
            # connection back
            self.found = word_candidates(self.search_store, list(self.filter.words)) if self.filter.words else {}
        return self.found

    def count(self) -> int:
        return len(self.positions())

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        return self.index.rows(self.positions()[offset : offset + limit], self.names)

    def first_rows(self, limit: int) -> list[tuple] | None:
        """The first ``limit`` rows of a search, found before its count; when they are all the matches,
        the view is known too."""
        if not self.filter.has_text or self.view is not None:
            return None
        first = first_positions(
            self.search_store,
            self.index,
            list(self.filter.words),
            self._candidates(),
            self._filtered,
            self.sort_key,
            self.descending,
            limit,
        )
        if first is None:
            return None
        positions, complete = first
        if complete:
            self.view = positions
        return self.index.rows(positions, self.names)

    def counts(self) -> tuple[int, int, int, int] | None:
        return self.index.counts(self.positions())


@dataclass
class StoreQuery(TrajectoryQuery):
    """From the store: one query for the ordered ``rowid`` list of the matches, then each window's rows by
    rowid. Search words and perplexity / metric terms or sorts read more than ``trajectory``: ``slow``."""

    rowids: np.ndarray | None = None

    @property
    def slow(self) -> bool:
        return (
            self.filter.has_text
            or slow_on_store(self.filter)
            or (self.sort is not None and self.sort.join in q.DERIVED_JOINS)
        )

    def all_rowids(self) -> np.ndarray:
        """The rowids of the matches in display order (once per query)."""
        if self.rowids is None:
            order = None
            if self.sort is not None:
                order = q.TrajectoryOrder(self.sort.sort, self.sort.join, self.descending)
            with self.store.read() as conn:
                self.rowids = q.matching_rowids(conn, self.predicate(), order)
        return self.rowids

    def count(self) -> int:
        return len(self.all_rowids())

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        return store_rows(self.store, [int(r) for r in self.all_rowids()[offset : offset + limit]], self.names)


@dataclass
class PlainQuery(TrajectoryQuery):
    """The whole table in insertion order, from the store: ``count(*)`` and ``LIMIT``/``OFFSET``."""

    def count(self) -> int:
        with self.store.read() as conn:
            return q.trajectory_count(conn)

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        with self.store.read() as conn:
            wanted = q.rowids_page(conn, limit, offset)
        return store_rows(self.store, wanted, self.names)


def plan(
    flt: Filter,
    sort: Column | None,
    descending: bool,
    names: tuple[str, ...],
    store: Store,
    search_store: Store,
    index: TrajectoryIndex | None,
) -> TrajectoryQuery:
    """The strategy for one filter and sort: the index when it is loaded and can express every term; else
    the store (plainly, when there is nothing to filter or sort)."""
    common = dict(filter=flt, sort=sort, descending=descending, names=names, store=store, search_store=search_store)
    clauses = to_index(flt) if index is not None and index.ready else None
    if clauses is not None:
        return IndexQuery(**common, index=index, clauses=clauses)
    if flt.is_empty and sort is None:
        return PlainQuery(**common)
    return StoreQuery(**common)


@dataclass
class TrajectorySource(Source):
    """Trajectories matching a filter, sorted by any column; rows are (id, *column values). Every change
    of filter or sort (or ``invalidate``: the store changed, the index loaded) plans a new ``query``; the
    members of the Source contract answer from it (or from the query a count worker was started for)."""

    store: Store
    filter: Filter = field(default_factory=Filter)
    sort_key: str = ""
    descending: bool = False
    columns: list[Column] = field(default_factory=lambda: list(TRAJECTORY_COLUMNS))
    index: TrajectoryIndex | None = None
    search_store: Store | None = None  # searches run in worker threads: a store of their own
    query: TrajectoryQuery = field(init=False)

    def __post_init__(self) -> None:
        self.invalidate()

    def set_filter(self, text: str) -> None:
        self.filter = parse_filter(text, known=self.known_values)
        self.invalidate()

    def known_values(self, field: str) -> list | None:
        """The values a filter field has in the store (from the index; None when it cannot say)."""
        if self.index is None or not self.index.ready:
            return None
        return self.index.known_values(field)

    def invalidate(self) -> None:
        sort = next((c for c in self.columns if c.key == self.sort_key and c.sort), None)
        self.query = plan(
            self.filter,
            sort,
            self.descending,
            self.row_names,
            self.store,
            self.search_store or self.store,
            self.index,
        )

    @property
    def row_names(self) -> tuple[str, ...]:
        """The values of a row: the id, then one per column."""
        return ("id", *(c.key for c in self.columns))

    @property
    def uses_index(self) -> bool:
        return self.query.uses_index

    @property
    def slow(self) -> bool:
        return self.query.slow

    def count(self, query: TrajectoryQuery | None = None) -> int:
        return (query or self.query).count()

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        return self.query.fetch(offset, limit)

    def first_rows(self, limit: int, query: TrajectoryQuery | None = None) -> list[tuple] | None:
        return (query or self.query).first_rows(limit)

    def counts(self) -> tuple[int, int, int, int] | None:
        """(all trajectories, correct, approved, rejected) of the matches, when the index answers."""
        return self.query.counts()

    def where(self) -> Predicate:
        """The current filter as a condition on the store, search words included."""
        return self.query.predicate()


def store_rows(store: Store, wanted: list[int], names: tuple[str, ...]) -> list[tuple]:
    """Display rows of the given rowids read from the store (before the index is loaded), in that order."""
    with store.read() as conn:
        by_rowid = q.trajectory_rows(conn, wanted)
    return [tuple(by_rowid[r].get(n) for n in names) for r in wanted if r in by_rowid]
