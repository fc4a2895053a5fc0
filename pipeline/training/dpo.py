"""`still2 dpo`: TRL DPOTrainer with an added SFT loss, from M_1 by default, reference = the start model.

Loss = sigmoid DPO + sft_weight x NLL on the chosen completion (TRL 1.16: loss_type=["sigmoid", "sft"]).
Thought-only pairs are cut after <|end_of_thought|>, so the solution tokens are never in a completion.
"""
from __future__ import annotations

from pipeline.training.common import load_model, peft_config
from pipeline.training.config import DPOTrainConfig, TrainResult
from pipeline.training.data import dpo_rows
from pipeline.training.driver import run_training
from pipeline.training.hardware import is_main_process
from pipeline.training.lineage import ModelRef, first_sft, resolve
from store.store import Store


def start_model(store: Store, cfg: DPOTrainConfig) -> ModelRef:
    if cfg.from_model:
        return resolve(store, cfg.from_model, register=is_main_process())
    root = resolve(store, cfg.base).base if cfg.base else None
    m1 = first_sft(store, root)
    if m1 is None:
        where = f"in the lineage of {root}" if root else "in the store"
        raise ValueError(f"no SFT model {where} to start DPO from (M_1): run `still2 sft` first or pass --from")
    return m1


def loss_settings(cfg: DPOTrainConfig) -> dict:
    if cfg.sft_weight > 0:
        return {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, cfg.sft_weight]}
    return {"loss_type": ["sigmoid"]}


def build_dpo_trainer(cfg: DPOTrainConfig, rows: list[dict], path: str, tokenizer, common: dict, precision):
    """The DPOTrainer (separate so a test can inspect its tokenized data without training)."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    args = DPOConfig(**common, beta=cfg.beta, **loss_settings(cfg))
    return DPOTrainer(model=load_model(path, precision), ref_model=None, args=args,
                      train_dataset=Dataset.from_list(rows), processing_class=tokenizer, peft_config=peft_config(cfg))


def run_dpo(store: Store, cfg: DPOTrainConfig, *, show_progress: bool = True) -> TrainResult | None:
    cfg.validate()
    rows = dpo_rows(store, dataset=cfg.dataset, where=cfg.where, part=cfg.part, system_prompt=cfg.system_prompt,
                    use_system=cfg.use_system)
    start = start_model(store, cfg)

    def make_trainer(path, tokenizer, common, precision):
        return build_dpo_trainer(cfg, rows, path, tokenizer, common, precision)

    return run_training(store, cfg, "dpo", start=start, dataset=cfg.dataset, rows=rows,
                        make_trainer=make_trainer, show_progress=show_progress,
                        extra_recipe={"pairs": len(rows), **loss_settings(cfg)})
