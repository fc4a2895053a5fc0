"""The engine options every generating/scoring command shares, and building an engine from them."""
from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

EngineOption = Annotated[str, typer.Option("--engine", help="transformers | vllm | openai")]
ModelOption = Annotated[Optional[str], typer.Option(
    "--model", help="'default' (SmolLM2-135M-Instruct, offline), a local path, an HF id, or the served model name.")]
BaseUrlOption = Annotated[Optional[str], typer.Option(
    "--base-url", help="openai: endpoint(s), comma-separated for several servers (round-robin).")]
ApiKeyEnvOption = Annotated[str, typer.Option("--api-key-env", help="openai: env var holding the API key.")]
ConcurrencyOption = Annotated[int, typer.Option("--concurrency", help="openai: requests in flight.")]
TPOption = Annotated[int, typer.Option("--tensor-parallel-size", help="vllm: GPUs per replica.")]
DPOption = Annotated[int, typer.Option("--data-parallel-size", help="vllm: replicas (data parallel).")]
BatchOption = Annotated[int, typer.Option("--batch-size", help="transformers: sequences per generate call (more is faster while memory lasts; halved on OOM).")]
TrustOption = Annotated[bool, typer.Option("--trust-remote-code", help="Allow model repos' own code (off by default).")]
EngineOptOption = Annotated[Optional[list[str]], typer.Option(
    "--engine-opt", help="Extra engine argument KEY=VALUE (repeatable), e.g. max_model_len=4096.")]


def _value(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        return text


def build_engine(engine: str, model: str | None, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 8, tensor_parallel_size: int = 1, data_parallel_size: int = 1,
                 batch_size: int = 32, trust_remote_code: bool = False, engine_opt: list[str] | None = None):
    from pipeline.engines import make_engine

    opts: dict[str, Any] = {}
    if engine == "openai":
        opts.update(base_url=base_url, api_key_env=api_key_env, concurrency=concurrency)
    elif engine == "vllm":
        opts.update(tensor_parallel_size=tensor_parallel_size, data_parallel_size=data_parallel_size,
                    trust_remote_code=trust_remote_code)
    else:
        opts.update(batch_size=batch_size, trust_remote_code=trust_remote_code)
    for item in engine_opt or []:
        key, _, value = item.partition("=")
        opts[key.strip()] = _value(value)
    return make_engine(engine, None if model in (None, "default") else model, **opts)
