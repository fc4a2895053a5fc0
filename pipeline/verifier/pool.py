"""A pool of worker processes for symbolic comparisons with a hard per-item deadline: a worker that
overruns is killed and replaced, a worker that dies is replaced; results come back in order.

Workers are plain subprocesses (`python -m pipeline.verifier.worker`) talking over two pipes: no fork of
a possibly multi-threaded parent, and no re-import of the caller's __main__ (which spawn/forkserver do).
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
import time
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Callable

# Address-space cap per worker: a runaway sympy computation dies with MemoryError, not the machine.
MEMORY_LIMIT_BYTES = 4 * 1024**3
SOFT_FRACTION = 0.85  # the in-worker alarm fires first, so most timeouts do not cost a respawn
START_TIMEOUT = 60.0  # a worker that cannot even import sympy in this time is a broken install
# A worker costs about a second of CPU to start (sympy, math-verify): a batch gets one more worker per this
# many comparisons, up to the pool's size, so a handful of symbolic items never pays for the whole pool.
JOBS_PER_WORKER = 16

Result = tuple[bool, str, str]  # (equal, rule, reason)


class _Worker:
    __slots__ = ("proc", "inbox", "outbox", "ready", "warm", "task", "deadline", "started")

    def __init__(self, memory_limit: int):
        p2c_r, p2c_w = os.pipe()
        c2p_r, c2p_w = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pipeline.verifier.worker", str(p2c_r), str(c2p_w), str(memory_limit)],
                pass_fds=(p2c_r, c2p_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                close_fds=True,
            )
        finally:
            os.close(p2c_r)
            os.close(c2p_w)
        self.inbox = Connection(c2p_r, readable=True, writable=False)  # worker -> parent
        self.outbox = Connection(p2c_w, readable=False, writable=True)  # parent -> worker
        self.ready = False
        self.warm = False  # finished the parser warm-up it was asked for
        self.task: int | None = None
        self.deadline = 0.0
        self.started = time.monotonic()

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for c in (self.inbox, self.outbox):
            try:
                c.close()
            except OSError:
                pass

    def alive(self) -> bool:
        return self.proc.poll() is None


class VerifierPool:
    """`run(jobs, timeout)` compares (gold, pred) canonical pairs in parallel, each under a hard deadline."""

    def __init__(self, size: int, memory_limit: int = MEMORY_LIMIT_BYTES):
        self.size = max(1, int(size))
        self.memory_limit = memory_limit
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self.respawns = 0

    def _replace(self, w: _Worker) -> None:
        self.respawns += 1
        w.kill()
        self._workers[self._workers.index(w)] = _Worker(self.memory_limit)

    def _ensure(self, want: int | None = None) -> None:
        want = self.size if want is None else max(1, min(self.size, want))
        while len(self._workers) < want:
            self._workers.append(_Worker(self.memory_limit))
        for w in list(self._workers):
            if not w.alive():
                self._replace(w)

    def prestart(self, n: int = 1) -> None:
        """Start up to `n` workers now without waiting for them: their imports overlap the caller's own work
        (reading and extracting answers); a process that never needs them kills them at exit."""
        with self._lock:
            self._ensure(n)

    def start(self, wait_warm: bool = False) -> None:
        """Start the workers and wait until they are ready (and warmed up, if asked)."""
        with self._lock:
            self._ensure()
            deadline = time.monotonic() + START_TIMEOUT

            def pending(w):
                return not (w.warm if wait_warm else w.ready)

            if wait_warm:
                for w in self._workers:
                    if w.ready and not w.warm:
                        w.outbox.send("warm")

            while any(pending(w) for w in self._workers):
                starting = [w for w in self._workers if pending(w)]
                for conn in wait([w.inbox for w in starting], timeout=max(0.0, deadline - time.monotonic())):
                    w = next(w for w in starting if w.inbox is conn)
                    try:
                        msg = w.inbox.recv()
                    except (EOFError, OSError):
                        self._replace(w)
                        continue
                    w.ready = True
                    w.warm = w.warm or msg == "warm"
                    if wait_warm and msg == "ready":
                        w.outbox.send("warm")
                if time.monotonic() > deadline:
                    raise RuntimeError("verifier workers did not start within %.0f s" % START_TIMEOUT)

    def run(
        self,
        jobs: list[tuple[str, str]],
        timeout: float,
        on_done: Callable[[int, Result], None] | None = None,
    ) -> list[Result]:
        with self._lock:
            return self._run(jobs, timeout, on_done)

    def _run(self, jobs, timeout, on_done) -> list[Result]:
        results: list[Result | None] = [None] * len(jobs)
        if not jobs:
            return []
        self._ensure(1 + (len(jobs) - 1) // JOBS_PER_WORKER)
        pending = deque(range(len(jobs)))
        timeout = max(0.05, float(timeout))
        soft = timeout * SOFT_FRACTION
        start_failures = 0

        def finish(i: int, res: Result) -> None:
            results[i] = res
            if on_done is not None:
                on_done(i, res)

        while pending or any(w.task is not None for w in self._workers):
            for w in list(self._workers):
                if w.ready and w.task is None and pending:
                    i = pending[0]
                    try:
                        w.outbox.send((i, jobs[i][0], jobs[i][1], soft))
                    except (OSError, ValueError):
                        self._replace(w)
                        continue
                    pending.popleft()
                    w.task = i
                    w.deadline = time.monotonic() + timeout
            now = time.monotonic()
            deadlines = [w.deadline for w in self._workers if w.task is not None]
            deadlines += [w.started + START_TIMEOUT for w in self._workers if not w.ready]
            wait_for = max(0.0, min(deadlines) - now) if deadlines else 0.05
            ready = wait([w.inbox for w in self._workers], timeout=wait_for)
            for w in list(self._workers):
                if w.inbox not in ready:
                    continue
                try:
                    msg = w.inbox.recv()
                except (EOFError, OSError):
                    i = w.task
                    self._replace(w)
                    if i is not None:
                        finish(i, (False, "error", "error: worker process died"))
                    else:
                        start_failures += 1
                        if start_failures > 3 * self.size:
                            raise RuntimeError(
                                "verifier workers fail to start (is sympy/math-verify installed?)"
                            ) from None
                    continue
                if msg in ("ready", "warm"):
                    w.ready = True
                    w.warm = w.warm or msg == "warm"
                    continue
                task_id, res = msg
                w.task = None
                finish(task_id, tuple(res))
            now = time.monotonic()
            for w in list(self._workers):
                if w.task is not None and now >= w.deadline:
                    i = w.task
                    self._replace(w)
                    finish(i, (False, "timeout", f"timeout: hard deadline of {timeout:.1f} s hit, worker killed"))
                elif not w.ready and now >= w.started + START_TIMEOUT:
                    raise RuntimeError("a verifier worker did not start within %.0f s" % START_TIMEOUT)
        return results  # type: ignore[return-value]

    def close(self) -> None:
        for w in self._workers:
            try:
                w.outbox.send(None)
            except (OSError, ValueError):
                pass
        for w in self._workers:
            if w.ready:  # a worker still importing would not read the request to stop: no grace period
                try:
                    w.proc.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
            w.kill()
        self._workers = []


_POOL: VerifierPool | None = None
_POOL_LOCK = threading.Lock()


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def get_pool(workers: int | None = None) -> VerifierPool:
    """The shared pool, resized to `workers` if given (default: existing size, else the CPU count)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or (workers is not None and _POOL.size != workers):
            if _POOL is not None:
                _POOL.close()
            _POOL = VerifierPool(workers if workers is not None else default_workers())
        return _POOL


def shutdown() -> None:
    """Stop the shared pool's workers (also registered with atexit)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None:
            _POOL.close()
            _POOL = None


atexit.register(shutdown)
