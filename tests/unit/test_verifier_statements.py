"""Answers read from prose (closing statements, number words, MC letters), the cut-off rule, the answer
policies, and the narrow number-format rules with their near-miss negatives (issue 13)."""

from __future__ import annotations

import pytest

from pipeline.verifier import cut_off_reason, extract, grade
from pipeline.verifier.normalize import canon
from pipeline.verifier.statements import closing_statement, number_words_value, read_value

PAD = "We work it out carefully, one step at a time, checking every intermediate result as we go. " * 4


@pytest.mark.parametrize(
    "sentence, value",
    [
        ("Therefore, the number of positive divisors of 360 is 24.", "24"),
        ("So the radius is 7 cm.", "7"),
        ("I keep getting m = 12.", "12"),
        ("Adding the meals: 600 + 700 + 700 = 2000 calories.", "2000"),
        ("Hence $t \\leq -2$ is the solution set.", "t \\leq -2"),
        ("So we get $z \\neq 4$.", "z \\neq 4"),
        ("The solutions are $x = 3$ and $x = 5$.", "3, 5"),
        ("Hence there are $5! = 120$ ways.", "120"),
        ("So the answer is three.", "3"),
        ("So the polygon has seven sides.", "7"),
        ("Altogether, Sam ran 80 miles.", "80"),
        ("The sum of the digits is 8. Hope it helps!", "8"),
        ("So the answer is 5, not 6.", "5"),
    ],
)
def test_closing_statement_reads_the_object(sentence, value):
    assert closing_statement(PAD + sentence) == value


@pytest.mark.parametrize(
    "sentence, value",
    [
        ("We need 3 more boxes than yesterday.", None),  # no copula, no conclusion
        ("Therefore, 5 apples for $10.", None),  # two values, no verb: neither is read
        ("Therefore, 5 apples cost $10.", None),  # two values: neither is read
        ("Thus Tom has four times as many cards as Ann.", None),  # a comparison
        ("So the answer is not 5.", None),  # negated
        ("The inverse is not $\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}$.", None),
        ("Is the answer 6?", None),  # a question
        ("So x = 5.\n\nLet me double check: 2 * 5 = 10, which matches the total.", "10"),  # the last value stated
    ],
)
def test_closing_statement_near_misses(sentence, value):
    assert closing_statement(PAD + sentence) == value


def test_read_value_and_number_words():
    assert read_value("$\\frac{10}{9}$.") == "\\frac{10}{9}"
    assert read_value("24 square units.") == "24"
    assert read_value("5 more than x") is None
    assert number_words_value("twenty-four") == 24 and number_words_value("one hundred and five") == 105
    assert number_words_value("the answer") is None and number_words_value("half") is None
    assert grade("3", PAD + "There are three such numbers.").equal
    assert grade("\\text{three}", "\\boxed{3}").equal and not grade("4", PAD + "There are three such numbers.").equal


@pytest.mark.parametrize(
    "text, letter",
    [
        ("Comparing them, A is too small and C overshoots, so I'd go with B.", "B"),
        ("Checking each: it must be D, not A.", "D"),
        ('Answer: "C"', "C"),
        ("C holds because the derivative is positive.", "C"),
        ("Of all the choices, D is correct since it is even.", "D"),
        ("Option B looks tempting but fails; it must be D.", "D"),
        ("I would not go with B; the right one is D.", None),
        ("It is A good idea to check every option once more.", None),
    ],
)
def test_choice_letters_in_prose(text, letter):
    assert extract(PAD + text, "mc").answer == letter


def test_cut_off_responses_get_no_credit():
    finished = PAD + "So the answer is 5."
    assert grade("5", finished).equal
    v = grade("5", finished, finish_reason="length")
    assert not v.equal and v.rule == "cut_off" and "length" in v.reason
    v = grade("5", "<|begin_of_thought|>\n\nSo the answer is \\boxed{5}. But wait, let me")
    assert not v.equal and v.rule == "cut_off" and "thought never ended" in v.reason
    v = grade("5", PAD + "So far the count is 5 and I need to check whether")
    assert not v.equal and v.rule == "cut_off" and "mid-sentence" in v.reason
    assert cut_off_reason(PAD + "Final answer: B") is None  # a line with an anchor is a closing line
    assert cut_off_reason("odd") is None  # a bare answer is not a sentence
    # the harness policy credits cut-off responses, as Qwen-style harnesses do
    assert grade("5", finished, finish_reason="length", policy="harness").equal


