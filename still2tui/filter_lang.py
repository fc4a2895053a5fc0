"""The filter language of the trajectories screen: the user's text parsed into typed terms.

Grammar (terms are ANDed; user values only ever travel as query parameters):

    verdict:correct            equality; a comma means OR:  status:pending,rejected
    -origin:eval               a leading '-' negates any term
    model:*14b*                '*' is a wildcard (case-insensitive match)
    ppl>3  len<=2000  iter=1   comparisons on numeric fields: > >= < <= = !=
    len:500..2000              an inclusive range (either side may be empty: ppl:..4)
    flag:repetition            has that filter flag; flag:any / flag:none
    tag:keep                   has that tag
    answer:statement           where the verifier read the answer (box anchor bare statement choice
                               last_number none); judge:incorrect the LLM judge's verdict; rule:cut_off
                               the rule that decided the verdict
    "free text"  word          full-text search over the trajectory text (see search.py)

Fields: verdict status origin model domain source problem run id tag flag finish answer judge rule (values);
iter/iteration difficulty sample ppl thought_ppl tokens chars len (numbers); from ``still2 metrics``:
rechecks, after_tokens / after_chars (thought after the first correct answer), overthink (that share of
the thought, 0..1, to 3 decimals); a trajectory without metrics matches no comparison. ``label:any`` / ``label:none``:
has a first wrong step marked (or not).
``len`` is the length in characters (``chars``; known for every row); ``tokens`` is the token count,
known only for rows that were generated here or scored. A value that no trajectory has (a misspelled
``verdict:corect``) is an error that suggests the closest known values, not a silent empty result.
``parse_filter`` gives a Filter: its terms (field, operator, values or numeric bounds, negation) and
its free-text words, never SQL. Each backend compiles the terms itself (filter_fields.py: ``to_store``
for the store, ``to_index`` for the TUI's in-memory index; search words: search.py).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Callable, Collection

from still2tui.filter_fields import FIELDS

Known = Callable[[str], "Collection[str] | None"]

_TERM = re.compile(r"^(?P<neg>-)?(?P<field>[a-z_]+)(?P<op>:|>=|<=|!=|>|<|=)(?P<value>.*)$", re.S)
FIELD_NAMES = sorted(FIELDS)


class FilterError(ValueError):
    """A filter the user typed cannot be understood; the message says which term and why."""


@dataclass(frozen=True)
class Term:
    """One ``field op value`` term. A value field's term has ``values`` (a comma list; ``*`` wildcards); a
    number field's has ``bounds``, each an (SQL comparison, number) pair, all to hold (``lo..hi`` is two)."""

    field: str
    op: str
    values: tuple[str, ...] = ()
    bounds: tuple[tuple[str, int | float], ...] = ()
    negated: bool = False
    text: str = ""  # as typed (without the '-')


@dataclass(frozen=True)
class Filter:
    """A parsed filter: terms (ANDed), free-text search words, and the text it was parsed from."""

    terms: tuple[Term, ...] = ()
    words: tuple[str, ...] = ()
    source: str = ""

    @property
    def has_text(self) -> bool:
        return bool(self.words)

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.words

    @property
    def flags(self) -> list[str]:
        """The flag rules the filter asks for (flag:x, not negated): the table shows them first."""
        return [
            v
            for t in self.terms
            if t.field == "flag" and not t.negated
            for v in t.values
            if v not in FIELDS["flag"].words
        ]


def _number(term: str, value: str) -> int | float:
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            raise FilterError(f"{term!r}: {value!r} is not a number") from None


def _bounds(term: str, op: str, value: str) -> tuple[tuple[str, int | float], ...]:
    if op != ":":
        return ((op, _number(term, value)),)
    if ".." not in value:
        return (("=", _number(term, value)),)
    lo, hi = value.split("..", 1)
    bounds = ((">=", _number(term, lo)),) if lo else ()
    bounds += (("<=", _number(term, hi)),) if hi else ()
    if not bounds:
        raise FilterError(f"{term!r}: empty range")
    return bounds


def suggest(value: str, choices) -> list[str]:
    """The known values closest to a misspelled one (rapidfuzz), best first."""
    from rapidfuzz import fuzz, process, utils

    found = process.extract(
        value, list(choices), scorer=fuzz.WRatio, processor=utils.default_process, limit=3, score_cutoff=60
    )
    return [choice for choice, _score, _i in found]


