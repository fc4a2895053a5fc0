"""`still2 report`: the STILL-2 Table 2 layout from stored evals.

Rows are models, columns benchmarks; each cell is the latest value of the metric (in %) with the
relative gain over the backbone; each row also says what trained the model (its dataset's members by
origin: distilled / explored, or pairs).
"""
from __future__ import annotations

import csv
import io
from typing import Any

from store.store import Store


def _latest(conn, metric: str) -> list[tuple[str, str, float, int]]:
    return conn.execute("""SELECT model, benchmark, arg_max(value, created), arg_max(n, created)
                           FROM eval_result WHERE metric = ? GROUP BY model, benchmark""", [metric]).fetchall()


def _models(conn, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = conn.execute("""SELECT id, method, base, parent, dataset, created FROM model
                           WHERE id IN (SELECT unnest(?))""", [ids]).fetchall()
    return {r[0]: {"method": r[1] or "base", "base": r[2], "parent": r[3], "dataset": r[4], "created": r[5]}
            for r in rows}


def _training_data(conn, dataset: str | None) -> dict[str, int]:
    if not dataset:
        return {}
    kind = conn.execute("SELECT kind FROM dataset WHERE name = ?", [dataset]).fetchone()
    if kind and kind[0] == "pairs":
        n = conn.execute("SELECT count(*) FROM dataset_member WHERE dataset = ?", [dataset]).fetchone()[0]
        return {"pairs": n}
    rows = conn.execute("""SELECT t.origin, count(*) FROM dataset_member m JOIN trajectory t ON t.id = m.member_id
                           WHERE m.dataset = ? GROUP BY t.origin""", [dataset]).fetchall()
    counts = dict(rows)
    return {"distilled": counts.get("distill", 0), "explored": counts.get("explore", 0),
            **{k: v for k, v in counts.items() if k not in ("distill", "explore")}}


def report_data(store: Store, *, metric: str = "accuracy", backbone: str | None = None,
                models: list[str] | None = None, benchmarks: list[str] | None = None) -> dict[str, Any]:
    with store.read() as conn:
        latest = _latest(conn, metric)
        ids = sorted({m for m, *_ in latest})
        info = _models(conn, ids)
        training = {m: _training_data(conn, info.get(m, {}).get("dataset")) for m in ids}
    if models:
        ids = [m for m in models if m in set(ids)]
    else:
        # Base models first, then trained ones in the order they were made.
        ids.sort(key=lambda m: (info.get(m, {}).get("method", "base") != "base",
                                str(info.get(m, {}).get("created") or ""), m))
    benches = benchmarks or sorted({b for _, b, *_ in latest})
    values = {(m, b): (v, n) for m, b, v, n in latest}
    if backbone is None:
        roots = [info.get(m, {}).get("base") or m for m in ids]
        backbone = next((r for r in roots if r in ids), ids[0] if ids else None)
    rows = []
    for m in ids:
        cells = {}
        for b in benches:
            if (m, b) not in values:
                continue
            v, n = values[(m, b)]
            cell: dict[str, Any] = {"value": round(100 * v, 2), "n": n}
            ref = values.get((backbone, b))
            if ref is not None:
                cell["delta_points"] = round(100 * (v - ref[0]), 2)
                cell["relative_gain"] = round(100 * (v - ref[0]) / ref[0], 1) if ref[0] else None
            cells[b] = cell
        meta = info.get(m, {})
        rows.append({"model": m, "method": meta.get("method", "base"), "dataset": meta.get("dataset"),
                     "training_data": training.get(m, {}), "cells": cells})
    return {"metric": metric, "backbone": backbone, "benchmarks": benches, "rows": rows}


def _cell_text(cell: dict[str, Any] | None, is_backbone: bool) -> str:
    if not cell:
        return "-"
    text = f"{cell['value']:.1f}"
    if not is_backbone and cell.get("relative_gain") is not None:
        text += f" ({cell['relative_gain']:+.1f}%)"
    elif not is_backbone and cell.get("delta_points") is not None:  # backbone at 0: no relative gain
        text += f" ({cell['delta_points']:+.1f} pts)"
    return text


def _data_text(data: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in data.items()) or "-"


def table_rows(data: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["model", "method", "training data", *data["benchmarks"]]
    body = [[r["model"], r["method"], _data_text(r["training_data"]),
             *[_cell_text(r["cells"].get(b), r["model"] == data["backbone"]) for b in data["benchmarks"]]]
            for r in data["rows"]]
    return header, body


def to_markdown(data: dict[str, Any]) -> str:
    header, body = table_rows(data)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 3 + ["---:"] * (len(header) - 3)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    note = (f"\n{data['metric']} in %; relative gain over the backbone {data['backbone']} in parentheses "
            "(points when the backbone scores 0).\n")
    return "\n".join(lines) + "\n" + note


def to_csv(data: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["model", "method", "dataset", "distilled", "explored", "benchmark", "metric", "value",
                     "delta_points", "relative_gain", "n"])
    for r in data["rows"]:
        for b, cell in r["cells"].items():
            writer.writerow([r["model"], r["method"], r["dataset"] or "", r["training_data"].get("distilled", ""),
                             r["training_data"].get("explored", ""), b, data["metric"], cell["value"],
                             cell.get("delta_points", ""), cell.get("relative_gain", ""), cell["n"]])
    return buf.getvalue()


def to_rich(data: dict[str, Any]):
    from rich.table import Table

    header, body = table_rows(data)
    table = Table(title=f"{data['metric']} (%) - relative gain over {data['backbone']}", title_justify="left")
    for i, col in enumerate(header):
        table.add_column(col, justify="left" if i < 3 else "right", overflow="fold")
    for row in body:
        table.add_row(*row)
    return table
