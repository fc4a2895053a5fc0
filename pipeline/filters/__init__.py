"""Rule filters for trajectories (repetition, gibberish, language mixing, length, format, duplicates, answer,
benchmark contamination).

Rules only write rows into the ``flag`` table with a human-readable reason; trajectories are never
deleted or modified. Importing this package registers every rule in ``RULES``, in the order below.
"""

from __future__ import annotations

from pipeline.filters import (
    adherence,  # noqa: F401
    answer,  # noqa: F401
    contamination,  # noqa: F401
    dedup,  # noqa: F401
    gibberish,  # noqa: F401
    language,  # noqa: F401
    length,  # noqa: F401
    repetition,  # noqa: F401  (import order = registry order)
)
from pipeline.filters.base import RULES, Rule, get_rules, parse_params
from pipeline.filters.runner import FilterReport, run_filters

__all__ = ["RULES", "Rule", "FilterReport", "get_rules", "parse_params", "run_filters"]
