"""Overthinking in a thought: where the correct answer first appears, and how often the thought re-checks.

*First correct answer.* Candidate answers are collected in text order from the thought (ours, a
heuristic): every ``\\boxed{}`` (``boxed``); the last math span or number of a sentence that mentions
"answer" (``answer``); and that of a sentence that concludes (so / thus / therefore / hence / that
gives / which gives) when it ends its step and the next step opens by re-checking ("Wait", "Let me
verify", "Alternatively", ...) or there is no next step (``conclusion``): a thought that reaches a
result and then doubts it. Intermediate results ("So 5^10 mod 10 = 5. Next, ...") are not candidates.
Each candidate is graded against the gold answer by the verifier (``pipeline.verifier.grade_many``: the
same extraction and equivalence, with its hard timeouts), earliest first, until one is equal. What
the thought writes after that candidate is what a length-control curator wants to see.

*Re-checks.* ``RECHECKS`` is the registry of phrase kinds a thought uses to re-examine itself; a
single combined pattern counts each occurrence once, under one kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# kind -> pattern (case-insensitive, matched on word boundaries). Add a kind here to count it.
RECHECKS: dict[str, str] = {
    "wait": r"\bwait\b",
    "double_check": r"\bdouble[- ]?check",
    "verify": (
        r"\blet(?:'s| me| us)\s+(?:verify|check|confirm|make sure|re-?check|re-?examine|re-?evaluate"
        r"|reconsider|re-?calculate|re-?compute|re-?verify|see if|test)\b"
    ),
    "alternatively": r"\balternatively\b",
    "another_way": r"\b(?:another|different|other)\s+(?:way|approach|method)\b",
    "hmm": r"\bhmm+\b",
    "second_thought": r"\bon second thought\b",
}
_RECHECK = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in RECHECKS.items()), re.IGNORECASE)


def count_rechecks(text: str) -> dict[str, int]:
    """Occurrences of each re-check kind (kinds with none are left out)."""
    counts: dict[str, int] = {}
    for m in _RECHECK.finditer(text or ""):
        counts[m.lastgroup] = counts.get(m.lastgroup, 0) + 1
    return counts


_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?](?!\d)|\n|$)")
_ANSWER = re.compile(r"\banswer\b", re.IGNORECASE)
_CONCLUDES = re.compile(r"^\W*(?:so|thus|therefore|hence|that gives|which gives)\b", re.IGNORECASE)
_STEP_END = re.compile(r"[ \t]*(?:\n[ \t]*\n|$)")
DOUBT_WINDOW = 40  # characters at the start of the next step where a re-check phrase counts


def _doubted_after(thought: str, end: int) -> bool:
    """The sentence ending at ``end`` closes its step, and the next step opens with a re-check (or none follows)."""
    gap = _STEP_END.match(thought, end)
    if gap is None:
        return False
    rest = thought[gap.end() :].lstrip()
    return not rest or _RECHECK.search(rest[:DOUBT_WINDOW]) is not None


_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
_NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:/\d+)?(?![\w])")
MAX_CANDIDATE_CHARS = 200


@dataclass(frozen=True)
class Candidate:
    text: str
    start: int
    end: int  # the thought continues after this character
    how: str  # boxed | answer | conclusion


def candidates(thought: str) -> list[Candidate]:
    """Candidate answers of a thought in text order (see the module docstring)."""
    from pipeline.verifier.latex import find_boxes

    found = [
        Candidate(content, start, end, "boxed")
        for content, start, end in find_boxes(thought)
        if content.strip() and len(content) <= MAX_CANDIDATE_CHARS
    ]
    for m in _SENTENCE.finditer(thought):
        sentence = m.group(0)
        how = "answer" if _ANSWER.search(sentence) else "conclusion" if _CONCLUDES.search(sentence) else None
        # a sentence without a full stop keeps its line break: the step may end just before it
        if how == "conclusion" and not _doubted_after(thought, m.end() - sentence.endswith("\n")):
            continue
        if how is None:
            continue
        maths = [next(g for g in mm.groups() if g is not None) for mm in _MATH.finditer(sentence)]
        value = maths[-1] if maths else None
        if value is None:
            numbers = _NUMBER.findall(_MATH.sub(" ", sentence))
            value = numbers[-1] if numbers else None
        if value and value.strip() and len(value) <= MAX_CANDIDATE_CHARS:
            found.append(Candidate(value.strip(), m.start(), m.end(), how))
    found.sort(key=lambda c: (c.end, c.start))
    return found


def first_correct(
    thought: str, gold: str, kind: str = "math", *, batch: int = 64, timeout: float = 5.0
) -> Candidate | None:
    """The earliest candidate answer of ``thought`` the verifier finds equal to ``gold`` (None: none is)."""
    from pipeline.verifier import grade_many

    if not thought or not gold:
        return None
    found = candidates(thought)
    for at in range(0, len(found), batch):
        chunk = found[at : at + batch]
        verdicts = grade_many([(gold, f"\\boxed{{{c.text}}}", kind) for c in chunk], timeout=timeout)
        for c, v in zip(chunk, verdicts):
            if v.equal:
                return c
    return None
