"""Self-improvement the report's way on CPU: M_0, M_1 (imitation only), M_2 (imitation + exploration).

SmolLM2-135M on generated arithmetic: a train pool (seed 1) and a disjoint held-out test set (seed 2,
default 200 problems, never used for anything but the final accuracies). D_0 = rule-written worked
solutions on the first problems of the pool (a programmatic teacher standing in for R1/QwQ). Then
`iterate` runs the report's stages:

  r0: M_0 evaluated;
  r1: M_1 = SFT(M_0, D_0) (imitation), evaluated; M_1 explores the unsolved pool, filter, score with
      M_1, D_1 = D_0 + selected explored;
  r2: M_2 = SFT(M_0, D_1), evaluated.

Each accuracy is printed with a 95% bootstrap interval over test problems (10,000 resamples), and the
paired differences M_1 - M_0 and M_2 - M_1 with theirs. Usage:
  .venv/bin/python bench/self_improve.py [--fresh] [--db /tmp/si/still2.duckdb] [--test 200]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


_TOKEN = re.compile(r"\s*(\d+|\\times|\\div|[-+()])")


def _tokens(latex: str) -> list:
    out, pos = [], 0
    while pos < len(latex.rstrip()):
        m = _TOKEN.match(latex, pos)
        if not m:
            raise ValueError(f"cannot read {latex!r} at {pos}")
        tok = m.group(1)
        out.append(Fraction(int(tok)) if tok.isdigit() else tok)
        pos = m.end()
    return out


def _render(tokens: list) -> str:
    parts = []
    for i, t in enumerate(tokens):
        if isinstance(t, Fraction):
            text = str(t.numerator) if t.denominator == 1 else f"\\frac{{{abs(t.numerator)}}}{{{t.denominator}}}"
            if t < 0 and t.denominator != 1:
                text = "-" + text
            parts.append(f"({text})" if t < 0 and i > 0 and tokens[i - 1] != "(" else text)
        elif t in ("(", ")"):
            parts.append(t)
        else:
            parts.append(f" {t} ")
    return "".join(parts)


def _reduce_once(tokens: list) -> list:
    """One step: innermost group, first times/div, else first plus/minus; a bracketed number loses its brackets."""
    close = tokens.index(")") if ")" in tokens else len(tokens)
    open_ = max((i for i in range(close) if tokens[i] == "("), default=-1)
    lo, hi = open_ + 1, close
    group = tokens[lo:hi]
    if len(group) == 1 and open_ >= 0:
        return tokens[:open_] + group + tokens[close + 1 :], False
    ops = [i for i, t in enumerate(group) if t in ("\\times", "\\div")] or [
        i for i, t in enumerate(group) if t in ("+", "-")
    ]
    i = ops[0]
    a, op, b = group[i - 1], group[i], group[i + 1]
    value = {"+": a + b, "-": a - b, "\\times": a * b, "\\div": a / b if b else None}[op]
    return tokens[:lo] + group[: i - 1] + [value] + group[i + 2 :] + tokens[hi:], True


def teacher_text(expression: str, answer: str) -> str | None:
    """A worked chain "e0 = e1 = ... = answer" reducing one operation per step; None if it disagrees with gold."""
    tokens = _tokens(expression)
    chain = [_render(tokens)]
    while len(tokens) > 1:
        tokens, computed = _reduce_once(tokens)
        if any(t is None for t in tokens):
            return None
        if not computed:  # only brackets dropped: rewrite the last link
            chain[-1] = _render(tokens)
        else:
            chain.append(_render(tokens))
    final = chain[-1]
    if final != answer:
        return None
    return f"${' = '.join(dict.fromkeys(chain))}$. The answer is \\boxed{{{answer}}}."


def seed_teacher(store, source: str, n: int) -> list[str]:
    """D_0: n rule-written solutions on the first n pool problems (origin 'distill', model 'rule-teacher')."""
    from store.ids import stable_id
    from store.ingest import add_trajectories

    with store.read() as conn:
        rows = conn.execute(
            """SELECT id, answer, json_extract_string(meta, '$.expression') FROM problem
                               WHERE source = ? ORDER BY try_cast(source_key AS INTEGER) LIMIT ?""",
            [source, n],
        ).fetchall()
    trajs = [
        {
            "id": stable_id("teacher-chain", pid),
            "problem_id": pid,
            "text": text,
            "extracted": ans,
            "verdict": "correct",
            "origin": "distill",
            "model": "rule-teacher",
            "n_tokens": 40,
        }
        for pid, ans, expr in rows
        if (text := teacher_text(expr, ans))
    ]
    with store.write() as conn:
        add_trajectories(conn, trajs)
    return [t["id"] for t in trajs]


def make_dataset(store, name: str, ids: list[str]) -> None:
    from store.ingest import insert_new

    with store.write() as conn:
        if conn.execute("SELECT count(*) FROM dataset WHERE name = ?", [name]).fetchone()[0]:
            return
        conn.execute(
            "INSERT INTO dataset (name, kind, n_members, note) VALUES (?, 'sft', ?, 'rule teacher D_0')",
            [name, len(ids)],
        )
        insert_new(conn, "dataset_member", [{"dataset": name, "member_id": i, "inherited": False} for i in ids])


def eval_outcomes(store, model_id: str, source: str) -> dict[str, bool]:
    """problem id -> correct for the model's latest eval run on the test source."""
    with store.read() as conn:
        run = conn.execute(
            """SELECT run_id FROM eval_result WHERE model = ? AND benchmark = ?
                              ORDER BY created DESC LIMIT 1""",
            [model_id, f"{source}:test"],
        ).fetchone()
        rows = conn.execute(
            "SELECT problem_id, bool_or(verdict = 'correct') FROM trajectory WHERE run_id = ? GROUP BY problem_id",
            [run[0]],
        ).fetchall()
    return dict(rows)


