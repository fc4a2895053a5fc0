"""Which problems an exploration run works on: all, unsolved, hardest by pass rate, or generated ones."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

MODES = ("all", "unsolved", "hardest", "generated")


@dataclass(frozen=True)
class ProblemRef:
    id: str
    question: str
    answer: str
    answer_kind: str
    choices: list[str] | None


def select_problems(conn: duckdb.DuckDBPyConnection, *, mode: str = "all", where: str | None = None,
                    source: str | None = None, split: str | None = None, limit: int | None = None,
                    problem_ids: list[str] | None = None) -> list[ProblemRef]:
    """Problems with a gold answer, chosen by mode; a stable order so reruns pick the same set.

    `where` is SQL over the problem (p.) and problem_stats (s.) columns.
    """
    if mode not in MODES:
        raise ValueError(f"unknown problem selection {mode!r}; choose one of {', '.join(MODES)}")
    clauses = ["p.answer IS NOT NULL"]
    params: dict = {}
    if mode == "unsolved":
        clauses.append("coalesce(s.correct, 0) = 0")
    if mode == "generated":
        clauses.append("p.source LIKE 'gen-%'")
    if source:
        clauses.append("p.source = $source")
        params["source"] = source
    if split:
        clauses.append("p.split = $split")
        params["split"] = split
    if problem_ids is not None:
        clauses.append("p.id IN (SELECT unnest($ids))")
        params["ids"] = problem_ids
    if where:
        clauses.append(f"({where})")
    order = ("s.pass_rate ASC NULLS FIRST, p.difficulty DESC NULLS LAST, p.id" if mode == "hardest"
             else "p.source, try_cast(p.source_key AS INTEGER) NULLS LAST, p.source_key, p.id")
    sql = f"""SELECT p.id, p.question, p.answer, p.answer_kind, p.choices
              FROM problem p LEFT JOIN problem_stats s ON s.problem_id = p.id
              WHERE {' AND '.join(clauses)} ORDER BY {order}"""
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [ProblemRef(*row) for row in conn.execute(sql, params).fetchall()]
