"""Every query the TUI's screens need beyond store.queries: one trajectory in full, rollouts, the listings,
counts of a filter, plot data, Table 2, the in-memory index's rows; a screen holds no SQL of its own.

Plain SQL over the documented tables and views; no Textual, no torch. Results are read by column name (dicts,
NamedTuples, or the listings' named columns); conditions come in as a Predicate.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, NamedTuple

import duckdb


class Predicate(NamedTuple):
    """A compiled condition: SQL with ``?`` marks and their values. On ``trajectory`` (alias ``t``) for the
    trajectory queries, which the TUI's filter language compiles to (still2tui/filter_lang.py); on a
    listing's own aliases for a listing (``problems_matching``). Queries here only splice it in, never
    read it back. Unpacks as ``sql, params``."""

    sql: str = "TRUE"
    params: tuple = ()

    def also(self, sql: str, *params) -> "Predicate":
        """This condition AND another."""
        return Predicate(f"{self.sql} AND {sql}", (*self.params, *params))


# -- the trajectories table read from the store (before the TUI's in-memory index is loaded) -----------------
LATEST_PPL = (
    "(SELECT trajectory_id, arg_max(ppl, created) AS ppl FROM perplexity WHERE part = '{part}' GROUP BY trajectory_id)"
)
# The joins a sort of the trajectories table may read, by name (the table's Column.join).
TRAJECTORY_JOINS = {
    "problem": "LEFT JOIN problem p ON p.id = t.problem_id",
    "ppl": f"LEFT JOIN {LATEST_PPL.format(part='full')} pp ON pp.trajectory_id = t.id",
    "flags": (
        "LEFT JOIN (SELECT trajectory_id, string_agg(rule, ',' ORDER BY rule) AS flags FROM flag "
        "GROUP BY trajectory_id) fl ON fl.trajectory_id = t.id"
    ),
    "metrics": "LEFT JOIN trajectory_metrics tm ON tm.trajectory_id = t.id",
}
DERIVED_JOINS = {"ppl", "flags", "metrics"}  # the joins that aggregate or read a side table per row: slow
# trajectory columns read as they are by trajectory_rows (the others come from the problem, perplexity,
# flag, metrics, tag and note tables)
TRAJECTORY_VALUES = (
    "id",
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


@dataclass(frozen=True)
class TrajectoryOrder:
    """A sort of the trajectories table: an expression over ``t`` or a TRAJECTORY_JOINS alias, and the join."""

    expr: str
    join: str = ""
    descending: bool = False


def trajectory_count(conn: duckdb.DuckDBPyConnection) -> int:
    return conn.execute("SELECT count(*) FROM trajectory").fetchone()[0]


def rowids_page(conn: duckdb.DuckDBPyConnection, limit: int, offset: int) -> list[int]:
    """Rowids ``offset .. offset+limit`` in insertion order."""
    sql = "SELECT rowid FROM trajectory ORDER BY rowid LIMIT ? OFFSET ?"
    return [r[0] for r in conn.execute(sql, [limit, offset]).fetchall()]


def matching_rowids(conn: duckdb.DuckDBPyConnection, where: Predicate, order: TrajectoryOrder | None = None):
    """The rowids (a numpy array) of the trajectories matching ``where``, in ``order`` (None: insertion
    order, which DuckDB preserves without a sort); ties and NULLs in a stable place."""
    sql = f"SELECT t.rowid AS r FROM trajectory t WHERE {where.sql}"
    if order is not None:
        direction = "DESC NULLS FIRST" if order.descending else "ASC NULLS LAST"
        sql = (
            f"SELECT t.rowid AS r FROM trajectory t {TRAJECTORY_JOINS.get(order.join, '')} WHERE {where.sql} "
            f"ORDER BY {order.expr} {direction}, t.rowid"
        )
    return conn.execute(sql, list(where.params)).fetchnumpy()["r"]


def trajectory_rows(conn: duckdb.DuckDBPyConnection, rowids: list[int]) -> dict[int, dict[str, Any]]:
    """The trajectories table's values of the given rows, by rowid, each a dict by column name: the
    TRAJECTORY_VALUES, domain, gold, question (one line, cut), ppl (latest, full), flags, after_tokens,
    rechecks and tags (tags, then ✎n for n notes)."""
    if not rowids:
        return {}
    marks = ",".join("?" * len(rowids))
    cur = conn.execute(
        f"SELECT t.rowid AS rid, {', '.join('t.' + n for n in TRAJECTORY_VALUES)} FROM trajectory t "
        f"WHERE t.rowid IN ({marks})",
        rowids,
    )
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
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
    out = {}
    for r in rows:
        r["domain"], r["gold"], r["question"] = problems.get(r["problem_id"]) or (None, None, None)
        r["ppl"], r["flags"], r["tags"] = ppl.get(r["id"]), flags.get(r["id"]), tags.get(r["id"]) or None
        r["after_tokens"], r["rechecks"] = metrics.get(r["id"], (None, None))
        out[r.pop("rid")] = r
    return out


# -- the small listings (still2tui.sources.SqlSource) -----------------------------------------------------------
# Each names every value it selects: one column per Column.key of the screen's table, plus the row key (the
# name the screen passes as SqlSource.key). The screen reads rows by those names. ``{where}`` takes a Predicate
# over the query's tables (its aliases), e.g. ``problems_matching``.
PROBLEMS_SQL = """
    SELECT s.problem_id, left(replace(p.question, chr(10), ' '), 200) AS question, s.source, s.domain,
           s.difficulty, s.rollouts, s.correct, s.pass_rate, s.trajectories, s.correct_any, s.last_iteration
    FROM problem_stats s JOIN problem p ON p.id = s.problem_id WHERE {where}"""

PAIRS_SQL = """
    SELECT id, problem_id, part, status, chosen_verdict, chosen_ppl, chosen_tokens,
           rejected_verdict, rejected_ppl, rejected_tokens, rule
    FROM pairs WHERE {where}"""

RUNS_SQL = """
    SELECT r.id, r.kind, r.state,
           CASE WHEN r.progress->>'$.done' IS NOT NULL
                THEN (r.progress->>'$.done') || '/' || coalesce(r.progress->>'$.total', '?') END AS progress,
           count(t.id) AS trajectories, count(t.id) FILTER (WHERE t.verdict = 'correct') AS correct,
           count(t.id) FILTER (WHERE t.status = 'approved') AS approved,
           count(t.id) FILTER (WHERE t.status = 'rejected') AS rejected,
           r.started, r.ended, r.error
    FROM run r LEFT JOIN trajectory t ON t.run_id = r.id WHERE {where} GROUP BY ALL"""

PROGRESS_SQL = """
    SELECT run || '/' || origin AS run_origin, run, origin, trajectories, approved, rejected, pending
    FROM curation_progress WHERE {where}"""

DATASETS_SQL = """
    SELECT d.name, d.kind, d.parent, count(m.member_id) AS members,
           count(m.member_id) FILTER (WHERE m.inherited) AS inherited,
           (SELECT string_agg(domain || ' ' || n, ', ' ORDER BY n DESC) FROM (
                SELECT p.domain, count(*) AS n FROM dataset_member m2
                JOIN trajectory t ON t.id = m2.member_id JOIN problem p ON p.id = t.problem_id
                WHERE m2.dataset = d.name GROUP BY 1)) AS mix,
           round(avg(t.n_chars)) AS avg_len, min(t.n_chars) AS min_len, max(t.n_chars) AS max_len,
           count(t.id) FILTER (WHERE t.status = 'approved') AS approved, d.created
    FROM dataset d LEFT JOIN dataset_member m ON m.dataset = d.name
    LEFT JOIN trajectory t ON t.id = m.member_id WHERE {where} GROUP BY ALL"""

EVENTS_SQL = """
    SELECT id, ts, coalesce(actor, '–') AS actor,
           CASE WHEN action = 'set_status' THEN 'status → ' || detail
                WHEN action IN ('tag', 'untag') THEN action || ' ' || detail
                ELSE action END AS what,
           target_kind, n, state, CASE WHEN action = 'note' THEN detail END AS note
    FROM event WHERE {where}"""

MODELS_SQL = """
    SELECT id, method, base, parent, dataset, path, run_id, created FROM model WHERE {where}"""


def problems_matching(words: list[str]) -> Predicate:
    """PROBLEMS_SQL's rows whose id, source, domain or question holds every word (case-insensitively)."""
    one = "(s.problem_id ILIKE ? OR s.source ILIKE ? OR s.domain ILIKE ? OR p.question ILIKE ?)"
    return Predicate(" AND ".join([one] * len(words)) or "TRUE", tuple(f"%{w}%" for w in words for _ in range(4)))