def bootstrap(outcomes: list[dict[str, bool]], samples: int = 10_000, seed: int = 0) -> list[tuple[float, float]]:
    """95% percentile intervals of each model's accuracy and of the paired differences, resampling problems."""
    import random

    problems = sorted(outcomes[0])
    rng = random.Random(seed)
    stats: list[list[float]] = [[] for _ in range(2 * len(outcomes) - 1)]
    for _ in range(samples):
        pick = [problems[rng.randrange(len(problems))] for _ in problems]
        accs = [100 * sum(o[p] for p in pick) / len(pick) for o in outcomes]
        for k, a in enumerate(accs):
            stats[k].append(a)
        for k in range(1, len(accs)):
            stats[len(accs) + k - 1].append(accs[k] - accs[k - 1])
    out = []
    for values in stats:
        values.sort()
        out.append((values[int(0.025 * samples)], values[int(0.975 * samples) - 1]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="/tmp/still2-self-improve/still2.duckdb")
    ap.add_argument("--fresh", action="store_true", help="Delete the store first (else the run resumes).")
    ap.add_argument("--train", type=int, default=400, help="Generated pool size (D_0's problems included).")
    ap.add_argument("--test", type=int, default=200, help="Held-out test problems.")
    ap.add_argument("--teacher", type=int, default=16, help="D_0: rule-written solutions on this many problems.")
    ap.add_argument("--pool", type=int, default=160, help="Unsolved pool problems M_1 explores.")
    ap.add_argument("--difficulty", type=int, default=1)
    ap.add_argument("--kind", default="arithmetic")
    ap.add_argument("--max-new-tokens", type=int, default=56)
    ap.add_argument("--max-rollouts", type=int, default=4)
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--no-score", action="store_true", help="Skip perplexity (selection then by seeded order).")
    args = ap.parse_args()

    import shutil

    from pipeline.loop import steps
    from pipeline.loop.config import iterate_config
    from pipeline.loop.iterate import iterate
    from store import Store

    if args.fresh and Path(args.db).parent.exists():
        shutil.rmtree(Path(args.db).parent)
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    store = Store(args.db)
    store.init()
    train_opts = {
        "epochs": args.epochs,
        "learning_rate": 1e-4,
        "batch_size": 8,
        "per_device_batch_size": 8,
        "max_length": 256,
    }
    cfg = iterate_config(
        "cpu-tiny",
        rounds=2,
        name="bench",
        generate_kind=args.kind,
        generate_difficulty=args.difficulty,
        generate_train=args.train,
        generate_test=args.test,
        max_new_tokens=args.max_new_tokens,
        eval_max_new_tokens=args.max_new_tokens,
        max_rollouts=args.max_rollouts,
        per_round=2,
        temperature=0.7,
        batch_problems=64,
        eval_batch_problems=64,
        engine_args={"batch_size": 64},
        train_overrides=train_opts,
        pool_mode="unsolved",
        pool_limit=args.pool,
        seed_dataset="bench-D0",
        max_per_problem=1,
        score=not args.no_score,
    )
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}  # CPU seconds (user + system, all threads) per step: what the load does not change
    started, cpu_started = time.monotonic(), time.process_time()
    last_cpu = [cpu_started]
    generated = steps.generate_problems(store, cfg)
    make_dataset(store, "bench-D0", seed_teacher(store, generated["train"]["source"], args.teacher))

    def on_step(name: str, out: dict) -> None:
        timings[name] = out.get("seconds")
        now = time.process_time()
        cpu[name] = round(now - last_cpu[0], 1)
        last_cpu[0] = now
        print(
            name, json.dumps({k: v for k, v in out.items() if k not in ("path", "ids")}, default=str)[:300], flush=True
        )

    history = iterate(store, cfg, on_step=on_step)
    wall = round(time.monotonic() - started, 1)
    cpu_total = round(time.process_time() - cpu_started, 1)
    load = os.getloadavg()
    m0 = history["rounds"][0]["model"]
    models = [m0, "bench-M1", "bench-M2"]
    source = generated["test"]["source"]
    outcomes = [eval_outcomes(store, m, source) for m in models]
    intervals = bootstrap(outcomes)
    accuracy = [100 * sum(o.values()) / len(o) for o in outcomes]
    with store.read() as conn:
        sizes = dict(
            conn.execute("SELECT name, n_members FROM dataset WHERE name IN ('bench-D0', 'bench-D1')").fetchall()
        )
    labels = [
        "M_0 (SmolLM2-135M-Instruct)",
        f"M_1 = SFT(M_0, D_0): imitation ({sizes.get('bench-D0')} distilled)",
        f"M_2 = SFT(M_0, D_1): + exploration ({sizes.get('bench-D1')} = D_0 + explored)",
    ]
    print(f"\nheld-out test: {len(outcomes[0])} problems ({source}), greedy, {args.max_new_tokens} new tokens")
    print("| model | accuracy (%) | 95% bootstrap interval |\n|---|---:|---|")
    for label, acc, (lo, hi) in zip(labels, accuracy, intervals):
        print(f"| {label} | {acc:.1f} | [{lo:.1f}, {hi:.1f}] |")
    for name, k in (("M_1 - M_0", 3), ("M_2 - M_1", 4)):
        lo, hi = intervals[k]
        diff = accuracy[k - 2] - accuracy[k - 3]
        print(f"| {name} (paired) | {diff:+.1f} | [{lo:+.1f}, {hi:+.1f}] |")
    print(
        f"\nwall {wall:.0f} s, CPU {cpu_total:.0f} s (user + system, all threads), load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores"
    )
    print(
        json.dumps(
            {
                "timings_s": timings,
                "cpu_s": cpu,
                "wall_s": wall,
                "cpu_total_s": cpu_total,
                "loadavg_end": load,
                "accuracy": dict(zip(models, accuracy)),
                "intervals": dict(zip(models + ["M1-M0", "M2-M1"], intervals)),
                "ran": history["ran_steps"],
                "skipped": history["skipped_steps"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
