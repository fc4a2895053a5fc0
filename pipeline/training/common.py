"""Plumbing both trainers share: TrainingArguments values, model/tokenizer loading, LoRA, progress, saving.

Saving follows the multi-process rules: `trainer.save_model` runs on every process (ZeRO-3 and FSDP
gather the shards there); merging LoRA, writing the tokenizer and registering happen on the main one.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from pipeline.training.config import TrainCommon
from pipeline.training.hardware import Precision, accumulation_steps, is_main_process, world_size
from pipeline.training.lineage import ModelRef, models_dir
from store.ids import stable_id
from store.store import Store

MARKER = "still2-model.json"


def default_model_id(method: str, source: str | None, cfg: TrainCommon, start: ModelRef) -> str:
    tag = stable_id(cfg.to_json(), start.id, source)[:6]
    return f"{method}-{source or 'pairs'}-{tag}"


def output_dir(store: Store, cfg: TrainCommon, model_id: str) -> Path:
    return Path(cfg.output_dir).resolve() if cfg.output_dir else models_dir(store) / model_id


def trainer_kwargs(cfg: TrainCommon, precision: Precision, out: Path) -> dict[str, Any]:
    """Keyword arguments common to SFTConfig and DPOConfig (every changed TRL default set explicitly)."""
    return {
        "output_dir": str(out / ".trainer"),
        "learning_rate": cfg.learning_rate,
        "num_train_epochs": cfg.epochs,
        "max_steps": cfg.max_steps,
        "per_device_train_batch_size": cfg.per_device_batch_size,
        "gradient_accumulation_steps": accumulation_steps(cfg.batch_size, cfg.per_device_batch_size),
        # transformers 5: a float below 1 is a ratio of the total steps.
        "warmup_steps": cfg.warmup_ratio if 0 < cfg.warmup_ratio < 1 else 0,
        "weight_decay": cfg.weight_decay,
        "lr_scheduler_type": cfg.lr_scheduler,
        "seed": cfg.seed,
        "bf16": precision.bf16,
        "use_cpu": precision.use_cpu,
        checkpointing_arg(): precision.gradient_checkpointing,
        "max_length": cfg.max_length,
        "logging_steps": cfg.logging_steps,
        "save_strategy": "no",
        "report_to": [],
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
    }


def checkpointing_arg() -> str:
    """TrainingArguments' name for gradient checkpointing: activation_checkpointing since transformers 5.2x
    (the old name still works but warns)."""
    import dataclasses

    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    return "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"


def load_model(path: str, precision: Precision):
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # loading/saving bars; the trainer's own progress is not affected
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16 if precision.bf16 else torch.float32)


def load_tokenizer(path: str):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def peft_config(cfg: TrainCommon):
    if cfg.lora_r <= 0:
        return None
    from peft import LoraConfig

    targets = cfg.lora_target_modules or ["all-linear"]
    return LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        task_type="CAUSAL_LM",
        target_modules="all-linear" if targets == ["all-linear"] else list(targets),
    )


def progress_callback(bar):
    """A TrainerCallback that advances a JobProgress per optimizer step and shows the latest loss."""
    from transformers import TrainerCallback

    class _Progress(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            bar.set_total(state.max_steps)

        def on_step_end(self, args, state, control, **kwargs):
            bar.advance(1)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                bar.extra["loss"] = round(float(logs["loss"]), 4)

    return _Progress()


def prepare_output(out: Path) -> None:
    """A redone training step starts from an empty folder (main process only)."""
    if is_main_process() and out.exists():
        shutil.rmtree(out)


def _merge_lora(start_path: str, adapter_dir: Path, out: Path, precision: Precision) -> None:
    from peft import PeftModel

    base = load_model(start_path, precision)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(str(out))


def save_trained(
    trainer, tokenizer, cfg: TrainCommon, start_path: str, out: Path, precision: Precision, info: dict[str, Any]
) -> bool:
    """Write safetensors + tokenizer to `out` (LoRA: merged model, adapter kept in out/adapter).

    Every process must call this; returns True on the main process, which is the one to register.
    """
    lora = cfg.lora_r > 0
    trainer.save_model(str(out / "adapter" if lora else out))
    trainer.accelerator.wait_for_everyone()
    if not is_main_process():
        return False
    if lora:
        _merge_lora(start_path, out / "adapter", out, precision)
    tokenizer.save_pretrained(str(out))
    shutil.rmtree(out / ".trainer", ignore_errors=True)
    (out / MARKER).write_text(json.dumps(info, indent=2, default=str), encoding="utf-8")
    return True


def train_metrics(train_output, started: float, rows: int) -> dict[str, Any]:
    metrics = dict(train_output.metrics or {})
    return {
        "train_loss": round(float(train_output.training_loss), 6),
        "steps": int(train_output.global_step),
        "seconds": round(time.monotonic() - started, 2),
        "examples": rows,
        "processes": world_size(),
        **{k: v for k, v in metrics.items() if k in ("train_runtime", "train_samples_per_second")},
    }
