"""The TUI's in-memory index of trajectories: filter, sort, count and page without touching the store.

One narrow row per trajectory (store/tui_queries.py ``index_rows``: ids, problem facts, verdict,
status, length, latest perplexities, flags; never the text) lives in an in-process in-memory DuckDB
database, keyed by a dense position ``pos`` (rowid order). A filter is one query over it
(filter_fields.IndexClause terms; a term on one low-cardinality column is decided per distinct value
and mapped to the rows through value codes, a flag term on the flag table); a sort is a cached
whole-table order per column (sort_orders.py) filtered with a boolean mask; a page is a slice of the ordered positions plus a ``take`` from Arrow columns
of the displayed values (DuckDB has no random access: fetching 100 scattered positions scanned the
table).
The detail view's flags (with reasons), perplexities (every scorer and part) and the rollouts of its
problem are kept by position too, so opening a trajectory scans no table.

``sync`` keeps it current cheaply: appended trajectories are loaded incrementally (rowid > the last
seen), curation (the undo log) updates statuses in place, and anything else (new perplexities or
flags, a job starting or ending) rebuilds the index. All methods are thread-safe.
"""

from __future__ import annotations

import threading
from typing import Sequence

import duckdb
import numpy as np
import pyarrow as pa

from still2tui.filter_fields import FLAGS, IndexClause
from still2tui.sort_orders import order, sort_key
from store import Store
from store import tui_queries as q
from store.search_index import unique_sorted

# Index columns kept as Arrow columns for display (a table column of the same name reads them); a new column
# is one more name here and in store.tui_queries.INDEX_ROWS_SQL.
DISPLAY_COLUMNS = (
    "id",
    "problem_id",
    "domain",
    "model",
    "origin",
    "iteration",
    "sample_index",
    "verdict",
    "extracted",
    "gold",
    "n_tokens",
    "n_chars",
    "ppl",
    "flags",
    "finish_reason",
    "after_tokens",
    "rechecks",
)
# Display values that do not live in the Arrow columns: kept apart (status changes in place with curation;
# the question per problem; tags and notes per position, refreshed when a tag or note event is seen).
DERIVED_COLUMNS = ("status", "question", "tags")
# The columns the index can sort by (each sorts by the index column of the same name).
SORT_COLUMNS = (*(c for c in DISPLAY_COLUMNS if c != "id"), "status")
FEW_VALUES = {"domain", "model", "origin", "verdict", "flags", "finish_reason"}  # dictionary-encoded in memory
# Filter terms on one of these columns are evaluated once per distinct value (if it has at most
# DISTINCT_MAX of them) and mapped to the rows through each row's value code: no scan of 1M strings.
CODED_COLUMNS = (
    "verdict",
    "origin",
    "model",
    "domain",
    "source",
    "iteration",
    "sample_index",
    "n_tokens",
    "n_chars",
    "difficulty",
    "ppl",
    "thought_ppl",
    "finish_reason",
    "rechecks",
    "after_tokens",
    "after_chars",
    "overthink",
)
# Value fields of the filter language whose known values the index can list (filter_lang's ``known``).
KNOWN_VALUES = {
    "verdict": "verdict",
    "origin": "origin",
    "model": "model",
    "domain": "domain",
    "source": "source",
    "finish": "finish_reason",
}
DISTINCT_MAX = 50_000


