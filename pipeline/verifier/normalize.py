"""Canonical answer strings: strip presentation (delimiters, \\text, units, \\$, degrees, spacing, trailing
punctuation) without changing the mathematics, so equal answers often become identical strings."""

from __future__ import annotations

import re
from functools import lru_cache

from .latex import match_brace, strip_command_wrapper, unwrap_commands
from .structures import split_top

_WRAP_TEXT = (
    "\\textbf",
    "\\textit",
    "\\textrm",
    "\\textnormal",
    "\\textsf",
    "\\texttt",
    "\\text",
    "\\mathrm",
    "\\mathbf",
    "\\mathit",
    "\\mathsf",
    "\\mbox",
    "\\boldsymbol",
    "\\bm",
    "\\emph",
    "\\hbox",
)

# Unit words removed after a number. Single letters (m, s, g) are only removed inside \text{...}.
_UNITS = (
    "square units|square feet|square foot|square inches|square inch|square meters|square centimeters|"
    "square miles|square yards|sq ft|cubic units|cubic feet|cubic inches|cubic meters|cubic centimeters|"
    "units?|degrees?|radians?|dollars?|cents?|percent|centimeters?|millimeters?|kilometers?|meters?|"
    "inches|inch|feet|foot|ft|yards?|miles?|mph|km/h|kph|m/s|hours?|hrs?|minutes?|mins?|seconds?|secs?|"
    "days?|weeks?|months?|years?|cm|mm|km|kg|grams?|pounds?|lbs?|ounces?|oz|liters?|litres?|ml|gallons?|"
    "people|persons?|students?|ways?|points?|times|sq|integers?|digits?|meals?|edges?|multiples?|tickets?|"
    "children|gm|boxes|books|coins|marbles|cookies|pieces|games|rows|seats|pages|vertices|numbers?"
)
_UNIT_TAIL = re.compile(rf"^(.*?[0-9}}.)])\s*(?:{_UNITS})(?:\^\{{?[23]\}}?|\^[23]|²|³)?\.?$", re.IGNORECASE)
_TEXT_UNIT_TAIL = re.compile(
    r"^(.*?[0-9}.)])\s*\\(?:text|mbox|mathrm|textrm)\{\s*[A-Za-z][A-Za-z /.]*\}(?:\^\{?[23]\}?|\^[23])?$"
)
_SPACES = re.compile(r"(?<!\\)\\[,;: ]|\\q?quad\b|~")
_LEFT_RIGHT = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![A-Za-z])(\.)?")
_DEGREES = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|°|\\degree(?![A-Za-z])|\{\}\^\\circ")
_FRAC_SHORT = re.compile(r"\\frac\s*(\d)\s*(\d)")
_FRAC_SHORT2 = re.compile(r"\\frac\s*\{([^{}]*)\}\s*(\d)")
_SQRT_SHORT = re.compile(r"\\sqrt\s*(\d+)")
_THOUSANDS_BRACE = re.compile(r"(\d)\{,\}(?=\d{3})")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?$")
_THOUSANDS_SPACE = re.compile(r"^[-+]?\d{1,3}(?: \d{3})+(?:\.\d+)?$")
_MIXED_PLAIN = re.compile(r"^([-+]?\d+)[ \t]+(\d+)[ \t]*/[ \t]*(\d+)$")
_MIXED_GROUPED = re.compile(r"^([-+]?\d{1,3}(?: \d{3})+)[ \t]+(\d+)[ \t]*/[ \t]*(\d+)$")  # 2 000 1/3
_MIXED_LATEX = re.compile(r"^([-+]?\d+)[ \t]*\\frac\{(\d+)\}\{(\d+)\}$")
# An integer, a line break, a fraction: two lines, not a mixed number ("3\n1/2" is not 3 1/2).
_LINE_THEN_FRACTION = re.compile(r"(\d)[ \t$]*(?:\n|\\\\)[\s$]*(?=\\[dt]?frac|\d+[ \t]*/[ \t]*\d)")
# `12,\! 345`: a comma followed by a negative thin space and three digits is a thousands separator.
_THIN_THOUSANDS = re.compile(r"(?<=\d),\\!\s*(?=\d{3}(?!\d))")
# A decimal comma is read only where a list is impossible: one or two digits after it and a euro sign.
_EURO_DECIMAL = re.compile(r"^(?:€\s*)?([-+]?\d+),(\d{1,2})\s*(?:€|\\euro|EUR|euros?)?$")
_EURO = re.compile(r"€|\\euro\b|(?<=\d)\s*(?:EUR|euros?)\b")
_ELLIPSIS = re.compile(r"\\(?:ldots|cdots|dots|dotsc|dotso)(?![A-Za-z])|…|\.\.\.")
_ASSIGN = re.compile(r"^\s*(?:[A-Za-z]|\\[A-Za-z]+)(?:_\{?[A-Za-z0-9]+\}?)?\s*(?:=|\\in)\s*(?!=)")
_WS = re.compile(r"\s+")
_NEG_SPACE = re.compile(r"(?<!\\)\\!")
_ORDINAL = re.compile(r"\^\{?\\(?:mathrm|text)\{(?:th|st|nd|rd)\}\}?")


