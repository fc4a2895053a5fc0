"""`still2 report`: the STILL-2 report's Tables 2, 3 and 4 from stored evals (terminal, markdown, LaTeX, CSV, JSON).

Table 2: one row per model (bases first, then trained ones by creation), Num. Data as Distill /
Explore counts (a DPO model: its SFT data, plus its pairs under Explore, as the report's
"1.1k / 0.3k"), then Acc (%) and Gain (%) per benchmark; Gain = relative gain over the backbone
(the report's (46.7 - 13.3) / 13.3 = +251.1). Table 3: one row per SFT model's training mixture:
its domain mix and average length (``dataset show``) next to its scores and their average. Table 4:
the DPO models by aligned part and SFT term, with their start model (imitation) as the reference.

Each value is the latest of its (model, benchmark, metric). Two values in one benchmark column must
have been measured under the same protocol (greedy or sampled, k, temperature, top-p, max new tokens):
otherwise ``report_data`` refuses (``MixedProtocols``) unless ``allow_mixed``, and then every cell
carries a marker whose footnote says how it was measured. The answer policy the verdicts were read under
(pipeline/verifier/policy.py: strict, default, harness; "default" for evals stored before policies) is part
of the protocol: a Table-2 row is never compared with a number read under another rule unknowingly.
Prompts may differ by design (the backbone is evaluated with a chain-of-thought prompt, tuned models with
STILL's); the footnote lists them.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.options import Choice, opt
from store.store import Store

BENCH_LABELS = {
    "math500": "MATH-OAI",
    "aime24": "AIME",
    "aime25": "AIME 2025",
    "amc23": "AMC 2023",
    "gpqa": "GPQA",
    "gpqa_diamond": "GPQA",
    "gsm8k": "GSM8K",
}
METHOD_LABELS = {"base": "Backbone", "sft": "w/ SFT", "dpo": "w/ SFT & DPO"}
_SIGNATURE = ("protocol", "samples", "temperature", "top_p", "max_new_tokens", "answer_policy")


class MixedProtocols(ValueError):
    """A benchmark column would mix values measured under different protocols."""


def bench_label(name: str) -> str:
    return BENCH_LABELS.get(name, name)


FORMATS = ("markdown", "md", "latex", "csv", "json")  # md: markdown
ReportFormat = Choice("ReportFormat", [(f, f) for f in FORMATS])
ReportTable = Choice("ReportTable", [(t, t) for t in ("2", "3", "4")])


@dataclass
class ReportOptions:
    """What `still2 report` prints and how; its options are generated from these fields."""

    backbone: str | None = field(default=None, metadata=opt("Model the gains are relative to (default: the base)."))
    metric: str = field(default="accuracy", metadata=opt("accuracy | pass@k | maj@k."))
    models: list[str] = field(
        default_factory=list, metadata=opt("Only these models, in this order (repeatable).", "--model")
    )
    benchmarks: list[str] = field(
        default_factory=list, metadata=opt("Only these benchmarks (repeatable).", "--benchmark", "-b")
    )
    table: int = field(
        default=2,
        metadata=opt(
            "2: models x benchmarks with Num. Data, Acc and Gain; 3: training mixtures vs scores and lengths; "
            "4: DPO variants.",
            choices=ReportTable,
            parse=int,
        ),
    )
    format: str | None = field(
        default=None, metadata=opt("markdown | latex | csv | json (default: a terminal table).", choices=ReportFormat)
    )
    allow_mixed: bool = field(
        default=False,
        metadata=opt(
            "Print values measured under different protocols in one column, each marked with a footnote "
            "(default: refuse).",
            "--allow-mixed-protocols",
        ),
    )
    show_stderr: bool = field(
        default=True, metadata=opt("Leave out the standard errors of sampled results.", "--no-stderr", negate=True)
    )
    out: Path | None = field(default=None, metadata=opt("Write to this file instead of stdout."))


def _latest(conn, metric: str) -> list[dict[str, Any]]:
    cur = conn.execute(
        """
        SELECT model, benchmark, value, n, stderr, protocol, prompt, samples, temperature, top_p, max_new_tokens,
               engine, engine_version, dtype, seed, coalesce(answer_policy, 'default') AS answer_policy
        FROM eval_result WHERE metric = ?
        QUALIFY row_number() OVER (PARTITION BY model, benchmark ORDER BY created DESC, rowid DESC) = 1""",
        [metric],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _models(conn, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        """SELECT id, method, base, parent, dataset, created, recipe FROM model
                           WHERE id IN (SELECT unnest(?))""",
        [ids],
    ).fetchall()
    return {
        r[0]: {
            "method": r[1] or "base",
            "base": r[2],
            "parent": r[3],
            "dataset": r[4],
            "created": r[5],
            "recipe": json.loads(r[6]) if r[6] else {},
        }
        for r in rows
    }


def _dataset_counts(conn, dataset: str | None) -> dict[str, int]:
    if not dataset:
        return {}
    kind = conn.execute("SELECT kind FROM dataset WHERE name = ?", [dataset]).fetchone()
    if kind and kind[0] == "pairs":
        return {"pairs": conn.execute("SELECT count(*) FROM dataset_member WHERE dataset = ?", [dataset]).fetchone()[0]}
    counts = dict(
        conn.execute(
            """SELECT t.origin, count(*) FROM dataset_member m JOIN trajectory t ON t.id = m.member_id
                                  WHERE m.dataset = ? GROUP BY t.origin""",
            [dataset],
        ).fetchall()
    )
    return {
        "distilled": counts.get("distill", 0),
        "explored": counts.get("explore", 0),
        **{k: v for k, v in counts.items() if k not in ("distill", "explore")},
    }


def _training_data(conn, model_id: str, models: dict[str, dict[str, Any]]) -> dict[str, int]:
    """What trained a model: its dataset's members by origin; a DPO model adds its pairs to its SFT parent's."""
    info = models.get(model_id) or _models(conn, [model_id]).get(model_id)
    if not info or info["method"] == "base":
        return {}
    if info["method"] != "dpo":
        return _dataset_counts(conn, info["dataset"])
    pairs = _dataset_counts(conn, info["dataset"]).get("pairs", info["recipe"].get("pairs", 0))
    start = info["recipe"].get("from") or info["parent"]
    parent = _training_data(conn, start, models) if start and start != model_id else {}
    return {**parent, "pairs": pairs}


def signature(cell: dict[str, Any]) -> tuple:
    return tuple(cell.get(k) for k in _SIGNATURE)


def describe(sig: tuple) -> str:
    protocol, samples, temperature, top_p, max_new, policy = sig
    answers = f"answers read under answer policy {policy}"
    if protocol is None:
        return f"protocol not recorded (evaluated before protocols were stored), {answers}"
    tokens = f"max {max_new:,} new tokens" if max_new else "max tokens not recorded"
    if protocol == "greedy":
        return f"greedy decoding, {tokens}, {answers}"
    return (
        f"{'sampled' if protocol == 'sampled' else protocol}: pass@1 averaged over k={samples} samples at "
        f"T={temperature:g}, top-p {top_p:g}, {tokens}, {answers}"
    )


def report_data(
    store: Store,
    *,
    metric: str = "accuracy",
    backbone: str | None = None,
    models: list[str] | None = None,
    benchmarks: list[str] | None = None,
    allow_mixed: bool = False,
) -> dict[str, Any]:
    with store.read() as conn:
        latest = _latest(conn, metric)
        ids = sorted({r["model"] for r in latest})
        info = _models(conn, ids)
        for start in {i["recipe"].get("from") or i["parent"] for i in info.values() if i["method"] == "dpo"} - {None}:
            info.update({k: v for k, v in _models(conn, [start]).items() if k not in info})
        training = {m: _training_data(conn, m, info) for m in ids}
    if models:
        ids = [m for m in models if m in set(ids)]
    else:
        # Base models first, then trained ones in the order they were made.
        ids.sort(
            key=lambda m: (
                info.get(m, {}).get("method", "base") != "base",
                str(info.get(m, {}).get("created") or ""),
                m,
            )
        )
    benches = benchmarks or sorted({r["benchmark"] for r in latest})
    values = {(r["model"], r["benchmark"]): r for r in latest}
    if backbone is None:
        roots = [info.get(m, {}).get("base") or m for m in ids]
        backbone = next((r for r in roots if r in ids), ids[0] if ids else None)
    rows, columns = [], {b: {} for b in benches}
    for m in ids:
        cells = {}
        for b in benches:
            r = values.get((m, b))
            if r is None:
                continue
            cell: dict[str, Any] = {
                "value": round(100 * r["value"], 2),
                "n": r["n"],
                "stderr": round(100 * r["stderr"], 2) if r["stderr"] is not None else None,
                **{k: r[k] for k in (*_SIGNATURE, "prompt", "engine", "engine_version", "dtype", "seed")},
            }
            ref = values.get((backbone, b))
            if ref is not None:
                cell["delta_points"] = round(100 * (r["value"] - ref["value"]), 2)
                cell["relative_gain"] = (
                    round(100 * (r["value"] - ref["value"]) / ref["value"], 1) if ref["value"] else None
                )
            columns[b].setdefault(signature(cell), []).append(m)
            cells[b] = cell
        meta = info.get(m, {})
        rows.append(
            {
                "model": m,
                "method": meta.get("method", "base"),
                "dataset": meta.get("dataset"),
                "training_data": training.get(m, {}),
                "cells": cells,
            }
        )
    protocols = sorted({sig for col in columns.values() for sig in col}, key=lambda s: tuple(str(x) for x in s))
    markers = {sig: "abcdefghijklmnopqrstuvwxyz"[i] for i, sig in enumerate(protocols)}
    mixed = {
        b: [describe(s) + " (" + ", ".join(ms) + ")" for s, ms in col.items()]
        for b, col in columns.items()
        if len(col) > 1
    }
    if mixed and not allow_mixed:
        lines = "; ".join(f"{b}: " + " vs ".join(d) for b, d in mixed.items())
        raise MixedProtocols(
            f"refusing to put values measured under different protocols in one column - {lines}. "
            "Evaluate them the same way (still2 eval --protocol ...), choose --model/--benchmark, "
            "or pass --allow-mixed-protocols to print them with a marker per protocol"
        )
    for row in rows:
        for cell in row["cells"].values():
            cell["marker"] = markers[signature(cell)] if len(protocols) > 1 else None
    prompts = {}
    for row in rows:
        for cell in row["cells"].values():
            prompts.setdefault(cell["prompt"] or "not recorded", set()).add(row["model"])
    return {
        "metric": metric,
        "backbone": backbone,
        "benchmarks": benches,
        "rows": rows,
        "protocols": [
            {"marker": markers[s] if len(protocols) > 1 else None, "protocol": describe(s)} for s in protocols
        ],
        "mixed_columns": sorted(mixed),
        "prompts": {p: sorted(ms) for p, ms in sorted(prompts.items())},
    }


# -- Table 2 ----------------------------------------------------------------------------------------
def count_text(n: int | None) -> str:
    """The report's counts: 3.9k, 0.3k (from 100 on), else the number; '-' for none."""
    if not n:
        return "-"
    return f"{n / 1000:.1f}k" if n >= 100 else str(n)


