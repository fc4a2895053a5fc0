"""Nothing lost, no lock error: a TUI-like sticky reader/writer plus two writer processes on one store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from store import Store
from store.ingest import add_problems

WORKER = Path(__file__).with_name("stress_worker.py")


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _result(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("batches,rows", [(40, 50)])
def test_two_writers_and_a_tui_lose_nothing(tmp_path, batches, rows):
    db = str(tmp_path / "stress.duckdb")
    store = Store(db)
    with store.write() as conn:
        add_problems(conn, [{"id": "p", "source": "s", "question": "q", "question_hash": "h", "answer": "1"}])
    stop = tmp_path / "stop"
    tui = _spawn("tui", db, str(stop))
    writers = [_spawn("writer", db, name, str(batches), str(rows)) for name in ("w1", "w2")]
    results = [_result(w) for w in writers]
    stop.touch()
    tui_result = _result(tui)

    for r in results:
        assert r["errors"] == [], r["errors"][:3]
        assert r["written"] == batches * rows
    assert tui_result["errors"] == [], tui_result["errors"][:3]
    assert tui_result["reads"] > 10 and tui_result["curations"] > 0

    with store.read() as conn:
        total = conn.execute("SELECT count(*) FROM trajectory").fetchone()[0]
        per_run = dict(conn.execute("SELECT run_id, count(*) FROM trajectory GROUP BY 1").fetchall())
        notes = conn.execute("SELECT count(*) FROM note").fetchone()[0]
        distinct = conn.execute("SELECT count(DISTINCT id) FROM trajectory").fetchone()[0]
    expected = 2 * batches * rows
    assert total == expected == distinct
    assert per_run == {"w1": batches * rows, "w2": batches * rows}
    assert notes == tui_result["curations"]
    assert tui_result["last_count"] == expected  # the TUI saw the final state after its last refresh
