"""Reading answers written in prose: the closing statement of a finished response ("Therefore, the number
of divisors is 24.", "So the radius is 7 cm.", "Hence $t \\le -2$ is the solution set."), the
mathematical object a sentence states (not the sentence), number words ("three"), and
multiple-choice letters in prose ("so I'd go with B", `Answer: "C"`).

Everything here works on a bounded tail of the response (TAIL_CHARS), so its cost does not grow with
the response. Each rule is narrow on purpose: a value is read only where a sentence *states* it (after
a copula such as "is"/"="/"equals", or as the sentence's final formula), never "the last number".
"""

from __future__ import annotations

import re

from .structures import split_top

TAIL_CHARS = 1500  # only the end of the final section is read for its closing statement
MAX_SENTENCES = 4  # how many sentences back from the end a closing statement may be
MAX_UNIT_WORDS = 3  # "24 square units", "2000 calories", "7 cm"

# ---- math spans ------------------------------------------------------------------------------

_OPENERS = re.compile(r"\$\$|\\\[|\\\(|\$")
_CLOSER = {"$$": "$$", "\\[": "\\]", "\\(": "\\)", "$": "$"}
_PROSE_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")
_TEXT_GROUP = re.compile(r"\\(?:text|textbf|mathrm|mbox|textit)\{[^{}]*\}")


