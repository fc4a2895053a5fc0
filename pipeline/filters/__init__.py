"""Rule filters for trajectories (repetition, gibberish, language mixing, length, format, duplicates, answer).

Rules only write rows into the ``flag`` table with a human-readable reason; trajectories are never
deleted or modified. Importing this package registers every rule in ``RULES``.
"""
from __future__ import annotations

from pipeline.filters import answer, dedup, format, gibberish, language, length, repetition  # noqa: F401
from pipeline.filters.base import RULES, Rule, get_rules, parse_params
from pipeline.filters.runner import FilterReport, run_filters

__all__ = ["RULES", "Rule", "FilterReport", "get_rules", "parse_params", "run_filters"]
