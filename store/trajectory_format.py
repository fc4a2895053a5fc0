"""The one parser for model responses: split a trajectory into thought and solution.

Two layouts are understood:

* STILL-2 / Sky-T1 (``style="still"``)::

      <|begin_of_thought|>\\n\\n{steps separated by blank lines}\\n\\n<|end_of_thought|>\\n\\n
      <|begin_of_solution|>\\n\\n{solution}\\n\\n<|end_of_solution|>

* R1 / QwQ / Qwen3 (``style="r1"``): ``<think>{thought}</think>{solution}``; the
  opening ``<think>`` may be missing (Qwen3 chat templates put it in the prompt).

Anything else is ``style="untagged"``.

Servers that split the reasoning out of the answer (the DeepSeek API's ``reasoning_content``,
vLLM / sglang with a reasoning parser, ``reasoning`` in some exports) are put back into the STILL
layout by ``with_reasoning`` before anything is parsed or stored: the reasoning is the thought and
the content is the solution.

Nothing is repaired: ``thought`` and ``solution`` are always exact substrings of the
input with only surrounding whitespace stripped, and every irregularity becomes a flag.

Section values
--------------
``None`` means the section does not exist in the response; ``""`` means its tags
exist but enclose only whitespace (flagged ``empty_thought`` / ``empty_solution``).
A region bounded by none of its own tags (the text before ``<|begin_of_solution|>``
when both thought tags are missing, the text after the end-of-thought tag when both
solution tags are missing, or a whole untagged response) is a section only if it is
not blank; otherwise the section is ``None``.

Where sections start and end (first occurrences, scanning forward):
the thought starts after the begin-thought tag (or at offset 0 if that tag is absent)
and ends at the first end-thought, begin-solution or end-solution tag after it (or at
the end of the text). The solution starts after the next begin-solution tag (or right
where the thought ended if that tag is absent) and ends at the next end-solution tag
(or at the end of the text).

Untagged text (no STILL tag and no ``<think>``/``</think>``): the whole text is the
thought, there is no solution. Flags: ``no_tags`` + ``missing_solution`` (and
``missing_thought`` instead of a thought if the text is blank).

Flags (a tuple, in the order listed here)
-----------------------------------------
``no_tags``               none of the STILL tags nor ``<think>``/``</think>`` occurs.
``r1_think``              parsed from the R1 ``<think>`` layout.
``mixed_tags``            both STILL tags and ``<think>``/``</think>`` occur; STILL tags win,
                          the think tags stay inside the content.
``missing_begin_thought`` the begin-thought tag occurs nowhere (STILL or ``<think>``).
``missing_end_thought``   the end-thought tag occurs nowhere (STILL or ``</think>``).
``missing_begin_solution`` STILL only: ``<|begin_of_solution|>`` occurs nowhere.
``missing_end_solution``  STILL only: ``<|end_of_solution|>`` occurs nowhere.
``missing_thought``       ``thought is None``.
``missing_solution``      ``solution is None`` (e.g. output stopped right after the thought;
                          a later step can generate the solution from ``thought_prefix``).
``truncated``             the text ends inside an opened section that was never closed:
                          after a begin-thought tag with no later tag, or after a
                          begin-solution tag with no later end-solution tag.
``empty_thought``         ``thought == ""``.
``empty_solution``        ``solution == ""``.
``text_before_thought``   non-blank text precedes the begin-thought tag.
``text_between_sections`` non-blank text between the end-thought and begin-solution tags
                          (it belongs to neither section).
``text_after_solution``   non-blank text follows the end-solution tag.
``tags_out_of_order``     the first occurrences of the tags present are not in layout order.
``repeated_tags``         some tag occurs more than once.

Invariants: ``thought is None`` iff ``missing_thought`` is flagged, ``solution is None``
iff ``missing_solution`` is flagged, and ``parse_response(to_still(t, s))`` returns
``(t, s)`` with no flags for any whitespace-stripped, tag-free ``t`` and ``s``.

Real data (Sky-T1 outputs in ``shared/data/trajectories``): every response starts with
``<|begin_of_thought|>``; well-formed ones end with ``<|end_of_solution|>``; the rest
were cut at the length limit inside the thought (``missing_end_thought``,
``missing_begin_solution``, ``missing_end_solution``, ``missing_solution``, ``truncated``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BEGIN_THOUGHT = "<|begin_of_thought|>"
END_THOUGHT = "<|end_of_thought|>"
BEGIN_SOLUTION = "<|begin_of_solution|>"
END_SOLUTION = "<|end_of_solution|>"
BEGIN_THINK = "<think>"
END_THINK = "</think>"

STILL_TAGS = (BEGIN_THOUGHT, END_THOUGHT, BEGIN_SOLUTION, END_SOLUTION)
THINK_TAGS = (BEGIN_THINK, END_THINK)

FLAGS = (
    "no_tags",
    "r1_think",
    "mixed_tags",
    "missing_begin_thought",
    "missing_end_thought",
    "missing_begin_solution",
    "missing_end_solution",
    "missing_thought",
    "missing_solution",
    "truncated",
    "empty_thought",
    "empty_solution",
    "text_before_thought",
    "text_between_sections",
    "text_after_solution",
    "tags_out_of_order",
    "repeated_tags",
)

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


@dataclass(frozen=True)
class ParsedResponse:
    """A response split into sections; see the module docstring for the semantics."""

    thought: str | None
    solution: str | None
    flags: tuple[str, ...]
    style: str  # "still" | "r1" | "untagged"

    @property
    def steps(self) -> list[str]:
        """Thought steps: the thought split on blank lines, each stripped, empty ones dropped."""
        if not self.thought:
            return []
        return [step.strip() for step in _BLANK_LINE.split(self.thought) if step.strip()]

    @property
    def well_formed(self) -> bool:
        """True when the response follows its layout exactly (no flag besides ``r1_think``)."""
        return set(self.flags) <= {"r1_think"}


def _find(text: str, tag: str | None, start: int) -> int:
    return -1 if tag is None else text.find(tag, start)


def _parse_tagged(
    text: str,
    begin_thought: str,
    end_thought: str,
    begin_solution: str | None,
    end_solution: str | None,
) -> tuple[str | None, str | None, set[str]]:
    """Split ``text`` on the given tags (the solution tags are None for the R1 layout)."""
    flags: set[str] = set()
    tags = [t for t in (begin_thought, end_thought, begin_solution, end_solution) if t is not None]
    for tag, name in zip(tags, ("begin_thought", "end_thought", "begin_solution", "end_solution")):
        if tag not in text:
            flags.add(f"missing_{name}")
    if any(text.count(tag) > 1 for tag in tags):
        flags.add("repeated_tags")
    first = [text.find(tag) for tag in tags if tag in text]
    if first != sorted(first):
        flags.add("tags_out_of_order")

    # Thought section.
    bt = text.find(begin_thought)
    if bt >= 0:
        if text[:bt].strip():
            flags.add("text_before_thought")
        thought_start = bt + len(begin_thought)
    else:
        thought_start = 0
    ends = [
        (pos, tag)
        for tag in (end_thought, begin_solution, end_solution)
        if (pos := _find(text, tag, thought_start)) >= 0
    ]
    thought_bounded = bt >= 0
    if ends:
        thought_end, closer = min(ends)
        thought_region = text[thought_start:thought_end]
        if closer == end_thought:
            cursor = thought_end + len(end_thought)
            thought_bounded = True
        else:
            cursor = thought_end
    else:
        thought_region = text[thought_start:]
        cursor = len(text)
        if bt >= 0:
            flags.add("truncated")
    thought = _section(thought_region, thought_bounded)

    # Solution section.
    bs = _find(text, begin_solution, cursor)
    if bs >= 0:
        if text[cursor:bs].strip():
            flags.add("text_between_sections")
        solution_start = bs + len(begin_solution)
    else:
        solution_start = cursor
    es = _find(text, end_solution, solution_start)
    if es >= 0:
        solution_region = text[solution_start:es]
        if text[es + len(end_solution) :].strip():
            flags.add("text_after_solution")
    else:
        solution_region = text[solution_start:]
        if bs >= 0:
            flags.add("truncated")
    solution = _section(solution_region, bs >= 0 or es >= 0)
    return thought, solution, flags


def _section(region: str, bounded: bool) -> str | None:
    """A region bounded by one of its own tags is a section even if blank; otherwise only if not blank."""
    stripped = region.strip()
    if bounded or stripped:
        return stripped
    return None


def parse_response(text: str) -> ParsedResponse:
    """Split a model response into thought and solution, flagging every irregularity."""
    has_still = any(tag in text for tag in STILL_TAGS)
    has_think = any(tag in text for tag in THINK_TAGS)
    flags: set[str] = set()
    if has_still:
        style = "still"
        thought, solution, flags = _parse_tagged(text, *STILL_TAGS)
        if has_think:
            flags.add("mixed_tags")
    elif has_think:
        style = "r1"
        thought, solution, flags = _parse_tagged(text, BEGIN_THINK, END_THINK, None, None)
        flags.add("r1_think")
    else:
        style = "untagged"
        thought, solution = _section(text, bounded=False), None
        flags.add("no_tags")
    if thought is None:
        flags.add("missing_thought")
    elif thought == "":
        flags.add("empty_thought")
    if solution is None:
        flags.add("missing_solution")
    elif solution == "":
        flags.add("empty_solution")
    return ParsedResponse(
        thought=thought,
        solution=solution,
        flags=tuple(f for f in FLAGS if f in flags),
        style=style,
    )


def to_still(thought: str | None, solution: str | None) -> str:
    """Format sections in the STILL-2 layout; a ``None`` section is left out entirely.

    ``to_still(thought, None)`` is the thought block alone, ending with the end-thought
    tag, i.e. a prefix a model can continue with the solution.
    """
    if thought is None and solution is None:
        raise ValueError("to_still needs a thought or a solution (both are None)")
    parts = []
    if thought is not None:
        parts.append(f"{BEGIN_THOUGHT}\n\n{thought}\n\n{END_THOUGHT}")
    if solution is not None:
        parts.append(f"{BEGIN_SOLUTION}\n\n{solution}\n\n{END_SOLUTION}")
    return "\n\n".join(parts)


def with_reasoning(content: str | None, reasoning: str | None, *, truncated: bool = False) -> str:
    """One response in the STILL layout from a split answer: ``reasoning`` is the thought, ``content`` the solution.

    Without a (non-blank) reasoning the content is returned unchanged. A content that carries tags of
    its own contributes its solution section (and any thought section it has is appended to the
    reasoning). With ``truncated`` (the generation hit its length limit) and no content, the thought
    is left open, so the parse flags it ``truncated`` instead of pretending the thought was finished.
    """
    content = content or ""
    if reasoning is None or not reasoning.strip():
        return content
    thought = reasoning.strip()
    solution: str | None = content.strip() or None
    if solution is not None and (any(t in content for t in STILL_TAGS) or any(t in content for t in THINK_TAGS)):
        parsed = parse_response(content)
        if parsed.thought and parsed.style != "untagged":
            thought = f"{thought}\n\n{parsed.thought}"
        solution = parsed.solution
    if solution is None and truncated:
        return f"{BEGIN_THOUGHT}\n\n{thought}"
    return to_still(thought, solution)


def convert_r1(text: str) -> tuple[str, ParsedResponse]:
    """Convert an R1/QwQ/Qwen3 ``<think>`` response to the STILL layout.

    Returns the STILL text and the parse of the *original* text, whose flags say what
    was missing (``missing_begin_thought`` for Qwen3-style output without ``<think>``,
    ``missing_solution`` when nothing follows ``</think>``, ``truncated`` when
    ``</think>`` never came). Text without any tag is taken as a thought (``no_tags``).
    A response already in the STILL layout is re-emitted from its parsed sections.
    """
    parsed = parse_response(text)
    if parsed.thought is None and parsed.solution is None:
        raise ValueError("convert_r1: response is blank, nothing to convert")
    return to_still(parsed.thought, parsed.solution), parsed


def thought_prefix(text: str) -> str | None:
    """The response cut right after the first end-of-thought tag, or None if it has none.

    ``<|end_of_thought|>`` is used; for R1-style text without it, ``</think>``.
    """
    for tag in (END_THOUGHT, END_THINK):
        pos = text.find(tag)
        if pos >= 0:
            return text[: pos + len(tag)]
    return None