def math_spans(s: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of $..$, $$..$$, \\(..\\), \\[..\\] spans in `s`, in order.

    A `$` before a number whose closing `$` is missing, or whose span would contain prose, is a currency
    sign ("costs $50.", "$5 and $7"), not a delimiter.
    """
    out = []
    i = 0
    while True:
        m = _OPENERS.search(s, i)
        if not m:
            return out
        op = m.group()
        close = _CLOSER[op]
        j = s.find(close, m.end())
        if op == "$" and (j < 0 or _looks_like_currency(s[m.end() : j])):
            i = m.end()
            continue
        if j < 0:
            return out
        out.append((m.start(), j + len(close), s[m.end() : j]))
        i = j + len(close)


def _looks_like_currency(inner: str) -> bool:
    return bool(inner[:1].isdigit() and (_PROSE_WORD.search(_TEXT_GROUP.sub("", inner)) or "\n\n" in inner))


# Words an answer may contain (functions, connectives, constants); other runs of 3+ letters are prose.
MATH_WORDS = frozenset(
    "and or sin cos tan cot sec csc log ln exp sqrt pi inf infty deg mod gcd lcm max min det arg "
    "sinh cosh tanh arcsin arccos arctan lim dx dy dt".split()
)
_ENV_OR_TEXT = re.compile(
    r"\\(?:begin|end)\{[A-Za-z*]*\}|\\(?:text|textbf|textit|textrm|mathrm|mbox|operatorname)"
    r"\s*\{[^{}]*\}|\\[A-Za-z]+"
)
_WORD3 = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}(?![A-Za-z])")


def prose_words(s: str) -> list[str]:
    """The words of `s` outside formulas, LaTeX commands, environments and \\text{} groups that are not
    mathematical vocabulary: "So the answer is not 5" has three, "6\\text{ square units}" and
    "\\begin{pmatrix}1\\\\2\\end{pmatrix}" none."""
    s = mask_spans(s, math_spans(s)).replace("\x00", " ")
    s = _ENV_OR_TEXT.sub(" ", s)
    return [w for w in _WORD3.findall(s) if w.lower() not in MATH_WORDS]


def mask_spans(s: str, spans) -> str:
    """`s` with every math span replaced by a run of \\x00 of the same length (indexes are kept)."""
    if not spans:
        return s
    parts, last = [], 0
    for a, b, _ in spans:
        parts.append(s[last:a])
        parts.append("\x00" * (b - a))
        last = b
    parts.append(s[last:])
    return "".join(parts)


# ---- sentences -------------------------------------------------------------------------------

_BOUNDARY = re.compile(r"(?<=[.!?])[ \t]*(?:\n|[ \t](?=[\"'(*\\\x00A-Z0-9]))|\n[ \t]*\n|\n(?=[ \t]*(?:[-*#>]|\d+\.)\s)")


def sentences(s: str) -> list[tuple[int, int]]:
    """(start, end) of the sentences of `s` (math spans masked so their periods and newlines never split)."""
    masked = mask_spans(s, math_spans(s))
    out, start = [], 0
    for m in _BOUNDARY.finditer(masked):
        if masked[start : m.start()].strip():
            out.append((start, m.start()))
        start = m.end()
    if masked[start:].strip():
        out.append((start, len(s)))
    return out


# ---- values ----------------------------------------------------------------------------------

_NUMBER = r"[-−]?(?:\\?\$\s?|€\s?)?\d[\d,]*(?:\.\d+)?(?:\s\d+/\d+|/\d+)?(?:\s?(?:%|\\%|°|€))?"
_NUMBER_RE = re.compile(rf"^\s*({_NUMBER})(?=\s|$|[.,;:!?)])")
_SEPARATOR = re.compile(r"^\s*(?:,\s*(?:and|or)\b|,|;|\band\b|\bor\b|&)\s*")
_WORDS_AFTER = re.compile(r"^\s*((?:[A-Za-z][A-Za-z'/-]*\.?\s*){0,%d})$" % MAX_UNIT_WORDS)
# Words that turn a value into a comparison or an operation: "5 more than x", "3 times as many".
_NOT_UNITS = frozenset(
    "than of times less more fewer greater smaller larger bigger higher lower plus minus "
    "over divided multiplied squared cubed to from before after if when while".split()
)
_COPULA = re.compile(
    r"(?:\b(?:is|are|was|were|be|equals?|equal\s+to|gives?|gave|yields?|get|gets|getting|got|obtain|obtained|"
    r"becomes?|comes?\s+(?:out\s+)?to|totals|totaled|totalled|makes|amounts?\s+to|results?\s+in|costs?|costing)\b|=|:)"
    r"(?:\s*(?:indeed|exactly|just|only|now|still|then|also|thus|therefore|clearly|simply|actually|"
    r"precisely|equal\s+to|to|the\s+number|the\s+value|a\s+total\s+of)\b)*\s*",
    re.IGNORECASE,
)
_COST = re.compile(r"cost", re.IGNORECASE)  # "It costs 3,50 €." states a price only when its subject has no number
_TRAILER = re.compile(
    r"(?:,\s*|\s+)(?:which|since|because|as|so\s+that|where|when|I\s+hope|hope|"
    r"and\s+(?:so|this|that|thus|we|I|it|the|there)|"
    r"thus|hence|therefore|giving|making|meaning|i\.e\.|that\s+is|not)\b.*$",
    re.IGNORECASE | re.S,
)
_ANSWER_NOUN = re.compile(
    r"^\s*(?:is|are|gives?|would\s+be|will\s+be)\s+(?:the|our)\s+(?:final\s+|correct\s+|desired\s+|required\s+)?"
    r"(?:answer|solution|solutions|solution\s+set|result|value|values|range|domain|set\s+of\s+solutions)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:not|never|no\s+longer|cannot|isn't|aren't|wasn't|doesn't|don't|can't)\b|n't\b", re.IGNORECASE
)
_LEAD = re.compile(r"^[\s*#>\-•]+|^\d+\.\s+")
_END_PUNCT = re.compile(r"[\s.!?;:,*]+$")


def _rhs_number(content: str) -> str:
    """`5! = 120` -> `120` and `m = 12` -> `12`: the right side of a chain of equalities when it is a plain
    number; otherwise the whole formula."""
    from .normalize import canon
    from .numbers import to_number

    if "=" not in content or any(op in content for op in ("\\le", "\\ge", "\\ne", "<", ">", "\\approx")):
        return content
    sides = split_top(content, "=")
    if len(sides) == 1:  # every = inside brackets
        return content
    rhs = sides[-1].strip()
    if len(rhs) <= 60 and to_number(canon(rhs)) is not None:
        return rhs
    return content


def number_words_value(phrase: str) -> int | None:
    """The integer a phrase of English number words names ("three", "twenty-four", "one hundred and five")."""
    phrase = phrase.strip().lower()
    if not phrase or len(phrase) > 80 or not re.fullmatch(r"[a-z]+(?:[ -][a-z]+)*", phrase):
        return None
    try:
        from text_to_num import text2num

        return int(text2num(phrase, "en"))
    except (ValueError, TypeError, ImportError):
        return None


_WORD_TOKEN = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


def _leading_number_words(s: str) -> tuple[int, int] | None:
    """(value, end) of the longest run of number words at the start of `s`."""
    best = None
    pos = 0
    words = []
    for m in _WORD_TOKEN.finditer(s):
        gap = s[pos : m.start()]
        if words and gap.strip():
            break
        if not words and gap.strip():
            return None
        words.append(m.group())
        pos = m.end()
        if len(words) > 8:
            break
        v = number_words_value(" ".join(words))
        if v is not None:
            best = (v, m.end())
    return best


def _units_only(rest: str) -> bool:
    rest = _END_PUNCT.sub("", rest)
    if not rest.strip():
        return True
    m = _WORDS_AFTER.match(rest)
    if not m:
        return False
    return not any(w.lower().strip(".") in _NOT_UNITS for w in rest.split())


def read_value(rest: str) -> str | None:
    """The value at the start of `rest` ("$\\frac{10}{9}$.", "7 cm.", "$x=2$ and $x=3$", "three."), or None
    when `rest` is not a value followed at most by a few unit words."""
    rest = _TRAILER.sub("", rest).strip()
    rest = _END_PUNCT.sub("", rest)
    if not rest:
        return None
    spans = {a: (b, c) for a, b, c in math_spans(rest)}
    values, i = [], 0
    while True:
        while i < len(rest) and rest[i] in " \t\n":
            i += 1
        if i in spans:
            end, content = spans[i]
            content = content.strip()
            if not content:
                return None
            values.append(_rhs_number(content))
            i = end
        else:
            m = _NUMBER_RE.match(rest[i:])
            if m:
                values.append(m.group(1).replace("−", "-"))
                i += m.end(1)
            else:
                w = _leading_number_words(rest[i:])
                if w is None:
                    break
                values.append(str(w[0]))
                i += w[1]
        sep = _SEPARATOR.match(rest[i:])
        if not sep:
            break
        i += sep.end()
    if not values or not _units_only(rest[i:]):
        return None
    return ", ".join(values)


def value_of_sentence(sent: str) -> str | None:
    """The mathematical object one sentence states, or None."""
    sent = _LEAD.sub("", sent.strip())
    sent = sent.replace("**", "")
    if not sent or sent.rstrip().endswith("?"):
        return None
    spans = math_spans(sent)
    masked = mask_spans(sent, spans)
    # 1. the value after the last copula: "... is 24", "m = 12", "we get $z \neq 4$"
    last = None
    for m in _COPULA.finditer(masked):
        if _COST.match(m.group()) and _STATES_SOMETHING.search(masked[: m.start()]):
            continue  # "5 apples cost $10": a price of a counted subject, the question decides which is asked
        last = m
    if last is not None:
        v = read_value(sent[last.end() :])
        if v is not None:
            return v
    if _NEGATION.search(masked):
        return None  # "the inverse is not $M$", "so the answer is not 5": no other reading of a negated sentence
    # 2. the sentence's final formula: "So we get $z \neq 4$." / "Hence $t \le -2$ is the solution set."
    if spans:
        a, b, content = spans[-1]
        after = sent[b:]
        if content.strip() and (_units_only(after) or _ANSWER_NOUN.match(after)):
            if last is not None or _ANSWER_NOUN.match(after) or not masked[:a].strip(" \t,:"):
                return _rhs_number(content.strip())
    # 3. a concluding sentence with a single value: "Altogether, Sam ran 80 miles during the week."
    if _CONCLUSION.search(masked):
        return _single_value(sent, spans, masked)
    return None


# A concluding sentence ("Altogether, Sam ran 80 miles.", "So the equation has two real solutions.") that
# mentions exactly one value states that value, whatever its verb.
_CONCLUSION = re.compile(
    r"^\W*(?:so|thus|hence|therefore|altogether|in\s+total|in\s+all|overall|finally|in\s+conclusion|"
    r"consequently|as\s+a\s+result)\b|\bwe\s+(?:find|found|get|got|obtain|obtained|conclude|see|have)\b",
    re.IGNORECASE,
)
_ANY_NUMBER = re.compile(r"(?<![\w.])[-−]?\d[\d,]*(?:\.\d+)?(?!\w|\.\d)")


def _single_value(sent: str, spans, masked: str) -> str | None:
    """The one value (formula, number or number words) of a concluding sentence, or None."""
    found = [(a, b, _rhs_number(c.strip())) for a, b, c in spans if c.strip()]
    for m in _ANY_NUMBER.finditer(masked):
        found.append((m.start(), m.end(), m.group().replace("−", "-")))
    words = [m for m in _WORD_TOKEN.finditer(masked) if number_words_value(m.group()) is not None]
    i = 0
    while i < len(words):  # "three hundred and five" is one value
        j = i
        while j + 1 < len(words) and number_words_value(sent[words[i].start() : words[j + 1].end()]) is not None:
            j += 1
        found.append(
            (words[i].start(), words[j].end(), str(number_words_value(sent[words[i].start() : words[j].end()])))
        )
        i = j + 1
    if len(found) != 1:
        return None
    a, b, value = found[0]
    nxt = re.match(r"\s*([A-Za-z]+)", sent[b:])
    if nxt and nxt.group(1).lower() in _NOT_UNITS:
        return None  # "three times as many", "5 more than"
    return value


_STATES_SOMETHING = re.compile(
    r"\d|\x00|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|"
    r"fifty|sixty|seventy|eighty|ninety|hundred|thousand|million)\b",
    re.IGNORECASE,
)


# A sum or product of integer literals left unevaluated ("The equation should be $6 \times 5 + 7$.") restates
# the problem: a statement's value must be worked out to count.
_UNEVALUATED = re.compile(r"^\(?\s*-?\d+(?:\s*(?:[-+*×·]|\\times|\\cdot|\\div)\s*\(?\s*\d+\s*\)?)+\s*\)?$")


def unevaluated(value: str) -> bool:
    return bool(_UNEVALUATED.match(value.strip().strip("$")))


def closing_statement(section: str) -> str | None:
    """The value stated by the closing sentence(s) of a finished response's final section.

    Sentences are read from the end; ones that state nothing (no number, formula or number word: "I hope
    this helps.") are skipped; the first one that mentions a value decides: its value, or no answer when
    it does not *state* one (so an unrelated earlier number is never picked up).
    """
    tail = section[-TAIL_CHARS:]
    spans = math_spans(tail)
    masked = mask_spans(tail, spans)
    seen = 0
    for a, b in reversed(sentences(tail)):
        if seen >= MAX_SENTENCES:
            return None
        seen += 1
        if not _STATES_SOMETHING.search(masked[a:b]):
            continue
        value = value_of_sentence(tail[a:b])
        return None if value is None or unevaluated(value) else value
    return None


# ---- multiple choice in prose ----------------------------------------------------------------

_LETTER = r"\(?([A-E])\)?"
_AFTER_LETTER = r"(?=\s*$|\s*[.,;:!?)\]\"'”’*]|\s+(?:because|since|as|for|here|then|instead|not)\b|\s*[—–(-])"
_PROSE_CHOICE = re.compile(
    r"(?:\b(?:go|going|went|stick|sticking|stay)\s+with|\b(?:choose|chose|choosing|pick|picked|picking|select|"
    r"selected|selecting|opt\s+for|circle|mark)|\b(?:must|should|would|has\s+to|have\s+to|will|can\s+only|could\s+only)"
    r"\s+be|\b(?:it'?s|it\s+is|that'?s|that\s+is))\s+(?:option\s+|choice\s+|answer\s+|letter\s+)?"
    + _LETTER
    + _AFTER_LETTER
)
_LEADING_CHOICE = re.compile(
    r"(?:^|(?<=[\s(\"'“‘]))(?:option\s+|choice\s+)?"
    + _LETTER
    + r"\s+(?:holds|works|fits|is\s+(?:the\s+)?(?:correct|right|true|best|answer))\b"
)
_NEGATED = re.compile(
    r"\b(?:not|n't|never|rather\s+than|instead\s+of|wouldn'?t|shouldn'?t|can'?t|cannot)\s+\S*\s*\S*$", re.IGNORECASE
)


def choice_in_prose(section: str) -> str | None:
    """A choice letter a finished response states in its closing sentences ("so I'd go with B", "it must be
    D, not A", "C holds because ..."); capital letters only, never after a negation."""
    tail = section[-TAIL_CHARS:]
    found = None
    for a, b in sentences(tail):
        sent = tail[a:b]
        for m in _LEADING_CHOICE.finditer(sent):
            if not _NEGATED.search(sent[: m.start()]):
                found = m.group(1)
        for m in _PROSE_CHOICE.finditer(sent):
            if _NEGATED.search(sent[: m.start()]):
                continue
            found = m.group(1)
    return found


# ---- the harness fallback ----------------------------------------------------------------------

_LAST_NUMBER = re.compile(r"-?\d*\.?\d+")


def last_number(text: str) -> str | None:
    """The last number of the text, as Qwen-style evaluation harnesses read it (commas dropped)."""
    tail = text[-TAIL_CHARS:].replace(",", "")
    found = None
    for m in _LAST_NUMBER.finditer(tail):
        found = m.group()
    if found is None or len(found) > 200:
        return None
    return found
