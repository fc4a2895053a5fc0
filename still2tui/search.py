"""Full-text search over the trajectory text (thought + solution), offline and index-free.

DuckDB's ``fts`` extension is not available here, so a word is matched with ``contains`` on the
raw text when it has an uppercase letter or a digit (exact case) and with ``ILIKE '%word%'`` when it
is all lowercase (case-insensitive); both are vectorised scans. Search terms are ANDed with the rest
of the filter, and the page query streams (``LIMIT`` stops the scan once a window is full), so
common words return a first page fast; the count of a text filter runs in a worker thread.
bench/tui.py measures both on 1M rows.
"""
from __future__ import annotations


def text_clause(word: str) -> tuple[str, str]:
    """A predicate over ``trajectory t`` and its one parameter."""
    if word.lower() == word:
        escaped = word.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        return "t.text ILIKE ? ESCAPE '\\'", f"%{escaped}%"
    return "contains(t.text, ?)", word
