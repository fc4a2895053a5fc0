"""Answer verifier: extract final answers from model outputs and decide equivalence with the gold answer.

Fast paths (canonical strings, numbers, choice letters) run in-process; the symbolic comparison
(math-verify + sympy) runs in worker processes under a hard per-item timeout. Every verdict carries the
extracted prediction, the extracted gold, a human-readable reason and the id of the deciding rule.
"""
from __future__ import annotations

from .extract import extract_answer
from .grader import grade, grade_many
from .jsonl import GradeInputError, grade_file
from .verdict import Verdict

# Bump when a change can flip a verdict: stored verdicts with an older version get re-verified.
VERIFIER_VERSION = "1.0.0"

__all__ = ["VERIFIER_VERSION", "Verdict", "extract_answer", "grade", "grade_many", "grade_file", "GradeInputError"]
