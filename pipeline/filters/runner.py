"""Run filter rules over the store: read covered trajectories in chunks, write flags (never touch trajectories).

A run covers the trajectories matching ``where`` (a filter over the ``trajectories`` view). For each
rule, the run first deletes that rule's flags on the covered trajectories, then inserts the new
ones, so re-running with other thresholds replaces the old verdicts. With a group rule, chunks hold
whole problems (group rules see all covered rollouts of a problem); otherwise they are consecutive
runs of the table, so a read touches only its own row groups. Each chunk is one short write.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pyarrow as pa

from pipeline.filters.base import Finding, Rule, get_rules
from store.ingest import insert_new
from store.store import Store

_BASE_COLUMNS = ("id", "problem_id")
_SOURCES = {"question": "p.question", "answer_kind": "p.answer_kind"}


@dataclass
class RuleCount:
    rule: str
    checked: int = 0
    flagged: int = 0
    seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class FilterReport:
    covered: int
    counts: list[RuleCount]

    def to_dict(self) -> dict[str, Any]:
        return {
            "covered": self.covered,
            "rules": [
                {
                    "rule": c.rule,
                    "checked": c.checked,
                    "flagged": c.flagged,
                    "seconds": round(c.seconds, 3),
                    "params": c.params,
                }
                for c in self.counts
            ],
        }


def covered_ids(store: Store, where: str | None) -> list[tuple[int, str, str]]:
    """(rowid, id, problem id) of the trajectories a run covers, in table order."""
    sql = "SELECT rowid, id, problem_id FROM trajectory"
    if where:
        sql += f" WHERE id IN (SELECT id FROM trajectories WHERE {where})"
    with store.read() as conn:
        return conn.execute(sql + " ORDER BY rowid").fetchall()


@dataclass
class Chunk:
    """Trajectories read and written together; ``lo``/``hi`` bound their rowids (DuckDB skips the rest)."""

    ids: list[str]
    lo: int
    hi: int


def chunks_by_problem(rows: list[tuple[int, str, str]], size: int) -> list[Chunk]:
    """Chunks of about ``size`` that keep problems whole (what group rules need)."""
    out: list[Chunk] = []
    current: list[tuple[int, str, str]] = []
    last = None
    for row in sorted(rows, key=lambda r: (r[2], r[1])):
        if row[2] != last and len(current) >= size:
            out.append(_chunk(current))
            current = []
        current.append(row)
        last = row[2]
    if current:
        out.append(_chunk(current))
    return out


def chunks_by_rowid(rows: list[tuple[int, str, str]], size: int) -> list[Chunk]:
    """Consecutive runs of the table (rules that look at one row, or a batch, at a time): each read touches
    only its row groups, where a chunk of whole problems scattered over a large table scans all of it."""
    return [_chunk(rows[i : i + size]) for i in range(0, len(rows), size)]


def _chunk(rows: list[tuple[int, str, str]]) -> Chunk:
    rowids = [r[0] for r in rows]
    return Chunk([r[1] for r in rows], min(rowids), max(rowids))


def _read_chunk(conn, chunk: Chunk, rules: list[Rule], params: dict[str, dict]) -> tuple[list[dict], dict[str, list]]:
    needed = sorted({c for r in rules if r.kind != "sql" for c in r.columns} - set(_BASE_COLUMNS))
    select = [f"t.{c}" for c in _BASE_COLUMNS] + [f"{_SOURCES.get(c, 't.' + c)} AS {c}" for c in needed]
    select += [f'{r.check(params[r.name])} AS "sql_{r.name}"' for r in rules if r.kind == "sql"]
    table = conn.sql(
        f"SELECT {', '.join(select)} FROM trajectory t LEFT JOIN problem p ON p.id = t.problem_id "
        "WHERE t.rowid BETWEEN $lo AND $hi AND t.id IN (SELECT unnest($ids)) ORDER BY t.problem_id, t.id",
        params={"ids": chunk.ids, "lo": chunk.lo, "hi": chunk.hi},
    ).to_arrow_table()
    sql_results = {r.name: table.column(f"sql_{r.name}").to_pylist() for r in rules if r.kind == "sql"}
    rows = table.select([c for c in table.column_names if not c.startswith("sql_")]).to_pylist()
    return rows, sql_results


def _apply(rule: Rule, p: dict, rows: list[dict], sql_results: dict[str, list], context: Any = None) -> dict:
    if rule.kind == "batch":
        return {tid: reason for tid, reason in rule.check(rows, p, context).items() if reason}
    if rule.kind == "sql":
        return {r["id"]: reason for r, reason in zip(rows, sql_results[rule.name]) if reason}
    if rule.kind == "row":
        return {r["id"]: reason for r in rows if (reason := rule.check(r, p))}
    hits: dict[str, str] = {}
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i]["problem_id"] != rows[start]["problem_id"]:
            hits.update(rule.check(rows[start:i], p))
            start = i
    return hits


def _flag_rows(rule_name: str, found: dict, params: dict) -> list[dict]:
    rows = []
    with_detail = any(isinstance(r, Finding) for r in found.values())
    for tid, reason in sorted(found.items()):
        row = {
            "trajectory_id": tid,
            "rule": rule_name,
            "reason": reason.reason if isinstance(reason, Finding) else reason,
            "params": params,
        }
        if with_detail:
            row["detail"] = dict(reason.detail) if isinstance(reason, Finding) else None
        rows.append(row)
    return rows


def _write(conn, ids: list[str], hits: dict[str, dict[str, str]], params: dict[str, dict]) -> None:
    conn.register("covered_chunk", pa.table({"id": ids}))
    try:
        for rule_name, found in hits.items():
            conn.execute(
                "DELETE FROM flag WHERE rule = ? AND trajectory_id IN (SELECT id FROM covered_chunk)", [rule_name]
            )
            if found:
                insert_new(conn, "flag", _flag_rows(rule_name, found, params[rule_name]))
    finally:
        conn.unregister("covered_chunk")


def run_filters(
    store: Store,
    rules: list[str] | None = None,
    *,
    where: str | None = None,
    params: dict[str, dict] | None = None,
    chunk_size: int = 2000,
    on_progress: Callable[[int], None] | None = None,
) -> FilterReport:
    """Evaluate rules on the covered trajectories and replace their flags; returns counts per rule."""
    chosen = get_rules(rules)
    merged = {r.name: r.params((params or {}).get(r.name)) for r in chosen}
    extra = set(params or {}) - {r.name for r in chosen}
    if extra:
        raise ValueError(f"--param given for rule(s) not being run: {', '.join(sorted(extra))}")
    rows_all = covered_ids(store, where)
    counts = {r.name: RuleCount(r.name, params=merged[r.name]) for r in chosen}
    contexts = {}
    for rule in chosen:
        if rule.prepare is not None:
            t0 = time.perf_counter()
            with store.read() as conn:
                contexts[rule.name] = rule.prepare(conn, merged[rule.name])
            counts[rule.name].seconds += time.perf_counter() - t0
    grouped = any(r.kind == "group" for r in chosen)
    for chunk in (chunks_by_problem if grouped else chunks_by_rowid)(rows_all, chunk_size):
        ids = chunk.ids
        started = time.perf_counter()
        with store.read() as conn:
            rows, sql_results = _read_chunk(conn, chunk, chosen, merged)
        read_share = (time.perf_counter() - started) / len(chosen)
        hits = {}
        for rule in chosen:
            t0 = time.perf_counter()
            hits[rule.name] = _apply(rule, merged[rule.name], rows, sql_results, contexts.get(rule.name))
            counts[rule.name].seconds += time.perf_counter() - t0 + read_share
            counts[rule.name].checked += len(rows)
            counts[rule.name].flagged += len(hits[rule.name])
        with store.write() as conn:
            _write(conn, ids, hits, merged)
        if on_progress:
            on_progress(len(ids))
    return FilterReport(len(rows_all), list(counts.values()))
