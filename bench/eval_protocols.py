"""Evaluation protocols and the report on CPU: SmolLM2-135M, generated arithmetic, greedy vs sampled, Table 2.

Every step is a `still2` command (printed before it runs), on a fresh store:
  1. generate a train pool (seed 1) and a held-out test split (seed 2) of arithmetic problems;
  2. D_0 = rule-written step-by-step solutions for the first `--teacher` pool problems (bench/self_improve.py's
     programmatic teacher), M_imit = SFT(M_0, D_0);
  3. M_imit explores the rest of the pool; D_1 = D_0 + correct explored rollouts; M_2 = SFT(M_0, D_1);
  4. each model evaluated on the test split under `--protocol greedy` and `--protocol sampled` (k = `--k`),
     M_0 with the chain-of-thought prompt, the trained models with STILL's;
  5. `still2 report` in markdown and LaTeX for each protocol, and the refusal when the protocols are mixed.

    .venv/bin/python bench/eval_protocols.py --dir /tmp/evalproto
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def still2(*args: str, db: Path, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pipeline", *args, "--db", str(db)]
    print("$ still2 " + " ".join(args), flush=True)
    t = time.monotonic()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    print(out.stdout + out.stderr.strip() + f"\n  [{time.monotonic() - t:.0f}s]", flush=True)
    if check and out.returncode:
        raise SystemExit(f"failed: {' '.join(args)}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="/tmp/still2-eval-protocols")
    ap.add_argument("--train", type=int, default=48)
    ap.add_argument("--test", type=int, default=40)
    ap.add_argument("--teacher", type=int, default=16)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--skip-explore", action="store_true", help="only M_0 and M_imit")
    args = ap.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    db = work / "still2.duckdb"
    from self_improve import make_dataset, seed_teacher

    from store import Store

    for n, seed, split, source in ((args.train, 1, "train", "si-pool"), (args.test, 2, "test", "si-test")):
        still2(
            "problems",
            "generate",
            "--kind",
            "arithmetic",
            "--difficulty",
            "1",
            "-n",
            str(n),
            "--seed",
            str(seed),
            "--split",
            split,
            "--source",
            source,
            db=db,
        )
    store = Store(db)
    make_dataset(store, "D0", seed_teacher(store, "si-pool", args.teacher))
    store.close()
    train = [
        "--recipe",
        "cpu-tiny",
        "--epochs",
        "3",
        "--lr",
        "1e-4",
        "--batch-size",
        "8",
        "--per-device-batch-size",
        "8",
        "--max-length",
        "384",
    ]  # D_0 rows with the STILL prompt: 316 tokens

    def evaluate(model: str) -> None:
        for protocol in ("greedy", "sampled"):
            extra = ["--n", str(args.k)] if protocol == "sampled" else []
            still2(
                "eval",
                "--model",
                model,
                "-b",
                "si-test:test",
                "--protocol",
                protocol,
                *extra,
                "--max-new-tokens",
                str(args.max_new_tokens),
                "--batch-problems",
                "40",
                db=db,
            )

    evaluate("default")
    still2("sft", "D0", "--name", "M-imit", *train, db=db)
    models = ["M-imit"]
    if not args.skip_explore:
        still2(
            "explore",
            "--model",
            "M-imit",
            "--source",
            "si-pool",
            "--split",
            "train",
            "--max-rollouts",
            "2",
            "--per-round",
            "2",
            "--want-correct",
            "1",
            "--temperature",
            "0.7",
            "--max-new-tokens",
            str(args.max_new_tokens),
            "--batch-problems",
            "40",
            db=db,
        )
        still2(
            "dataset",
            "build",
            "D1",
            "--parent",
            "D0",
            "--origins",
            "explore",
            "--max-per-problem",
            "1",
            "--exclude-flags",
            "",
            db=db,
        )
        still2("sft", "D1", "--name", "M2", *train, db=db)
        models.append("M2")
    for m in models:
        evaluate(m)
    # The report: one table per protocol (choosing the run by protocol), then the refusal when mixed.
    store = Store(db)
    with store.read() as conn:
        rows = conn.execute("""SELECT model, protocol, value, stderr, samples, prompt FROM eval_result
                               WHERE metric = 'accuracy' ORDER BY model, protocol""").fetchall()
    store.close()
    print(
        json.dumps([dict(zip(("model", "protocol", "accuracy", "stderr", "k", "prompt"), r)) for r in rows], indent=1)
    )
    for protocol in ("greedy", "sampled"):
        export = work / f"report-{protocol}"
        export.mkdir(exist_ok=True)
        # report shows the latest result per (model, benchmark): copy the store and keep one protocol's rows
        copy = export / "store.duckdb"
        copy.write_bytes(db.read_bytes())
        with Store(copy).write() as conn:
            conn.execute("DELETE FROM eval_result WHERE protocol <> ?", [protocol])
        for fmt in ("markdown", "latex"):
            still2(
                "report",
                "--backbone",
                "SmolLM2-135M-Instruct",
                "--format",
                fmt,
                "--out",
                str(export / f"table2.{'md' if fmt == 'markdown' else 'tex'}"),
                db=copy,
            )
            print((export / f"table2.{'md' if fmt == 'markdown' else 'tex'}").read_text())
    # M_0 greedy beside the trained models sampled: refused, then printed with a marker per protocol
    mixed = work / "report-mixed"
    mixed.mkdir(exist_ok=True)
    copy = mixed / "store.duckdb"
    copy.write_bytes(db.read_bytes())
    with Store(copy).write() as conn:
        conn.execute("DELETE FROM eval_result WHERE (model = 'SmolLM2-135M-Instruct') = (protocol = 'sampled')")
    still2("report", "--format", "markdown", db=copy, check=False)
    still2("report", "--format", "markdown", "--allow-mixed-protocols", db=copy)


if __name__ == "__main__":
    main()
