"""Perplexity scoring of stored trajectories with any engine that implements ``score()``.

Names are imported on first use (PEP 562), so that the CLI can read the option dataclasses
(DatasetRecipe, PairOptions, ScoreConfig) at start-up without loading pyarrow.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "PARTS": "pipeline.scoring.score",
    "ScoreReport": "pipeline.scoring.score",
    "score_trajectories": "pipeline.scoring.score",
    "ScoreConfig": "pipeline.scoring.config",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
