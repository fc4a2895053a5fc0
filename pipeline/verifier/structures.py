"""Fast readers for answer structures: unions of intervals written as intervals or inequalities in one
variable, and matrices; elements are handed to a scalar reader supplied by the caller."""

from __future__ import annotations

import re
from typing import Callable

_MATRIX = re.compile(r"^\(?\\begin\{([pbB]?matrix)\}(.*)\\end\{\1\}\)?$", re.S)
_REL = re.compile(r"\\leqslant|\\geqslant|\\leq|\\geq|\\le|\\ge|<|>")
_VAR = re.compile(r"^[A-Za-z]$")


def matrix_cells(s: str) -> list[list[str]] | None:
    m = _MATRIX.match(s)
    if not m or (s.startswith("(") != s.endswith(")")):
        return None
    body = m.group(2).strip()
    if body.endswith("\\\\"):
        body = body[:-2]
    rows = [r.strip() for r in body.split("\\\\")]
    cells = [[c.strip() for c in r.split("&")] for r in rows]
    if not cells or any(not c for row in cells for c in row):
        return None
    if len({len(r) for r in cells}) != 1:
        return None
    return cells


def split_top(s: str, sep: str) -> list[str]:
    """`s` cut at every `sep` outside brackets (any of ([{ ... }]) ), pieces unstripped: `(1,2),3` -> [`(1,2)`, `3`]."""
    out, depth, start, first = [], 0, 0, sep[0]
    for i, c in enumerate(s):
        if i < start:  # inside the separator just cut at
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == first and depth == 0 and s.startswith(sep, i):
            out.append(s[start:i])
            start = i + len(sep)
    out.append(s[start:])
    return out


Interval = tuple[object, bool, object, bool]  # (lo, lo_closed, hi, hi_closed) as scalar readings


def _interval(s: str, scalar: Callable[[str], object], neg_inf, pos_inf) -> Interval | None:
    s = s.strip()
    if len(s) >= 5 and s[0] in "([" and s[-1] in ")]":
        parts = split_top(s[1:-1], ",")
        if len(parts) == 2:
            lo, hi = scalar(parts[0]), scalar(parts[1])
            if lo is not None and hi is not None:
                return lo, s[0] == "[", hi, s[-1] == "]"
        return None
    pieces = _REL.split(s)
    ops = _REL.findall(s)
    if len(ops) == 1:
        a, b = pieces[0].strip(), pieces[1].strip()
        op = ops[0]
        if _VAR.match(b) and not _VAR.match(a):  # c < x  ->  x > c
            a, b = b, a
            op = {"<": ">", ">": "<"}.get(op, op.replace("le", "GE").replace("ge", "le").replace("GE", "ge"))
        if not _VAR.match(a):
            return None
        c = scalar(b)
        if c is None:
            return None
        closed = op not in ("<", ">")
        if op == "<" or "le" in op:
            return neg_inf, False, c, closed
        return c, closed, pos_inf, False
    if len(ops) == 2 and _VAR.match(pieces[1].strip()):
        lo_s, hi_s = pieces[0], pieces[2]
        kinds = ["lt" if (o == "<" or "le" in o) else "gt" for o in ops]
        if kinds[0] != kinds[1]:
            return None
        if kinds[0] == "gt":
            lo_s, hi_s = hi_s, lo_s
            ops = ops[::-1]
        lo, hi = scalar(lo_s), scalar(hi_s)
        if lo is None or hi is None:
            return None
        return lo, ops[0] not in ("<", ">"), hi, ops[1] not in ("<", ">")
    return None


def interval_union(s: str, scalar, neg_inf, pos_inf) -> list[Interval] | None:
    """`(a,b]\\cup[c,\\infty)`, `x<3`, `-1\\le x<2` -> list of intervals; None if not of that form."""
    if "\\cup" not in s and not _REL.search(s) and not (s[:1] in "([" and s[-1:] in ")]"):
        return None
    out = []
    for part in split_top(s, "\\cup"):
        iv = _interval(part, scalar, neg_inf, pos_inf)
        if iv is None:
            return None
        out.append(iv)
    return out
