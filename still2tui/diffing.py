"""Word-level diff of two texts (difflib), as Rich Text for the two sides of a pair."""

from __future__ import annotations

import difflib
import re

from rich.text import Text

_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(left: str, right: str, removed: str = "bold red", added: str = "bold green") -> tuple[Text, Text]:
    """Left with words absent from right highlighted, and right with words absent from left."""
    a, b = _TOKENS.findall(left or ""), _TOKENS.findall(right or "")
    out_a, out_b = Text(), Text()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out_a.append("".join(a[i1:i2]))
            out_b.append("".join(b[j1:j2]))
        else:
            out_a.append("".join(a[i1:i2]), style=removed)
            out_b.append("".join(b[j1:j2]), style=added)
    return out_a, out_b


def similarity(left: str, right: str) -> float:
    """Share of words the two texts have in common (the same whichever text comes first: swapping a pair
    does not change it)."""
    a, b = sorted([(left or "").split(), (right or "").split()])
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() if a or b else 1.0
