"""Rule ``repetition``: loops - the same word n-grams or lines repeated over a large part of the text."""

from __future__ import annotations

from collections import Counter

from pipeline.filters.base import Rule, register, snippet
from pipeline.filters.textstats import ngram_coverage, word_ids, words


def check_repetition(row: dict, p: dict) -> str | None:
    """Loops: repeated word n-grams or repeated lines covering too much of the response.

    Flags when more than ``max_ratio`` of the words lie in ``n``-word sequences that occur at
    least ``min_count`` times, or when lines of at least ``line_min_chars`` characters that occur
    at least ``min_count`` times make up more than ``max_line_ratio`` of the characters. Texts
    under ``min_words`` words are not checked. The reason quotes the most repeated line (or n-gram).
    """
    text = row.get("text") or ""
    tokens = words(text)
    if len(tokens) < p["min_words"]:
        return None
    coverage, top_start, top_count = ngram_coverage(word_ids(tokens), p["n"], p["min_count"])
    lines = Counter(ln.strip() for ln in text.split("\n") if len(ln.strip()) >= p["line_min_chars"])
    repeated_lines = {ln: c for ln, c in lines.items() if c >= p["min_count"]}
    line_share = sum(len(ln) * c for ln, c in repeated_lines.items()) / max(1, len(text))
    if coverage <= p["max_ratio"] and line_share <= p["max_line_ratio"]:
        return None
    if repeated_lines:
        top_line, count = max(repeated_lines.items(), key=lambda kv: (kv[1] * len(kv[0]), kv[0]))
        example = f'most repeated line ×{count}: "{snippet(top_line)}"'
    else:
        example = (
            f'most repeated {p["n"]}-gram ×{top_count}: "{snippet(" ".join(tokens[top_start : top_start + p["n"]]))}"'
        )
    return (
        f"{coverage:.0%} of {len(tokens):,} words in {p['n']}-word sequences repeated ≥{p['min_count']}×, "
        f"repeated lines {line_share:.0%} of the text; {example}"
    )


RULE = register(
    Rule(
        name="repetition",
        check=check_repetition,
        defaults={
            "n": 20,
            "min_count": 3,
            "max_ratio": 0.3,
            "line_min_chars": 10,
            "max_line_ratio": 0.3,
            "min_words": 60,
        },
    )
)
