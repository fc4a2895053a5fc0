"""The trajectories table's row source: up to millions of rows filtered, sorted and paged.

Trajectories are filtered, sorted and paged from the app's in-memory TrajectoryIndex once it is loaded
(table_index.py); before that (or for filters it cannot express) from the store, with a plain ``LIMIT``
for the unfiltered first page. Never reads the long text columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from still2tui.filter_lang import LATEST_PPL, Compiled, compile_filter
from still2tui.search import first_positions, text_clause, text_positions, word_candidates
from still2tui.sources import Column, Source, answer_cell, question_cell, short_problem_id
from still2tui.table_index import TrajectoryIndex
from store import Store
from store.search_index import intersect_sorted
from store.tui_queries import Predicate

# The trajectories table's columns. A column's key names its value in the in-memory index
# (table_index.DISPLAY_COLUMNS / DERIVED_COLUMNS) and in TrajectorySource's store path (STORE_VALUES or
# the lookups in ``_store_rows``); adding a column is one entry here and one there.
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
    Column("domain", "domain", 7, "p.domain", 7),
    Column("model", "model", 14, "t.model", 4),
    Column("origin", "origin", 7, "t.origin", 6, help="explore / distill / eval / import"),
    Column("iteration", "it", 2, "t.iteration", 7, numeric=True, help="self-improvement iteration"),
    Column("sample_index", "#", 3, "t.sample_index", 8, numeric=True, help="sample index among the rollouts"),
    Column("verdict", "verdict", 9, "t.verdict", 1),
    Column("extracted", "answer", 8, "t.extracted", 2, fmt=answer_cell, help="the extracted final answer"),
    Column("gold", "gold", 8, "p.answer", 2, fmt=answer_cell, help="the gold answer"),
    Column(
        "n_tokens", "tokens", 6, "t.n_tokens", 5, numeric=True, help="token count (known for generated or scored rows)"
    ),
    Column("n_chars", "chars", 7, "t.n_chars", 3, numeric=True, help="length in characters"),
    Column("ppl", "ppl", 5, "pp.ppl", 4, numeric=True, help="latest perplexity of the full response"),
    Column("flags", "flags", 14, "fl.flags", 3, help="filter flags (the ones the filter asks for first)"),
    # still2 metrics: thought tokens after the first correct answer, re-check phrases
    Column(
        "after_tokens",
        "after✓",
        7,
        "tm.tokens_after_correct",
        7,
        numeric=True,
        help="thought tokens after the first correct answer (still2 metrics)",
    ),
    Column("rechecks", "rechk", 5, "tm.rechecks", 7, numeric=True, help="re-check phrases (still2 metrics)"),
    Column("finish_reason", "finish", 6, "t.finish_reason", 6, help="why generation stopped (stop / length)"),
    Column("tags", "tags/notes", 10, "", 5, help="tags, then ✎n for n notes"),
    Column("status", "status", 8, "t.status", 1),
]
# store path: trajectory columns read as they are (the others come from the problem, perplexity, flag,
# tag and note tables)
STORE_VALUES = (
    "problem_id",
    "model",
    "origin",
    "iteration",
    "sample_index",
    "verdict",
    "extracted",
    "n_tokens",
    "n_chars",
    "finish_reason",
    "status",
)
SORT_JOINS = {
    "p.": "LEFT JOIN problem p ON p.id = t.problem_id",
    "pp.": f"LEFT JOIN {LATEST_PPL.format(part='full')} pp ON pp.trajectory_id = t.id",
    "fl.": (
        "LEFT JOIN (SELECT trajectory_id, string_agg(rule, ',' ORDER BY rule) AS flags FROM flag "
        "GROUP BY trajectory_id) fl ON fl.trajectory_id = t.id"
    ),
    "tm.": "LEFT JOIN trajectory_metrics tm ON tm.trajectory_id = t.id",
}


@dataclass
class Query:
    """One filter and sort of a TrajectorySource, and what has been worked out for it so far.

    ``invalidate`` starts a new Query instead of clearing this one, and the table's count worker is
    given the Query it was started for: a worker still busy with an old filter (threads cannot be
    stopped) fills only that Query, never the new one's caches.
    """

    filter: Compiled
    sort_key: str
    descending: bool
    rowids: np.ndarray | None = None
    view: np.ndarray | None = None
    found: dict | None = None  # search word -> its token-index candidates (store.search_index.Candidates)
    matches: np.ndarray | None = None  # positions matching the other terms of the filter


@dataclass
class TrajectorySource(Source):
    """Trajectories matching a filter, sorted by any column; rows are (id, *column values).

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
    query: Query = field(init=False)

    def __post_init__(self) -> None:
        self.invalidate()

    def set_filter(self, text: str) -> None:
        self.filter = compile_filter(text, known=self.known_values)
        self.invalidate()

    def known_values(self, field: str) -> list | None:
        """The values a filter field has in the store (from the index; None when it cannot say)."""
        if self.index is None or not self.index.ready:
            return None
        return self.index.known_values(field)

    def invalidate(self) -> None:
        self.query = Query(self.filter, self.sort_key, self.descending)

    def _sort_expr(self, q: Query) -> str | None:
        return next((c.sort for c in self.columns if c.key == q.sort_key), None) or None

    def _uses_index(self, q: Query) -> bool:
        return self.index is not None and self.index.ready and q.filter.index_where is not None

    def _is_plain(self, q: Query) -> bool:
        """Unfiltered, unsorted, from the store: count(*) and LIMIT answer it at once."""
        return (
            not self._uses_index(q)
            and q.filter.where == "TRUE"
            and not q.filter.has_text
            and self._sort_expr(q) is None
        )

    @property
    def uses_index(self) -> bool:
        return self._uses_index(self.query)

    @property
    def slow(self) -> bool:
        q = self.query
        if self._uses_index(q):
            return q.filter.has_text
        if self._is_plain(q):
            return False
        expr = self._sort_expr(q) or ""
        return (
            q.filter.has_text
            or "perplexity" in q.filter.where
            or "trajectory_metrics" in q.filter.where
            or expr.startswith(("pp.", "fl.", "tm."))
        )

    def view(self, q: Query) -> np.ndarray:
        """Index positions of the matching rows in display order (index path only)."""
        if q.view is None:
            matches = self._filtered(q)
            found = self._candidates(q)
            for word in q.filter.text:
                matches = intersect_sorted(matches, text_positions(self._search_store, self.index, word, found[word]))
            q.view = self.index.view(matches, q.sort_key, q.descending)
        return q.view

    @property
    def _search_store(self) -> Store:
        return self.search_store or self.store

    def _filtered(self, q: Query) -> np.ndarray:
        """Positions matching the filter's terms other than the search words (once per query)."""
        if q.matches is None:
            q.matches = self.index.filter(q.filter.index_clauses)
        return q.matches

    def _candidates(self, q: Query) -> dict:
        """The token-index candidates of each search word, once per query."""
        if q.found is None:
            # never opens the search store for no words: view() runs on the UI thread then, and a search-index
            # catch-up may hold that store while it waits for the UI thread to hand its read connection back
            q.found = word_candidates(self._search_store, q.filter.text) if q.filter.text else {}
        return q.found

    def first_rows(self, limit: int, q: Query | None = None) -> list[tuple] | None:
        """The first ``limit`` rows of a text search whose count takes long, found before it (None: count
        first, it is as quick). When they are all the matches, the view is known too. ``q``: the query
        (default: the current one); a worker passes the one it was started for."""
        q = q or self.query
        if not (self._uses_index(q) and q.filter.has_text) or q.view is not None:
            return None
        first = first_positions(
            self._search_store,
            self.index,
            q.filter.text,
            self._candidates(q),
            lambda: self._filtered(q),
            q.sort_key,
            q.descending,
            limit,
        )
        if first is None:
            return None
        positions, complete = first
        if complete:
            q.view = positions
        return self.index.rows(positions, self.row_names)

    def counts(self) -> tuple[int, int, int, int] | None:
        """(all trajectories, correct, approved, rejected) of the matches, when the index answers."""
        q = self.query
        return self.index.counts(self.view(q)) if self._uses_index(q) else None

    def where(self, q: Query | None = None) -> Predicate:
        """The current filter (or ``q``'s) as a condition on the store, search words included."""
        q = q or self.query
        predicate = Predicate(q.filter.where, tuple(q.filter.params))
        for word in q.filter.text:
            predicate = predicate.also(*text_clause(word))
        return predicate

    def index_sql(self, q: Query) -> tuple[str, list]:
        clause, params = self.where(q)
        params = list(params)
        expr = self._sort_expr(q)
        if expr is None:  # insertion order, which DuckDB preserves without a sort
            return f"SELECT t.rowid AS r FROM trajectory t WHERE {clause}", params
        joins = " ".join(j for prefix, j in SORT_JOINS.items() if expr.startswith(prefix))
        direction = "DESC NULLS FIRST" if q.descending else "ASC NULLS LAST"
        return (
            f"SELECT t.rowid AS r FROM trajectory t {joins} WHERE {clause} ORDER BY {expr} {direction}, t.rowid",
            params,
        )

    def rowids(self, q: Query) -> np.ndarray:
        if q.rowids is None:
            sql, params = self.index_sql(q)
            with self.store.read() as conn:
                q.rowids = conn.execute(sql, params).fetchnumpy()["r"]
        return q.rowids

    def count(self, q: Query | None = None) -> int:
        q = q or self.query
        if self._uses_index(q):
            return len(self.view(q))
        if self._is_plain(q):
            with self.store.read() as conn:
                return conn.execute("SELECT count(*) FROM trajectory").fetchone()[0]
        return len(self.rowids(q))

    @property
    def row_names(self) -> tuple[str, ...]:
        """The values of a row: the id, then one per column."""
        return ("id", *(c.key for c in self.columns))

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        q = self.query
        names = self.row_names
        if self._uses_index(q):
            return self.index.rows(self.view(q)[offset : offset + limit], names)
        if self._is_plain(q):
            with self.store.read() as conn:
                wanted = [
                    r[0]
                    for r in conn.execute(
                        "SELECT rowid FROM trajectory ORDER BY rowid LIMIT ? OFFSET ?", [limit, offset]
                    ).fetchall()
                ]
        else:
            wanted = [int(r) for r in self.rowids(q)[offset : offset + limit]]
        return self._store_rows(wanted, names) if wanted else []

    def _store_rows(self, wanted: list[int], names: tuple[str, ...]) -> list[tuple]:
        """Display rows of the given rowids read from the store (before the index is loaded)."""
        marks = ",".join("?" * len(wanted))
        with self.store.read() as conn:
            cur = conn.execute(
                f"SELECT t.rowid, t.id, {', '.join('t.' + n for n in STORE_VALUES)} "
                f"FROM trajectory t WHERE t.rowid IN ({marks})",
                wanted,
            )
            rows = [dict(zip(["rid", "id", *STORE_VALUES], r)) for r in cur.fetchall()]
            ids = [r["id"] for r in rows]
            pids = sorted({r["problem_id"] for r in rows})
            id_marks = ",".join("?" * len(ids))
            problems = {
                pid: (domain, gold, question)
                for pid, domain, gold, question in conn.execute(
                    f"""SELECT id, domain, answer, left(regexp_replace(question, '\\s+', ' ', 'g'), 240) FROM problem
                    WHERE id IN ({",".join("?" * len(pids))})""",
                    pids,
                ).fetchall()
            }
            ppl = dict(
                conn.execute(
                    f"""SELECT trajectory_id, arg_max(ppl, created) FROM perplexity
                    WHERE part = 'full' AND trajectory_id IN ({id_marks}) GROUP BY 1""",
                    ids,
                ).fetchall()
            )
            flags = dict(
                conn.execute(
                    f"""SELECT trajectory_id, string_agg(rule, ',' ORDER BY rule) FROM flag
                    WHERE trajectory_id IN ({id_marks}) GROUP BY 1""",
                    ids,
                ).fetchall()
            )
            metrics = {
                r[0]: r[1:]
                for r in conn.execute(
                    f"""SELECT trajectory_id, tokens_after_correct, rechecks FROM trajectory_metrics
                    WHERE trajectory_id IN ({id_marks})""",
                    ids,
                ).fetchall()
            }
            tags = dict(
                conn.execute(
                    f"""SELECT t.id, concat_ws(' ', (SELECT string_agg(tag, ',' ORDER BY tag) FROM tag
                                                 WHERE target_kind = 'trajectory' AND target_id = t.id),
                                        (SELECT '✎' || count(*) FROM note WHERE target_kind = 'trajectory'
                                         AND target_id = t.id HAVING count(*) > 0))
                    FROM trajectory t WHERE t.id IN ({id_marks})""",
                    ids,
                ).fetchall()
            )
        by_rowid = {}
        for r in rows:
            r["domain"], r["gold"], r["question"] = problems.get(r["problem_id"]) or (None, None, None)
            r["ppl"], r["flags"], r["tags"] = ppl.get(r["id"]), flags.get(r["id"]), tags.get(r["id"]) or None
            r["after_tokens"], r["rechecks"] = metrics.get(r["id"], (None, None))
            by_rowid[r["rid"]] = tuple(r.get(n) for n in names)
        return [by_rowid[r] for r in wanted if r in by_rowid]
