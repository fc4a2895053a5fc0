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

Fields: verdict status origin model domain source problem run id tag flag answer judge rule (values);
iter/iteration difficulty sample ppl thought_ppl len tokens chars (numbers); from ``still2 metrics``:
rechecks, after_tokens / after_chars (thought after the first correct answer), overthink (that share of
the thought, 0..1, to 3 decimals); a trajectory without metrics matches no comparison. ``label:any`` / ``label:none``:
has a first wrong step marked (or not).
``len`` is tokens, falling back to characters when the token count is unknown.
The predicate reads ``trajectory`` under the alias ``t`` and needs no join. Each filter is also
compiled for the TUI's in-memory index (still2tui/table_index.py: ``index_where``), whose narrow
``trajectory`` table carries domain, source, difficulty, latest perplexities and a ``pos`` key;
tag filters have no index form (``index_where`` is None) and run on the store.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

LATEST_PPL = ("(SELECT trajectory_id, arg_max(ppl, created) AS ppl FROM perplexity "
              "WHERE part = '{part}' GROUP BY trajectory_id)")

# field -> SQL expression over trajectory t (value fields) ...
VALUE_FIELDS = {
    "verdict": "t.verdict", "status": "t.status", "origin": "t.origin", "model": "t.model",
    "run": "t.run_id", "id": "t.id", "problem": "t.problem_id",
}
# ... fields that live on the problem, tested through a semi-join ...
PROBLEM_FIELDS = {"domain": "domain", "source": "source", "gold": "answer"}
NUMBER_FIELDS = {
    "iter": "t.iteration", "iteration": "t.iteration", "sample": "t.sample_index",
    "len": "coalesce(t.n_tokens, t.n_chars)", "tokens": "t.n_tokens", "chars": "t.n_chars",
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
FIELDS = sorted([*VALUE_FIELDS, *PROBLEM_FIELDS, *NUMBER_FIELDS, *PPL_FIELDS, *METRIC_FIELDS, *STORE_FIELDS,
                 "difficulty", "flag", "tag", "label"])

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


def _term(term: str, params: list, index: bool = False) -> str:
    m = _TERM.match(term)
    assert m
    name, op, value = m["field"], m["op"], m["value"]
    if name not in FIELDS:
        raise FilterError(f"{term!r}: unknown field {name!r} (fields: {', '.join(FIELDS)})")
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
                values[0] if len(values) == 1 else "", "")
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
            sql = (f"t.id IN (SELECT target_id FROM tag WHERE target_kind = 'trajectory' "
                   f"AND {_equals('tag', values, params)})")
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
    expr = "t.len" if index and name == "len" else NUMBER_FIELDS[name]  # the index stores len
    return _numeric(term, expr, op, value, params)


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


def compile_filter(text: str) -> Compiled:
    """Compile the user's filter; raises FilterError with a message fit for the status line."""
    params: list = []
    clauses: list[str] = []
    words: list[str] = []
    index_params: list = []
    index_clauses: list[tuple[str, list]] | None = []
    for token, quoted in split_terms(text.strip()):
        if not quoted and _TERM.match(token):
            neg = token.startswith("-")
            term = token[1:] if neg else token
            sql = _term(term, params)
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
    index_where = None if index_clauses is None else (" AND ".join(c for c, _ in index_clauses) or "TRUE")
    return Compiled(" AND ".join(clauses) if clauses else "TRUE", params, words, text.strip(), index_where,
                    index_params, index_clauses or [])
