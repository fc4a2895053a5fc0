"""Whole-process speed of `still2 grade` against a plain math-verify script, on a held-out-shaped file, and of
`still2 verify` on N stored rows against the same plain script over those rows; legs interleaved, median of
--repeat runs each, ratio printed (plain seconds / ours).

    .venv/bin/python bench/verify_process.py grade            # 357 rows, a third full outputs
    .venv/bin/python bench/verify_process.py verify --n 10000 # 10k distinct stored rows

Held-out shaped (issue 13): 357 rows, 119 full model outputs (the 70 real Sky-T1 trajectories and 49 MATH-500
answers inside long solutions) and 238 short (gold, answer) pairs in the many ways answers are written (from
our dev set; no other grader's unit tests). The file is written to --dir.

The 10k stored rows for `verify` are distinct (gold, response) pairs: the held-out-shaped rows, every MATH-500
answer written three ways and inside its reference solution, GSM8K test and train rationales as gold against
"The answer is N." / boxed / prose closing statements (right and off by one). No two rows are the same, so
our comparison cache gives no free hits.

The plain script is what a researcher would write: `verify(parse(gold), parse(pred))` per row in one process,
math-verify's own timeouts on. Ours is the CLI as users run it (`still2 grade FILE --out F`, default workers).
`--slowest` then grades every row alone in-process (pool started) and prints the slowest single case.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PY = sys.executable
STILL2 = str(Path(PY).with_name("still2"))

PLAIN = r"""
import json, sys
from math_verify import parse, verify
n = ok = 0
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    try:
        ok += bool(verify(parse(r["gold"]), parse(r["pred"])))
    except Exception:
        pass
    n += 1