def _named(conn: duckdb.DuckDBPyConnection, cls, sql: str, params: list | None = None) -> list:
    """Rows as ``cls`` (a NamedTuple), each field taken from the column of its name."""
    cur = conn.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [cls(**dict(zip(names, row))) for row in cur.fetchall()]


def _one(conn: duckdb.DuckDBPyConnection, sql: str, params: list) -> dict[str, Any] | None:
    cur = conn.execute(sql, params)
    rows = cur.fetchall()  # not fetchone: an unfinished result blocks the connection's next relation query
    return dict(zip([d[0] for d in cur.description], rows[0])) if rows else None


def detail(conn: duckdb.DuckDBPyConnection, trajectory_id: str, scores: bool = True) -> dict[str, Any]:
    """Everything the detail view shows for one trajectory (text included; ``rid`` is its rowid).

    ``scores=False`` leaves out ``flag_rows`` and ``ppl_rows``: the perplexity lookup scans the whole
    table, and the TUI's in-memory index has both.
    """
    row = _one(conn, "SELECT *, rowid AS rid FROM trajectory WHERE id = ?", [trajectory_id])
    if row is None:
        raise KeyError(trajectory_id)
    # Two primary-key lookups: a join would hash the whole problem table.
    row.update(
        _one(
            conn,
            "SELECT domain, difficulty, question, answer AS gold, source, answer_kind, "
            "meta->>'tests' AS tests FROM problem WHERE id = ?",
            [row["problem_id"]],
        )
        or dict.fromkeys(("domain", "difficulty", "question", "gold", "source", "answer_kind", "tests"))
    )
    if scores:
        row.update(detail_scores(conn, trajectory_id))
    row["tags"] = [
        r[0]
        for r in conn.execute(
            "SELECT tag FROM tag WHERE target_kind = 'trajectory' AND target_id = ? ORDER BY tag", [trajectory_id]
        ).fetchall()
    ]
    row["notes"] = [
        r[0]
        for r in conn.execute(
            "SELECT text FROM note WHERE target_kind = 'trajectory' AND target_id = ? ORDER BY id", [trajectory_id]
        ).fetchall()
    ]
    # Structured flag details (e.g. the contamination rule's matched span), by rule.
    row["flag_details"] = {
        rule: json.loads(d)
        for rule, d in conn.execute(
            "SELECT rule, detail FROM flag WHERE trajectory_id = ? AND detail IS NOT NULL ORDER BY rule",
            [trajectory_id],
        ).fetchall()
    }
    return row


