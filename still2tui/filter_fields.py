"""The fields of the trajectories filter, and how each backend compiles a term on one of them.

A filter (filter_lang.py) is a list of typed terms; each term names a field of ``FIELDS``. A field knows
how its terms read on the two backends the trajectories table has:

- the store: ``store(term, params)`` gives a predicate over ``trajectory t`` (joins as semi-joins, so the
  predicate needs no FROM clause of its own); ``to_store`` ANDs them into a store.tui_queries.Predicate;
- the TUI's in-memory index (table_index.py): ``index(term, params)`` gives a predicate over the index's
  narrow ``trajectory t`` and says which one index column it reads (``reads``), so the index can decide it
  once per distinct value; ``to_index`` gives the IndexClauses, or None when a term has no index form (tags,
  step labels, verdict provenance: the index does not hold them).

Adding a field is one entry in ``FIELDS`` (an instance of the family that fits, or a new Field subclass).
User values only ever travel as query parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from store.tui_queries import LATEST_PPL, Predicate

if TYPE_CHECKING:
    from still2tui.filter_lang import Filter, Term

FLAGS = "flags"  # IndexClause.reads of a term decided by a row's flags alone (the index's flag table, by pos)


@dataclass(frozen=True)
class IndexClause:
    """One term compiled for the in-memory index: SQL over its ``trajectory t`` (``reads == FLAGS``: over
    ``t.pos`` only, answered from its flag table), the parameters, and the one column it reads (None: it
    reads more, and the index scans its table)."""

    sql: str
    params: tuple = ()
    reads: str | None = None


class NoIndexForm(Exception):
    """The term has no form over the in-memory index."""


class Field:
    """A filter field. ``kind``: "value" (``:``/``=``/``!=`` with a comma list, ``*`` wildcards) or
    "number" (comparisons and ``lo..hi`` ranges). ``checked``: values are checked against the ones the store
    holds (a misspelling is an error); ``enum``: its values are a fixed set; ``choices``: the only values
    it takes (no wildcard, no list). ``slow_on_store``: its store predicate reads a derived table (the
    table counts such filters in a worker)."""

    kind = "value"
    checked = False
    enum: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    words: tuple[str, ...] = ()  # values with a meaning of their own (flag:any), never checked against the store
    slow_on_store = False

    @property
    def shown_in(self) -> str:
        """The key of the trajectories table column that shows this field ("": none does)."""
        return ""

    def store(self, term: Term, params: list) -> str:
        raise NotImplementedError

    def index(self, term: Term, params: list) -> IndexClause:
        raise NoIndexForm(term.text)


def equals(expr: str, values, params: list) -> str:
    """``expr`` equal to any of ``values`` (``*`` a case-insensitive wildcard)."""
    parts = []
    for v in values:
        if "*" in v:
            parts.append(f"{expr} ILIKE ? ESCAPE '\\'")
            params.append(v.replace("%", r"\%").replace("_", r"\_").replace("*", "%"))
        else:
            parts.append(f"{expr} = ?")
            params.append(v)
    return "(" + " OR ".join(parts) + ")"


def compare(expr: str, bounds, params: list) -> str:
    """``expr`` within every (operator, number) bound."""
    parts = []
    for op, number in bounds:
        parts.append(f"{expr} {'<>' if op == '!=' else op} ?")
        params.append(number)
    return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"


def condition(term: Term, expr: str, params: list) -> str:
    """The term's test of one SQL expression (its values or its bounds)."""
    if term.bounds:
        return compare(expr, term.bounds, params)
    return equals(expr, term.values, params)


@dataclass(frozen=True)
class TrajectoryColumn(Field):
    """A column of ``trajectory`` itself (the index holds it under the same name)."""

    column: str
    kind: str = "value"
    checked: bool = False
    enum: tuple[str, ...] = ()

    @property
    def shown_in(self) -> str:
        return self.column

    def store(self, term, params):
        return condition(term, f"t.{self.column}", params)

    def index(self, term, params):
        return IndexClause(condition(term, f"t.{self.column}", params), (), self.column)


