"""Run rows for training jobs (kind 'sft' | 'dpo'): started, done or failed, with the outcome as progress."""
from __future__ import annotations

import json
import os
import socket
from typing import Any

from store.ids import stable_id
from store.store import Store


def start_run(store: Store, kind: str, args: dict[str, Any]) -> str:
    import time

    run_id = f"{kind}-{stable_id(json.dumps(args, sort_keys=True, default=str), time.time_ns())[:10]}"
    with store.write() as conn:
        conn.execute("INSERT INTO run (id, kind, args, state, pid, host, started, parent) "
                     "VALUES (?, ?, ?, 'running', ?, ?, now(), ?)",
                     [run_id, kind, json.dumps(args, default=str), os.getpid(), socket.gethostname(),
                      os.environ.get("STILL2_RUN_ID")])
    return run_id


def end_run(store: Store, run_id: str, state: str, *, progress: dict[str, Any] | None = None,
            error: str | None = None) -> None:
    with store.write() as conn:
        conn.execute("UPDATE run SET state = ?, ended = now(), progress = coalesce(?, progress), error = ? WHERE id = ?",
                     [state, json.dumps(progress, default=str) if progress else None, error, run_id])