def _strip_delims(s: str) -> str:
    for _ in range(4):
        t = s.strip()
        for left, right in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
            if t.startswith(left) and t.endswith(right) and len(t) >= len(left) + len(right):
                t = t[len(left) : len(t) - len(right)]
                break
        if t == s:
            break
        s = t
    return s.strip()


def _strip_trailing_punct(s: str) -> str:
    while True:
        t = s.rstrip()
        if t.endswith("\\ldots"):
            return t  # an ellipsis is part of the answer ("1, 2, 3, \ldots" is not "1, 2, 3")
        if t.endswith("\\\\"):
            t = t[:-2]
        elif t and t[-1] in ".,;:?" and not t.endswith("\\."):
            t = t[:-1]
        if t == s:
            return t
        s = t


def _remove_spaces(s: str) -> str:
    """Remove spaces except where they separate two word characters (`\\cdot x`, `2 3`)."""
    s = _WS.sub(" ", s.strip())
    out = []
    for i, c in enumerate(s):
        if c == " ":
            prev, nxt = s[i - 1], s[i + 1] if i + 1 < len(s) else ""
            if prev.isalnum() and nxt.isalnum():
                out.append(c)
            continue
        out.append(c)
    return "".join(out)


_PLAIN_PI = re.compile(r"(?<![\\A-Za-z])pi(?![A-Za-z])")
_PLAIN_INF = re.compile(r"(?<![\\A-Za-z])(?:infinity|inf)(?![A-Za-z])")
_PLAIN_SQRT = re.compile(r"(?<![\\A-Za-z])sqrt\s*\(")


def _plain_to_latex(s: str) -> str:
    """Plain-text math as models sometimes write it: `sqrt(2)`, `pi/2`, `x**2`, `inf`."""
    if "**" in s:
        s = s.replace("**", "^")
    if "pi" in s:
        s = _PLAIN_PI.sub(r"\\pi ", s)
    if "inf" in s:
        s = _PLAIN_INF.sub(r"\\infty ", s)
    while True:
        m = _PLAIN_SQRT.search(s)
        if not m:
            return s
        depth, j = 0, m.end() - 1
        while j < len(s):
            depth += {"(": 1, ")": -1}.get(s[j], 0)
            if depth == 0:
                break
            j += 1
        if j >= len(s):
            return s
        s = s[: m.start()] + "\\sqrt{" + s[m.end() : j] + "}" + s[j + 1 :]


