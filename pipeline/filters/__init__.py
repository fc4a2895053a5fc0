"""Rule filters for trajectories (repetition, gibberish, language mixing, length, format, duplicates, answer,
benchmark contamination).

Rules only write rows into the ``flag`` table with a human-readable reason; trajectories are never
deleted or modified. Importing this package registers every rule in ``RULES``, in the order below.
"""

from __future__ import annotations

# isort: off
# import order = registry order (the order of `still2 filter`'s table and of the rules run by default)
from pipeline.filters import repetition  # noqa: F401
from pipeline.filters import gibberish  # noqa: F401
from pipeline.filters import language  # noqa: F401
from pipeline.filters import length  # noqa: F401
from pipeline.filters import adherence  # noqa: F401
from pipeline.filters import dedup  # noqa: F401
from pipeline.filters import answer  # noqa: F401
from pipeline.filters import contamination  # noqa: F401

# isort: on
from pipeline.filters.base import RULES, Rule, get_rules, parse_params
from pipeline.filters.runner import FilterReport, run_filters

__all__ = ["RULES", "Rule", "FilterReport", "get_rules", "parse_params", "run_filters"]
