"""Answer kinds: the registry that maps a problem's `answer_kind` to the function grading a batch of it.

A kind names its grader as "module:function" so that registering costs no import: the math grader pulls
in its worker pool, a code grader its sandbox, only when a batch of that kind is graded. A grader takes
`(gold, pred_text, kind)` items (one grader may serve several kinds) plus the keyword options of
`grade_many` and returns one Verdict per item, in order. Adding a kind = one `register()` call. A kind whose
answers are read from prose (`reads_policy`) also gets each item's finish_reason (4-tuples) and the
answer policy (pipeline/verifier/policy.py).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Iterable

from store.prompting import BOXED_INSTRUCTION

from .verdict import Verdict

Item = tuple[str, str, str]  # (gold, pred_text, kind)
Grader = Callable[..., list[Verdict]]


@dataclass(frozen=True)
class AnswerKind:
    name: str
    grader: str  # "module:function"
    help: str
    prediction: str = "\\boxed{{{}}}"  # an extracted answer written back as a prediction (maj@k votes)
    reads_policy: bool = False  # the grader takes `policy=` and (gold, pred, kind, finish_reason) items
    # What the plain chain-of-thought instruction (BOXED_INSTRUCTION: eval's `cot` prompt, explore's
    # `--instruction boxed`) asks of this kind: a program is not put in \boxed{}.
    cot_instruction: str = BOXED_INSTRUCTION

    def as_prediction(self, extracted: str) -> str:
        return self.prediction.format(extracted)

    def load(self) -> Grader:
        module, _, func = self.grader.partition(":")
        return getattr(importlib.import_module(module), func)


KINDS: dict[str, AnswerKind] = {}


def instruction_for(instruction: str | None, kind: str | None) -> str | None:
    """The instruction appended to a question of this kind: the \\boxed{} one becomes the kind's own."""
    if instruction != BOXED_INSTRUCTION or not kind or kind not in KINDS:
        return instruction
    return KINDS[kind].cot_instruction


def register(kind: AnswerKind) -> None:
    KINDS[kind.name] = kind


def names() -> tuple[str, ...]:
    return tuple(KINDS)


def get(name: str) -> AnswerKind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown kind {name!r} (expected one of {', '.join(KINDS)})") from None


_MATH = "pipeline.verifier.grader:grade_answers"
register(
    AnswerKind(
        "math",
        _MATH,
        "a mathematical answer (\\boxed{}, anchors, statements), compared symbolically",
        reads_policy=True,
    )
)
register(AnswerKind("int", _MATH, "an integer answer (AIME): compared as integers", reads_policy=True))
register(AnswerKind("mc", _MATH, "a multiple-choice letter A-E", reads_policy=True))
register(
    AnswerKind(
        "code",
        "pipeline.verifier.code:grade_programs",
        "a program (last fenced code block) run against the problem's tests in the sandbox",
        prediction="```python\n{}\n```",
        cot_instruction="Please reason step by step, and put your final program in one ```python code block.",
    )
)


def grade_by_kind(
    items: Iterable[Item],
    *,
    workers: int | None = None,
    timeout: float = 5.0,
    progress: Callable[[int], None] | None = None,
    policy=None,
) -> list[Verdict]:
    """Grade items of any registered kinds: each grader gets its items in one batch; order preserved."""
    items = [
        (it[0], it[1], (it[2] if len(it) > 2 and it[2] else "math"), it[3] if len(it) > 3 else None) for it in items
    ]
    groups: dict[str, list[int]] = {}
    for i, (_, _, kind, _) in enumerate(items):
        groups.setdefault(get(kind).grader, []).append(i)
    out: list[Verdict | None] = [None] * len(items)
    finished = 0
    for _grader, idx in groups.items():
        base = finished

        def group_progress(n: int, base: int = base) -> None:
            if progress is not None:
                progress(base + n)

        kind = KINDS[items[idx[0]][2]]
        if kind.reads_policy:
            verdicts = kind.load()(
                [items[i] for i in idx], workers=workers, timeout=timeout, progress=group_progress, policy=policy
            )
        else:
            verdicts = kind.load()(
                [items[i][:3] for i in idx], workers=workers, timeout=timeout, progress=group_progress
            )
        for i, v in zip(idx, verdicts):
            out[i] = v
        finished += len(idx)
    if progress is not None and not items:
        progress(0)
    return out  # type: ignore[return-value]
