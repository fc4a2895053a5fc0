"""What a sandbox is: the limits it enforces, the run it is given (a program and its tests), the report it
returns, and the registry of implementations.

A sandbox runs `runtime/sandbox_runner.py` next to a `job.json` (see `job_files`) with Python and returns
the runner's one-line JSON report. The local implementation does that in confined subprocesses
(`pipeline.sandbox.local`). A remote one (E2B, Piston, a container runtime) uploads the same files, runs
`python sandbox_runner.py .` there, and parses the same report: the tests run inside the sandbox, so the
host never executes untrusted code. Register it with `register_sandbox` or the `still2.sandboxes`
entry-point group and select it with `STILL2_SANDBOX=name`.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import threading
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any, Callable, Protocol

RUNTIME_FILES = ("sandbox_runner.py", "sandbox_checks.py", "sandbox_confine.py")
RUNNER = "sandbox_runner.py"


@dataclass(frozen=True)
class Limits:
    """Per-program limits (ours: the report gives none). Each test case gets test_seconds of wall and CPU time."""

    test_seconds: float = field(default=5.0, metadata={"help": "wall and CPU seconds per test case"})
    total_seconds: float = field(default=60.0, metadata={"help": "wall seconds for all tests of one program"})
    memory_mb: int = field(default=1024, metadata={"help": "address space per process (RLIMIT_AS), MiB"})
    # worst-case memory of one program = processes x memory_mb: keep the product small on a shared box
    processes: int = field(default=4, metadata={"help": "processes + threads the program may run at once"})
    output_mb: int = field(default=16, metadata={"help": "largest stdout/stderr/file the program may write, MiB"})
    open_files: int = field(default=64, metadata={"help": "open file descriptors per process"})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Run:
    """One program and the tests to run it against (a `store.formats.code_tests.CodeTests` as a dict)."""

    program: str
    tests: dict[str, Any]
    limits: Limits = Limits()


@dataclass(frozen=True)
class Report:
    """The outcome of one Run. `failure` says which test failed and how (kind, detail, input, expected,
    actual); `error` is set when the sandbox itself failed (never counted as a pass)."""

    ok: bool
    n: int
    passed: int
    failure: dict[str, Any] | None
    seconds: float
    error: str | None = None

    @classmethod
    def from_runner(cls, line: str) -> "Report":
        data = json.loads(line)
        return cls(
            ok=bool(data["ok"]),
            n=int(data["n"]),
            passed=int(data["passed"]),
            failure=data.get("failure"),
            seconds=float(data.get("seconds") or 0.0),
        )

    @classmethod
    def failed(cls, kind: str, detail: str, seconds: float = 0.0) -> "Report":
        return cls(
            ok=False,
            n=0,
            passed=0,
            failure={"test": 0, "kind": kind, "detail": detail},
            seconds=seconds,
            error=detail if kind == "sandbox" else None,
        )


def runtime_source(name: str) -> bytes:
    return resources.files("pipeline.sandbox.runtime").joinpath(name).read_bytes()


def job_document(run: Run, confine: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"program": run.program, "tests": run.tests, "limits": run.limits.to_dict(), "confine": confine or {}}


def job_files(run: Run, confine: dict[str, Any] | None = None) -> dict[str, bytes]:
    """Everything a sandbox needs in its working directory: the runner, its two helpers and job.json."""
    files = {name: runtime_source(name) for name in RUNTIME_FILES}
    files["job.json"] = json.dumps(job_document(run, confine)).encode()
    return files


OnDone = Callable[[int, Report], None]


class Sandbox(Protocol):
    name: str

    def run_many(self, runs: list[Run], on_done: OnDone | None = None) -> list[Report]:
        """Run every program against its tests; reports in order; `on_done(i, report)` as each finishes."""

    def describe(self) -> dict[str, Any]:
        """What isolation applies here, in words a user can check (shown by `still2 sandbox`)."""

    def close(self) -> None:
        """Release workers or remote sessions."""


SANDBOXES: dict[str, str] = {"local": "pipeline.sandbox.local:LocalSandbox"}
_INSTANCES: dict[tuple[str, int | None], Sandbox] = {}
_LOCK = threading.Lock()


def register_sandbox(name: str, target: str) -> None:
    """Register an implementation as "module:Class" (constructed with `workers=`)."""
    SANDBOXES[name] = target


def _entry_points() -> None:
    try:
        from importlib.metadata import entry_points

        for ep in entry_points(group="still2.sandboxes"):
            SANDBOXES.setdefault(ep.name, ep.value)
    except Exception:  # a broken third-party plugin must not break the built-in sandbox
        pass


def sandbox_names() -> list[str]:
    _entry_points()
    return sorted(SANDBOXES)


def get_sandbox(name: str | None = None, workers: int | None = None) -> Sandbox:
    """The shared sandbox `name` (default: $STILL2_SANDBOX, else local) with `workers` parallel runs."""
    name = name or os.environ.get("STILL2_SANDBOX") or "local"
    with _LOCK:
        key = (name, workers)
        if key not in _INSTANCES:
            if name not in SANDBOXES:
                _entry_points()
            if name not in SANDBOXES:
                raise ValueError(f"unknown sandbox {name!r}; known: {', '.join(sandbox_names())}")
            module, _, cls = SANDBOXES[name].partition(":")
            _INSTANCES[key] = getattr(importlib.import_module(module), cls)(workers=workers)
        return _INSTANCES[key]


def shutdown() -> None:
    """Stop every sandbox's workers (also registered with atexit)."""
    with _LOCK:
        for sb in _INSTANCES.values():
            sb.close()
        _INSTANCES.clear()


atexit.register(shutdown)
