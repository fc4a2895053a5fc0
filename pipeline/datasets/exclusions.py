"""Default exclusions of ``dataset build``: rows no training set should hold unless the recipe asks by name.

An exclusion names a kind of row (``contaminated``: overlaps a benchmark problem) and says, for each
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


def apply(conn: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]],
          exclusions: list[Exclusion]) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
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
    questions = dict(conn.execute("SELECT id, question FROM problem WHERE id IN (SELECT unnest(?))",
                                  [problem_ids]).fetchall())
    matches = problem_findings(detector, questions)
    return {r["id"]: matches[r["problem_id"]].item.benchmark for r in rows if r["problem_id"] in matches}


CONTAMINATED = register(Exclusion(
    name="contaminated",
    help="rows overlapping a benchmark / test-split problem: flagged by `filter --rules contamination`, "
         "or whose question matches one now",
    group_sql="(SELECT any_value(coalesce(json_extract_string(f.detail, '$.benchmark'), 'flagged')) FROM flag f "
              "WHERE f.trajectory_id = v.id AND f.rule = 'contamination')",
    find=_contaminated,
    flag_rules=("contamination",),
))
