"""How values look in cells and panels: one place for number, list and None formatting."""

from __future__ import annotations

from datetime import datetime

from store.curation import STATUSES

# What a toast says after a status change ("approved", "reset to pending"), one per store.curation.STATUSES.
STATUS_VERBS = {s: "reset to pending" if s == "pending" else s for s in STATUSES}
# Rich styles of a curation status and of a verdict; other values (pending, unknown) take the caller's default.
STATUS_STYLES = {"approved": "green", "rejected": "red"}
VERDICT_STYLES = {"correct": "green", "incorrect": "red"}
# The same split for a VirtualTable's good_bad: (values in the good colour, values in the bad colour).
STATUS_GOOD_BAD = ({"approved"}, {"rejected"})
VERDICT_GOOD_BAD = ({"correct"}, {"incorrect"})


def cell_text(value, width: int = 24) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    elif isinstance(value, int):
        text = f"{value:,}" if abs(value) >= 10_000 else str(value)
    elif isinstance(value, (list, tuple)):
        text = ",".join(str(v) for v in value)
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M")
    else:
        text = str(value).replace("\n", " ")
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def answer_text(value) -> str:
    """An answer as shown: the value, or "(none)" when no answer was extracted (never Python's None)."""
    return "(none)" if value is None or value == "" else str(value)


def length_text(row: dict) -> str:
    """A trajectory's length in both units it may have: ``1,234 tokens · 5,678 chars`` (tokens when known)."""
    parts = []
    if row.get("n_tokens") is not None:
        parts.append(f"{row['n_tokens']:,} tokens")
    if row.get("n_chars") is not None:
        parts.append(f"{row['n_chars']:,} chars")
    return " · ".join(parts) or "length unknown"


def scorer_name(scorer: str | None) -> str:
    """A scorer or model as a name: a cache or checkpoint path shortened to its last meaningful part."""
    if not scorer:
        return "–"
    text = str(scorer).rstrip("/")
    if "/" not in text:
        return text
    if not text.startswith(("/", "~", ".")) and text.count("/") == 1:
        return text  # a hub id: org/name
    parts = [p for p in text.split("/") if p]
    # .../models--org--name/snapshots/<hash> -> org/name;  .../checkpoint-500 -> run/checkpoint-500
    for part in parts:
        if part.startswith("models--"):
            return part.removeprefix("models--").replace("--", "/")
    if parts[-1].startswith("checkpoint") and len(parts) > 1:
        return f"{parts[-2]}/{parts[-1]}"
    return parts[-1]
