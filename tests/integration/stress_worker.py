"""A process in the multi-process stress test: a pipeline-like writer, or a TUI-like sticky reader/writer.

Run as a script: ``python stress_worker.py writer DB NAME BATCHES ROWS`` or
``python stress_worker.py tui DB STOPFILE``. Prints one JSON line with what it did and every error.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from store import Store  # noqa: E402
from store.ingest import add_trajectories  # noqa: E402


def writer(db: str, name: str, batches: int, rows: int) -> dict:
    store = Store(db)
    errors, written = [], 0
    rnd = random.Random(name)
    for b in range(batches):
        batch = [
            {
                "id": f"{name}-{b}-{r}",
                "problem_id": "p",
                "text": f"{name} {b} {r} " + "x" * 200,
                "origin": "explore",
                "run_id": name,
            }
            for r in range(rows)
        ]
        try:
            with store.write() as conn:
                written += add_trajectories(conn, batch)
        except Exception as e:  # noqa: BLE001 - the test counts every error
            errors.append(repr(e))
        time.sleep(rnd.random() * 0.005)
    return {"role": "writer", "name": name, "written": written, "errors": errors}


MIN_READS = 12


def tui(db: str, stopfile: str) -> dict:
    """Read like the TUI (poll, count, a page) and curate every third read that sees rows, until the
    writers are done and at least MIN_READS reads were made (a fixed schedule: a random one curated nothing
    in 1 run of ~6 when the writers finished within ~20 reads)."""
    store = Store(db, sticky_reads=True)
    errors, reads, curations, last_count, with_rows = [], 0, 0, 0, 0
    while True:
        stop = os.path.exists(stopfile) and reads >= MIN_READS
        try:
            store.poll()
            with store.read() as conn:
                last_count = conn.execute("SELECT count(*) FROM trajectories").fetchone()[0]
                page = conn.execute("SELECT id FROM trajectory ORDER BY id LIMIT 20").fetchall()
            reads += 1
            if page:
                with_rows += 1
            if page and with_rows % 3 == 1:
                target = page[with_rows % len(page)][0]
                with store.write() as conn:
                    conn.execute("UPDATE trajectory SET status = 'approved' WHERE id = ?", [target])
                    conn.execute(
                        "INSERT INTO note (target_kind, target_id, text) VALUES ('trajectory', ?, 'seen')", [target]
                    )
                curations += 1
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        if stop:
            break
        time.sleep(0.002)
    store.close()
    return {"role": "tui", "reads": reads, "curations": curations, "last_count": last_count, "errors": errors}


if __name__ == "__main__":
    role = sys.argv[1]
    if role == "writer":
        out = writer(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        out = tui(sys.argv[2], sys.argv[3])
    print(json.dumps(out))
