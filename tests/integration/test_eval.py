"""`still2 eval`: outputs stored as eval trajectories with verdicts, right accuracy / pass@k / maj@k, resumable;
plus one run with a real (tiny random) model through the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.engines.base import Completion, PromptResult
from pipeline.evaluation.run import EvalConfig, run_eval
from tests.integration.train_fixtures import seed_store

cli = CliRunner()


class ScriptedEngine:
    """Answers each question from a script: a list of answers, one per sample in order."""

    name = "scripted"
    model_id = "engine-name-not-stored"

    def __init__(self, script: dict[str, list[str]]):
        self.script = script
        self.seen: dict[str, int] = {}
        self.prompts = 0
        self.calls = []

    def generate(self, messages_list, params):
        out = []
        self.calls.append((messages_list, params))
        for i, messages in enumerate(messages_list):
            q = messages[-1]["content"].split("\n")[0]  # the question, without a prompt's instruction
            self.prompts += 1
            comps = []
            for _ in range(params.n):
                k = self.seen.get(q, 0)
                self.seen[q] = k + 1
                comps.append(
                    Completion(
                        text=f"so \\boxed{{{self.script[q][k % len(self.script[q])]}}}",
                        n_tokens=4,
                        finish_reason="stop",
                    )
                )
            out.append(PromptResult(prompt_index=i, completions=comps, prompt_tokens=3))
        return out

    def close(self):
        pass


def _results(store, model):
    with store.read() as conn:
        return {
            (b, m): (v, n)
            for b, m, v, n in conn.execute(
                "SELECT benchmark, metric, value, n FROM eval_result WHERE model = ?", [model]
            ).fetchall()
        }


def test_greedy_accuracy_trajectories_and_resume(store):
    seed_store(store, n=4)
    # Problem i asks "What is i + 1?": right for 0, 1, 2; wrong for 3.
    script = {f"What is {i} + 1?": [str(i + 1) if i < 3 else "99"] for i in range(4)}
    engine = ScriptedEngine(script)
    [res] = run_eval(store, engine, "scripted", "my-model", ["toy"], EvalConfig(max_new_tokens=16))
    assert res["metrics"] == {"accuracy": 0.75} and res["problems"] == 4
    assert _results(store, "my-model") == {("toy", "accuracy"): (0.75, 4)}
    # a model not trained here is a base model: plain chain-of-thought prompt, no system prompt
    messages = engine.calls[0][0][0]
    assert [m["role"] for m in messages] == ["user"] and "step by step" in messages[0]["content"]
    with store.read() as conn:
        rows = conn.execute(
            "SELECT origin, model, run_id, verdict, sampling->>'temperature' FROM trajectory "
            "WHERE origin = 'eval' ORDER BY problem_id"
        ).fetchall()
        state = conn.execute("SELECT kind, state FROM run WHERE id = ?", [res["run_id"]]).fetchone()
    assert len(rows) == 4 and {r[1] for r in rows} == {"my-model"} and {r[2] for r in rows} == {res["run_id"]}
    assert res["stderr"]["accuracy"] == pytest.approx((0.75 * 0.25 / 3) ** 0.5)  # sd of (1,1,1,0) / sqrt(4)
    assert sorted(r[3] for r in rows) == ["correct"] * 3 + ["incorrect"]
    assert {r[4] for r in rows} == {"0.0"}  # greedy
    assert state == ("eval", "done")
    # Same command again: nothing regenerated, no duplicate rows or results.
    again = ScriptedEngine(script)
    run_eval(store, again, "scripted", "my-model", ["toy"], EvalConfig(max_new_tokens=16))
    assert again.prompts == 0
    assert _results(store, "my-model") == {("toy", "accuracy"): (0.75, 4)}


def test_sampled_pass_at_k_and_majority(store):
    seed_store(store, n=2)
    # Problem 0 (gold 1): samples 1, 5, 5 -> pass@3 yes, majority 5 wrong, mean accuracy 1/3.
    # Problem 1 (gold 2): samples 2, 2, 7 -> pass@3 yes, majority 2 right, mean accuracy 2/3.
    script = {"What is 0 + 1?": ["1", "5", "5"], "What is 1 + 1?": ["2", "2", "7"]}
    [res] = run_eval(store, ScriptedEngine(script), "scripted", "m", ["toy:train"], EvalConfig(n=3, max_new_tokens=8))
    m = res["metrics"]
    assert m["accuracy"] == pytest.approx(0.5) and m["pass@3"] == 1.0 and m["maj@3"] == 0.5
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM trajectory WHERE origin = 'eval'").fetchone()[0] == 6


def test_unknown_benchmark_is_a_clear_error(store):
    seed_store(store, n=1)
    with pytest.raises(ValueError, match="no problems"):
        run_eval(store, ScriptedEngine({}), "scripted", "m", ["math500"], EvalConfig())


@pytest.mark.slow
def test_eval_cli_with_a_real_tiny_model(store, db_path, tiny_model):
    seed_store(store, n=3)
    result = cli.invoke(
        app,
        [
            "eval",
            "--db",
            str(db_path),
            "--model",
            tiny_model,
            "--benchmark",
            "toy",
            "--max-new-tokens",
            "6",
            "--no-system",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    [res] = json.loads(result.stdout)
    assert res["problems"] == 3 and 0.0 <= res["metrics"]["accuracy"] <= 1.0
    with store.read() as conn:
        model_row = conn.execute("SELECT id, method FROM model WHERE id = ?", [res["model"]]).fetchone()
        n_eval = conn.execute(
            "SELECT count(*) FROM trajectory WHERE origin = 'eval' AND model = ?", [res["model"]]
        ).fetchone()[0]
        stored = conn.execute("SELECT value FROM eval_result WHERE model = ?", [res["model"]]).fetchone()[0]
    assert model_row == (res["model"], "base") and n_eval == 3
    assert stored == res["metrics"]["accuracy"]


def _record(store, model, benchmark):
    with store.read() as conn:
        cur = conn.execute(
            "SELECT * FROM eval_result WHERE model = ? AND benchmark = ? AND metric = 'accuracy'", [model, benchmark]
        )
        return dict(zip([d[0] for d in cur.description], cur.fetchone()))


def test_sampled_protocol_k_per_benchmark_standard_error_and_record(store):
    seed_store(store, n=2)
    script = {"What is 0 + 1?": ["1", "5", "5", "1"], "What is 1 + 1?": ["2", "2", "7", "2"]}
    engine = ScriptedEngine(script)
    cfg = EvalConfig(protocol="sampled", max_new_tokens=8, seed=3)
    [res] = run_eval(store, engine, "scripted", "m", ["toy:train"], cfg)
    # unknown benchmark: k = 4 (ours); T 0.6 and top-p 0.95 as open-r1 / lighteval
    params = engine.calls[0][1]
    assert (params.n, params.temperature, params.top_p) == (4, 0.6, 0.95)
    assert res["metrics"]["accuracy"] == pytest.approx(0.625)  # (2/4 + 3/4) / 2
    assert res["stderr"]["accuracy"] == pytest.approx(0.125)  # sd(0.5, 0.75) / sqrt(2)
    rec = _record(store, "m", "toy:train")
    assert rec["protocol"] == "sampled" and rec["samples"] == 4 and rec["temperature"] == 0.6
    assert rec["top_p"] == 0.95 and rec["seed"] == 3 and rec["max_new_tokens"] == 8
    assert rec["prompt"] == "cot" and rec["engine"] == "scripted" and rec["stderr"] == pytest.approx(0.125)
    # k per benchmark overrides; the AIME default is 64
    from pipeline.evaluation.protocol import resolve_protocol

    assert resolve_protocol("sampled", "aime24").samples == 64
    assert resolve_protocol("sampled", "math500").samples == 4 and resolve_protocol("sampled", "gpqa").samples == 8
    engine = ScriptedEngine(script)
    run_eval(store, engine, "scripted", "m2", ["toy:train"], EvalConfig(protocol="sampled", samples={"toy:train": 2}))
    assert engine.calls[0][1].n == 2
    with pytest.raises(ValueError, match="greedy protocol draws one"):
        run_eval(store, engine, "scripted", "m", ["toy:train"], EvalConfig(protocol="greedy", n=4))


def test_trained_model_gets_the_still_prompt_and_prompt_can_be_forced(store):
    seed_store(store, n=1)
    with store.write() as conn:
        conn.execute("INSERT INTO model (id, path, base, method) VALUES ('M1', '/m', 'M0', 'sft')")
    script = {"What is 0 + 1?": ["1"]}
    engine = ScriptedEngine(script)
    run_eval(store, engine, "scripted", "M1", ["toy"], EvalConfig(protocol="greedy"))
    messages = engine.calls[0][0][0]
    assert messages[0]["role"] == "system" and "thoroughly exploring" in messages[0]["content"]
    assert _record(store, "M1", "toy")["prompt"] == "still"
    engine = ScriptedEngine(script)
    run_eval(store, engine, "scripted", "M1", ["toy"], EvalConfig(protocol="greedy", prompt="cot"))
    assert [m["role"] for m in engine.calls[0][0][0]] == ["user"]
