"""Hostile-answer fuzz of the verifier (issue 19): N seeded items of adversarial families graded one at a
time in-process, each under its timeout; prints crashes (any exception), the worst item's time against
its timeout + 1 s, and throughput per family and overall.

    .venv/bin/python bench/verify_fuzz.py                 # 10,000 items, timeout 2 s
    .venv/bin/python bench/verify_fuzz.py --n 2000 --out /tmp/fuzz.jsonl   # also write the items (for `still2 grade`)
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.verifier.fuzz_tokens import TOKENS  # noqa: E402 - after the path is set


def _huge_number(rng: random.Random) -> str:
    k = rng.choice([4301, 5000, 9999, 20000, 99999])
    return rng.choice(
        [
            f"10^{{{k}}}",
            f"1e{k}",
            f"9.99\\times10^{{{k}}}",
            f"0.{rng.randint(1, 99999)}\\times10^{{-{k}}}",
            "9" * rng.choice([400, 4301, 5000]),
            f"2^{{{k}}}",
            f"\\frac{{1}}{{10^{{{k}}}}}",
            f"{k}!",
            f"9^{{9^{{9^{{{rng.randint(2, 9)}}}}}}}",
        ]
    )


def _family(rng: random.Random, fam: str) -> tuple[str, str, str]:
    if fam == "huge_number":
        gold = rng.choice(["7", "1e9999", _huge_number(rng)])
        pred = rng.choice([f"\\boxed{{{_huge_number(rng)}}}", f"The answer is {_huge_number(rng)}.", _huge_number(rng)])
        return gold, pred, "math"
    if fam == "box_spam":
        k = rng.choice([1_000, 10_000, 50_000, 150_000])
        unit = rng.choice(["\\boxed{", "\\boxed{1}", "\\fbox{", "\\boxed{\\boxed{", "{", "\\boxed 1 "])
        prefix = rng.choice(["", "<|begin_of_solution|>", "<|begin_of_thought|>", "<think>"])
        return "1", prefix + unit * k, "math"
    if fam == "deep_nesting":
        k = rng.choice([100, 1000, 5000, 20000])
        o, c = rng.choice([("{", "}"), ("(", ")"), ("\\left(", "\\right)"), ("\\frac{1}{", "}"), ("\\sqrt{", "}")])
        return "2", f"\\boxed{{{o * k}2{c * k}}}", "math"
    if fam == "long_text":
        k = rng.choice([10_000, 100_000, 500_000])
        words = ["so", "the", "answer", "is", "maybe", "3", "wait", "=", "Therefore", ".", "\n", "$x$", "is"]
        return "3", " ".join(rng.choice(words) for _ in range(k // 4)), rng.choice(["math", "int", "mc"])
    if fam == "tokens":
        n = rng.randint(1, 200)
        pred = "".join(rng.choice(TOKENS) for _ in range(n))
        gold = "".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 20)))
        return gold, pred, rng.choice(["math", "int", "mc"])
    if fam == "unicode":
        n = rng.randint(1, 300)
        pred = "".join(
            chr(
                rng.choice(
                    [
                        rng.randint(0, 0x2FF),
                        rng.randint(0x2000, 0x2BFF),
                        rng.randint(0xE000, 0xFFFD),
                        rng.randint(0x1F300, 0x1FAFF),
                    ]
                )
            )
            for _ in range(n)
        )
        return rng.choice(["1", "\\frac12", "A"]), pred, rng.choice(["math", "mc"])
    if fam == "symbolic_bomb":
        pred = rng.choice(
            [
                "\\boxed{" + "x+" * rng.randint(100, 500) + "x}",
                "\\boxed{(x+1)^{" + str(rng.randint(100, 10000)) + "}}",
                "\\boxed{\\int_0^\\infty e^{-x^{" + str(rng.randint(2, 50)) + "}}dx}",
                "\\boxed{\\sum_{n=1}^{10^{" + str(rng.randint(3, 12)) + "}} n^{n}}",
                "\\boxed{" + "\\sqrt{" * 200 + "2" + "}" * 200 + "}",
                "\\boxed{\\begin{pmatrix}" + "&".join(["x"] * 60) + "\\\\" * 30 + "\\end{pmatrix}}",
            ]
        )
        return rng.choice(["x", "2", "(x+1)^2"]), pred, "math"
    if fam == "statement":
        sent = rng.choice(
            [
                "Therefore, the answer is {v}.",
                "So the total is {v} apples.",
                "I keep getting m = {v}.",
                "Hence ${v}$ is the solution set.",
                "so I'd go with {v}",
                "The result equals {v}, which",
                'Answer: "{v}"',
                "It has to be {v}, not A.",
            ]
        )
        v = rng.choice(
            [
                "3",
                "twenty-four",
                "B",
                "\\frac{1}{2}",
                _huge_number(rng),
                "3,50 €",
                "1, 2, 3, \\ldots",
                "{" * 50,
                "$" * 20,
            ]
        )
        text = "Let me think. " * rng.randint(0, 2000) + sent.format(v=v)
        return rng.choice(["3", "24", "B", "0.5"]), text, rng.choice(["math", "mc", "int"])
    raise ValueError(fam)


FAMILIES = ("huge_number", "box_spam", "deep_nesting", "long_text", "tokens", "unicode", "symbolic_bomb", "statement")


def make_items(n: int, seed: int) -> list[tuple[str, str, str, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        fam = FAMILIES[i % len(FAMILIES)]
        out.append((fam, *_family(rng, fam)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, help="also write the items as a `still2 grade` JSONL file")
    args = ap.parse_args()
    from pipeline.verifier import grade_many
    from pipeline.verifier.pool import get_pool
    from pipeline.verifier.verdict import RULES

    items = make_items(args.n, args.seed)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            for fam, g, p, k in items:
                fh.write(json.dumps({"gold": g, "pred": p, "kind": k, "family": fam}, ensure_ascii=False) + "\n")
    get_pool(args.workers).start(wait_warm=True)
    stats = defaultdict(
        lambda: {"n": 0, "seconds": 0.0, "worst": 0.0, "crashes": 0, "timeouts": 0, "equal": 0, "chars": 0}
    )
    crashes, worst = [], (0.0, None)
    t_all = time.monotonic()
    for i, (fam, gold, pred, kind) in enumerate(items):
        t0 = time.monotonic()
        try:
            v = grade_many([(gold, pred, kind)], timeout=args.timeout, workers=args.workers)[0]
            assert isinstance(v.equal, bool) and v.rule in RULES and v.reason
        except Exception:  # noqa: BLE001 - counting crashes is the point
            crashes.append((i, fam, traceback.format_exc(limit=3)))
            v = None
        dt = time.monotonic() - t0
        s = stats[fam]
        s["n"] += 1
        s["seconds"] += dt
        s["chars"] += len(pred)
        s["worst"] = max(s["worst"], dt)
        s["crashes"] += v is None
        s["timeouts"] += v is not None and v.rule == "timeout"
        s["equal"] += v is not None and v.equal
        if dt > worst[0]:
            worst = (dt, (i, fam, len(pred)))
    total = time.monotonic() - t_all
    print(f"{'family':14} {'n':>6} {'items/s':>8} {'worst s':>8} {'timeouts':>8} {'crashes':>7} {'equal':>6} {'MB':>7}")
    for fam in FAMILIES:
        s = stats[fam]
        print(
            f"{fam:14} {s['n']:6d} {s['n'] / max(s['seconds'], 1e-9):8.1f} {s['worst']:8.2f} {s['timeouts']:8d} "
            f"{s['crashes']:7d} {s['equal']:6d} {s['chars'] / 1e6:7.1f}"
        )
    n = sum(s["n"] for s in stats.values())
    print(
        f"TOTAL {n} items in {total:.1f} s = {n / total:.1f} items/s; crashes {len(crashes)}; worst item "
        f"{worst[0]:.2f} s (item {worst[1][0]}, {worst[1][1]}, {worst[1][2]:,} chars) vs bound timeout + 1 s = "
        f"{args.timeout + 1:.1f} s: {'OK' if worst[0] < args.timeout + 1 else 'OVER'}"
    )
    for i, fam, tb in crashes[:5]:
        print(f"\ncrash on item {i} ({fam}):\n{tb}")
    return 0 if not crashes and worst[0] < args.timeout + 1 else 1


if __name__ == "__main__":
    sys.exit(main())
