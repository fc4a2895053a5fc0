"""SmolLM2-135M explores easy generated problems on CPU and at least one rollout is verified correct."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
cli = CliRunner()


def test_smollm2_explores_and_finds_a_correct_trajectory(tmp_path):
    db = str(tmp_path / "s.duckdb")
    gen = cli.invoke(app, ["problems", "generate", "--kind", "arithmetic", "--difficulty", "1", "-n", "4",
                           "--seed", "0", "--db", db])
    assert gen.exit_code == 0, gen.output
    result = cli.invoke(app, ["explore", "--db", db, "--max-rollouts", "6", "--per-round", "3",
                              "--batch-problems", "4", "--max-new-tokens", "80", "--temperature", "0.8",
                              "--no-system", "--instruction", "boxed", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["correct_total"] >= 1, summary
    rows = json.loads(cli.invoke(app, ["sql", """SELECT t.extracted, p.answer, t.verdict_reason
                                               FROM trajectory t JOIN problem p ON p.id = t.problem_id
                                               WHERE verdict = 'correct'""", "--db", db, "--json"]).stdout)
    assert rows and all(r["verdict_reason"] for r in rows)
