"""Write a dataset's members in TRL shapes (messages / prompt-completion) as JSONL, Parquet or an HF folder."""

from __future__ import annotations

from pathlib import Path

from pipeline.datasets.build import dataset_exists, load_recipe
from pipeline.datasets.exclusions import keep_sql
from store.formats.export import format_for, trajectory_rows, write_rows
from store.store import Store


def export_dataset(
    store: Store,
    name: str,
    out: str | Path,
    *,
    shape: str = "messages",
    fmt: str | None = None,
    system_prompt: str | None = None,
    use_system: bool = True,
    with_meta: bool = False,
    allow: list[str] | None = None,
) -> int:
    """Export the members of ``name``; returns the number of rows written.

    Members a default exclusion removes (pipeline.datasets.exclusions: contaminated rows, evaluation
    outputs, test problems) are left out unless the dataset's recipe or ``allow`` lifts it: a dataset
    made by hand, or built before the exclusions existed, cannot leak them either."""
    with store.read() as conn:
        if not dataset_exists(conn, name):
            raise ValueError(f"no dataset named {name!r}")
        try:
            lifted = load_recipe(conn, name).allow
        except ValueError:  # a hand-made dataset whose recipe is not a DatasetRecipe lifts nothing
            lifted = []
    # Members by subquery: trajectory_rows(ids=...) has an ambiguous "id" in its join (store bug, reported).
    quoted = name.replace("'", "''")
    members = f"v.id IN (SELECT member_id FROM dataset_member WHERE dataset = '{quoted}')"
    allowed = keep_sql([*lifted, *(allow or [])], "v.id")
    rows = trajectory_rows(
        store,
        shape=shape,
        where=f"{members} AND {allowed}",
        system_prompt=system_prompt,
        use_system=use_system,
        with_meta=with_meta,
    )
    write_rows(rows, out, format_for(out, fmt))
    return len(rows)
