"""Step bookkeeping for the loop: one `run` row per step (kind 'iterate-step', args {loop, round, step}).

A step is done when its row says so; its outputs (dataset name, model id, figures) are in the row's
`progress` JSON, so a rerun skips it and reads what it produced. An interrupted step (row left
'running' by a killed process, or 'failed') is simply run again.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable

from store import runs
from store.store import Store

STEP_KIND = "iterate-step"
LOOP_KIND = "iterate"


class Ledger:
    def __init__(self, store: Store, loop: str):
        self.store = store
        self.loop = loop
        self.loop_run = f"iterate-{loop}"
        self.skipped: list[str] = []
        self.ran: list[str] = []

    def step_id(self, round_: int, step: str) -> str:
        return f"{self.loop_run}-r{round_}-{step}"

    def start_loop(self, config: dict[str, Any]) -> None:
        runs.begin(self.store, self.loop_run, LOOP_KIND, config)

    def end_loop(self, state: str, summary: dict[str, Any] | None = None, error: str | None = None) -> None:
        runs.end(self.store, self.loop_run, state, progress=summary, error=error)

    def outputs(self, round_: int, step: str) -> dict[str, Any] | None:
        with self.store.read() as conn:
            row = conn.execute("SELECT state, progress FROM run WHERE id = ?", [self.step_id(round_, step)]).fetchone()
        if not row or row[0] != "done":
            return None
        return json.loads(row[1]) if row[1] else {}

    def _mark(self, round_: int, step: str, state: str, outputs: dict | None = None, error: str | None = None) -> None:
        sid = self.step_id(round_, step)
        if state == "running":
            runs.begin(
                self.store, sid, STEP_KIND, {"loop": self.loop, "round": round_, "step": step}, parent=self.loop_run
            )
        else:
            runs.end(self.store, sid, state, progress=outputs, error=error)

    def step(self, round_: int, step: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run `fn` unless the step is done already; returns its outputs (with `seconds`)."""
        done = self.outputs(round_, step)
        if done is not None:
            self.skipped.append(f"r{round_}-{step}")
            return done
        self._mark(round_, step, "running")
        started = time.monotonic()
        try:
            outputs = dict(fn())
        except BaseException as exc:
            self._mark(round_, step, "failed", error=f"{type(exc).__name__}: {exc}")
            raise
        outputs["seconds"] = round(time.monotonic() - started, 2)
        self._mark(round_, step, "done", outputs)
        self.ran.append(f"r{round_}-{step}")
        return outputs

    def steps(self) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            rows = conn.execute(
                """SELECT id, args, state, progress, started, ended FROM run
                                   WHERE kind = ? AND parent = ? ORDER BY started""",
                [STEP_KIND, self.loop_run],
            ).fetchall()
        return [
            {"id": r[0], **json.loads(r[1]), "state": r[2], "outputs": json.loads(r[3]) if r[3] else None} for r in rows
        ]
