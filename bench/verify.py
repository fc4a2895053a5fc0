"""Verifier throughput vs plain math-verify on one mixed set, in one run; prints the ratio and the slowest case.

    python bench/verify.py [--limit N] [--workers 1]

Mixed set: tests/data/verifier_devset.jsonl without the `pathological` category (full Sky-T1 outputs, MATH-500
answers in varied forms, GSM8K rationales, AIME integers, adversarial cases), 1 row per (gold, pred) pair.

Fairness: both sides use one core at a time. Baseline = `verify(parse(gold), parse(pred))` from math-verify
0.9.0 in the main thread of this process (its own signal timeouts on). Ours = `grade_many(..., workers=1)`:
extraction and fast paths in this process, symbolic comparisons in one worker process (the parent waits
while the worker works). Our result cache is cleared first; the worker pool is started before timing
(its one-off start-up, imports + a parser warm-up on WARMUP, is printed separately) and the baseline
process runs the same WARMUP pairs through math-verify before its timing starts.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load(limit: int | None):
    rows = [json.loads(l) for l in open(ROOT / "tests" / "data" / "verifier_devset.jsonl", encoding="utf-8")]
    rows = [r for r in rows if r["category"] != "pathological"]
    return rows[:limit] if limit else rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    rows = load(args.limit)
    items = [(r["gold"], r["pred"], r["kind"]) for r in rows]

    from pipeline.verifier import grade, grade_many
    from pipeline.verifier.grader import clear_cache
    from pipeline.verifier.pool import get_pool

    t0 = time.perf_counter()
    get_pool(args.workers).start(wait_warm=True)
    startup = time.perf_counter() - t0
    clear_cache()

    t0 = time.perf_counter()
    ours = grade_many(items, workers=args.workers, timeout=5.0)
    t_ours = time.perf_counter() - t0

    logging.disable(logging.WARNING)
    from math_verify import parse, verify

    from pipeline.verifier.symbolic import WARMUP

    for g, p in WARMUP:  # the same parser warm-up our workers do at start
        verify(parse(f"${g}$"), parse(f"${p}$"))
    t0 = time.perf_counter()
    base = []
    slow_base = (0.0, None)
    for g, p, _ in items:
        s = time.perf_counter()
        try:
            base.append(bool(verify(parse(g), parse(p))))
        except Exception:  # noqa: BLE001
            base.append(False)
        d = time.perf_counter() - s
        if d > slow_base[0]:
            slow_base = (d, (g[:60], p[-60:]))
    t_base = time.perf_counter() - t0

    # latency: one grade() call per item, cache cleared, slowest case reported
    clear_cache()
    slowest = (0.0, None, None)
    t0 = time.perf_counter()
    for g, p, k in items:
        s = time.perf_counter()
        v = grade(g, p, k, timeout=5.0)
        d = time.perf_counter() - s
        if d > slowest[0]:
            slowest = (d, (g[:60], p[-60:]), v)
    t_single = time.perf_counter() - t0

    n = len(items)
    exp = [r["expected"] for r in rows]
    acc_ours = sum(v.equal == e for v, e in zip(ours, exp)) / n
    acc_base = sum(b == e for b, e in zip(base, exp)) / n
    fp_ours = sum(v.equal and not e for v, e in zip(ours, exp))
    fp_base = sum(b and not e for b, e in zip(base, exp))
    print(f"mixed set: {n} items (dev set minus pathological); pool start-up {startup:.2f} s (not timed below)")
    print(f"plain math-verify : {t_base:7.2f} s  {n / t_base:8.1f} verdicts/s  accuracy {acc_base:.3f}  FP {fp_base}")
    print(
        f"still2 verifier   : {t_ours:7.2f} s  {n / t_ours:8.1f} verdicts/s  accuracy {acc_ours:.3f}  FP {fp_ours}"
        f"  (grade_many, workers={args.workers})"
    )
    print(f"speed-up          : {t_base / t_ours:.1f}x  (goal >= 2x)")
    print(
        f"one grade() per item: {t_single:.2f} s total; slowest single case {slowest[0]:.3f} s (goal < 2 s): "
        f"{slowest[1]} -> {slowest[2].rule if slowest[2] else None}"
    )
    print(f"slowest math-verify case: {slow_base[0]:.3f} s: {slow_base[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
