"""Run rows for training jobs (kind 'sft' | 'dpo'): started, done or failed, with the outcome as progress
(the lifecycle itself is store/runs.py)."""

from __future__ import annotations

import json
import time
from typing import Any

from store import runs
from store.ids import stable_id
from store.store import Store


def start_run(store: Store, kind: str, args: dict[str, Any]) -> str:
    run_id = f"{kind}-{stable_id(json.dumps(args, sort_keys=True, default=str), time.time_ns())[:10]}"
    runs.begin(store, run_id, kind, args)
    return run_id


def end_run(
    store: Store, run_id: str, state: str, *, progress: dict[str, Any] | None = None, error: str | None = None
) -> None:
    runs.end(store, run_id, state, progress=progress, error=error)
