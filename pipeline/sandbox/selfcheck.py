"""Hostile programs run through a sandbox to show what it contains on this machine (`still2 sandbox --check`).

Each probe is a program and the outcome that means "contained"; the check reports, per probe, what
happened. A probe that is not contained is printed as such, never hidden: on a machine without namespaces
or Landlock some are expected to escape (see `describe()`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.sandbox.base import Limits, Report, Run, Sandbox

LIMITS = Limits(test_seconds=2.0, total_seconds=20.0, memory_mb=512, processes=4, output_mb=1)


@dataclass(frozen=True)
class Probe:
    name: str
    program: str
    contained: str  # expected stdout ("blocked") or a failure kind

    def verdict(self, report: Report) -> tuple[bool, str]:
        f = report.failure or {}
        if self.contained in ("timeout", "memory", "processes", "output"):
            got = f.get("kind", "passed")
            ok = got == self.contained or (self.contained == "memory" and got == "crash")
            return ok, f"{got}: {f.get('detail', '')}".strip(": ")
        if report.ok:
            return True, self.contained
        return False, f.get("actual") or f.get("detail") or str(f)


PROBES = (
    Probe("infinite loop", "while True:\n    pass", "timeout"),
    Probe("memory bomb", "x = bytearray(1 << 34)", "memory"),
    Probe("fork bomb", "import os\nwhile True:\n    os.fork()", "processes"),
    Probe("huge output", "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)", "output"),
    Probe(
        "read /etc/passwd",
        "try:\n    open('/etc/passwd').read()\n    print('read')\nexcept OSError:\n    print('blocked')",
        "blocked",
    ),
    Probe(
        "write outside",
        "try:\n    open('/tmp/still2-sandbox-probe', 'w').write('x')\n    print('wrote')\n"
        "except OSError:\n    print('blocked')",
        "blocked",
    ),
    Probe(
        "open a socket",
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=1)\n"
        "    print('connected')\nexcept OSError:\n    print('blocked')",
        "blocked",
    ),
    Probe(
        "read secrets from env",
        "import os\nprint('blocked' if not any(k.endswith(('KEY', 'TOKEN', 'SECRET')) "
        "for k in os.environ) else sorted(os.environ))",
        "blocked",
    ),
)


def run_probes(sandbox: Sandbox) -> list[tuple[str, bool, str]]:
    """(probe, contained, what happened) for every probe."""
    runs = [Run(p.program, {"style": "io", "cases": [{"input": "", "output": "blocked\n"}]}, LIMITS) for p in PROBES]
    return [(p.name, *p.verdict(r)) for p, r in zip(PROBES, sandbox.run_many(runs))]
