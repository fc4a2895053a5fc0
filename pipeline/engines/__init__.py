"""Generation engines (transformers | vllm | openai-compatible) behind one small interface.

Importing this package is cheap: torch, transformers and vllm are imported only when an engine is built.
"""

from pipeline.engines.base import (
    ENGINE_KINDS,
    Completion,
    Engine,
    EngineError,
    Messages,
    PromptResult,
    SamplingParams,
    TokenScores,
    make_engine,
)
from pipeline.engines.default_model import ensure_default_model, resolve_model

__all__ = [
    "ENGINE_KINDS",
    "Completion",
    "Engine",
    "EngineError",
    "Messages",
    "PromptResult",
    "SamplingParams",
    "TokenScores",
    "ensure_default_model",
    "make_engine",
    "resolve_model",
]
