"""``still2 metrics``: compute overthinking metrics for stored trajectories into ``trajectory_metrics``.

Per trajectory: where in the thought the correct (gold) answer first appears (character, step, how it
was found), the thought's characters and tokens after it, and the re-check counts (overthinking.py).
Rows already computed with this ``VERSION`` and the same gold answer are skipped, so a killed run
resumes; ``recompute`` does them again. Each chunk is one short write.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pyarrow as pa

from pipeline.metrics.overthinking import RECHECKS, count_rechecks, first_correct
from store.ingest import upsert
from store.store import Store
from store.trajectory_format import ParsedResponse, parse_response

# Bump when a change can change a stored value (the candidate rules, the re-check kinds).
VERSION = "2:" + ",".join(RECHECKS)  # 2: a conclusion without a full stop ends its step

SCHEMA = pa.schema(
    [
        ("trajectory_id", pa.string()),
        ("thought_chars", pa.int32()),
        ("first_correct_char", pa.int32()),
        ("first_correct_step", pa.int32()),
        ("first_correct_how", pa.string()),
        ("chars_after_correct", pa.int32()),
        ("tokens_after_correct", pa.int32()),
        ("thought_tokens", pa.int32()),
        ("tokenizer", pa.string()),
        ("rechecks", pa.int32()),
        ("recheck_counts", pa.string()),
        ("gold", pa.string()),
        ("version", pa.string()),
    ]
)


@dataclass
class MetricsReport:
    selected: int = 0
    computed: int = 0
    with_correct: int = 0  # the correct answer was found in the thought
    rechecks: int = 0
    tokenizer: str | None = None
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _todo(store: Store, where: str | None, recompute: bool) -> list[str]:
    clauses = [f"({where})"] if where else []
    if not recompute:
        clauses.append(
            "NOT EXISTS (SELECT 1 FROM trajectory_metrics m WHERE m.trajectory_id = v.id "
            "AND m.version = $version AND m.gold IS NOT DISTINCT FROM v.gold)"
        )
    sql = "SELECT v.id FROM trajectories v" + (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY v.id"
    with store.read() as conn:
        return [r[0] for r in conn.sql(sql, params=None if recompute else {"version": VERSION}).fetchall()]


def _load(store: Store, ids: list[str]) -> list[dict]:
    with store.read() as conn:
        return (
            conn.sql(
                """
            SELECT t.id, t.text, t.thought, p.answer AS gold, p.answer_kind
            FROM trajectory t LEFT JOIN problem p ON p.id = t.problem_id
            WHERE t.id IN (SELECT unnest($ids)) ORDER BY t.id""",
                params={"ids": ids},
            )
            .to_arrow_table()
            .to_pylist()
        )


def step_of(thought: str, char: int) -> int | None:
    """Index of the thought step (ParsedResponse.steps) containing character ``char`` of the thought."""
    from bisect import bisect_right

    starts, at = [], 0
    for step in ParsedResponse(thought, None, (), "still").steps:
        at = thought.find(step, at)
        starts.append(at)
        at += len(step)
    return max(bisect_right(starts, char) - 1, 0) if starts else None


def metrics_row(row: dict, tokenizer: Any | None, tokenizer_name: str | None) -> dict:
    thought = row["thought"] if row["thought"] is not None else parse_response(row["text"] or "").thought or ""
    kind = row["answer_kind"] if row["answer_kind"] in ("math", "int", "mc") else "math"
    # a code problem's gold is its tests: no answer to find in the thought
    hit = first_correct(thought, row["gold"] or "", kind) if row["answer_kind"] != "code" else None
    counts = count_rechecks(thought)
    out = {
        "trajectory_id": row["id"],
        "thought_chars": len(thought),
        "first_correct_char": None,
        "first_correct_step": None,
        "first_correct_how": None,
        "chars_after_correct": None,
        "tokens_after_correct": None,
        "thought_tokens": None,
        "tokenizer": tokenizer_name,
        "rechecks": sum(counts.values()),
        "recheck_counts": json.dumps(counts),
        "gold": row["gold"],
        "version": VERSION,
    }
    if tokenizer is not None:
        out["thought_tokens"] = len(tokenizer(thought, add_special_tokens=False)["input_ids"])
    if hit is not None:
        rest = thought[hit.end :]
        out.update(
            first_correct_char=hit.start,
            first_correct_step=step_of(thought, hit.start),
            first_correct_how=hit.how,
            chars_after_correct=len(rest) if rest.strip() else 0,
        )
        if tokenizer is not None:
            out["tokens_after_correct"] = (
                len(tokenizer(rest, add_special_tokens=False)["input_ids"]) if rest.strip() else 0
            )
    return out


def load_tokenizer(name: str | None) -> tuple[Any | None, str | None]:
    """(tokenizer, name stored with the rows): ``default`` is SmolLM2's, ``none`` counts characters only."""
    if name in (None, "", "none"):
        return None, None
    from transformers import AutoTokenizer

    if name == "default":
        from pipeline.engines.tiny_model import load_smollm2_tokenizer

        return load_smollm2_tokenizer(), "default"
    return AutoTokenizer.from_pretrained(name), name


def compute_metrics(
    store: Store,
    *,
    where: str | None = None,
    recompute: bool = False,
    tokenizer: str | None = "default",
    chunk_size: int = 200,
    on_progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> MetricsReport:
    started = time.perf_counter()
    tok, tok_name = load_tokenizer(tokenizer)
    report = MetricsReport(tokenizer=tok_name)
    ids = _todo(store, where, recompute)
    report.selected = len(ids)
    if on_total:
        on_total(len(ids))
    for at in range(0, len(ids), chunk_size):
        chunk = ids[at : at + chunk_size]
        rows = [metrics_row(r, tok, tok_name) for r in _load(store, chunk)]
        with store.write() as conn:
            upsert(conn, "trajectory_metrics", pa.Table.from_pylist(rows, schema=SCHEMA))
        report.computed += len(rows)
        report.with_correct += sum(r["first_correct_char"] is not None for r in rows)
        report.rechecks += sum(r["rechecks"] for r in rows)
        for r in rows:
            for k, n in json.loads(r["recheck_counts"]).items():
                report.counts[k] = report.counts.get(k, 0) + n
        if on_progress:
            on_progress(len(chunk))
    report.seconds = time.perf_counter() - started
    return report
