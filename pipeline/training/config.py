"""One config dataclass per trainer (TRL style) plus the named recipes that preset them.

CLI flags mirror the fields one to one (``--per-device-batch-size`` for ``per_device_batch_size`` ...);
a recipe gives the base values and flags given on the command line override them.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from pipeline.loop.paper import trainer_preset


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
    overlength: str = field(default="error", metadata={
        "help": "Rows longer than max_length: error (stop and name them) | drop | truncate (TRL's silent cut, "
                "chosen knowingly); the count is recorded with the model."})

    def validate(self) -> None:
        from pipeline.training.lengths import OVERLENGTH

        if self.overlength not in OVERLENGTH:
            raise ValueError(f"overlength must be one of {', '.join(OVERLENGTH)}, got {self.overlength!r}")
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


SFT_PARTS = ("full", "thought", "none")


@dataclass
class DPOTrainConfig(TrainCommon):
    """`still2 dpo`: DPO (+ an SFT loss) on pairs; reference model = the starting model (default M_1).

    The DPO term and the SFT term each see a part of the response (the report's Table 4): `part` is
    what DPO aligns, `sft_part` what the SFT loss covers. Table 4's caption: "For SFT, we optimize the
    model over both the parts of thought and solution", so the SFT term covers the full chosen response
    unless asked otherwise, even when DPO aligns only the thought.
    """

    # A dataset of kind 'pairs' (members are pair ids) and/or SQL over pair (pr.), problem (p.),
    # chosen (c.) and rejected (r.) trajectories.
    dataset: str | None = None
    where: str | None = None
    part: str | None = field(default=None, metadata={
        "help": "What DPO aligns: thought (cut after <|end_of_thought|>) | full; None = each pair's own part."})
    sft_part: str = field(default="full", metadata={
        "help": "What the SFT loss covers: full (thought and solution, Table 4's caption) | thought | none."})
    beta: float = 0.1
    sft_weight: float = field(default=1.0, metadata={"help": "Weight of the SFT loss (0 = none)."})
    learning_rate: float = 5e-7
    epochs: float = 1.0
    variant: str | None = field(default=None, metadata={
        "help": "A Table 4 row by name (see DPO_VARIANTS): sets part and sft_part."})

    def validate(self) -> None:
        super().validate()
        if self.part not in (None, "thought", "full"):
            raise ValueError(f"part must be thought or full, got {self.part!r}")
        if self.sft_part not in SFT_PARTS:
            raise ValueError(f"sft_part must be one of {', '.join(SFT_PARTS)}, got {self.sft_part!r}")
        if self.beta <= 0 or self.sft_weight < 0:
            raise ValueError("beta must be > 0 and sft_weight >= 0")
        if self.variant is not None and self.variant not in DPO_VARIANTS:
            raise ValueError(f"unknown DPO variant {self.variant!r}; known: {', '.join(DPO_VARIANTS)}")

    @property
    def sft_active(self) -> bool:
        return self.sft_part != "none" and self.sft_weight > 0


@dataclass(frozen=True)
class DPOVariant:
    """One row of the report's Table 4: what DPO aligns and what the SFT loss covers."""

    name: str
    part: str
    sft_part: str
    row: str  # the row as the report prints it, with its scores (MATH-OAI / AIME / GPQA)


DPO_VARIANTS: dict[str, DPOVariant] = {v.name: v for v in (
    DPOVariant("full", "full", "none", "Table 4: DPO Thought + Solution, no SFT (86.2 / 33.3 / 52.5)"),
    DPOVariant("full+sft", "full", "full", "Table 4: DPO Thought + Solution, with SFT (87.2 / 26.7 / 43.9)"),
    DPOVariant("thought", "thought", "none",
               "Table 4: DPO Thought, no SFT (85.4 / 46.7 / 51.0) = Table 2's 'w/ SFT & DPO (STILL-2)' row"),
    DPOVariant("thought+sft", "thought", "full",
               "Table 4: DPO Thought, with SFT over thought and solution (87.6 / 33.3 / 50.5)"),
)}
# The DPO the report publishes as STILL-2 (Table 2, 1.1k distilled + 1.0k pairs: 85.4 / 46.7 / 51.0)
# has Table 4's scores for "Thought, no SFT" to the decimal.
STILL2_DPO_VARIANT = "thought"


def apply_variant(cfg: "DPOTrainConfig", overrides: dict[str, Any]) -> "DPOTrainConfig":
    """Set part and sft_part from cfg.variant, except where a flag gave them explicitly."""
    if not cfg.variant:
        return cfg
    variant = DPO_VARIANTS[cfg.variant]
    given = {k for k, v in overrides.items() if v is not None}
    return replace(cfg, part=cfg.part if "part" in given else variant.part,
                   sft_part=cfg.sft_part if "sft_part" in given else variant.sft_part)


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


# still2-paper: the report's values and ours, each marked in pipeline/loop/paper.py (README's table is
# generated from there).
RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "still2-paper": {"sft": trainer_preset("sft"), "dpo": trainer_preset("dpo")},
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
    if kind == "dpo":
        config = apply_variant(config, overrides)
    config.validate()
    return config