class TrajectoryIndex:
    def __init__(self):
        self._lock = threading.RLock()
        self.db: duckdb.DuckDBPyConnection | None = None
        self.n = 0
        self.rid = np.empty(0, np.int64)  # store rowid of each position
        self.doc_pos = np.empty(0, np.int64)  # search doc number -> position (-1: none)
        self.signature: dict | None = None
        self.events: dict[int, str] = {}
        self._orders: dict[tuple[str, bool], np.ndarray] = {}
        self._orders_version = 0  # bumped whenever orders are dropped: a sort begun before is not cached
        self._correct = np.empty(0, bool)
        self._scores = _ByPosition(*SCORE_ROWS)
        self._flags = _ByPosition(*FLAG_ROWS)
        self._problems: _Groups | None = None  # positions by problem (cached)
        self._display = _Display()
        self._codes = _Codes()
        self._flagged: np.ndarray | None = None  # positions with a flag (cached)
        self._undocumented: np.ndarray | None = None  # positions without a search doc (cached)
        self._questions: dict[str, str] = {}  # problem id -> its question on one line (cut), for display
        self._annotations: dict[int, str] = {}  # position -> "tag,tag ✎n" (tags and number of notes)
        self._annotations_signature: tuple | None = None
        self._verdicts: object = None  # store.tui_queries.verdicts_signature when loaded

    @property
    def ready(self) -> bool:
        return self.db is not None

    # -- building -----------------------------------------------------------------------------------------
    def load(self, store: Store) -> None:
        """(Re)build from the store; the old index keeps serving until the new one is complete."""
        with store.read() as conn:
            signature = q.index_signature(conn)
            events = q.status_events(conn)
            rows = q.index_rows(conn)
            flags = q.index_flags(conn)
            scores = q.index_scores(conn)
            problems = q.index_problems(conn)
            annotations_signature = q.annotations_signature(conn)
            annotations = q.index_annotations(conn)
            verdicts = q.verdicts_signature(conn, int(rows["rid"][-1].as_py()) if rows.num_rows else -1)
        db = duckdb.connect(":memory:")
        db.execute("SET threads = 2")
        n = rows.num_rows
        rid = rows["rid"].to_numpy().astype(np.int64)
        rows = rows.append_column("pos", pa.array(np.arange(n, dtype=np.int64)))
        db.register("incoming", rows)
        db.execute("CREATE TABLE trajectory AS SELECT * FROM incoming")
        db.unregister("incoming")
        db.register("incoming", problems)
        db.execute("CREATE TABLE problem AS SELECT * FROM incoming")
        db.unregister("incoming")
        db.execute("CREATE TABLE flag (pos BIGINT, rule VARCHAR, reason VARCHAR)")
        fresh = _Parts(db, n, rid)
        fresh.add_flags(flags)
        display = _Display().extend(rows)
        codes = _Codes().extend(rows)
        questions = dict(zip(problems["id"].to_pylist(), problems["question"].to_pylist()))
        with self._lock:
            old, self.db = self.db, db
            self.n, self.rid = n, rid
            self.doc_pos = _doc_positions(np.empty(0, np.int64), rows["doc"], 0)
            self.signature, self.events = signature, events
            self._scores = _ByPosition(*SCORE_ROWS).extend(scores, rid)
            self._flags = _ByPosition(*FLAG_ROWS).extend(flags, rid)
            self._problems = None
            self._display = display
            self._codes = codes
            self._flagged = self._undocumented = None
            self._questions = questions
            self._verdicts = verdicts
            self._set_annotations(annotations, annotations_signature)
            self._drop_orders()
            self._recount()
        if old is not None:
            old.close()

    def _set_annotations(self, annotations: pa.Table, signature: tuple) -> None:
        """Tags and notes by position (the caller holds the lock)."""
        pos = self.positions_of_rowids(annotations["rid"].to_numpy().astype(np.int64))
        self._annotations = {int(p): text for p, text in zip(pos.tolist(), annotations["text"].to_pylist()) if p >= 0}
        self._annotations_signature = signature

    def warm(self, keys=tuple(SORT_COLUMNS), descending=(False, True)) -> None:
        """Compute sort orders and the rows of each problem ahead of use (a background worker calls this
        after loading)."""
        for key in keys:
            for desc in descending:
                self.order(key, desc)
        with self._lock:
            table = self._display.table
        problems = _Groups(table["problem_id"])
        with self._lock:
            if self._display.table is table and self._problems is None:
                self._problems = problems

    def sync(self, store: Store, deep: bool = False) -> str:
        """Catch up with the store: 'same', 'appended', 'statuses' or 'stale' (the caller rebuilds).

        ``deep``: another process wrote; also compare checksums of the verdicts and statuses of the rows
        the index holds (a ``still2 verify`` run outside a job changes verdicts in place and nothing else
        the signature holds; ``still2 sql --write`` may set statuses without a curation event)."""
        last_held = int(self.rid[-1]) if self.n else -1
        with store.read() as conn:
            sig = q.index_signature(conn)
            old = self.signature or {}
            in_place = q.verdicts_signature(conn, last_held) if deep else None
            if sig == old and in_place in (None, self._verdicts):
                return "same"
            changed = {k for k in sig if sig[k] != old.get(k)}
            if changed - {"rows", "max_rowid", "events"}:  # rescored, reflagged, new problems, a job ran
                return "stale"
            if in_place is not None and self._verdicts is not None:
                if in_place[0] != self._verdicts[0]:  # re-verified outside a job
                    return "stale"
                if in_place[1] != self._verdicts[1] and "events" not in changed:  # statuses set without events
                    return "stale"
            appended = "rows" in changed or "max_rowid" in changed
            rows = flags = scores = None
            if appended:
                if sig["rows"] < old.get("rows", 0):
                    return "stale"
                last = int(self.rid[-1]) if self.n else -1
                rows = q.index_rows(conn, last)
                flags = q.index_flags(conn, last)
                scores = q.index_scores(conn, last)
                if self.n + rows.num_rows != sig["rows"]:
                    return "stale"
            events = q.status_events(conn) if "events" in changed else self.events
            touched = [e for e, state in events.items() if self.events.get(e) != state]
            statuses = q.statuses_touched(conn, touched) if touched else None
            annotations = None
            if "events" in changed or appended:
                annotations_signature = q.annotations_signature(conn)
                if annotations_signature != self._annotations_signature:
                    annotations = q.index_annotations(conn)
                # the checksums of what the index now holds (curated statuses, appended rows)
                in_place = q.verdicts_signature(
                    conn, int(rows["rid"][-1].as_py()) if rows is not None and rows.num_rows else last_held
                )
        with self._lock:
            if rows is not None and rows.num_rows:
                self._append(rows, flags, scores)
            if statuses is not None and statuses.num_rows:
                self._set_statuses(statuses)
            if annotations is not None:
                self._set_annotations(annotations, annotations_signature)
            self.signature, self.events = sig, events
            if in_place is not None:
                self._verdicts = in_place
        return "appended" if appended else "statuses"

    def _append(self, rows: pa.Table, flags: pa.Table, scores: pa.Table) -> None:
        n0, k = self.n, rows.num_rows
        rid = rows["rid"].to_numpy().astype(np.int64)
        rows = rows.append_column("pos", pa.array(np.arange(n0, n0 + k, dtype=np.int64)))
        self.db.register("incoming", rows)
        self.db.execute("INSERT INTO trajectory SELECT * FROM incoming")
        self.db.unregister("incoming")
        self.n, self.rid = n0 + k, np.concatenate([self.rid, rid])
        self.doc_pos = _doc_positions(self.doc_pos, rows["doc"], n0)
        _Parts(self.db, self.n, self.rid).add_flags(flags)
        self._scores.extend(scores, self.rid)
        self._flags.extend(flags, self.rid)
        self._problems = None
        self._display.extend(rows)
        self._codes.extend(rows)
        self._flagged = self._undocumented = None
        self._drop_orders()
        self._recount()

    def _set_statuses(self, statuses: pa.Table) -> None:
        pos = self.positions_of_rowids(statuses["rid"].to_numpy().astype(np.int64))
        keep = pos >= 0
        upd = pa.table({"pos": pos[keep], "status": statuses["status"].filter(pa.array(keep))})
        self.db.register("upd", upd)
        self.db.execute("UPDATE trajectory SET status = upd.status FROM upd WHERE trajectory.pos = upd.pos")
        self.db.unregister("upd")
        values = upd["status"].to_pylist()
        self._display.set_status(upd["pos"].to_numpy(), values)
        self._drop_orders("status")

    def _drop_orders(self, key: str | None = None) -> None:
        """Forget the cached orders (of one column, or all); the caller holds the lock."""
        self._orders = {} if key is None else {k: v for k, v in self._orders.items() if k[0] != key}
        self._orders_version += 1

    def _recount(self) -> None:
        got = self.db.execute("SELECT verdict = 'correct' AS correct FROM trajectory ORDER BY pos").fetchnumpy()
        correct = got["correct"]
        self._correct = np.asarray(correct.filled(False) if hasattr(correct, "filled") else correct, dtype=bool)

    # -- queries ------------------------------------------------------------------------------------------
    def positions_of_rowids(self, rowids: np.ndarray) -> np.ndarray:
        """Index positions of store rowids (-1 for rows not in the index yet)."""
        idx = np.searchsorted(self.rid, rowids)
        idx = np.minimum(idx, max(self.n - 1, 0))
        found = (self.n > 0) & (self.rid[idx] == rowids) if self.n else np.zeros(len(rowids), bool)
        return np.where(found, idx, -1)

    def positions_of_docs(self, docs: np.ndarray) -> np.ndarray:
        """Index positions of search docs (store/search_index.py), -1 for docs not in the index."""
        with self._lock:
            table = self.doc_pos
        inside = (docs >= 0) & (docs < len(table))
        out = np.full(len(docs), -1, dtype=np.int64)
        out[inside] = table[docs[inside]]
        return out

    def positions_without_doc(self) -> np.ndarray:
        """Sorted positions of the rows that had no search doc when loaded (not in the search index yet)."""
        with self._lock:
            if self._undocumented is None:
                has = np.zeros(self.n, bool)
                has[self.doc_pos[(self.doc_pos >= 0) & (self.doc_pos < self.n)]] = True
                self._undocumented = np.flatnonzero(~has)
            return self._undocumented

    def positions_of_ids(self, ids: list[str]) -> np.ndarray:
        if not ids:
            return np.empty(0, np.int64)
        with self._lock:
            got = self.db.execute("SELECT pos FROM trajectory WHERE id IN (SELECT unnest(?))", [ids]).fetchnumpy()
        return np.asarray(got["pos"], dtype=np.int64)

    def filter(self, clauses: Sequence[IndexClause]) -> np.ndarray:
        """Sorted positions of the rows matching every clause (filter_fields.to_index)."""
        with self._lock:
            mask, rest = None, []
            for clause in clauses:
                got = self._clause_mask(clause)
                if got is None:
                    rest.append(clause)
                else:
                    mask = got if mask is None else mask & got
            if rest:
                where = " AND ".join(c.sql for c in rest)
                pos = self.db.execute(
                    f"SELECT pos FROM trajectory t WHERE {where}", [p for c in rest for p in c.params]
                ).fetchnumpy()["pos"]
                got = np.zeros(self.n, bool)
                got[np.asarray(pos, dtype=np.int64)] = True
                mask = got if mask is None else mask & got
        return np.arange(self.n, dtype=np.int64) if mask is None else np.flatnonzero(mask)

    def _clause_mask(self, clause: IndexClause) -> np.ndarray | None:
        """Rows matching one clause, without scanning the table (None: it needs the table scan)."""
        sql, params, column = clause.sql, list(clause.params), clause.reads
        if column == FLAGS:  # depends only on the row's flags
            if self._flagged is None:
                self._flagged = unique_sorted(self.db.execute("SELECT pos FROM flag").fetchnumpy()["pos"])
            self.db.register("flagged", pa.table({"pos": np.append(self._flagged, -1)}))
            try:
                hits = self.db.execute(f"SELECT pos FROM flagged t WHERE {sql}", params).fetchnumpy()["pos"]
            finally:
                self.db.unregister("flagged")
            mask = np.full(self.n, bool(np.any(hits == -1)))  # -1 stands for every row without a flag
            mask[self._flagged] = False
            mask[np.asarray(hits[hits >= 0], dtype=np.int64)] = True
            return mask
        if column is None:
            return None
        if column == "status":
            values, codes = self._display.status_values, self._display.status
        else:
            values, codes = self._codes.get(column)
            if values is None:
                return None
        # Each distinct value once (plus NULL, code -1), with the clause's own SQL: the same semantics.
        distinct = (
            pa.array([*values, None])
            if isinstance(values, list)
            else pa.concat_arrays([values, pa.nulls(1, values.type)])
        )
        table = pa.table({"code": pa.array([*range(len(values)), -1], pa.int64()), column: distinct})
        self.db.register("distinct_values", table)
        try:
            hits = self.db.execute(f"SELECT code FROM distinct_values t WHERE {sql}", params).fetchnumpy()["code"]
        finally:
            self.db.unregister("distinct_values")
        hits = np.asarray(hits, dtype=codes.dtype)
        misses = np.setdiff1d(np.arange(-1, len(values), dtype=codes.dtype), hits)
        if min(len(hits), len(misses)) <= 4:  # a few comparisons beat a gather over every row
            few, match = (hits, True) if len(hits) <= len(misses) else (misses, False)
            mask = np.zeros(len(codes), bool)
            for code in few:
                mask |= codes == code
            return mask if match else ~mask
        truth = np.zeros(len(values) + 1, bool)
        truth[hits] = True  # -1: the last slot, NULL's
        return truth[codes]

    def order(self, key: str, descending: bool) -> np.ndarray:
        """All positions sorted by one column (cached; the sort itself runs outside the lock)."""
        with self._lock:
            cached = self._orders.get((key, descending))
            if cached is not None:
                return cached
            version = self._orders_version
            column = self.db.sql(f'SELECT "{key}" FROM trajectory ORDER BY pos').to_arrow_table()
        positions = order(sort_key(column.column(0)), descending)
        with self._lock:
            if self._orders_version == version:  # no load, append or status change while it sorted
                self._orders[(key, descending)] = positions
        return positions

    def view(self, matches: np.ndarray, key: str | None, descending: bool) -> np.ndarray:
        """The matching positions (sorted) in display order."""
        if not key or key not in SORT_COLUMNS:
            return matches
        full = self.order(key, descending)
        if len(matches) == self.n:
            return full
        mask = np.zeros(self.n, bool)
        mask[matches] = True
        return full[mask[full]]

    def known_values(self, field: str) -> list | None:
        """The values a filter field has in the index (None: not listed here, or too many to be coded)."""
        with self._lock:
            if field == "flag":
                return [r[0] for r in self.db.execute("SELECT DISTINCT rule FROM flag").fetchall()] if self.db else None
            column = KNOWN_VALUES.get(field)
            values = self._codes.get(column)[0] if column else None
            return None if values is None else values.to_pylist()

    def counts(self, positions: np.ndarray) -> tuple[int, int, int, int]:
        """(total in the index, correct, approved, rejected) among ``positions``."""
        with self._lock:
            status = self._display.status_kinds(positions)
            return (
                self.n,
                int(np.count_nonzero(self._correct[positions])),
                int(np.count_nonzero(status == 1)),
                int(np.count_nonzero(status == 2)),
            )

    def rows(self, positions: np.ndarray, names: tuple[str, ...] = (*DISPLAY_COLUMNS, "status")) -> list[tuple]:
        """Display rows of the given positions, in that order: one value per name of DISPLAY_COLUMNS or
        DERIVED_COLUMNS (the table asks for the id, then its columns)."""
        if not len(positions):
            return []
        positions = np.asarray(positions, dtype=np.int64)
        with self._lock:
            got = self._display.columns(positions, list(dict.fromkeys(n for n in names if n in DISPLAY_COLUMNS)))
            for name in names:
                if name == "status":
                    got[name] = self._display.statuses(positions)
                elif name == "question":
                    pids = (
                        got["problem_id"]
                        if "problem_id" in got
                        else self._display.columns(positions, ["problem_id"])["problem_id"]
                    )
                    got[name] = [self._questions.get(p) for p in pids]
                elif name == "tags":
                    got[name] = [self._annotations.get(p) for p in positions.tolist()]
                elif name not in got:
                    got[name] = [None] * len(positions)
        return list(zip(*(got[name] for name in names)))

    def detail_scores(self, rowid: int) -> dict[str, list[tuple]] | None:
        """As store.tui_queries.detail_scores, from memory (None: the row is not in the index)."""
        with self._lock:
            pos = int(self.positions_of_rowids(np.array([rowid], np.int64))[0])
            if pos < 0:
                return None
            return {"flag_rows": self._flags.of(pos), "ppl_rows": self._scores.of(pos)}

    def rollouts(self, problem_id: str, limit: int = 500) -> list[tuple]:
        """As store.tui_queries.rollouts (the answer cut at 80 characters, as displayed), from memory."""
        with self._lock:
            if self._problems is None:
                self._problems = _Groups(self._display.table["problem_id"])
            positions = self._problems.positions(problem_id)
            sample_values, sample_codes = self._codes.get("sample_index")
            if sample_values is None:  # too many distinct sample indexes to be coded: ask DuckDB
                return self.db.execute(
                    """
                    SELECT id, verdict, extracted, n_chars, status FROM trajectory WHERE problem_id = ?
                    ORDER BY iteration NULLS FIRST, sample_index NULLS FIRST, id LIMIT ?""",
                    [problem_id, limit],
                ).fetchall()
            rows = self.rows(positions, ("id", "iteration", "verdict", "extracted", "n_chars", "status"))
            samples = [sample_values[int(c)].as_py() if c >= 0 else None for c in sample_codes[positions]]
        keyed = sorted(
            zip(rows, samples),
            key=lambda rs: (rs[0][1] is not None, rs[0][1] or 0, rs[1] is not None, rs[1] or 0, rs[0][0]),
        )
        return [(r[0], *r[2:]) for r, _ in keyed[:limit]]

    def close(self) -> None:
        with self._lock:
            if self.db is not None:
                self.db.close()
                self.db = None


