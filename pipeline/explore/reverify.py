"""Re-verify stored trajectories against their problems' gold answers, in parallel, in batches.

Each batch is graded outside any lock and written in one short transaction, so a TUI or other jobs
keep working meanwhile, and an interrupted run resumes with `--stale` (only rows whose verifier
version or answer policy differs from the current one, or that were never verified).

A verdict a curator accepted from another opinion (`verdict_by` harness/judge) is kept: the verifier's
new verdict goes to `verifier_verdict` beside it.
"""

from __future__ import annotations

from typing import Callable

import pyarrow as pa

from store import Store


def reverify(
    store: Store,
    *,
    where: str | None = None,
    stale_only: bool = False,
    batch: int = 2000,
    timeout: float = 5.0,
    workers: int | None = None,
    policy: str = "default",
    on_batch: Callable[[int, int], None] | None = None,
) -> dict:
    from pipeline.verifier import VERIFIER_VERSION, get_policy, grade_many

    policy = get_policy(policy).name
    clauses = ["p.answer IS NOT NULL"]
    params: dict = {}
    if stale_only:
        clauses.append(
            "(t.verifier_version IS DISTINCT FROM $version OR t.verdict = 'unverified' "
            "OR t.answer_policy IS DISTINCT FROM $policy)"
        )
        params = {"version": VERIFIER_VERSION, "policy": policy}
    if where:
        clauses.append(f"t.id IN (SELECT id FROM trajectories WHERE {where})")
    sql_where = " AND ".join(clauses)
    with store.read() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                f"SELECT t.id FROM trajectory t JOIN problem p ON p.id = t.problem_id WHERE {sql_where} ORDER BY t.id",
                params,
            ).fetchall()
        ]
    changed = correct = done = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        with store.read() as conn:
            rows = conn.execute(
                """SELECT t.id, p.answer, t.text, p.answer_kind, t.finish_reason,
                                          CASE WHEN t.verdict_by IS NULL THEN t.verdict ELSE t.verifier_verdict END
                                   FROM trajectory t JOIN problem p ON p.id = t.problem_id
                                   WHERE t.id IN (SELECT unnest(?))""",
                [chunk],
            ).fetchall()
        verdicts = grade_many([(r[1], r[2], r[3], r[4]) for r in rows], timeout=timeout, workers=workers, policy=policy)
        new = ["correct" if v.equal else "incorrect" for v in verdicts]
        update = pa.table(
            {
                "id": [r[0] for r in rows],
                "verdict": new,
                "extracted": [v.extracted for v in verdicts],
                "verdict_reason": [v.reason for v in verdicts],
                "answer_source": [v.answer_source for v in verdicts],
                "verdict_rule": [v.rule for v in verdicts],
            }
        )
        with store.write() as conn:
            conn.register("verified", update)
            conn.execute(
                """UPDATE trajectory SET verdict = CASE WHEN trajectory.verdict_by IS NULL THEN v.verdict
                                                                 ELSE trajectory.verdict END,
                                   verifier_verdict = CASE WHEN trajectory.verdict_by IS NULL THEN NULL
                                                           ELSE v.verdict END,
                                   extracted = v.extracted, verdict_reason = v.verdict_reason,
                                   answer_source = v.answer_source, verdict_rule = v.verdict_rule,
                                   answer_policy = $policy,
                                   verifier_version = $version
                            FROM verified v WHERE trajectory.id = v.id""",
                {"version": VERIFIER_VERSION, "policy": policy},
            )
            conn.unregister("verified")
        changed += sum(old != n for (*_, old), n in zip(rows, new))
        correct += new.count("correct")
        done += len(rows)
        if on_batch:
            on_batch(len(rows), correct)
    return {
        "verified": done,
        "correct": correct,
        "changed": changed,
        "verifier_version": VERIFIER_VERSION,
        "answer_policy": policy,
    }
