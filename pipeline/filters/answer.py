"""Rule ``no_answer``: the solution states no final answer (no \\boxed{}, no "the answer is"; for code
problems: no program in the solution)."""

from __future__ import annotations

import re

from pipeline.filters.base import Rule, register

_FALLBACK = re.compile(r"\\(?:boxed|fbox)\s*\{|answer\s+is|final\s+answer", re.I)


def _extractor():
    try:
        from pipeline.verifier import extract_answer
    except ImportError:  # the verifier package is optional at this layer
        return None
    return extract_answer


def check_no_answer(row: dict, p: dict) -> str | None:
    """Answer missing: no extractable final answer in the solution section.

    Uses ``pipeline.verifier.extract_answer`` (with the problem's answer kind) when available,
    else a ``\\boxed{`` / "answer is" search. A short solution taken whole as a "bare" answer
    does not count as stating one. A response without a solution section is flagged too (with
    ``require_solution``), since there is nothing to take the answer from.
    """
    solution = row.get("solution")
    if solution is None or not solution.strip():
        return "no solution section to take a final answer from" if p["require_solution"] else None
    extract = _extractor()
    if extract is None:
        return None if _FALLBACK.search(solution) else "no \\boxed{} or 'answer is' in the solution"
    kind = row.get("answer_kind") or "math"
    if kind == "code":  # the answer is a program: the solution's last code block
        from pipeline.verifier.code_extract import extract_program

        found = extract_program(solution)
        return None if found.program is not None else f"no program in the solution ({found.note})"
    answer = extract(solution, kind if kind in ("math", "mc", "int") else "math")
    if answer is not None and answer.strip() != solution.strip():
        return None
    return "no \\boxed{} or final-answer statement in the solution"


RULE = register(
    Rule(
        name="no_answer",
        check=check_no_answer,
        defaults={"require_solution": True},
        columns=("solution", "answer_kind"),
    )
)