def detail_scores(conn: duckdb.DuckDBPyConnection, trajectory_id: str) -> dict[str, list[tuple]]:
    """``flag_rows`` (rule, reason) and ``ppl_rows`` (scorer, part, ppl) of one trajectory."""
    return {
        "flag_rows": conn.execute(
            "SELECT rule, reason FROM flag WHERE trajectory_id = ? ORDER BY rule", [trajectory_id]
        ).fetchall(),
        "ppl_rows": conn.execute(
            """SELECT scorer, part, ppl FROM perplexity WHERE trajectory_id = ?
                                        ORDER BY scorer, part""",
            [trajectory_id],
        ).fetchall(),
    }


def rollouts(conn: duckdb.DuckDBPyConnection, problem_id: str, limit: int = 500) -> list[tuple]:
    """(id, verdict, extracted, characters, status) of every trajectory of a problem, in sample order."""
    return conn.execute(
        """
        SELECT id, verdict, extracted, n_chars, status FROM trajectory
        WHERE problem_id = ? ORDER BY iteration NULLS FIRST, sample_index NULLS FIRST, id LIMIT ?""",
        [problem_id, limit],
    ).fetchall()


def pair_sides(conn: duckdb.DuckDBPyConnection, pair_id: str) -> dict[str, Any] | None:
    """A pair with both texts (thought and full) for the diff view."""
    return _one(
        conn,
        """
        SELECT pr.*, c.thought AS chosen_thought, c.text AS chosen_text, r.thought AS rejected_thought,
               r.text AS rejected_text
        FROM pairs pr JOIN trajectory c ON c.id = pr.chosen_id JOIN trajectory r ON r.id = pr.rejected_id
        WHERE pr.id = ?""",
        [pair_id],
    )


