"""`still2 sft`: TRL SFTTrainer on a dataset version, loss on the response only, from M_0 by default."""

from __future__ import annotations

from pipeline.training.common import load_model, peft_config
from pipeline.training.config import SFTTrainConfig, TrainResult
from pipeline.training.data import sft_rows
from pipeline.training.driver import run_training
from pipeline.training.hardware import is_main_process
from pipeline.training.lineage import resolve
from store.store import Store


def run_sft(store: Store, cfg: SFTTrainConfig, *, show_progress: bool = True) -> TrainResult | None:
    """Train M_t on `cfg.dataset`. The start is `cfg.from_model`, else the base M_0 (the report's choice:
    every M_t is trained from M_0, not from M_{t-1})."""
    cfg.validate()
    if not cfg.dataset:
        raise ValueError("sft needs a dataset (see `still2 dataset list`)")
    rows, ids = sft_rows(store, cfg.dataset, system_prompt=cfg.system_prompt, use_system=cfg.use_system, with_ids=True)
    start = resolve(store, cfg.from_model or cfg.base or "default", register=is_main_process())

    def make_trainer(path, tokenizer, common, precision, kept_rows):
        from datasets import Dataset
        from trl import SFTConfig, SFTTrainer

        args = SFTConfig(**common, completion_only_loss=True, packing=False)
        return SFTTrainer(
            model=load_model(path, precision),
            args=args,
            train_dataset=Dataset.from_list(kept_rows),
            processing_class=tokenizer,
            peft_config=peft_config(cfg),
        )

    return run_training(
        store,
        cfg,
        "sft",
        start=start,
        dataset=cfg.dataset,
        rows=rows,
        ids=ids,
        make_trainer=make_trainer,
        show_progress=show_progress,
    )
