"""Procedurally generated math problems whose answers are exact and checked by construction.

The STILL-2 report names the shortage of hard problems with reliable answers as a
limitation; these generators give exploration an unlimited, verifiable pool.

Every generator computes its answer two independent ways (e.g. a ``Fraction``
evaluation of the expression tree it built *and* sympy on the LaTeX it rendered;
a construction-first solution *and* sympy's solver on the rendered equations) and
raises ``GenerationError`` if they disagree: that is a bug, never a data issue.

Answers are canonical strings for the verifier: integers ``"42"`` / ``"-7"``,
fractions ``"\\frac{3}{4}"`` / ``"-\\frac{3}{4}"``; ``answer_kind`` is ``"int"`` for
integers and ``"math"`` for fractions.

Determinism: problem ``i`` of ``generate(kind, difficulty, n, seed)`` depends only on
``(kind, difficulty, seed, i)`` and on problems ``0..i-1`` (a duplicate question is
re-drawn with the next attempt number), so a longer call extends a shorter one.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import sympy
from sympy.ntheory.modular import crt
from sympy.parsing.sympy_parser import parse_expr
from sympy.utilities.iterables import multiset_permutations

from store.ids import problem_id, question_hash

MIXED = "mixed"
_SYMPY_NAMESPACE: dict = {}
exec("from sympy import *", _SYMPY_NAMESPACE)  # parse_expr would redo this import on every call
MAX_ATTEMPTS = 200  # re-draws per index before giving up on finding a new question


class GenerationError(RuntimeError):
    """A generator's two independent answer computations disagreed (a bug)."""


@dataclass(frozen=True)
class GeneratedProblem:
    question: str
    answer: str
    kind: str
    difficulty: int
    seed: int
    index: int
    answer_kind: str  # "int" | "math"
    meta: dict = field(default_factory=dict, hash=False)

    def problem_row(self, source: str, split: str) -> dict:
        """This problem as a store ``problem`` row (for store.ingest.add_problems) of ``source`` and ``split``."""
        return {
            "id": problem_id(source, self.question),
            "source": source,
            "source_key": str(self.index),
            "domain": "math",
            "subject": self.kind,
            "difficulty": self.difficulty,
            "question": self.question,
            "question_hash": question_hash(self.question),
            "answer": self.answer,
            "answer_kind": self.answer_kind,
            "split": split,
            "tags": ["generated", self.kind],
            "meta": {"generator": self.kind, "seed": self.seed, "index": self.index, **self.meta},
        }


@dataclass(frozen=True)
class _Draft:
    """What a kind generator returns: the question, the exact answer and structural metadata."""

    question: str
    answer: Fraction
    meta: dict


Generator = Callable[[random.Random, int], _Draft]


# ---------------------------------------------------------------- shared helpers


