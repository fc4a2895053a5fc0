"""Which problems an exploration run works on: all, unsolved, hardest by pass rate, or generated ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipeline.options import Choice, opt

MODES = ("all", "unsolved", "hardest", "generated")
SelectionMode = Choice("SelectionMode", [(m, m) for m in MODES])


@dataclass
class ProblemSelection:
    """Which problems a run works on (explore and distill's selection options)."""

    mode: str = field(
        default="all",
        metadata=opt(
            "all | unsolved (no correct rollout yet) | hardest (lowest pass rate first) | generated (gen-* sources).",
            "--problems",
            choices=SelectionMode,
        ),
    )
    where: str | None = field(default=None, metadata=opt("SQL over problem (p.) and problem_stats (s.) columns."))
    source: str | None = field(default=None, metadata=opt("Only problems of this source."))
    split: str | None = field(default=None, metadata=opt("Only problems of this split."))
    limit: int | None = field(default=None, metadata=opt("At most this many problems."))

    def to_dict(self) -> dict[str, Any]:
        """As recorded in the run's args and hashed into its id (with the chosen ids added)."""
        return {"mode": self.mode, "where": self.where, "source": self.source, "split": self.split, "limit": self.limit}

    def select(self, conn: duckdb.DuckDBPyConnection) -> list["ProblemRef"]:
        return select_problems(
            conn, mode=self.mode, where=self.where, source=self.source, split=self.split, limit=self.limit
        )


@dataclass(frozen=True)
class ProblemRef:
    id: str
    question: str
    answer: str
    answer_kind: str
    choices: list[str] | None


def select_problems(
    conn: duckdb.DuckDBPyConnection,
    *,
    mode: str = "all",
    where: str | None = None,
    source: str | None = None,
    split: str | None = None,
    limit: int | None = None,
    problem_ids: list[str] | None = None,
) -> list[ProblemRef]:
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
    order = (
        "s.pass_rate ASC NULLS FIRST, p.difficulty DESC NULLS LAST, p.id"
        if mode == "hardest"
        else "p.source, try_cast(p.source_key AS INTEGER) NULLS LAST, p.source_key, p.id"
    )
    sql = f"""SELECT p.id, p.question, p.answer, p.answer_kind, p.choices
              FROM problem p LEFT JOIN problem_stats s ON s.problem_id = p.id
              WHERE {" AND ".join(clauses)} ORDER BY {order}"""
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [ProblemRef(*row) for row in conn.execute(sql, params).fetchall()]
