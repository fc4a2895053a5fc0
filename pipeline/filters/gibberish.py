"""Rule ``gibberish``: character and token statistics that ordinary prose, math and code never reach."""

from __future__ import annotations

import re

from pipeline.filters.base import Rule, register, snippet
from pipeline.filters.textstats import word_ids, words

_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_SYMBOL = re.compile(r"[^\w\s]|_")
_SPACE = re.compile(r"\s")


def _min_window_distinct(tokens: list[str], window: int) -> float:
    ids = word_ids(tokens).tolist()
    if len(ids) < window:
        return len(set(ids)) / max(1, len(ids))
    step = max(1, window // 2)
    return min(len(set(ids[i : i + window])) for i in range(0, len(ids) - window + 1, step)) / window


def check_gibberish(row: dict, p: dict) -> str | None:
    """Gibberish: symbol soup, endless "words", broken characters, or a tiny vocabulary.

    Flags when any holds: the share of non-alphanumeric, non-space characters exceeds
    ``max_symbol_ratio``; a whitespace-free run is longer than ``max_word_chars``; more than
    ``max_bad_chars`` replacement (U+FFFD) or control characters occur; or some window of
    ``window`` words has fewer than ``min_distinct_ratio`` distinct words (texts of at least
    ``min_words`` words). Each finding is listed in the reason.
    """
    text = row.get("text") or ""
    found = []
    visible = len(text) - len(_SPACE.findall(text))
    if visible >= p["min_chars"]:
        symbols = len(_SYMBOL.findall(text))
        if symbols / visible > p["max_symbol_ratio"]:
            found.append(f"{symbols / visible:.0%} of characters are symbols (> {p['max_symbol_ratio']:.0%})")
    tokens = words(text)
    longest = max(tokens, key=len, default="")
    if len(longest) > p["max_word_chars"]:
        found.append(f'a {len(longest):,}-character word "{snippet(longest, 40)}"')
    bad = _BAD_CHARS.findall(text)
    if len(bad) > p["max_bad_chars"]:
        kinds = sorted({f"U+{ord(ch):04X}" for ch in bad})
        found.append(f"{len(bad)} replacement/control characters ({', '.join(kinds[:5])})")
    if len(tokens) >= p["min_words"]:
        ratio = _min_window_distinct(tokens, p["window"])
        if ratio < p["min_distinct_ratio"]:
            found.append(f"a {p['window']}-word window with only {ratio:.0%} distinct words")
    return "; ".join(found) or None


RULE = register(
    Rule(
        name="gibberish",
        check=check_gibberish,
        defaults={
            "max_symbol_ratio": 0.5,
            "min_chars": 50,
            "max_word_chars": 200,
            "max_bad_chars": 0,
            "window": 100,
            "min_distinct_ratio": 0.05,
            "min_words": 100,
        },
    )
)