def pair_readiness(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """What pairs need, counted: problems with trajectories, with a single one, with both a correct and an
    incorrect one; trajectories with a perplexity."""
    problems, single, both = conn.execute("""
        SELECT count(*), count(*) FILTER (WHERE n = 1), count(*) FILTER (WHERE correct > 0 AND incorrect > 0)
        FROM (SELECT problem_id, count(*) AS n, count(*) FILTER (WHERE verdict = 'correct') AS correct,
                     count(*) FILTER (WHERE verdict = 'incorrect') AS incorrect FROM trajectory GROUP BY 1)""").fetchall()[0]
    scored = conn.execute("SELECT count(*) FROM (SELECT 1 FROM perplexity LIMIT 1)").fetchall()[0][0]
    return {"problems": problems, "single": single, "both": both, "scored": scored}


def table2(conn: duckdb.DuckDBPyConnection, backbone: str | None) -> tuple[list[str], list[str], dict]:
    """Models x benchmarks accuracy (latest value), with relative gain over ``backbone``.

    Returns (models, benchmarks, {(model, benchmark): value}); accuracy metric names accepted:
    accuracy, acc, pass@1.
    """
    rows = conn.execute("""
        SELECT model, benchmark, arg_max(value, created) FROM eval_result
        WHERE metric IN ('accuracy', 'acc', 'pass@1') GROUP BY ALL ORDER BY model, benchmark""").fetchall()
    models = sorted({r[0] for r in rows}, key=lambda m: (m != backbone, m))
    benchmarks = sorted({r[1] for r in rows})
    return models, benchmarks, {(m, b): v for m, b, v in rows}


class EvalCount(NamedTuple):
    """The eval trajectories of one model on one benchmark, as our verifier graded them."""

    model: str
    benchmark: str  # the problems' source
    graded: int
    correct: int
    unverified: int


def eval_trajectories(conn: duckdb.DuckDBPyConnection) -> list[EvalCount]:
    """The eval trajectories in the store (imported or written by ``still2 eval``) per model and benchmark:
    what the Evals tab counts when no eval_result rows exist yet."""
    return _named(
        conn,
        EvalCount,
        """
        SELECT coalesce(t.model, '(unknown model)') AS model, coalesce(p.source, '?') AS benchmark,
               count(*) FILTER (WHERE t.verdict <> 'unverified') AS graded,
               count(*) FILTER (WHERE t.verdict = 'correct') AS correct,
               count(*) FILTER (WHERE t.verdict = 'unverified') AS unverified
        FROM trajectory t LEFT JOIN problem p ON p.id = t.problem_id WHERE t.origin = 'eval'
        GROUP BY ALL ORDER BY 1, 2""",
    )


def accuracy_by_iteration(conn: duckdb.DuckDBPyConnection, where: Predicate) -> list[tuple]:
    """(iteration, accuracy, rows) of the trajectories matching ``where``, per iteration (None first)."""
    return conn.execute(
        f"""
        SELECT iteration, avg(CASE WHEN verdict = 'correct' THEN 1.0 ELSE 0.0 END), count(*)
        FROM trajectory t WHERE {where.sql} GROUP BY 1 ORDER BY 1 NULLS FIRST""",
        list(where.params),
    ).fetchall()


class Measure(NamedTuple):
    """A number per trajectory the plots bin: an SQL expression over ``trajectory t`` (and ``joins``)."""

    expr: str
    joins: str = ""


MEASURES = {
    "chars": Measure("t.n_chars"),
    "tokens": Measure("t.n_tokens"),
    "ppl": Measure("pp.ppl", f"JOIN {LATEST_PPL.format(part='full')} pp ON pp.trajectory_id = t.id"),
}


def histogram(
    conn: duckdb.DuckDBPyConnection, measure: str, where: Predicate, bins: int = 30
) -> list[tuple[float, int]]:
    """(bin start, count) of every bin of a MEASURES number over the trajectories matching ``where``, empty
    bins included (computed in SQL); one bin when every value is the same."""
    expr, joins = MEASURES[measure]
    params = list(where.params)
    lo, hi = conn.execute(
        f"SELECT min({expr}), max({expr}) FROM trajectory t {joins} WHERE {where.sql}", params
    ).fetchone()
    if lo is None:
        return []
    bins = bins if hi > lo else 1
    width = (hi - lo) / bins or 1
    rows = conn.execute(
        f"""
        SELECT least(floor(({expr} - ?) / ?), ?) AS b, count(*) FROM trajectory t {joins}
        WHERE {where.sql} AND {expr} IS NOT NULL GROUP BY 1 ORDER BY 1""",
        [lo, width, bins - 1, *params],
    ).fetchall()
    counts = {int(b): n for b, n in rows}
    return [(lo + b * width, counts.get(b, 0)) for b in range(bins)]


class TrajectoryCounts(NamedTuple):
    """How many trajectories match a Predicate, and what they are (``trajectory_counts``)."""

    total: int  # every trajectory in the store
    matching: int  # those matching
    correct: int  # ... with a correct verdict
    approved: int
    rejected: int
    with_tokens: int  # ... with a token count
    upto: int  # the store's largest trajectory rowid (-1: none): rows added later are not counted here

    @property
    def pending(self) -> int:
        return self.matching - self.approved - self.rejected


def trajectory_counts(conn: duckdb.DuckDBPyConnection, where: Predicate) -> TrajectoryCounts:
    """The counts the trajectories' status bar, the plots and a bulk action's confirmation show."""
    row = _one(
        conn,
        f"""SELECT (SELECT count(*) FROM trajectory) AS total, count(*) AS matching,
                   count(*) FILTER (WHERE t.verdict = 'correct') AS correct,
                   count(*) FILTER (WHERE t.status = 'approved') AS approved,
                   count(*) FILTER (WHERE t.status = 'rejected') AS rejected,
                   count(t.n_tokens) AS with_tokens,
                   (SELECT coalesce(max(rowid), -1) FROM trajectory) AS upto
            FROM trajectory t WHERE {where.sql}""",
        list(where.params),
    )
    return TrajectoryCounts(**row)


def selected_ids(conn: duckdb.DuckDBPyConnection, where: Predicate, upto: int) -> list[str]:
    """Ids of the trajectories matching ``where`` with rowid up to ``upto`` (a selection), in rowid order."""
    return [
        r[0]
        for r in conn.execute(
            f"SELECT t.id FROM trajectory t WHERE ({where.sql}) AND t.rowid <= ? ORDER BY t.rowid",
            [*where.params, upto],
        ).fetchall()
    ]


@contextmanager
def selection_table(conn: duckdb.DuckDBPyConnection, where: Predicate, upto: int) -> Iterator[str]:
    """The ids of a selection (as ``selected_ids``) in a temp table, for the length of the block; yields a
    plain condition naming it (store.curation takes a where-clause without parameters). Run it inside the
    write transaction that uses it, so the ids are the ones it changes."""
    conn.execute("DROP TABLE IF EXISTS tui_bulk")
    conn.execute(
        f"CREATE TEMP TABLE tui_bulk AS SELECT t.id FROM trajectory t WHERE ({where.sql}) AND t.rowid <= ?",
        [*where.params, upto],
    )
    try:
        yield "id IN (SELECT id FROM tui_bulk)"
    finally:
        conn.execute("DROP TABLE tui_bulk")


class JobRun(NamedTuple):
    """A ``run`` row as the jobs screen lists it."""

    id: str
    kind: str
    state: str
    progress: Any  # JSON text ({done, total, ...}) or None
    started: Any
    ended: Any
    error: str | None
    log_path: str | None


def job_runs(conn: duckdb.DuckDBPyConnection) -> list[JobRun]:
    """Every run, newest first (not yet started ones on top)."""
    return _named(
        conn,
        JobRun,
        """SELECT id, kind, state, progress, started, ended, error, log_path FROM run
           ORDER BY started DESC NULLS FIRST, id""",
    )


def base_models(conn: duckdb.DuckDBPyConnection) -> set[str]:
    """Ids of the models no other model was trained from (the backbones)."""
    return {r[0] for r in conn.execute("SELECT id FROM model WHERE parent IS NULL").fetchall()}


def pair_status_counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """{status: pairs} (statuses no pair has are left out)."""
    return dict(conn.execute("SELECT status, count(*) FROM pair GROUP BY 1").fetchall())


def first_problem_with_mixed_verdicts(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The first problem (by id) whose trajectories have more than one verdict: one a pair can be built for."""
    rows = conn.execute("""SELECT problem_id FROM trajectory GROUP BY 1
                           HAVING count(DISTINCT verdict) > 1 ORDER BY 1 LIMIT 1""").fetchall()
    return rows[0][0] if rows else None


# Code problems keep their tests (JSON) as the answer and the program as the extracted answer: short labels.
CODE_GOLD = "CASE WHEN p.answer_kind = 'code' THEN 'tests: ' || (p.meta->>'tests') ELSE left(p.answer, 80) END"
CODE_EXTRACTED = (
    "CASE WHEN p.answer_kind = 'code' AND t.extracted IS NOT NULL THEN 'program, ' || "
    "(length(t.extracted) - length(replace(t.extracted, chr(10), '')) + 1) || ' lines' "
    "ELSE left(t.extracted, 80) END"
)

# -- the TUI's in-memory index of trajectories (still2tui/table_index.py) ---------------------------------
# One narrow row per trajectory: ids and the small display/filter columns, never the text.
INDEX_ROWS_SQL = """
    SELECT t.rowid AS rid, t.id, t.problem_id, p.domain, p.source, p.difficulty, {CODE_GOLD} AS gold,
           t.model, t.origin, t.run_id, t.iteration, t.sample_index, t.verdict, {CODE_EXTRACTED} AS extracted,
           t.n_tokens, t.n_chars, t.finish_reason, t.status,
           pf.ppl AS ppl, pt.ppl AS thought_ppl, fl.flags, sd.doc,
           m.tokens_after_correct AS after_tokens, m.chars_after_correct AS after_chars, m.rechecks,
           round(m.chars_after_correct::DOUBLE / nullif(m.thought_chars, 0), 3) AS overthink
    FROM trajectory t
    LEFT JOIN problem p ON p.id = t.problem_id
    LEFT JOIN (SELECT trajectory_id, arg_max(ppl, created) AS ppl FROM perplexity
               WHERE part = 'full' {new_ppl} GROUP BY trajectory_id) pf ON pf.trajectory_id = t.id
    LEFT JOIN (SELECT trajectory_id, arg_max(ppl, created) AS ppl FROM perplexity
               WHERE part = 'thought' {new_ppl} GROUP BY trajectory_id) pt ON pt.trajectory_id = t.id
    LEFT JOIN (SELECT trajectory_id, string_agg(rule, ',' ORDER BY rule) AS flags FROM flag
               {new_flag} GROUP BY trajectory_id) fl ON fl.trajectory_id = t.id
    LEFT JOIN search_doc sd ON sd.trajectory_id = t.id
    LEFT JOIN trajectory_metrics m ON m.trajectory_id = t.id
    WHERE t.rowid > $after ORDER BY t.rowid"""


def index_rows(conn: duckdb.DuckDBPyConnection, after_rowid: int = -1):
    """Arrow table of the index rows of trajectories with ``rowid > after_rowid``, in rowid order."""
    new = "" if after_rowid < 0 else "trajectory_id IN (SELECT id FROM trajectory WHERE rowid > $after)"
    sql = INDEX_ROWS_SQL.format(
        new_ppl=f"AND {new}" if new else "",
        new_flag=f"WHERE {new}" if new else "",
        CODE_GOLD=CODE_GOLD,
        CODE_EXTRACTED=CODE_EXTRACTED,
    )
    return _arrow(conn, sql, {"after": after_rowid})


def index_flags(conn: duckdb.DuckDBPyConnection, after_rowid: int = -1):
    """(rid, rule, reason) of every flag on trajectories with ``rowid > after_rowid``."""
    return _arrow(
        conn,
        """SELECT t.rowid AS rid, f.rule, f.reason FROM flag f JOIN trajectory t ON t.id = f.trajectory_id
                           WHERE t.rowid > ?""",
        [after_rowid],
    )


def index_scores(conn: duckdb.DuckDBPyConnection, after_rowid: int = -1):
    """(rid, scorer, part, ppl) of every perplexity of trajectories with ``rowid > after_rowid``, in
    (rowid, scorer, part) order (the detail view lists them all)."""
    return _arrow(
        conn,
        """SELECT t.rowid AS rid, p.scorer, p.part, p.ppl FROM perplexity p
                           JOIN trajectory t ON t.id = p.trajectory_id WHERE t.rowid > ? ORDER BY 1, 2, 3""",
        [after_rowid],
    )


def index_problems(conn: duckdb.DuckDBPyConnection):
    """The problems' facts, with the question on one line and cut (the table's question column)."""
    return _arrow(
        conn,
        """SELECT id, domain, source,
                                  CASE WHEN answer_kind = 'code' THEN 'tests: ' || (meta->>'tests') ELSE answer END
                                  AS answer, difficulty,
                                  left(regexp_replace(question, '\\s+', ' ', 'g'), 240) AS question FROM problem""",
        [],
    )


def index_annotations(conn: duckdb.DuckDBPyConnection):
    """(rid, text) of every trajectory with tags or notes: its tags, then ``✎n`` for n notes."""
    return _arrow(
        conn,
        """
        SELECT t.rowid AS rid, concat_ws(' ', g.tags, CASE WHEN n.n > 0 THEN '✎' || n.n END) AS text
        FROM trajectory t
        LEFT JOIN (SELECT target_id, string_agg(tag, ',' ORDER BY tag) AS tags FROM tag
                   WHERE target_kind = 'trajectory' GROUP BY 1) g ON g.target_id = t.id
        LEFT JOIN (SELECT target_id, count(*) AS n FROM note WHERE target_kind = 'trajectory' GROUP BY 1) n
               ON n.target_id = t.id
        WHERE g.tags IS NOT NULL OR n.n IS NOT NULL ORDER BY t.rowid""",
        [],
    )


def annotations_signature(conn: duckdb.DuckDBPyConnection) -> tuple:
    """Changes whenever a tag or a note is added or removed (undo included)."""
    return conn.execute("""SELECT (SELECT (count(*), max(created)) FROM tag),
                                  (SELECT (count(*), max(id)) FROM note)""").fetchall()[0]


def verdicts_signature(conn: duckdb.DuckDBPyConnection, max_rowid: int | None = None) -> tuple:
    """Checksums of the verdicts and of the statuses of the trajectories up to ``max_rowid`` (all: None).

    The verdicts change when trajectories are re-verified in place; the statuses also without a curation
    event (``still2 sql --write``). Bounded by rowid, rows appended since do not change them."""
    bound = "" if max_rowid is None else "WHERE rowid <= ?"
    return tuple(
        conn.execute(
            f"SELECT sum(hash(verdict, extracted)), sum(hash(rowid, status)) FROM trajectory {bound}",
            [] if max_rowid is None else [max_rowid],
        ).fetchall()[0]
    )


def index_signature(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Cheap facts that change when rows are appended, rescored, reflagged, curated, or a job starts/ends."""
    row = conn.execute("""SELECT (SELECT count(*) FROM trajectory), (SELECT coalesce(max(rowid), -1) FROM trajectory),
                                 (SELECT count(*) FROM perplexity), (SELECT max(created) FROM perplexity),
                                 (SELECT count(*) FROM flag), (SELECT max(created) FROM flag),
                                 (SELECT count(*) FROM problem),
                                 (SELECT (count(*), max(created)) FROM trajectory_metrics),
                                 (SELECT list((id, state) ORDER BY id) FROM run),
                                 (SELECT (max(id), count(*) FILTER (WHERE state = 'done'),
                                          count(*) FILTER (WHERE state = 'undone')) FROM event)""").fetchall()[0]
    keys = (
        "rows",
        "max_rowid",
        "ppl",
        "ppl_created",
        "flags",
        "flags_created",
        "problems",
        "metrics",
        "runs",
        "events",
    )
    return dict(zip(keys, row))


def status_events(conn: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """{event id: state} of the status changes on trajectories (the undo log)."""
    return dict(
        conn.execute("""SELECT id, state FROM event WHERE target_kind = 'trajectory'
                                AND field = 'status'""").fetchall()
    )


def statuses_touched(conn: duckdb.DuckDBPyConnection, event_ids: list[int]):
    """Current (rid, status) of every trajectory touched by the given events."""
    return _arrow(
        conn,
        """SELECT t.rowid AS rid, t.status FROM trajectory t WHERE t.id IN (
                               SELECT target_id FROM event_item WHERE event_id IN (SELECT unnest(?)))""",
        [event_ids],
    )


def _arrow(conn: duckdb.DuckDBPyConnection, sql: str, params):
    return conn.sql(sql, params=params).to_arrow_table()


def rollout_texts(conn: duckdb.DuckDBPyConnection, ids: list[str]) -> list[dict[str, Any]]:
    """id, problem_id, verdict, model and text of the given trajectories (the divergence view)."""
    cur = conn.execute(
        """SELECT id, problem_id, verdict, model, text FROM trajectory
                          WHERE id IN (SELECT unnest(?))""",
        [ids],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


class StepLabel(NamedTuple):
    first_wrong_step: int
    n_steps: int  # the step count when labelled (a label of another split of the text does not apply)


def step_label(conn: duckdb.DuckDBPyConnection, trajectory_id: str) -> StepLabel | None:
    """The first wrong step of a trajectory as a curator labelled it, or None."""
    rows = _named(
        conn, StepLabel, "SELECT first_wrong_step, n_steps FROM step_label WHERE trajectory_id = ?", [trajectory_id]
    )
    return rows[0] if rows else None


# -- the disagreements view (still2tui/components/disagreements_screen.py) -----------------------------------
# Trajectories where our verifier, the imported harness and the LLM judge do not all agree, or whose verdict a
# curator accepted from another opinion (verdict_by). `open` keeps only the rows nobody accepted yet.
DISAGREEMENT_OPINIONS = """
    SELECT t.id, t.problem_id, p.answer AS gold, t.extracted, t.answer_source, t.answer_policy, t.verdict_reason,
           t.verdict_rule, t.verdict, t.verdict_by, t.harness_pred, t.judge_model, t.judge_reason,
           CASE WHEN t.verdict_by IS NULL THEN t.verdict ELSE t.verifier_verdict END AS ours,
           CASE WHEN t.harness_correct THEN 'correct' WHEN NOT t.harness_correct THEN 'incorrect' END AS harness,
           t.judge_verdict AS judge
    FROM trajectory t LEFT JOIN problem p ON p.id = t.problem_id
    WHERE t.verdict <> 'unverified'"""
DISAGREEMENTS_SQL = f"""
    SELECT o.id, o.problem_id, o.ours, coalesce(o.harness, '-') AS harness, coalesce(o.judge, '-') AS judge, o.verdict,
           coalesce(o.verdict_by, 'ours') AS "by", o.answer_source AS source,
           left(replace(o.extracted, chr(10), ' '), 60) AS answer, left(replace(o.gold, chr(10), ' '), 60) AS gold
    FROM ({DISAGREEMENT_OPINIONS}) o
    WHERE ((o.harness IS NOT NULL AND o.harness IS DISTINCT FROM o.ours)
           OR (o.judge IN ('correct', 'incorrect') AND o.judge IS DISTINCT FROM o.ours) OR o.verdict_by IS NOT NULL)
      AND {{where}}"""
# DISAGREEMENTS_SQL's rows nobody accepted an opinion of yet (the view's default).
DISAGREEMENTS_OPEN = Predicate("o.verdict_by IS NULL")


class JudgeOpinion(NamedTuple):
    judge_model: str
    verdict: str
    reason: str | None


def disagreement(conn: duckdb.DuckDBPyConnection, trajectory_id: str, tail_chars: int = 1500) -> dict[str, Any] | None:
    """The opinions on one trajectory, its question and the end of its text (what the view shows);
    ``other_judges``: the opinions of the judge models other than the latest one, newest first."""
    row = _one(conn, f"SELECT * FROM ({DISAGREEMENT_OPINIONS}) o WHERE id = ?", [trajectory_id])
    if row is None:
        return None
    row["other_judges"] = _named(
        conn,
        JudgeOpinion,
        """SELECT judge_model, verdict, reason FROM judge_opinion
           WHERE trajectory_id = ? AND judge_model IS DISTINCT FROM ? ORDER BY created DESC, judge_model""",
        [trajectory_id, row["judge_model"]],
    )
    row.update(
        _one(
            conn,
            """SELECT p.question, right(t.text, ?) AS tail, length(t.text) AS n_chars, t.finish_reason
                             FROM trajectory t LEFT JOIN problem p ON p.id = t.problem_id WHERE t.id = ?""",
            [tail_chars, trajectory_id],
        )
        or {}
    )
    return row


def trajectory_metrics(conn: duckdb.DuckDBPyConnection, trajectory_id: str) -> dict[str, Any] | None:
    """The ``still2 metrics`` row of a trajectory (``recheck_counts`` decoded), or None."""
    import json

    row = _one(
        conn,
        """SELECT first_correct_step, first_correct_how, chars_after_correct, tokens_after_correct,
                               rechecks, recheck_counts FROM trajectory_metrics WHERE trajectory_id = ?""",
        [trajectory_id],
    )
    if row is not None:
        row["recheck_counts"] = json.loads(row["recheck_counts"] or "{}")
    return row
