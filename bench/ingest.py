"""Bench: bulk ingest of synthetic trajectories into the store vs DuckDB's own read_parquet, and `still2 stats`.

Measured side by side in one run (machines are noisy; the ratio is the figure that matters):
  A. store.ingest.add_trajectories(Arrow table) inside store.write(): id dedup (anti-join), computed
     lengths, primary key, commit and close (checkpoint) included.
  B. INSERT INTO trajectory SELECT * FROM read_parquet(...) into an identical fresh store, same
     transaction/close, no dedup: DuckDB's own fastest path.
Then `still2 stats` (a fresh process, best of 3) on the resulting store.

    .venv/bin/python bench/ingest.py --rows 1000000
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from store import Store  # noqa: E402
from store.ingest import add_problems, add_trajectories  # noqa: E402

WORDS = (
    "so",
    "we",
    "have",
    "then",
    "therefore",
    "let",
    "x",
    "=",
    "+",
    "2",
    "3",
    "the",
    "sum",
    "of",
    "wait",
    "check",
    "again",
    "hmm",
    "which",
    "gives",
    "\\frac{1}{2}",
    "squared",
    "root",
    "equation",
)


def synthetic(rows: int, thought_chars: int, seed: int = 0) -> pa.Table:
    rnd = random.Random(seed)
    bases = [" ".join(rnd.choice(WORDS) for _ in range(thought_chars // 4))[:thought_chars] for _ in range(64)]
    thoughts = [f"step {i}: " + bases[i % 64] for i in range(rows)]
    solutions = [f"The answer is \\boxed{{{i % 997}}}." for i in range(rows)]
    texts = [
        f"<|begin_of_thought|>\n\n{t}\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n{s}\n\n<|end_of_solution|>"
        for t, s in zip(thoughts, solutions)
    ]
    verdicts = ["correct" if i % 3 == 0 else "incorrect" for i in range(rows)]
    return pa.table(
        {
            "id": [f"{i:016x}" for i in range(rows)],
            "problem_id": [f"gen:{i % 5000:06d}" for i in range(rows)],
            "text": texts,
            "thought": thoughts,
            "solution": solutions,
            "format_style": ["still"] * rows,
            "verdict": verdicts,
            "extracted": [str(i % 997) for i in range(rows)],
            "n_tokens": [len(t) // 4 for t in texts],
            "n_chars": [len(t) for t in texts],
            "thought_chars": [len(t) for t in thoughts],
            "solution_chars": [len(s) for s in solutions],
            "origin": ["explore"] * rows,
            "model": ["smollm2"] * rows,
            "run_id": [f"run{i % 7}" for i in range(rows)],
            "iteration": [i % 3 for i in range(rows)],
            "sample_index": [i % 20 for i in range(rows)],
        }
    )


def fresh_store(path: Path) -> Store:
    for suffix in ("", ".wal", ".lock", ".want-write"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    store = Store(path)
    with store.write() as conn:
        add_problems(
            conn,
            [
                {
                    "id": f"gen:{i:06d}",
                    "source": "gen",
                    "question": f"q{i}",
                    "question_hash": f"h{i}",
                    "answer": str(i % 997),
                }
                for i in range(5000)
            ],
        )
    return store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--thought-chars", type=int, default=2000)
    ap.add_argument("--dir", default=None, help="work directory (default: a temp dir, removed after)")
    ap.add_argument("--keep", action="store_true", help="keep the 1M-row store for other benches")
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="still2-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    t = time.perf_counter()
    table = synthetic(args.rows, args.thought_chars)
    print(
        f"generated {args.rows:,} trajectories ({table.nbytes / 1e9:.2f} GB in Arrow) in {time.perf_counter() - t:.1f}s"
    )
    parquet = work / "trajectories.parquet"
    pq.write_table(table, parquet)

    ours = fresh_store(work / "ours.duckdb")
    t = time.perf_counter()
    with ours.write() as conn:
        added = add_trajectories(conn, table)
    ours_s = time.perf_counter() - t
    assert added == args.rows, added

    base = fresh_store(work / "baseline.duckdb")
    cols = ", ".join(table.column_names)
    t = time.perf_counter()
    with base.write() as conn:
        conn.execute(f"INSERT INTO trajectory ({cols}) SELECT {cols} FROM read_parquet('{parquet}')")
    base_s = time.perf_counter() - t

    t = time.perf_counter()
    with ours.write() as conn:
        again = add_trajectories(conn, table.slice(0, min(args.rows, 100_000)))
    reimport_s = time.perf_counter() - t
    assert again == 0

    stats_times = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pipeline", "stats", "--db", str(work / "ours.duckdb")],
            check=True,
            capture_output=True,
        )
        stats_times.append(time.perf_counter() - t)

    print(f"A  store ingest (Arrow, dedup, PK):  {ours_s:7.2f}s  {args.rows / ours_s:10,.0f} rows/s")
    print(f"B  DuckDB read_parquet baseline:     {base_s:7.2f}s  {args.rows / base_s:10,.0f} rows/s")
    print(f"   ratio A/B = {ours_s / base_s:.2f}x  (goal: <= 2x)")
    print(f"   re-import of 100k existing rows adds 0 in {reimport_s:.2f}s")
    print(
        f"   still2 stats on {args.rows:,} rows: best {min(stats_times):.2f}s of {['%.2f' % s for s in stats_times]} "
        "(goal: < 1 s, process start included)"
    )
    print(f"   store file {os.path.getsize(work / 'ours.duckdb') / 1e9:.2f} GB")
    if not args.keep and not args.dir:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
