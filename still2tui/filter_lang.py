"""The filter language of the trajectories screen, compiled to a parameterised SQL predicate.

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
The predicate reads ``trajectory`` under the alias ``t`` and needs no join. Each filter is also
compiled for the TUI's in-memory index (still2tui/table_index.py: ``index_where``), whose narrow
``trajectory`` table carries domain, source, difficulty, latest perplexities and a ``pos`` key;
tag filters have no index form (``index_where`` is None) and run on the store.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Callable, Collection

LATEST_PPL = (
    "(SELECT trajectory_id, arg_max(ppl, created) AS ppl FROM perplexity WHERE part = '{part}' GROUP BY trajectory_id)"
)

# field -> SQL expression over trajectory t (value fields) ...
VALUE_FIELDS = {
    "verdict": "t.verdict",
    "status": "t.status",
    "origin": "t.origin",
    "model": "t.model",
    "run": "t.run_id",
    "id": "t.id",
    "problem": "t.problem_id",
    "finish": "t.finish_reason",
}
# value fields whose values are a fixed set (others are checked against the values the store holds)
ENUMS = {"verdict": ("correct", "incorrect", "unverified"), "status": ("pending", "approved", "rejected")}
# value fields checked against the store's values when a ``known`` lookup is given (ids are not)
CHECKED = ("verdict", "status", "origin", "model", "domain", "source", "flag", "finish")
# ... fields that live on the problem, tested through a semi-join ...
PROBLEM_FIELDS = {"domain": "domain", "source": "source", "gold": "answer"}
NUMBER_FIELDS = {
    "iter": "t.iteration",
    "iteration": "t.iteration",
    "sample": "t.sample_index",
    "len": "t.n_chars",
    "tokens": "t.n_tokens",
    "chars": "t.n_chars",
}
PPL_FIELDS = {"ppl": "full", "thought_ppl": "thought"}
# ... fields of table trajectory_metrics (still2 metrics): expression there, and the index column
METRIC_FIELDS = {
    "rechecks": ("rechecks", "rechecks"),
    "after_tokens": ("tokens_after_correct", "after_tokens"),
    "after_chars": ("chars_after_correct", "after_chars"),
    "overthink": ("round(chars_after_correct::DOUBLE / nullif(thought_chars, 0), 3)", "overthink"),  # 3 decimals:
    # the index codes each distinct value once (table_index.CODED_COLUMNS)
}
# ... and verdict provenance, which the in-memory index does not carry (filtered on the store, as tags).
STORE_FIELDS = {"answer": "t.answer_source", "judge": "t.judge_verdict", "rule": "t.verdict_rule"}
FIELDS = sorted(
    [
        *VALUE_FIELDS,
        *PROBLEM_FIELDS,
        *NUMBER_FIELDS,
        *PPL_FIELDS,
        *METRIC_FIELDS,
        *STORE_FIELDS,
        "difficulty",
        "flag",
        "tag",
        "label",
    ]
)

Known = Callable[[str], "Collection[str] | None"]

_TERM = re.compile(r"^(?P<neg>-)?(?P<field>[a-z_]+)(?P<op>:|>=|<=|!=|>|<|=)(?P<value>.*)$", re.S)


class FilterError(ValueError):
    """A filter the user typed cannot be understood; the message says which term and why."""


@dataclass
class Compiled:
    where: str = "TRUE"
    params: list = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    source: str = ""
    index_where: str | None = "TRUE"  # the same predicate over the in-memory index (None: not expressible)
    index_params: list = field(default_factory=list)
    index_clauses: list[tuple[str, list]] = field(default_factory=list)  # index_where's terms with their params
    flags: list[str] = field(default_factory=list)  # flag rules the filter asks for (flag:x, not negated)

    @property
    def has_text(self) -> bool:
        return bool(self.text)


def _number(term: str, value: str) -> float | int:
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            raise FilterError(f"{term!r}: {value!r} is not a number") from None


def _equals(expr: str, values: list[str], params: list) -> str:
    parts = []
    for v in values:
        if "*" in v:
            parts.append(f"{expr} ILIKE ? ESCAPE '\\'")
            params.append(v.replace("%", r"\%").replace("_", r"\_").replace("*", "%"))
        else:
            parts.append(f"{expr} = ?")
            params.append(v)
    return "(" + " OR ".join(parts) + ")"


def _numeric(term: str, expr: str, op: str, value: str, params: list) -> str:
    if op == ":":
        if ".." in value:
            lo, hi = value.split("..", 1)
            parts = []
            if lo:
                parts.append(f"{expr} >= ?")
                params.append(_number(term, lo))
            if hi:
                parts.append(f"{expr} <= ?")
                params.append(_number(term, hi))
            if not parts:
                raise FilterError(f"{term!r}: empty range")
            return "(" + " AND ".join(parts) + ")"
        op = "="
    params.append(_number(term, value))
    return f"{expr} {'<>' if op == '!=' else op} ?"


class _NoIndex(Exception):
    """The term has no form over the in-memory index."""


def suggest(value: str, choices) -> list[str]:
    """The known values closest to a misspelled one (rapidfuzz), best first."""
    from rapidfuzz import fuzz, process, utils

    found = process.extract(
        value, list(choices), scorer=fuzz.WRatio, processor=utils.default_process, limit=3, score_cutoff=60
    )
    return [choice for choice, _score, _i in found]


def _check_values(term: str, name: str, values: list[str], known: Known | None) -> None:
    """Raise FilterError for a value no trajectory has (wildcards and the flag words any/none pass)."""
    if name not in CHECKED:
        return
    held = known(name) if known is not None else None
    if held is None and name not in ENUMS:
        return
    choices = sorted({*ENUMS.get(name, ()), *(c for c in held or () if c is not None)})
    lowered = {c.lower() for c in choices}
    for v in values:
        if "*" in v or (name == "flag" and v in ("any", "none")) or v in choices:
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


def _term(term: str, params: list, index: bool = False, known: Known | None = None) -> str:
    m = _TERM.match(term)
    assert m
    name, op, value = m["field"], m["op"], m["value"]
    if name not in FIELDS:
        close = suggest(name, FIELDS)
        raise FilterError(
            f"{term!r}: unknown field {name!r}"
            + (f" (did you mean {' or '.join(close)}?)" if close else "")
            + f"; fields: {', '.join(FIELDS)}"
        )
    if value == "":
        raise FilterError(f"{term!r}: missing value")
    values = [v for v in value.split(",") if v]
    if name == "label":  # a first wrong step marked in the detail view (table step_label); runs on the store
        if values not in (["any"], ["none"]) or op != ":":
            raise FilterError(f"{term!r}: label takes any or none")
        if index:
            raise _NoIndex(term)
        return f"t.id {'NOT ' if values == ['none'] else ''}IN (SELECT trajectory_id FROM step_label)"
    if name in VALUE_FIELDS or name in PROBLEM_FIELDS or name in STORE_FIELDS or name in ("flag", "tag"):
        if op not in (":", "=", "!="):
            raise FilterError(f"{term!r}: {name} takes ':' (values), not {op!r}")
        if not index:
            _check_values(term, name, values, known)
        if name in STORE_FIELDS:
            if index:
                raise _NoIndex(term)
            sql = _equals(STORE_FIELDS[name], values, params)
        elif name in VALUE_FIELDS:
            sql = _equals(VALUE_FIELDS[name], values, params)
        elif index and name in ("domain", "source"):
            sql = f"coalesce({_equals(f't.{name}', values, params)}, false)"  # as the store's semi-join
        elif index and name == "flag":
            sql = {"any": "t.pos IN (SELECT pos FROM flag)", "none": "t.pos NOT IN (SELECT pos FROM flag)"}.get(
                values[0] if len(values) == 1 else "", ""
            )
            sql = sql or f"t.pos IN (SELECT pos FROM flag WHERE {_equals('rule', values, params)})"
        elif index and name == "tag":
            raise _NoIndex(term)
        elif name in PROBLEM_FIELDS:
            sql = f"t.problem_id IN (SELECT id FROM problem WHERE {_equals(PROBLEM_FIELDS[name], values, params)})"
        elif name == "flag" and values == ["any"]:
            sql = "t.id IN (SELECT trajectory_id FROM flag)"
        elif name == "flag" and values == ["none"]:
            sql = "t.id NOT IN (SELECT trajectory_id FROM flag)"
        elif name == "flag":
            sql = f"t.id IN (SELECT trajectory_id FROM flag WHERE {_equals('rule', values, params)})"
        else:
            sql = (
                f"t.id IN (SELECT target_id FROM tag WHERE target_kind = 'trajectory' "
                f"AND {_equals('tag', values, params)})"
            )
        return f"NOT ({sql})" if op == "!=" else sql
    if name in METRIC_FIELDS:
        store_expr, index_column = METRIC_FIELDS[name]
        if index:
            return f"coalesce({_numeric(term, f't.{index_column}', op, value, params)}, false)"
        inner = _numeric(term, store_expr, op, value, params)
        return f"t.id IN (SELECT trajectory_id FROM trajectory_metrics WHERE {inner})"
    if index and name in PPL_FIELDS:
        return f"coalesce({_numeric(term, f't.{name}', op, value, params)}, false)"
    if index and name == "difficulty":
        return f"coalesce({_numeric(term, 't.difficulty', op, value, params)}, false)"
    if name in PPL_FIELDS:
        inner = _numeric(term, "ppl", op, value, params)
        return f"t.id IN (SELECT trajectory_id FROM {LATEST_PPL.format(part=PPL_FIELDS[name])} WHERE {inner})"
    if name == "difficulty":
        return f"t.problem_id IN (SELECT id FROM problem WHERE {_numeric(term, 'difficulty', op, value, params)})"
    return _numeric(term, NUMBER_FIELDS[name], op, value, params)


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


def compile_filter(text: str, known: Known | None = None) -> Compiled:
    """Compile the user's filter; raises FilterError naming every bad term (one per line, fit for the status
    line). ``known(field)``: the values the store holds for a value field (None: do not check it)."""
    params: list = []
    clauses: list[str] = []
    words: list[str] = []
    index_params: list = []
    index_clauses: list[tuple[str, list]] | None = []
    errors: list[str] = []
    flags: list[str] = []
    for token, quoted in split_terms(text.strip()):
        if not quoted and _TERM.match(token):
            neg = token.startswith("-")
            term = token[1:] if neg else token
            if not neg and term.startswith("flag:"):
                flags += [v for v in term[5:].split(",") if v and v not in ("any", "none")]
            try:
                sql = _term(term, params, known=known)
            except FilterError as exc:
                errors.append(str(exc))
                continue
            clauses.append(f"NOT ({sql})" if neg else sql)
            if index_clauses is not None:
                try:
                    term_params: list = []
                    sql = _term(term, term_params, index=True)
                    index_clauses.append((f"NOT ({sql})" if neg else sql, term_params))
                    index_params += term_params
                except _NoIndex:
                    index_clauses = None
        else:
            words.append(token)
    if errors:
        raise FilterError("\n".join(errors))
    index_where = None if index_clauses is None else (" AND ".join(c for c, _ in index_clauses) or "TRUE")
    return Compiled(
        " AND ".join(clauses) if clauses else "TRUE",
        params,
        words,
        text.strip(),
        index_where,
        index_params,
        index_clauses or [],
        flags,
    )


def flag_values(compiled: Compiled) -> list[str]:
    """The flag rules a compiled filter asks for (the table shows them first in the flags column)."""
    return list(compiled.flags)


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
