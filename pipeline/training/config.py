"""One config dataclass per trainer (TRL style) plus the named recipes that preset them.

CLI flags mirror the fields one to one (``--per-device-batch-size`` for ``per_device_batch_size`` ...);
a recipe gives the base values and flags given on the command line override them.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any


@dataclass
class TrainCommon:
    """Fields shared by SFT and DPO."""

    # Starting weights: a model id from the store, a folder, an HF id or 'default'. None = the trainer's default.
    from_model: str | None = None
    # The lineage root M_0 (None: SFT uses 'default' = SmolLM2; DPO takes M_1 from any lineage in the store).
    base: str | None = None
    name: str | None = None
    output_dir: str | None = None
    learning_rate: float = 1e-5
    epochs: float = 3.0
    # Effective batch (sequences per optimizer step over all processes); accumulation is derived from it.
    batch_size: int = 8
    per_device_batch_size: int = 1
    max_length: int = 4096
    max_steps: int = -1
    warmup_ratio: float = 0.0
    weight_decay: float = 0.0
    lr_scheduler: str = "cosine"
    seed: int = 0
    # LoRA when lora_r > 0 (merged into a full model on save; the adapter is kept too).
    lora_r: int = 0
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(default_factory=lambda: ["all-linear"])
    # None = decided by the hardware: bf16 and gradient checkpointing on a bf16 GPU, fp32 without them on CPU.
    bf16: bool | None = None
    gradient_checkpointing: bool | None = None
    system_prompt: str | None = None
    use_system: bool = True
    logging_steps: int = 1
    recipe: str | None = None

    def validate(self) -> None:
        if self.batch_size < 1 or self.per_device_batch_size < 1:
            raise ValueError("batch sizes must be >= 1")
        if self.learning_rate <= 0:
            raise ValueError("learning rate must be > 0")
        if self.lora_r < 0:
            raise ValueError("lora_r must be >= 0 (0 = full fine-tune)")
        if self.max_length < 16:
            raise ValueError("max_length must be >= 16")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=str)

    def updated(self, **overrides: Any):
        """A copy with the non-None overrides applied (how CLI flags override a recipe)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown config field(s): {', '.join(unknown)}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


@dataclass
class SFTTrainConfig(TrainCommon):
    """`still2 sft`: supervised fine-tuning on a dataset version (loss on the response only)."""

    dataset: str | None = None


@dataclass
class DPOTrainConfig(TrainCommon):
    """`still2 dpo`: DPO + SFT loss on pairs; reference model = the starting model (default M_1)."""

    # A dataset of kind 'pairs' (members are pair ids) and/or SQL over pair (pr.), problem (p.),
    # chosen (c.) and rejected (r.) trajectories.
    dataset: str | None = None
    where: str | None = None
    # thought | full; None = each pair's own part.
    part: str | None = None
    beta: float = 0.1
    sft_weight: float = 1.0
    learning_rate: float = 5e-7
    epochs: float = 1.0

    def validate(self) -> None:
        super().validate()
        if self.part not in (None, "thought", "full"):
            raise ValueError(f"part must be thought or full, got {self.part!r}")
        if self.beta <= 0 or self.sft_weight < 0:
            raise ValueError("beta must be > 0 and sft_weight >= 0")


@dataclass
class TrainResult:
    model_id: str
    path: str
    parent: str
    base: str
    dataset: str | None
    method: str
    metrics: dict[str, Any]
    run_id: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Values from the STILL-2 report where it gives them (lr 1e-5, batch 96, M_t from M_0, DPO from M_1 with
# an SFT loss); the rest are ordinary choices for a 32B full fine-tune and marked as such in the README.
RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "still2-paper": {
        "sft": {"learning_rate": 1e-5, "batch_size": 96, "per_device_batch_size": 1, "epochs": 3.0,
                "max_length": 16384, "warmup_ratio": 0.03, "lr_scheduler": "cosine", "lora_r": 0},
        "dpo": {"learning_rate": 5e-7, "batch_size": 96, "per_device_batch_size": 1, "epochs": 1.0,
                "max_length": 16384, "beta": 0.1, "sft_weight": 1.0, "warmup_ratio": 0.03},
    },
    # SmolLM2-135M on 2 CPU cores in minutes: short sequences, fp32, no gradient checkpointing.
    "cpu-tiny": {
        "sft": {"learning_rate": 5e-5, "batch_size": 8, "per_device_batch_size": 4, "epochs": 2.0,
                "max_length": 512, "warmup_ratio": 0.0, "lr_scheduler": "constant", "bf16": False,
                "gradient_checkpointing": False},
        "dpo": {"learning_rate": 5e-6, "batch_size": 8, "per_device_batch_size": 2, "epochs": 1.0,
                "max_length": 512, "beta": 0.1, "sft_weight": 1.0, "bf16": False,
                "gradient_checkpointing": False, "lr_scheduler": "constant"},
    },
}


def recipe_config(kind: str, recipe: str | None, **overrides: Any):
    """The config for trainer `kind` ('sft' | 'dpo'): recipe preset (if any), then non-None overrides."""
    cls = SFTTrainConfig if kind == "sft" else DPOTrainConfig
    preset: dict[str, Any] = {}
    if recipe:
        if recipe not in RECIPES:
            raise ValueError(f"unknown recipe {recipe!r}; known: {', '.join(RECIPES)}")
        preset = dict(RECIPES[recipe][kind], recipe=recipe)
    config = cls().updated(**preset).updated(**overrides)
    config.validate()
    return config
