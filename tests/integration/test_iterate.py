"""`still2 iterate --recipe cpu-tiny --rounds 2` with a tiny model: completes, and after SIGKILL mid-round a rerun
skips every finished step, redoes only the interrupted one, and ends complete without duplicates."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from store import Store
from tests.integration.train_fixtures import make_dataset, seed_store

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _args(db: Path, tiny: str) -> list[str]:
    return ["iterate", "--db", str(db), "--recipe", "cpu-tiny", "--rounds", "2", "--model", tiny, "--name", "t",
            "--seed-dataset", "D0", "--generate-train", "3", "--generate-test", "2", "--max-rollouts", "1",
            "--per-round", "1", "--max-new-tokens", "6", "--eval-max-new-tokens", "6",
            "--train-opt", "max_steps=1", "--train-opt", "batch_size=2", "--train-opt", "per_device_batch_size=2",
            "--json"]


def _steps(store: Store) -> dict[str, str]:
    with store.read() as conn:
        rows = conn.execute("SELECT args, state FROM run WHERE kind = 'iterate-step'").fetchall()
    return {f"r{json.loads(a)['round']}-{json.loads(a)['step']}": s for a, s in rows}


def test_iterate_completes_and_resumes_after_sigkill(tmp_path, tiny_model):
    db = tmp_path / "store.duckdb"
    store = Store(db)
    store.init()
    trajs = seed_store(store, n=4)
    make_dataset(store, "D0", [t["id"] for t in trajs if t["verdict"] == "correct"])

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *_args(db, tiny_model)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        while _steps(store).get("r1-train") != "done":
            assert proc.poll() is None, "iterate ended before round 1 finished training"
            assert time.monotonic() < deadline, "round 1 did not finish training in time"
            time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    before = _steps(store)
    assert before.get("r2-train") != "done"
    done_before = {s for s, state in before.items() if state == "done"}
    assert {"r0-generate", "r0-eval", "r1-explore", "r1-filter", "r1-score", "r1-dataset", "r1-train"} <= done_before

    result = CliRunner().invoke(app, _args(db, tiny_model))
    assert result.exit_code == 0, result.output
    history = json.loads(result.stdout)
    assert set(history["skipped_steps"]) == done_before
    assert not set(history["ran_steps"]) & done_before and "r2-train" in history["ran_steps"]

    after = _steps(store)
    assert set(after.values()) == {"done"}
    assert {"r2-explore", "r2-dataset", "r2-train", "r2-eval"} <= set(after)
    with store.read() as conn:
        assert conn.execute("SELECT state FROM run WHERE id = 'iterate-t'").fetchone()[0] == "done"
        models = dict(conn.execute("SELECT id, dataset FROM model WHERE method = 'sft'").fetchall())
        assert models == {"t-M1": "t-D1", "t-M2": "t-D2"}
        parents = dict(conn.execute("SELECT name, parent FROM dataset WHERE name LIKE 't-%'").fetchall())
        assert parents == {"t-D1": "D0", "t-D2": "t-D1"}
        evals = {r[0] for r in conn.execute("SELECT DISTINCT model FROM eval_result").fetchall()}
        assert {"t-M1", "t-M2"} <= evals and len(evals) == 3  # + the base model
        dupes = conn.execute("""SELECT count(*) FROM (SELECT run_id, problem_id, sample_index FROM trajectory
                                WHERE run_id IS NOT NULL GROUP BY ALL HAVING count(*) > 1)""").fetchone()[0]
        assert dupes == 0
