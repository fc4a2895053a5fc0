"""Bench: a large trajectory import beside a reader that polls the store every 100 ms (issue 19, item 13).

Measures, for each leg, the import's wall time and peak RSS (as a ratio to the file's size), its write
lock holds (the longest, in wall and in CPU seconds: on a loaded machine the wall time of a hold is
mostly waiting for a core) and the reader's waits: how long each poll (open the store read-only under the shared lock, count the
trajectories, close) took while the import ran. The legs run one after the other, each on a new
empty store, interleaved over ``--repeat`` rounds:

* ``streamed``  - this checkout's importer (read and parse outside the lock, batches written in short
                  transactions);
* ``baseline``  - with ``--baseline REV``: the store package of git revision REV (the importer that
                  parsed the whole file inside one write transaction), run on the same file.

    python bench/import_concurrency.py [--rows 200000] [--responses 2] [--baseline 7f8dfe4] [--repeat 1]

The input is a Sky-T1-layout JSONL file (question, gt, code[], pred[], score[]) generated with a
fixed seed: ``--rows`` rows of ``--responses`` STILL-format responses each, ``--problems`` distinct
questions, ~540 characters per response (the review's 200k-row file: 217 MB, 399,673 trajectories).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = (
    "so let me compute the sum of both sides then divide by two which gives us the value we want "
    "check again wait this does not match maybe I should try substituting x equals"
).split()

IMPORT_SNIPPET = """
import resource, sys, time
from contextlib import contextmanager
sys.path.insert(0, sys.argv[1])
from store import Store
from store.connection import Connector
import store.importer
from store.importer import import_trajectories
if len(sys.argv) > 4 and hasattr(store.importer, "WRITE_BATCH_ROWS"):
    store.importer.WRITE_BATCH_ROWS = int(sys.argv[4])
holds = []  # (wall, cpu) seconds of each write lock hold: connect .. commit and close
opened = Connector.connect
@contextmanager
def timed(self, write=False):
    wall, cpu = time.perf_counter(), time.process_time()
    with opened(self, write) as conn:
        yield conn
    if write:
        holds.append((time.perf_counter() - wall, time.process_time() - cpu))
Connector.connect = timed
t0 = time.perf_counter()
report = import_trajectories(Store(sys.argv[2]), sys.argv[3])
seconds = time.perf_counter() - t0
longest = max(holds)
print(report.added, round(seconds, 2), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(holds),
      round(longest[0], 3), round(longest[1], 3), round(max(h[1] for h in holds), 3))
"""

READER_SNIPPET = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from store import Store
store = Store(sys.argv[2])
waits, deadline = [], None
while True:
    t0 = time.perf_counter()
    with store.read() as conn:
        n = conn.execute("SELECT count(*) FROM trajectory").fetchone()[0]
    waits.append(time.perf_counter() - t0)
    try:
        open(sys.argv[3]).close()
        break
    except FileNotFoundError:
        pass
    time.sleep(0.1)
print(json.dumps(waits))
"""


def make_file(path: Path, rows: int, responses: int, problems: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(rows):
            q = i % problems
            texts = []
            for _ in range(responses):
                steps = "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(18, 26))) for _ in range(3))
                answer = rng.randint(0, 999)
                texts.append(
                    f"<|begin_of_thought|>\n\n{steps}\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n"
                    f"The answer is $\\boxed{{{answer}}}$.\n\n<|end_of_solution|>"
                )
            f.write(
                json.dumps(
                    {
                        "idx": i,
                        "question": f"Problem {q}: find the value of x in {q} x + {q % 7} = {q * 3}.",
                        "gt": str(q % 1000),
                        "code": texts,
                        "pred": [str(q % 1000)] * responses,
                        "score": [bool(rng.getrandbits(1)) for _ in range(responses)],
                    }
                )
                + "\n"
            )


def base_store(path: Path, code: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(code)!r}); from store import Store; Store({str(path)!r}).init()",
        ],
        check=True,
    )


