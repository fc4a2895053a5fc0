"""Write pairs as prompt/chosen/rejected (DPOTrainer conversational form); thought pairs are cut at end-of-thought."""

from __future__ import annotations

from pathlib import Path

from pipeline.datasets.exclusions import keep_sql
from store.formats.export import format_for, pair_rows, write_rows
from store.store import Store


def pair_keep_sql(allow: list[str] | None) -> str:
    """Both sides of a pair (aliases c and r in pair_rows) survive the default exclusions."""
    return keep_sql(list(allow or []), "pr.chosen_id", "pr.rejected_id")


def export_pairs(
    store: Store,
    out: str | Path,
    *,
    part: str | None = None,
    include_pending: bool = True,
    problem: str | None = None,
    fmt: str | None = None,
    system_prompt: str | None = None,
    use_system: bool = True,
    with_meta: bool = False,
    allow: list[str] | None = None,
) -> int:
    """Export pairs (never 'rejected' ones; only 'approved' unless ``include_pending``); returns rows written.

    A pair whose chosen or rejected side a default exclusion removes (contaminated, evaluation output,
    test problem; pipeline.datasets.exclusions) is left out unless ``allow`` names it."""
    clauses = ["pr.status = 'approved'" if not include_pending else "pr.status <> 'rejected'", pair_keep_sql(allow)]
    if problem:
        clauses.append("pr.problem_id = '" + problem.replace("'", "''") + "'")
    rows = pair_rows(
        store,
        where=" AND ".join(clauses),
        part=part,
        system_prompt=system_prompt,
        use_system=use_system,
        with_meta=with_meta,
    )
    write_rows(rows, out, format_for(out, fmt))
    return len(rows)