@dataclass(frozen=True)
class ProblemColumn(Field):
    """A column of the trajectory's problem. The index holds ``index_column`` on each row (NULL for a row
    without its problem: coalesced to false, as the store's semi-join); without one the index reads its own
    problem table."""

    column: str
    index_column: str | None = None
    kind: str = "value"
    checked: bool = False
    table_column: str = ""  # the trajectories table column showing it (default: its index column)

    @property
    def shown_in(self) -> str:
        return self.table_column or self.index_column or ""

    def store(self, term, params):
        return f"t.problem_id IN (SELECT id FROM problem WHERE {condition(term, self.column, params)})"

    def index(self, term, params):
        if self.index_column is None:
            return IndexClause(self.store(term, params))
        return IndexClause(
            f"coalesce({condition(term, f't.{self.index_column}', params)}, false)", (), self.index_column
        )


def coalesced(term: Term, column: str, params: list) -> IndexClause:
    """The term on an index column that is NULL where the store's semi-join finds nothing: NULL reads as
    false, so a negated term matches those rows on both backends."""
    return IndexClause(f"coalesce({condition(term, f't.{column}', params)}, false)", (), column)


class DerivedNumber(Field):
    """A number the store derives from another table and the index holds as ``index_column``."""

    kind = "number"
    slow_on_store = True
    index_column = ""

    @property
    def shown_in(self) -> str:
        return self.index_column

    def index(self, term, params):
        return coalesced(term, self.index_column, params)


@dataclass(frozen=True)
class LatestPerplexity(DerivedNumber):
    """The latest perplexity of one part of the response."""

    part: str
    index_column: str

    def store(self, term, params):
        inner = condition(term, "ppl", params)
        return f"t.id IN (SELECT trajectory_id FROM {LATEST_PPL.format(part=self.part)} WHERE {inner})"


@dataclass(frozen=True)
class Metric(DerivedNumber):
    """A column of ``trajectory_metrics`` (still2 metrics), by its expression there. A trajectory without
    metrics matches no comparison."""

    expr: str
    index_column: str

    def store(self, term, params):
        return f"t.id IN (SELECT trajectory_id FROM trajectory_metrics WHERE {condition(term, self.expr, params)})"


@dataclass(frozen=True)
class StoreOnlyColumn(Field):
    """A column of ``trajectory`` the index does not carry (verdict provenance): filtered on the store."""

    column: str

    def store(self, term, params):
        return condition(term, f"t.{self.column}", params)


class FlagField(Field):
    """Has a filter flag of one of the rules (``any`` / ``none``: has some flag / has none)."""

    checked = True
    words = ("any", "none")
    shown_in = "flags"

    def store(self, term, params):
        if term.values == ("any",):
            return "t.id IN (SELECT trajectory_id FROM flag)"
        if term.values == ("none",):
            return "t.id NOT IN (SELECT trajectory_id FROM flag)"
        return f"t.id IN (SELECT trajectory_id FROM flag WHERE {equals('rule', term.values, params)})"

    def index(self, term, params):
        if term.values == ("any",):
            return IndexClause("t.pos IN (SELECT pos FROM flag)", (), FLAGS)
        if term.values == ("none",):
            return IndexClause("t.pos NOT IN (SELECT pos FROM flag)", (), FLAGS)
        return IndexClause(f"t.pos IN (SELECT pos FROM flag WHERE {equals('rule', term.values, params)})", (), FLAGS)


class TagField(Field):
    """Has one of the tags (tags are not in the index)."""

    shown_in = "tags"

    def store(self, term, params):
        return (
            "t.id IN (SELECT target_id FROM tag WHERE target_kind = 'trajectory' "
            f"AND {equals('tag', term.values, params)})"
        )


