"""Detached jobs: start -> done with its rows in the store, cancel, crash detection and resume, CLI schema."""

from __future__ import annotations

import json
import os
import signal
import time

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.jobs import runner
from store import Store

cli = CliRunner()


def wait_state(db: str, run_id: str, states: tuple[str, ...], timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = next(j for j in runner.list_jobs(db) if j["id"] == run_id)
        if job["state"] in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {run_id} never reached {states}: {job}")


def test_job_runs_detached_and_records_rows_and_log(tmp_path):
    db = str(tmp_path / "s.duckdb")
    Store(db).init()
    out = cli.invoke(
        app, ["jobs", "start", "--db", db, "--json", "--", "problems", "generate", "-n", "7", "--kind", "arithmetic"]
    )
    assert out.exit_code == 0, out.output
    info = json.loads(out.stdout)
    job = wait_state(db, info["id"], ("done", "failed"))
    assert job["state"] == "done" and job["kind"] == "problems generate"
    assert job["args"] == ["problems", "generate", "-n", "7", "--kind", "arithmetic"]
    with Store(db).read() as conn:
        assert conn.execute("SELECT count(*) FROM problem").fetchone()[0] == 7
    log = open(info["log_path"]).read()
    assert "generated 7 arithmetic problems" in log and "] done" in log
    listed = json.loads(cli.invoke(app, ["jobs", "list", "--db", db, "--json"]).stdout)
    assert listed[0]["id"] == info["id"]


def test_failed_job_records_exit_code(tmp_path):
    db = str(tmp_path / "s.duckdb")
    Store(db).init()
    info = runner.start(db, ["problems", "generate", "--kind", "nope"])
    job = wait_state(db, info["id"], ("done", "failed"))
    assert job["state"] == "failed" and job["error"] == "exit code 1"


def test_cancel_stops_a_long_job(tmp_path):
    db = str(tmp_path / "s.duckdb")
    Store(db).init()
    info = runner.start(db, ["sql", "SELECT count(*) FROM range(100000000000) a"])
    wait_state(db, info["id"], ("running",))
    out = cli.invoke(app, ["jobs", "cancel", info["id"], "--db", db, "--json"])
    assert json.loads(out.stdout)["state"] == "cancelled"
    job = wait_state(db, info["id"], ("cancelled",))
    assert job["ended"] is not None


def test_killed_runner_shows_crashed_and_resumes(tmp_path):
    db = str(tmp_path / "s.duckdb")
    Store(db).init()
    info = runner.start(db, ["sql", "SELECT count(*) FROM range(100000000000) a"])
    job = wait_state(db, info["id"], ("running",))
    os.killpg(job["pid"], signal.SIGKILL)
    crashed = wait_state(db, info["id"], ("crashed",), timeout=20)
    assert crashed["state"] == "crashed"
    again = runner.resume(db, info["id"])
    job2 = wait_state(db, again["id"], ("running",))
    assert job2["parent"] == info["id"] and job2["args"] == job["args"]
    runner.cancel(db, again["id"])


def test_schema_lists_job_commands_with_typed_options():
    out = cli.invoke(app, ["jobs", "schema"])
    schema = json.loads(out.stdout)
    by_name = {c["name"]: c for c in schema["commands"]}
    gen = {p["name"]: p for p in by_name["problems generate"]["params"]}
    assert gen["difficulty"]["type"] == "int" and gen["difficulty"]["default"] == 2
    assert gen["difficulty"]["min"] == 1 and gen["difficulty"]["max"] == 5
    assert gen["n"]["flag"] == "--n"
    assert "db" not in gen
    imp = {p["name"]: p for p in by_name["import"]["params"]}
    assert imp["files"]["argument"] and imp["files"]["multiple"] and imp["files"]["type"] == "path"
    assert imp["skip_bad"]["type"] == "bool"
