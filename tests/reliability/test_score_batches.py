"""`still2 score` commits each small chunk as it is scored (a run killed after hours keeps what it scored)
and shows progress as plain lines when its output is a log, not a terminal."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipeline.scoring.score import score_trajectories
from store.ingest import add_problems, add_trajectories

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Score:
    def __init__(self, n: int):
        self.n_tokens = n
        self.logprobs = [-1.0] * n

    def mean_nll(self) -> float:
        return 1.0


class DyingEngine:
    """Scores like a model would, then dies (a kill, an OOM) on its ``die_at``-th call."""

    model_id = "fake"

    def __init__(self, die_at: int):
        self.calls, self.die_at, self.sizes = 0, die_at, []

    def score(self, prompts, responses):
        self.calls += 1
        if self.calls == self.die_at:
            raise KeyboardInterrupt("killed")
        self.sizes.append(len(responses))
        return [Score(len(r) // 4) for r in responses]


@pytest.fixture
def long_store(store):
    with store.write() as conn:
        add_problems(conn, [{"id": "p", "source": "t", "question": "Q?", "question_hash": "p", "answer": "1"}])
        add_trajectories(
            conn,
            [
                {"id": f"t{i:02d}", "problem_id": "p", "text": f"{i} " + "long thought " * 3_500, "origin": "explore"}
                for i in range(12)
            ],
        )  # ~45k characters each, as in the review
    return store


def scored(store) -> int:
    with store.read() as conn:
        return conn.execute("SELECT count(*) FROM perplexity").fetchone()[0]


def test_chunks_are_committed_as_they_are_scored(long_store):
    engine = DyingEngine(die_at=4)
    with pytest.raises(KeyboardInterrupt):
        score_trajectories(long_store, engine, scorer="fake")
    assert engine.sizes == [1, 1, 1]  # 45k-character trajectories: one per chunk under the 60k-character budget
    assert scored(long_store) == 3
    report = score_trajectories(long_store, DyingEngine(die_at=0), scorer="fake")  # resumes with the rest
    assert report.selected == 9 and scored(long_store) == 12


def test_short_trajectories_still_share_a_chunk(store):
    with store.write() as conn:
        add_problems(conn, [{"id": "p", "source": "t", "question": "Q?", "question_hash": "p", "answer": "1"}])
        add_trajectories(
            conn, [{"id": f"t{i}", "problem_id": "p", "text": f"short {i}", "origin": "explore"} for i in range(100)]
        )
    engine = DyingEngine(die_at=0)
    score_trajectories(store, engine, scorer="fake", chunk_size=64)
    assert engine.sizes == [64, 36]


def test_progress_lines_in_a_log():
    code = (
        "from pipeline.jobs.progress import JobProgress\n"
        "with JobProgress('scoring', None, log_interval=0.0) as bar:\n"
        "    bar.set_total(3)\n"
        "    for _ in range(3): bar.advance(1)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": REPO}
    )
    lines = [line.split(" [")[0] for line in done.stderr.splitlines()]
    # the closing line is not printed again when the last advance already showed the same state
    assert lines == ["scoring: 0/3 (0%)", "scoring: 1/3 (33%)", "scoring: 2/3 (67%)", "scoring: 3/3 (100%)"], (
        done.stderr
    )
