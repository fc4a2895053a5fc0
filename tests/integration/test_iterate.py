"""`still2 iterate --recipe cpu-tiny --rounds 2` with a tiny model, in the report's order (imitate: M_1 = SFT(M_0,
D_0); M_1 explores; D_1 = D_0 + selected; M_2 = SFT(M_0, D_1); DPO from the loop's M_1); after SIGKILL mid-round
a rerun skips exactly the finished steps, redoes only the interrupted one, and ends without duplicates."""

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
from tests.integration.train_fixtures import THOUGHT_WORD, make_dataset, seed_store, still_text

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _args(db: Path, tiny: str) -> list[str]:
    return [
        "iterate",
        "--db",
        str(db),
        "--recipe",
        "cpu-tiny",
        "--rounds",
        "2",
        "--model",
        tiny,
        "--name",
        "t",
        "--seed-dataset",
        "D0",
        "--generate-train",
        "3",
        "--generate-test",
        "2",
        "--max-rollouts",
        "1",
        "--per-round",
        "1",
        "--max-new-tokens",
        "6",
        "--eval-max-new-tokens",
        "6",
        "--train-opt",
        "max_steps=1",
        "--train-opt",
        "batch_size=2",
        "--train-opt",
        "per_device_batch_size=2",
        "--json",
    ]


def _steps(store: Store) -> dict[str, str]:
    with store.read() as conn:
        rows = conn.execute("SELECT args, state FROM run WHERE kind = 'iterate-step'").fetchall()
    return {f"r{json.loads(a)['round']}-{json.loads(a)['step']}": s for a, s in rows}


def _order(store: Store) -> list[str]:
    with store.read() as conn:
        rows = conn.execute("SELECT args FROM run WHERE kind = 'iterate-step' ORDER BY started").fetchall()
    return [f"r{json.loads(a)['round']}-{json.loads(a)['step']}" for (a,) in rows]


def test_iterate_imitates_first_and_resumes_after_sigkill(tmp_path, tiny_model):
    db = tmp_path / "store.duckdb"
    store = Store(db)
    store.init()
    trajs = seed_store(store, n=4)
    make_dataset(store, "D0", [t["id"] for t in trajs if t["verdict"] == "correct"])

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", *_args(db, tiny_model)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    try:  # killed in the middle of round 1, once M_1 has explored
        while _steps(store).get("r1-explore") != "done":
            assert proc.poll() is None, "iterate ended before round 1 explored"
            assert time.monotonic() < deadline, "round 1 did not finish exploring in time"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    before = _steps(store)
    assert before.get("r1-dataset") != "done" and "r2-train" not in before
    done_before = {s for s, state in before.items() if state == "done"}
    assert {"r0-generate", "r0-eval", "r1-train", "r1-eval", "r1-pool", "r1-explore"} <= done_before

    result = CliRunner().invoke(app, _args(db, tiny_model))
    assert result.exit_code == 0, result.output
    history = json.loads(result.stdout)
    assert set(history["skipped_steps"]) == done_before
    assert not set(history["ran_steps"]) & done_before and "r2-train" in history["ran_steps"]

    after = _steps(store)
    assert set(after.values()) == {"done"}
    order = _order(store)
    # the report's order: imitate (M_1 on D_0) -> explore with M_1 -> D_1 -> M_2 = SFT(M_0, D_1)
    assert [s for s in order if s in ("r1-train", "r1-explore", "r1-dataset", "r2-train")] == [
        "r1-train",
        "r1-explore",
        "r1-dataset",
        "r2-train",
    ]
    assert "r2-explore" not in after  # the last round trains and evaluates M_T only
    with store.read() as conn:
        assert conn.execute("SELECT state FROM run WHERE id = 'iterate-t'").fetchone()[0] == "done"
        models = {
            r[0]: r[1:]
            for r in conn.execute("SELECT id, dataset, parent, base FROM model WHERE method = 'sft'").fetchall()
        }
        m0 = models["t-M1"][2]
        assert models == {"t-M1": ("D0", m0, m0), "t-M2": ("t-D1", m0, m0)}  # both from M_0
        parents = dict(conn.execute("SELECT name, parent FROM dataset WHERE name LIKE 't-%'").fetchall())
        assert parents == {"t-D1": "D0"}
        explored = conn.execute(
            "SELECT DISTINCT model, iteration FROM trajectory WHERE origin = 'explore' AND run_id IS NOT NULL"
        ).fetchall()
        assert explored == [("t-M1", 1)]  # M_1 explored, not M_0
        scorers = {r[0] for r in conn.execute("SELECT DISTINCT scorer FROM perplexity").fetchall()}
        assert scorers == {"t-M1"}
        evals = {r[0] for r in conn.execute("SELECT DISTINCT model FROM eval_result").fetchall()}
        assert evals == {m0, "t-M1", "t-M2"}
        dupes = conn.execute("""SELECT count(*) FROM (SELECT run_id, problem_id, sample_index FROM trajectory
                                WHERE run_id IS NOT NULL GROUP BY ALL HAVING count(*) > 1)""").fetchone()[0]
        assert dupes == 0


def test_iterate_needs_imitation_data(tmp_path):
    result = CliRunner().invoke(app, ["iterate", "--db", str(tmp_path / "s.duckdb"), "--recipe", "cpu-tiny"])
    assert result.exit_code == 1 and "--seed-dataset" in result.output and "--teacher" in result.output