print(json.dumps({"n": n, "equal": ok}))
"""


def held_out_shaped(seed: int = 357) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for fname, kind in (("trajectories_skyt1_14b_amc23.jsonl", "math"), ("trajectories_skyt1_32b_aime24.jsonl", "int")):
        for line in open(SHARED / "trajectories" / fname, encoding="utf-8"):
            r = json.loads(line)
            rows.append({"gold": r["gt"], "pred": r["code"][0], "kind": kind})
    math500 = [json.loads(l) for l in open(SHARED / "benchmarks" / "math500.jsonl", encoding="utf-8")]
    for p in rng.sample([p for p in math500 if len(p["solution"]) > 600], 49):
        # a MATH reference solution stands in for a full output: long, its answer boxed at the end
        rows.append({"gold": p["answer"], "pred": p["solution"], "kind": "math"})
    dev = [json.loads(l) for l in open(ROOT / "tests" / "data" / "verifier_devset.jsonl", encoding="utf-8")]
    short = [r for r in dev if len(r["pred"]) < 300 and r["category"] not in ("pathological", "huge_numbers")]
    for r in rng.sample(short, 238):
        rows.append({"gold": r["gold"], "pred": r["pred"], "kind": r["kind"]})
    rng.shuffle(rows)
    return rows


def distinct_rows(n: int, seed: int = 10_000) -> list[dict]:
    rng = random.Random(seed)
    rows = held_out_shaped()
    math500 = [json.loads(l) for l in open(SHARED / "benchmarks" / "math500.jsonl", encoding="utf-8")]
    for p in math500:
        a = p["answer"]
        rows += [
            {"gold": a, "pred": f"So the final answer is $\\boxed{{{a}}}$.", "kind": "math"},
            {"gold": a, "pred": f"Thus the answer is \\( {a} \\).", "kind": "math"},
            {"gold": a, "pred": f"${a}$", "kind": "math"},
            {"gold": p["solution"], "pred": f"\\boxed{{{a}}}", "kind": "math"},
        ]
    for fname in ("gsm8k_test.jsonl", "gsm8k_train.jsonl"):
        for line in open(SHARED / "benchmarks" / fname, encoding="utf-8"):
            g = json.loads(line)
            v = int(g["answer"].split("####")[-1].strip().replace(",", ""))
            w = v + rng.choice([1, -1, 10])
            rows += [
                {"gold": g["answer"], "pred": f"The answer is {v:,}.", "kind": "math"},
                {
                    "gold": g["answer"],
                    "pred": "Adding it all up step by step gives the total we need. "
                    f"Therefore, she has {w} dollars left.",
                    "kind": "math",
                },
            ]
            if len(rows) >= 2 * n:
                break
    seen, out = set(), []
    for r in rows:
        key = (r["gold"], r["pred"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out[:n]


def _time(cmd: list[str], env=None) -> float:
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.monotonic() - t0


def bench_grade(args) -> None:
    args.dir.mkdir(parents=True, exist_ok=True)
    src = args.dir / "held_out_shaped.jsonl"
    rows = held_out_shaped()
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    plain = args.dir / "plain_math_verify.py"
    plain.write_text(PLAIN, encoding="utf-8")
    print(f"{src}: {len(rows)} rows, {sum(len(r['pred']) > 600 for r in rows)} full outputs; load {os.getloadavg()}")
    ours_cmd = [STILL2, "grade", str(src), "--out", str(args.dir / "graded.jsonl")]
    plain_cmd = [PY, str(plain), str(src)]
    _report("still2 grade", ours_cmd, "plain math-verify", plain_cmd, args.repeat)


def bench_verify(args) -> None:
    """N stored trajectories (the held-out-shaped mix repeated) verified by `still2 verify`, against the plain
    script over the same (gold, text) pairs exported to a file."""
    args.dir.mkdir(parents=True, exist_ok=True)
    db = args.dir / "verify_bench.duckdb"
    pairs = args.dir / "verify_pairs.jsonl"
    rows = distinct_rows(args.n)
    if not db.exists():
        sys.path.insert(0, str(ROOT))
        from store import Store
        from store.ingest import add_trajectories, insert_new

        store = Store(db)
        store.init()
        with store.write() as conn:
            golds = {}
            for r in rows:
                golds.setdefault((r["gold"], r["kind"]), f"p{len(golds)}")
            insert_new(
                conn,
                "problem",
                [
                    {"id": pid, "source": "bench", "question": "q", "question_hash": pid, "answer": g, "answer_kind": k}
                    for (g, k), pid in golds.items()
                ],
            )
            add_trajectories(
                conn,
                [
                    {"id": f"t{i}", "problem_id": golds[(r["gold"], r["kind"])], "text": r["pred"], "origin": "import"}
                    for i, r in enumerate(rows)
                ],
            )
        store.close()
    pairs.write_text(
        "".join(json.dumps({"gold": r["gold"], "pred": r["pred"]}, ensure_ascii=False) + "\n" for r in rows),
        encoding="utf-8",
    )
    plain = args.dir / "plain_math_verify.py"
    plain.write_text(PLAIN, encoding="utf-8")
    print(f"{db}: {len(rows)} distinct stored trajectories; load {os.getloadavg()}")
    _report(
        "still2 verify",
        [STILL2, "verify", "--db", str(db)],
        "plain math-verify",
        [PY, str(plain), str(pairs)],
        args.repeat,
    )
    if args.slowest:
        slowest(rows)


def slowest(rows: list[dict]) -> None:
    """Every row graded alone in this process (worker pool started first): the slowest single case."""
    sys.path.insert(0, str(ROOT))
    from pipeline.verifier import grade_many
    from pipeline.verifier.pool import get_pool

    get_pool().start()
    worst = []
    for r in rows:
        t0 = time.monotonic()
        v = grade_many([(r["gold"], r["pred"], r["kind"])])[0]
        worst.append((time.monotonic() - t0, v.rule, r["gold"][-40:], r["pred"][-60:]))
    worst.sort(reverse=True)
    print(f"slowest single cases of {len(rows)} (load {os.getloadavg()[0]:.1f}):")
    for w in worst[:5]:
        print(f"  {w[0]:.2f} s {w[1]}: gold ...{w[2]!r} pred ...{w[3]!r}")


def _report(name_a, cmd_a, name_b, cmd_b, repeat: int) -> None:
    a, b = [], []
    for i in range(repeat):  # interleaved, starting leg alternating
        order = [(a, cmd_a), (b, cmd_b)] if i % 2 == 0 else [(b, cmd_b), (a, cmd_a)]
        for acc, cmd in order:
            acc.append(_time(cmd))
        print(f"  run {i + 1}: {name_a} {a[-1]:.2f} s, {name_b} {b[-1]:.2f} s (load {os.getloadavg()[0]:.1f})")
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"median of {repeat}: {name_a} {ma:.2f} s, {name_b} {mb:.2f} s -> ratio {mb / ma:.2f}x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("grade", "verify", "slowest"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/still2-verify-bench"))
    ap.add_argument("--slowest", action="store_true", help="verify: also time every row alone (slowest case)")
    args = ap.parse_args()
    if args.what == "slowest":
        slowest(distinct_rows(args.n))
    else:
        (bench_grade if args.what == "grade" else bench_verify)(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
