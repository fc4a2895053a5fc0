"""Cheap pre-sympy guards: refuse answers that are too long or whose literal powers are astronomically large."""

from __future__ import annotations

import math
import re

MAX_ANSWER_CHARS = 1000  # extracted answers longer than this are not compared symbolically
MAX_DIGITS_ESTIMATE = 100_000  # a literal power with more digits than this is not evaluated
MAX_BRACE_DEPTH = 40

_POW = re.compile(r"(\d+(?:\.\d+)?)\s*\^\s*(\{|\d+)")


def _exponent_log10(s: str, i: int, depth: int = 0) -> float | None:
    """log10 of the exponent group starting at s[i] ('{' or digits), if it is a literal (possibly a tower)."""
    if depth > 10:
        return math.inf
    if s[i] != "{":
        m = re.match(r"\d+", s[i:])
        return math.log10(max(int(m.group()), 1)) if m else None
    j = s.find("}", i)
    inner = s[i + 1 :]
    m = re.match(r"\s*(\d+)\s*(?:\^\s*(\{|\d+))?", inner)
    if not m:
        return None
    base = int(m.group(1)) if len(m.group(1)) < 300 else 10**300
    if m.group(2) is None:
        return math.log10(max(base, 1)) if j > 0 else None
    sub = _exponent_log10(inner, m.start(2), depth + 1)
    if sub is None:
        return None
    # exponent = base ** (10 ** sub)
    if base <= 1:
        return 0.0
    if sub > 300:
        return math.inf
    return (10**sub) * math.log10(base)


def power_too_large(s: str) -> bool:
    """True when `s` contains a literal power such as 9^{9^{9^{9}}} with more than MAX_DIGITS_ESTIMATE digits."""
    if "^" not in s:
        return False
    for m in _POW.finditer(s):
        base = float(m.group(1))
        if base <= 1:
            continue
        lg = _exponent_log10(s, m.start(2))
        if lg is None:
            continue
        if lg > 300:
            return True
        if (10**lg) * math.log10(base) > MAX_DIGITS_ESTIMATE:
            return True
    return False


def brace_depth(s: str) -> int:
    depth = best = 0
    for c in s:
        if c == "{":
            depth += 1
            best = max(best, depth)
        elif c == "}":
            depth -= 1
    return best


def refuse_reason(s: str) -> str | None:
    """Why `s` must not reach sympy, or None if it may."""
    if len(s) > MAX_ANSWER_CHARS:
        return f"answer too long ({len(s)} chars > {MAX_ANSWER_CHARS})"
    if brace_depth(s) > MAX_BRACE_DEPTH:
        return f"braces nested deeper than {MAX_BRACE_DEPTH}"
    if power_too_large(s):
        return "literal power too large to evaluate"
    return None
