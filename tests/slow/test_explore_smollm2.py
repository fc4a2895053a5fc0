"""SmolLM2-135M explores one-operation problems on CPU and at least one rollout is verified correct."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
cli = CliRunner()

# The 135M model fails two-operation arithmetic almost always; one operation it gets right sometimes.
EASY = [("What is 2 + 3?", "5"), ("What is 4 + 4?", "8"), ("What is 10 - 3?", "7"), ("What is 6 + 1?", "7")]


def test_smollm2_explores_and_finds_a_correct_trajectory(tmp_path):
    db = str(tmp_path / "s.duckdb")
    problems = tmp_path / "easy.jsonl"
    problems.write_text("".join(json.dumps({"problem": q, "answer": a}) + "\n" for q, a in EASY))
    assert cli.invoke(app, ["problems", "add", str(problems), "--db", db]).exit_code == 0
    result = cli.invoke(
        app,
        [
            "explore",
            "--db",
            db,
            "--max-rollouts",
            "8",
            "--per-round",
            "4",
            "--max-new-tokens",
            "32",
            "--temperature",
            "0.7",
            "--no-system",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["correct_total"] >= 1, summary
    rows = json.loads(
        cli.invoke(
            app,
            [
                "sql",
                """SELECT t.extracted, p.answer, t.verdict_reason
                                               FROM trajectory t JOIN problem p ON p.id = t.problem_id
                                               WHERE verdict = 'correct'""",
                "--db",
                db,
                "--json",
            ],
        ).stdout
    )
    assert rows and all(r["verdict_reason"] for r in rows)
