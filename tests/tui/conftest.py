"""TUI fixtures: a store filled from the shared data files, plus derived rows (flags, perplexities, pairs,
datasets, models, evals, runs) with fixed values and timestamps so snapshots are deterministic."""

from __future__ import annotations

import re
import shutil
import sys
from datetime import datetime
from pathlib import Path

import pytest

from store import Store
from store.importer import import_problems, import_trajectories
from store.ingest import add_trajectories, insert_new

FAKE_CLI = Path(__file__).with_name("fake_cli.py")
T0 = datetime(2025, 1, 2, 3, 4, 5)


def fill(store: Store, shared: Path) -> None:
    import_problems(store, str(shared / "benchmarks" / "amc23.jsonl"))
    import_problems(store, str(shared / "benchmarks" / "aime24.jsonl"))
    import_trajectories(
        store,
        str(shared / "trajectories" / "trajectories_skyt1_14b_amc23.jsonl"),
        origin="explore",
        run_id="run-explore-1",
        iteration=1,
    )
    import_trajectories(
        store,
        str(shared / "trajectories" / "trajectories_skyt1_32b_aime24.jsonl"),
        origin="distill",
        run_id="run-distill-1",
        iteration=0,
    )
    with store.write() as conn:
        # The importer leaves verdicts to the verifier; label them from the file's own harness column.
        conn.execute(
            """UPDATE trajectory SET verdict = CASE WHEN harness_correct THEN 'correct' ELSE 'incorrect' END,
                        verdict_reason = CASE WHEN harness_correct THEN 'equal after normalisation'
                                              ELSE 'extracted answer differs from gold' END,
                        extracted = coalesce(harness_pred, extracted), created = ?,
                        n_tokens = CASE WHEN source_line % 5 = 0 THEN NULL ELSE n_chars // 4 END""",
            [T0],
        )
        conn.execute("UPDATE problem SET created = ?, difficulty = 3", [T0])
        # A second, wrong rollout for a few problems (the real text with another final answer) gives pairs.
        wrong = []
        for row in conn.execute("""SELECT id, problem_id, text, thought, solution, n_tokens, origin, model, run_id,
                                          iteration FROM trajectory WHERE verdict = 'correct' AND origin = 'explore'
                                   ORDER BY id LIMIT 4""").fetchall():
            tid, pid, text, thought, solution, n_tokens, origin, model, run_id, iteration = row
            wrong.append(
                {
                    "id": "w" + tid[1:],
                    "problem_id": pid,
                    "text": re.sub(r"\\boxed\{[^}]*\}", r"\\boxed{0}", text),
                    "thought": thought,
                    "solution": re.sub(r"\\boxed\{[^}]*\}", r"\\boxed{0}", solution or ""),
                    "extracted": "0",
                    "verdict": "incorrect",
                    "n_tokens": n_tokens,
                    "verdict_reason": "extracted answer differs from gold",
                    "origin": origin,
                    "model": model,
                    "run_id": run_id,
                    "iteration": iteration,
                    "sample_index": 1,
                    "created": T0,
                }
            )
        add_trajectories(conn, wrong)
        ids = [r[0] for r in conn.execute("SELECT id FROM trajectory ORDER BY id").fetchall()]
        insert_new(
            conn,
            "perplexity",
            [
                {
                    "trajectory_id": t,
                    "scorer": "smollm2-135m",
                    "part": "full",
                    "mean_nll": 0.5 + i / 100,
                    "ppl": round(1.6 + (i * 37 % 70) / 10, 2),
                    "created": T0,
                }
                for i, t in enumerate(ids)
            ],
        )
        insert_new(
            conn,
            "flag",
            [
                {"trajectory_id": t, "rule": "repetition", "reason": "a 20-gram repeats 6 times", "created": T0}
                for t in ids[::9]
            ],
        )
        pairs = conn.execute("""
            SELECT problem_id, min(id) FILTER (WHERE verdict = 'correct'), min(id) FILTER (WHERE verdict = 'incorrect')
            FROM trajectory GROUP BY 1 HAVING count(*) FILTER (WHERE verdict = 'correct') > 0
               AND count(*) FILTER (WHERE verdict = 'incorrect') > 0 ORDER BY 1""").fetchall()
        insert_new(
            conn,
            "pair",
            [
                {
                    "id": f"pair-{i:03d}",
                    "problem_id": p,
                    "chosen_id": c,
                    "rejected_id": r,
                    "rule": "ppl-contrast",
                    "created": T0,
                }
                for i, (p, c, r) in enumerate(pairs)
            ],
        )
        conn.execute(
            """INSERT INTO run VALUES
            ('run-explore-1', 'explore', '{}', 'done', NULL, NULL, NULL, '{"done": 40, "total": 40}', ?, ?, NULL, NULL),
            ('run-distill-1', 'distill', '{}', 'done', NULL, NULL, NULL, '{"done": 30, "total": 30}', ?, ?, NULL, NULL)""",
            [T0, T0, T0, T0],
        )
        conn.execute(
            "INSERT INTO dataset (name, parent, kind, recipe, n_members, note, created) "
            "VALUES ('sft-v1', NULL, 'sft', '{}', 20, 'first mix', ?)",
            [T0],
        )
        insert_new(conn, "dataset_member", [{"dataset": "sft-v1", "member_id": t} for t in ids[:20]])
        conn.execute(
            """INSERT INTO model (id, path, base, parent, dataset, method, created) VALUES
            ('qwen2.5-32b-instruct', 'Qwen/Qwen2.5-32B-Instruct', NULL, NULL, NULL, NULL, ?),
            ('still2-m1', 'models/m1', 'qwen2.5-32b-instruct', 'qwen2.5-32b-instruct', 'sft-v1', 'sft', ?)""",
            [T0, T0],
        )
        for m, vals in (("qwen2.5-32b-instruct", (0.800, 0.133, 0.434)), ("still2-m1", (0.902, 0.467, 0.551))):
            for b, v in zip(("MATH-OAI", "AIME", "GPQA"), vals):
                conn.execute(
                    "INSERT INTO eval_result (model, benchmark, metric, value, n, run_id, created) "
                    "VALUES (?, ?, 'accuracy', ?, 30, NULL, ?)",
                    [m, b, v, T0],
                )


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch, tmp_path):
    """No test reads or writes the user's settings, layout state or curator name."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("STILL2_CURATOR", "tester")


@pytest.fixture(scope="session")
def tui_template(tmp_path_factory) -> Path:
    from tests.conftest import SHARED

    if not (SHARED / "data").exists():
        pytest.skip("../shared/data is not present")
    path = tmp_path_factory.mktemp("tui-template") / "tui.duckdb"
    store = Store(path)
    store.init()
    fill(store, SHARED / "data")
    store.close()
    return path


@pytest.fixture
def tui_db(tmp_path, tui_template) -> Path:
    """A fresh copy of the filled store per test (building it once per session keeps the suite fast)."""
    path = tmp_path / "tui.duckdb"
    shutil.copy(tui_template, path)
    return path


@pytest.fixture
def make_app(tui_db, tmp_path):
    from still2tui.app import Still2App

    def make(**kw):
        kw.setdefault("cli", [sys.executable, str(FAKE_CLI)])
        kw.setdefault("keymap", {})
        kw.setdefault("history_path", tmp_path / "history.jsonl")
        return Still2App(tui_db, **kw)

    return make
