"""Answer policies: which places in a response may supply its final answer, and whether a cut-off
response may be credited. The policy's name is recorded with every verdict and printed next to every
accuracy, so numbers read under different rules are never compared unknowingly.

Where an answer came from (`answer_source`, stored with every verdict):
    box          the last \\boxed{}/\\fbox{} (or the last few, for a several-part gold)
    anchor       after "the final answer is", "Answer:", "####"
    bare         the whole prediction is a short answer (e.g. a `grade` row "3/4")
    statement    the closing statement of a finished response ("So the radius is 7 cm.")
    choice       a multiple-choice letter stated in prose ("so I'd go with B")
    last_number  the last number anywhere in the text (harness policy only)
    none         nothing was read (or the response was cut off)
"""

from __future__ import annotations

from dataclasses import dataclass

BOX, ANCHOR, BARE, STATEMENT, CHOICE, LAST_NUMBER, NONE = (
    "box",
    "anchor",
    "bare",
    "statement",
    "choice",
    "last_number",
    "none",
)
SOURCES = (BOX, ANCHOR, BARE, STATEMENT, CHOICE, LAST_NUMBER, NONE)


@dataclass(frozen=True)
class AnswerPolicy:
    name: str
    statements: bool  # read the closing statement of a finished response (and MC letters in prose)
    last_number: bool  # fall back to the last number of the text, as the Qwen-style harnesses do
    credit_cut_off: bool  # a response cut off (length limit, unfinished thought or sentence) may count
    help: str

    @property
    def sources(self) -> tuple[str, ...]:
        out = [BOX, ANCHOR, BARE]
        if self.statements:
            out += [STATEMENT, CHOICE]
        if self.last_number:
            out.append(LAST_NUMBER)
        return tuple(out)


POLICIES: dict[str, AnswerPolicy] = {
    p.name: p
    for p in (
        AnswerPolicy(
            "strict",
            statements=False,
            last_number=False,
            credit_cut_off=False,
            help="boxes, answer anchors and bare answers only",
        ),
        AnswerPolicy(
            "default",
            statements=True,
            last_number=False,
            credit_cut_off=False,
            help="strict + the closing statement of a finished response and MC letters in prose",
        ),
        AnswerPolicy(
            "harness",
            statements=True,
            last_number=True,
            credit_cut_off=True,
            help="default + the last number of the text, cut-off responses included "
            "(reproduces Qwen-style harness numbers)",
        ),
    )
}
DEFAULT_POLICY = "default"


def get_policy(name: str | AnswerPolicy | None) -> AnswerPolicy:
    if isinstance(name, AnswerPolicy):
        return name
    name = name or DEFAULT_POLICY
    try:
        return POLICIES[name]
    except KeyError:
        raise ValueError(f"unknown answer policy {name!r} (expected one of {', '.join(POLICIES)})") from None
