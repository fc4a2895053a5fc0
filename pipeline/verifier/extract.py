"""Answer extraction: find the final answer in a model output (or a worked gold solution) as a string."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .latex import find_boxes, last_box_group, last_boxed, match_brace, unwrap_commands
from .policy import ANCHOR, BARE, BOX, CHOICE, LAST_NUMBER, NONE, STATEMENT, AnswerPolicy, get_policy
from .statements import (
    choice_in_prose,
    closing_statement,
    last_number,
    mask_spans,
    math_spans,
    prose_words,
    read_value,
    value_of_sentence,
)

# Full outputs are scanned linearly; beyond this size only the tail is looked at.
MAX_TEXT_CHARS = 2_000_000
# Boxes and anchors are looked for in the last READ_WINDOW characters of a section: the final answer is
# at the end, and this bounds the time of one item whatever its size (a 2 MB run of `\boxed{` included).
READ_WINDOW = 262_144
# A "bare" prediction (no anchor, no box) is taken whole only if it is this short.
MAX_BARE_CHARS = 300

KINDS = ("math", "mc", "int")

_THOUGHT_TAGS = ("<|begin_of_thought|>", "<|end_of_thought|>", "<think>", "</think>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_ANCHORS = re.compile(
    r"(?:final\s+answer\s*(?:is|:|：|\*\*)|the\s+answer\s+is|answer\s*(?:is|:|：)|####)[ \t:：]*",
    re.IGNORECASE,
)
# Inside a long thought, "the answer is ..." is often a tentative guess; only these count there.
_STRONG_ANCHORS = re.compile(
    r"(?:final\s+answer\s*(?:is|:|：|\*\*)|^\W{0,4}answer\s*[:：]|####)[ \t:：]*",
    re.IGNORECASE | re.MULTILINE,
)
_TEXT_CMDS = ("\\textbf", "\\textit", "\\textrm", "\\text", "\\mathrm", "\\mathbf", "\\mbox", "\\emph")


def sanitize(text: str) -> str:
    """Drop control characters and keep at most the last MAX_TEXT_CHARS characters."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if len(text) > MAX_TEXT_CHARS:
        text = text[-MAX_TEXT_CHARS:]
    return _CONTROL.sub("", text)


def sections(text: str) -> list[str]:
    """Where to look, in order: the solution section (if any), then the whole text."""
    out = []
    b = text.rfind("<|begin_of_solution|>")
    if b >= 0:
        e = text.find("<|end_of_solution|>", b)
        out.append(text[b + len("<|begin_of_solution|>") : e if e >= 0 else len(text)])
    else:
        t = text.rfind("</think>")
        if t >= 0:
            out.append(text[t + len("</think>") :])
    out.append(text)
    return out


def _strip_math_delims(s: str) -> str:
    s = s.strip()
    for left, right in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
        if s.startswith(left) and s.endswith(right) and len(s) >= len(left) + len(right):
            return s[len(left) : len(s) - len(right)].strip()
    return s


def _after_anchor(rest: str) -> str | None:
    """The answer written right after an anchor such as 'The final answer is'."""
    rest = rest.lstrip(" \t*")
    if rest.startswith("\n"):
        # "Final Answer:\n\n$5$": take the next non-empty line
        lines = [ln.strip() for ln in rest.split("\n", 6)[:6] if ln.strip()]
        if not lines:
            return None
        rest = lines[0]
    rest = rest.lstrip(" \t*")
    for left, right in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
        if rest.startswith(left):
            j = rest.find(right, len(left))
            if j > len(left):
                return rest[len(left) : j].strip()
            return None
    line = rest.split("\n", 1)[0]
    if re.match(r"not\b", line, re.IGNORECASE):
        return None  # "the answer is not 5"
    # up to the end of the sentence: a period followed by a space/end, not a decimal point; or a correction
    m = re.search(r"\.(?:\s|$)|\s+(?:I hope|because|since|which)\b|,\s*not\b", line)
    if m:
        line = line[: m.start()]
    line = line.strip().rstrip("*").strip()
    # "25 apples" -> "25"; keep expressions such as "x = 3" or "4 4/9"
    m = re.match(r"^([-+]?\$?\d[\d,]*(?:\.\d+)?(?:\s+\d+/\d+)?%?)\s+[A-Za-z][A-Za-z ]*$", line)
    if m:
        return m.group(1)
    return line or None


