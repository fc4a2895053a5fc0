"""Exploration: rounds, early stop on correct, every rollout stored and verified, resume after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.engines.base import Completion, PromptResult
from pipeline.explore.loop import ExploreConfig, explore
from pipeline.explore.selection import select_problems
from store import Store

REPO = Path(__file__).resolve().parents[2]
cli = CliRunner()


class ScriptedEngine:
    """A test double: answers problem i correctly on its k-th sample when the script says so."""

    name = "scripted"
    model_id = "scripted-model"

    def __init__(self, answers: dict[str, list[str]]):
        self.answers = answers  # question -> answers in sampling order
        self.calls = 0
        self.seen: dict[str, int] = {}

    def generate(self, messages_list, params):
        self.calls += 1
        out = []
        for i, messages in enumerate(messages_list):
            q = messages[-1]["content"]
            comps = []
            for _ in range(params.n):
                k = self.seen.get(q, 0)
                self.seen[q] = k + 1
                script = self.answers[q]
                ans = script[k] if k < len(script) else "0"
                text = (
                    f"<|begin_of_thought|>\n\ntry {k}\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n"
                    f"\\boxed{{{ans}}}\n\n<|end_of_solution|>"
                )
                comps.append(Completion(text=text, n_tokens=12, finish_reason="stop", seconds=0.01))
            out.append(PromptResult(prompt_index=i, completions=comps, prompt_tokens=5))
        return out

    def score(self, prompts, responses):
        raise NotImplementedError

    def close(self):
        pass


def _setup(db: str, n: int = 3) -> None:
    result = cli.invoke(
        app, ["problems", "generate", "--kind", "arithmetic", "--difficulty", "1", "-n", str(n), "--db", db]
    )
    assert result.exit_code == 0, result.output


def test_rounds_stop_on_correct_and_store_every_rollout(tmp_path):
    db = str(tmp_path / "s.duckdb")
    _setup(db)
    store = Store(db)
    with store.read() as conn:
        problems = select_problems(conn)
    qa = {p.question: p.answer for p in problems}
    questions = list(qa)
    script = {
        questions[0]: [qa[questions[0]]],  # right at once
        questions[1]: ["-1", "-2", "-3", qa[questions[1]]],  # right on the 4th sample
        questions[2]: ["-1"] * 10,  # never
    }
    engine = ScriptedEngine(script)
    config = ExploreConfig(max_rollouts=6, want_correct=1, per_round=2, batch_problems=3, verifier_workers=1)
    summary = explore(store, engine, "scripted", problems, config, "run-a")
    with store.read() as conn:
        per = dict(
            conn.execute("""SELECT problem_id, list(verdict ORDER BY sample_index) FROM trajectory
                                   GROUP BY problem_id""").fetchall()
        )
        reasons = conn.execute("SELECT count(*) FROM trajectory WHERE verdict_reason IS NULL").fetchone()[0]
        run = conn.execute("SELECT state, progress FROM run WHERE id = 'run-a'").fetchone()
    by_q = {p.question: per[p.id] for p in problems}
    # rounds of 2: problem 0 keeps its 2 samples of round 1 (stop after the round), problem 1 needs 2 rounds
    assert by_q[questions[0]] == ["correct", "incorrect"]
    assert by_q[questions[1]] == ["incorrect", "incorrect", "incorrect", "correct"]
    assert by_q[questions[2]] == ["incorrect"] * 6
    assert reasons == 0
    assert (summary.solved, summary.rollouts_new, summary.correct_new) == (2, 12, 2)
    assert run[0] == "done" and json.loads(run[1])["solved"] == 2

    again = explore(store, ScriptedEngine(script), "scripted", problems, config, "run-a")
    assert (again.rollouts_new, again.skipped_finished) == (0, 3)


def test_explore_cli_with_tiny_model_stores_verified_rollouts(tmp_path, tiny_model):
    db = str(tmp_path / "s.duckdb")
    _setup(db, n=2)
    args = [
        "explore",
        "--db",
        db,
        "--model",
        tiny_model,
        "--max-rollouts",
        "3",
        "--per-round",
        "2",
        "--max-new-tokens",
        "8",
        "--json",
    ]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rollouts_total"] == summary["rollouts_new"] == 6
    with Store(db).read() as conn:
        rows = conn.execute("""SELECT verdict, n_tokens, model, origin, sample_index, finish_reason, sampling
                               FROM trajectory ORDER BY problem_id, sample_index""").fetchall()
    assert len(rows) == 6
    assert {r[0] for r in rows} <= {"correct", "incorrect"}
    assert all(0 < r[1] <= 8 and r[2] == tiny_model and r[3] == "explore" for r in rows)
    assert [r[4] for r in rows] == [0, 1, 2, 0, 1, 2]
    assert json.loads(rows[0][6])["max_new_tokens"] == 8
    rerun = json.loads(cli.invoke(app, args).stdout)
    assert (rerun["rollouts_new"], rerun["skipped_finished"]) == (0, 2)


def test_kill_9_then_rerun_resumes_without_loss_or_duplicates(tmp_path, tiny_model):
    db = str(tmp_path / "s.duckdb")
    _setup(db, n=6)
    cmd = [
        sys.executable,
        "-m",
        "pipeline",
        "explore",
        "--db",
        db,
        "--model",
        tiny_model,
        "--max-rollouts",
        "4",
        "--per-round",
        "2",
        "--batch-problems",
        "2",
        "--max-new-tokens",
        "24",
        "--temperature",
        "1.0",
    ]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    store = Store(db)
    deadline = time.monotonic() + 180
    seen = 0
    while time.monotonic() < deadline and proc.poll() is None:
        with store.read() as conn:
            seen = conn.execute("SELECT count(*) FROM trajectory").fetchone()[0]
        if seen >= 4:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "explore finished before it could be killed; make the run longer"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    with store.read() as conn:
        before = dict(conn.execute("SELECT id, text FROM trajectory").fetchall())
    assert 4 <= len(before) < 24

    done = subprocess.run(cmd + ["--json"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    with store.read() as conn:
        total, distinct_slots = conn.execute(
            "SELECT count(*), count(DISTINCT (problem_id, sample_index)) FROM trajectory"
        ).fetchone()
        after = dict(conn.execute("SELECT id, text FROM trajectory").fetchall())
        per_problem = {r[0] for r in conn.execute("SELECT count(*) FROM trajectory GROUP BY problem_id").fetchall()}
    assert total == distinct_slots == 24 and per_problem == {4}
    assert summary["rollouts_new"] == 24 - len(before)
    assert all(after[i] == t for i, t in before.items())  # nothing rewritten
