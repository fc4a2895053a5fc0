"""A Hugging Face dataset card (README.md with YAML metadata) for a dataset version, generated from the store.

Everything a reader needs to trust the data and redo it: the recipe (every selection setting), the
lineage (parent versions, the runs, models and iterations the members come from), what the filter
rules flagged among the candidate rollouts (count per rule with example reasons), the rows left out
by the default exclusions (decontamination: count per benchmark, and which benchmarks were checked),
the verifier version and answer policy behind the verdicts, the domain mix and length statistics.
The YAML header holds what the Hub indexes (license, language, tags, size category, task) and the
``configs`` entry that tells ``datasets.load_dataset`` where the data files are.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.datasets.report import dataset_summary
from store.store import Store

DATA_DIR = "data"
DATA_FILE = "data/train-00000-of-00001.parquet"


def _size_category(n: int) -> str:
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if n < limit:
            return name
    return "10M<n<100M"


def _column_exists(conn, table: str, column: str) -> bool:
    return bool(
        conn.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = ?", [table, column]
        ).fetchall()[0][0]
    )


def card_facts(store: Store, name: str) -> dict[str, Any]:
    """The facts the card states, as plain data (also what ``--json`` prints)."""
    summary = dataset_summary(store, name)
    members = "SELECT member_id FROM dataset_member WHERE dataset = $name"
    with store.read() as conn:
        q = lambda sql: conn.sql(sql, params={"name": name} if "$name" in sql else None).to_arrow_table().to_pylist()  # noqa: E731, E501
        lengths = q(f"""
            SELECT count(*) AS n,
                   round(avg(n_tokens), 1) AS tokens_mean, quantile_cont(n_tokens, 0.5) AS tokens_median,
                   quantile_cont(n_tokens, 0.9) AS tokens_p90, max(n_tokens) AS tokens_max,
                   round(avg(thought_chars), 1) AS thought_chars_mean,
                   quantile_cont(thought_chars, 0.5) AS thought_chars_median,
                   round(avg(solution_chars), 1) AS solution_chars_mean
            FROM trajectory WHERE id IN ({members})""")[0]
        policy = "answer_policy" if _column_exists(conn, "trajectory", "answer_policy") else "NULL"
        verification = q(f"""
            SELECT coalesce(verifier_version, 'unknown') AS verifier_version,
                   coalesce({policy}, 'default') AS answer_policy, verdict, count(*) AS count
            FROM trajectory WHERE id IN ({members}) GROUP BY ALL ORDER BY count DESC""")
        runs = [r["run_id"] for r in summary["lineage"] if r["run_id"]]
        run_info = (
            q(f"""SELECT id, kind, args->>'engine' AS engine, args->>'model' AS model, state
                         FROM run WHERE id IN (SELECT DISTINCT run_id FROM trajectory WHERE id IN ({members}))
                         ORDER BY id""")
            if runs
            else []
        )
        # What the filter rules flagged among the rollouts the members were drawn from (same runs, or
        # same origins for imported rows without a run).
        pool = f"""SELECT id FROM trajectory WHERE run_id IN (SELECT DISTINCT run_id FROM trajectory
                       WHERE id IN ({members}) AND run_id IS NOT NULL)
                   OR (run_id IS NULL AND origin IN (SELECT DISTINCT origin FROM trajectory
                       WHERE id IN ({members}) AND run_id IS NULL))"""
        pool_size = q(f"SELECT count(*) AS n FROM ({pool})")[0]["n"]
        flags = q(f"""
            SELECT rule, count(*) AS flagged, count(*) FILTER (WHERE trajectory_id IN ({members})) AS in_dataset,
                   list(DISTINCT reason)[1:2] AS examples
            FROM flag WHERE trajectory_id IN ({pool}) GROUP BY rule ORDER BY flagged DESC, rule""")
        from pipeline.evaluation.benchmarks import benchmark_name_sql

        bench = benchmark_name_sql("p")
        benchmarks = q(f"""SELECT {bench} AS benchmark, count(*) AS problems FROM problem p
                           WHERE {bench} IS NOT NULL GROUP BY ALL ORDER BY benchmark""")
        models = q("""SELECT id, method, base, parent, created FROM model WHERE dataset = $name ORDER BY created""")
    return {
        "name": name,
        "summary": summary,
        "lengths": lengths,
        "verification": verification,
        "runs": run_info,
        "pool_size": pool_size,
        "flags": flags,
        "benchmarks": benchmarks,
        "trained_models": models,
    }


def _yaml_list(items: list[str]) -> str:
    return "".join(f"\n- {json.dumps(i)}" for i in items)


def render_card(
    facts: dict[str, Any],
    *,
    license: str = "other",
    shape: str = "messages",
    repo_id: str | None = None,
    revision: str | None = None,
) -> str:
    s = facts["summary"]
    n = s["n_members"]
    domains = [d["domain"] for d in s["domains"]]
    header = (
        f"---\nlicense: {license}\nlanguage:\n- en\npretty_name: {json.dumps(s['name'])}\n"
        f"size_categories:\n- {_size_category(n)}\ntask_categories:\n- text-generation\n"
        f"tags:{_yaml_list(['reasoning', 'long-form-thought', 'still2', 'synthetic', *domains])}\n"
        f"configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: {DATA_DIR}/train-*.parquet\n"
        "---\n"
    )
    out = [
        header,
        f"# {s['name']}\n",
        f"Slow-thinking trajectories (`<|begin_of_thought|>` ... `<|end_of_thought|>` then "
        f"`<|begin_of_solution|>` ... `<|end_of_solution|>`) selected with the STILL-2 recipe "
        f'("imitate, explore, self-improve"): {n:,} rows, dataset version `{s["name"]}` ({s["kind"]}) '
        f"of a still2tui store. This card was generated from the store by `still2 dataset export --card`.\n",
    ]
    if s.get("note"):
        out.append(f"Note: {s['note']}\n")
    if repo_id:
        rev = f', revision="{revision}"' if revision else ""
        out.append(
            f'```python\nfrom datasets import load_dataset\nds = load_dataset("{repo_id}"{rev}, split="train")\n```\n'
        )
    out.append(_fields(shape))
    out.append(_composition(facts))
    out.append(_lineage(facts))
    out.append(_recipe(s))
    out.append(_filters(facts))
    out.append(_decontamination(facts))
    out.append(_verification(facts))
    return "\n".join(out)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    fmt = lambda v: "" if v is None else f"{v:,}" if isinstance(v, int) else str(v).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _fields(shape: str) -> str:
    fields = {
        "messages": "`messages`: the system prompt (STILL-2's), the question, and the response",
        "prompt-completion": "`prompt` (system prompt and question as chat messages) and `completion` "
        "(the response as an assistant message); TRL computes the loss on the completion",
        "raw": "every column of the store's `trajectories` view",
    }.get(shape, shape)
    return f"## Data fields\n\nOne split, `train`, in TRL's `{shape}` shape: {fields}.\n"


def _composition(facts: dict[str, Any]) -> str:
    s, length = facts["summary"], facts["lengths"]
    rows = [
        [
            d["domain"],
            d["count"],
            f"{100 * d['count'] / max(1, s['n_members']):.1f}%",
            d["avg_thought_chars"],
            d["avg_solution_chars"],
            d["avg_tokens"],
            d["inherited"],
        ]
        for d in s["domains"]
    ]
    text = [
        "## Composition\n",
        _table(["domain", "rows", "share", "avg thought chars", "avg solution chars", "avg tokens", "inherited"], rows),
    ]
    text.append(
        _table(
            ["difficulty level", "difficulty", "rows"],
            [[d["level"], d["difficulty"], d["count"]] for d in s["difficulty"]],
        )
    )
    text.append(
        "Length statistics (model tokens of the whole response; characters of the thought and solution):\n\n"
        + _table(
            ["rows", "tokens mean", "median", "p90", "max", "thought chars mean", "median", "solution chars mean"],
            [
                [
                    length["n"],
                    length["tokens_mean"],
                    length["tokens_median"],
                    length["tokens_p90"],
                    length["tokens_max"],
                    length["thought_chars_mean"],
                    length["thought_chars_median"],
                    length["solution_chars_mean"],
                ]
            ],
        )
    )
    return "\n".join(text)


def _lineage(facts: dict[str, Any]) -> str:
    s = facts["summary"]
    text = [
        "## Lineage\n",
        (
            f"Parent version: `{s['parent']}`"
            + (f" (ancestors: {' <- '.join(s['ancestors'])})" if s["ancestors"] else "")
            + "; its members are inherited.\n"
        )
        if s["parent"]
        else "No parent version: every member was selected here.\n",
    ]
    text.append(
        _table(
            ["origin", "run", "model", "iteration", "rows", "inherited"],
            [[d["origin"], d["run_id"], d["model"], d["iteration"], d["count"], d["inherited"]] for d in s["lineage"]],
        )
    )
    if facts["runs"]:
        text.append(
            "Runs:\n\n"
            + _table(
                ["run", "kind", "engine", "model", "state"],
                [[r["id"], r["kind"], r["engine"], r["model"], r["state"]] for r in facts["runs"]],
            )
        )
    if facts["trained_models"]:
        text.append(
            "Models trained on this version in the store: "
            + ", ".join(f"`{m['id']}` ({m['method']} from {m['parent'] or m['base']})" for m in facts["trained_models"])
            + ".\n"
        )
    return "\n".join(text)


def _recipe(s: dict[str, Any]) -> str:
    return (
        "## Recipe\n\nThe selection settings (`DatasetRecipe`; rebuilding from the same store and recipe gives "
        "the same members):\n\n```json\n" + json.dumps(s["recipe"], indent=2, sort_keys=True) + "\n```\n"
    )


def _filters(facts: dict[str, Any]) -> str:
    if not facts["flags"]:
        return (
            f"## Filters\n\nNo filter rule flagged any of the {facts['pool_size']:,} rollouts of the runs the "
            "members come from (or no rule was run).\n"
        )
    rows = [[f["rule"], f["flagged"], f["in_dataset"], "; ".join(f["examples"] or [])[:300]] for f in facts["flags"]]
    return (
        f"## Filters\n\nFlags among the {facts['pool_size']:,} rollouts of the runs the members come from "
        "(`still2 filter`; the recipe's `exclude_flags` says which keep a row out):\n\n"
        + _table(["rule", "flagged", "in this dataset", "example reasons"], rows)
    )


def _decontamination(facts: dict[str, Any]) -> str:
    s = facts["summary"]
    excluded = s.get("excluded")
    benches = ", ".join(f"{b['benchmark']} ({b['problems']:,} problems)" for b in facts["benchmarks"]) or "none"
    text = [
        "## Decontamination\n",
        f"Checked against the benchmark and test-split problems in the store: {benches}. Rule `contamination` "
        "(word 5-grams covering 60% of a benchmark question with its numbers, fuzzy ratio >= 95 on questions, "
        "13-grams on responses; see still2tui's README).\n",
    ]
    if excluded is None:
        text.append("This version was built before exclusions were recorded: no count is available.\n")
    elif excluded:
        rows = [[name, group, n] for name, groups in excluded.items() for group, n in groups.items()]
        text.append(
            "Rows left out by the default exclusions when this version was built:\n\n"
            + _table(["exclusion", "benchmark", "rows removed"], rows)
        )
    else:
        text.append("No row was left out: no candidate matched a benchmark problem.\n")
    allowed = s["recipe"].get("allow") or []
    if allowed:
        text.append(
            f"**The recipe lifted these exclusions: {', '.join(allowed)}.** Contaminated rows may be present.\n"
        )
    flagged = next((f["in_dataset"] for f in facts["flags"] if f["rule"] == "contamination"), 0)
    text.append(f"Members flagged `contamination` now: {flagged}.\n")
    return "\n".join(text)


def _verification(facts: dict[str, Any]) -> str:
    rows = [[v["verifier_version"], v["answer_policy"], v["verdict"], v["count"]] for v in facts["verification"]]
    return (
        "## Verification\n\nVerdicts by still2tui's verifier against each problem's gold answer (math-verify and "
        "sympy equivalence; a hard timeout per item):\n\n"
        + _table(["verifier version", "answer policy", "verdict", "rows"], rows)
    )


def write_card(store: Store, name: str, path, **kw) -> str:
    text = render_card(card_facts(store, name), **kw)
    from pathlib import Path

    Path(path).write_text(text, encoding="utf-8")
    return text
