"""Tests for pipeline.problems.generators: determinism, distinctness, and answers re-derived from the text.

The verifier here works from the rendered question only (its own LaTeX reader, sympy,
brute force), never from the generator's internals.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from fractions import Fraction

import pytest
import sympy
from sympy.parsing.sympy_parser import parse_expr

from pipeline.problems import KINDS, GeneratedProblem, generate
from pipeline.problems.generators import format_answer

LEVELS = range(1, 6)
SYMPY_NAMESPACE: dict = {}
exec("from sympy import *", SYMPY_NAMESPACE)
N = 10


# ---------------------------------------------------------------- independent reader


def answer_value(answer: str) -> Fraction:
    """Parse a canonical answer, asserting it is canonical."""
    if re.fullmatch(r"-?(0|[1-9]\d*)", answer):
        assert answer != "-0"
        return Fraction(int(answer))
    m = re.fullmatch(r"(-?)\\frac\{([1-9]\d*)\}\{([1-9]\d*)\}", answer)
    assert m, f"non-canonical answer {answer!r}"
    num, den = int(m.group(2)), int(m.group(3))
    assert den > 1 and math.gcd(num, den) == 1, answer
    return Fraction(-num if m.group(1) else num, den)


def read_latex(latex: str) -> sympy.Expr:
    text = latex
    for _ in range(10):
        text = re.sub(r"\\frac\{(\d+)\}\{(\d+)\}", r"Rational(\1, \2)", text)
    text = text.replace("\\times", "*").replace("\\div", "/")
    text = re.sub(r"\^\{(\d+)\}", r"**\1", text)
    text = re.sub(r"(\d)([xyz])", r"\1*\2", text)
    assert "\\" not in text, text
    return parse_expr(text, global_dict=SYMPY_NAMESPACE)


def maths(question: str) -> list[str]:
    return re.findall(r"\$([^$]+)\$", question)


def ints(question: str) -> list[int]:
    return [int(x) for x in re.findall(r"-?\d+", question)]


def solve_independently(p: GeneratedProblem) -> Fraction | int:  # noqa: C901 - one branch per template
    q = p.question
    if p.kind in ("arithmetic", "fractions"):
        (expr,) = maths(q)
        return sympy.Rational(read_latex(expr))
    if p.kind == "linear":
        parts = maths(q)
        equations = [e for e in parts if "=" in e]
        symbols = sympy.symbols("x y z")
        system = [sympy.Eq(read_latex(lhs), read_latex(rhs)) for lhs, rhs in (e.split("=") for e in equations)]
        (solution,) = sympy.solve(system, symbols[: len(system)], dict=True)
        return read_latex(parts[-1]).subs(solution)
    if p.kind == "modular":
        if m := re.search(r"remainder when \$(.+)\$ is divided by \$(\d+)\$", q):
            expr, mod = m.group(1), int(m.group(2))
            total = 0
            for term in expr.split(" + "):
                if pm := re.fullmatch(r"(\d+)\^\{(\d+)\}", term):
                    total += pow(int(pm.group(1)), int(pm.group(2)), mod)
                else:
                    total += math.prod(int(x) for x in term.split(" \\times "))
            return total % mod
        if m := re.search(r"\$(\d+)x \\equiv (\d+) \\pmod\{(\d+)\}\$", q):
            a, b, mod = map(int, m.groups())
            (x,) = [x for x in range(mod) if (a * x - b) % mod == 0]
            return x
        pairs = [tuple(map(int, c)) for c in re.findall(r"n \\equiv (\d+) \\pmod\{(\d+)\}", q)]
        assert len(pairs) == 3
        return next(n for n in itertools.count(1) if all(n % mod == r for r, mod in pairs))
    if p.kind == "counting":
        nums = ints(q)
        if "committee of" in q and "from a group" in q:
            k, n = nums
            return math.comb(n, k)
        if "books" in q:
            return math.factorial(nums[0])
        if "outfits" in q:
            return math.prod(nums)
        if "president" in q:
            return nums[0] * (nums[0] - 1) * (nums[0] - 2)
        if "letters of the word" in q:
            word = re.search(r"word ([A-Z]+)", q).group(1)
            return len(set(itertools.permutations(word)))
        if "Carol and Dave" in q:
            n = nums[0]
            return sum(
                1
                for perm in itertools.permutations(range(n))
                if abs(perm.index(0) - perm.index(1)) > 1 and abs(perm.index(2) - perm.index(3)) > 1
            )
        if "Alice and Bob" in q:
            n, apart = nums[0], "must not" in q
            return sum(
                1 for perm in itertools.permutations(range(n)) if (abs(perm.index(0) - perm.index(1)) > 1) == apart
            )
        if "at least one woman" in q:
            k, women, men = nums
            return sum(1 for c in itertools.combinations("W" * women + "M" * men, k) if "W" in c)
        if "envelope" in q:
            n = nums[0]
            return sum(1 for perm in itertools.permutations(range(n)) if all(perm[i] != i for i in range(n)))
        if "divisible by none" in q:
            _, upper, *divs = nums
            return sum(1 for i in range(1, upper + 1) if all(i % d for d in divs))
        if "divisible by" in q:
            _, upper, a, b = nums
            return sum(1 for i in range(1, upper + 1) if i % a == 0 or i % b == 0)
        raise AssertionError(f"unrecognised counting question: {q}")
    if p.kind == "gcd_lcm":
        nums = ints(q)
        if "divisors" in q:
            return sum(1 for d in range(1, math.isqrt(nums[0]) + 1) if nums[0] % d == 0 for _ in {d, nums[0] // d})
        if "sum of the greatest" in q:
            return math.gcd(*nums) + math.lcm(*nums)
        if "greatest common divisor" in q:
            return math.gcd(*nums)
        return math.lcm(*nums)
    if p.kind == "sequences":
        if "a_1" in q:
            a1, a2 = (int(x) for x in re.findall(r"a_[12] = (-?\d+)", q))
            rule = re.search(r"a_n = ([^$]+)\$", q).group(1)
            target = int(re.search(r"What is \$a_\{(\d+)\}", q).group(1))
            coef = {1: 0, 2: 0}
            for sign, mag, lag in re.findall(r"([+-]?)(\d*)a_\{n-([12])\}", rule.replace(" ", "")):
                coef[int(lag)] = (-1 if sign == "-" else 1) * int(mag or 1)
            seq = [a1, a2]
            while len(seq) < target:
                seq.append(coef[1] * seq[-1] + coef[2] * seq[-2])
            return seq[target - 1]
        terms = [int(x) for x in re.search(r"sequence \$([^$]*), \\ldots\$", q).group(1).split(", ")]
        if "geometric" in q:
            count, ratio = ints(q)[0], Fraction(terms[1], terms[0])
            return sum(terms[0] * ratio**i for i in range(count))
        step = terms[1] - terms[0]
        if "next term" in q:
            return terms[-1] + step
        position = ints(q)[0]
        nth = [terms[0] + i * step for i in range(position)]
        return sum(nth) if "sum of the first" in q else nth[-1]
    raise AssertionError(f"no independent solver for kind {p.kind}")


# ---------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def pool() -> dict[tuple[str, int], list[GeneratedProblem]]:
    return {(kind, level): generate(kind, level, N, seed=11) for kind in KINDS for level in LEVELS}


def test_required_kinds_exist():
    assert {"arithmetic", "fractions", "linear", "modular", "counting"} <= set(KINDS)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("level", LEVELS)
def test_problems_are_well_formed_and_answers_verify(pool, kind, level):
    problems = pool[(kind, level)]
    assert len(problems) == N
    assert len({p.question for p in problems}) == N
    for index, p in enumerate(problems):
        assert (p.kind, p.difficulty, p.seed, p.index) == (kind, level, 11, index)
        assert p.question.count("$") % 2 == 0
        assert p.question.rstrip().endswith("?"), p.question
        assert "\\boxed" not in p.question and "step by step" not in p.question
        value = answer_value(p.answer)
        assert p.answer_kind == ("int" if value.denominator == 1 else "math")
        independent = sympy.Rational(solve_independently(p))
        assert independent == sympy.Rational(value.numerator, value.denominator), p


def test_determinism_and_prefix_stability():
    for kind in [*KINDS, "mixed"]:
        full = generate(kind, 3, 10, seed=5)
        assert generate(kind, 3, 10, seed=5) == full
        assert generate(kind, 3, 4, seed=5) == full[:4]
        assert generate(kind, 3, 10, seed=6) != full


def test_mixed_cycles_through_kinds_without_duplicates():
    problems = generate("mixed", 2, 2 * len(KINDS), seed=0)
    assert [p.kind for p in problems] == list(KINDS) * 2
    assert len({p.question for p in problems}) == len(problems)


def test_no_duplicates_in_a_small_space():
    # Level-1 counting has only a few dozen distinct questions; duplicates must be re-drawn.
    problems = generate("counting", 1, 30, seed=0)
    assert len({p.question for p in problems}) == 30


def test_exhausted_space_is_a_clear_error():
    with pytest.raises(ValueError, match="could not find a new counting problem"):
        generate("counting", 1, 500, seed=0)


def _mean(values) -> float:
    return statistics.mean(values)


def test_difficulty_increases_structure():
    for kind in ("arithmetic", "fractions"):
        ops = [_mean(p.meta["ops"] for p in generate(kind, level, 20, seed=2)) for level in LEVELS]
        assert ops == sorted(ops) and len(set(ops)) == 5, (kind, ops)
    unknowns = [max(p.meta["unknowns"] for p in generate("linear", level, 5, seed=2)) for level in LEVELS]
    assert unknowns == [1, 1, 2, 2, 3]
    magnitude = [_mean(p.meta["max_operand"] for p in generate("arithmetic", level, 20, seed=2)) for level in LEVELS]
    assert magnitude == sorted(magnitude)


def test_difficulty_increases_size_of_numbers_for_every_kind():
    def digits(p: GeneratedProblem) -> int:
        return sum(len(x) for x in re.findall(r"\d+", p.question)) + len(re.sub(r"\D", "", p.answer))

    for kind in KINDS:
        size = {level: _mean(digits(p) for p in generate(kind, level, 20, seed=3)) for level in (1, 5)}
        assert size[1] < size[5], (kind, size)


def test_level_one_arithmetic_is_small():
    for p in generate("arithmetic", 1, 20, seed=0):
        assert p.meta["ops"] == 2
        assert all(0 <= n <= 10 for n in ints(p.meta["expression"]))
        assert 0 <= int(p.answer) <= 100


def test_bad_arguments():
    with pytest.raises(ValueError) as err:
        generate("geometry", 1, 1, seed=0)
    for kind in [*KINDS, "mixed"]:
        assert kind in str(err.value)
    for level in (0, 6, 2.5, True):
        with pytest.raises(ValueError, match="difficulty"):
            generate("arithmetic", level, 1, seed=0)
    assert generate("arithmetic", 1, 0, seed=0) == []


def test_format_answer():
    assert format_answer(Fraction(42)) == ("42", "int")
    assert format_answer(-7) == ("-7", "int")
    assert format_answer(Fraction(6, 8)) == ("\\frac{3}{4}", "math")
    assert format_answer(Fraction(-3, 4)) == ("-\\frac{3}{4}", "math")
