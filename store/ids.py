"""Stable identifiers: the same content always gets the same id, so re-imports and resumed jobs add nothing."""

from __future__ import annotations

import hashlib
import re

_WS = re.compile(r"\s+")


def normalize_question(text: str) -> str:
    """Whitespace-insensitive form used to match a trajectory's question to a stored problem."""
    return _WS.sub(" ", text).strip()


def question_hash(text: str) -> str:
    return hashlib.sha1(normalize_question(text).encode("utf-8")).hexdigest()[:16]


def problem_id(source: str, question: str) -> str:
    digest = hashlib.sha1(f"{source}\x00{normalize_question(question)}".encode("utf-8")).hexdigest()
    return f"{source}:{digest[:12]}"


def stable_id(*parts: object) -> str:
    """A 16-hex-digit id from any parts (None and '' differ from each other only by position)."""
    joined = "\x00".join("" if p is None else str(p) for p in parts)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()[:16]


# The same rule in SQL, for bulk ingest where the caller gave no id (keep in sync with imported_id).
IMPORTED_ID_SQL = "substr(sha1(concat_ws(chr(0), problem_id, coalesce(model, ''), origin, text)), 1, 16)"


def imported_id(problem_id: str, model: str | None, origin: str, text: str) -> str:
    return stable_id(problem_id, model or "", origin, text)