class StepLabelField(Field):
    """A first wrong step is marked in the detail view (table step_label), or not."""

    choices = ("any", "none")

    def store(self, term, params):
        return f"t.id {'NOT ' if term.values == ('none',) else ''}IN (SELECT trajectory_id FROM step_label)"


FIELDS: dict[str, Field] = {
    "verdict": TrajectoryColumn("verdict", checked=True, enum=("correct", "incorrect", "unverified")),
    "status": TrajectoryColumn("status", checked=True, enum=("pending", "approved", "rejected")),
    "origin": TrajectoryColumn("origin", checked=True),
    "model": TrajectoryColumn("model", checked=True),
    "run": TrajectoryColumn("run_id"),
    "id": TrajectoryColumn("id"),
    "problem": TrajectoryColumn("problem_id"),
    "finish": TrajectoryColumn("finish_reason", checked=True),
    "domain": ProblemColumn("domain", "domain", checked=True),
    "source": ProblemColumn("source", "source", checked=True),
    "gold": ProblemColumn("answer", table_column="gold"),
    "answer": StoreOnlyColumn("answer_source"),
    "judge": StoreOnlyColumn("judge_verdict"),
    "rule": StoreOnlyColumn("verdict_rule"),
    "flag": FlagField(),
    "tag": TagField(),
    "label": StepLabelField(),
    "iter": TrajectoryColumn("iteration", kind="number"),
    "iteration": TrajectoryColumn("iteration", kind="number"),
    "sample": TrajectoryColumn("sample_index", kind="number"),
    "len": TrajectoryColumn("n_chars", kind="number"),
    "chars": TrajectoryColumn("n_chars", kind="number"),
    "tokens": TrajectoryColumn("n_tokens", kind="number"),
    "difficulty": ProblemColumn("difficulty", "difficulty", kind="number"),
    "ppl": LatestPerplexity("full", "ppl"),
    "thought_ppl": LatestPerplexity("thought", "thought_ppl"),
    "rechecks": Metric("rechecks", "rechecks"),
    "after_tokens": Metric("tokens_after_correct", "after_tokens"),
    "after_chars": Metric("chars_after_correct", "after_chars"),
    # 3 decimals: the index codes each distinct value once (table_index.CODED_COLUMNS)
    "overthink": Metric("round(chars_after_correct::DOUBLE / nullif(thought_chars, 0), 3)", "overthink"),
}


def _negate(term: Term, sql: str) -> str:
    """A value term's ``!=`` and a leading ``-`` each negate."""
    if term.op == "!=" and term.values:
        sql = f"NOT ({sql})"
    return f"NOT ({sql})" if term.negated else sql


def to_store(flt: Filter) -> Predicate:
    """The filter's terms (not its search words) as one predicate over the store's ``trajectory t``."""
    params: list = []
    clauses = [_negate(term, FIELDS[term.field].store(term, params)) for term in flt.terms]
    return Predicate(" AND ".join(clauses) if clauses else "TRUE", tuple(params))


def to_index(flt: Filter) -> tuple[IndexClause, ...] | None:
    """The filter's terms as clauses over the in-memory index (None: some term has no index form)."""
    out = []
    for term in flt.terms:
        params: list = []
        try:
            clause = FIELDS[term.field].index(term, params)
        except NoIndexForm:
            return None
        out.append(IndexClause(_negate(term, clause.sql), (*clause.params, *params), clause.reads))
    return tuple(out)


def shown_columns(flt: Filter) -> frozenset[str]:
    """The trajectories table columns that show what the filter's terms test."""
    return frozenset(FIELDS[term.field].shown_in for term in flt.terms) - {""}


def slow_on_store(flt: Filter) -> bool:
    """Some term reads a derived table on the store (latest perplexities, metrics)."""
    return any(FIELDS[term.field].slow_on_store for term in flt.terms)
