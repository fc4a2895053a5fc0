"""Item 14: a run whose process is gone does not stay `running`: a killed `explore` is `crashed` at the
next look (stats, jobs, the TUI), and under `jobs` the inner explore run follows its crashed job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.jobs import runner
from store import Store
from store.runs import repair_stale_runs

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
cli = CliRunner()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    from pipeline.engines.tiny_model import make_tiny_model

    return str(make_tiny_model(tmp_path_factory.mktemp("tiny") / "model"))


def explore_args(db: str, model: str) -> list[str]:
    return [
        "explore",
        "--db",
        db,
        "--model",
        model,
        "--max-rollouts",
        "40",
        "--per-round",
        "2",
        "--batch-problems",
        "1",
        "--max-new-tokens",
        "24",
        "--temperature",
        "1.0",
    ]


def setup_store(db: str) -> None:
    result = cli.invoke(
        app, ["problems", "generate", "--kind", "arithmetic", "--difficulty", "1", "-n", "6", "--db", db]
    )
    assert result.exit_code == 0, result.output


def wait_for(check, what: str, timeout: float = 240):
    deadline = time.monotonic() + timeout  # generous: proves it does not hang
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def runs(db: str) -> dict[str, tuple]:
    with Store(db).read() as conn:
        return {r[0]: r[1:] for r in conn.execute("SELECT id, kind, state, pid, host, parent FROM run").fetchall()}


def test_killed_explore_is_crashed_at_the_next_look(tmp_path, tiny_model):
    db = str(tmp_path / "s.duckdb")
    setup_store(db)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", *explore_args(db, tiny_model)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    run_id = wait_for(lambda: next((k for k, v in runs(db).items() if v[1] == "running"), None), "the explore run")
    assert runs(db)[run_id][2] == proc.pid  # the row names its process
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert runs(db)[run_id][1] == "running"  # nothing ran since: the row is stale
    stats = json.loads(cli.invoke(app, ["stats", "--db", db, "--json"]).stdout)
    assert {(r["state"]) for r in stats["runs_by_state"]} == {"crashed"}
    assert runs(db)[run_id][1] == "crashed"
    assert repair_stale_runs(Store(db)) == []  # idempotent


def test_crashed_job_takes_its_inner_run_along(tmp_path, tiny_model):
    db = str(tmp_path / "s.duckdb")
    setup_store(db)
    info = runner.start(db, explore_args(db, tiny_model))
    inner = wait_for(
        lambda: next((k for k, v in runs(db).items() if v[4] == info["id"] and v[1] == "running"), None),
        "the job's explore run",
    )
    job_pid = runs(db)[info["id"]][2]
    os.killpg(job_pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{runs(db)[inner][2]}"), "the explore process to end", timeout=60)
    listed = {j["id"]: j["state"] for j in runner.list_jobs(db)}
    assert listed[info["id"]] == "crashed"
    assert runs(db)[inner][1] == "crashed"


def test_pidless_child_of_an_ended_job_is_repaired(tmp_path):
    """Rows written before runs recorded their process (no pid) are repaired through their parent."""
    db = str(tmp_path / "s.duckdb")
    store = Store(db)
    with store.write() as conn:
        conn.execute(
            "INSERT INTO run (id, kind, state, pid, host) VALUES ('job', 'explore', 'running', 999999999, ?)",
            [os.uname().nodename],
        )
        conn.execute("INSERT INTO run (id, kind, state, parent) VALUES ('inner', 'explore', 'running', 'job')")
        conn.execute(
            "INSERT INTO run (id, kind, state, pid, host) VALUES ('far', 'explore', 'running', 1, 'elsewhere')"
        )
    assert sorted(repair_stale_runs(store)) == ["inner", "job"]
    assert runs(db)["far"][1] == "running"  # another host's process cannot be checked from here
