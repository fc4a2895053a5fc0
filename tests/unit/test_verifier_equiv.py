"""Equivalence per category: normalisation, numbers, structures, symbolic (worker pool) and the verdict record."""

from __future__ import annotations

from fractions import Fraction

import pytest

from pipeline.verifier import VERIFIER_VERSION, Verdict, grade, grade_many
from pipeline.verifier.normalize import canon
from pipeline.verifier.numbers import to_number
from pipeline.verifier.verdict import RULES

CASES = {
    "punct": [("\\frac{1}{3}", "$\\frac13.$", True), ("5", "\\boxed{5.}", True), ("3", "3!", False)],
    "mixed_number": [
        ("\\frac{40}{9}", "4 4/9", True),
        ("6\\frac{3}{4}", "6.75", True),
        ("\\frac{16}{9}", "4\\frac{4}{9}", False),
    ],
    "units": [("10", "\\$10", True), ("12", "12\\text{ inches}", True), ("24", "25 minutes", False)],
    "text": [("\\text{odd}", "odd", True), ("\\text{even}", "\\text{odd}", False), ("5", "\\text{5}", True)],
    "percent": [("25\\%", "25", True), ("25\\%", "0.25", True), ("25", "0.25", False), ("50\\%", "0.5\\%", False)],
    "interval": [
        ("(-\\infty, 3)", "x < 3", True),
        ("[2, 5)", "(2, 5]", False),
        ("[1, \\infty)", "x \\ge 1", True),
        ("(-\\infty, 3) \\cup (4, \\infty)", "(4, \\infty) \\cup (-\\infty, 3)", True),
    ],
    "set_tuple": [
        ("(1, 2)", "(2, 1)", False),
        ("\\{1, 2\\}", "\\{2, 1\\}", True),
        ("1, 2, 3", "3", False),
        ("\\{3,4\\}", "(3,4)", False),
    ],
    "matrix": [
        ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}", True),
        ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}", False),
    ],
    "equation": [("3", "x=3", True), ("y = 2x + 3", "y = 3 + 2x", True), ("y = 2x + 3", "y = 2x - 3", False)],
    "thousands": [("1000", "1,000", True), ("1000000", "1{,}000{,}000", True), ("2.5", "2,5", False)],
    "scientific": [("1500", "1.5 \\times 10^3", True), ("1500", "1.5e3", True), ("1500", "1.5 \\times 10^4", False)],
    "frac": [
        ("\\frac{1}{2}", "\\dfrac{1}{2}", True),
        ("\\frac{1}{2}", "\\tfrac12", True),
        ("\\frac{1}{2}", "0.5", True),
    ],
    "degrees": [("30^\\circ", "30", True), ("\\frac{\\pi}{6}", "30^\\circ", False)],
    "radicals": [
        ("2\\sqrt{2}", "\\sqrt{8}", True),
        ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", True),
        ("3\\sqrt{3}", "\\sqrt{26}", False),
    ],
    "decimal": [("\\frac{1}{3}", "0.333333", True), ("\\frac{1}{3}", "0.3333", False), ("\\pi", "3.14", False)],
    "tiny": [
        ("\\frac{1}{2004!}", "\\frac{1}{2006!}", False),
        ("\\frac{1}{2004!}", "0.0", False),
        ("10^{-20}", "0", False),
    ],
    "symbolic": [
        ("x^2+2x+1", "(x+1)^2", True),
        ("\\sec^2(y)", "\\tan^2(y)+1", True),
        ("x+2n+1", "x+1", False),
        ("1+i", "i+1", True),
    ],
}


@pytest.mark.parametrize("cat", sorted(CASES))
def test_category(cat):
    items = CASES[cat]
    verdicts = grade_many([(g, p, "math") for g, p, _ in items], timeout=10)
    for (g, p, expected), v in zip(items, verdicts):
        assert v.equal is expected, (cat, g, p, v)


def test_int_and_mc_kinds():
    assert grade("025", "\\boxed{25}", "int").equal
    assert not grade("073", "\\boxed{37}", "int").equal
    assert grade("C", "\\boxed{\\textbf{C}}", "mc").equal
    assert grade("C", "Answer: (C)", "mc").rule == "mc_letter"
    assert not grade("C", "Answer: D", "mc").equal


def test_verdict_has_reason_and_rule():
    v = grade("25", "The answer is \\boxed{25}.")
    assert isinstance(v, Verdict) and v.equal
    assert v.extracted == "25" and v.gold == "25" and v.rule in RULES and "25" in v.reason
    assert set(v.to_dict()) == {"equal", "extracted", "gold", "reason", "rule", "answer_source"}
    assert v.answer_source == "box"
    n = grade("5", "<|begin_of_thought|>\n\nI am still thinking about" + " this" * 100)
    assert not n.equal and n.rule == "cut_off" and n.extracted is None and "thought never ended" in n.reason
    assert isinstance(VERIFIER_VERSION, str) and VERIFIER_VERSION


def test_gold_worked_solutions():
    assert grade("Natalia sold 24 clips.\n#### 1,200", "1200").equal
    assert grade(
        "Therefore, the answer is $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$", "(3,\\frac{\\pi}{2})"
    ).equal


def test_grade_many_preserves_order_and_progress():
    seen = []
    items = [(str(i), f"\\boxed{{{i if i % 2 else i + 1}}}", "int") for i in range(40)]
    out = grade_many(items, progress=seen.append)
    assert [v.equal for v in out] == [bool(i % 2) for i in range(40)]
    assert seen and seen[-1] == 40 and seen == sorted(seen)


@pytest.mark.parametrize(
    "s, canonical",
    [
        ("$\\dfrac{1}{2}$.", "\\frac{1}{2}"),
        ("\\$1{,}000", "1000"),
        ("30^{\\circ}", "30"),
        ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"),
        ("4 4/9", "4\\frac{4}{9}"),
        ("12\\text{ cm}^2", "12"),
        ("\\textbf{A}", "A"),
    ],
)
def test_canon(s, canonical):
    assert canon(s) == canonical
    assert canon(canonical) == canonical


def test_numbers():
    assert to_number("025").value == 25
    assert to_number("4\\frac{4}{9}").value == Fraction(40, 9)
    assert to_number("1.5e3").value == 1500
    assert to_number("0.\\overline{3}").value == Fraction(1, 3)
    assert to_number("25%").percent
    assert to_number("x") is None
