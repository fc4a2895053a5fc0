"""Training rows from the store in TRL shapes: SFT prompt/completion from a dataset's members, DPO pairs."""
from __future__ import annotations

from typing import Any

from store.formats.export import pair_rows, trajectory_rows
from store.store import Store


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def dataset_kind(store: Store, name: str) -> str:
    with store.read() as conn:
        row = conn.execute("SELECT kind FROM dataset WHERE name = ?", [name]).fetchone()
    if not row:
        raise ValueError(f"no dataset named {name!r} (see `still2 dataset list`)")
    return row[0]


def dataset_members(store: Store, name: str) -> list[str]:
    dataset_kind(store, name)
    with store.read() as conn:
        return [r[0] for r in conn.execute(
            "SELECT member_id FROM dataset_member WHERE dataset = ? ORDER BY member_id", [name]).fetchall()]


def sft_rows(store: Store, dataset: str, *, system_prompt: str | None = None,
             use_system: bool = True) -> list[dict[str, Any]]:
    """prompt (system + user) / completion (assistant) rows: TRL puts the loss on the completion only."""
    if not dataset_members(store, dataset):
        raise ValueError(f"dataset {dataset!r} has no members")
    # Members by a qualified subquery: trajectory_rows(ids=...) leaves `id` ambiguous against its problem join.
    members = f"v.id IN (SELECT member_id FROM dataset_member WHERE dataset = {_quote(dataset)})"
    return trajectory_rows(store, shape="prompt-completion", where=members, system_prompt=system_prompt,
                           use_system=use_system)


def dpo_rows(store: Store, *, dataset: str | None = None, where: str | None = None, part: str | None = None,
             system_prompt: str | None = None, use_system: bool = True) -> list[dict[str, Any]]:
    """prompt / chosen / rejected rows; thought-part pairs are cut after <|end_of_thought|>.

    Rejected pairs (status 'rejected') are left out; `dataset` (kind 'pairs') restricts to its members.
    """
    clauses = ["pr.status <> 'rejected'"]
    if dataset:
        kind = dataset_kind(store, dataset)
        if kind != "pairs":
            raise ValueError(f"dataset {dataset!r} is of kind {kind!r}; DPO needs a dataset of kind 'pairs'")
        clauses.append(f"pr.id IN (SELECT member_id FROM dataset_member WHERE dataset = {_quote(dataset)})")
    if where:
        clauses.append(f"({where})")
    rows = pair_rows(store, where=" AND ".join(clauses), part=part, system_prompt=system_prompt,
                     use_system=use_system)
    if not rows:
        raise ValueError("no pairs selected (build some with `still2 pairs build`)")
    return rows