def run_leg(name: str, code: Path, data: Path, work: Path, batch_rows: int | None = None) -> dict:
    db = work / f"{name}.duckdb"
    for p in work.glob(f"{name}.duckdb*"):
        p.unlink()
    base_store(db, code)  # an empty store made by the leg's own code (schema versions differ)
    stop = work / f"{name}.stop"
    stop.unlink(missing_ok=True)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER_SNIPPET, str(code), str(db), str(stop)], stdout=subprocess.PIPE, text=True
    )
    time.sleep(1.0)  # the reader is polling before the import starts
    extra = [str(batch_rows)] if batch_rows else []
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_SNIPPET, str(code), str(db), str(data), *extra], capture_output=True, text=True
    )
    if done.returncode:
        reader.kill()
        raise SystemExit(f"{name} import failed:\n{done.stderr}")
    stop.touch()
    waits = json.loads(reader.communicate(timeout=600)[0])
    added, seconds, rss_kb, holds, hold_wall, hold_cpu, max_cpu = done.stdout.strip().splitlines()[-1].split()
    size = data.stat().st_size
    waits.sort()
    return {
        "leg": name if not batch_rows else f"{name}-{batch_rows}",
        "added": int(added),
        "import_s": float(seconds),
        "peak_rss_mb": round(int(rss_kb) / 1024),
        "rss_over_file": round(int(rss_kb) * 1024 / size, 2),
        "write_transactions": int(holds),
        "longest_hold_s": float(hold_wall),
        "longest_hold_cpu_s": float(hold_cpu),
        "max_hold_cpu_s": float(max_cpu),
        "reader_polls": len(waits),
        "reader_max_wait_s": round(waits[-1], 3),
        "reader_p99_wait_s": round(waits[int(0.99 * (len(waits) - 1))], 3),
        "reader_median_wait_s": round(waits[len(waits) // 2], 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--responses", type=int, default=2)
    ap.add_argument("--problems", type=int, default=8_000)
    ap.add_argument("--baseline", help="git revision whose store/ package is the baseline leg")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument(
        "--batch-rows",
        type=int,
        nargs="*",
        default=[],
        help="also run the streamed leg with these WRITE_BATCH_ROWS (default: the importer's)",
    )
    ap.add_argument("--workdir", help="where the file and stores go (default: a temp dir, removed after)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    load_start = os.getloadavg()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="still2-import-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        data = work / f"skyt1_{args.rows}.jsonl"
        if not data.exists():
            make_file(data, args.rows, args.responses, args.problems)
        legs = {"streamed": ROOT}
        if args.baseline:
            old = work / f"baseline-{args.baseline}"
            if not old.exists():
                old.mkdir()
                archive = subprocess.run(
                    ["git", "-C", str(ROOT), "archive", args.baseline, "store"], check=True, capture_output=True
                ).stdout
                subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
            legs["baseline"] = old
        results = []
        for _ in range(args.repeat):
            runs = [(name, code, None) for name, code in legs.items()]
            runs += [("streamed", ROOT, rows) for rows in args.batch_rows]
            for name, code, rows in runs:
                results.append(run_leg(name, code, data, work, rows))
                if not args.json:
                    print(json.dumps(results[-1]), flush=True)
        summary = {
            "file_mb": round(data.stat().st_size / 2**20, 1),
            "rows": args.rows,
            "load_start": load_start,
            "load_end": os.getloadavg(),
            "legs": results,
        }
        if "baseline" in legs:
            new = [r for r in results if r["leg"] == "streamed"]
            old = [r for r in results if r["leg"] == "baseline"]
            summary["ratios_baseline_over_streamed"] = {
                k: round(sum(o[k] for o in old) / max(1e-9, sum(n[k] for n in new)), 2)
                for k in ("import_s", "peak_rss_mb", "reader_max_wait_s", "longest_hold_s")
            }
        print(json.dumps(summary, indent=2))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
