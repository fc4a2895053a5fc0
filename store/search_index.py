"""A token index over trajectory text for full-text search without DuckDB's ``fts`` extension.

Tokens are the maximal runs of letters and digits of ``lower(text)`` (``TOKEN_SPLIT``). Each indexed
trajectory gets a dense document number in ``search_doc`` (doc, trajectory id); for each batch of
indexed trajectories ``search_posting`` holds one row per distinct token with the sorted list of
the docs that contain it. (Rowids cannot be the key: rows inserted in the open transaction have
temporary rowids until it commits.)

Search semantics are those of ``still2tui/search.py`` (substring; case-insensitive for an
all-lowercase word, exact case otherwise: :func:`predicate`). A word that is one letter/digit run
can only occur inside one token, so "docs of the tokens containing the word" is its exact answer;
other words (phrases, symbols, capitals) take the docs of their runs as candidates and check only
those rows' text. Trajectories not indexed yet (an older store, rows written without
``add_trajectories``) are scanned, so results always equal a scan of the text.

A word whose runs are each in more than VERIFY_SCAN_ABOVE docs is checked by one scan of all text
instead (:func:`scan`: rowids, no join), since reading the text is then the cost either way.

Writer: :func:`catch_up`, run by the TUI in the background (``store.ingest.add_trajectories`` leaves
new rows unindexed so bulk ingest keeps DuckDB's speed; they are scanned until then). Readers:
:func:`search` (and its parts :func:`candidates`, :func:`scan`, :func:`matching_rowids` for callers
that check a few rows first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # numpy is imported where search runs, not by every writer importing store.ingest
    import numpy as np

TOKEN_SPLIT = r"[^\p{L}\p{N}]+"
CATCH_UP_BATCH = 50_000
VERIFY_SCAN_ABOVE = 200_000  # candidates beyond this: one scan of the text beats fetching by id


def predicate(word: str, column: str = "text") -> tuple[str, str]:
    """The text predicate of one search word and its one parameter: the scan semantics of search.

    An all-lowercase word matches case-insensitively (``ILIKE``), any other word with exact case.
    """
    if word.lower() == word:
        escaped = word.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        return f"{column} ILIKE ? ESCAPE '\\'", f"%{escaped}%"
    return f"contains({column}, ?)", word


# -- writing --------------------------------------------------------------------------------------------
def catch_up(conn: duckdb.DuckDBPyConnection, limit: int | None = CATCH_UP_BATCH) -> int:
    """Index up to ``limit`` trajectories that have no index entry yet (all when limit is None)."""
    if not pending(conn):
        return 0
    where = "id NOT IN (SELECT trajectory_id FROM search_doc)"
    if limit is not None:
        where = f"rowid IN (SELECT rowid FROM trajectory WHERE {where} ORDER BY rowid LIMIT {int(limit)})"
    return _index(conn, where, [])


def pending(conn: duckdb.DuckDBPyConnection, upto: int | None = None) -> int:
    """How many trajectories are not indexed, or have no doc up to ``upto`` (two cheap counts; 0 on an
    up-to-date store)."""
    n_traj, n_doc = conn.execute(
        """SELECT (SELECT count(*) FROM trajectory),
                                           (SELECT count(*) FROM search_doc WHERE ? IS NULL OR doc <= ?)""",
        [upto, upto],
    ).fetchall()[0]
    return max(0, n_traj - n_doc)


def _index(conn: duckdb.DuckDBPyConnection, where: str, params: list) -> int:
    conn.execute("DROP TABLE IF EXISTS search_new").fetchall()
    conn.execute(
        f"""CREATE TEMP TABLE search_new AS
                     SELECT (SELECT coalesce(max(doc), 0) FROM search_doc) + row_number() OVER (ORDER BY rowid) AS doc,
                            id, text FROM trajectory WHERE {where}""",
        params,
    ).fetchall()
    try:
        n = conn.execute("SELECT count(*) FROM search_new").fetchall()[0][0]
        if n:
            conn.execute("INSERT INTO search_doc SELECT doc, id FROM search_new").fetchall()
            conn.execute(f"""INSERT INTO search_posting
                             SELECT token, list(doc ORDER BY doc) FROM (
                                 SELECT doc, unnest(list_distinct(string_split_regex(lower(text), '{TOKEN_SPLIT}')))
                                     AS token FROM search_new)
                             WHERE token <> '' GROUP BY token""").fetchall()
        return n
    finally:
        conn.execute("DROP TABLE search_new").fetchall()


# -- reading --------------------------------------------------------------------------------------------
@dataclass
class Hits:
    """The matches of one word: index docs (sorted, unique) plus ids of matching rows not indexed yet, or,
    when the text was scanned, the rowids of every matching row (``rowids``; docs and ids then empty)."""

    docs: "np.ndarray"
    unindexed_ids: list[str] = field(default_factory=list)
    candidates: int = 0  # rows whose text had to be read to confirm (0: answered by the index alone)
    rowids: "np.ndarray | None" = None


def unique_sorted(values) -> np.ndarray:
    """``np.unique`` of integers via one sort (NumPy 2.4's hash-based np.unique took ~2 s on 1M ints)."""
    import numpy as np

    values = np.sort(np.asarray(values, dtype=np.int64))
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def intersect_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The common values of two sorted arrays of distinct integers (np.intersect1d is as slow as np.unique)."""
    import numpy as np

    small, big = (a, b) if len(a) <= len(b) else (b, a)
    if not len(big):
        return big
    at = np.minimum(np.searchsorted(big, small), len(big) - 1)
    return small[big[at] == small]


def _docs(conn: duckdb.DuckDBPyConnection, sql: str, params: list) -> np.ndarray:
    return unique_sorted(conn.execute(sql, params).fetchnumpy()["d"])


def _runs(conn: duckdb.DuckDBPyConnection, word: str) -> list[str]:
    parts = conn.execute(f"SELECT string_split_regex(lower(?), '{TOKEN_SPLIT}')", [word]).fetchall()[0][0]
    return [p for p in parts if p]


@dataclass
class Candidates:
    """The indexed docs that may contain a word (sorted); ``exact``: they are exactly its indexed matches.

    ``docs`` is None when the word's text has to be read anyway in full: a word of symbols only, or one
    whose every run is in more than VERIFY_SCAN_ABOVE docs (listing those would cost more than it saves).
    ``upto``: the highest doc of the index as read; docs are only those up to it, and :func:`search` scans
    every row without such a doc. A catch-up that commits between reading the candidates and searching
    with them then changes nothing: its rows count as unindexed.
    """

    docs: "np.ndarray | None"
    exact: bool
    upto: int


def candidates(conn: duckdb.DuckDBPyConnection, word: str) -> Candidates:
    """The docs whose tokens can hold ``word``: for each letter/digit run of it, the docs of the tokens
    containing the run (module docstring), intersected."""
    import numpy as np

    upto = indexed_upto(conn)  # before the postings: a batch committed meanwhile has docs above it
    runs = sorted(set(_runs(conn, word)), key=len, reverse=True)  # the longest run is usually the rarest
    if not runs:
        return Candidates(None, False, upto)
    exact = len(runs) == 1 and runs[0] == word
    if not exact:
        sums = ", ".join("coalesce(sum(len(docs)) FILTER (WHERE contains(token, ?)), 0)" for _ in runs)
        sizes = conn.execute(f"SELECT {sums} FROM search_posting", runs).fetchall()[0]
        if min(sizes) > VERIFY_SCAN_ABOVE:  # an upper bound: a doc counts once per token holding the run
            return Candidates(None, False, upto)
    docs: np.ndarray | None = None
    for run in runs:
        found = _docs(conn, "SELECT unnest(docs) AS d FROM search_posting WHERE contains(token, ?)", [run])
        found = found[: np.searchsorted(found, upto, side="right")]  # sorted: a view, no copy
        docs = found if docs is None else intersect_sorted(docs, found)
        if not len(docs):
            return Candidates(docs, True, upto)
    return Candidates(docs, exact, upto)


def indexed_upto(conn: duckdb.DuckDBPyConnection) -> int:
    """The highest doc number given out (docs grow with each batch and are never removed)."""
    return conn.execute("SELECT coalesce(max(doc), 0) FROM search_doc").fetchall()[0][0]


def search(conn: duckdb.DuckDBPyConnection, word: str, found: Candidates | None = None) -> Hits:
    """Every trajectory whose text contains ``word`` (module docstring: semantics), via the index.

    ``found``: the word's :func:`candidates` when the caller has them already.
    """
    import numpy as np

    found = found or candidates(conn, word)
    if found.docs is None or (not found.exact and len(found.docs) > VERIFY_SCAN_ABOVE):
        return Hits(np.empty(0, np.int64), [], -1, scan(conn, [word]))  # covers unindexed rows too
    sql_pred, param = predicate(word)
    unindexed: list[str] = []
    if pending(conn, found.upto):
        unindexed = [
            r[0]
            for r in conn.execute(
                f"""SELECT id FROM trajectory WHERE {sql_pred} AND id NOT IN
                                                    (SELECT trajectory_id FROM search_doc WHERE doc <= ?)""",
                [param, found.upto],
            ).fetchall()
        ]
    if found.exact:
        return Hits(found.docs, unindexed, 0)
    return Hits(verify(conn, found.docs, word), unindexed, len(found.docs))


def _predicates(words: list[str]) -> tuple[str, dict]:
    preds, params = [], {}
    for i, word in enumerate(words):
        pred, param = predicate(word)
        preds.append(pred.replace("?", f"$w{i}"))
        params[f"w{i}"] = param
    return " AND ".join(preds), params


def scan(conn: duckdb.DuckDBPyConnection, words: list[str]) -> np.ndarray:
    """Rowids (in rowid order) of the trajectories whose text contains every word: one read of all text."""
    import numpy as np

    preds, params = _predicates(words)
    return np.asarray(
        conn.execute(f"SELECT rowid AS r FROM trajectory WHERE {preds}", params).fetchnumpy()["r"], dtype=np.int64
    )


def matching_rowids(conn: duckdb.DuckDBPyConnection, rowids: np.ndarray, words: list[str]) -> np.ndarray:
    """The rowids among ``rowids`` whose text contains every word, reading only the row groups that hold
    them (a run of nearby rowids costs a few ms; rowids spread over the table cost a read of it)."""
    import numpy as np

    if not len(rowids):
        return np.empty(0, np.int64)
    preds, params = _predicates(words)
    params["r"] = np.asarray(rowids, dtype=np.int64).tolist()
    got = conn.execute(
        f"SELECT rowid AS r FROM trajectory WHERE rowid IN (SELECT unnest($r)) AND {preds}", params
    ).fetchnumpy()["r"]
    return np.asarray(got, dtype=np.int64)


def verify(conn: duckdb.DuckDBPyConnection, docs: np.ndarray, word: str) -> np.ndarray:
    """The subset of ``docs`` (at most VERIFY_SCAN_ABOVE) whose text contains ``word``."""
    pred, param = predicate(word, "t.text")
    return _docs(
        conn,
        f"""
        WITH c AS (SELECT doc, trajectory_id FROM search_doc WHERE doc IN (SELECT unnest($docs)))
        SELECT c.doc AS d FROM c JOIN trajectory t ON t.id = c.trajectory_id WHERE {pred.replace("?", "$w")}""",
        {"docs": docs.tolist(), "w": param},
    )


def search_ids(conn: duckdb.DuckDBPyConnection, word: str, found: Candidates | None = None) -> set[str]:
    """The ids of :func:`search`'s matches (tests and tools; the TUI maps docs to positions itself)."""
    hits = search(conn, word, found)
    if hits.rowids is not None:
        return {
            r[0]
            for r in conn.execute(
                "SELECT id FROM trajectory WHERE rowid IN (SELECT unnest(?))", [hits.rowids.tolist()]
            ).fetchall()
        }
    return set(doc_ids(conn, hits.docs)) | set(hits.unindexed_ids)


def doc_ids(conn: duckdb.DuckDBPyConnection, docs) -> list[str]:
    """The trajectory ids of search documents (numbers in ``search_doc``)."""
    docs = docs.tolist() if hasattr(docs, "tolist") else list(docs)
    if not docs:
        return []
    return [
        r[0]
        for r in conn.execute("SELECT trajectory_id FROM search_doc WHERE doc IN (SELECT unnest(?))", [docs]).fetchall()
    ]