def test_iterate_dpo_starts_from_the_loops_m1(tmp_path, tiny_model, monkeypatch):
    """--method dpo: M_1 = SFT(M_0, D_0); M_1 explores; pairs by M_1's perplexity; M_2 = DPO(M_1, P_1).

    Generation is canned (the tiny random model never answers right, and pairs need right and wrong
    rollouts); scoring and training are real."""
    from pipeline.engines.base import Completion, PromptResult
    from pipeline.loop import iterate as loop
    from pipeline.loop.config import iterate_config

    real_get = loop.EngineCache.get

    class Canned:
        def __init__(self, engine):
            self.engine, self.name, self.model_id = engine, engine.name, engine.model_id

        def generate(self, prompts, params):
            out = []
            for i, messages in enumerate(prompts):
                a, b = [int(x) for x in messages[-1]["content"].split("?")[0].split() if x.isdigit()][:2]
                texts = [
                    still_text(f"{THOUGHT_WORD} on it, attempt {k}", str(a + b if k % 2 else a + b + 1))
                    for k in range(params.n)
                ]
                out.append(PromptResult(i, [Completion(t, 20, "stop") for t in texts], 10))
            return out

        def score(self, prompts, responses):
            return self.engine.score(prompts, responses)

        def close(self):
            self.engine.close()

    monkeypatch.setattr(loop.EngineCache, "get", lambda self, store, mid: Canned(real_get(self, store, mid)))
    store = Store(tmp_path / "store.duckdb")
    store.init()
    trajs = seed_store(store, n=4)
    make_dataset(store, "D0", [t["id"] for t in trajs if t["verdict"] == "correct"])
    cfg = iterate_config(
        None,
        rounds=2,
        name="d",
        model=tiny_model,
        method="dpo",
        dpo_variant="thought",
        seed_dataset="D0",
        pool_source="toy",
        use_system=False,
        train_recipe="cpu-tiny",
        max_rollouts=6,
        per_round=6,
        want_correct=6,
        max_new_tokens=32,
        train_overrides={"max_steps": 1, "batch_size": 2, "per_device_batch_size": 2, "max_length": 400},
    )
    history = loop.iterate(store, cfg)
    steps_ran = history["ran_steps"]
    assert (
        steps_ran.index("r1-train")
        < steps_ran.index("r1-explore")
        < steps_ran.index("r1-pairs")
        < steps_ran.index("r2-train")
    )
    with store.read() as conn:
        models = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT id, method, parent, dataset, recipe FROM model WHERE method IN ('sft', 'dpo')"
            ).fetchall()
        }
        pairs = conn.execute("SELECT count(*), min(part) FROM pair").fetchone()
    assert models["d-M1"][:3] == ("sft", tiny_model_id(store, tiny_model), "D0")
    assert models["d-M2"][:3] == ("dpo", "d-M1", "d-P1")  # DPO from the loop's own M_1
    recipe = json.loads(models["d-M2"][3])
    assert (recipe["dpo_part"], recipe["sft_part"], recipe["variant"]) == ("thought", "none", "thought")
    assert pairs[0] >= 1 and pairs[1] == "thought"


def tiny_model_id(store: Store, path: str) -> str:
    with store.read() as conn:
        return conn.execute("SELECT id FROM model WHERE method = 'base'").fetchone()[0]


def test_iterate_distils_d0_from_a_teacher_first(tmp_path, tiny_model):
    """No seed dataset: round 0 asks the teacher (an R1-like API returning reasoning_content), keeps every
    labelled rollout, filters them, and D_0 = the correct ones; M_1 is trained on D_0."""
    from tests.unit.test_engines_openai import StubServer

    def teacher(question, k):
        n = int(question.split("What is ")[1].split(" +")[0])
        answer = n + 1 if k else n + 2  # one wrong rollout per problem, labelled and kept out of D_0
        return f"So it is $\\boxed{{{answer}}}$.", f"{THOUGHT_WORD}: {n} plus one.\n\nThat gives {answer}."

    store = Store(tmp_path / "store.duckdb")
    store.init()
    seed_store(store, n=3)
    with StubServer(reply=teacher) as stub:
        result = CliRunner().invoke(
            app,
            [
                "iterate",
                "--db",
                str(tmp_path / "store.duckdb"),
                "--train-recipe",
                "cpu-tiny",
                "--rounds",
                "1",
                "--name",
                "k",
                "--model",
                tiny_model,
                "--teacher",
                "stub-model",
                "--teacher-opt",
                f"base_url={stub.url}",
                "--pool-source",
                "toy",
                "--no-system",
                "--max-new-tokens",
                "64",
                "--distill-rollouts",
                "2",
                "--train-opt",
                "max_steps=1",
                "--train-opt",
                "batch_size=2",
                "--train-opt",
                "per_device_batch_size=2",
                "--json",
            ],
        )
    assert result.exit_code == 0, result.output
    history = json.loads(result.stdout)
    assert history["ran_steps"][:4] == ["r0-distill", "r0-distill-filter", "r0-seed", "r1-train"]
    with store.read() as conn:
        distilled = conn.execute("""SELECT count(*), count(*) FILTER (WHERE verdict = 'correct'),
                                           count(*) FILTER (WHERE thought LIKE 'pondering:%' AND solution LIKE 'So it is%')
                                    FROM trajectory WHERE origin = 'distill' AND model = 'stub-model'""").fetchone()
        d0 = conn.execute("""SELECT count(*), bool_and(t.verdict = 'correct') FROM dataset_member m
                             JOIN trajectory t ON t.id = m.member_id WHERE m.dataset = 'k-D0'""").fetchone()
        m1 = conn.execute("SELECT dataset, method FROM model WHERE id = 'k-M1'").fetchone()
    assert distilled == (6, 3, 6)  # 2 labelled rollouts per problem, thought = the reasoning field
    assert d0 == (3, True) and m1 == ("k-D0", "sft")
