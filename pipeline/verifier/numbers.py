"""The numeric fast path: read plain numbers (integers, decimals, fractions, mixed numbers, percents,
scientific notation) as exact rationals and compare them without sympy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

# Decimals are compared after rounding to this many places (math-verify's float_rounding), but a
# value this small in magnitude must also agree relatively: 1/2004! is not 0.
ROUND_PLACES = 6
TINY = Fraction(1, 10_000)
TINY_REL = Fraction(1, 1_000_000)
MAX_DIGITS = 400  # longer literals are left to the symbolic path (and its timeout)

_INT = re.compile(r"^[-+]?\d+$")
_DEC = re.compile(r"^[-+]?(?:\d+\.\d*|\.\d+)$")
_SCI_E = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+))[eE]([-+]?\d{1,4})$")
_SCI_TIMES = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+))(?:\\times|\\cdot|\*|x) ?10\^\{?([-+]?\d{1,4})\}?$")
_POW10 = re.compile(r"^([-+]?)10\^\{?([-+]?\d{1,4})\}?$")
_FRAC = re.compile(r"^([-+]?)\\frac\{([-+]?\d+)\}\{([-+]?\d+)\}$")
_SLASH = re.compile(r"^([-+]?)\(?([-+]?\d+)\)?/\(?([-+]?\d+)\)?$")
_REPEATING = re.compile(r"^([-+]?)(\d*)\.(\d*)\\overline\{(\d{1,12})\}$")
_MIXED = re.compile(r"^([-+]?)(\d+)\\frac\{(\d+)\}\{(\d+)\}$")


@dataclass(frozen=True)
class Num:
    value: Fraction  # the number as written (25 for "25%")
    inexact: bool  # written with a decimal point: compare with rounding
    percent: bool


def to_number(s: str) -> Num | None:
    """Parse a canonical answer string (see normalize.canon) that is a plain number, else None."""
    if not s or len(s) > MAX_DIGITS:
        return None
    pct = s.endswith("%")
    if pct:
        s = s[:-1]
    if s.startswith("(") and s.endswith(")") and "," not in s:
        s = s[1:-1]
    try:
        if _INT.match(s):
            return Num(Fraction(int(s)), False, pct)
        if _DEC.match(s):
            return Num(Fraction(s), True, pct)
        m = _SCI_E.match(s) or _SCI_TIMES.match(s)
        if m:
            return Num(Fraction(m.group(1)) * Fraction(10) ** int(m.group(2)), "." in m.group(1), pct)
        m = _POW10.match(s)
        if m:
            v = Fraction(10) ** int(m.group(2))
            return Num(-v if m.group(1) == "-" else v, False, pct)
        m = _FRAC.match(s) or _SLASH.match(s)
        if m:
            den = int(m.group(3))
            if den == 0:
                return None
            v = Fraction(int(m.group(2)), den)
            return Num(-v if m.group(1) == "-" else v, False, pct)
        m = _REPEATING.match(s)
        if m:
            whole, fixed, rep = m.group(2) or "0", m.group(3), m.group(4)
            v = Fraction(int(whole)) + Fraction(int(fixed or "0"), 10 ** len(fixed))
            v += Fraction(int(rep), (10 ** len(rep) - 1) * 10 ** len(fixed))
            return Num(-v if m.group(1) == "-" else v, False, pct)
        m = _MIXED.match(s)
        if m:
            whole, num, den = int(m.group(2)), int(m.group(3)), int(m.group(4))
            if den == 0 or num >= den:
                return None
            v = whole + Fraction(num, den)
            return Num(-v if m.group(1) == "-" else v, False, pct)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return None


def _close(a: Fraction, b: Fraction, inexact: bool) -> bool:
    if a == b:
        return True
    if not inexact:
        return False
    if round(a, ROUND_PLACES) != round(b, ROUND_PLACES):
        return False
    biggest = max(abs(a), abs(b))
    if biggest < TINY and abs(a - b) > TINY_REL * biggest:
        return False
    return True


def numbers_equal(gold: Num, pred: Num) -> bool:
    """Equal as numbers; a percent on one side only may also mean value/100 (`25%` vs `0.25`)."""
    inexact = gold.inexact or pred.inexact
    if gold.percent == pred.percent:
        return _close(gold.value, pred.value, inexact)
    pct, other = (gold, pred) if gold.percent else (pred, gold)
    return _close(pct.value, other.value, inexact) or _close(pct.value / 100, other.value, inexact)


# Python refuses str(int) beyond 4,300 digits (and it is quadratic below that): integers longer than
# this are shown in scientific form computed from their bit length, never through str().
SHOW_DIGITS = 60


def int_text(k: int) -> str:
    """Decimal text of an integer of any size: exact up to SHOW_DIGITS digits, else `~d.ddde+N`."""
    if k.bit_length() <= SHOW_DIGITS * 3.32:
        return str(k)
    sign = "-" if k < 0 else ""
    k = abs(k)
    exp = int(k.bit_length() * 0.30102999566398120) - 1  # floor(log10(k)), or one less
    if 10 ** (exp + 1) <= k:
        exp += 1
    lead = k // 10 ** (exp - 11)  # 12 leading digits
    digits = str(lead)
    return f"{sign}~{digits[0]}.{digits[1:]}e+{exp}"


def show(n: Num) -> str:
    v = n.value
    txt = int_text(v.numerator) if v.denominator == 1 else f"{int_text(v.numerator)}/{int_text(v.denominator)}"
    return txt + ("%" if n.percent else "")
