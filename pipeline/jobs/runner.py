"""Start, run, cancel and inspect detached jobs. State lives in the store's `run` table, logs on disk.

`start` records the job and spawns `python -m pipeline jobs run ID` in a new session (setsid), so the
job survives the terminal or TUI that started it. That runner marks the job running, runs the CLI
command as its child with STILL2_RUN_ID / STILL2_DB set, forwards SIGTERM (cancel) to it, and records
how it ended. A runner that died without recording (kill -9, reboot) is shown as `crashed`;
`resume` starts the same command again (every pipeline command is resumable and idempotent).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from store import Store, runs
from store.runs import ACTIVE, pid_alive, repair_stale_runs


def jobs_dir(db: str | os.PathLike) -> Path:
    return Path(str(db) + ".jobs")


def job_kind(argv: list[str]) -> str:
    words = []
    for arg in argv:
        if arg.startswith("-") or len(words) == 2:
            break
        words.append(arg)
    return " ".join(words[:2]) if len(words) > 1 and words[0] in ("dataset", "pairs", "problems") else words[0]


def _cli() -> list[str]:
    return [sys.executable, "-m", "pipeline"]


def start(db: str | os.PathLike, argv: list[str], *, parent: str | None = None) -> dict[str, Any]:
    """Record a job for `still2 ARGV` and launch it detached; returns id, pid and log path at once."""
    if not argv:
        raise ValueError("no command given: still2 jobs start -- COMMAND [ARGS]")
    db = str(Path(db).resolve())
    kind = job_kind(argv)
    run_id = f"{kind.replace(' ', '-')}-{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    log_dir = jobs_dir(db)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{run_id}.log"
    runs.queue(Store(db), run_id, kind, argv, log_path=str(log_path), parent=parent)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [*_cli(), "jobs", "run", run_id, "--db", db],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=os.getcwd(),
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    return {"id": run_id, "pid": proc.pid, "log_path": str(log_path), "kind": kind}


def run(db: str, run_id: str) -> int:
    """The detached runner's body: run the job's command as a child and record its end."""
    with Store(db).read() as conn:
        row = conn.execute("SELECT args, state FROM run WHERE id = ?", [run_id]).fetchone()
    if row is None:
        raise ValueError(f"no job {run_id}")
    argv = json.loads(row[0])
    if "--db" not in argv and not any(a.startswith("--db=") for a in argv):
        argv = [*argv, "--db", db]
    env = {**os.environ, "STILL2_RUN_ID": run_id, "STILL2_DB": db, "PYTHONUNBUFFERED": "1"}
    print(f"[still2 job {run_id}] still2 {' '.join(argv)}", flush=True)
    cancelled = False
    child: subprocess.Popen | None = None

    def on_term(signum, frame):  # noqa: ARG001
        nonlocal cancelled
        cancelled = True
        if child is not None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    runs.begin(Store(db), run_id)
    code = -1
    if not cancelled:
        child = subprocess.Popen([*_cli(), *argv], env=env, stdin=subprocess.DEVNULL)
        code = child.wait()
    if cancelled:
        state, error = "cancelled", None
    elif code == 0:
        state, error = "done", None
    else:
        state, error = "failed", f"exit code {code}"
    runs.end(Store(db), run_id, state, error=error)
    repair_stale_runs(Store(db))  # the command's own run rows, if it died without recording its end
    print(f"[still2 job {run_id}] {state}" + (f" ({error})" if error else ""), flush=True)
    return 0 if state == "done" else 1


def cancel(db: str, run_id: str, timeout: float = 10.0) -> str:
    """SIGTERM the job's process group; returns the final state."""
    with Store(db).read() as conn:
        row = conn.execute("SELECT pid, state FROM run WHERE id = ?", [run_id]).fetchone()
    if row is None:
        raise ValueError(f"no job {run_id}")
    pid, state = row
    if state not in ACTIVE:
        return state
    if pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with Store(db).read() as conn:
                state = conn.execute("SELECT state FROM run WHERE id = ?", [run_id]).fetchone()[0]
            if state not in ACTIVE:
                return state
            time.sleep(0.2)
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    runs.end(Store(db), run_id, "cancelled")
    return "cancelled"


def list_jobs(db: str, *, limit: int = 50, active_only: bool = False) -> list[dict[str, Any]]:
    """Jobs newest first; running jobs whose runner process is gone on this host become `crashed`."""
    store = Store(db)
    repair_stale_runs(store)
    # Rows without a log are logical runs (explore, sft, ...) that jobs and commands register.
    where = "WHERE log_path IS NOT NULL" + (" AND state IN ('queued', 'running')" if active_only else "")
    with store.read() as conn:
        cur = conn.execute(
            f"""SELECT id, kind, state, pid, args, progress, started, ended, error, log_path, parent
                               FROM run {where} ORDER BY coalesce(started, ended) DESC NULLS FIRST, id DESC
                               LIMIT ?""",
            [limit],
        )
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    for r in rows:
        r["args"] = json.loads(r["args"]) if r["args"] else []
        r["progress"] = json.loads(r["progress"]) if r["progress"] else None
    return rows


def resume(db: str, run_id: str) -> dict[str, Any]:
    with Store(db).read() as conn:
        row = conn.execute("SELECT args, state FROM run WHERE id = ?", [run_id]).fetchone()
    if row is None:
        raise ValueError(f"no job {run_id}")
    if row[1] in ACTIVE:
        raise ValueError(f"job {run_id} is still {row[1]}")
    return start(db, json.loads(row[0]), parent=run_id)