def num_data(training: dict[str, int]) -> tuple[str, str]:
    """(Distill, Explore) counts; DPO pairs count under Explore (the report's "1.1k / 0.3k")."""
    distill = training.get("distilled", 0) + training.get("import", 0)
    explore = training.get("explored", 0) + training.get("pairs", 0)
    return count_text(distill), count_text(explore)


def method_label(row: dict[str, Any], backbone: str | None) -> str:
    label = "Backbone" if row["model"] == backbone else METHOD_LABELS.get(row["method"], row["method"])
    return f"{label} ({row['model']})"


def _acc(cell: dict[str, Any] | None, show_se: bool, latex: bool = False) -> str:
    if not cell:
        return "-"
    text = f"{cell['value']:.1f}"
    if show_se and cell.get("stderr") is not None and (cell.get("samples") or 1) > 1:
        text = f"${text}_{{\\pm {cell['stderr']:.1f}}}$" if latex else f"{text} ± {cell['stderr']:.1f}"
    if cell.get("marker"):
        text += f"$^{{{cell['marker']}}}$" if latex else f" [{cell['marker']}]"
    return text


def _gain(cell: dict[str, Any] | None, is_backbone: bool) -> str:
    if not cell or is_backbone:
        return "-"
    if cell.get("relative_gain") is not None:
        return f"{cell['relative_gain']:+.1f}"
    if cell.get("delta_points") is not None:  # backbone at 0: no relative gain
        return f"{cell['delta_points']:+.1f} pts"
    return "-"


