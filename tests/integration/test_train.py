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
FAST = [
    "--recipe",
    "cpu-tiny",
    "--max-steps",
    "1",
    "--batch-size",
    "2",
    "--per-device-batch-size",
    "2",
    "--max-length",
    "400",
]


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
    assert recipe["recipe"] == "cpu-tiny" and recipe["precision"] == {
        "use_cpu": True,
        "bf16": False,
        "gradient_checkpointing": False,
    }
    assert Path(row["path"]).parent == db.parent / "models"
    _loads(row["path"])
    with store.read() as conn:
        assert conn.execute("SELECT state FROM run WHERE id = ?", [row["run_id"]]).fetchone()[0] == "done"


def test_sft_lora_merges_and_keeps_adapter(trained, tiny_model):
    db, store, _, _ = trained
    result = cli.invoke(
        app,
        [
            "sft",
            "D1",
            "--db",
            str(db),
            "--base",
            tiny_model,
            "--name",
            "m1-lora",
            *FAST,
            "--lora-r",
            "4",
            "--lora-alpha",
            "8",
            "--lora-target-modules",
            "q_proj,v_proj",
            "--json",
        ],
    )
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


def _dpo_trainer(store, tiny_model, out, **cfg_fields):
    from pipeline.training.common import load_tokenizer, trainer_kwargs
    from pipeline.training.config import recipe_config
    from pipeline.training.data import dpo_rows
    from pipeline.training.dpo import build_dpo_trainer
    from pipeline.training.hardware import decide_precision

    tokenizer = load_tokenizer(tiny_model)
    precision = decide_precision(False, False)
    cfg = recipe_config("dpo", "cpu-tiny", dataset="P1", max_length=400, **cfg_fields)
    rows = dpo_rows(store, dataset="P1", part=cfg.part, sft_part=cfg.sft_part if cfg.sft_active else None)
    trainer = build_dpo_trainer(cfg, rows, tiny_model, tokenizer, trainer_kwargs(cfg, precision, out), precision)
    return cfg, trainer, tokenizer


def _scored(tokenizer, ids, mask):
    return [tokenizer.decode(i[m.bool()]) for i, m in zip(ids, mask)]


def test_dpo_part_decides_which_tokens_the_dpo_term_sees(trained, tiny_model):
    db, store, _, _ = trained
    decoded = {}
    for variant in ("thought", "full"):
        cfg, trainer, tokenizer = _dpo_trainer(store, tiny_model, db.parent / variant, variant=variant)
        assert (cfg.part, cfg.sft_part, cfg.sft_active) == (variant, "none", False)
        example = trainer.train_dataset[0]
        batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
        # The DPO log-ratios sum over exactly the tokens with completion_mask 1.
        decoded[variant] = (
            tokenizer.decode(example["chosen_ids"]),
            tokenizer.decode(example["rejected_ids"]),
            _scored(tokenizer, batch["input_ids"], batch["completion_mask"]),
        )
    chosen, rejected, scored = decoded["thought"]
    for text in (chosen, rejected, *scored):
        assert THOUGHT_WORD in text
        assert SOLUTION_WORD not in text and "begin_of_solution" not in text and "boxed" not in text
    full_chosen, _, full_scored = decoded["full"]
    assert SOLUTION_WORD in full_chosen and all(SOLUTION_WORD in s for s in full_scored)


def test_table4_thought_dpo_with_sft_over_thought_and_solution(trained, tiny_model):
    """Table 4's caption: the SFT loss covers thought and solution even when DPO aligns only the thought.
    The loss is exactly DPO(thought) + sft_weight x NLL(full chosen response)."""
    import torch

    db, store, _, _ = trained
    cfg, split, tokenizer = _dpo_trainer(store, tiny_model, db.parent / "ts", variant="thought+sft", sft_weight=0.7)
    assert (cfg.part, cfg.sft_part) == ("thought", "full") and type(split).__name__ == "SplitPartsDPOTrainer"
    examples = [split.train_dataset[i] for i in range(2)]
    batch = split.data_collator(examples)
    for text in _scored(tokenizer, batch["input_ids"], batch["completion_mask"]):
        assert SOLUTION_WORD not in text  # DPO: thought only
    sft_scored = _scored(tokenizer, batch["sft_input_ids"], batch["sft_completion_mask"])
    assert len(sft_scored) == 2
    assert all(THOUGHT_WORD in text and SOLUTION_WORD in text for text in sft_scored)  # SFT: both parts

    _, plain, _ = _dpo_trainer(store, tiny_model, db.parent / "t", variant="thought")
    plain_batch = plain.data_collator([plain.train_dataset[i] for i in range(2)])
    with torch.no_grad():
        total = split.compute_loss(split.model, dict(batch)).item()
        dpo_only = plain.compute_loss(plain.model, dict(plain_batch)).item()
        ids, mask = batch["sft_input_ids"], batch["sft_completion_mask"]
        logits = split.model(input_ids=ids, attention_mask=batch["sft_attention_mask"]).logits[:, :-1]
        logps = torch.log_softmax(logits.float(), -1).gather(2, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        nll = -logps[mask[:, 1:].bool()].mean().item()
    assert nll > 0 and abs(total - (dpo_only + 0.7 * nll)) < 1e-4


def test_still2_dpo_preset_is_table2s_row(trained):
    """Table 2's 'w/ SFT & DPO (STILL-2)' (85.4 / 46.7 / 51.0) is Table 4's 'Thought, no SFT' to the decimal."""
    from pipeline.training.config import DPO_VARIANTS, STILL2_DPO_VARIANT, recipe_config

    cfg = recipe_config("dpo", "still2-paper")
    assert cfg.variant == STILL2_DPO_VARIANT == "thought"
    assert (cfg.part, cfg.sft_part) == ("thought", "none") and "85.4 / 46.7 / 51.0" in DPO_VARIANTS["thought"].row
    # a flag still wins over the variant
    assert recipe_config("dpo", "still2-paper", sft_part="full").sft_part == "full"


def test_dpo_thought_with_full_sft_trains_and_records_its_loss(trained):
    db, store, _, _ = trained
    result = cli.invoke(
        app, ["dpo", "P1", "--db", str(db), "--name", "m2-ts", "--variant", "thought+sft", *FAST, "--json"]
    )
    assert result.exit_code == 0, result.output
    recipe = json.loads(_model_row(store, "m2-ts")["recipe"])
    assert recipe["loss_type"] == ["sigmoid"] and recipe["extra_sft_weight"] == 1.0
    assert (recipe["dpo_part"], recipe["sft_part"]) == ("thought", "full")


def test_overlong_rows_are_never_cut_silently(trained, tiny_model):
    db, store, _, _ = trained
    refused = cli.invoke(
        app, ["sft", "D1", "--db", str(db), "--base", tiny_model, "--name", "m-short", *FAST, "--max-length", "60"]
    )
    assert refused.exit_code == 1 and "longer than max_length 60" in refused.output
    cut = cli.invoke(
        app,
        [
            "sft",
            "D1",
            "--db",
            str(db),
            "--base",
            tiny_model,
            "--name",
            "m-cut",
            *FAST,
            "--max-length",
            "40",
            "--no-system",
            "--overlength",
            "truncate",
            "--json",
        ],
    )
    assert cut.exit_code == 0, cut.output
    lengths = json.loads(_model_row(store, "m-cut")["recipe"])["lengths"]
    assert lengths["over"] == lengths["rows"] == 4 and lengths["policy"] == "truncate" and lengths["longest"] > 40
