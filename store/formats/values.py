"""Typed checks of imported values: a value of the wrong type is a row error, never stored as its repr.

The layout mappers (problems.py, trajectories.py) call these; a :class:`BadValue` raised inside a
mapper is charged by the importer to the row it came from (file:line).
"""

from __future__ import annotations

import math
from typing import Any


class BadValue(ValueError):
    """A field holds a value of a type the store cannot take; the message names field and value."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def answer_text(value: Any, field: str = "answer") -> str | None:
    """A gold answer as text: strings trimmed, integers exactly, floats without noise (27.0 -> '27'),
    a list of scalars joined with ', '. Objects, booleans, NaN and infinities are refused."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadValue(f"{field} is {str(value).lower()} (a boolean); expected text or a number")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BadValue(f"{field} is {value} (not a number); expected text or a number")
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (list, tuple)):
        if any(isinstance(v, (dict, list, tuple)) for v in value):
            raise BadValue(f"{field} is a nested list {_shown(value)}; expected text, a number or a list of them")
        return ", ".join(answer_text(v, field) or "" for v in value)
    if isinstance(value, dict):
        raise BadValue(f"{field} is an object {_shown(value)}; expected text or a number")
    raise BadValue(f"{field} has type {type(value).__name__} ({_shown(value)}); expected text or a number")


def verdict(value: Any, field: str = "score") -> bool | None:
    """A harness verdict: true/false (or 0/1); anything else (such as the string 'no') is refused."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise BadValue(f"{field} holds {_shown(value)}; a harness verdict must be true or false")
