"""The `run` table's lifecycle in one place: the states a run row can be in (a registry, like
pipeline/filters' RULES), and the only functions that write a run row: :func:`queue`, :func:`begin`,
:func:`set_progress`, :func:`end`. Explore, the loop's ledger, training and the job runner all go
through them, so every `running` row names its process and every final state records when it ended.

Rows whose process is gone: every `running` row names its process (pid, host); a row whose process no
longer exists on this host, or whose parent job has ended while it has no pid of its own, is repaired to
`crashed` by whoever looks next (`still2 jobs`, `still2 stats`, the TUI). Rows of other hosts are left
alone: their processes cannot be checked from here.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from typing import Any

from store.store import Store


@dataclass(frozen=True)
class RunState:
    """A state of a run row: `active` ones may still change; the others are final (`ended` is set)."""

    name: str
    active: bool
    help: str


STATES: dict[str, RunState] = {}


def register_state(state: RunState) -> RunState:
    STATES[state.name] = state
    return state


for _state in (
    RunState("queued", True, "recorded by `still2 jobs start`; its runner has not started the command yet"),
    RunState("running", True, "its process (pid, host) is working on it"),
    RunState("done", False, "finished; progress holds its outputs"),
    RunState("failed", False, "stopped on an error (error says which)"),
    RunState("cancelled", False, "stopped by `still2 jobs cancel` or the TUI"),
    RunState("crashed", False, "its process ended without recording an outcome (found by repair_stale_runs)"),
):
    register_state(_state)

ACTIVE = tuple(name for name, state in STATES.items() if state.active)
FINAL = tuple(name for name, state in STATES.items() if not state.active)


def _json(value: Any) -> str | None:
    return json.dumps(value, default=str) if value is not None else None


def queue(
    store: Store, run_id: str, kind: str, args: Any, *, log_path: str | None = None, parent: str | None = None
) -> None:
    """A job recorded before its process exists (the job runner starts it)."""
    with store.write() as conn:
        conn.execute(
            """INSERT INTO run (id, kind, args, state, host, log_path, parent)
                        VALUES (?, ?, ?, 'queued', ?, ?, ?)""",
            [run_id, kind, _json(args), socket.gethostname(), log_path, parent],
        )


def begin(store: Store, run_id: str, kind: str | None = None, args: Any = None, *, parent: str | None = None) -> None:
    """Mark a run `running` under this process: a new row, or a queued/finished/crashed one restarted
    (resume). `parent` defaults to the job this process runs under ($STILL2_RUN_ID); on a restart the
    row keeps its kind and parent, and its args unless new ones are given."""
    me = owner()
    parent = parent if parent is not None else os.environ.get("STILL2_RUN_ID")
    with store.write() as conn:
        conn.execute(
            """INSERT INTO run (id, kind, args, state, pid, host, started, parent)
                        VALUES (?, ?, ?, 'running', ?, ?, now(), ?)
                        ON CONFLICT (id) DO UPDATE SET state = 'running', pid = excluded.pid,
                            host = excluded.host, started = now(), ended = NULL, error = NULL,
                            args = coalesce(excluded.args, run.args)""",
            [run_id, kind or "run", _json(args), me["pid"], me["host"], parent],
        )


def set_progress(store: Store, run_id: str, progress: dict[str, Any]) -> None:
    with store.write() as conn:
        conn.execute("UPDATE run SET progress = ? WHERE id = ?", [_json(progress), run_id])


def end(
    store: Store, run_id: str, state: str, *, progress: dict[str, Any] | None = None, error: str | None = None
) -> None:
    """Record a run's final state (one of FINAL) with its outputs and error; `ended` is now."""
    if state not in FINAL:
        raise ValueError(f"{state!r} is not a final run state ({', '.join(FINAL)})")
    with store.write() as conn:
        conn.execute(
            """UPDATE run SET state = ?, ended = now(), progress = coalesce(?, progress), error = ?
                        WHERE id = ?""",
            [state, _json(progress), error, run_id],
        )


def owner() -> dict[str, Any]:
    """The pid and host to record in a run row this process marks running."""
    return {"pid": os.getpid(), "host": socket.gethostname()}


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def stale_runs(conn) -> list[str]:
    """Ids of `running` rows whose process is gone (this host), or that have no pid and whose parent
    run has ended."""
    host = socket.gethostname()
    rows = conn.execute("""SELECT r.id, r.pid, r.host, p.state FROM run r LEFT JOIN run p ON p.id = r.parent
                           WHERE r.state = 'running'""").fetchall()
    stale = []
    for run_id, pid, run_host, parent_state in rows:
        if pid is not None and run_host == host and not pid_alive(pid):
            stale.append(run_id)
        elif pid is None and parent_state is not None and parent_state not in ACTIVE:
            stale.append(run_id)
    return stale


def repair_stale_runs(store: Store) -> list[str]:
    """Mark stale `running` rows `crashed` (and their stale children, which this may uncover); returns ids.
    Reads only, unless there is something to repair."""
    repaired: list[str] = []
    for _ in range(8):  # a crashed parent can make its pid-less children stale: a few rounds at most
        with store.read() as conn:
            stale = stale_runs(conn)
        if not stale:
            break
        with store.write() as conn:
            stale = stale_runs(conn)  # again under the write lock: a process may have finished meanwhile
            conn.execute(
                """UPDATE run SET state = 'crashed', ended = coalesce(ended, now()),
                                   error = coalesce(error, 'its process ended without recording an outcome')
                            WHERE id IN (SELECT unnest(?)) AND state = 'running'""",
                [stale],
            )
        repaired.extend(stale)
    return repaired
