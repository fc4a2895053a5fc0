"""`still2 report`: Table 2 layout from stored evals (values, relative gain over the backbone, training data)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.evaluation.metrics import majority, pass_at_k
from pipeline.evaluation.report import MixedProtocols, other_table, report_data, to_csv, to_latex, to_markdown
from store.ingest import add_trajectories, insert_new

cli = CliRunner()


def _fill(store):
    with store.write() as conn:
        conn.execute("INSERT INTO model (id, path, method) VALUES ('M0', 'default', 'base')")
        conn.execute(
            "INSERT INTO model (id, path, base, parent, dataset, method) VALUES ('M1', '/m/1', 'M0', 'M0', 'D1', 'sft')"
        )
        add_trajectories(
            conn,
            [
                {
                    "id": f"t{i}",
                    "problem_id": "p",
                    "text": "x",
                    "verdict": "correct",
                    "origin": "distill" if i < 3 else "explore",
                }
                for i in range(5)
            ],
        )
        conn.execute("INSERT INTO dataset (name, kind, n_members) VALUES ('D1', 'sft', 5)")
        insert_new(
            conn, "dataset_member", [{"dataset": "D1", "member_id": f"t{i}", "inherited": False} for i in range(5)]
        )
        rows = [
            ("M0", "math500", "accuracy", 0.40),
            ("M0", "aime24", "accuracy", 0.10),
            ("M1", "math500", "accuracy", 0.50),
            ("M1", "aime24", "accuracy", 0.20),
            ("M1", "math500", "maj@4", 0.6),
        ]
        conn.executemany(
            "INSERT INTO eval_result (model, benchmark, metric, value, n, run_id) VALUES (?, ?, ?, ?, 10, 'r')",
            [list(r) for r in rows],
        )
        # An older M1 result on math500 is superseded by the latest one.
        conn.execute(
            "INSERT INTO eval_result (model, benchmark, metric, value, n, run_id, created) VALUES "
            "('M1', 'math500', 'accuracy', 0.01, 10, 'old', TIMESTAMP '2000-01-01')"
        )


def test_report_rows_gains_and_training_data(store):
    _fill(store)
    data = report_data(store)
    assert data["backbone"] == "M0" and data["benchmarks"] == ["aime24", "math500"]
    m0, m1 = data["rows"]
    assert m0["model"] == "M0" and m0["cells"]["math500"]["value"] == 40.0
    cell = m1["cells"]["math500"]
    assert (cell["value"], cell["n"], cell["delta_points"], cell["relative_gain"]) == (50.0, 10, 10.0, 25.0)
    assert m1["cells"]["aime24"]["relative_gain"] == 100.0
    assert m1["training_data"] == {"distilled": 3, "explored": 2}
    md = to_markdown(data)
    assert "| Method | Distill | Explore | AIME Acc (%) | AIME Gain (%) | MATH-OAI Acc (%) | MATH-OAI Gain (%) |" in md
    assert "| w/ SFT (M1) | 3 | 2 | 20.0 | +100.0 | 50.0 | +25.0 |" in md
    assert "| Backbone (M0) | - | - | 10.0 | - | 40.0 | - |" in md
    rows = list(csv.DictReader(io.StringIO(to_csv(data))))
    assert {(r["model"], r["benchmark"], r["value"]) for r in rows} >= {("M1", "math500", "50.0")}
    assert "answers read under answer policy default" in md  # evals stored without a policy read as default


def test_report_never_mixes_answer_policies_in_a_column_unknowingly(store):
    _fill(store)
    with store.write() as conn:
        conn.execute(
            "INSERT INTO eval_result (model, benchmark, metric, value, n, run_id, answer_policy) VALUES "
            "('M1', 'aime24', 'accuracy', 0.3, 10, 'h', 'harness')"
        )
    with pytest.raises(MixedProtocols) as e:
        report_data(store)
    assert "answer policy harness" in str(e.value) and "answer policy default" in str(e.value)
    md = to_markdown(report_data(store, allow_mixed=True))
    assert "answers read under answer policy harness" in md and "answers read under answer policy default" in md


def test_report_backbone_metric_and_cli_formats(store, db_path, tmp_path):
    _fill(store)
    data = report_data(store, backbone="M1", metric="accuracy", benchmarks=["math500"])
    assert data["rows"][0]["cells"]["math500"]["relative_gain"] == -20.0
    assert report_data(store, metric="maj@4")["rows"][0]["model"] == "M1"
    out = tmp_path / "t.md"
    result = cli.invoke(app, ["report", "--db", str(db_path), "--format", "markdown", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "| Backbone (M0) |" in out.read_text()
    result = cli.invoke(app, ["report", "--db", str(db_path), "--json"])
    assert json.loads(result.stdout)["backbone"] == "M0"
    result = cli.invoke(app, ["report", "--db", str(db_path)])
    assert result.exit_code == 0


def _protocol(store, model, benchmark, protocol, samples, temperature, top_p, stderr, prompt, max_new=32768):
    with store.write() as conn:
        conn.execute(
            """UPDATE eval_result SET protocol = ?, samples = ?, temperature = ?, top_p = ?, stderr = ?,
                        prompt = ?, max_new_tokens = ? WHERE model = ? AND benchmark = ?""",
            [protocol, samples, temperature, top_p, stderr, prompt, max_new, model, benchmark],
        )


def _same_protocol(store):
    for m, prompt in (("M0", "cot"), ("M1", "still")):
        for b in ("math500", "aime24"):
            _protocol(store, m, b, "sampled", 4, 0.6, 0.95, 0.021, prompt)


def test_report_refuses_mixed_protocols_in_a_column_unless_asked(store, db_path):
    _fill(store)
    _same_protocol(store)
    _protocol(store, "M0", "math500", "greedy", 1, 0.0, 1.0, 0.05, "cot")
    with pytest.raises(MixedProtocols, match="math500: greedy decoding.*vs sampled"):
        report_data(store)
    result = cli.invoke(app, ["report", "--db", str(db_path), "--format", "markdown"])
    assert result.exit_code == 1 and "refusing" in result.output
    data = report_data(store, allow_mixed=True)
    assert data["mixed_columns"] == ["math500"]
    md = to_markdown(data)
    greedy = next(p["marker"] for p in data["protocols"] if p["protocol"].startswith("greedy"))
    sampled = next(p["marker"] for p in data["protocols"] if p["protocol"].startswith("sampled"))
    assert f"| 40.0 [{greedy}] |" in md and f"50.0 ± 2.1 [{sampled}]" in md
    assert f"- [{greedy}] greedy decoding, max 32,768 new tokens, answers read under answer policy default." in md
    assert f"- [{sampled}] sampled: pass@1 averaged over k=4 samples at T=0.6, top-p 0.95" in md
    # one benchmark alone is not mixed
    assert report_data(store, benchmarks=["aime24"])["mixed_columns"] == []


def test_latex_table2_has_the_report_layout_and_escapes(store):
    _fill(store)
    _same_protocol(store)
    tex = to_latex(report_data(store))
    assert r"\multicolumn{2}{c}{Num. Data} & \multicolumn{2}{c}{AIME} & \multicolumn{2}{c}{MATH-OAI} \\" in tex
    assert r"\cmidrule(lr){2-3}\cmidrule(lr){4-5}\cmidrule(lr){6-7}" in tex
    assert r"Method & Distill & Explore & Acc (\%) & Gain (\%) & Acc (\%) & Gain (\%) \\" in tex
    assert r"w/ SFT (M1) & 3 & 2 & $20.0_{\pm 2.1}$ & +100.0 & $50.0_{\pm 2.1}$ & +25.0 \\" in tex
    assert r"Prompts: cot (M0); still (M1)." in tex
    assert r"$\pm$ = standard error over problems" in tex and "±" not in tex
    assert tex.count(r"\begin{tabular}") == 1 and r"\bottomrule" in tex


def test_dpo_rows_count_pairs_under_explore_and_tables_3_and_4(store):
    _fill(store)
    with store.write() as conn:
        add_trajectories(
            conn,
            [
                {"id": f"d{i}", "problem_id": "p", "text": "x", "verdict": "correct", "origin": "distill"}
                for i in range(1100)
            ],
        )
        insert_new(
            conn, "dataset_member", [{"dataset": "D1", "member_id": f"d{i}", "inherited": False} for i in range(1100)]
        )
        for name, part, sft in (("M2", "thought", 0.0), ("M3", "full", 1.0)):
            conn.execute(
                "INSERT INTO model (id, path, base, parent, method, recipe) VALUES (?, '/m', 'M0', 'M1', 'dpo', ?)",
                [name, json.dumps({"from": "M1", "pairs": 300, "part": part, "sft_weight": sft})],
            )
            conn.executemany(
                "INSERT INTO eval_result (model, benchmark, metric, value, n, run_id) VALUES (?, ?, 'accuracy', ?, 10, 'r')",
                [[name, "math500", 0.55], [name, "aime24", 0.3]],
            )
    data = report_data(store)
    m2 = next(r for r in data["rows"] if r["model"] == "M2")
    assert m2["training_data"] == {"distilled": 1103, "explored": 2, "pairs": 300}
    assert "| w/ SFT & DPO (M2) | 1.1k | 0.3k |" in to_markdown(data)
    t4 = other_table(4, store, data, "markdown")
    lines = [line for line in t4.splitlines() if line.startswith("| ")]
    assert lines[0] == "| DPO | SFT | Model | AIME | MATH-OAI | Avg. |"
    assert lines[1] == "| - (imitation, reference) | - | M1 | 20.0 | 50.0 | 35.0 |"
    assert lines[2] == "| Thought | ✗ | M2 | 30.0 | 55.0 | 42.5 |"
    assert lines[3] == "| Thought + Solution | ✓ | M3 | 30.0 | 55.0 | 42.5 |"
    t3 = other_table(3, store, data, "markdown")
    assert "| Settings | Mix | Avg. Length (thought chars) | AIME | MATH-OAI | Avg. |" in t3
    assert "| D1 (M1) | unknown 100% |" in t3
    assert r"\checkmark{}" in other_table(4, store, data, "latex")
    result = cli.invoke(app, ["report", "--db", str(store.path), "--table", "4", "--format", "latex"])
    assert result.exit_code == 0 and r"\begin{tabular}" in result.stdout


def test_metric_helpers():
    assert pass_at_k(4, 0, 2) == 0.0 and pass_at_k(4, 4, 1) == 1.0
    assert abs(pass_at_k(4, 1, 1) - 0.25) < 1e-9 and abs(pass_at_k(4, 1, 2) - 0.5) < 1e-9
    assert majority(["5", " 5", "2", None]) == "5" and majority([None, ""]) is None
    assert majority(["1", "2"]) == "1"  # tie: first seen
