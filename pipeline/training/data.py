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
        return [
            r[0]
            for r in conn.execute(
                "SELECT member_id FROM dataset_member WHERE dataset = ? ORDER BY member_id", [name]
            ).fetchall()
        ]


def split_ids(rows: list[dict[str, Any]], meta: tuple[str, ...]) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows without their meta columns (TRL sees only what it trains on), and their ids."""
    ids = [r["id"] for r in rows]
    return [{k: v for k, v in r.items() if k not in meta} for r in rows], ids


def sft_rows(
    store: Store, dataset: str, *, system_prompt: str | None = None, use_system: bool = True, with_ids: bool = False
):
    """prompt (system + user) / completion (assistant) rows: TRL puts the loss on the completion only.

    With ``with_ids``: (rows, trajectory ids)."""
    if not dataset_members(store, dataset):
        raise ValueError(f"dataset {dataset!r} has no members")
    # Members by a qualified subquery: trajectory_rows(ids=...) leaves `id` ambiguous against its problem join.
    members = f"v.id IN (SELECT member_id FROM dataset_member WHERE dataset = {_quote(dataset)})"
    rows = trajectory_rows(
        store,
        shape="prompt-completion",
        where=members,
        system_prompt=system_prompt,
        use_system=use_system,
        with_meta=True,
    )
    rows, ids = split_ids(rows, ("id", "problem_id", "origin", "model", "verdict"))
    return (rows, ids) if with_ids else rows


def dpo_rows(
    store: Store,
    *,
    dataset: str | None = None,
    where: str | None = None,
    part: str | None = None,
    system_prompt: str | None = None,
    use_system: bool = True,
    sft_part: str | None = None,
    with_ids: bool = False,
):
    """prompt / chosen / rejected rows; thought-part pairs are cut after <|end_of_thought|>.

    Rejected pairs (status 'rejected') are left out; `dataset` (kind 'pairs') restricts to its members.
    With an ``sft_part`` ('full' | 'thought') other than a row's DPO part, the row also gets
    ``sft_chosen``: the chosen response cut to that part, for the SFT term (Table 4: DPO on the
    thought, SFT on thought and solution). With ``with_ids``: (rows, pair ids).
    """
    clauses = ["pr.status <> 'rejected'"]
    if dataset:
        kind = dataset_kind(store, dataset)
        if kind != "pairs":
            raise ValueError(f"dataset {dataset!r} is of kind {kind!r}; DPO needs a dataset of kind 'pairs'")
        clauses.append(f"pr.id IN (SELECT member_id FROM dataset_member WHERE dataset = {_quote(dataset)})")
    if where:
        clauses.append(f"({where})")
    where_sql = " AND ".join(clauses)
    rows = pair_rows(
        store, where=where_sql, part=part, system_prompt=system_prompt, use_system=use_system, with_meta=True
    )
    if not rows:
        raise ValueError("no pairs selected (build some with `still2 pairs build`)")
    if sft_part in ("full", "thought") and any(r["part"] != sft_part for r in rows):
        sft = {
            r["id"]: r["chosen"]
            for r in pair_rows(
                store,
                where=where_sql,
                part=sft_part,
                system_prompt=system_prompt,
                use_system=use_system,
                with_meta=True,
            )
        }
        for r in rows:
            r["sft_chosen"] = sft[r["id"]]
    rows, ids = split_ids(rows, ("id", "problem_id", "part"))
    return (rows, ids) if with_ids else rows
