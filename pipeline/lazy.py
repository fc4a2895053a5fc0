"""Lazy package exports (PEP 562): a package names what it exports and where each name lives, and a
name's module is imported on first use, so that the CLI can read option dataclasses at start-up without
loading what the work needs (pyarrow, torch)."""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of `package` for `exports` (name -> module); caches each value found."""
    import sys

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
