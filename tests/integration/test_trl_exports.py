"""Dataset and pair exports load unchanged in TRL's SFTTrainer and DPOTrainer (tiny random Llama, CPU, 2 steps)."""

from __future__ import annotations

import pytest

from pipeline.datasets import DatasetRecipe, build_dataset, export_dataset
from pipeline.filters import run_filters
from pipeline.pairs import PairOptions, build_pairs, export_pairs
from store.importer import import_trajectories
from store.ingest import upsert

pytestmark = pytest.mark.slow
# The Sky-T1 files are evaluation outputs: they leave the store only when named.
LIFTED = ["eval", "test"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from pipeline.engines.tiny_model import make_tiny_model

    return str(make_tiny_model(tmp_path_factory.mktemp("tiny")))


@pytest.fixture
def curated(store, shared_data):
    """The real Sky-T1 files, graded by their harness labels, filtered, with synthetic perplexities."""
    for name in ("trajectories_skyt1_14b_amc23.jsonl", "trajectories_skyt1_32b_aime24.jsonl"):
        import_trajectories(store, str(shared_data / "trajectories" / name))
    with store.write() as conn:
        conn.execute("UPDATE trajectory SET verdict = CASE WHEN harness_correct THEN 'correct' ELSE 'incorrect' END")
        # One rollout per problem in these files: put all of a file's rollouts under one problem so that
        # problems have both outcomes, as after `still2 explore`.
        conn.execute(
            "UPDATE trajectory SET problem_id = (SELECT min(problem_id) FROM trajectory t2 "
            "WHERE split_part(t2.problem_id, ':', 1) = split_part(trajectory.problem_id, ':', 1))"
        )
        rows = conn.execute("SELECT id, verdict FROM trajectory ORDER BY id").fetchall()
        upsert(
            conn,
            "perplexity",
            [
                {
                    "trajectory_id": tid,
                    "scorer": "S",
                    "part": part,
                    "mean_nll": 0.0,
                    "ppl": (3.0 if verdict == "correct" else 1.0) + i / 100,
                }
                for i, (tid, verdict) in enumerate(rows)
                for part in ("full", "thought")
            ],
        )
    run_filters(store, ["format", "repetition"])
    return store


def _config(cls, tmp_path, **extra):
    from pipeline.training.common import checkpointing_arg

    return cls(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        report_to=[],
        max_steps=2,
        per_device_train_batch_size=2,
        bf16=False,
        save_strategy="no",
        logging_steps=1,
        max_length=1024,
        **{checkpointing_arg(): False},
        **extra,
    )


def test_sft_trainer_trains_on_dataset_export(curated, tiny, tmp_path):
    from datasets import load_dataset
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    first = build_dataset(curated, "D", DatasetRecipe(max_per_problem=4, seed=1, allow=LIFTED))
    second = build_dataset(curated, "D-again", DatasetRecipe(max_per_problem=4, seed=1, allow=LIFTED))
    assert first.selection.ids == second.selection.ids and first.size >= 4
    for shape in ("messages", "prompt-completion"):
        out = tmp_path / f"{shape}.jsonl"
        assert export_dataset(curated, "D", out, shape=shape) == first.size
        data = load_dataset("json", data_files=str(out), split="train")
        trainer = SFTTrainer(
            model=tiny,
            args=_config(SFTConfig, tmp_path / shape),
            train_dataset=data,
            processing_class=AutoTokenizer.from_pretrained(tiny),
        )
        result = trainer.train()
        assert result.global_step == 2 and result.training_loss > 0


def test_dpo_trainer_trains_on_pairs_export(curated, tiny, tmp_path):
    from datasets import load_dataset
    from transformers import AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    report = build_pairs(curated, PairOptions(scorer="S", part="thought", max_per_problem=2, allow=LIFTED))
    assert report.added >= 2
    out = tmp_path / "pairs.parquet"
    assert export_pairs(curated, out, allow=LIFTED) == report.added
    data = load_dataset("parquet", data_files=str(out), split="train")
    assert data[0]["chosen"][0]["content"].endswith("<|end_of_thought|>")
    trainer = DPOTrainer(
        model=tiny,
        args=_config(DPOConfig, tmp_path, loss_type=["sigmoid", "sft"], loss_weights=[1.0, 0.1]),
        train_dataset=data,
        processing_class=AutoTokenizer.from_pretrained(tiny),
    )
    result = trainer.train()
    assert result.global_step == 2
