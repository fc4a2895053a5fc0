"""`still2 report`: Table 2 layout from stored evals (values, relative gain over the backbone, training data)."""
from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.evaluation.metrics import majority, pass_at_k
from pipeline.evaluation.report import report_data, to_csv, to_markdown
from store.ingest import add_trajectories, insert_new

cli = CliRunner()


def _fill(store):
    with store.write() as conn:
        conn.execute("INSERT INTO model (id, path, method) VALUES ('M0', 'default', 'base')")
        conn.execute("INSERT INTO model (id, path, base, parent, dataset, method) VALUES "
                     "('M1', '/m/1', 'M0', 'M0', 'D1', 'sft')")
        add_trajectories(conn, [{"id": f"t{i}", "problem_id": "p", "text": "x", "verdict": "correct",
                                 "origin": "distill" if i < 3 else "explore"} for i in range(5)])
        conn.execute("INSERT INTO dataset (name, kind, n_members) VALUES ('D1', 'sft', 5)")
        insert_new(conn, "dataset_member", [{"dataset": "D1", "member_id": f"t{i}", "inherited": False}
                                            for i in range(5)])
        rows = [("M0", "math500", "accuracy", 0.40), ("M0", "aime24", "accuracy", 0.10),
                ("M1", "math500", "accuracy", 0.50), ("M1", "aime24", "accuracy", 0.20),
                ("M1", "math500", "maj@4", 0.6)]
        conn.executemany("INSERT INTO eval_result (model, benchmark, metric, value, n, run_id) VALUES (?, ?, ?, ?, 10, 'r')",
                         [list(r) for r in rows])
        # An older M1 result on math500 is superseded by the latest one.
        conn.execute("INSERT INTO eval_result (model, benchmark, metric, value, n, run_id, created) VALUES "
                     "('M1', 'math500', 'accuracy', 0.01, 10, 'old', TIMESTAMP '2000-01-01')")


def test_report_rows_gains_and_training_data(store):
    _fill(store)
    data = report_data(store)
    assert data["backbone"] == "M0" and data["benchmarks"] == ["aime24", "math500"]
    m0, m1 = data["rows"]
    assert m0["model"] == "M0" and m0["cells"]["math500"]["value"] == 40.0
    assert m1["cells"]["math500"] == {"value": 50.0, "n": 10, "delta_points": 10.0, "relative_gain": 25.0}
    assert m1["cells"]["aime24"]["relative_gain"] == 100.0
    assert m1["training_data"] == {"distilled": 3, "explored": 2}
    md = to_markdown(data)
    assert "| M1 | sft | distilled 3, explored 2 | 20.0 (+100.0%) | 50.0 (+25.0%) |" in md
    rows = list(csv.DictReader(io.StringIO(to_csv(data))))
    assert {(r["model"], r["benchmark"], r["value"]) for r in rows} >= {("M1", "math500", "50.0")}


def test_report_backbone_metric_and_cli_formats(store, db_path, tmp_path):
    _fill(store)
    data = report_data(store, backbone="M1", metric="accuracy", benchmarks=["math500"])
    assert data["rows"][0]["cells"]["math500"]["relative_gain"] == -20.0
    assert report_data(store, metric="maj@4")["rows"][0]["model"] == "M1"
    out = tmp_path / "t.md"
    result = cli.invoke(app, ["report", "--db", str(db_path), "--format", "markdown", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "| M0 |" in out.read_text()
    result = cli.invoke(app, ["report", "--db", str(db_path), "--json"])
    assert json.loads(result.stdout)["backbone"] == "M0"
    result = cli.invoke(app, ["report", "--db", str(db_path)])
    assert result.exit_code == 0


def test_metric_helpers():
    assert pass_at_k(4, 0, 2) == 0.0 and pass_at_k(4, 4, 1) == 1.0
    assert abs(pass_at_k(4, 1, 1) - 0.25) < 1e-9 and abs(pass_at_k(4, 1, 2) - 0.5) < 1e-9
    assert majority(["5", " 5", "2", None]) == "5" and majority([None, ""]) is None
    assert majority(["1", "2"]) == "1"  # tie: first seen