def _check_values(term: str, name: str, values: tuple[str, ...], known: Known | None) -> None:
    """Raise FilterError for a value no trajectory has (wildcards and the flag words any/none pass)."""
    spec = FIELDS[name]
    if not spec.checked:
        return
    held = known(name) if known is not None else None
    if held is None and not spec.enum:
        return
    choices = sorted({*spec.enum, *(c for c in held or () if c is not None)})
    lowered = {c.lower() for c in choices}
    for v in values:
        if "*" in v or v in spec.words or v in choices:
            continue
        close = suggest(v, choices)
        hint = f"did you mean {' or '.join(close)}?" if close else ""
        if v.lower() in lowered:
            hint = f"values are case-sensitive: {next(c for c in choices if c.lower() == v.lower())}"
        listed = ", ".join(choices[:12]) + (", …" if len(choices) > 12 else "")
        raise FilterError(
            f"{term!r}: no trajectory has {name} {v!r}"
            + (f" ({hint})" if hint else "")
            + (f"; {name}s: {listed}" if listed else f"; no {name}s yet")
        )


def parse_term(text: str, negated: bool = False, known: Known | None = None) -> Term:
    """One term (without its leading '-'), checked against its field; raises FilterError."""
    m = _TERM.match(text)
    assert m
    name, op, value = m["field"], m["op"], m["value"]
    spec = FIELDS.get(name)
    if spec is None:
        close = suggest(name, FIELD_NAMES)
        raise FilterError(
            f"{text!r}: unknown field {name!r}"
            + (f" (did you mean {' or '.join(close)}?)" if close else "")
            + f"; fields: {', '.join(FIELD_NAMES)}"
        )
    if value == "":
        raise FilterError(f"{text!r}: missing value")
    if spec.kind == "number":
        return Term(name, op, bounds=_bounds(text, op, value), negated=negated, text=text)
    values = tuple(v for v in value.split(",") if v)
    if spec.choices and (op != ":" or len(values) != 1 or values[0] not in spec.choices):
        raise FilterError(f"{text!r}: {name} takes {' or '.join(spec.choices)}")
    if op not in (":", "=", "!="):
        raise FilterError(f"{text!r}: {name} takes ':' (values), not {op!r}")
    _check_values(text, name, values, known)
    return Term(name, op, values=values, negated=negated, text=text)


def split_terms(text: str) -> list[tuple[str, bool]]:
    """(term, quoted) pairs; quotes group words into one free-text phrase."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    out = []
    try:
        for token in lexer:
            out.append((token, False))
    except ValueError as exc:
        raise FilterError(f"unbalanced quote in {text!r}") from exc
    quoted = set(re.findall(r'"([^"]*)"', text)) | set(re.findall(r"'([^']*)'", text))
    return [(t, t in quoted and t != "") for t, _ in out]


def parse_filter(text: str, known: Known | None = None) -> Filter:
    """Parse the user's filter; raises FilterError naming every bad term (one per line, fit for the status
    line). ``known(field)``: the values the store holds for a value field (None: do not check it)."""
    terms: list[Term] = []
    words: list[str] = []
    errors: list[str] = []
    for token, quoted in split_terms(text.strip()):
        if quoted or not _TERM.match(token):
            words.append(token)
            continue
        negated = token.startswith("-")
        try:
            terms.append(parse_term(token[1:] if negated else token, negated, known))
        except FilterError as exc:
            errors.append(str(exc))
    if errors:
        raise FilterError("\n".join(errors))
    return Filter(tuple(terms), tuple(words), text.strip())


# What the help screen shows (the module docstring above is for developers).
HELP = """Terms are ANDed; values are never pasted into SQL.

  verdict:correct            a field's value; a comma means OR: status:pending,rejected
  -origin:eval               a leading '-' negates any term
  model:*14b*                '*' is a wildcard (case-insensitive)
  ppl>3  chars<=2000  iter=1 comparisons on numbers: > >= < <= = !=
  chars:500..2000            an inclusive range (either side may be empty: ppl:..4)
  flag:repetition            has that filter flag; flag:any / flag:none
  tag:keep                   has that tag
  "free text"  word          search the thought and solution (lowercase: any case)

  answer:statement           where the verifier read the answer (box anchor bare statement choice
                             last_number none); judge:incorrect the LLM judge's verdict; rule:cut_off
                             the rule that decided the verdict
  label:any / label:none     a first wrong step is marked (or not)

Value fields: verdict status origin model domain source problem run id gold tag flag finish answer
judge rule
Number fields: iter difficulty sample ppl thought_ppl tokens chars (len = chars); from still2 metrics:
rechecks, after_tokens, after_chars (thought after the first correct answer), overthink (that share)
tokens is known only for rows generated here or scored; chars for every row.
A value no trajectory has (verdict:corect) is an error that suggests the closest ones."""
