"""The symbolic comparison run inside worker processes: math-verify (parse + verify, gold first) on the
canonical strings, with a soft alarm, plus guards that can only turn "equal" into "not equal"."""

from __future__ import annotations

import logging
import signal

import sympy
from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
from sympy import Basic, Float, MatrixBase

logging.getLogger("math_verify").setLevel(logging.CRITICAL)
logging.getLogger("latex2sympy2_extended").setLevel(logging.CRITICAL)

_CONFIG = (LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig())
GUARD_DIGITS = 60
EXACT_REL_TOL = sympy.Rational(1, 10**40)
TINY = sympy.Rational(1, 10**4)
TINY_REL = sympy.Rational(1, 10**6)


# Parsed once when a worker starts: the ANTLR parser behind latex2sympy builds its prediction cache lazily
# and the first parses of each construct are several times slower than later ones.
WARMUP = (
    ("(3,\\frac{\\pi}{2})", "(\\frac{\\pi}{2},3)"),
    ("(-\\infty,3)\\cup(4,\\infty)", "x<3"),
    ("[1,\\infty)", "x\\ge 1"),
    ("\\{1,2\\}", "1,2"),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}"),
    ("y=2x+3", "x^2+y^2=25"),
    ("\\frac{\\sqrt{3}}{2}", "\\sin(\\pi/3)"),
    ("\\sec^2(y)", "\\tan^2(y)+1"),
    ("\\pm 2", "\\text{odd}"),
    ("1+i", "\\log_2 8"),
    ("\\binom{5}{2}", "5!"),
)


class SoftDeadline(BaseException):
    """Raised by SIGALRM inside a worker; BaseException so library `except Exception` blocks let it through."""


def _on_alarm(signum, frame):
    raise SoftDeadline()


def _parse(s: str) -> list:
    return parse(f"${s}$", extraction_config=_CONFIG, parsing_timeout=None, fallback_mode="no_fallback")


def _plain_number(e) -> bool:
    return (
        isinstance(e, Basic)
        and not isinstance(e, MatrixBase)
        and getattr(e, "is_number", False)
        and not e.atoms(sympy.Symbol)
        and isinstance(e, sympy.Expr)
    )


def _guard_numbers(g, p) -> str | None:
    """Reason to reject a math-verify 'equal' between two numeric constants, or None to accept it.

    math-verify compares with evalf(chop=True), which calls 1/2004! and 1/2006! equal (both ~0).
    """
    if not (_plain_number(g) and _plain_number(p)):
        return None
    vg = sympy.N(g, GUARD_DIGITS)
    vp = sympy.N(p, GUARD_DIGITS)
    if not (vg.is_real and vp.is_real):
        return None
    biggest = max(abs(vg), abs(vp))
    if biggest == 0:
        return None
    diff = abs(vg - vp)
    has_float = bool(g.atoms(Float) or p.atoms(Float))
    if not has_float:
        if diff > EXACT_REL_TOL * biggest:
            return f"values differ at {GUARD_DIGITS} digits ({sympy.N(vg, 8)} vs {sympy.N(vp, 8)})"
    elif biggest < TINY and diff > TINY_REL * biggest:
        return f"tiny values differ relatively ({sympy.N(vg, 8)} vs {sympy.N(vp, 8)})"
    return None


def compare(gold: str, pred: str, soft_timeout: float) -> tuple[bool, str, str]:
    """(equal, rule, reason) for two canonical answer strings. Runs in a worker's main thread."""
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(soft_timeout, 0.05))
    try:
        g = _parse(gold)
        if not g:
            return False, "unparseable", "gold is not parseable mathematics"
        p = _parse(pred)
        if not p:
            return False, "unparseable", "prediction is not parseable mathematics"
        if not verify(g, p, timeout_seconds=None, allow_set_relation_comp=True, strict=True):
            return False, "math_verify", "math_verify: not equal"
        why = _guard_numbers(g[0], p[0])
        if why:
            return False, "numeric", f"numeric guard: {why}"
        return True, "math_verify", "math_verify: equal"
    except SoftDeadline:
        return False, "timeout", f"timeout: comparison exceeded {soft_timeout:.1f} s"
    except RecursionError:
        return False, "unparseable", "unparseable: expression nested too deeply"
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - any library failure means "not shown equal"
        return False, "error", f"error: {type(e).__name__}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
