"""Self-improvement on CPU: SmolLM2-135M on generated arithmetic, baseline vs rounds of explore -> SFT.

Held-out test set (seed 2) disjoint from the train pool (seed 1). Steps:
  0. baseline: greedy accuracy of M_0 on the test set;
  1. imitate: SFT M_0 on D_0 = a few rule-written solutions (a programmatic "teacher": the generator's
     expression and exact answer) -> M_imit, evaluated;
  2. `iterate` for ROUNDS rounds: explore the pool with the latest model, filter, score, D_t = D_{t-1} + new
     correct, train M_t from M_0 on D_t, evaluate.
Prints accuracy per model and wall time per step (JSON at the end). Usage:
  .venv/bin/python bench/self_improve.py [--rounds 2] [--db /tmp/si/still2.duckdb] [--method sft|dpo]
"""
from __future__ import annotations

import argparse
import json
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
        return tokens[:open_] + group + tokens[close + 1:], False
    ops = [i for i, t in enumerate(group) if t in ("\\times", "\\div")] or [i for i, t in enumerate(group) if t in ("+", "-")]
    i = ops[0]
    a, op, b = group[i - 1], group[i], group[i + 1]
    value = {"+": a + b, "-": a - b, "\\times": a * b, "\\div": a / b if b else None}[op]
    return tokens[:lo] + group[:i - 1] + [value] + group[i + 2:] + tokens[hi:], True


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
        rows = conn.execute("""SELECT id, answer, json_extract_string(meta, '$.expression') FROM problem
                               WHERE source = ? ORDER BY try_cast(source_key AS INTEGER) LIMIT ?""", [source, n]).fetchall()
    trajs = [{"id": stable_id("teacher-chain", pid), "problem_id": pid, "text": text, "extracted": ans,
              "verdict": "correct", "origin": "distill", "model": "rule-teacher", "n_tokens": 40}
             for pid, ans, expr in rows if (text := teacher_text(expr, ans))]
    with store.write() as conn:
        add_trajectories(conn, trajs)
    return [t["id"] for t in trajs]


def make_dataset(store, name: str, ids: list[str]) -> None:
    from store.ingest import insert_new

    with store.write() as conn:
        if conn.execute("SELECT count(*) FROM dataset WHERE name = ?", [name]).fetchone()[0]:
            return
        conn.execute("INSERT INTO dataset (name, kind, n_members, note) VALUES (?, 'sft', ?, 'rule teacher D_0')",
                     [name, len(ids)])
        insert_new(conn, "dataset_member", [{"dataset": name, "member_id": i, "inherited": False} for i in ids])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="/tmp/still2-self-improve/still2.duckdb")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--method", default="sft")
    ap.add_argument("--train", type=int, default=48)
    ap.add_argument("--test", type=int, default=32)
    ap.add_argument("--teacher", type=int, default=16)
    ap.add_argument("--difficulty", type=int, default=1)
    ap.add_argument("--kind", default="arithmetic")
    ap.add_argument("--max-new-tokens", type=int, default=56)
    ap.add_argument("--pool", type=int, default=32, help="Pool problems explored per round (after D_0's).")
    ap.add_argument("--round-epochs", type=float, default=2.0)
    args = ap.parse_args()

    from pipeline.loop.config import iterate_config
    from pipeline.loop.iterate import EngineCache, iterate
    from pipeline.loop import steps
    from pipeline.training.config import recipe_config
    from pipeline.training.lineage import resolve
    from pipeline.training.sft import run_sft
    from store import Store

    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    store = Store(args.db)
    store.init()
    train_opts = {"epochs": 3.0, "learning_rate": 1e-4, "batch_size": 8, "per_device_batch_size": 8,
                  "max_length": 256}
    cfg = iterate_config("cpu-tiny", rounds=args.rounds, name="bench", method=args.method, generate_kind=args.kind,
                         generate_difficulty=args.difficulty, generate_train=args.train, generate_test=args.test,
                         max_new_tokens=args.max_new_tokens, eval_max_new_tokens=args.max_new_tokens,
                         max_rollouts=4, per_round=2, temperature=0.7, batch_problems=48, eval_batch_problems=32,
                         engine_args={"batch_size": 64}, train_overrides={**train_opts, "epochs": args.round_epochs},
                         pool_where=f"try_cast(p.source_key AS INTEGER) >= {args.teacher}", pool_limit=args.pool, seed_dataset="bench-D0",
                         explorer="bench-imit", max_per_problem=1)
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    generated = steps.generate_problems(store, cfg)
    timings["generate"] = round(time.monotonic() - t0, 1)
    make_dataset(store, "bench-D0", seed_teacher(store, generated["train"]["source"], args.teacher))
    m0 = resolve(store, cfg.model)
    bench = [f"{generated['test']['source']}:test"]
    engines = EngineCache(cfg)
    results: dict[str, dict] = {}
    t0 = time.monotonic()
    results[m0.id] = steps.eval_step(store, engines.get(store, m0.id), cfg, m0.id, bench)
    engines.close()
    timings["eval M_0"] = round(time.monotonic() - t0, 1)
    print(f"M_0 {results[m0.id]['accuracy']} ({timings['eval M_0']}s)", flush=True)
    if not resolve(store, "bench-imit", register=False).method == "sft":
        t0 = time.monotonic()
        run_sft(store, recipe_config("sft", "cpu-tiny", dataset="bench-D0", name="bench-imit", base=m0.id,
                                     use_system=cfg.use_system, **train_opts), show_progress=False)
        timings["sft M_imit (D_0)"] = round(time.monotonic() - t0, 1)
    t0 = time.monotonic()
    results["bench-imit"] = steps.eval_step(store, engines.get(store, "bench-imit"), cfg, "bench-imit", bench)
    engines.close()
    timings["eval M_imit"] = round(time.monotonic() - t0, 1)
    print(f"M_imit {results['bench-imit']['accuracy']} ({timings['eval M_imit']}s)", flush=True)

    def on_step(name: str, out: dict) -> None:
        timings[name] = out.get("seconds")
        print(name, json.dumps({k: v for k, v in out.items() if k not in ("path",)}, default=str)[:300], flush=True)

    history = iterate(store, cfg, on_step=on_step)
    for r in history["rounds"][1:]:
        if r.get("eval"):
            results[r["train"]["model"]] = r["eval"]
    from pipeline.evaluation.report import report_data, to_markdown

    data = report_data(store, backbone=m0.id)
    print(to_markdown(data))
    print(json.dumps({"timings_s": timings, "accuracy": {m: r["accuracy"] for m, r in results.items()},
                      "total_s": round(sum(v for v in timings.values() if v), 1)}, indent=2))


if __name__ == "__main__":
    main()
