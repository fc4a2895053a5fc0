"""What a dataset holds: size, per-domain counts and lengths (STILL-2 report Table 3), difficulty, lineage,
and the rows its build left out (per exclusion and benchmark)."""

from __future__ import annotations

import json
from typing import Any

from pipeline.datasets.build import dataset_exists, load_recipe
from pipeline.datasets.select import hard_sql
from store.store import Store

_MEMBERS = """
    FROM dataset_member m JOIN trajectories v ON v.id = m.member_id
    LEFT JOIN problem_stats ps ON ps.problem_id = v.problem_id
    WHERE m.dataset = $name"""


def dataset_summary(store: Store, name: str) -> dict[str, Any]:
    """Everything ``still2 dataset show`` prints, as plain data."""
    with store.read() as conn:
        if not dataset_exists(conn, name):
            raise ValueError(f"no dataset named {name!r}")
        recipe = load_recipe(conn, name)
        info = (
            conn.sql(
                "SELECT name, parent, kind, n_members, note, created, excluded FROM dataset WHERE name = $name",
                params={"name": name},
            )
            .to_arrow_table()
            .to_pylist()[0]
        )
        # exclusion -> group (e.g. benchmark) -> rows the build left out; None for datasets built before
        info["excluded"] = json.loads(info["excluded"]) if info["excluded"] else None
        q = lambda sql: conn.sql(sql, params={"name": name}).to_arrow_table().to_pylist()  # noqa: E731
        domains = q(f"""
            SELECT coalesce(v.domain, 'unknown') AS domain, count(*) AS count,
                   round(avg(v.thought_chars), 1) AS avg_thought_chars,
                   round(avg(v.solution_chars), 1) AS avg_solution_chars,
                   round(avg(v.n_tokens), 1) AS avg_tokens,
                   count(*) FILTER (WHERE m.inherited) AS inherited
            {_MEMBERS} GROUP BY ALL ORDER BY count DESC, domain""")
        total = q(f"""
            SELECT 'total' AS domain, count(*) AS count, round(avg(v.thought_chars), 1) AS avg_thought_chars,
                   round(avg(v.solution_chars), 1) AS avg_solution_chars, round(avg(v.n_tokens), 1) AS avg_tokens,
                   count(*) FILTER (WHERE m.inherited) AS inherited
            {_MEMBERS}""")
        difficulty = q(f"""
            SELECT CASE WHEN {hard_sql(recipe)} THEN 'hard' ELSE 'normal' END AS level,
                   v.difficulty, count(*) AS count
            {_MEMBERS} GROUP BY ALL ORDER BY level, v.difficulty NULLS FIRST""")
        lineage = q(f"""
            SELECT v.origin, v.run_id, v.model, v.iteration, count(*) AS count,
                   count(*) FILTER (WHERE m.inherited) AS inherited
            {_MEMBERS} GROUP BY ALL ORDER BY v.iteration NULLS FIRST, v.origin, v.run_id NULLS FIRST,
                   v.model NULLS FIRST""")
        chain, parent = [], info["parent"]
        while parent and parent not in chain and dataset_exists(conn, parent):
            chain.append(parent)
            parent = conn.execute("SELECT parent FROM dataset WHERE name = ?", [parent]).fetchall()[0][0]
    return {
        **info,
        "recipe": recipe.to_dict(),
        "domains": domains,
        "total": total[0],
        "difficulty": difficulty,
        "lineage": lineage,
        "ancestors": chain,
    }
