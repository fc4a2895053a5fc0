"""A child process for the import tests: imports a file with small, slowed-down write batches, printing
``batch`` when each batch's rows are written (inside its transaction, before the pause and the commit).

    python -m tests.reliability.import_worker DB FILE ROWS_PER_BATCH SECONDS_PER_BATCH
"""

from __future__ import annotations

import sys
import time

import store.importer as importer
from store import Store


def main() -> None:
    db, path, rows, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    importer.WRITE_BATCH_ROWS = rows
    add_batch = importer._add_batch

    def slow_batch(conn, *args, **kwargs):
        added = add_batch(conn, *args, **kwargs)
        print("batch", flush=True)
        time.sleep(pause)  # inside the write transaction: the lock is held this long per batch
        return added

    importer._add_batch = slow_batch
    print("writing", flush=True)
    report = importer.import_trajectories(Store(db), path)
    print("added", report.added, "batches", report.batches, flush=True)


if __name__ == "__main__":
    main()
