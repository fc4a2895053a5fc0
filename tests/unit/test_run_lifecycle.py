"""store/runs.py: the run states registry and the only writers of run rows (queue, begin, set_progress, end)."""

from __future__ import annotations

import json
import os

import pytest

from store import runs


def _row(store, run_id):
    with store.read() as conn:
        cur = conn.execute(
            "SELECT kind, args, state, pid, host, started, ended, progress, error, parent, log_path "
            "FROM run WHERE id = ?",
            [run_id],
        )
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
    return dict(zip(names, row)) if row else None


def test_states_registry_derives_active_and_final():
    assert set(runs.ACTIVE) == {"queued", "running"}
    assert set(runs.FINAL) == {"done", "failed", "cancelled", "crashed"}
    assert all(state.help for state in runs.STATES.values())


def test_queue_begin_progress_end(store):
    runs.queue(store, "job-1", "explore", ["explore", "--limit", "3"], log_path="/tmp/job-1.log", parent="outer")
    row = _row(store, "job-1")
    assert row["state"] == "queued" and row["pid"] is None and json.loads(row["args"]) == ["explore", "--limit", "3"]
    runs.begin(store, "job-1")  # the runner starts it: its process, kind, args and parent kept
    row = _row(store, "job-1")
    assert row["state"] == "running" and row["pid"] == os.getpid() and row["started"] is not None
    assert row["kind"] == "explore" and row["parent"] == "outer" and row["log_path"] == "/tmp/job-1.log"
    assert json.loads(row["args"]) == ["explore", "--limit", "3"]
    runs.set_progress(store, "job-1", {"done": 2, "total": 3})
    runs.end(store, "job-1", "done")
    row = _row(store, "job-1")
    assert (
        row["state"] == "done" and row["ended"] is not None and json.loads(row["progress"]) == {"done": 2, "total": 3}
    )


def test_begin_restarts_a_failed_run_and_clears_its_error(store, monkeypatch):
    monkeypatch.setenv("STILL2_RUN_ID", "the-job")
    runs.begin(store, "step", "iterate-step", {"round": 1})
    assert _row(store, "step")["parent"] == "the-job"  # the job this process runs under
    runs.end(store, "step", "failed", error="boom")
    runs.begin(store, "step", "iterate-step", {"round": 1, "again": True})
    row = _row(store, "step")
    assert row["state"] == "running" and row["error"] is None and row["ended"] is None
    assert json.loads(row["args"]) == {"round": 1, "again": True}


def test_end_refuses_a_state_that_is_not_final(store):
    runs.begin(store, "r", "sft", {})
    with pytest.raises(ValueError, match="not a final run state"):
        runs.end(store, "r", "running")
    assert _row(store, "r")["state"] == "running"
