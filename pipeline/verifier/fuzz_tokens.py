"""The alphabet of hostile LaTeX-ish fragments that fuzzes the verifier: single characters, LaTeX commands,
answer markers and reasoning tags, cue phrases, number words and unbalanced braces.

Nothing in the verifier reads it: the hypothesis tests (tests/unit/test_verifier_safety.py) draw answers
from it, and bench/verify_fuzz.py's ``tokens`` family strings seeded choices of it (so its order is part of
that bench's reproducible item set: append, do not reorder).
"""

from __future__ import annotations

TOKENS = list("\\{}^_$()[],.=<>+-*/%!0123456789abcxyzABC \n") + [
    "\\frac",
    "\\sqrt",
    "\\boxed{",
    "\\text{",
    "\\begin{pmatrix}",
    "\\end{pmatrix}",
    "\\infty",
    "\\pi",
    "\\cup",
    "\\le",
    "\\%",
    "\\$",
    "<|begin_of_solution|>",
    "<|end_of_solution|>",
    "<think>",
    "</think>",
    "The answer is ",
    "Answer: ",
    "Therefore, the value is ",
    " is ",
    " = ",
    "\\ldots",
    "...",
    "€",
    "\\!",
    "three",
    "twenty-four",
    "so I'd go with B",
    "\\fbox{",
    "}",
    "{",
    "\\left(",
    "\\right)",
]
