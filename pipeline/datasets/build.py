"""Build, list and delete dataset versions: D_t = members of the parent (inherited) + new selection.

Default exclusions (contaminated rows, ...) apply to the inherited members as well: a parent member
found to overlap a benchmark after the parent was built is dropped from the child, and counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from pipeline.datasets.exclusions import check_origins, merge_counts
from pipeline.datasets.recipe import DatasetRecipe
from pipeline.datasets.select import Selection, excluded_members, select_members
from store.ingest import insert_new
from store.store import Store


@dataclass
class BuildResult:
    name: str
    inherited: int
    added: int
    selection: Selection
    # exclusion -> group -> rows removed (new candidates and inherited members together)
    excluded: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.inherited + self.added

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "inherited": self.inherited,
            "added": self.added,
            **self.selection.to_dict(),
            "excluded": self.excluded,
        }


def dataset_exists(conn, name: str) -> bool:
    return conn.execute("SELECT count(*) FROM dataset WHERE name = ?", [name]).fetchall()[0][0] > 0


def member_ids(conn, name: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT member_id FROM dataset_member WHERE dataset = ? ORDER BY member_id", [name]
        ).fetchall()
    ]


def build_dataset(
    store: Store, name: str, recipe: DatasetRecipe, *, note: str | None = None, replace: bool = False
) -> BuildResult:
    """Select members and record the dataset; an existing name is an error unless ``replace``."""
    if not name or not name.strip():
        raise ValueError("a dataset needs a name")
    check_origins(recipe.origins, recipe.allow)
    with store.read() as conn:
        if dataset_exists(conn, name) and not replace:
            raise ValueError(f"dataset {name!r} exists (use --replace to rebuild it)")
        if recipe.parent:
            if recipe.parent == name:
                raise ValueError("a dataset cannot be its own parent")
            if not dataset_exists(conn, recipe.parent):
                raise ValueError(f"parent dataset {recipe.parent!r} does not exist")
        inherited = member_ids(conn, recipe.parent) if recipe.parent else []
        dropped, dropped_counts = excluded_members(conn, inherited, recipe)
        inherited = [m for m in inherited if m not in dropped]
        selection = select_members(conn, recipe)
    excluded = merge_counts(selection.excluded, dropped_counts)
    rows = [{"dataset": name, "member_id": m, "inherited": True} for m in inherited] + [
        {"dataset": name, "member_id": m, "inherited": False} for m in selection.ids
    ]
    with store.write() as conn:
        conn.execute("DELETE FROM dataset_member WHERE dataset = ?", [name])
        conn.execute("DELETE FROM dataset WHERE name = ?", [name])
        conn.execute(
            "INSERT INTO dataset (name, parent, kind, recipe, n_members, note, excluded) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [name, recipe.parent, recipe.kind, recipe.to_json(), len(rows), note, json.dumps(excluded)],
        )
        if rows:
            insert_new(conn, "dataset_member", pa.Table.from_pylist(rows))
    return BuildResult(name, len(inherited), len(selection.ids), selection, excluded)


def list_datasets(store: Store) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = (
            conn.sql("""
            SELECT d.name, d.parent, d.kind, d.n_members, count(m.member_id) FILTER (WHERE NOT m.inherited) AS added,
                   d.note, d.created
            FROM dataset d LEFT JOIN dataset_member m ON m.dataset = d.name
            GROUP BY ALL ORDER BY d.created, d.name""")
            .to_arrow_table()
            .to_pylist()
        )
    return rows


def load_recipe(conn, name: str) -> DatasetRecipe:
    row = conn.execute("SELECT recipe FROM dataset WHERE name = ?", [name]).fetchall()
    row = row[0] if row else None
    if row is None:
        raise ValueError(f"no dataset named {name!r}")
    return DatasetRecipe.from_dict(json.loads(row[0]) if row[0] else {})