def table2_rows(data: dict[str, Any], show_se: bool = True, latex: bool = False) -> list[list[str]]:
    body = []
    for r in data["rows"]:
        is_backbone = r["model"] == data["backbone"]
        cells = []
        for b in data["benchmarks"]:
            cell = r["cells"].get(b)
            cells += [_acc(cell, show_se, latex), _gain(cell, is_backbone)]
        body.append([method_label(r, data["backbone"]), *num_data(r["training_data"]), *cells])
    return body


def footnotes(data: dict[str, Any]) -> list[str]:
    notes = [
        f"{data['metric']} in %; Gain = relative gain over the backbone {data['backbone']} "
        "(points when the backbone scores 0); Num. Data: distilled / explored trajectories "
        "(a DPO model: its SFT data, with its DPO pairs counted under Explore)."
    ]
    for p in data["protocols"]:
        notes.append((f"[{p['marker']}] " if p["marker"] else "Protocol: ") + p["protocol"] + ".")
    if any((c.get("samples") or 1) > 1 for r in data["rows"] for c in r["cells"].values()):
        notes.append("± = standard error over problems (per-problem mean over the k samples).")
    notes.append("Prompts: " + "; ".join(f"{p} ({', '.join(ms)})" for p, ms in data["prompts"].items()) + ".")
    return notes


