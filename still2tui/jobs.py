"""The pipeline CLI seen from the TUI: its job schema, launching, cancelling, and reading logs.

Contract (owned by the CLI, never redefined here):
  ``CLI jobs schema --json``  -> {"commands": [{"name", "help", "params": [{"name", "flag", "type",
                                 "choices", "default", "help", "required", "multiple", "argument",
                                 "off_flag", "shown_default", ...}]}]}
  ``CLI jobs start --db DB --json -- CMD ARGS..`` -> {"id", "pid", "log_path"} (detached)
  ``CLI jobs cancel ID``
Job state is read from the store's ``run`` table.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class CliError(Exception):
    """The CLI failed; the message is what it printed."""


@dataclass
class Param:
    name: str
    flag: str
    type: str = "str"
    choices: list[str] | None = None
    default: Any = None
    help: str = ""
    required: bool = False
    multiple: bool = False
    argument: bool = False  # positional (flag is None)
    off_flag: str | None = None  # a two-way bool's other flag (--fp32 of --bf16/--fp32)
    shown_default: str | None = None  # a recipe-backed option's effective default (its CLI default is None)

    @property
    def off(self) -> str:
        """The flag that turns a bool off: its declared other flag, else --no-FLAG."""
        return self.off_flag or "--no-" + (self.flag or "").removeprefix("--")


@dataclass
class Command:
    name: str
    help: str = ""
    params: list[Param] = field(default_factory=list)


def to_argv(command: Command, values: dict[str, Any]) -> list[str]:
    """CLI arguments for the values that differ from the defaults (required ones always)."""
    argv = command.name.split()  # "pairs build" is two words on the command line
    for p in command.params:
        value = values.get(p.name, p.default)
        if p.type == "bool":
            # None: left to the command (a recipe-backed two-way flag); else only a change from the default
            if value is None or (p.default is not None and bool(value) == bool(p.default)):
                continue
            argv.append(p.flag if value else p.off)
            continue
        if value in (None, "") or (value == p.default and not p.required):
            continue
        items = value if isinstance(value, list) else (str(value).split() if p.multiple else [value])
        for item in items:
            argv += [str(item)] if p.argument else [p.flag, str(item)]
    return argv


class PipelineCli:
    def __init__(self, base: list[str], db: str, timeout: float = 60.0):
        self.base, self.db, self.timeout = list(base), db, timeout

    def _run(self, args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.base, *args], capture_output=True, text=True, timeout=self.timeout, stdin=subprocess.DEVNULL
        )

    def schema(self) -> list[Command]:
        out = self._run(["jobs", "schema", "--json"])
        if out.returncode != 0:
            raise CliError((out.stderr or out.stdout).strip() or f"exit {out.returncode}")
        data = json.loads(out.stdout)
        return [
            Command(
                c["name"],
                c.get("help", ""),
                [Param(**{k: p.get(k) for k in Param.__dataclass_fields__ if k in p}) for p in c["params"]],
            )
            for c in data["commands"]
        ]

    def start(self, argv: list[str]) -> dict:
        out = self._run(["jobs", "start", "--db", self.db, "--json", "--", *argv])
        if out.returncode != 0:
            raise CliError((out.stderr or out.stdout).strip() or f"exit {out.returncode}")
        return json.loads(out.stdout)

    def cancel(self, job_id: str) -> str:
        out = self._run(["jobs", "cancel", job_id, "--db", self.db])
        if out.returncode != 0:
            raise CliError((out.stderr or out.stdout).strip() or f"exit {out.returncode}")
        return out.stdout.strip() or f"cancelled {job_id}"

    def run_step(self, args: list[str]) -> tuple[bool, str]:
        """Run one CLI step to completion; (ok, message), with a clear message for a missing command."""
        try:
            out = self._run([*args, "--db", self.db])
        except subprocess.TimeoutExpired:
            return False, f"`{' '.join(args)}` did not finish in {self.timeout:.0f}s"
        text = (out.stderr or out.stdout).strip()
        if out.returncode != 0 and "No such command" in text:
            return False, f"this pipeline has no `{' '.join(args[:2])}` command yet"
        if out.returncode != 0:
            return False, text.splitlines()[-1] if text else f"exit {out.returncode}"
        return True, out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "done"


def tail(path: str | None, lines: int = 200, max_bytes: int = 65536) -> list[str]:
    """The last lines of a log file (reads at most max_bytes from its end)."""
    if not path or not Path(path).exists():
        return []
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - max_bytes))
        data = fh.read().decode("utf-8", "replace")
    return data.splitlines()[-lines:]
