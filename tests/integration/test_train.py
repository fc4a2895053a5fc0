"""`still2 sft` / `still2 dpo` on CPU with a tiny random model: loadable checkpoints registered in the store,
LoRA merged, DPO from M_1 by default, and thought-only DPO leaving the solution out of the loss."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.integration.train_fixtures import SOLUTION_WORD, THOUGHT_WORD, make_dataset, make_pairs, seed_store

cli = CliRunner()
pytestmark = pytest.mark.slow
FAST = ["--recipe", "cpu-tiny", "--max-steps", "1", "--batch-size", "2", "--per-device-batch-size", "2",
        "--max-length", "400"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_model):
    """A store with toy data and M_1 = SFT(tiny) on the correct trajectories (done once for the module)."""
    from store import Store

    db = tmp_path_factory.mktemp("train") / "store.duckdb"
    store = Store(db)
    store.init()
    trajs = seed_store(store)
    make_dataset(store, "D1", [t["id"] for t in trajs if t["verdict"] == "correct"])
    pair_ids = make_pairs(store, trajs, part="full")
    make_dataset(store, "P1", pair_ids, kind="pairs")
    result = cli.invoke(app, ["sft", "D1", "--db", str(db), "--base", tiny_model, "--name", "m1", *FAST, "--json"])
    assert result.exit_code == 0, result.output
    return db, store, trajs, json.loads(result.stdout)


def _model_row(store, model_id):
    with store.read() as conn:
        cols = [d[0] for d in conn.execute("SELECT * FROM model WHERE id = ?", [model_id]).description]
        row = conn.execute("SELECT * FROM model WHERE id = ?", [model_id]).fetchone()
    return dict(zip(cols, row)) if row else None


def _loads(path: str) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert (Path(path) / "model.safetensors").is_file()
    AutoModelForCausalLM.from_pretrained(path)
    AutoTokenizer.from_pretrained(path)


def test_sft_saves_and_registers_from_base(trained, tiny_model):
    db, store, _, out = trained
    row = _model_row(store, "m1")
    assert row["method"] == "sft" and row["dataset"] == "D1"
    base = _model_row(store, row["base"])
    assert base["method"] == "base" and base["path"] == str(Path(tiny_model).resolve())
    assert row["parent"] == row["base"]  # trained from M_0
    metrics = json.loads(row["metrics"])
    assert metrics["steps"] == 1 and metrics["train_loss"] > 0 and metrics["seconds"] > 0
    recipe = json.loads(row["recipe"])
    assert recipe["recipe"] == "cpu-tiny" and recipe["precision"] == {"use_cpu": True, "bf16": False,
                                                                      "gradient_checkpointing": False}
    assert Path(row["path"]).parent == db.parent / "models"
    _loads(row["path"])
    with store.read() as conn:
        assert conn.execute("SELECT state FROM run WHERE id = ?", [row["run_id"]]).fetchone()[0] == "done"


def test_sft_lora_merges_and_keeps_adapter(trained, tiny_model):
    db, store, _, _ = trained
    result = cli.invoke(app, ["sft", "D1", "--db", str(db), "--base", tiny_model, "--name", "m1-lora", *FAST,
                              "--lora-r", "4", "--lora-alpha", "8", "--lora-target-modules", "q_proj,v_proj", "--json"])
    assert result.exit_code == 0, result.output
    row = _model_row(store, "m1-lora")
    assert (Path(row["path"]) / "adapter" / "adapter_config.json").is_file()
    _loads(row["path"])


def test_dpo_starts_from_m1_with_sft_loss(trained):
    db, store, _, _ = trained
    result = cli.invoke(app, ["dpo", "P1", "--db", str(db), "--name", "m2-dpo", "--sft-weight", "0.5", *FAST, "--json"])
    assert result.exit_code == 0, result.output
    row = _model_row(store, "m2-dpo")
    assert row["method"] == "dpo" and row["parent"] == "m1"
    recipe = json.loads(row["recipe"])
    assert recipe["loss_type"] == ["sigmoid", "sft"] and recipe["loss_weights"] == [1.0, 0.5]
    _loads(row["path"])


def test_thought_only_dpo_puts_no_loss_on_the_solution(trained, tiny_model):
    from pipeline.training.common import load_tokenizer, trainer_kwargs
    from pipeline.training.config import recipe_config
    from pipeline.training.data import dpo_rows
    from pipeline.training.dpo import build_dpo_trainer
    from pipeline.training.hardware import decide_precision

    db, store, _, _ = trained
    tokenizer = load_tokenizer(tiny_model)
    precision = decide_precision(False, False)
    decoded = {}
    for part in ("thought", "full"):
        cfg = recipe_config("dpo", "cpu-tiny", dataset="P1", part=part, max_length=400)
        rows = dpo_rows(store, dataset="P1", part=part)
        trainer = build_dpo_trainer(cfg, rows, tiny_model, tokenizer, trainer_kwargs(cfg, precision, db.parent / part),
                                    precision)
        example = trainer.train_dataset[0]
        batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
        # Tokens that get a loss (DPO and SFT alike) are exactly those with completion_mask 1.
        scored = [tokenizer.decode(ids[mask.bool()]) for ids, mask in zip(batch["input_ids"], batch["completion_mask"])]
        decoded[part] = (tokenizer.decode(example["chosen_ids"]), tokenizer.decode(example["rejected_ids"]), scored)
    chosen, rejected, scored = decoded["thought"]
    for text in (chosen, rejected, *scored):
        assert THOUGHT_WORD in text
        assert SOLUTION_WORD not in text and "begin_of_solution" not in text and "boxed" not in text
    full_chosen, _, full_scored = decoded["full"]
    assert SOLUTION_WORD in full_chosen and all(SOLUTION_WORD in s for s in full_scored)
