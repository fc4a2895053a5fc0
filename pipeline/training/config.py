"""One config dataclass per trainer (TRL style) plus the named recipes that preset them.

Each field that is a command-line option says so in its metadata (help, flags, choices; see
pipeline/options.py): `still2 sft` / `still2 dpo` and the TUI's job forms are generated from these
fields. A recipe gives the base values, then --config FILE / --set key=value, then flags.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from pipeline.explore.config import read_prompt
from pipeline.loop.paper import trainer_preset
from pipeline.options import Choice, comma_list, opt
from pipeline.training.lengths import OVERLENGTH

# still2-paper: the report's values and ours, each marked in pipeline/loop/paper.py (README's table is
# generated from there).
RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "still2-paper": {"sft": trainer_preset("sft"), "dpo": trainer_preset("dpo")},
    # SmolLM2-135M on 2 CPU cores in minutes: short sequences, fp32, no gradient checkpointing.
    "cpu-tiny": {
        "sft": {
            "learning_rate": 5e-5,
            "batch_size": 8,
            "per_device_batch_size": 4,
            "epochs": 2.0,
            "max_length": 512,
            "warmup_ratio": 0.0,
            "lr_scheduler": "constant",
            "bf16": False,
            "gradient_checkpointing": False,
        },
        "dpo": {
            "learning_rate": 5e-6,
            "batch_size": 8,
            "per_device_batch_size": 2,
            "epochs": 1.0,
            "max_length": 512,
            "beta": 0.1,
            "sft_weight": 1.0,
            "bf16": False,
            "gradient_checkpointing": False,
            "lr_scheduler": "constant",
        },
    },
}


def _choices(name: str, values) -> type[Choice]:
    return Choice(name, [(v, v) for v in values])


RecipeName = _choices("RecipeName", RECIPES)
Overlength = _choices("Overlength", OVERLENGTH)
DPOPart = _choices("DPOPart", ("thought", "full"))
SFT_PARTS = ("full", "thought", "none")
SFTPart = _choices("SFTPart", SFT_PARTS)


def _path_str(value: Any) -> str | None:
    return None if value is None else str(value)


# Shared by fields that DPOTrainConfig redeclares with its own defaults.
_LR = opt("Learning rate.", "--lr", "--learning-rate")
_EPOCHS = opt("Epochs.")


@dataclass
class TrainCommon:
    """Fields shared by SFT and DPO."""

    recipe: str | None = field(
        default=None,
        metadata=opt(
            "Preset: still2-paper | cpu-tiny (--config, --set and flags override it).", "--recipe", choices=RecipeName
        ),
    )
    from_model: str | None = field(
        default=None,
        metadata=opt(
            "Start model (model id, folder, HF id or 'default'); default: the trainer's (SFT: the base M_0).", "--from"
        ),
    )
    base: str | None = field(
        default=None,
        metadata=opt(
            "The base model M_0, root of the lineage (sft default: SmolLM2-135M-Instruct; dpo: M_1 of any lineage)."
        ),
    )
    name: str | None = field(default=None, metadata=opt("Model id to register (default: derived from the config)."))
    output_dir: str | None = field(
        default=None, metadata=opt("Where to save (default: <db dir>/models/<id>).", cli_type=Path, parse=_path_str)
    )
    learning_rate: float = field(default=1e-5, metadata=_LR)
    epochs: float = field(default=3.0, metadata=_EPOCHS)
    batch_size: int = field(
        default=8,
        metadata=opt("Effective batch: sequences per optimizer step over all processes (accumulation is derived)."),
    )
    per_device_batch_size: int = field(default=1, metadata=opt("Sequences per device per step."))
    max_length: int = field(default=4096, metadata=opt("Max tokens of prompt + response."))
    max_steps: int = field(default=-1, metadata=opt("Stop after N optimizer steps (-1: epochs decide)."))
    warmup_ratio: float = field(default=0.0, metadata=opt("Warmup as a fraction of the steps."))
    weight_decay: float = field(default=0.0, metadata=opt("Weight decay."))
    lr_scheduler: str = field(default="cosine", metadata=opt("cosine | linear | constant | ... (transformers' names)."))
    seed: int = field(default=0, metadata=opt("Seed."))
    lora_r: int = field(
        default=0,
        metadata=opt("LoRA rank (0 = full fine-tune; LoRA is merged into a full model on save, the adapter kept too)."),
    )
    lora_alpha: int = field(default=16, metadata=opt("LoRA alpha."))
    lora_dropout: float = field(default=0.05, metadata=opt("LoRA dropout."))
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["all-linear"], metadata=opt("Comma-separated modules.", parse=comma_list, cli_type=str)
    )
    # None = decided by the hardware: bf16 and gradient checkpointing on a bf16 GPU, fp32 without them on CPU.
    bf16: bool | None = field(
        default=None, metadata=opt("Precision (default: bf16 on a GPU that has it, fp32 on CPU).", "--bf16/--fp32")
    )
    gradient_checkpointing: bool | None = field(default=None, metadata=opt("Default: on with a GPU, off on CPU."))
    system_prompt: str | None = field(
        default=None,
        metadata=opt("System prompt file (default: STILL-2's).", "--prompt-file", cli_type=Path, parse=read_prompt),
    )
    use_system: bool = field(default=True, metadata=opt("No system prompt in the chat.", "--no-system", negate=True))
    logging_steps: int = 1
    overlength: str = field(
        default="error",
        metadata=opt(
            "Rows longer than max_length: error (stop and name them) | drop | truncate (TRL's silent cut, "
            "chosen knowingly); the count is recorded with the model.",
            choices=Overlength,
        ),
    )

    def validate(self) -> None:
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


@dataclass(frozen=True)
class DPOVariant:
    """One row of the report's Table 4: what DPO aligns and what the SFT loss covers."""

    name: str
    part: str
    sft_part: str
    row: str  # the row as the report prints it, with its scores (MATH-OAI / AIME / GPQA)


