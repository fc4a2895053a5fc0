"""The Verdict record every grading call returns, and the short rule ids that can decide one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Rule ids. A verdict names the one rule that decided it.
EXACT = "exact"  # canonical strings identical
NUMERIC = "numeric"  # both sides plain numbers, compared as exact rationals (decimals with tolerance)
MATH_VERIFY = "math_verify"  # math-verify / sympy decided (worker process)
IDENTITY = "identity"  # expressions in variables compared at fixed sample points (60-digit arithmetic)
STRUCTURE = "structure"  # an ordered tuple/interval against an unordered set
MC_LETTER = "mc_letter"  # multiple-choice letters compared
NO_ANSWER = "no_answer"  # nothing extractable from the prediction (or the gold)
CUT_OFF = "cut_off"  # the response was cut off (length limit, unfinished thought or sentence): no credit
TIMEOUT = "timeout"  # the comparison hit its hard deadline
UNPARSEABLE = "unparseable"  # too long, too large, or not mathematics we can read
ERROR = "error"  # the worker crashed or raised; never counted as equal

RULES = (EXACT, NUMERIC, IDENTITY, STRUCTURE, MATH_VERIFY, MC_LETTER, NO_ANSWER, CUT_OFF, TIMEOUT, UNPARSEABLE, ERROR)


@dataclass
class Verdict:
    equal: bool
    extracted: str | None
    gold: str | None
    reason: str
    rule: str
    answer_source: str = "none"  # where the prediction's answer was read: policy.SOURCES

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
