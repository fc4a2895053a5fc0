"""Export trajectories and pairs as JSONL, Parquet or a Hugging Face dataset folder, in TRL-ready shapes.

Shapes:
* ``messages``          - ``messages``: system, user, assistant (SFTTrainer conversational)
* ``prompt-completion`` - ``prompt`` (system + user messages), ``completion`` (assistant message);
                          TRL computes the loss on the completion only
* ``raw``               - every column of the ``trajectories`` view
* pairs: ``prompt``, ``chosen``, ``rejected`` (DPOTrainer conversational), cut after
  ``<|end_of_thought|>`` for thought-only pairs
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from store.output import OutputError, is_stream, open_output
from store.prompting import chat_prompt
from store.store import Store
from store.trajectory_format import thought_prefix, to_still

SHAPES = ("messages", "prompt-completion", "raw")
FORMATS = ("jsonl", "parquet", "hf")


def format_for(out: str | Path, fmt: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")
        return fmt
    name = str(out).lower()
    if name.endswith((".jsonl", ".json")):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    if is_stream(out):
        return "jsonl"  # a FIFO or a device (/dev/stdout) takes a stream, not a dataset folder
    return "hf"


def training_text(text: str, style: str | None, thought: str | None, solution: str | None) -> str:
    """The response as trained on: STILL-format text as stored; R1 <think> answers re-laid as STILL."""
    if style == "r1" and thought is not None:
        return to_still(thought, solution)
    return text


def write_rows(rows: list[dict[str, Any]], out: str | Path, fmt: str) -> None:
    """Write rows to OUT (through store.output: FIFOs, devices and symlinks are written, not replaced)."""
    out = Path(out)
    if fmt == "jsonl":
        with open_output(out) as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        return
    table = pa.Table.from_pylist(rows) if rows else pa.table({})
    if fmt == "parquet":
        import pyarrow.parquet as pq

        with open_output(out, binary=True) as f:
            pq.write_table(table, f)
    else:
        import datasets

        if out.exists() and not out.is_dir():
            raise OutputError(
                f"{out} exists and is not a folder: a Hugging Face dataset is saved as a folder "
                "(use --format jsonl or parquet to write a file)"
            )
        datasets.Dataset(table).save_to_disk(str(out))


def _where(where: str | None) -> str:
    return f"WHERE {where}" if where else ""


def trajectory_rows(
    store: Store,
    *,
    shape: str = "messages",
    where: str | None = None,
    ids: list[str] | None = None,
    system_prompt: str | None = None,
    use_system: bool = True,
    with_meta: bool = False,
) -> list[dict[str, Any]]:
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
    clauses = [c for c in (where, "v.id IN (SELECT unnest($ids))" if ids is not None else None) if c]
    sql_where = " AND ".join(f"({c})" for c in clauses)
    with store.read() as conn:
        sql = f"""SELECT v.*, p.choices FROM trajectories v LEFT JOIN problem p ON p.id = v.problem_id
                  {_where(sql_where)} ORDER BY v.problem_id, v.id"""
        table = conn.sql(sql, params={"ids": ids} if ids is not None else None).to_arrow_table()
    records = table.to_pylist()
    if shape == "raw":
        return records
    out = []
    for r in records:
        prompt = chat_prompt(r["question"], r["choices"], system_prompt, use_system=use_system)
        answer = {
            "role": "assistant",
            "content": training_text(r["text"], r["format_style"], r["thought"], r["solution"]),
        }
        row: dict[str, Any] = (
            {"messages": prompt + [answer]} if shape == "messages" else {"prompt": prompt, "completion": [answer]}
        )
        if with_meta:
            row.update(
                {
                    "id": r["id"],
                    "problem_id": r["problem_id"],
                    "origin": r["origin"],
                    "model": r["model"],
                    "verdict": r["verdict"],
                }
            )
        out.append(row)
    return out


def export_trajectories(store: Store, out: str | Path, *, fmt: str | None = None, **kwargs) -> int:
    rows = trajectory_rows(store, **kwargs)
    write_rows(rows, out, format_for(out, fmt))
    return len(rows)


def pair_rows(
    store: Store,
    *,
    where: str | None = None,
    part: str | None = None,
    system_prompt: str | None = None,
    use_system: bool = True,
    with_meta: bool = False,
) -> list[dict[str, Any]]:
    with store.read() as conn:
        table = conn.sql(f"""
            SELECT pr.id, pr.problem_id, pr.part, p.question, p.choices,
                   c.text AS c_text, c.format_style AS c_style, c.thought AS c_thought, c.solution AS c_solution,
                   r.text AS r_text, r.format_style AS r_style, r.thought AS r_thought, r.solution AS r_solution
            FROM pair pr JOIN problem p ON p.id = pr.problem_id
            JOIN trajectory c ON c.id = pr.chosen_id JOIN trajectory r ON r.id = pr.rejected_id
            {_where(where)} ORDER BY pr.problem_id, pr.id""").to_arrow_table()
    out = []
    for r in table.to_pylist():
        chosen = training_text(r["c_text"], r["c_style"], r["c_thought"], r["c_solution"])
        rejected = training_text(r["r_text"], r["r_style"], r["r_thought"], r["r_solution"])
        if (part or r["part"]) == "thought":
            chosen = thought_prefix(chosen) or chosen
            rejected = thought_prefix(rejected) or rejected
        row: dict[str, Any] = {
            "prompt": chat_prompt(r["question"], r["choices"], system_prompt, use_system=use_system),
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}],
        }
        if with_meta:
            row.update({"id": r["id"], "problem_id": r["problem_id"], "part": part or r["part"]})
        out.append(row)
    return out


def export_pairs(store: Store, out: str | Path, *, fmt: str | None = None, **kwargs) -> int:
    rows = pair_rows(store, **kwargs)
    write_rows(rows, out, format_for(out, fmt))
    return len(rows)