def _anchored(section: str, strong_only: bool = False) -> str | None:
    last = None
    for m in (_STRONG_ANCHORS if strong_only else _ANCHORS).finditer(section):
        last = m
    if last is None:
        return None
    return _after_anchor(section[last.end() : last.end() + 2000])


def _truncated_thought(text: str) -> bool:
    """A thought that never ended (cut at the length limit): its guesses are not answers."""
    return ("<|begin_of_thought|>" in text and "<|end_of_thought|>" not in text) or (
        "<think>" in text and "</think>" not in text
    )


_WORD = re.compile(r"[A-Za-z]{3,}")
_COMMAND = re.compile(r"\\[A-Za-z]+")


def _looks_bare(text: str) -> bool:
    if len(text) > MAX_BARE_CHARS or any(t in text for t in _THOUGHT_TAGS) or "\n\n" in text.strip():
        return False
    words = _WORD.findall(_COMMAND.sub(" ", text))
    return len(words) <= 4


MAX_PARTS = 8  # boxes kept for a several-part gold ("\\boxed{(2,5)} for (a) and \\boxed{(0,1)} for (b)")


@dataclass(frozen=True)
class Extraction:
    """What a response's final answer is, where it was read (policy.SOURCES), and why nothing was read."""

    answer: str | None
    source: str = NONE
    boxes: tuple[str, ...] = ()  # the last boxes of the deciding section, in text order (source "box" only)
    cut_off: str | None = None  # why the response counts as cut off (then it gets no credit unless the policy says)


# A finished response ends with a sentence, a formula, a box or a closing tag; a cut one ends mid-word,
# after a comma, an operator or an opening bracket.
_FINISHED_END = re.compile(r"""[.!?)\]}$*"'”’%°|>0-9]\s*$""")


def cut_off_reason(text: str, finish_reason: str | None = None) -> str | None:
    """Why `text` counts as cut off, or None for a finished response. A cut-off response gets no credit
    (under the strict and default policies), wherever its text seems to answer:
      - the generator stopped at its length limit (finish_reason "length");
      - a thought was opened and never closed (<|begin_of_thought|> or <think> without its end);
      - a response (not a bare answer such as "odd") ends mid-sentence: its last line ends in a letter,
        a comma, an operator ... and holds no box or answer anchor ("Final answer: B" is finished).
    """
    if finish_reason == "length":
        return "cut off: the generation hit its length limit (finish_reason length)"
    if _truncated_thought(text):
        return "cut off: the thought never ended"
    if not _looks_bare(text):
        body = text.rstrip()
        for tag in ("<|end_of_solution|>", "</think>", "<|end_of_thought|>"):
            if body.endswith(tag):
                body = body[: -len(tag)].rstrip()
        last_line = body[body.rfind("\n") + 1 :]
        if (
            body
            and not _FINISHED_END.search(body[-3:])
            and not ("\\boxed" in last_line or "\\fbox" in last_line or _ANCHORS.search(last_line))
        ):
            return "cut off: the response ends mid-sentence"
    return None


def _is_prose(s: str) -> bool:
    """More than one word outside formulas: "The smallest $k$ is 17", not "x = 3" or "12 apples"."""
    return len(prose_words(s)) >= 2


_COPULA_WORD = re.compile(
    r"(?<![\\A-Za-z])(?:is|are|was|were|equals?|get|gets|getting|got|gives?|obtain|makes?|totals?|costs?)"
    r"(?![A-Za-z])",
    re.IGNORECASE,
)


