"""Metrics over one benchmark's stored eval rollouts: accuracy (mean over samples), pass@k, maj@k."""

from __future__ import annotations

from collections import Counter
from math import comb


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct (Chen et al., 2021)."""
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def majority(extracted: list[str | None]) -> str | None:
    """The most frequent extracted answer (whitespace-normalized; first seen wins a tie), None if none."""
    answers = [" ".join(a.split()) for a in extracted if a and a.strip()]
    if not answers:
        return None
    counts = Counter(answers)
    best = max(counts.values())
    return next(a for a in answers if counts[a] == best)


def benchmark_metrics(
    per_problem: dict[str, list[tuple[bool, str | None]]], n: int, majority_correct: dict[str, bool] | None = None
) -> dict[str, float]:
    """accuracy always; pass@n and maj@n when n > 1 (majority verdicts come from the verifier)."""
    if not per_problem:
        return {}
    problems = len(per_problem)
    out = {"accuracy": sum(sum(ok for ok, _ in rs) / len(rs) for rs in per_problem.values()) / problems}
    if n > 1:
        out[f"pass@{n}"] = (
            sum(pass_at_k(len(rs), sum(ok for ok, _ in rs), min(n, len(rs))) for rs in per_problem.values()) / problems
        )
        if majority_correct is not None:
            out[f"maj@{n}"] = sum(majority_correct.get(pid, False) for pid in per_problem) / problems
    return out
