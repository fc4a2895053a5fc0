"""The engine interface: sampling parameters, results, the Engine protocol and the `make_engine` factory.

Everything here is plain Python; the concrete engines import torch / vllm / HTTP code lazily.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Messages = list[dict[str, Any]]
"""One prompt: a chat message list such as [{"role": "user", "content": "..."}]."""


class EngineError(RuntimeError):
    """An engine could not do what was asked (bad model, server gave up, ...)."""


@dataclass
class SamplingParams:
    """How to sample. temperature == 0 means greedy decoding (n copies of the same answer)."""

    n: int = 1
    temperature: float = 0.7
    top_p: float = 1.0
    max_new_tokens: int = 512
    seed: int | None = None
    stop: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        self.stop = [s for s in (self.stop or []) if s]

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


@dataclass
class Completion:
    """One sampled answer.

    `finish_reason` is "stop" (end of sequence or a stop string, which is cut from `text`) or "length".
    `seconds` is the wall time attributed to this completion: engines that produce several completions
    in one batch or request split that time evenly, so summing `seconds` gives the time spent.

    `text` is always the whole response in a layout the parser reads. When a server returns the
    reasoning apart from the answer (`reasoning_content` / `reasoning`), `text` is both put together in
    the STILL layout (store.trajectory_format.with_reasoning), and the raw fields are kept as they came
    in `reasoning` and `content`, for provenance.
    """

    text: str
    n_tokens: int
    finish_reason: str
    reasoning: str | None = None
    seconds: float = 0.0
    content: str | None = None

    def raw_fields(self) -> dict[str, str] | None:
        """The server's split fields as they came (None when the response was not split)."""
        if self.reasoning is None:
            return None
        return {"reasoning_content": self.reasoning, "raw_content": self.content or ""}


@dataclass
class PromptResult:
    """The completions of one prompt; `prompt_index` is its position in the `generate` input."""

    prompt_index: int
    completions: list[Completion]
    prompt_tokens: int


@dataclass
class TokenScores:
    """Teacher-forced log-probabilities (natural log) of each response token given its prompt."""

    logprobs: list[float]

    @property
    def n_tokens(self) -> int:
        return len(self.logprobs)

    def mean_nll(self) -> float:
        """Mean negative log-likelihood per token (nan for an empty response)."""
        if not self.logprobs:
            return math.nan
        return -math.fsum(self.logprobs) / len(self.logprobs)

    def perplexity(self) -> float:
        """exp(mean NLL): the per-token perplexity used for selection and DPO pairing."""
        nll = self.mean_nll()
        return math.nan if math.isnan(nll) else math.exp(nll)


@runtime_checkable
class Engine(Protocol):
    """What the pipeline needs from a generation backend."""

    name: str
    model_id: str

    def generate(self, messages_list: list[Messages], params: SamplingParams) -> list[PromptResult]:
        """Sample `params.n` completions per prompt; results come back in input order."""
        ...

    def score(self, prompts: list[Messages], responses: list[str]) -> list[TokenScores]:
        """Per-token logprobs of each response given its chat-templated prompt (with the generation prompt)."""
        ...

    def close(self) -> None: ...


class ClosingMixin:
    """`with make_engine(...) as engine:` support for the concrete engines."""

    def close(self) -> None:  # pragma: no cover - overridden
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """Cut `text` before the earliest stop string; report whether one was found."""
    hits = [i for i in (text.find(s) for s in stops) if i >= 0]
    if not hits:
        return text, False
    return text[: min(hits)], True


def check_score_inputs(prompts: list[Messages], responses: list[str]) -> None:
    if len(prompts) != len(responses):
        raise ValueError(f"score() got {len(prompts)} prompts but {len(responses)} responses")


@dataclass(frozen=True)
class EngineEntry:
    """A registered engine kind: where its class lives (imported only when built) and which
    `EngineSpec` options (pipeline/engines/spec.py) its constructor takes."""

    name: str
    target: str  # "module:Class"
    options: tuple[str, ...]
    aliases: tuple[str, ...] = ()

    def load(self) -> type:
        import importlib

        module, _, cls = self.target.partition(":")
        return getattr(importlib.import_module(module), cls)


ENGINES: dict[str, EngineEntry] = {}


def register_engine(entry: EngineEntry) -> None:
    """Add an engine kind (a new engine is one module plus one call here)."""
    for name in (entry.name, *entry.aliases):
        ENGINES[name] = entry


register_engine(
    EngineEntry(
        "transformers",
        "pipeline.engines.transformers_engine:TransformersEngine",
        ("batch_size", "trust_remote_code"),
        aliases=("hf",),
    )
)
register_engine(
    EngineEntry(
        "vllm",
        "pipeline.engines.vllm_engine:VLLMEngine",
        ("tensor_parallel_size", "data_parallel_size", "trust_remote_code"),
    )
)
register_engine(
    EngineEntry("openai", "pipeline.engines.openai_engine:OpenAIEngine", ("base_url", "api_key_env", "concurrency"))
)

ENGINE_KINDS = tuple(dict.fromkeys(e.name for e in ENGINES.values()))


def engine_entry(kind: str) -> EngineEntry:
    entry = ENGINES.get(str(kind).lower().strip())
    if entry is None:
        raise ValueError(f"unknown engine kind {kind!r}; choose one of {', '.join(ENGINE_KINDS)}")
    return entry


def make_engine(kind: str, model: str | None = None, **opts: Any) -> Engine:
    """Build an engine of a registered kind; model None means the default model.

    For "transformers" and "vllm", the default is SmolLM2-135M-Instruct (converted and cached on first
    use); for "openai" it is the first model the server lists at /v1/models.
    """
    return engine_entry(kind).load()(model, **opts)
