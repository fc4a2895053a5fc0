"""The local sandbox: each program runs in its own confined runner process on this machine, `workers` at
a time, each under a hard wall-clock deadline after which its whole process tree is killed.

Per run: a fresh temporary directory (job.json readable only by the runner, work/ owned by the sandbox
uid), a scrubbed environment (no tokens or keys of the caller), `python -I` (no PYTHONPATH, no user site),
the namespaces and uid of `isolation.probe()`, and the limits of the run (applied by the runner to every
child it forks). A runner that overruns its deadline is killed with its process group; a runner that
crashes or prints no report gives a sandbox error, never a pass.
"""
from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pipeline.sandbox.base import RUNNER, OnDone, Report, Run, job_files
from pipeline.sandbox.isolation import UID_SLOTS, Isolation, probe

TMPFS_MB = 64  # ours: the work directory's size when it can be a tmpfs
STARTUP_SECONDS = 15.0  # runner start on a loaded machine, on top of the run's total_seconds
SYSTEM_READ_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ld.so.cache", "/etc/localtime",
                     "/etc/ssl", "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random",
                     "/sys/devices/system/cpu")


def clean_env(workdir: str) -> dict[str, str]:
    """The whole environment of a sandboxed program: nothing of the caller's (API keys, tokens) leaks in."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": workdir,
            "TMPDIR": workdir, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def read_paths() -> list[str]:
    """Where a sandboxed Python may read: its own installation and the system libraries."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *SYSTEM_READ_PATHS}
    paths.update(p for p in sys.path if p and os.path.isabs(p) and ("site-packages" in p or "/lib/python" in p))
    return sorted(p for p in paths if os.path.exists(p))


class LocalSandbox:
    name = "local"

    def __init__(self, workers: int | None = None, isolation: Isolation | None = None):
        self.workers = max(1, min(UID_SLOTS, workers or os.cpu_count() or 1))
        self.isolation = isolation or probe()
        self._slots: queue.Queue[int] = queue.Queue()
        for slot in range(self.workers):
            self._slots.put(slot)
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="sandbox")
        self._read_paths = read_paths()
        self.killed = 0  # runners killed at their hard deadline
        self.limits_tmpfs_mb = TMPFS_MB
        self.startup_seconds = STARTUP_SECONDS

    def describe(self) -> dict[str, Any]:
        return {"sandbox": self.name, "workers": self.workers, **self.isolation.describe()}

    def run_many(self, runs: list[Run], on_done: OnDone | None = None) -> list[Report]:
        futures = [self._executor.submit(self._run_one, run) for run in runs]
        out: list[Report] = []
        for i, fut in enumerate(futures):
            report = fut.result()
            out.append(report)
            if on_done is not None:
                on_done(i, report)
        return out

    def _confine(self, slot: int, workdir: str) -> dict[str, Any]:
        uid = self.isolation.uid_for(slot)
        return {"uid": uid, "gid": uid, "landlock_abi": self.isolation.landlock_abi,
                "read_paths": self._read_paths, "write_paths": [workdir],
                "tmpfs_mb": self.limits_tmpfs_mb if "mount" in self.isolation.namespaces else 0}

    def _run_one(self, run: Run) -> Report:
        slot = self._slots.get()
        jobdir = tempfile.mkdtemp(prefix="still2-sandbox-")
        started = time.monotonic()
        try:
            workdir = os.path.join(jobdir, "work")
            confine = self._confine(slot, workdir)
            for name, data in job_files(run, confine).items():
                path = os.path.join(jobdir, name)
                with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
                    fh.write(data)
            os.mkdir(workdir, 0o700)
            os.chmod(jobdir, 0o711)  # the sandbox uid may pass through to work/, not list or read the rest
            if confine["uid"]:
                os.chown(workdir, confine["uid"], confine["gid"])
            return self._execute(jobdir, workdir, run)
        except OSError as e:
            return Report.failed("sandbox", f"could not prepare the sandbox: {e}", time.monotonic() - started)
        finally:
            shutil.rmtree(jobdir, ignore_errors=True)
            self._slots.put(slot)

    def _execute(self, jobdir: str, workdir: str, run: Run) -> Report:
        cmd = [*self.isolation.prefix, sys.executable, "-I", os.path.join(jobdir, RUNNER), jobdir]
        hard = run.limits.total_seconds + self.startup_seconds
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=jobdir, env=clean_env(workdir), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=hard)
        except subprocess.TimeoutExpired:
            self._kill(proc)
            self.killed += 1
            return Report(ok=False, n=0, passed=0, seconds=time.monotonic() - started,
                          failure={"test": 0, "kind": "timeout",
                                   "detail": f"hard deadline of {hard:g} s hit, sandbox killed"})
        finally:
            self._kill(proc)
        lines = [line for line in out.decode("utf-8", "replace").splitlines() if line.strip()]
        try:
            return Report.from_runner(lines[-1])
        except (IndexError, ValueError, KeyError, TypeError):
            tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
            return Report.failed("sandbox", f"the sandbox runner gave no report ({tail[0][:200]})",
                                 time.monotonic() - started)

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # unshare and the runner (whose PID namespace then dies)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        self._executor.shutdown(wait=True)
