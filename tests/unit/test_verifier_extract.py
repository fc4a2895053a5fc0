"""Answer extraction: boxes, anchors, solution sections, multiple choice, gold solutions, truncation."""

from __future__ import annotations

import pytest

from pipeline.verifier import extract_answer
from pipeline.verifier.extract import extract_gold
from pipeline.verifier.latex import last_boxed, match_brace

SKY = "<|begin_of_thought|>\n\n{thought}\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n{sol}\n\n<|end_of_solution|>"


@pytest.mark.parametrize(
    "text, kind, expected",
    [
        ("So the answer is \\boxed{\\frac{1}{2}}.", "math", "\\frac{1}{2}"),
        ("\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", "math", "\\left( 3, \\frac{\\pi}{2} \\right)"),
        ("\\fbox{7}", "math", "7"),
        ("\\boxed 7", "math", "7"),
        ("first \\boxed{1} then \\boxed{2}", "math", "2"),
        ("roots \\boxed{2}, \\boxed{3}", "math", "2, 3"),
        (SKY.format(thought="maybe \\boxed{4}", sol="Hence \\(\\boxed{5}\\)."), "math", "5"),
        (SKY.format(thought="it is 4", sol="The final answer is $6$."), "math", "6"),
        ("Final Answer: The final answer is $72$. I hope it is correct.", "math", "72"),
        ("He has 48 + 24 = 72 clips.\n#### 72", "math", "72"),
        ("Answer: 12 apples", "math", "12"),
        ("**Final Answer**\n\n\\[\\frac{3}{4}\\]", "math", "\\frac{3}{4}"),
        ("<think>\nhmm\n</think>\nThe answer is $\\boxed{10}$", "math", "10"),
        ("$x = 3$", "math", "x = 3"),
        ("\\boxed{025}", "int", "025"),
    ],
)
def test_extracts(text, kind, expected):
    assert extract_answer(text, kind) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "<|begin_of_thought|>\n\nLet me compute 4+6=10 and then" + " more words here" * 40,
        "<|begin_of_thought|>\n\nSo the answer is 10. But wait" + ", let me check again" * 40,
        "I computed many things: 3, 7, 12 and then stopped because the output was long" + " and went on" * 30,
        "\\boxed{5",
        "\\boxed{}",
    ],
)
def test_no_answer(text):
    assert extract_answer(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The answer is (C).", "C"),
        ("\\boxed{C}", "C"),
        ("\\boxed{\\textbf{(C)}}", "C"),
        ("\\boxed{\\text{C}}", "C"),
        ("Answer: D", "D"),
        ("**Answer:** (B) 4.5 eV", "B"),
        ("the correct answer is c.", "C"),
        ("(c)", "C"),
        ("\\boxed{D) 12}", "D"),
        ("I think the answer is a bit larger than expected", None),
        ("Answer: Carbon", None),
        (SKY.format(thought="B or C?", sol="The correct option is C."), "C"),
    ],
)
def test_multiple_choice(text, expected):
    assert extract_answer(text, "mc") == expected


def test_gold_forms():
    assert extract_gold("Natalia sold 24 clips.\n#### 72") == "72"
    assert extract_gold("so $\\boxed{\\frac{1}{2}}$.") == "\\frac{1}{2}"
    assert extract_gold("$\\frac{1}{2}$") == "\\frac{1}{2}"
    assert extract_gold("(C)", "mc") == "C"
    assert extract_gold("   ") is None


def test_brace_matching_is_linear_and_bounded():
    s = "\\boxed{" + "{" * 50_000 + "}" * 50_000 + "}"
    assert last_boxed(s) is None  # longer than any answer: ignored, not scanned to the end each time
    assert match_brace("{a\\}b}", 0) == 5
    assert last_boxed("\\boxed{\\{1, 2\\}}") == "\\{1, 2\\}"


def test_unknown_kind():
    with pytest.raises(ValueError):
        extract_answer("1", "essay")
