"""Rule ``format`` (format adherence): the STILL-2 layout - four tags present, in order, sections non-empty."""

from __future__ import annotations

from pipeline.filters.base import Rule, register
from store.trajectory_format import parse_response

_GLOSS = {
    "no_tags": "no tags at all",
    "truncated": "cut off inside a section",
    "missing_solution": "no solution",
    "missing_thought": "no thought",
    "empty_thought": "empty thought",
    "empty_solution": "empty solution",
    "tags_out_of_order": "tags out of order",
    "repeated_tags": "tags repeated",
}


def check_format(row: dict, p: dict) -> str | None:
    """Format adherence: ``parse_response(text).flags`` must be empty.

    All four tags ``<|begin_of_thought|>`` ``<|end_of_thought|>`` ``<|begin_of_solution|>``
    ``<|end_of_solution|>`` present once, in order, with non-empty sections and nothing outside
    them. R1 ``<think>`` responses pass when ``allow_r1`` (export re-lays them as STILL); flags
    named in ``ignore`` (comma-separated) are not counted. The reason lists the parser's flags.
    """
    ignore = {f.strip() for f in str(p["ignore"]).split(",") if f.strip()}
    if p["allow_r1"]:
        ignore.add("r1_think")
    flags = [f for f in parse_response(row.get("text") or "").flags if f not in ignore]
    if not flags:
        return None
    gloss = [_GLOSS[f] for f in flags if f in _GLOSS]
    return ", ".join(flags) + (f" ({'; '.join(gloss)})" if gloss else "")


RULE = register(Rule(name="format", check=check_format, defaults={"allow_r1": True, "ignore": ""}))