DPO_VARIANTS: dict[str, DPOVariant] = {
    v.name: v
    for v in (
        DPOVariant("full", "full", "none", "Table 4: DPO Thought + Solution, no SFT (86.2 / 33.3 / 52.5)"),
        DPOVariant("full+sft", "full", "full", "Table 4: DPO Thought + Solution, with SFT (87.2 / 26.7 / 43.9)"),
        DPOVariant(
            "thought",
            "thought",
            "none",
            "Table 4: DPO Thought, no SFT (85.4 / 46.7 / 51.0) = Table 2's 'w/ SFT & DPO (STILL-2)' row",
        ),
        DPOVariant(
            "thought+sft",
            "thought",
            "full",
            "Table 4: DPO Thought, with SFT over thought and solution (87.6 / 33.3 / 50.5)",
        ),
    )
}
DPOVariantName = _choices("DPOVariantName", DPO_VARIANTS)
# The DPO the report publishes as STILL-2 (Table 2, 1.1k distilled + 1.0k pairs: 85.4 / 46.7 / 51.0)
# has Table 4's scores for "Thought, no SFT" to the decimal.
STILL2_DPO_VARIANT = "thought"


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
    where: str | None = field(
        default=None, metadata=opt("SQL over pair (pr.), problem (p.), chosen (c.), rejected (r.).")
    )
    part: str | None = field(
        default=None,
        metadata=opt(
            "What DPO aligns: thought (cut after <|end_of_thought|>) | full (default: each pair's own).",
            choices=DPOPart,
        ),
    )
    sft_part: str = field(
        default="full",
        metadata=opt(
            "What the SFT loss covers: full (thought and solution, Table 4's caption) | thought | none.",
            choices=SFTPart,
        ),
    )
    beta: float = field(default=0.1, metadata=opt("DPO beta."))
    sft_weight: float = field(default=1.0, metadata=opt("Weight of the SFT loss (0 = plain DPO)."))
    learning_rate: float = field(default=5e-7, metadata=_LR)
    epochs: float = field(default=1.0, metadata=_EPOCHS)
    variant: str | None = field(
        default=None,
        metadata=opt(
            "A Table 4 row: full | full+sft | thought | thought+sft (thought = Table 2's STILL-2 DPO); sets "
            "part and sft_part.",
            choices=DPOVariantName,
        ),
    )

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


def apply_variant(cfg: "DPOTrainConfig", overrides: dict[str, Any]) -> "DPOTrainConfig":
    """Set part and sft_part from cfg.variant, except where a flag gave them explicitly."""
    if not cfg.variant:
        return cfg
    variant = DPO_VARIANTS[cfg.variant]
    given = {k for k, v in overrides.items() if v is not None}
    return replace(
        cfg,
        part=cfg.part if "part" in given else variant.part,
        sft_part=cfg.sft_part if "sft_part" in given else variant.sft_part,
    )


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
