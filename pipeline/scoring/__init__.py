"""Perplexity scoring of stored trajectories with any engine that implements ``score()``.

Names are imported on first use (PEP 562), so that the CLI can read the option dataclasses
(DatasetRecipe, PairOptions, ScoreConfig) at start-up without loading pyarrow.
"""

from __future__ import annotations

from pipeline.lazy import lazy_exports

_EXPORTS = {
    "PARTS": "pipeline.scoring.score",
    "ScoreReport": "pipeline.scoring.score",
    "score_trajectories": "pipeline.scoring.score",
    "ScoreConfig": "pipeline.scoring.config",
}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
