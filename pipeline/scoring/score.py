"""Perplexity of each trajectory's response given its prompt, per (trajectory, scorer, part).

``full`` scores the response as trained on; ``thought`` scores the response cut right after
``<|end_of_thought|>`` (``thought_prefix``; responses without the tag get no thought row). Rows
already scored by the same scorer are skipped unless ``rescore``, so a killed run resumes. Scoring
``full`` also fills ``trajectory.n_tokens`` where it is NULL (the scorer's token count). ``tokens`` also
keeps each token's NLL and character span in table ``token_nll`` (store/token_nll.py; rows scored before
without them are scored again).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import pyarrow as pa

from pipeline.scoring.tokens import TOKEN_NLL_SCHEMA, token_row
from store.formats.export import training_text
from store.ingest import upsert
from store.prompting import chat_prompt
from store.store import Store
from store.trajectory_format import thought_prefix

PARTS = ("full", "thought")


@dataclass
class ScoreReport:
    scorer: str
    parts: list[str]
    selected: int = 0
    scored: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    tokens: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def parts_of(part: str) -> list[str]:
    if part == "both":
        return list(PARTS)
    if part not in PARTS:
        raise ValueError(f"--part must be full, thought or both, got {part!r}")
    return [part]


_HAS_THOUGHT_END = "(strpos(v.text, '<|end_of_thought|>') > 0 OR strpos(v.text, '</think>') > 0)"


def _todo(
    store: Store, scorer: str, parts: list[str], where: str | None, rescore: bool, tokens: bool = False
) -> list[str]:
    """Ids with some requested part not yet scored by ``scorer`` (a thought part needs an end-of-thought tag);
    with ``tokens``, a part scored without its per-token row counts as not scored."""
    clauses = [f"({where})"] if where else []
    if not rescore:
        tables = ("perplexity", "token_nll") if tokens else ("perplexity",)
        missing = [
            "(("
            + " OR ".join(
                f"NOT EXISTS (SELECT 1 FROM {table} px WHERE px.trajectory_id = v.id "
                f"AND px.scorer = $scorer AND px.part = '{part}')"
                for table in tables
            )
            + f"){' AND ' + _HAS_THOUGHT_END if part == 'thought' else ''})"
            for part in parts
        ]
        clauses.append("(" + " OR ".join(missing) + ")")
    # Rollouts of one problem share their whole prompt: chunks by problem let the scorer reuse its cache.
    sql = (
        "SELECT v.id FROM trajectories v"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + " ORDER BY v.problem_id, v.id"
    )
    with store.read() as conn:
        return [r[0] for r in conn.sql(sql, params=None if rescore else {"scorer": scorer}).fetchall()]


def _load(store: Store, ids: list[str]) -> list[dict]:
    with store.read() as conn:
        return (
            conn.sql(
                """
            SELECT t.id, t.text, t.format_style, t.thought, t.solution, p.question, p.choices
            FROM trajectory t JOIN problem p ON p.id = t.problem_id
            WHERE t.id IN (SELECT unnest($ids)) ORDER BY t.id""",
                params={"ids": ids},
            )
            .to_arrow_table()
            .to_pylist()
        )


def _requests(rows: list[dict], parts: list[str], system_prompt: str | None) -> list[tuple[str, str, list, str]]:
    out = []
    for r in rows:
        prompt = chat_prompt(r["question"], r["choices"], system_prompt)
        full = training_text(r["text"], r["format_style"], r["thought"], r["solution"])
        for part in parts:
            response = full if part == "full" else thought_prefix(full)
            if response and response.strip():
                out.append((r["id"], part, prompt, response))
    return out


def _write(store: Store, scorer: str, results: list[dict], token_rows: list[dict] | None = None) -> None:
    if not results:
        return
    with store.write() as conn:
        upsert(
            conn,
            "perplexity",
            pa.Table.from_pylist(
                [{k: r[k] for k in ("trajectory_id", "scorer", "part", "mean_nll", "ppl", "n_tokens")} for r in results]
            ),
        )
        if token_rows:
            upsert(conn, "token_nll", pa.Table.from_pylist(token_rows, schema=TOKEN_NLL_SCHEMA))
        full = pa.Table.from_pylist(
            [{"id": r["trajectory_id"], "n": r["n_tokens"]} for r in results if r["part"] == "full"],
            schema=pa.schema([("id", pa.string()), ("n", pa.int64())]),
        )
        conn.register("scored_tokens", full)
        try:
            conn.execute(
                "UPDATE trajectory SET n_tokens = s.n FROM scored_tokens s "
                "WHERE trajectory.id = s.id AND trajectory.n_tokens IS NULL"
            )
        finally:
            conn.unregister("scored_tokens")


def _chunks(store: Store, ids: list[str], chunk_size: int, chunk_chars: int) -> list[list[str]]:
    """``ids`` in order, cut into chunks of at most ``chunk_size`` trajectories and about ``chunk_chars``
    characters of text: each chunk is scored and committed before the next, so on a CPU with long
    trajectories (45k characters) a killed run loses minutes, not the whole run."""
    with store.read() as conn:
        length = dict(
            conn.sql(
                "SELECT id, coalesce(n_chars, length(text)) FROM trajectory WHERE id IN (SELECT unnest($ids))",
                params={"ids": ids},
            ).fetchall()
        )
    chunks: list[list[str]] = []
    current: list[str] = []
    chars = 0
    for tid in ids:
        if current and (len(current) >= chunk_size or chars + length.get(tid, 0) > chunk_chars):
            chunks.append(current)
            current, chars = [], 0
        current.append(tid)
        chars += length.get(tid, 0)
    if current:
        chunks.append(current)
    return chunks


def score_trajectories(
    store: Store,
    engine,
    *,
    scorer: str | None = None,
    part: str = "full",
    where: str | None = None,
    chunk_size: int = 64,
    chunk_chars: int = 60_000,
    rescore: bool = False,
    system_prompt: str | None = None,
    tokens: bool = False,
    on_progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> ScoreReport:
    """Score the selected trajectories with ``engine.score`` and store mean NLL and perplexity."""
    import time

    parts = parts_of(part)
    scorer = scorer or engine.model_id
    report = ScoreReport(scorer, parts, scored={p: 0 for p in parts})
    ids = _todo(store, scorer, parts, where, rescore, tokens)
    report.selected = len(ids)
    if on_total:
        on_total(len(ids))
    started = time.perf_counter()
    for chunk in _chunks(store, ids, chunk_size, chunk_chars):
        requests = _requests(_load(store, chunk), parts, system_prompt)
        scores = engine.score([q[2] for q in requests], [q[3] for q in requests]) if requests else []
        results, token_rows = [], []
        for (tid, p, _, response), s in zip(requests, scores):
            nll = s.mean_nll()
            if math.isnan(nll):
                report.skipped += 1
                continue
            results.append(
                {
                    "trajectory_id": tid,
                    "scorer": scorer,
                    "part": p,
                    "mean_nll": nll,
                    "ppl": math.exp(min(nll, 700.0)),
                    "n_tokens": s.n_tokens,
                }
            )
            report.scored[p] += 1
            report.tokens += s.n_tokens
            if tokens:
                token_rows.append(token_row(engine.tokenizer, tid, scorer, p, response, s.logprobs))
        _write(store, scorer, results, token_rows)
        if on_progress:
            on_progress(len(chunk))
    report.seconds = time.perf_counter() - started
    return report
