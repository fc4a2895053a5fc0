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
    r"\s*(?:(?P<num>\d+\.\d*|\.\d+|\d+)|(?P<cmd>\\[A-Za-z]+)|(?P<op>\*\*|[-+*/^(){}\[\]]))"
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
    def __init__(self, toks):
        self.toks = toks
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
        return t[0] == "num" or t[1] in ("(", "{", "\\frac", "\\sqrt", "\\pi", "\\infty")

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


def evaluate(s: str) -> Value | None:
    """The value of a constant expression, or None if `s` is not in the small grammar."""
    if not s or len(s) > 400:
        return None
    try:
        toks = _tokens(s)
        if not toks:
            return None
        with mpmath.workdps(DIGITS):
            p = _Parser(toks)
            v = p.expr()
            if p.i != len(p.toks):
                return None
            if not isinstance(v, mpmath.mpf) or mpmath.isnan(v):
                return None
            return Value(+v, p.inexact)
    except (_Unsupported, ZeroDivisionError, OverflowError, ValueError, TypeError, RecursionError):
        return None


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


def show(v: Value) -> str:
    with mpmath.workdps(DIGITS):
        return mpmath.nstr(v.v, 10)
