"""A killed import (kill -9 at random points, reading or writing) leaves whole batches, no duplicate,
no import_log row and no spill file; running the import again adds exactly the missing rows."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

from store import Store
from store.importer import import_trajectories
from tests.reliability.bad_inputs import STILL, skyt1_line, write_lines

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROWS, PER_ROW, BATCH = 300, 2, 50
TOTAL = ROWS * PER_ROW


def snapshot(path) -> tuple[int, int, int, int]:
    with Store(path).read() as conn:
        return conn.execute("""SELECT (SELECT count(*) FROM trajectory), (SELECT count(DISTINCT id) FROM trajectory),
                                      (SELECT count(*) FROM import_log), (SELECT count(*) FROM problem)""").fetchone()


def test_kill_at_random_points_then_reimport(tmp_path):
    data = write_lines(
        tmp_path / "t.jsonl",
        [
            skyt1_line(f"Problem {i % 40}?", [STILL.format(answer=f"{i}-{k}") for k in range(PER_ROW)])
            for i in range(ROWS)
        ],
    )
    rng = random.Random(19)
    env = {**os.environ, "PYTHONPATH": REPO}
    outcomes = []
    for attempt in range(6):
        db = tmp_path / f"s{attempt}.duckdb"
        Store(db).init()
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.import_worker", str(db), str(data), str(BATCH), "0.15"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )
        assert child.stdout.readline().strip() == "writing"
        # Kill points are counted in batches, not seconds (a loaded machine parses and writes slowly):
        # while reading and parsing, or at a random moment around the k-th batch's commit.
        k = rng.randint(0, TOTAL // BATCH - 1)
        for _ in range(k):
            if child.stdout.readline().strip() != "batch":
                break
        time.sleep(rng.uniform(0.0, 0.3 if k else 0.5))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        rows, distinct, logs, problems = snapshot(db)
        outcomes.append(rows)
        assert rows == distinct, "duplicate trajectory ids"
        assert rows % BATCH == 0 or rows == TOTAL, f"a partial batch was committed: {rows}"
        assert logs == (1 if rows == TOTAL else 0)
        assert problems <= 40
        report = import_trajectories(Store(db), str(data))
        assert report.added == TOTAL - rows
        assert snapshot(db) == (TOTAL, TOTAL, 1 + logs, 40)
        # the killed process's spill file (its name carries the dead pid) went with the next import
        assert not list(tmp_path.glob(f"s{attempt}.duckdb.import-*.arrow"))
    assert len(set(outcomes)) >= 2, f"all kills landed at the same point: {outcomes}"