def format_answer(value: Fraction | int) -> tuple[str, str]:
    """Canonical answer string and answer_kind for an exact rational value."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator), "int"
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}", "math"


def _agree(first: Fraction | int, second: object, what: str) -> None:
    """Raise unless the two independently computed answers are the same rational number."""
    first = Fraction(first)
    try:
        other = sympy.sympify(second)
    except (TypeError, ValueError, sympy.SympifyError) as exc:
        raise GenerationError(f"{what}: cannot compare {first!r} with {second!r}: {exc}") from exc
    if not other.is_Rational or other != sympy.Rational(first.numerator, first.denominator):
        raise GenerationError(f"{what}: construction gives {first}, independent check gives {second}")


def latex_to_sympy(latex: str) -> sympy.Expr:
    """Evaluate the arithmetic LaTeX these generators render (\\frac, \\times, \\div, ^, implicit 3x)."""
    text = latex.replace("\\left", "").replace("\\right", "")
    while "\\frac" in text:
        text = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", text)
    text = text.replace("\\times", "*").replace("\\cdot", "*").replace("\\div", "/")
    text = re.sub(r"\^\{([^{}]*)\}", r"**(\1)", text).replace("^", "**")
    text = re.sub(r"(\d)\s*([a-z(])", r"\1*\2", text)
    return parse_expr(text, global_dict=_SYMPY_NAMESPACE, evaluate=True)


def _signed_terms(terms: list[tuple[int, str]]) -> str:
    """Render c1*v1 + c2*v2 + ... ; a variable of "" is a constant term; zero terms are skipped."""
    out = ""
    for coef, var in terms:
        if coef == 0:
            continue
        mag = abs(coef)
        body = var if (mag == 1 and var) else f"{mag}{var}"
        if not out:
            out = ("-" if coef < 0 else "") + body
        else:
            out += (" - " if coef < 0 else " + ") + body
    return out or "0"


# ---------------------------------------------------------------- expression trees


@dataclass(frozen=True)
class _Num:
    value: Fraction
    latex: str


@dataclass(frozen=True)
class _Op:
    op: str  # "+", "-", "*", "/"
    left: "_Node"
    right: "_Node"


@dataclass(frozen=True)
class _Pow:
    base: int
    exponent: int


_Node = _Num | _Op | _Pow
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2}
_LATEX_OP = {"+": "+", "-": "-", "*": "\\times", "/": "\\div"}


def _eval(node: _Node) -> Fraction:
    if isinstance(node, _Num):
        return node.value
    if isinstance(node, _Pow):
        return Fraction(node.base) ** node.exponent
    a, b = _eval(node.left), _eval(node.right)
    if node.op == "+":
        return a + b
    if node.op == "-":
        return a - b
    if node.op == "*":
        return a * b
    if b == 0:
        raise ZeroDivisionError
    return a / b


def _render(node: _Node) -> str:
    if isinstance(node, _Num):
        return node.latex
    if isinstance(node, _Pow):
        return f"{node.base}^{{{node.exponent}}}"
    left, right = _render(node.left), _render(node.right)
    prec = _PREC[node.op]
    if isinstance(node.left, _Op) and _PREC[node.left.op] < prec:
        left = f"({left})"
    if isinstance(node.right, _Op):
        child = node.right.op
        # Right operands of equal precedence are bracketed whenever - or / is involved.
        if _PREC[child] < prec or (_PREC[child] == prec and (node.op in "-/" or child in "-/")):
            right = f"({right})"
    return f"{left} {_LATEX_OP[node.op]} {right}"


def _count_ops(node: _Node) -> int:
    if isinstance(node, _Num):
        return 0
    if isinstance(node, _Pow):
        return 1
    return 1 + _count_ops(node.left) + _count_ops(node.right)


def _max_literal(node: _Node) -> int:
    if isinstance(node, _Num):
        return max(abs(node.value.numerator), node.value.denominator)
    if isinstance(node, _Pow):
        return node.base
    return max(_max_literal(node.left), _max_literal(node.right))


def _random_tree(rng: random.Random, ops: int, leaf: Callable[[], _Node], allowed: str) -> _Node:
    if ops == 0:
        return leaf()
    op = rng.choice(allowed)
    left_ops = rng.randint(0, ops - 1)
    return _Op(op, _random_tree(rng, left_ops, leaf, allowed), _random_tree(rng, ops - 1 - left_ops, leaf, allowed))


def _expression_draft(
    rng: random.Random,
    difficulty: int,
    *,
    ops: int,
    leaf: Callable[[], _Node],
    allowed: str,
    accept: Callable[[Fraction], bool],
    integer_steps: bool,
) -> tuple[_Node, Fraction]:
    """Draw trees until one evaluates (exactly, if integer_steps) to an acceptable value."""
    for _ in range(2000):
        tree = _random_tree(rng, ops, leaf, allowed)
        try:
            value = _eval(tree)
        except ZeroDivisionError:
            continue
        if integer_steps and not _all_integer(tree):
            continue
        if accept(value):
            return tree, value
    raise GenerationError(f"no acceptable expression after 2000 draws (difficulty {difficulty})")


def _all_integer(node: _Node) -> bool:
    if isinstance(node, (_Num, _Pow)):
        return True
    return _eval(node).denominator == 1 and _all_integer(node.left) and _all_integer(node.right)


# ---------------------------------------------------------------- kinds


_ARITH_LEAF_MAX = {1: 10, 2: 20, 3: 50, 4: 100, 5: 999}
_ARITH_LIMIT = {1: 100, 2: 1_000, 3: 10_000, 4: 100_000, 5: 1_000_000}
_QUESTIONS = ("What is the value of ${}$?", "What is ${}$?", "What does ${}$ equal?")


def arithmetic(rng: random.Random, difficulty: int) -> _Draft:
    """Multi-step integer arithmetic: difficulty+1 binary operations; ÷ from level 3, powers from 4."""
    hi = _ARITH_LEAF_MAX[difficulty]
    lo = 10 if difficulty == 5 else 1

    def leaf() -> _Node:
        if difficulty >= 4 and rng.random() < 0.25:
            base = rng.randint(2, 12 if difficulty == 4 else 15)
            exponent = rng.choice([2, 3] if base > 5 else [2, 3, 4])
            return _Pow(base, exponent)
        value = rng.randint(lo, hi)
        return _Num(Fraction(value), str(value))

    allowed = "+-*" if difficulty <= 2 else "+-*/+-"
    limit = _ARITH_LIMIT[difficulty]
    tree, value = _expression_draft(
        rng,
        difficulty,
        ops=difficulty + 1,
        leaf=leaf,
        allowed=allowed,
        accept=lambda v: abs(v) <= limit and (difficulty > 2 or v >= 0),
        integer_steps=True,
    )
    latex = _render(tree)
    _agree(value, latex_to_sympy(latex), f"arithmetic {latex}")
    return _Draft(
        rng.choice(_QUESTIONS).format(latex),
        value,
        {"expression": latex, "ops": _count_ops(tree), "max_operand": _max_literal(tree)},
    )


_FRAC_DEN_MAX = {1: 6, 2: 10, 3: 12, 4: 16, 5: 24}


def fractions(rng: random.Random, difficulty: int) -> _Draft:
    """Fraction arithmetic with `difficulty` operations; the answer is never an integer."""
    max_den = _FRAC_DEN_MAX[difficulty]

    def leaf() -> _Node:
        if difficulty >= 3 and rng.random() < 0.15:
            value = rng.randint(1, 9)
            return _Num(Fraction(value), str(value))
        den = rng.randint(2, max_den)
        num = rng.choice([k for k in range(1, 2 * den if difficulty >= 3 else den) if k != den])
        return _Num(Fraction(num, den), f"\\frac{{{num}}}{{{den}}}")

    allowed = {1: "+-", 2: "+-*"}.get(difficulty, "+-*/")
    bound = {1: 36, 2: 100, 3: 200, 4: 500, 5: 1000}[difficulty]
    tree, value = _expression_draft(
        rng,
        difficulty,
        ops=difficulty,
        leaf=leaf,
        allowed=allowed,
        accept=lambda v: v.denominator != 1 and v.denominator <= bound and abs(v.numerator) <= 10 * bound,
        integer_steps=False,
    )
    latex = _render(tree)
    _agree(value, latex_to_sympy(latex), f"fractions {latex}")
    question = rng.choice(_QUESTIONS).format(latex)
    return _Draft(question, value, {"expression": latex, "ops": _count_ops(tree), "max_operand": _max_literal(tree)})


_VARS = ("x", "y", "z")
_NONZERO = [c for c in range(-9, 10) if c != 0]


def _solve_fraction(matrix: list[list[int]], rhs: list[int]) -> list[Fraction] | None:
    """Gauss-Jordan elimination over Fractions; None if the matrix is singular."""
    size = len(matrix)
    rows = [[Fraction(c) for c in row] + [Fraction(r)] for row, r in zip(matrix, rhs)]
    for col in range(size):
        pivot = next((r for r in range(col, size) if rows[r][col] != 0), None)
        if pivot is None:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(size):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col])]
    return [rows[i][size] / rows[i][i] for i in range(size)]


def linear(rng: random.Random, difficulty: int) -> _Draft:
    """Linear equations: one unknown (levels 1-2), 2x2 systems (3-4), 3x3 systems (5)."""
    if difficulty <= 2:
        return _linear_single(rng, difficulty)
    size = 2 if difficulty <= 4 else 3
    names = list(_VARS[:size])
    while True:
        matrix = [[rng.choice(_NONZERO) for _ in range(size)] for _ in range(size)]
        if difficulty == 3:
            solution = [Fraction(rng.randint(-10, 10)) for _ in range(size)]
            rhs = [int(sum(c * s for c, s in zip(row, solution))) for row in matrix]
            if _solve_fraction(matrix, rhs) is None:
                continue
        else:
            rhs = [rng.randint(-30, 30) for _ in range(size)]
            maybe = _solve_fraction(matrix, rhs)
            if maybe is None or any(s.denominator > 60 for s in maybe):
                continue
            solution = maybe
        break
    if difficulty == 3:
        asked = rng.randrange(size)
        target = [1 if i == asked else 0 for i in range(size)]
    else:
        target = [rng.randint(-3, 3) for _ in range(size)]
        if not any(target):
            target[rng.randrange(size)] = 1
    equations = [f"{_signed_terms(list(zip(row, names)))} = {r}" for row, r in zip(matrix, rhs)]
    target_latex = _signed_terms(list(zip(target, names)))
    value = sum((t * s for t, s in zip(target, solution)), Fraction(0))

    _check_linear_solution(equations, names, solution)
    assignment = {sympy.Symbol(v): sympy.Rational(s.numerator, s.denominator) for v, s in zip(names, solution)}
    _agree(value, latex_to_sympy(target_latex).xreplace(assignment), f"linear {equations} -> {target_latex}")

    listed = ", ".join(f"${v}$" for v in names[:-1]) + f"{',' if size > 2 else ''} and ${names[-1]}$"
    eqs = ", ".join(f"${e}$" for e in equations[:-1]) + f"{',' if size > 2 else ''} and ${equations[-1]}$"
    question = f"The numbers {listed} satisfy {eqs}. What is the value of ${target_latex}$?"
    return _Draft(
        question,
        value,
        {"equations": equations, "target": target_latex, "unknowns": size, "ops": size * size},
    )


def _check_linear_solution(equations: list[str], names: list[str], solution: list[Fraction]) -> None:
    """Independent check on the rendered text: the solution satisfies every equation and is unique."""
    symbols = sympy.symbols(names)
    residuals = [latex_to_sympy(lhs) - latex_to_sympy(rhs) for lhs, rhs in (eq.split("=") for eq in equations)]
    assignment = {v: sympy.Rational(s.numerator, s.denominator) for v, s in zip(symbols, solution)}
    for equation, residual in zip(equations, residuals):
        if residual.xreplace(assignment) != 0:
            raise GenerationError(f"linear: {solution} does not satisfy {equation}")
    jacobian = sympy.Matrix([[residual.coeff(v) for v in symbols] for residual in residuals])
    if jacobian.det() == 0:
        raise GenerationError(f"linear: {equations} has no unique solution")


def _linear_single(rng: random.Random, difficulty: int) -> _Draft:
    if difficulty == 1:
        a, x = rng.randint(2, 9), rng.randint(0, 12)
        b = rng.randint(1, 20) * rng.choice([1, -1])
        lhs, rhs = [(a, "x"), (b, "")], [(a * x + b, "")]
        value = Fraction(x)
    else:
        while True:
            a, c = rng.randint(-12, 12), rng.randint(-12, 12)
            b, d = rng.randint(-20, 20), rng.randint(-20, 20)
            if a not in (0, c) and c != 0 and b != d:
                break
        lhs, rhs = [(a, "x"), (b, "")], [(c, "x"), (d, "")]
        value = Fraction(d - b, a - c)
    equation = f"{_signed_terms(lhs)} = {_signed_terms(rhs)}"
    _check_linear_solution([equation], ["x"], [value])
    return _Draft(
        f"If ${equation}$, what is the value of $x$?",
        value,
        {"equations": [equation], "target": "x", "unknowns": 1, "ops": 2 * difficulty},
    )


def modular(rng: random.Random, difficulty: int) -> _Draft:
    """Remainders of sums/products/powers, linear congruences (inverses), and CRT systems."""
    if difficulty <= 3 or (difficulty == 5 and rng.random() < 0.5):
        if difficulty == 1:
            terms, m = [rng.randint(10, 50), rng.randint(10, 50)], rng.randint(3, 10)
            expr, value = f"{terms[0]} + {terms[1]}", (terms[0] + terms[1]) % m
        elif difficulty == 2:
            terms, m = [rng.randint(11, 99) for _ in range(3)], rng.randint(5, 20)
            expr, value = " \\times ".join(map(str, terms)), math.prod(terms) % m
        elif difficulty == 3:
            a, k, m = rng.randint(2, 20), rng.randint(10, 100), rng.randint(5, 50)
            expr, value = f"{a}^{{{k}}}", pow(a, k, m)
        else:
            a, k, b, j = rng.randint(2, 30), rng.randint(100, 2025), rng.randint(2, 30), rng.randint(100, 2025)
            m = rng.randint(100, 1000)
            expr, value = f"{a}^{{{k}}} + {b}^{{{j}}}", (pow(a, k, m) + pow(b, j, m)) % m
        _agree(Fraction(value), sympy.Mod(latex_to_sympy(expr), m), f"modular {expr} mod {m}")
        question = f"What is the remainder when ${expr}$ is divided by ${m}$?"
        return _Draft(question, Fraction(value), {"type": "remainder", "expression": expr, "modulus": m})
    if difficulty == 4:
        while True:
            m, a = rng.randint(11, 100), rng.randint(2, 99)
            if a % m and math.gcd(a, m) == 1:
                break
        b = rng.randint(1, m - 1)
        value = b * pow(a, -1, m) % m
        brute = [x for x in range(m) if (a * x - b) % m == 0]
        if brute != [value]:
            raise GenerationError(f"modular: {a}x = {b} mod {m}: {value} vs {brute}")
        question = f"What is the unique integer $x$ with $0 \\le x < {m}$ such that ${a}x \\equiv {b} \\pmod{{{m}}}$?"
        return _Draft(question, Fraction(value), {"type": "congruence", "a": a, "b": b, "modulus": m})
    while True:
        moduli = sorted(rng.sample(range(3, 30), 3))
        if all(math.gcd(p, q) == 1 for p, q in itertools.combinations(moduli, 2)):
            break
    product = math.prod(moduli)
    n = rng.randint(1, product)
    residues = [n % m for m in moduli]
    solved, _ = crt(moduli, residues)
    _agree(Fraction(n), int(solved) or product, f"modular CRT {moduli} {residues}")
    conds = [f"$n \\equiv {r} \\pmod{{{m}}}$" for r, m in zip(residues, moduli)]
    question = f"What is the smallest positive integer $n$ such that {conds[0]}, {conds[1]}, and {conds[2]}?"
    return _Draft(question, Fraction(n), {"type": "crt", "moduli": moduli, "residues": residues})


_WORDS = ("BANANA", "LETTER", "COOKIE", "PEPPER", "BALLOON", "SUCCESS", "ADDRESS", "TOMORROW", "COFFEE")
_NAMES = ("Alice", "Bob", "Carol", "Dave")


def _multiset_count(word: str) -> int:
    return sum(1 for _ in multiset_permutations(word))


def counting(rng: random.Random, difficulty: int) -> _Draft:
    """Combinatorics: choose/arrange (1-2), adjacency and at-least-one (3), inclusion-exclusion (4-5)."""
    choice = rng.randrange(3 if difficulty <= 2 else 2)
    if difficulty <= 2 and choice == 2:
        sizes = [rng.randint(2, 9) for _ in range(difficulty + 1)]
        items = ("shirts", "pairs of pants", "hats")[: len(sizes)]
        value, check = math.prod(sizes), sum(1 for _ in itertools.product(*(range(k) for k in sizes)))
        listed = ", ".join(f"${k}$ {item}" for k, item in zip(sizes[:-1], items)) + (
            f"{',' if len(sizes) > 2 else ''} and ${sizes[-1]}$ {items[-1]}"
        )
        question = f"Sam has {listed}. An outfit is one of each. How many different outfits can Sam make?"
        meta = {"type": "product", "sizes": sizes}
    elif difficulty == 1:
        if choice:
            n, k = rng.randint(4, 12), rng.randint(2, 4)
            value = math.comb(n, k)
            check = sum(1 for _ in itertools.combinations(range(n), k))
            question = f"In how many ways can a committee of ${k}$ people be chosen from a group of ${n}$ people?"
            meta = {"type": "choose", "n": n, "k": k}
        else:
            n = rng.randint(3, 7)
            value, check = math.factorial(n), sum(1 for _ in itertools.permutations(range(n)))
            question = f"In how many different orders can ${n}$ different books be arranged on a shelf?"
            meta = {"type": "orders", "n": n}
    elif difficulty == 2:
        if choice:
            n, k = rng.randint(5, 20), 3
            value, check = math.perm(n, k), int(sympy.ff(n, k))
            question = (
                f"A club has ${n}$ members. In how many ways can it choose a president, a vice-president, "
                "and a treasurer if no member can hold more than one office?"
            )
            meta = {"type": "offices", "n": n, "k": k}
        else:
            word = rng.choice(_WORDS)
            counts = Counter(word)
            value = math.factorial(len(word)) // math.prod(math.factorial(c) for c in counts.values())
            check = _multiset_count(word)
            question = f"How many distinct arrangements of the letters of the word {word} are there?"
            meta = {"type": "word", "word": word}
    elif difficulty == 3:
        if choice:
            n, apart = rng.randint(4, 7), rng.random() < 0.5
            together = 2 * math.factorial(n - 1)
            value = math.factorial(n) - together if apart else together
            check = sum(1 for p in itertools.permutations(range(n)) if (abs(p.index(0) - p.index(1)) == 1) != apart)
            rule = "must not stand next to each other" if apart else "must stand next to each other"
            question = f"In how many ways can ${n}$ people stand in a row if two of them, Alice and Bob, {rule}?"
            meta = {"type": "adjacent", "n": n, "apart": apart}
        else:
            women, men, k = rng.randint(3, 6), rng.randint(3, 6), rng.randint(3, 4)
            value = math.comb(women + men, k) - math.comb(men, k)
            check = sum(1 for c in itertools.combinations(range(women + men), k) if min(c) < women)
            question = (
                f"A committee of ${k}$ people is chosen from ${women}$ women and ${men}$ men. "
                "How many different committees include at least one woman?"
            )
            meta = {"type": "at_least_one", "women": women, "men": men, "k": k}
    elif difficulty == 4:
        if choice:
            a, b = rng.sample(range(2, 16), 2)
            upper = rng.randint(100, 1000)
            value = upper // a + upper // b - upper // math.lcm(a, b)
            check = sum(1 for i in range(1, upper + 1) if i % a == 0 or i % b == 0)
            question = f"How many integers from $1$ to ${upper}$ are divisible by ${a}$ or ${b}$ (or both)?"
            meta = {"type": "divisible_any", "upper": upper, "divisors": [a, b]}
        else:
            n = rng.randint(5, 9)
            value = sum((-1) ** j * math.factorial(n) // math.factorial(j) for j in range(n + 1))
            check = int(sympy.subfactorial(n))
            question = (
                f"There are ${n}$ letters and ${n}$ envelopes, each envelope addressed for one letter. "
                "In how many ways can the letters be put into the envelopes, one per envelope, "
                "so that no letter is in its correct envelope?"
            )
            meta = {"type": "derangement", "n": n}
    else:
        if choice:
            divisors = sorted(rng.sample(range(2, 25), 3))
            upper = rng.randint(1000, 10000)
            value = 0
            for size in range(len(divisors) + 1):
                for subset in itertools.combinations(divisors, size):
                    value += (-1) ** size * (upper // math.lcm(*subset))
            check = sum(1 for i in range(1, upper + 1) if all(i % d for d in divisors))
            a, b, c = divisors
            question = f"How many integers from $1$ to ${upper}$ are divisible by none of ${a}$, ${b}$, and ${c}$?"
            meta = {"type": "divisible_none", "upper": upper, "divisors": divisors}
        else:
            n = rng.randint(5, 7)
            # Inclusion-exclusion over the two forbidden adjacencies (Alice-Bob, Carol-Dave).
            value = math.factorial(n) - 2 * 2 * math.factorial(n - 1) + 4 * math.factorial(n - 2)
            check = sum(
                1
                for p in itertools.permutations(range(n))
                if abs(p.index(0) - p.index(1)) != 1 and abs(p.index(2) - p.index(3)) != 1
            )
            question = (
                f"In how many ways can ${n}$ people stand in a row if Alice and Bob do not stand next to "
                "each other and Carol and Dave do not stand next to each other?"
            )
            meta = {"type": "two_apart", "n": n}
    _agree(Fraction(value), check, f"counting {meta}")
    return _Draft(question, Fraction(value), meta)


def gcd_lcm(rng: random.Random, difficulty: int) -> _Draft:
    """gcd / lcm of two or three numbers (1-3), gcd + lcm (4), number of divisors (5)."""
    if difficulty == 5:
        primes = sorted(rng.sample([2, 3, 5, 7, 11, 13], rng.randint(2, 4)))
        while True:
            exps = [rng.randint(1, 6) for _ in primes]
            number = math.prod(p**e for p, e in zip(primes, exps))
            if number <= 10**7:
                break
        value = math.prod(e + 1 for e in exps)
        _agree(Fraction(value), sympy.divisor_count(number), f"divisors of {number}")
        return _Draft(
            f"How many positive divisors does ${number}$ have?",
            Fraction(value),
            {"type": "divisors", "numbers": [number]},
        )
    count = 3 if difficulty == 3 else 2
    common = rng.randint(2, {1: 6, 2: 6, 3: 12, 4: 30}[difficulty])
    cap = {1: 10, 2: 12, 3: 15, 4: 40}[difficulty]
    numbers = sorted(set(common * rng.randint(1, cap) for _ in range(count)))
    while len(numbers) < count:
        numbers = sorted(set(numbers) | {common * rng.randint(1, cap)})
    g, lcm = math.gcd(*numbers), math.lcm(*numbers)
    listed = ", ".join(f"${x}$" for x in numbers[:-1]) + f"{',' if count > 2 else ''} and ${numbers[-1]}$"
    if difficulty == 1 or (difficulty == 3 and rng.random() < 0.5):
        value, check, what = g, sympy.gcd(list(numbers)), "greatest common divisor"
        question = f"What is the greatest common divisor of {listed}?"
    elif difficulty == 4:
        value, check, what = g + lcm, sympy.gcd(*numbers) + sympy.lcm(*numbers), "gcd + lcm"
        question = f"What is the sum of the greatest common divisor and the least common multiple of {listed}?"
    else:
        value, check, what = lcm, sympy.lcm(list(numbers)), "least common multiple"
        question = f"What is the least common multiple of {listed}?"
    _agree(Fraction(value), check, f"{what} of {numbers}")
    return _Draft(question, Fraction(value), {"type": what, "numbers": numbers})


def sequences(rng: random.Random, difficulty: int) -> _Draft:
    """Arithmetic sequences (1-3), geometric sums (4), second-order linear recurrences (5)."""
    if difficulty <= 3:
        first, step = rng.randint(-10, 20), rng.choice([d for d in range(-7, 10) if d != 0])
        shown = [first + i * step for i in range(4)]
        terms = ", ".join(map(str, shown))
        if difficulty == 1:
            position, value = 5, shown[-1] + step
            question = f"What is the next term of the arithmetic sequence ${terms}, \\ldots$?"
        elif difficulty == 2:
            position = rng.randint(10, 50)
            value = first + (position - 1) * step
            question = f"What is the ${position}$th term of the arithmetic sequence ${terms}, \\ldots$?"
        else:
            position = rng.randint(10, 60)
            value = position * (2 * first + (position - 1) * step) // 2
            question = f"What is the sum of the first ${position}$ terms of the arithmetic sequence ${terms}, \\ldots$?"
        walk = list(itertools.accumulate([first] + [step] * (position - 1)))
        check = walk[-1] if difficulty < 3 else sum(walk)
        meta = {"type": "arithmetic", "terms": shown, "position": position}
    elif difficulty == 4:
        first, ratio, count = rng.randint(1, 9), rng.choice([-3, -2, 2, 3, 4, 5]), rng.randint(6, 12)
        shown = [first * ratio**i for i in range(3)]
        value = first * (ratio**count - 1) // (ratio - 1)
        check = sum(itertools.accumulate([first] + [ratio] * (count - 1), lambda term, r: term * r))
        question = (
            f"What is the sum of the first ${count}$ terms of the geometric sequence "
            f"${', '.join(map(str, shown))}, \\ldots$?"
        )
        meta = {"type": "geometric", "terms": shown, "position": count}
    else:
        a1, a2 = rng.randint(-5, 9), rng.randint(-5, 9)
        p, q = rng.choice([d for d in range(-3, 4) if d]), rng.choice([d for d in range(-3, 4) if d])
        position = rng.randint(8, 12)
        seq = [a1, a2]
        while len(seq) < position:
            seq.append(p * seq[-1] + q * seq[-2])
        value = seq[position - 1]
        step = sympy.Matrix([[p, q], [1, 0]]) ** (position - 2) * sympy.Matrix([a2, a1])
        check = step[0]
        recurrence = _signed_terms([(p, "a_{n-1}"), (q, "a_{n-2}")])
        question = (
            f"A sequence satisfies $a_1 = {a1}$, $a_2 = {a2}$, and $a_n = {recurrence}$ for $n \\ge 3$. "
            f"What is $a_{{{position}}}$?"
        )
        meta = {"type": "recurrence", "initial": [a1, a2], "coefficients": [p, q], "position": position}
    _agree(Fraction(value), check, f"sequences {meta}")
    return _Draft(question, Fraction(value), meta)


KINDS: dict[str, Generator] = {
    "arithmetic": arithmetic,
    "fractions": fractions,
    "linear": linear,
    "modular": modular,
    "counting": counting,
    "gcd_lcm": gcd_lcm,
    "sequences": sequences,
}


# ---------------------------------------------------------------- public entry point


def generate(kind: str, difficulty: int, n: int, seed: int) -> list[GeneratedProblem]:
    """Generate n distinct problems of one kind ("mixed" cycles through KINDS) at a difficulty 1..5."""
    if kind != MIXED and kind not in KINDS:
        known = ", ".join([*KINDS, MIXED])
        raise ValueError(f"unknown problem kind {kind!r}; known kinds: {known}")
    if isinstance(difficulty, bool) or not isinstance(difficulty, int) or not 1 <= difficulty <= 5:
        raise ValueError(f"difficulty must be an integer from 1 to 5, got {difficulty!r}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    kinds = list(KINDS)
    seen: set[str] = set()
    problems: list[GeneratedProblem] = []
    for index in range(n):
        actual = kinds[index % len(kinds)] if kind == MIXED else kind
        for attempt in range(MAX_ATTEMPTS):
            rng = random.Random(f"{kind}|{actual}|{difficulty}|{seed}|{index}|{attempt}")
            draft = KINDS[actual](rng, difficulty)
            if draft.question not in seen:
                break
        else:
            raise ValueError(
                f"could not find a new {actual} problem at difficulty {difficulty} for index {index} "
                f"after {MAX_ATTEMPTS} draws; ask for fewer problems or a higher difficulty"
            )
        seen.add(draft.question)
        answer, answer_kind = format_answer(draft.answer)
        problems.append(
            GeneratedProblem(
                question=draft.question,
                answer=answer,
                kind=actual,
                difficulty=difficulty,
                seed=seed,
                index=index,
                answer_kind=answer_kind,
                meta={**draft.meta, "attempt": attempt},
            )
        )
    return problems
