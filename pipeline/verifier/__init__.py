"""Answer verifier: extract final answers from model outputs and decide equivalence with the gold answer.

Fast paths (canonical strings, numbers, choice letters) run in-process; the symbolic comparison
(math-verify + sympy) runs in worker processes under a hard per-item timeout. Every verdict carries the
extracted prediction, the extracted gold, a human-readable reason, the id of the deciding rule and where the
answer was read (`answer_source`), under an answer policy (strict / default / harness, see policy.py).
"""

from __future__ import annotations

from .extract import Extraction, cut_off_reason, extract, extract_answer
from .grader import grade, grade_many
from .jsonl import GradeInputError, grade_file
from .policy import DEFAULT_POLICY, POLICIES, SOURCES, AnswerPolicy, get_policy
from .verdict import Verdict

# Bump when a change can flip a verdict: stored verdicts with an older version get re-verified.
VERIFIER_VERSION = "2.0.1"


def verdict_columns(verdict: Verdict, policy: str) -> dict[str, str | None]:
    """The trajectory columns a verdict fills when a new rollout is stored (explore, distill, complete)."""
    return {
        "extracted": verdict.extracted,
        "verdict": "correct" if verdict.equal else "incorrect",
        "verdict_reason": verdict.reason,
        "answer_source": verdict.answer_source,
        "answer_policy": policy,
        "verdict_rule": verdict.rule,
        "verifier_version": VERIFIER_VERSION,
    }


__all__ = [
    "VERIFIER_VERSION",
    "Verdict",
    "verdict_columns",
    "Extraction",
    "extract",
    "extract_answer",
    "cut_off_reason",
    "grade",
    "grade_many",
    "grade_file",
    "GradeInputError",
    "AnswerPolicy",
    "POLICIES",
    "DEFAULT_POLICY",
    "SOURCES",
    "get_policy",
]
