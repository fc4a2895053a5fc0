"""Answer extraction: find the final answer in a model output (or a worked gold solution) as a string."""
from __future__ import annotations

import re

from .latex import find_boxes, last_boxed, match_brace, unwrap_commands

# Full outputs are scanned linearly; beyond this size only the tail is looked at.
MAX_TEXT_CHARS = 2_000_000
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
    # up to the end of the sentence: a period followed by a space/end, not a decimal point
    m = re.search(r"\.(?:\s|$)|\s+(?:I hope|because|since|which)\b", line)
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


def extract_answer(text: str, kind: str = "math") -> str | None:
    """The final answer of a model output (or a bare answer), or None when nothing is extractable.

    kind "math"/"int": last \\boxed{}/\\fbox{} of the solution section, then anchors ("the final answer is",
    "Answer:", "####"), then the same in the whole text; a short text with neither is taken as a bare answer.
    kind "mc": a choice letter A-E (see extract_choice).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    text = sanitize(text)
    if not text.strip():
        return None
    if kind == "mc":
        return extract_choice(text)
    secs = sections(text)
    for i, sec in enumerate(secs):
        b = last_boxed(sec)
        if b is not None and b.strip():
            return b.strip()
        if i == len(secs) - 1 and len(sec) > MAX_BARE_CHARS:
            a = _anchored(sec, strong_only=True)
            if a is None and not _truncated_thought(sec):
                a = _anchored(sec[-500:])
        else:
            a = _anchored(sec)
        if a:
            return a
    if _looks_bare(text) and "\\boxed" not in text and "\\fbox" not in text:
        return _strip_math_delims(text) or None
    return None  # an empty or unclosed box is a broken answer, not a bare one


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
    r"|the\s+answer\s+is|answer\s*(?:is|:|：)|option|choice)[ \t:：]*\**[ \t]*"
    r"(?:\$?\\(?:text|textbf|mathrm|mathbf)\{)?\s*(\(?[A-Ea-e]\)?)",
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
        tok = m.group(1)
        letter = tok.strip("()")
        after = section[m.end() : m.end() + 3]
        if after[:1].isalpha():
            continue  # "the answer is Carbon", "option Cat"
        if letter.islower():
            # lowercase only when unambiguous: "(c)" or the letter ends the sentence / line
            if not (tok.startswith("(") or re.match(r"^\s*(?:[.)\]]\s*)?(?:\n|$)", after)):
                continue
        found = letter.upper()
    return found


def extract_choice(text: str) -> str | None:
    """A multiple-choice letter: boxed letter, then "Answer: C" style anchors, then a bare "(C)"."""
    text = sanitize(text)
    for sec in sections(text):
        boxes = find_boxes(sec)
        if boxes:
            letter = choice_letter(boxes[-1][0], lowercase=True)
            if letter:
                return letter
        letter = _mc_anchor_letter(sec)
        if letter:
            return letter
    if len(text) <= 60:
        return choice_letter(text, lowercase=True)
    return None


__all__ = ["extract_answer", "extract_gold", "extract_choice", "choice_letter", "sections", "sanitize", "KINDS",
           "match_brace"]
