"""Where two rollouts of a problem part ways: their thought steps aligned, and the first step that differs.

Steps are normalised (case, whitespace, math delimiters) and matched fuzzily: each step of A has the
identity of its text (repeats share one), and each step of B takes the identity of its most similar
step of A whose rapidfuzz ``ratio`` reaches ``SAME_STEP`` (ours: 85) and that has the same numbers in
the same order ("2x = 4" and "2x = 5" are 92% alike and not the same step), else one of its own.
difflib's SequenceMatcher then aligns the two identity sequences, so the alignment keeps the steps'
order and tolerates small rewordings. Replaced blocks are paired row by row; what is left over shows
on one side only.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

SAME_STEP = 85  # rapidfuzz ratio (0-100) from which two steps count as the same step

_DELIMS = re.compile(r"\\[()\[\]]|\$+")
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def normalise(step: str) -> str:
    return _SPACE.sub(" ", _DELIMS.sub(" ", step.lower())).strip()


@dataclass(frozen=True)
class Row:
    """One line of the alignment: step indexes on each side (None: nothing there) and how they relate."""

    kind: str  # same | changed | left | right
    a: int | None
    b: int | None
    score: int  # similarity 0-100 of the two steps (0 when one side is empty)


@dataclass(frozen=True)
class Alignment:
    rows: list[Row]

    @property
    def first_divergence(self) -> int | None:
        """Index of the first row that is not the same step on both sides (None: identical)."""
        return next((i for i, r in enumerate(self.rows) if r.kind != "same"), None)

    @property
    def shared_prefix(self) -> int:
        first = self.first_divergence
        return len(self.rows) if first is None else first

    def blocks(self) -> list[int]:
        """First row of every run of differing rows (the places a reader jumps between)."""
        return [i for i, r in enumerate(self.rows) if r.kind != "same" and (i == 0 or self.rows[i - 1].kind == "same")]


def align(a: list[str], b: list[str], same_step: int = SAME_STEP) -> Alignment:
    import numpy as np
    from rapidfuzz import fuzz, process

    na, nb = [normalise(s) for s in a], [normalise(s) for s in b]
    numbers_a, numbers_b = [_NUMBER.findall(s) for s in na], [_NUMBER.findall(s) for s in nb]
    # A step's identity is its normalised text's (repeated steps such as "- ..." are one identity, so the
    # matcher can pair the n-th repeat with the n-th repeat); B borrows the identity of its closest A step.
    first_seen: dict[str, int] = {}
    ids_a = [first_seen.setdefault(s, i) for i, s in enumerate(na)]
    scores, ids_b = None, [-1 - j for j in range(len(nb))]
    if na and nb:
        scores = process.cdist(na, nb, scorer=fuzz.ratio, dtype=np.uint8, workers=1)
        for j in range(len(nb)):
            close = np.flatnonzero(scores[:, j] >= same_step)
            for i in close[np.argsort(-scores[close, j], kind="stable")]:
                if numbers_a[i] == numbers_b[j]:
                    ids_b[j] = ids_a[i]
                    break

    def score(i: int, j: int) -> int:
        return int(scores[i, j]) if scores is not None else 0

    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(None, ids_a, ids_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows += [Row("same", i1 + k, j1 + k, score(i1 + k, j1 + k)) for k in range(i2 - i1)]
            continue
        paired = min(i2 - i1, j2 - j1)
        rows += [Row("changed", i1 + k, j1 + k, score(i1 + k, j1 + k)) for k in range(paired)]
        rows += [Row("left", i, None, 0) for i in range(i1 + paired, i2)]
        rows += [Row("right", None, j, 0) for j in range(j1 + paired, j2)]
    return Alignment(rows)