def _short_statement(text: str) -> bool:
    """A short prediction written as a sentence ("So the radius is 7 cm.", "is 9"), not a bare answer with a
    connective ("x = 2 or x = 3", "2 and 3", "12 apples"): read it as a statement."""
    masked = mask_spans(text, math_spans(text))
    return len(prose_words(text)) >= 2 or bool(_COPULA_WORD.search(masked))


def _read_anchored(a: str) -> str:
    """The object an anchored sentence states ("Final Answer: The smallest $k$ is 17." -> 17)."""
    if _is_prose(a) and read_value(a) is None:
        v = value_of_sentence(a)
        if v is not None:
            return v
    return a


def extract(
    text: str, kind: str = "math", policy: str | AnswerPolicy | None = None, finish_reason: str | None = None
) -> Extraction:
    """The final answer of a model output (or a bare answer) with where it came from.

    kind "math"/"int": the last \\boxed{}/\\fbox{} of the solution section, then anchors ("the final answer is",
    "Answer:", "####"), then (policy default/harness) the closing statement of the solution section; the same
    in the whole text; a short text is taken as a bare answer; (policy harness) the last number.
    kind "mc": a choice letter (see extract_choice). A cut-off response yields nothing unless the policy
    credits cut-off responses (see cut_off_reason).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    pol = get_policy(policy)
    text = sanitize(text)
    cut = cut_off_reason(text, finish_reason)
    if cut and not pol.credit_cut_off:  # an empty output that hit the length limit is cut off too
        return Extraction(None, cut_off=cut)
    if not text.strip():
        return Extraction(None)
    if kind == "mc":
        return _extract_choice(text, pol, cut)
    secs = [sec[-READ_WINDOW:] for sec in sections(text)]
    for i, sec in enumerate(secs):
        boxes = find_boxes(sec)
        if boxes:
            b = ", ".join(x[0] for x in last_box_group(sec, boxes)).strip()
            if b:
                return Extraction(b, BOX, tuple(x[0] for x in boxes[-MAX_PARTS:]), cut)
        if i == len(secs) - 1 and len(sec) > MAX_BARE_CHARS:
            a = _anchored(sec, strong_only=True)
            if a is None and not _truncated_thought(sec):
                a = _anchored(sec[-500:])
        else:
            a = _anchored(sec)
        if a:
            return Extraction(_read_anchored(a), ANCHOR, cut_off=cut)
        if i == 0 and pol.statements and cut is None and not _looks_bare(text):
            v = closing_statement(sec)
            if v:
                return Extraction(v, STATEMENT)
    if _looks_bare(text) and "\\boxed" not in text and "\\fbox" not in text:
        if _short_statement(text):
            # a sentence is read as a statement (policy permitting) or not at all: never compared whole, where
            # a lenient parser would pick any number out of it ("So the answer is not 5.")
            v = closing_statement(text) if pol.statements and cut is None else None
            return Extraction(v, STATEMENT) if v else Extraction(None, cut_off=cut)
        bare = _strip_math_delims(text)
        if bare:
            return Extraction(bare, BARE, cut_off=cut)
    if pol.last_number and "\\boxed{" not in text[-MAX_BARE_CHARS:]:
        n = last_number(text)
        if n is not None:
            return Extraction(n, LAST_NUMBER, cut_off=cut)
    return Extraction(None, cut_off=cut)  # an empty or unclosed box is a broken answer, not a bare one


def extract_answer(
    text: str, kind: str = "math", policy: str | AnswerPolicy | None = None, finish_reason: str | None = None
) -> str | None:
    """The final answer of a model output (or a bare answer) as a string, or None (see extract)."""
    return extract(text, kind, policy, finish_reason).answer


def extract_gold(gold: str, kind: str = "math") -> str | None:
    """The answer inside a gold field: a bare answer, a GSM8K rationale ("#### 18") or a solution with \\boxed."""
    gold = sanitize(gold).strip()
    if not gold:
        return None
    if kind == "mc":
        letter = choice_letter(gold, lowercase=True)
        if letter:
            return letter
    k = gold.rfind("####")
    if k >= 0:
        ans = gold[k + 4 :].strip().split("\n", 1)[0].strip()
        return ans or None
    if find_boxes(gold):
        b = last_boxed(gold)
        if b and b.strip():
            return b.strip()
    if len(gold) > MAX_BARE_CHARS:
        a = _anchored(gold)
        if a:
            return a
    return _strip_math_delims(gold) or None


# ---- multiple choice -------------------------------------------------------------------------

_LETTER_CONTENT = re.compile(r"^\(?\s*([A-Ea-e])\s*\)?(?=$|[\s.:)\]]|\s*[-–—])")
_MC_ANCHORS = re.compile(
    r"(?:(?:correct|right|best|final)\s+(?:answer|option|choice)\s*(?:is|:|：)?"
    r"|the\s+answer\s+is|answer\s*(?:is|:|：)|(?P<mention>option|choice))[ \t:：]*\**[ \t]*[\"“'‘]?"
    r"(?:\$?\\(?:text|textbf|mathrm|mathbf)\{)?\s*(?P<letter>\(?[A-Ea-e]\)?)",
    re.IGNORECASE,
)


def choice_letter(content: str, *, lowercase: bool = True) -> str | None:
    """The letter of a short choice string: "C", "(C)", "C)", "C. 4.5", "\\text{C}", "\\textbf{(C)}"."""
    s = content.strip()
    s = _strip_math_delims(s)
    for _ in range(3):
        s2 = unwrap_commands(s, _TEXT_CMDS)
        if s2 == s:
            break
        s = s2
    s = s.replace("**", "").replace("$", "").strip()
    m = _LETTER_CONTENT.match(s)
    if not m:
        return None
    letter = m.group(1)
    if letter.islower() and not lowercase:
        return None
    return letter.upper()


def _mc_anchor_letter(section: str) -> str | None:
    found = None
    for m in _MC_ANCHORS.finditer(section):
        tok = m.group("letter")
        letter = tok.strip("()")
        after = section[m.end() : m.end() + 3]
        if after[:1].isalpha():
            continue  # "the answer is Carbon", "option Cat"
        if m.group("mention") and not re.match(r"^\s*(?:[.):\]*\"'”’]+\s*)?(?:\n|$)", section[m.end() : m.end() + 20]):
            continue  # "Option A fails the test": a mention, not a choice ("Option B" alone on its line is one)
        if letter.islower():
            # lowercase only when unambiguous: "(c)" or the letter ends the sentence / line
            if not (tok.startswith("(") or re.match(r"^\s*(?:[.)\]]\s*)?(?:\n|$)", after)):
                continue
        found = letter.upper()
    return found


def _extract_choice(text: str, pol: AnswerPolicy, cut: str | None) -> Extraction:
    secs = [sec[-READ_WINDOW:] for sec in sections(text)]
    for sec in secs:
        boxes = find_boxes(sec)
        if boxes:
            letter = choice_letter(boxes[-1][0], lowercase=True)
            if letter:
                return Extraction(letter, BOX, cut_off=cut)
        letter = _mc_anchor_letter(sec)
        if letter:
            return Extraction(letter, ANCHOR, cut_off=cut)
    if pol.statements and cut is None:
        letter = choice_in_prose(secs[0])
        if letter:
            return Extraction(letter, CHOICE)
    if len(text) <= 60:
        letter = choice_letter(text, lowercase=True)
        if letter:
            return Extraction(letter, BARE, cut_off=cut)
    return Extraction(None, cut_off=cut)


def extract_choice(text: str, policy: str | AnswerPolicy | None = None) -> str | None:
    """A multiple-choice letter: boxed letter, then "Answer: C" style anchors, then (policy default) a letter
    stated in prose, then a bare "(C)"."""
    text = sanitize(text)
    return _extract_choice(text, get_policy(policy), cut_off_reason(text)).answer


__all__ = [
    "extract",
    "extract_answer",
    "extract_gold",
    "extract_choice",
    "choice_letter",
    "cut_off_reason",
    "sections",
    "sanitize",
    "Extraction",
    "KINDS",
    "match_brace",
]
