"""What the hardware allows: CPU or GPU, bf16 or fp32, gradient checkpointing, and which process is main.

Under `accelerate launch` every process runs the same command; only the main one (RANK 0) may write
to the store or the model folder's metadata.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def world_size() -> int:
    return max(1, int(os.environ.get("WORLD_SIZE", "1")))


@dataclass(frozen=True)
class Precision:
    use_cpu: bool
    bf16: bool
    gradient_checkpointing: bool

    def to_dict(self) -> dict:
        return {"use_cpu": self.use_cpu, "bf16": self.bf16, "gradient_checkpointing": self.gradient_checkpointing}


def decide_precision(bf16: bool | None, gradient_checkpointing: bool | None) -> Precision:
    """bf16 + checkpointing on a GPU with bf16; fp32 without checkpointing on CPU. Explicit values win
    where the hardware allows them (bf16 is never forced on a CPU)."""
    import torch

    cuda = torch.cuda.is_available()
    has_bf16 = cuda and torch.cuda.is_bf16_supported()
    use_bf16 = has_bf16 if bf16 is None else (bool(bf16) and has_bf16)
    checkpointing = cuda if gradient_checkpointing is None else bool(gradient_checkpointing)
    return Precision(use_cpu=not cuda, bf16=use_bf16, gradient_checkpointing=checkpointing)


def accumulation_steps(effective_batch: int, per_device: int, processes: int | None = None) -> int:
    """Gradient accumulation so that per_device x processes x accumulation ~= effective (at least 1)."""
    processes = processes or world_size()
    return max(1, round(effective_batch / (per_device * processes)))
