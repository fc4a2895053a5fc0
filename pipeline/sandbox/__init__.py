"""Sandboxes that run untrusted programs (model-written code) against their tests.

`get_sandbox()` returns the configured implementation (local by default, see `local.py`); every
implementation takes `Run`s (program, tests, `Limits`) and returns `Report`s. See `base.py` for how a
remote or container sandbox plugs in.
"""

from __future__ import annotations

from pipeline.sandbox.base import (
    Limits,
    Report,
    Run,
    Sandbox,
    get_sandbox,
    job_files,
    register_sandbox,
    sandbox_names,
    shutdown,
)

__all__ = [
    "Limits",
    "Report",
    "Run",
    "Sandbox",
    "get_sandbox",
    "job_files",
    "register_sandbox",
    "sandbox_names",
    "shutdown",
]