def to_markdown(data: dict[str, Any], show_se: bool = True) -> str:
    header = ["Method", "Distill", "Explore"]
    for b in data["benchmarks"]:
        header += [f"{bench_label(b)} Acc (%)", f"{bench_label(b)} Gain (%)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in table2_rows(data, show_se)]
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in footnotes(data)) + "\n"


def latex_escape(text: str) -> str:
    out = []
    for ch in text:
        out.append(
            {
                "&": r"\&",
                "%": r"\%",
                "#": r"\#",
                "_": r"\_",
                "{": r"\{",
                "}": r"\}",
                "$": r"\$",
                "~": r"\textasciitilde{}",
                "^": r"\textasciicircum{}",
                "\\": r"\textbackslash{}",
                "±": r"$\pm$",
            }.get(ch, ch)
        )  # the SE footnote, as the cells write it
    return "".join(out)


def _latex_table(
    spec: str, head: list[str], body: list[list[str]], notes: list[str], caption: str, rules: str = ""
) -> str:
    lines = [r"\begin{table}[t]", r"\centering", r"\small", rf"\begin{{tabular}}{{{spec}}}", r"\toprule", *head]
    if rules:
        lines.append(rules)
    lines.append(r"\midrule")
    lines += [" & ".join(row) + r" \\" for row in body]
    lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{caption}}}"]
    lines += [r"\par\footnotesize " + " ".join(latex_escape(n) for n in notes), r"\end{table}"]
    return "\n".join(lines) + "\n"


def to_latex(data: dict[str, Any], show_se: bool = True) -> str:
    """Table 2 as the report lays it out (booktabs): Num. Data over Distill/Explore, Acc/Gain per benchmark."""
    benches = data["benchmarks"]
    top = [
        r"\multicolumn{1}{l}{} & \multicolumn{2}{c}{Num. Data}"
        + "".join(rf" & \multicolumn{{2}}{{c}}{{{latex_escape(bench_label(b))}}}" for b in benches)
        + r" \\"
    ]
    rules = r"\cmidrule(lr){2-3}" + "".join(rf"\cmidrule(lr){{{4 + 2 * i}-{5 + 2 * i}}}" for i in range(len(benches)))
    sub = ["Method & Distill & Explore" + r" & Acc (\%) & Gain (\%)" * len(benches) + r" \\"]
    body = [[c if "$" in c else latex_escape(c) for c in row] for row in table2_rows(data, show_se, latex=True)]
    return _latex_table(
        "l" + "cc" + "cc" * len(benches),
        top + [rules] + sub,
        body,
        footnotes(data),
        "Performance comparison (STILL-2 report, Table 2 layout).",
    )


