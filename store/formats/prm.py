"""Step labels as process-reward (PRM) training data, in TRL's stepwise-supervision shape.

One row per labelled rollout: ``prompt`` (the question as the user sees it), ``completions`` (the
thought's steps, ``store.trajectory_format.ParsedResponse.steps``, up to and including the first wrong
one) and ``labels`` (True for each step before it, False for it). This is the shape TRL's PRMTrainer
tokenizes (``trl.experimental.prm``; TRL removed it in 1.14, see README). Steps after the first wrong one
are left out: nothing says whether they are right. ``with_correct`` adds verified-correct rollouts with
every step labelled True (ours, the Math-Shepherd convention: a right answer does not prove every step).
A label whose step count no longer matches the stored text (the text was re-parsed differently) is
skipped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from store.prompting import render_question
from store.store import Store
from store.trajectory_format import parse_response


@dataclass
class PrmExport:
    rows: list[dict[str, Any]] = field(default_factory=list)
    labelled: int = 0
    correct: int = 0
    stale: list[str] = field(default_factory=list)  # ids whose label no longer fits the text


def prm_rows(
    store: Store, *, where: str | None = None, with_correct: bool = False, with_meta: bool = False
) -> PrmExport:
    chosen = "sl.trajectory_id IS NOT NULL" + (" OR v.verdict = 'correct'" if with_correct else "")
    clauses = [f"({chosen})"] + ([f"({where})"] if where else [])
    with store.read() as conn:
        records = (
            conn.sql(f"""
            SELECT v.id, v.problem_id, v.question, v.verdict, v.text, p.choices,
                   sl.first_wrong_step, sl.n_steps
            FROM trajectories v LEFT JOIN problem p ON p.id = v.problem_id
            LEFT JOIN step_label sl ON sl.trajectory_id = v.id
            WHERE {" AND ".join(clauses)} ORDER BY v.problem_id, v.id""")
            .to_arrow_table()
            .to_pylist()
        )
    out = PrmExport()
    for r in records:
        steps = parse_response(r["text"] or "").steps
        if r["first_wrong_step"] is not None:
            if r["n_steps"] != len(steps) or r["first_wrong_step"] >= len(steps):
                out.stale.append(r["id"])
                continue
            k = r["first_wrong_step"]
            completions, labels = steps[: k + 1], [True] * k + [False]
            out.labelled += 1
        elif steps:
            completions, labels = steps, [True] * len(steps)
            out.correct += 1
        else:
            continue
        row: dict[str, Any] = {
            "prompt": render_question(r["question"] or "", r["choices"]),
            "completions": completions,
            "labels": labels,
        }
        if with_meta:
            row.update(
                {
                    "id": r["id"],
                    "problem_id": r["problem_id"],
                    "verdict": r["verdict"],
                    "first_wrong_step": r["first_wrong_step"],
                }
            )
        out.rows.append(row)
    return out
