"""Typed read queries shared by the CLI and the TUI (counts, summaries, listings)."""

from __future__ import annotations

from typing import Any

import duckdb


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    cur = conn.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def stats(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Everything `still2 stats` shows; one pass per table, fast on a million trajectories."""
    totals = conn.execute("""
        SELECT (SELECT count(*) FROM problem), (SELECT count(*) FROM trajectory),
               (SELECT count(*) FROM pair), (SELECT count(*) FROM dataset), (SELECT count(*) FROM model),
               (SELECT count(*) FROM run), (SELECT count(*) FROM eval_result),
               (SELECT count(DISTINCT trajectory_id) FROM perplexity),
               (SELECT count(DISTINCT trajectory_id) FROM flag)
    """).fetchone()
    keys = (
        "problems",
        "trajectories",
        "pairs",
        "datasets",
        "models",
        "runs",
        "eval_results",
        "scored_trajectories",
        "flagged_trajectories",
    )
    out: dict[str, Any] = dict(zip(keys, totals))
    out["problems_by_source"] = _rows(
        conn,
        """
        SELECT source, split, domain, count(*) AS problems, count(answer) AS with_answer
        FROM problem GROUP BY ALL ORDER BY source, split NULLS FIRST""",
    )
    out["trajectories_by_origin"] = _rows(
        conn,
        """
        SELECT origin,
               count(*) AS trajectories,
               count(*) FILTER (WHERE verdict = 'correct') AS correct,
               count(*) FILTER (WHERE verdict = 'incorrect') AS incorrect,
               count(*) FILTER (WHERE verdict = 'unverified') AS unverified,
               count(*) FILTER (WHERE status = 'approved') AS approved,
               count(*) FILTER (WHERE status = 'rejected') AS rejected,
               count(*) FILTER (WHERE status = 'pending') AS pending,
               round(avg(n_chars)) AS avg_chars,
               round(avg(n_tokens)) AS avg_tokens
        FROM trajectory GROUP BY origin ORDER BY origin""",
    )
    out["runs_by_state"] = _rows(conn, "SELECT kind, state, count(*) AS runs FROM run GROUP BY ALL ORDER BY 1, 2")
    return out


def list_problems(
    conn: duckdb.DuckDBPyConnection,
    *,
    where: str | None = None,
    limit: int = 50,
    offset: int = 0,
    order: str = "source, source_key",
) -> list[dict[str, Any]]:
    clause = f"WHERE {where}" if where else ""
    return _rows(
        conn,
        f"""
        SELECT s.problem_id AS id, s.source, p.source_key, s.domain, s.difficulty, p.answer, p.answer_kind,
               p.meta->>'tests' AS tests, s.rollouts,
               s.correct, s.pass_rate, left(p.question, 200) AS question
        FROM problem_stats s JOIN problem p ON p.id = s.problem_id {clause}
        ORDER BY {order} LIMIT ? OFFSET ?""",
        [limit, offset],
    )
