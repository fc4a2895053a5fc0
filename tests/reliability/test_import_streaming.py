"""Item 13: an import parses outside the write lock and writes in batches, each its own short
transaction, so a reader polling the store gets in between batches (the bench measures the waits)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time

from store import Store
from store.importer import import_trajectories
from tests.reliability.bad_inputs import STILL, skyt1_line, write_lines

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def trajectory_file(path, n: int, per_row: int = 2):
    return write_lines(
        path,
        [skyt1_line(f"Problem {i % 50}?", [STILL.format(answer=f"{i}-{k}") for k in range(per_row)]) for i in range(n)],
    )


def test_parsing_runs_outside_the_write_lock(store, tmp_path, monkeypatch):
    import store.importer as importer

    path = trajectory_file(tmp_path / "t.jsonl", 300)
    lock = store.connector.lock_path
    held_during_parse = []
    parse = importer.parse_response

    def spying_parse(text):
        fd = os.open(lock, os.O_RDONLY)
        try:  # a new open file description conflicts with our own LOCK_EX if the importer holds it
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            held_during_parse.append(False)
        except BlockingIOError:
            held_during_parse.append(True)
        finally:
            os.close(fd)
        return parse(text)

    monkeypatch.setattr(importer, "parse_response", spying_parse)
    monkeypatch.setattr(importer, "WRITE_BATCH_ROWS", 100)
    report = import_trajectories(store, str(path))
    assert report.added == 600 and report.batches == 6
    assert len(held_during_parse) == 600 and not any(held_during_parse)


def test_batches_are_bounded_by_text_size(store, tmp_path, monkeypatch):
    import store.importer as importer

    monkeypatch.setattr(importer, "WRITE_BATCH_BYTES", 10_000)
    path = write_lines(tmp_path / "big.jsonl", [skyt1_line(f"Q{i}", ["x" * 4_000 + str(i)]) for i in range(30)])
    assert import_trajectories(store, str(path)).batches == 10


def test_reader_gets_in_between_batches(store, tmp_path):
    path = trajectory_file(tmp_path / "t.jsonl", 200)
    env = {**os.environ, "PYTHONPATH": REPO}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.import_worker", store.path, str(path), "40", "0.3"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert child.stdout.readline().strip() == "writing"
    reader = Store(store.path)
    seen, waits = [], []
    deadline = time.monotonic() + 300  # generous: proves it does not hang
    while child.poll() is None and time.monotonic() < deadline:
        t0 = time.monotonic()
        with reader.read() as conn:
            seen.append(conn.execute("SELECT count(*) FROM trajectory").fetchone()[0])
        waits.append(time.monotonic() - t0)
        time.sleep(0.05)
    out = child.communicate(timeout=300)[0]
    assert child.returncode == 0, out
    assert "added 400 batches 10" in out
    partial = sorted({n for n in seen if 0 < n < 400})
    assert len(partial) >= 3, f"the reader saw only {sorted(set(seen))}: it did not get in between batches"
    assert all(n % 40 == 0 for n in partial), partial  # whole batches only