@lru_cache(maxsize=65536)
def canon(s: str) -> str:
    """Canonical form of one answer string (idempotent on its own output)."""
    s = s.replace("\u2212", "-").replace("\u2013", "-").replace("\u00d7", "\\times").replace("\u00b7", "\\cdot")
    s = s.replace("\\displaystyle", "").replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = _LINE_THEN_FRACTION.sub(r"\1, ", s)
    s = _ELLIPSIS.sub(r"\\ldots ", s)
    s = _THIN_THOUSANDS.sub("", s)
    s = _strip_delims(s)
    s = strip_command_wrapper(s, ("\\boxed", "\\fbox"))
    s = _strip_delims(_strip_trailing_punct(s))
    s = _LEFT_RIGHT.sub("", s)
    s = _plain_to_latex(s)
    s = _NEG_SPACE.sub("", s)
    s = _ORDINAL.sub("", s)
    s = _SPACES.sub(" ", s)
    s = s.replace("\\$", "").replace("$", "").replace("\\%", "%")
    if "€" in s or "EUR" in s or "euro" in s:
        m = _EURO_DECIMAL.match(s.strip())
        if m:
            s = f"{m.group(1)}.{m.group(2)}"
        s = _EURO.sub("", s)
    s = _DEGREES.sub("", s)
    s = _strip_trailing_punct(s)
    m = _TEXT_UNIT_TAIL.match(s.strip())
    if m:
        s = m.group(1)
    for _ in range(3):
        t = unwrap_commands(s, _WRAP_TEXT)
        if t == s:
            break
        s = t
    s = _strip_trailing_punct(s.strip())
    m = _UNIT_TAIL.match(s)
    if m and re.search(r"\d", m.group(1)):
        s = m.group(1)
    s = _strip_trailing_punct(s.strip())
    s = _THOUSANDS_BRACE.sub(r"\1", s).replace("{,}", ",")
    if _THOUSANDS.match(s) or _THOUSANDS_SPACE.match(s):
        s = s.replace(",", "").replace(" ", "")
    m = _MIXED_GROUPED.match(s)
    if m and int(m.group(2)) < int(m.group(3)):
        s = f"{m.group(1).replace(' ', '')} {m.group(2)}/{m.group(3)}"
    m = _MIXED_PLAIN.match(s)
    if m and int(m.group(2)) < int(m.group(3)):
        s = f"{m.group(1)}\\frac{{{m.group(2)}}}{{{m.group(3)}}}"
    s = _FRAC_SHORT.sub(r"\\frac{\1}{\2}", s)
    s = _FRAC_SHORT2.sub(r"\\frac{\1}{\2}", s)
    s = _SQRT_SHORT.sub(r"\\sqrt{\1}", s)
    s = _remove_spaces(s)
    if s.startswith("+") and len(s) > 1:
        s = s[1:]
    return s


def shape(s: str) -> str:
    """Top-level form of a canonical answer: "set" {..}, "tuple" (..)/[..] with a comma, "list", or "other"."""
    if s.startswith("\\{") and s.endswith("\\}"):
        return "set"
    if len(split_top(s, ",")) > 1:  # a comma outside brackets
        return "list"
    if s[:1] in "([" and s[-1:] in ")]" and "," in s:
        return "tuple"
    return "other"


def split_assignment(s: str) -> tuple[str, str] | None:
    """`x=3` -> ("x=", "3"); `x\\in[1,2]` -> ("x\\in", "[1,2]"); None if not a single leading assignment."""
    m = _ASSIGN.match(s)
    if not m:
        return None
    rest = s[m.end() :]
    if "=" in rest or not rest.strip() or "<" in rest or ">" in rest or "\\le" in rest or "\\ge" in rest:
        return None
    return _WS.sub("", s[: m.end()]), rest.strip()


def is_mixed_number(s: str) -> bool:
    m = _MIXED_LATEX.match(s)
    return bool(m) and int(m.group(2)) < int(m.group(3))


__all__ = ["canon", "split_assignment", "is_mixed_number", "match_brace"]