def _doc_positions(table: np.ndarray, docs: pa.ChunkedArray, first_pos: int) -> np.ndarray:
    """Extend the doc -> position table with rows ``first_pos..`` whose docs are ``docs`` (NULL: none)."""
    values = docs.to_numpy(zero_copy_only=False)
    values = (
        np.asarray([-1 if v is None or v != v else int(v) for v in values], np.int64)
        if values.dtype == object or values.dtype.kind == "f"
        else values.astype(np.int64)
    )
    top = int(values.max(initial=-1))
    if top >= len(table):
        table = np.concatenate([table, np.full(top + 1 - len(table), -1, np.int64)])
    has = values >= 0
    table[values[has]] = np.arange(first_pos, first_pos + len(values), dtype=np.int64)[has]
    return table


# (columns kept, order within one position) of the side tables kept by position
SCORE_ROWS = (["scorer", "part", "ppl"], ["scorer", "part"])
FLAG_ROWS = (["rule", "reason"], ["rule"])


class _ByPosition:
    """Rows of a side table (perplexities, flags) kept by index position: sorted by position, then by the
    given columns within one position (detail_scores lists them all)."""

    def __init__(self, columns: list[str], order: list[str]):
        self.columns, self.order = columns, order
        self.pos = np.empty(0, np.int64)
        self.table: pa.Table | None = None  # built on the first extend: pa.table() imports pandas (~0.3 s)

    def extend(self, rows: pa.Table, rid: np.ndarray) -> "_ByPosition":
        """Add rows with a ``rid`` column (rowids all in ``rid``, after those of the rows held)."""
        pos = np.searchsorted(rid, rows["rid"].to_numpy().astype(np.int64))
        new = rows.select(self.columns).append_column("pos", pa.array(pos, pa.int64()))
        new = new.sort_by([("pos", "ascending")] + [(c, "ascending") for c in self.order])
        self.pos = np.concatenate([self.pos, new["pos"].to_numpy()])
        new = new.select(self.columns)
        self.table = new if self.table is None else pa.concat_tables([self.table, new.cast(self.table.schema)])
        return self

    def of(self, pos: int) -> list[tuple]:
        if self.table is None:
            return []
        lo, hi = np.searchsorted(self.pos, [pos, pos + 1])
        return [tuple(row.values()) for row in self.table.slice(lo, hi - lo).to_pylist()]


