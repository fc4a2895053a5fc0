"""Run rows for training jobs (kind 'sft' | 'dpo'): started here; ended with store.runs.end (the lifecycle is store/runs.py)."""

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