def test_policies():
    statement = PAD + "Therefore, the value is 7."
    assert not grade("7", statement, policy="strict").equal
    assert grade("7", statement, policy="default").answer_source == "statement"
    last = PAD + "We try 3 and then 7"
    assert not grade("7", last + ".", policy="default").equal
    v = grade("7", last, policy="harness")
    assert v.equal and v.answer_source == "last_number"
    with pytest.raises(ValueError):
        grade("7", "7", policy="lenient")


def test_short_sentences_are_read_or_refused_never_compared_whole():
    assert grade("7", "So the radius is 7 cm.").answer_source == "statement"
    v = grade("5", "So the answer is not 5.")
    assert not v.equal and v.extracted is None
    assert not grade("5", "So the answer is not 5.", policy="strict").equal
    assert grade("2,3", "x=2 \\text{ or } x=3").equal and grade("12", "12 apples").equal  # still bare answers


@pytest.mark.parametrize(
    "gold, pred, equal",
    [
        ("12345", "\\boxed{12,\\! 345}", True),
        ("12345", "\\boxed{12\\,345}", True),
        ("3.5", PAD + "The price is 3,50 €.", True),
        ("3.5", "\\boxed{3,50}", False),  # without a currency a comma can be a list
        ("\\frac{6001}{3}", "\\boxed{2 000 1/3}", True),
        ("1, 2, 3", "\\boxed{1, 2, 3, \\ldots}", False),  # an ellipsis is never dropped
        ("1, 2, 3, \\ldots", "\\boxed{1, 2, 3}", False),
        ("1, 2, 3, \\ldots", "\\boxed{1, 2, 3, \\dots}", True),
        ("\\frac{7}{2}", "\\boxed{3\n\\frac{1}{2}}", False),  # a line break is not a mixed number
        ("\\frac{7}{2}", "$3$\n$\\frac{1}{2}$", False),
        ("3\\frac{1}{2}", "\\boxed{3 \\frac{1}{2}}", True),
        ("(2,5), (0,1)", "\\boxed{(2,5)} for part (a) and \\boxed{(0,1)} for part (b).", True),
        ("(2,5), (0,1)", "\\boxed{(2,5)} for part (a) and \\boxed{(0,2)} for part (b).", False),
        ("5", "Try \\boxed{3}. Then the final is \\boxed{5}.", True),
    ],
)
def test_number_formats_and_several_boxes(gold, pred, equal):
    assert grade(gold, pred).equal is equal


def test_canon_rules_are_narrow():
    assert canon("3\n1/2") == "3,1/2" and canon("3 1/2") == "3\\frac{1}{2}"
    assert canon("1, 2, \\cdots") == canon("1,2,...") == "1,2,\\ldots"
    assert canon("12,\\!345") == "12345" and canon("12,\\!34") != "1234"


# The lead's spot check of issue 13 (short predictions and the same sentence closing a longer response),
# with the non-credits that must stay.
SPOT = [
    ("t \\le -2", "Hence $t \\leq -2$ is the solution set.", True),
    ("(-\\infty, -2]", "Hence $t \\leq -2$ is the solution set.", True),
    ("7", "So the radius is 7 cm.", True),
    ("3", "The answer is three.", True),
    ("3.5", "It costs 3,50 €.", True),
    ("0.5", "The probability is 1/2.", True),
    ("12", "I keep getting m = 12.", True),
    ("1, 2, 3", "The first terms are 1, 2, 3, ...", False),
    ("7/3", "2\n1/3", False),
    ("17", "The answer is not 17; it is 18.", False),
    ("17", "Not 17; it is 18.", False),
    ("3.5", "It costs 3,50 € more than the pen.", False),  # a comparison, not a price
    ("3.5", "It costs 3,50 € and the total is 7 €.", False),  # the last value stated is the total
    ("4", "It costs 3 dollars, not 4.", False),
    ("5", "It cost him 5 €.", False),  # not "costs VALUE": nothing is read
    ("10", "Therefore, 5 apples cost $10.", False),  # a counted subject: the price is not read
]


@pytest.mark.parametrize("gold, sentence, equal", SPOT)
@pytest.mark.parametrize("prefix", ["", PAD + "\n\n"])
def test_spot_check_statements(gold, sentence, equal, prefix):
    assert grade(gold, prefix + sentence).equal is equal
    assert not grade(gold, prefix + sentence, finish_reason="length").equal  # cut off: never credited


@pytest.mark.parametrize(
    "gold, text",
    [
        ("A", "It must be D, not A."),
        ("A", "I would not choose A. The answer is D."),
        ("A", "So it's not A."),
        ("A", "Rather than A, I'd go with C."),
    ],
)
def test_negated_choice_letters_are_not_credited(gold, text):
    assert not grade(gold, text, kind="mc").equal
