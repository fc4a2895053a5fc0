"""Default exclusions: rows no training set should hold unless asked for by name.

``contaminated`` (overlaps a benchmark problem), ``eval`` (evaluation outputs) and ``test`` (rows on
test or benchmark problems) apply to ``dataset build`` (new and inherited members), ``pairs build``,
``dataset export``, ``pairs export`` and ``still2 export``; ``--allow NAME`` lifts one.

An exclusion names a kind of row and says, for each
candidate row, under which group it is removed (the benchmark, say) or that it stays. It does so in
SQL over the ``trajectories`` view (alias ``v``, ``group_sql``: the group or NULL), in Python
(``find``: candidate rows -> {id: group}), or both (a row is removed if either says so). Every
exclusion applies to every build unless the recipe lists it in ``allow``; the rows removed are
counted per exclusion and group, stored with the dataset (``dataset.excluded``) and printed by
``dataset show``. Add a kind by registering another ``Exclusion``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

import duckdb


@dataclass(frozen=True)
class Exclusion:
    name: str
    help: str
    group_sql: str | None = None
    find: Callable[[duckdb.DuckDBPyConnection, list[dict[str, Any]]], dict[str, str]] | None = None
    # Filter rules whose flags this exclusion accounts for: ``exclude_flags ["*"]`` leaves them to it,
    # so the rows are counted here (and ``allow`` really lets them in).
    flag_rules: tuple[str, ...] = ()


EXCLUSIONS: dict[str, Exclusion] = {}


def register(exclusion: Exclusion) -> Exclusion:
    if exclusion.name in EXCLUSIONS:
        raise ValueError(f"exclusion {exclusion.name} registered twice")
    EXCLUSIONS[exclusion.name] = exclusion
    return exclusion


def active(allow: list[str]) -> list[Exclusion]:
    """The exclusions a recipe applies (all but the allowed ones); unknown names are an error."""
    unknown = [a for a in allow if a not in EXCLUSIONS]
    if unknown:
        raise ValueError(f"unknown exclusion(s) in allow: {', '.join(unknown)}; known: {', '.join(EXCLUSIONS)}")
    return [e for e in EXCLUSIONS.values() if e.name not in allow]


def owned_flag_rules() -> list[str]:
    return sorted({r for e in EXCLUSIONS.values() for r in e.flag_rules})


def sql_columns(exclusions: list[Exclusion]) -> list[str]:
    """SELECT items giving each SQL exclusion's group (or NULL) per candidate row."""
    return [f'{e.group_sql} AS "excl_{e.name}"' for e in exclusions if e.group_sql]


def apply(
    conn: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], exclusions: list[Exclusion]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    """Remove excluded rows (each counted once, under the first exclusion that removes it)."""
    removed: dict[str, tuple[str, str]] = {}
    for e in exclusions:
        found: dict[str, str] = {}
        if e.group_sql:
            found.update({r["id"]: r[f"excl_{e.name}"] for r in rows if r.get(f"excl_{e.name}") is not None})
        if e.find is not None:
            for tid, group in e.find(conn, [r for r in rows if r["id"] not in found]).items():
                found.setdefault(tid, group)
        for tid, group in found.items():
            removed.setdefault(tid, (e.name, str(group)))
    counts: dict[str, Counter] = {}
    for name, group in removed.values():
        counts.setdefault(name, Counter())[group] += 1
    kept = [r for r in rows if r["id"] not in removed]
    return kept, {name: dict(sorted(c.items())) for name, c in counts.items()}


def merge_counts(*parts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    out: dict[str, Counter] = {}
    for part in parts:
        for name, groups in part.items():
            out.setdefault(name, Counter()).update(groups)
    return {name: dict(sorted(c.items())) for name, c in out.items()}


def _contaminated(conn: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> dict[str, str]:
    """Rows whose problem's question matches a benchmark problem, checked now (the filter may not have run)."""
    from pipeline.filters.contamination import RULE, prepare_contamination, problem_findings

    problem_ids = sorted({r["problem_id"] for r in rows})
    if not problem_ids:
        return {}
    detector = prepare_contamination(conn, RULE.params())
    if not detector.items:
        return {}
    questions = dict(
        conn.execute("SELECT id, question FROM problem WHERE id IN (SELECT unnest(?))", [problem_ids]).fetchall()
    )
    matches = problem_findings(detector, questions)
    return {r["id"]: matches[r["problem_id"]].item.benchmark for r in rows if r["problem_id"] in matches}


CONTAMINATED = register(
    Exclusion(
        name="contaminated",
        help="rows overlapping a benchmark / test-split problem: flagged by `filter --rules contamination`, "
        "or whose question matches one now",
        group_sql="(SELECT any_value(coalesce(json_extract_string(f.detail, '$.benchmark'), 'flagged')) FROM flag f "
        "WHERE f.trajectory_id = v.id AND f.rule = 'contamination')",
        find=_contaminated,
        flag_rules=("contamination",),
    )
)


def _benchmark_sources() -> str:
    from pipeline.evaluation.benchmarks import KNOWN

    return ", ".join(sorted({f"'{source}'" for source, _ in KNOWN.values()}))


# Evaluation outputs: a correct greedy answer on MATH-500 is not a demonstration to train on.
EVAL_OUTPUTS = register(
    Exclusion(
        name="eval",
        help="evaluation outputs (origin 'eval'); grouped by problem source",
        group_sql="CASE WHEN v.origin = 'eval' THEN coalesce(v.source, 'eval') END",
    )
)
# Rows on test problems: a test split, a benchmark source, or a problem some model was evaluated on.
TEST_PROBLEMS = register(
    Exclusion(
        name="test",
        help="rows on test problems: split 'test', a benchmark source (math500, aime24, ...) or any problem a "
        "model was evaluated on; grouped by problem source",
        group_sql=(
            "CASE WHEN v.source IN (" + _benchmark_sources() + ") "
            "OR v.problem_id IN (SELECT id FROM problem WHERE split = 'test') "
            "OR v.problem_id IN (SELECT problem_id FROM trajectory WHERE origin = 'eval') "
            "THEN coalesce(v.source, 'test') END"
        ),
    )
)


def excluded_sql(allow: list[str]) -> str | None:
    """A SELECT of the trajectory ids the SQL part of the active exclusions removes, for filters written in
    SQL (pairs export, `still2 export`); None when none applies. Exclusions known only in Python (`find`)
    are checked where rows are selected (dataset build, pairs build)."""
    conditions = [f"({e.group_sql}) IS NOT NULL" for e in active(allow) if e.group_sql]
    if not conditions:
        return None
    return "SELECT v.id FROM trajectories v WHERE " + " OR ".join(conditions)


def keep_sql(allow: list[str], *columns: str) -> str:
    """SQL truth value: none of these trajectory-id columns is removed by an active exclusion."""
    excluded = excluded_sql(allow)
    if excluded is None:
        return "true"
    return " AND ".join(f"{column} NOT IN ({excluded})" for column in columns)


def check_origins(origins: list[str] | None, allow: list[str] | None) -> None:
    """Asking for origin 'eval' without lifting the 'eval' exclusion would select nothing silently: say so."""
    if "eval" in (origins or []) and "eval" not in (allow or []):
        raise ValueError(
            "origin 'eval' holds evaluation outputs, which stay out of training data unless asked "
            "for by name: add --allow eval (and --allow test for rows on benchmark problems)"
        )
