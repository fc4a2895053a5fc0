"""Where a looping trace starts to repeat itself (the detail view's "jump to where the loop starts").

The repetition filter (pipeline/filters/repetition.py) quotes the most repeated line in its reason
(``most repeated line ×63: "…"``); the loop starts at the first step holding that line. Without a
reason (or when the quote is not found), the loop starts at the first step whose text recurs at least
``MIN_COUNT`` times among the steps. Written by hand: this is the filter's notion of a loop mapped
onto the TUI's steps.
"""

from __future__ import annotations

import re

MIN_COUNT = 3
MIN_CHARS = 10
_QUOTE = re.compile(r'most repeated (?:line|\d+-gram) ×\d+: "(.*)"')


def _flat(text: str) -> str:
    return " ".join(text.split())


def loop_start(steps: list[str], reason: str | None = None) -> int | None:
    """The index of the step where the loop starts, or None when the steps do not repeat."""
    m = _QUOTE.search(reason or "")
    if m:
        quote = m.group(1).removesuffix("…").strip()
        if len(quote) >= MIN_CHARS:
            for i, step in enumerate(steps):
                if quote in _flat(step):
                    return i
    counts: dict[str, int] = {}
    flat = [_flat(s) for s in steps]
    for text in flat:
        if len(text) >= MIN_CHARS:
            counts[text] = counts.get(text, 0) + 1
    return next((i for i, text in enumerate(flat) if counts.get(text, 0) >= MIN_COUNT), None)
