"""The LLM judge: a second opinion on verdicts through any engine (openai-compatible, vLLM, transformers).

It reads the rows the verifier could not decide (no answer found, unparseable, timeout, error) or a
seeded random audit sample of decided rows, asks the model whether the response's final answer equals
the gold answer, and stores its verdict (correct | incorrect | unsure) and a one-line reason as one
`judge_opinion` row per (trajectory, judge model): judging with another model adds its opinion beside the
earlier ones. The trajectory's `judge_verdict`, `judge_model`, `judge_reason` show the latest opinion (what
the TUI filters on and a curator accepts). It never touches `verdict`: a curator accepts the judge's
opinion explicitly (TUI disagreements view, store/curation.accept_verdict), undoably.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from pipeline.options import opt
from store import Store

# Verdict rules the verifier could not decide from; "cut_off" is decided (no credit) and is not asked.
UNDECIDED_RULES = ("no_answer", "unparseable", "timeout", "error")
UNDECIDED_REASONS = ("no_answer:", "unparseable:", "timeout:", "error:")  # rows verified before verdict_rule

PROMPT = """You are grading the answer of a student to a math problem.

Problem:
{question}

Reference answer: {gold}

The end of the student's response:
\"\"\"
{tail}
\"\"\"

Does the student's final answer equal the reference answer? Reply with exactly two lines:
VERDICT: correct or incorrect
REASON: one short sentence"""


@dataclass
class JudgeConfig:
    """Which rows to judge and how; `still2 judge`'s options are generated from these fields."""

    audit: int | None = field(
        default=None,
        metadata=opt(
            "Judge a seeded random sample of N decided rows instead of the undecided ones (no answer found, "
            "unparseable, timeout, error).",
            min=1,
        ),
    )
    seed: int = field(default=0, metadata=opt("Seed of the audit sample."))
    where: str | None = field(default=None, metadata=opt("SQL filter over the trajectories view."))
    limit: int | None = field(default=None, metadata=opt("At most this many rows.", min=1))
    max_new_tokens: int = field(default=128, metadata=opt("Tokens of the judge's reply.", min=1))
    tail_chars: int = field(default=1500, metadata=opt("Characters of the end of each response shown.", min=100))
    # prompts per generate call (one write per batch: an interrupted run resumes); the CLI takes the
    # engine's --batch-size
    batch: int = 8
    overwrite: bool = field(
        default=False,
        metadata=opt("Judge again rows this model judged (replaces only this model's opinions).", "--overwrite"),
    )


_VERDICT = re.compile(r"verdict\s*[:：]?\s*[*\"'`]*\s*(incorrect|correct|wrong|right|yes|no)\b", re.IGNORECASE)
_FIRST_WORD = re.compile(r"\b(incorrect|not\s+correct|wrong|correct|right)\b", re.IGNORECASE)
_REASON = re.compile(r"reason\s*[:：]\s*(.+)", re.IGNORECASE)
_MEANING = {
    "incorrect": "incorrect",
    "wrong": "incorrect",
    "no": "incorrect",
    "not correct": "incorrect",
    "correct": "correct",
    "right": "correct",
    "yes": "correct",
}


def parse_judgement(reply: str) -> tuple[str, str]:
    """(verdict, one-line reason) from the judge's reply; "unsure" when it states neither verdict."""
    reply = reply or ""
    m = _VERDICT.search(reply)
    word = m.group(1) if m else None
    if word is None:
        first = next((ln for ln in reply.splitlines() if ln.strip()), "")
        w = _FIRST_WORD.search(first)
        word = re.sub(r"\s+", " ", w.group(1)) if w else None
    verdict = _MEANING.get(word.lower(), "unsure") if word else "unsure"
    r = _REASON.search(reply)
    reason = (r.group(1) if r else next((ln for ln in reply.splitlines() if ln.strip()), "")).strip()
    reason = re.sub(r"\s+", " ", reason)[:200] or "(no reason given)"
    return verdict, reason


def _selection_sql(cfg: JudgeConfig) -> tuple[str, dict]:
    """The rows to judge. An audit is a fixed seeded sample of ``audit`` decided rows; of it, the rows this
    model has not judged yet (all with --overwrite), so an interrupted audit resumes the same sample
    instead of drawing new rows. ``--limit`` caps the rows judged in this run."""
    params: dict = {"model": None}
    clauses = ["p.answer IS NOT NULL", "t.verdict <> 'unverified'"]
    if cfg.audit is None:
        rules = ", ".join(f"'{r}'" for r in UNDECIDED_RULES)
        prefixes = " OR ".join(f"starts_with(t.verdict_reason, '{p}')" for p in UNDECIDED_REASONS)
        clauses.append(f"(t.verdict_rule IN ({rules}) OR (t.verdict_rule IS NULL AND ({prefixes})))")
    if cfg.where:
        clauses.append(f"t.id IN (SELECT id FROM trajectories WHERE {cfg.where})")
    order = "t.id"
    if cfg.audit is not None:
        order = "hash(t.id || $seed), t.id"
        params["seed"] = str(cfg.seed)
        clauses = [
            f"""t.id IN (SELECT t.id FROM trajectory t JOIN problem p ON p.id = t.problem_id
                        WHERE {" AND ".join(clauses)} ORDER BY {order} LIMIT {int(cfg.audit)})"""
        ]
    if cfg.overwrite:
        del params["model"]
    else:  # rows this model has an opinion on are done; other models' opinions do not count
        clauses.append(
            "NOT EXISTS (SELECT 1 FROM judge_opinion o WHERE o.trajectory_id = t.id AND o.judge_model = $model)"
        )
    sql = f"""SELECT t.id, p.question, p.answer, t.text FROM trajectory t JOIN problem p ON p.id = t.problem_id
              WHERE {" AND ".join(clauses)} ORDER BY {order}""" + (
        f" LIMIT {int(cfg.limit)}" if cfg.limit is not None else ""
    )
    return sql, params


