"""Benchmarks are problem sources (+ split) in the store: `math500`, `aime24`, `gsm8k`, `gen-...:test`, ...

A spec is `SOURCE[:SPLIT]`. Known names with a conventional split (gsm8k -> test) get it by default.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.explore.selection import ProblemRef, select_problems
from store.store import Store

# Names in the report / shared data whose problems are imported under these sources.
KNOWN = {
    "math500": ("math500", None),
    "aime24": ("aime24", None),
    "aime25": ("aime25", None),
    "amc23": ("amc23", None),
    "gsm8k": ("gsm8k", "test"),
    "gpqa": ("gpqa", None),
    "gpqa_diamond": ("gpqa_diamond", None),
}


@dataclass(frozen=True)
class Benchmark:
    name: str
    source: str
    split: str | None


def parse_benchmark(spec: str) -> Benchmark:
    spec = spec.strip()
    if not spec:
        raise ValueError("empty benchmark name")
    source, sep, split = spec.partition(":")
    if not sep and source in KNOWN:
        source, split = KNOWN[source][0], KNOWN[source][1] or ""
    return Benchmark(name=spec, source=source, split=split or None)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def benchmark_name_sql(alias: str = "p", specs: list[str] | None = None) -> str:
    """SQL: the benchmark a problem belongs to, else NULL.

    Without ``specs``: a known benchmark source (gsm8k only its test split), or ``SOURCE:test`` for any
    other test-split problem. With ``specs`` (``SOURCE[:SPLIT]`` or known names): only those, named as
    given. What decontamination checks against.
    """
    cases = []
    if specs:
        for spec in specs:
            bench = parse_benchmark(spec)
            cond = f"{alias}.source = {_quote(bench.source)}"
            if bench.split:
                cond += f" AND {alias}.split = {_quote(bench.split)}"
            cases.append(f"WHEN {cond} THEN {_quote(bench.name)}")
    else:
        for name, (source, split) in KNOWN.items():
            cond = f"{alias}.source = {_quote(source)}" + (f" AND {alias}.split = {_quote(split)}" if split else "")
            cases.append(f"WHEN {cond} THEN {_quote(name)}")
        cases.append(f"WHEN {alias}.split = 'test' THEN {alias}.source || ':test'")
    return f"(CASE {' '.join(cases)} ELSE NULL END)"


def benchmark_problems(store: Store, bench: Benchmark, limit: int | None = None) -> list[ProblemRef]:
    with store.read() as conn:
        problems = select_problems(conn, source=bench.source, split=bench.split, limit=limit)
        if not problems:
            sources = [r[0] for r in conn.execute("SELECT DISTINCT source FROM problem ORDER BY 1").fetchall()]
    if not problems:
        hint = ", ".join(sources[:12]) or "none yet"
        raise ValueError(
            f"benchmark {bench.name!r}: no problems with answers for source {bench.source!r}"
            + (f" split {bench.split!r}" if bench.split else "")
            + f" (sources in the store: {hint}; add some with `still2 problems add|generate`)"
        )
    return problems
