"""Choose a dataset's new members from the store by a ``DatasetRecipe`` (pure reads, deterministic).

Steps, in order: SQL filters (verdict, status, flags, lengths, origin/model/run/iteration/domain,
extra ``where``; trajectories already in the parent are skipped) -> default exclusions
(``pipeline.datasets.exclusions``: contaminated rows, unless ``allow``ed) -> perplexity selection (top
percent per domain) -> ``max_per_problem`` -> domain and hard/normal quotas filled in a seeded
order -> ``size``. Ties are always broken by id, so the result never depends on row order.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pipeline.datasets import exclusions
from pipeline.datasets.quota import allocate, seeded_key
from pipeline.datasets.recipe import DatasetRecipe

LEXICAL_TOKENS = "len(regexp_extract_all({col}, '\\w+|[^\\w\\s]'))"


@dataclass
class Selection:
    ids: list[str]
    candidates: int
    after_ppl: int
    after_per_problem: int
    strata: dict[str, dict[str, int]] = field(default_factory=dict)  # stratum -> available, taken
    excluded: dict[str, dict[str, int]] = field(default_factory=dict)  # exclusion -> group -> rows removed

    def to_dict(self) -> dict[str, Any]:
        return {
            "selected": len(self.ids),
            "candidates": self.candidates,
            "after_ppl": self.after_ppl,
            "after_per_problem": self.after_per_problem,
            "strata": self.strata,
            "excluded": self.excluded,
        }


def hard_sql(recipe: DatasetRecipe, pass_rate: str = "ps.pass_rate", difficulty: str = "v.difficulty") -> str:
    """SQL truth value 'this problem is hard' under the recipe's definition."""
    parts = [f"coalesce({pass_rate} < {float(recipe.hard_pass_rate)}, false)"]
    if recipe.hard_min_difficulty is not None:
        parts.append(f"coalesce({difficulty} >= {int(recipe.hard_min_difficulty)}, false)")
    return "(" + " OR ".join(parts) + ")"


def excluded_members(conn, ids: list[str], recipe: DatasetRecipe) -> tuple[set[str], dict[str, dict[str, int]]]:
    """Which of these (inherited) members the recipe's exclusions remove, with counts per exclusion and group."""
    chosen = exclusions.active(recipe.allow)
    if not ids or not chosen:
        return set(), {}
    cols = ", ".join(["v.id", "v.problem_id", *exclusions.sql_columns(chosen)])
    rows = (
        conn.sql(f"SELECT {cols} FROM trajectories v WHERE v.id IN (SELECT unnest($ids))", params={"ids": ids})
        .to_arrow_table()
        .to_pylist()
    )
    kept, counts = exclusions.apply(conn, rows, chosen)
    return set(ids) - {r["id"] for r in kept}, counts


def candidate_query(recipe: DatasetRecipe) -> tuple[str, dict[str, Any]]:
    where, params = [], {}
    if recipe.parent:
        where.append("v.id NOT IN (SELECT member_id FROM dataset_member WHERE dataset = $parent)")
        params["parent"] = recipe.parent
    if recipe.correct_only:
        where.append("v.verdict = 'correct'")
    if recipe.approved_only:
        where.append("v.status = 'approved'")
    elif recipe.exclude_rejected:
        where.append("v.status <> 'rejected'")
    if "*" in recipe.exclude_flags:
        # any flag, except those a default exclusion accounts for (counted and lifted there)
        where.append("len(list_filter(v.flags, lambda x: NOT list_contains($owned_flags, x))) = 0")
        params["owned_flags"] = exclusions.owned_flag_rules()
    elif recipe.exclude_flags:
        where.append("NOT list_has_any(v.flags, $flags)")
        params["flags"] = list(recipe.exclude_flags)
    if recipe.min_thought_chars:
        where.append(f"coalesce(v.thought_chars, 0) >= {int(recipe.min_thought_chars)}")
    if recipe.min_thought_tokens:
        where.append(f"coalesce({LEXICAL_TOKENS.format(col='v.thought')}, 0) >= {int(recipe.min_thought_tokens)}")
    if recipe.min_tokens:
        where.append(f"coalesce(v.n_tokens, 0) >= {int(recipe.min_tokens)}")
    for name, column in (("origins", "origin"), ("models", "model"), ("runs", "run_id"), ("domains", "domain")):
        values = getattr(recipe, name)
        if values:
            where.append(f"v.{column} IN (SELECT unnest(${name}))")
            params[name] = list(values)
    if recipe.iteration_min is not None:
        where.append(f"v.iteration >= {int(recipe.iteration_min)}")
    if recipe.iteration_max is not None:
        where.append(f"v.iteration <= {int(recipe.iteration_max)}")
    if recipe.where:
        where.append(f"({recipe.where})")
    ppl_join, ppl_col = "", "NULL::DOUBLE"
    if recipe.ppl_scorer:
        ppl_join = (
            "LEFT JOIN (SELECT trajectory_id, arg_max(ppl, created) AS ppl FROM perplexity "
            "WHERE scorer = $scorer AND part = $part GROUP BY trajectory_id) px ON px.trajectory_id = v.id"
        )
        ppl_col = "px.ppl"
        params.update(scorer=recipe.ppl_scorer, part=recipe.ppl_part)
    excl = "".join(", " + c for c in exclusions.sql_columns(exclusions.active(recipe.allow)))
    sql = f"""
        SELECT v.id, v.problem_id, coalesce(v.domain, 'unknown') AS domain, {ppl_col} AS sel_ppl,
               {hard_sql(recipe)} AS hard{excl}
        FROM trajectories v
        LEFT JOIN problem_stats ps ON ps.problem_id = v.problem_id
        {ppl_join}
        {"WHERE " + " AND ".join(where) if where else ""}
        ORDER BY v.id"""
    return sql, params


