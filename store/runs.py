"""Run rows whose process is gone: every `running` row names its process (pid, host); a row whose
process no longer exists on this host, or whose parent job has ended while it has no pid of its own,
is repaired to `crashed` by whoever looks next (`still2 jobs`, `still2 stats`, the TUI).

Writers of run rows put :func:`owner` into the row when they mark it running (explore, the loop,
training, the job runner), so a `kill -9` leaves a row that the next reader can recognise as stale.
Rows of other hosts are left alone: their processes cannot be checked from here.
"""
from __future__ import annotations

import os
import socket
from typing import Any

from store.store import Store

ACTIVE = ("queued", "running")


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
            conn.execute("""UPDATE run SET state = 'crashed', ended = coalesce(ended, now()),
                                   error = coalesce(error, 'its process ended without recording an outcome')
                            WHERE id IN (SELECT unnest(?)) AND state = 'running'""", [stale])
        repaired.extend(stale)
    return repaired
