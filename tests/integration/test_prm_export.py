"""A PRM export (`still2 export --what prm`) trains with TRL's PRMTrainer for 2 steps on the tiny model.

TRL removed PRMTrainer in 1.14; `make install` puts TRL 1.13.0 (its last release) beside TRL 1.16 in
.venv/trl-prm, and the training runs in a subprocess with that TRL first on the path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from store import curation
from store.ingest import add_problems, add_trajectories
from store.trajectory_format import parse_response, to_still

pytestmark = pytest.mark.slow

PRM_TRL = Path(__file__).resolve().parents[2] / ".venv" / "trl-prm"

TRAIN = """
import json, sys
import trl
from datasets import Dataset
from transformers import AutoModelForTokenClassification, AutoTokenizer
from trl.experimental.prm import PRMConfig, PRMTrainer

rows = [json.loads(line) for line in open(sys.argv[1])]
tok = AutoTokenizer.from_pretrained(sys.argv[2])
model = AutoModelForTokenClassification.from_pretrained(sys.argv[2], num_labels=2)
args = PRMConfig(output_dir=sys.argv[3], max_steps=2, per_device_train_batch_size=2, use_cpu=True, report_to=[],
                 logging_steps=1, save_strategy="no", bf16=False, gradient_checkpointing=False, max_length=512)
trainer = PRMTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok)
first = trainer.train_dataset[0]["labels"]
trainer.train()
print(json.dumps({"trl": trl.__version__, "steps": trainer.state.global_step,
                  "losses": [h["loss"] for h in trainer.state.log_history if "loss" in h],
                  "first_labels": [x for x in first if x != -100]}))
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from pipeline.engines.tiny_model import make_tiny_model

    return str(make_tiny_model(tmp_path_factory.mktemp("tiny")))


def test_prm_export_trains_two_steps_with_trls_prm_trainer(store, db_path, tmp_path, tiny):
    assert (PRM_TRL / "trl" / "experimental" / "prm").is_dir(), "run `make install` (TRL 1.13 in .venv/trl-prm)"
    texts = {
        f"w{i}": to_still(
            f"Let x be {i}.\n\nThen x + x = {2 * i + 1}.\n\nSo the answer is {2 * i + 1}.", f"$\\boxed{{{2 * i + 1}}}$"
        )
        for i in range(3)
    }
    with store.write() as conn:
        add_problems(
            conn,
            [
                {
                    "id": f"p{i}",
                    "source": "t",
                    "question": f"What is {i} + {i}?",
                    "question_hash": f"q{i}",
                    "answer": str(2 * i),
                }
                for i in range(3)
            ],
        )
        add_trajectories(
            conn,
            [
                {
                    "id": tid,
                    "problem_id": f"p{tid[1]}",
                    "text": text,
                    "origin": "explore",
                    "verdict": "incorrect",
                    "thought": parse_response(text).thought,
                    "solution": parse_response(text).solution,
                    "format_style": "still",
                }
                for tid, text in texts.items()
            ],
        )
        for tid in texts:
            curation.set_step_label(conn, tid, 1, 3)
    out = tmp_path / "prm.jsonl"
    result = CliRunner().invoke(app, ["export", str(out), "--what", "prm", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    env = {**os.environ, "PYTHONPATH": str(PRM_TRL), "TRL_EXPERIMENTAL_SILENCE": "1"}
    run = subprocess.run(
        [sys.executable, "-c", TRAIN, str(out), tiny, str(tmp_path / "prm-out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["trl"] == "1.13.0" and got["steps"] == 2 and len(got["losses"]) == 2
    assert all(loss == loss and loss > 0 for loss in got["losses"])  # finite, positive
    assert got["first_labels"] == [1, 0]  # one label per exported step: good, then the first wrong one
