"""`ScoreConfig`: what `still2 score` scores and with which model, each option declared once on its field.

The CLI generates `score`'s options from these fields and `still2 jobs schema` gives the TUI's job form the
same help and choices. Light (no pyarrow): the CLI reads it at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.engines.spec import EngineKind
from pipeline.options import Choice, opt

ScorePart = Choice("ScorePart", [(p, p) for p in ("full", "thought", "both")])


@dataclass
class ScoreConfig:
    model: str | None = field(
        default=None, metadata=opt("Model id or folder (default: SmolLM2-135M-Instruct).", "--model")
    )
    engine: str = field(
        default="transformers",
        metadata=opt(
            "Scoring engine: transformers (CPU or one GPU) or vllm (prompt logprobs).", "--engine", choices=EngineKind
        ),
    )
    part: str = field(
        default="full",
        metadata=opt("full | thought (the response cut at the end of thought) | both.", "--part", choices=ScorePart),
    )
    where: str | None = field(default=None, metadata=opt("SQL condition over the trajectories view.", "--where"))
    batch_size: int | None = field(
        default=None,
        metadata=opt("Sequences per forward pass (default: 1 on CPU, 16 on a GPU).", "--batch-size", min=1),
    )
    scorer: str | None = field(
        default=None, metadata=opt("Name stored with the scores (default: model id).", "--scorer")
    )
    rescore: bool = field(default=False, metadata=opt("Score again rows already scored by this scorer.", "--rescore"))
    device: str | None = field(default=None, metadata=opt("cpu | cuda | mps (default: best available).", "--device"))
    tokens: bool = field(
        default=False,
        metadata=opt(
            "Also keep each token's NLL and character span (table token_nll, 4 bytes a token) for the TUI's surprise "
            "heatmap; rows scored before without them are scored again.",
            "--tokens",
        ),
    )

    def engine_options(self) -> dict:
        """Constructor arguments of the scoring engine (batch size and device for transformers)."""
        if self.engine in ("transformers", "hf"):
            return {"score_batch_size": self.batch_size, "device": self.device}
        return {}
