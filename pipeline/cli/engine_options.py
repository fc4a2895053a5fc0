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


def build_engine(engine: str, model: str | None, **engine_args: Any):
    """The engine for `model` from the CLI's engine options (see pipeline/engines/spec.EngineSpec)."""
    from pipeline.engines.spec import EngineSpec

    return EngineSpec.from_args(engine, {k: v for k, v in engine_args.items() if v is not None}).build(model)