# A cell's protocol fields, the CSV's last columns (named as in the cell).
_CSV_PROTOCOL = (
    "protocol",
    "samples",
    "temperature",
    "top_p",
    "max_new_tokens",
    "prompt",
    "engine_version",
    "dtype",
    "seed",
)


def to_csv(data: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(
        [
            "model",
            "method",
            "dataset",
            "distilled",
            "explored",
            "pairs",
            "benchmark",
            "metric",
            "value",
            "stderr",
            "delta_points",
            "relative_gain",
            "n",
            *_CSV_PROTOCOL,
        ]
    )
    for r in data["rows"]:
        t = r["training_data"]
        for b, cell in r["cells"].items():
            writer.writerow(
                [
                    r["model"],
                    r["method"],
                    r["dataset"] or "",
                    t.get("distilled", ""),
                    t.get("explored", ""),
                    t.get("pairs", ""),
                    b,
                    data["metric"],
                    cell["value"],
                    cell.get("stderr", ""),
                    cell.get("delta_points", ""),
                    cell.get("relative_gain", ""),
                    cell["n"],
                    *[cell.get(k, "") for k in _CSV_PROTOCOL],
                ]
            )
    return buf.getvalue()


def to_rich(data: dict[str, Any], show_se: bool = True):
    from rich.table import Table

    table = Table(
        title=f"{data['metric']} (%) - gain relative to {data['backbone']}",
        title_justify="left",
        caption="\n".join(footnotes(data)),
        caption_justify="left",
    )
    for col in ["Method", "Distill", "Explore"]:
        table.add_column(col, justify="left" if col == "Method" else "right", overflow="fold")
    for b in data["benchmarks"]:
        table.add_column(f"{bench_label(b)}\nAcc (%)", justify="right")
        table.add_column("\nGain (%)", justify="right")
    for row in table2_rows(data, show_se):
        table.add_row(*row)
    return table


# -- Tables 3 and 4 ---------------------------------------------------------------------------------
def _avg(cells: dict[str, dict], benches: list[str]) -> float | None:
    vals = [cells[b]["value"] for b in benches if b in cells]
    return round(sum(vals) / len(vals), 1) if len(vals) == len(benches) and vals else None


def table3_data(store: Store, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per SFT model: its dataset's mixture and average length (``dataset show``) beside its scores."""
    from pipeline.datasets.report import dataset_summary

    out = []
    for r in data["rows"]:
        if r["method"] != "sft" or not r["dataset"]:
            continue
        try:
            s = dataset_summary(store, r["dataset"])
        except ValueError:
            continue
        total = s["total"]["count"] or 0
        mix = ", ".join(f"{d['domain']} {100 * d['count'] / total:.0f}%" for d in s["domains"]) if total else "-"
        hard = sum(d["count"] for d in s["difficulty"] if d["level"] == "hard")
        length = s["total"]["avg_tokens"] if s["total"]["avg_tokens"] is not None else s["total"]["avg_thought_chars"]
        out.append(
            {
                "model": r["model"],
                "dataset": r["dataset"],
                "note": s.get("note"),
                "size": total,
                "mix": mix,
                "hard_share": round(hard / total, 3) if total else None,
                "avg_length": length,
                "length_unit": "tokens" if s["total"]["avg_tokens"] is not None else "thought chars",
                "cells": r["cells"],
                "avg": _avg(r["cells"], data["benchmarks"]),
            }
        )
    return out


def table4_data(store: Store, data: dict[str, Any]) -> list[dict[str, Any]]:
    """DPO models by aligned part and SFT term, after their start model (the imitation reference)."""
    by_model = {r["model"]: r for r in data["rows"]}
    with store.read() as conn:
        info = _models(conn, [r["model"] for r in data["rows"]])
    out, refs = [], []
    for r in data["rows"]:
        if r["method"] != "dpo":
            continue
        recipe = info.get(r["model"], {}).get("recipe", {})
        start = recipe.get("from") or info.get(r["model"], {}).get("parent")
        if start in by_model and start not in refs:
            refs.append(start)
        sft = float(recipe.get("sft_weight", 0) or 0) > 0 or "sft" in (recipe.get("loss_type") or [])
        part = recipe.get("part") or "each pair's own"
        out.append(
            {
                "model": r["model"],
                "dpo": {"thought": "Thought", "full": "Thought + Solution"}.get(part, part),
                "sft": sft,
                "sft_part": recipe.get("sft_part"),
                "pairs": r["training_data"].get("pairs"),
                "cells": r["cells"],
                "avg": _avg(r["cells"], data["benchmarks"]),
            }
        )
    refs_rows = [
        {
            "model": m,
            "dpo": "- (imitation, reference)",
            "sft": None,
            "sft_part": None,
            "pairs": None,
            "cells": by_model[m]["cells"],
            "avg": _avg(by_model[m]["cells"], data["benchmarks"]),
        }
        for m in refs
    ]
    return refs_rows + out


def _simple(cells: dict, benches: list[str], show_se: bool, latex: bool) -> list[str]:
    return [_acc(cells.get(b), show_se, latex) for b in benches]


def table_rows(
    which: int, store: Store, data: dict[str, Any], show_se: bool = True, latex: bool = False
) -> tuple[list[str], list[list[str]]]:
    benches = [bench_label(b) for b in data["benchmarks"]]
    avg = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
    if which == 3:
        rows = table3_data(store, data)
        unit = rows[0]["length_unit"] if rows else "tokens"
        header = ["Settings", "Mix", f"Avg. Length ({unit})", *benches, "Avg."]
        body = [
            [
                f"{r['dataset']} ({r['model']})",
                r["mix"],
                avg(r["avg_length"]),
                *_simple(r["cells"], data["benchmarks"], show_se, latex),
                avg(r["avg"]),
            ]
            for r in rows
        ]
        return header, body
    if which == 4:
        rows = table4_data(store, data)
        mark = {True: "✓", False: "✗", None: "-"}
        header = ["DPO", "SFT", "Model", *benches, "Avg."]
        body = [
            [
                r["dpo"],
                mark[r["sft"]] + (f" ({r['sft_part']})" if r.get("sft_part") else ""),
                r["model"],
                *_simple(r["cells"], data["benchmarks"], show_se, latex),
                avg(r["avg"]),
            ]
            for r in rows
        ]
        return header, body
    raise ValueError(f"no table {which} (2, 3 or 4)")


def other_table(which: int, store: Store, data: dict[str, Any], fmt: str, show_se: bool = True) -> str:
    """Table 3 or 4 as markdown, LaTeX, CSV or JSON."""
    if fmt == "json":
        rows = table3_data(store, data) if which == 3 else table4_data(store, data)
        return (
            json.dumps(
                {"table": which, "benchmarks": data["benchmarks"], "rows": rows, "protocols": data["protocols"]},
                indent=2,
                default=str,
            )
            + "\n"
        )
    header, body = table_rows(which, store, data, show_se, latex=fmt == "latex")
    notes = footnotes(data)[1:]
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf).writerows([header, *body])
        return buf.getvalue()
    if fmt == "latex":
        body = [
            [c if "$" in c else latex_escape(c).replace("✓", r"\checkmark{}").replace("✗", r"$\times$") for c in row]
            for row in body
        ]
        caption = (
            "Mixtures of training data: average length and performance (STILL-2 report, Table 3 layout)."
            if which == 3
            else "DPO variants (STILL-2 report, Table 4 layout); the start model is the reference."
        )
        return _latex_table(
            "l" * (len(header) - len(benches := data["benchmarks"]) - 1) + "c" * (len(benches) + 1),
            [" & ".join(latex_escape(h) for h in header) + r" \\"],
            body,
            notes,
            caption,
        )
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
