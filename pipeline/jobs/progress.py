"""Progress for long commands: a rich bar on stderr, mirrored (throttled) into the job's `run.progress`.

A command run as a job gets STILL2_RUN_ID and STILL2_DB in its environment; `JobProgress` then
writes {"done", "total", "desc", ...extra} to the run row at most every `interval` seconds, so the
TUI and `still2 jobs list` can show it. Outside a job it is only the rich bar.

When stderr is not a terminal (a job's log file, `nohup`, a scheduler) a rich bar draws nothing until it
ends, so progress is printed as plain lines instead, at most every `log_interval` seconds.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


class JobProgress:
    def __init__(
        self,
        description: str,
        total: int | None,
        *,
        interval: float = 2.0,
        enabled_bar: bool = True,
        log_interval: float = 10.0,
    ):
        self.description = description
        self.total = total
        self.done = 0
        self.extra: dict[str, Any] = {}
        self.interval = interval
        self.log_interval = log_interval
        self._last_write = 0.0
        self._last_line = 0.0
        self._printed: tuple | None = None  # the state the last plain line showed (not printed twice)
        self._started = time.monotonic()
        self._lines = enabled_bar and not sys.stderr.isatty()
        enabled_bar = enabled_bar and not self._lines
        self._run_id = os.environ.get("STILL2_RUN_ID")
        self._db = os.environ.get("STILL2_DB")
        self._bar = None
        self._task = None
        self._enabled_bar = enabled_bar

    def __enter__(self) -> "JobProgress":
        if self._enabled_bar:
            self._bar = rich_bar()
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total)
        self._write(force=True)
        return self

    def __exit__(self, *exc) -> None:
        self._write(force=True)
        self._line(force=True)
        if self._bar is not None:
            self._bar.stop()

    def advance(self, n: int = 1, **extra: Any) -> None:
        self.done += n
        self.extra.update(extra)
        if self._bar is not None:
            desc = self.description
            if extra:
                desc += " " + " ".join(f"{k}={_fmt(v)}" for k, v in self.extra.items())
            self._bar.update(self._task, advance=n, description=desc)
        self._write()
        self._line()

    def set_total(self, total: int) -> None:
        self.total = total
        if self._bar is not None:
            self._bar.update(self._task, total=total)
        self._line(force=True)

    def _line(self, force: bool = False) -> None:
        """A plain progress line for logs (stderr is not a terminal)."""
        if not self._lines:
            return
        now = time.monotonic()
        if not force and now - self._last_line < self.log_interval:
            return
        state = (self.done, self.total, tuple(self.extra.items()))
        if state == self._printed:
            return
        self._last_line, self._printed = now, state
        of = f"/{self.total:,}" if self.total is not None else ""
        pct = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        extra = "".join(f" {k}={_fmt(v)}" for k, v in self.extra.items())
        sys.stderr.write(f"{self.description}: {self.done:,}{of}{pct}{extra} [{now - self._started:.0f}s]\n")
        sys.stderr.flush()

    def _write(self, force: bool = False) -> None:
        if not self._run_id or not self._db:
            return
        now = time.monotonic()
        if not force and now - self._last_write < self.interval:
            return
        self._last_write = now
        from store import Store, runs

        payload = {"done": self.done, "total": self.total, "desc": self.description, **self.extra}
        runs.set_progress(Store(self._db), self._run_id, payload)


def _fmt(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def rich_bar():
    """A rich progress bar with the columns every long command uses."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
