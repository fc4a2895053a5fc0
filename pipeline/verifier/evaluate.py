"""A small safe evaluator for constant LaTeX expressions (numbers, + - * / ^, \\frac, \\sqrt, \\pi, \\infty,
parentheses, implicit products) to 60-digit mpmath values: decides `2\\sqrt{2}` vs `\\sqrt{8}` or tuples of
such constants without sympy. Anything outside the grammar returns None (the symbolic path decides)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import mpmath

DIGITS = 60
EQUAL_REL = mpmath.mpf(10) ** -40  # exact expressions agreeing this closely are the same constant
MAX_TOKENS = 300
MAX_DEPTH = 60
MAX_EXPONENT = 10**5

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.\d*|\.\d+|\d+)|(?P<cmd>\\[A-Za-z]+)|(?P<var>[A-DF-HJ-Za-df-hj-z])|(?P<op>\*\*|[-+*/^(){}\[\]]))"
)
_ALLOWED_CMDS = {"\\frac", "\\sqrt", "\\pi", "\\infty", "\\cdot", "\\times", "\\div"}


class _Unsupported(Exception):
    pass


@dataclass(frozen=True)
class Value:
    v: object  # mpmath.mpf
    inexact: bool


def _tokens(s: str) -> list[tuple[str, str]]:
    out = []
    i = 0
    s = s.strip()
    while i < len(s):
        m = _TOKEN.match(s, i)
        if not m or m.end() == i:
            raise _Unsupported()
        kind = m.lastgroup
        tok = m.group(kind)
        if kind == "cmd" and tok not in _ALLOWED_CMDS:
            raise _Unsupported()
        out.append((kind, tok))
        i = m.end()
        if len(out) > MAX_TOKENS:
            raise _Unsupported()
    return out


class _Parser:
    def __init__(self, toks, env=None):
        self.toks = toks
        self.env = env or {}
        self.i = 0
        self.inexact = False
        self.depth = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, tok=None):
        t = self.peek()
        if t[0] is None or (tok is not None and t[1] != tok):
            raise _Unsupported()
        self.i += 1
        return t

    def expr(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Unsupported()
        v = self.term()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            r = self.term()
            v = v + r if op == "+" else v - r
        self.depth -= 1
        return v

    def _starts_atom(self, t):
        return t[0] in ("num", "var") or t[1] in ("(", "{", "\\frac", "\\sqrt", "\\pi", "\\infty")

    def term(self):
        v = self.unary()
        while True:
            t = self.peek()
            if t[1] in ("*", "\\cdot", "\\times"):
                self.take()
                v = v * self.unary()
            elif t[1] in ("/", "\\div"):
                self.take()
                d = self.unary()
                if d == 0:
                    raise _Unsupported()
                v = v / d
            elif self._starts_atom(t) and not (t[0] == "num" and self.toks[self.i - 1][0] == "num"):
                v = v * self.power()
            else:
                return v

    def unary(self):
        t = self.peek()
        if t[1] == "-":
            self.take()
            return -self.unary()
        if t[1] == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek()[1] in ("^", "**"):
            self.take()
            t = self.peek()
            if t[1] in ("{", "("):
                exp = self.atom()
            elif t[0] == "num":
                # x^23 in LaTeX is x^2 * 3; only the first digit is the exponent
                self.take()
                if "." in t[1]:
                    raise _Unsupported()
                exp = mpmath.mpf(int(t[1][0]))
                if len(t[1]) > 1:
                    self.toks.insert(self.i, ("num", t[1][1:]))
            elif t[1] == "-":
                self.take()
                exp = -self.power()
            else:
                exp = self.atom()
            if abs(exp) > MAX_EXPONENT:
                raise _Unsupported()
            if base < 0 and exp != int(exp):
                raise _Unsupported()
            if base == 0 and exp <= 0:
                raise _Unsupported()
            return mpmath.power(base, exp)
        return base

    def group(self):
        self.take("{")
        v = self.expr()
        self.take("}")
        return v

    def atom(self):
        kind, tok = self.peek()
        if kind == "num":
            self.take()
            if "." in tok:
                self.inexact = True
            return mpmath.mpf(tok)
        if kind == "var":
            self.take()
            if tok not in self.env:
                raise _Unsupported()
            return self.env[tok]
        if tok == "(":
            self.take()
            v = self.expr()
            self.take(")")
            return v
        if tok == "{":
            return self.group()
        if tok == "\\pi":
            self.take()
            return +mpmath.pi
        if tok == "\\infty":
            self.take()
            return mpmath.inf
        if tok == "\\frac":
            self.take()
            num = self._frac_arg()
            den = self._frac_arg()
            if den == 0:
                raise _Unsupported()
            return num / den
        if tok == "\\sqrt":
            self.take()
            n = 2
            if self.peek()[1] == "[":
                self.take("[")
                nv = self.expr()
                self.take("]")
                if nv != int(nv) or nv < 2 or nv > 100:
                    raise _Unsupported()
                n = int(nv)
            arg = self.group() if self.peek()[1] == "{" else self.atom()
            if arg < 0:
                if n % 2 == 0:
                    raise _Unsupported()
                return -mpmath.root(-arg, n)
            return mpmath.root(arg, n)
        raise _Unsupported()

    def _frac_arg(self):
        kind, tok = self.peek()
        if tok == "{":
            return self.group()
        if kind == "num":  # \frac12 after canon is \frac{1}{2}; a bare digit is one argument
            self.take()
            if len(tok) > 1 and "." not in tok:
                self.toks.insert(self.i, ("num", tok[1:]))
                tok = tok[0]
            return mpmath.mpf(tok)
        return self.atom()


def variables(s: str) -> set[str] | None:
    """Single-letter variables of `s` (not e, i), or None if `s` is outside the grammar."""
    try:
        return {t for k, t in _tokens(s) if k == "var"}
    except _Unsupported:
        return None


# Fixed sample points for identity checks of expressions in variables (deterministic, include negatives).
SAMPLES = (
    ("0.7318", "-1.2437", "2.1539", "0.4127", "-0.8861", "1.6093", "3.0271", "-2.3717"),
    ("1.8291", "0.5573", "-0.6649", "2.7713", "1.1379", "-1.9941", "0.3163", "1.4457"),
    ("-0.9377", "2.4419", "1.3307", "-1.5521", "0.6991", "2.0827", "-0.2743", "0.8819"),
)


def evaluate(s: str, env: dict | None = None) -> Value | None:
    """The value of a constant expression (variables taken from `env`), or None outside the small grammar."""
    if not s or len(s) > 400:
        return None
    try:
        toks = _tokens(s)
        if not toks:
            return None
        with mpmath.workdps(DIGITS):
            p = _Parser(toks, env)
            v = p.expr()
            if p.i != len(p.toks):
                return None
            if not isinstance(v, mpmath.mpf) or mpmath.isnan(v):
                return None
            return Value(+v, p.inexact)
    except (_Unsupported, ZeroDivisionError, OverflowError, ValueError, TypeError, RecursionError):
        return None


def number_value(numerator: int, denominator: int, inexact: bool) -> Value:
    """The Value of an exact rational (integers of any size; mpmath converts them without str())."""
    with mpmath.workdps(DIGITS):
        return Value(mpmath.mpf(numerator) / mpmath.mpf(denominator), inexact)


def values_equal(a: Value, b: Value) -> bool:
    with mpmath.workdps(DIGITS):
        x, y = a.v, b.v
        if mpmath.isinf(x) or mpmath.isinf(y):
            return x == y
        biggest = max(abs(x), abs(y))
        if biggest == 0:
            return True
        diff = abs(x - y)
        if not (a.inexact or b.inexact):
            return diff <= EQUAL_REL * biggest
        # a decimal on either side: math-verify semantics, equal after rounding to 6 places,
        # and tiny values must agree relatively
        if mpmath.nint(x * 10**6) != mpmath.nint(y * 10**6):
            return False
        if biggest < mpmath.mpf("1e-4") and diff > mpmath.mpf("1e-6") * biggest:
            return False
        return True


def identity(a: str, b: str) -> bool | None:
    """Whether two expressions in single-letter variables agree at every sample point (None: cannot tell).

    Polynomial and rational identities are decided with certainty for practical purposes by agreement to
    40 digits at three points; a disagreement at any point proves the expressions differ.
    """
    va, vb = variables(a), variables(b)
    if va is None or vb is None:
        return None
    names = sorted(va | vb)
    if not names or len(names) > len(SAMPLES[0]):
        return None
    for point in SAMPLES:
        with mpmath.workdps(DIGITS):
            env = {n: mpmath.mpf(point[i]) for i, n in enumerate(names)}
        x, y = evaluate(a, env), evaluate(b, env)
        if x is None or y is None:
            return None
        if x.inexact or y.inexact:
            return None
        if not values_equal(x, y):
            return False
    return True


def same_equation(a: tuple[str, str], b: tuple[str, str]) -> bool | None:
    """Whether equations lhs_a = rhs_a and lhs_b = rhs_b are one equation rearranged: (lhs_a - rhs_a) is the same
    nonzero multiple of (lhs_b - rhs_b) at every sample point (`2x - y = 1` and `y = 2x - 1`). True only when
    that holds; None otherwise (equivalent equations that are not multiples, e.g. (x-1)^2 = 0 and x = 1, and
    different ones are left to the symbolic comparison)."""
    exprs = [a[0], a[1], b[0], b[1]]
    found = [variables(e) for e in exprs]
    if any(v is None for v in found):
        return None
    names = sorted(set().union(*found))
    if not names or len(names) > len(SAMPLES[0]):
        return None
    ratio = None
    for point in SAMPLES:
        with mpmath.workdps(DIGITS):
            env = {n: mpmath.mpf(point[i]) for i, n in enumerate(names)}
            vals = [evaluate(e, env) for e in exprs]
            if any(v is None or v.inexact for v in vals):
                return None
            da, db = vals[0].v - vals[1].v, vals[2].v - vals[3].v
            if abs(db) < EQUAL_REL or abs(da) < EQUAL_REL:
                return None
            r = da / db
            if ratio is None:
                ratio = r
            elif abs(r - ratio) > EQUAL_REL * max(abs(r), abs(ratio)):
                return None
    return True


def show(v: Value) -> str:
    with mpmath.workdps(DIGITS):
        return mpmath.nstr(v.v, 10)
