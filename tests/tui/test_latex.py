"""LaTeX shown as Unicode in the TUI (still2tui/latex.py): readable forms, spacing kept, prose untouched."""

from __future__ import annotations

import pytest

from still2tui.latex import markdown_source, math_to_unicode, to_unicode
from still2tui.sources import answer_cell


@pytest.mark.parametrize(
    "latex, shown",
    [
        (r"\theta = 30", "θ = 30"),  # the space after a control word, which LaTeX drops, is kept before "="
        (r"1 + \omega + \omega^2 = 0", "1 + ω + ω² = 0"),
        (r"a \cdot b", "a · b"),
        (r"x \in S", "x ∈ S"),
        (r"x \geq 5 \implies y", "x ≥ 5 ⟹ y"),
        (r"\sin \theta", "sin θ"),
        (r"\pi r^2", "πr²"),  # a product stays together
        (r"\frac{a+b}{2}", "(a+b)/2"),
        (r"\sqrt{3}", "√3"),
        (r"\sqrt{x+1}", "√(x+1)"),
        (r"\sqrt[3]{8}", "∛8"),
        (r"\frac{\sqrt{3}}{2}", "√3/2"),
        (r"\binom{n}{k}", "C(n,k)"),
        (r"45^\circ", "45°"),
        (r"\left( x \right)", "( x )"),
        (r"z + \overline{z} = 2x", "z + z\u0305 = 2x"),  # a conjugate keeps its bar
    ],
)
def test_math_reads_as_written_by_hand(latex, shown):
    assert math_to_unicode(latex) == shown


def test_only_math_is_converted_and_markdown_keeps_backslashes():
    assert to_unicode(r"so \( \pi r^2 \) costs \$5 and $x \le 3$") == r"so πr² costs \$5 and x ≤ 3"
    assert markdown_source(r"area \( \pi r^2 \)", latex=False) == r"area \\( \\pi r^2 \\)"


def test_answers_in_the_table_are_unicode_programs_untouched():
    assert [answer_cell(v) for v in ("45^\\circ", "\\frac{1}{2}", "27")] == ["45°", "1/2", "27"]
    program = "def f(x):\n    return x ^ 2"
    assert answer_cell(program) == program
