"""The local sandbox: a pool of long-lived runner processes on this machine, one per slot, each inside its
own namespaces and under its own unprivileged uid (see isolation.py), fed one program at a time.

Same discipline as the math verifier's pool (pipeline/verifier/pool.py): every program has a hard
wall-clock deadline (its limits' total_seconds plus start-up slack); a runner that overruns it is killed
with its whole namespace and replaced, a runner that dies is replaced, and either way the program's
verdict is a timeout or a sandbox error, never a pass. Inside, the runner forks a confined child per test
(limits, uid, Landlock), kills whatever the child left behind and gives each program a fresh work directory
(a size-capped tmpfs when a mount namespace is available); it never runs untrusted code itself, so one
program cannot leave anything for the next. Runners start with a scrubbed environment (no key or token of
the caller) and `python -I` (no PYTHONPATH, no user site).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from importlib import resources
from multiprocessing.connection import wait
from typing import Any

from pipeline.sandbox.base import RUNNER, OnDone, Report, Run, job_document
from pipeline.sandbox.isolation import UID_SLOTS, Isolation, probe

TMPFS_MB = 64  # ours: the work directory's size when it can be a tmpfs
STARTUP_SECONDS = 15.0  # slack on top of a run's total_seconds (a runner starting on a loaded machine)
START_TIMEOUT = 60.0
JOBS_PER_RUNNER = 2000  # a runner is replaced after this many programs (bounds any slow growth)
SYSTEM_READ_PATHS = (
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/bin",
    "/sbin",
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/ssl",
    "/dev/null",
    "/dev/zero",
    "/dev/urandom",
    "/dev/random",
    "/sys/devices/system/cpu",
)


def clean_env(home: str) -> dict[str, str]:
    """The whole environment of a runner: nothing of the caller's (API keys, tokens) leaks in."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": home,
        "TMPDIR": home,
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def read_paths() -> list[str]:
    """Where a sandboxed Python may read: its own installation and the system libraries."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *SYSTEM_READ_PATHS}
    paths.update(p for p in sys.path if p and os.path.isabs(p) and ("site-packages" in p or "/lib/python" in p))
    return sorted(p for p in paths if os.path.exists(p))


class _Runner:
    """One long-lived runner process (and its namespaces) serving one slot."""

    def __init__(self, slot: int, isolation: Isolation):
        self.slot = slot
        self.basedir = tempfile.mkdtemp(prefix="still2-sandbox-")
        os.chmod(self.basedir, 0o711)
        runner = str(resources.files("pipeline.sandbox.runtime").joinpath(RUNNER))
        self.err = open(os.path.join(self.basedir, "runner.err"), "wb")
        self.proc = subprocess.Popen(
            [*isolation.prefix, sys.executable, "-I", runner, "--serve", self.basedir],
            cwd=self.basedir,
            env=clean_env(self.basedir),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.err,
            start_new_session=True,
        )
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.buffer = b""
        self.ready = False
        self.task: int | None = None
        self.deadline = 0.0
        self.started = time.monotonic()
        self.jobs = 0

    def lines(self) -> list[bytes] | None:
        """Complete lines read so far; None at end of file (the runner died)."""
        try:
            chunk = os.read(self.fd, 1 << 20)
        except BlockingIOError:
            return []
        if not chunk:
            return None
        self.buffer += chunk
        *done, self.buffer = self.buffer.split(b"\n")
        return [line for line in done if line.strip()]

    def send(self, document: dict[str, Any]) -> None:
        self.proc.stdin.write((json.dumps(document) + "\n").encode())
        self.proc.stdin.flush()

    def last_error(self) -> str:
        try:
            with open(os.path.join(self.basedir, "runner.err"), "rb") as fh:
                lines = fh.read()[-2000:].decode("utf-8", "replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1][:200] if lines else ""

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # unshare and the runner: its PID namespace dies with it
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout, self.err):
            try:
                stream.close()
            except OSError:
                pass
        shutil.rmtree(self.basedir, ignore_errors=True)


class LocalSandbox:
    name = "local"

    def __init__(self, workers: int | None = None, isolation: Isolation | None = None):
        self.workers = max(1, min(UID_SLOTS, workers or os.cpu_count() or 1))
        self.isolation = isolation if isolation is not None else probe()
        self.tmpfs_mb = TMPFS_MB
        self.startup_seconds = STARTUP_SECONDS
        self._read_paths = read_paths()
        self._runners: list[_Runner] = []
        self._lock = threading.Lock()
        self.killed = 0  # runners killed at a hard deadline
        self.respawns = 0

    def describe(self) -> dict[str, Any]:
        return {"sandbox": self.name, "workers": self.workers, **self.isolation.describe()}

    def _confine(self, slot: int) -> dict[str, Any]:
        uid = self.isolation.uid_for(slot)
        return {
            "uid": uid,
            "gid": uid,
            "landlock_abi": self.isolation.landlock_abi,
            "read_paths": self._read_paths,
            "tmpfs_mb": self.tmpfs_mb if "mount" in self.isolation.namespaces else 0,
        }

    def _replace(self, r: _Runner) -> None:
        self.respawns += 1
        r.kill()
        self._runners[self._runners.index(r)] = _Runner(r.slot, self.isolation)

    def _ensure(self) -> None:
        while len(self._runners) < self.workers:
            self._runners.append(_Runner(len(self._runners), self.isolation))
        for r in list(self._runners):
            if r.proc.poll() is not None or (r.task is None and r.jobs >= JOBS_PER_RUNNER):
                self._replace(r)

    def run_many(self, runs: list[Run], on_done: OnDone | None = None) -> list[Report]:
        with self._lock:
            return self._run(runs, on_done)

    def _run(self, runs: list[Run], on_done: OnDone | None) -> list[Report]:
        results: list[Report | None] = [None] * len(runs)
        if not runs:
            return []
        self._ensure()
        pending = deque(range(len(runs)))
        start_failures = 0

        def finish(i: int, report: Report) -> None:
            results[i] = report
            if on_done is not None:
                on_done(i, report)

        while pending or any(r.task is not None for r in self._runners):
            for r in list(self._runners):
                if r.ready and r.task is None and pending:
                    i = pending.popleft()
                    document = job_document(runs[i], self._confine(r.slot))  # the runner adds the work dir
                    try:
                        r.send(document)
                    except (OSError, ValueError):
                        pending.appendleft(i)
                        self._replace(r)
                        continue
                    r.task, r.jobs = i, r.jobs + 1
                    r.deadline = time.monotonic() + runs[i].limits.total_seconds + self.startup_seconds
            now = time.monotonic()
            deadlines = [r.deadline for r in self._runners if r.task is not None]
            deadlines += [r.started + START_TIMEOUT for r in self._runners if not r.ready]
            ready = wait([r.fd for r in self._runners], timeout=max(0.0, min(deadlines) - now) if deadlines else 0.05)
            for r in list(self._runners):
                if r.fd not in ready:
                    continue
                lines = r.lines()
                if lines is None:  # the runner died
                    i, why = r.task, r.last_error()
                    self._replace(r)
                    if i is not None:
                        finish(i, Report.failed("sandbox", f"the sandbox runner died ({why or 'no message'})"))
                    else:
                        start_failures += 1
                        if start_failures > 3 * self.workers:
                            raise RuntimeError(f"sandbox runners fail to start: {why or 'no message'}")
                    continue
                for line in lines:
                    try:
                        message = json.loads(line)
                    except ValueError:
                        continue
                    if message.get("ready"):
                        r.ready = True
                    elif r.task is not None:
                        i, r.task = r.task, None
                        try:
                            finish(i, Report.from_runner(line.decode("utf-8", "replace")))
                        except (KeyError, TypeError, ValueError) as e:
                            finish(i, Report.failed("sandbox", f"unreadable report from the runner ({e})"))
            now = time.monotonic()
            for r in list(self._runners):
                if r.task is not None and now >= r.deadline:
                    i = r.task
                    self.killed += 1
                    self._replace(r)
                    hard = runs[i].limits.total_seconds + self.startup_seconds
                    finish(
                        i,
                        Report(
                            ok=False,
                            n=0,
                            passed=0,
                            seconds=hard,
                            failure={
                                "test": 0,
                                "kind": "timeout",
                                "detail": f"hard deadline of {hard:g} s hit, sandbox killed",
                            },
                        ),
                    )
                elif not r.ready and now >= r.started + START_TIMEOUT:
                    raise RuntimeError(
                        f"a sandbox runner did not start within {START_TIMEOUT:.0f} s "
                        f"({r.last_error() or 'no message'})"
                    )
        return results  # type: ignore[return-value]

    def close(self) -> None:
        with self._lock:
            for r in self._runners:
                try:
                    r.proc.stdin.close()
                except OSError:
                    pass
            for r in self._runners:
                try:
                    r.proc.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass
                r.kill()
            self._runners = []