class _Groups:
    """The positions of each distinct value of a column (a problem's rollouts without a scan)."""

    def __init__(self, column: pa.ChunkedArray):
        import pyarrow.compute as pc

        encoded = pc.dictionary_encode(column.combine_chunks())
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        self.code_of = {v: i for i, v in enumerate(encoded.dictionary.to_pylist())}
        self.order = np.argsort(codes, kind="stable")
        self.sorted_codes = codes[self.order]

    def positions(self, value) -> np.ndarray:
        code = self.code_of.get(value)
        if code is None:
            return np.empty(0, np.int64)
        lo, hi = np.searchsorted(self.sorted_codes, [code, code + 1])
        return self.order[lo:hi]


class _Codes:
    """For CODED_COLUMNS: the distinct values (Arrow, NULL left out) and each row's value code (-1: NULL)."""

    def __init__(self):
        self.values: dict[str, pa.Array | None] = {}
        self.codes: dict[str, np.ndarray] = {}

    def get(self, column: str) -> tuple[pa.Array | None, np.ndarray | None]:
        return self.values.get(column), self.codes.get(column)

    def extend(self, rows: pa.Table) -> "_Codes":
        import pyarrow.compute as pc

        for name in CODED_COLUMNS:
            column = rows[name].combine_chunks()
            known = self.values.get(name, pa.array([], column.type))
            if known is None:  # too many distinct values already
                continue
            fresh = pc.unique(column.drop_null())
            values = pa.concat_arrays([known, fresh.filter(pc.invert(pc.is_in(fresh, value_set=known)))])
            if len(values) > DISTINCT_MAX:
                self.values[name], self.codes[name] = None, None
                continue
            codes = pc.index_in(column, value_set=values).fill_null(-1).to_numpy().astype(np.int32)
            self.values[name] = values
            self.codes[name] = codes if name not in self.codes else np.concatenate([self.codes[name], codes])
        return self