def select_rows(store: Store, cfg: JudgeConfig, model_id: str) -> list[tuple[str, str, str, str]]:
    """(id, question, gold, text) of the rows to judge."""
    sql, params = _selection_sql(cfg)
    if "model" in params:
        params["model"] = model_id
    with store.read() as conn:
        return conn.execute(sql, params).fetchall()


def judge_prompt(question: str, gold: str, text: str, tail_chars: int = 1500) -> list[dict[str, str]]:
    tail = text[-tail_chars:]
    if len(text) > tail_chars:
        tail = "..." + tail
    return [{"role": "user", "content": PROMPT.format(question=question.strip(), gold=gold.strip(), tail=tail)}]


def earlier_opinions(store: Store, ids: list[str], model_id: str) -> dict:
    """What is already stored on the rows `ids` before `model_id` judges them: how many rows hold another
    model's opinion (kept beside the new one), those models with their row counts (most first), and how
    many of `model_id`'s own opinions get replaced (only with --overwrite: the selection skips them)."""
    with store.read() as conn:
        where = "trajectory_id IN (SELECT unnest(?))"
        by_model = conn.execute(
            f"""SELECT judge_model, count(*) FROM judge_opinion WHERE {where}
                GROUP BY judge_model ORDER BY count(*) DESC, judge_model""",
            [ids],
        ).fetchall()
        other_rows = conn.execute(
            f"SELECT count(DISTINCT trajectory_id) FROM judge_opinion WHERE {where} AND judge_model <> ?",
            [ids, model_id],
        ).fetchone()[0]
    others = {m: n for m, n in by_model if m != model_id}
    return {
        "rows_with_other_judges": other_rows,
        "other_judges": others,
        "replaced_own": dict(by_model).get(model_id, 0),
    }


def judge(store: Store, engine, cfg: JudgeConfig, *, on_batch: Callable[[int, dict], None] | None = None) -> dict:
    """Judge the selected rows with `engine`; returns counts per judge verdict, agreement with ours, and the
    opinions other models already hold on these rows (kept beside this one) and this model's it replaced."""
    import pyarrow as pa

    from pipeline.engines.base import SamplingParams
    from store.ingest import upsert

    model_id = engine.model_id
    mode = "audit" if cfg.audit is not None else "undecided"
    rows = select_rows(store, cfg, model_id)
    ids = [r[0] for r in rows]
    earlier = earlier_opinions(store, ids, model_id)
    counts = {"correct": 0, "incorrect": 0, "unsure": 0}
    params = SamplingParams(n=1, temperature=0.0, max_new_tokens=cfg.max_new_tokens, seed=cfg.seed)
    for start in range(0, len(rows), cfg.batch):
        chunk = rows[start : start + cfg.batch]
        results = engine.generate([judge_prompt(q, g, t, cfg.tail_chars) for _, q, g, t in chunk], params)
        parsed = [parse_judgement(r.completions[0].text if r.completions else "") for r in results]
        opinions = pa.table(
            {
                "trajectory_id": [r[0] for r in chunk],
                "judge_model": [model_id] * len(chunk),
                "verdict": [p[0] for p in parsed],
                "reason": [p[1] for p in parsed],
                "mode": [mode] * len(chunk),
            }
        )
        with store.write() as conn:
            upsert(conn, "judge_opinion", opinions)  # replaces only this model's opinion on a row
            # the trajectory's judge columns show the latest opinion
            conn.execute(
                """UPDATE trajectory
                   SET judge_verdict = o.verdict, judge_reason = o.reason, judge_model = o.judge_model
                   FROM judge_opinion o
                   WHERE o.trajectory_id = trajectory.id AND o.judge_model = ?
                     AND o.trajectory_id IN (SELECT unnest(?))""",
                [model_id, [r[0] for r in chunk]],
            )
        for v, _ in parsed:
            counts[v] += 1
        if on_batch:
            on_batch(len(chunk), counts)
    with store.read() as conn:
        agree = conn.execute(
            """SELECT count(*) FILTER (WHERE judge_verdict = verdict),
                                       count(*) FILTER (WHERE judge_verdict IN ('correct', 'incorrect')
                                                        AND judge_verdict <> verdict)
                                FROM trajectory WHERE id IN (SELECT unnest(?))""",
            [ids],
        ).fetchone()
    return {
        "model": model_id,
        "judged": len(rows),
        **counts,
        "agree_with_verdict": agree[0],
        "disagree_with_verdict": agree[1],
        "mode": mode,
        **earlier,
    }