def _by(rows: list[dict], key: str) -> dict[Any, list[dict]]:
    groups: dict[Any, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r[key]].append(r)
    return groups


def _top_ppl(rows: list[dict], percent: float) -> list[dict]:
    kept = []
    for _, group in sorted(_by([r for r in rows if r["sel_ppl"] is not None], "domain").items()):
        group.sort(key=lambda r: (-r["sel_ppl"], r["id"]))
        kept += group[: math.ceil(len(group) * percent / 100)]
    return kept


def _per_problem(rows: list[dict], limit: int, seed: int) -> list[dict]:
    kept = []
    for _, group in sorted(_by(rows, "problem_id").items()):
        group.sort(key=lambda r: (-(r["sel_ppl"] or 0.0), seeded_key(seed, r["id"])))
        kept += group[:limit]
    return kept


def _stratum(row: dict, recipe: DatasetRecipe) -> str:
    parts = []
    if recipe.domain_mix:
        parts.append(row["domain"])
    if recipe.hard_ratio is not None:
        parts.append("hard" if row["hard"] else "normal")
    return "/".join(parts) or "all"


def _ratios(recipe: DatasetRecipe) -> dict[str, float]:
    domains = recipe.domain_mix or {"": 1.0}
    hardness = (
        {"hard": recipe.hard_ratio, "normal": 1 - recipe.hard_ratio} if recipe.hard_ratio is not None else {"": 1.0}
    )
    return {
        "/".join(p for p in (d, h) if p) or "all": rd * rh for d, rd in domains.items() for h, rh in hardness.items()
    }


def select_members(conn, recipe: DatasetRecipe) -> Selection:
    """The new member ids (sorted) for ``recipe``, with counts at each step."""
    sql, params = candidate_query(recipe)
    rows = conn.sql(sql, params=params or None).to_arrow_table().to_pylist()
    rows, excluded = exclusions.apply(conn, rows, exclusions.active(recipe.allow))
    candidates = len(rows)
    if recipe.ppl_top_percent is not None:
        rows = _top_ppl(rows, recipe.ppl_top_percent)
    after_ppl = len(rows)
    if recipe.max_per_problem is not None:
        rows = _per_problem(rows, recipe.max_per_problem, recipe.seed)
    after_problem = len(rows)
    strata = _by([dict(r, stratum=_stratum(r, recipe)) for r in rows], "stratum")
    for group in strata.values():
        group.sort(key=lambda r: seeded_key(recipe.seed, r["id"]))
    available = {k: len(v) for k, v in strata.items()}
    if recipe.domain_mix or recipe.hard_ratio is not None:
        available = {k: available.get(k, 0) for k in set(available) | set(_ratios(recipe))}
        take = allocate(available, _ratios(recipe), recipe.size)
    else:
        take = {"all": min(available.get("all", 0), recipe.size if recipe.size is not None else candidates)}
    chosen = [r["id"] for k, group in strata.items() for r in group[: take.get(k, 0)]]
    report = {
        k: {"available": available.get(k, 0), "taken": take.get(k, 0)}
        for k in sorted(set(available) | set(_ratios(recipe)))
    }
    return Selection(sorted(chosen), candidates, after_ppl, after_problem, report, excluded)