class _Display:
    """The displayed values of every index row as Arrow columns (status as codes: curation changes it)."""

    def __init__(self):
        self.table: pa.Table | None = None
        self.status = np.empty(0, np.int32)  # code of each row's status in status_values
        self.status_values: list = []

    def extend(self, rows: pa.Table) -> "_Display":
        import pyarrow.compute as pc  # ~80 ms to import: not before the first paint

        columns = {}
        for name in DISPLAY_COLUMNS:
            column = rows[name].combine_chunks()
            columns[name] = pc.dictionary_encode(column) if name in FEW_VALUES else column
        new = pa.table(columns)
        self.table = (
            new if self.table is None else pa.concat_tables([self.table, new]).unify_dictionaries().combine_chunks()
        )
        self.status = np.concatenate([self.status, self._codes(rows["status"].to_pylist())])
        return self

    def _codes(self, values: list) -> np.ndarray:
        known = {v: i for i, v in enumerate(self.status_values)}
        for v in dict.fromkeys(values):
            if v not in known:
                known[v] = len(self.status_values)
                self.status_values.append(v)
        return np.asarray([known[v] for v in values], dtype=np.int32)

    def set_status(self, positions: np.ndarray, values: list) -> None:
        self.status[positions] = self._codes(values)

    def status_kinds(self, positions: np.ndarray) -> np.ndarray:
        """1 approved, 2 rejected, 0 anything else, for each position."""
        kind = np.array([1 if v == "approved" else 2 if v == "rejected" else 0 for v in self.status_values], np.int8)
        return kind[self.status[positions]]

    def statuses(self, positions: np.ndarray) -> list:
        return [self.status_values[c] for c in self.status[positions]]

    def columns(self, positions: np.ndarray, names: list[str]) -> dict[str, list]:
        got = self.table.select(names).take(pa.array(positions))
        return {name: got[name].to_pylist() for name in names}


class _Parts:
    """Loads side tables keyed by position."""

    def __init__(self, db: duckdb.DuckDBPyConnection, n: int, rid: np.ndarray):
        self.db, self.n, self.rid = db, n, rid

    def add_flags(self, flags: pa.Table) -> None:
        if not flags.num_rows:
            return
        pos = np.searchsorted(self.rid, flags["rid"].to_numpy().astype(np.int64))
        table = pa.table({"pos": pos, "rule": flags["rule"], "reason": flags["reason"]})
        self.db.register("incoming_flags", table)
        self.db.execute("INSERT INTO flag SELECT * FROM incoming_flags")
        self.db.unregister("incoming_flags")
