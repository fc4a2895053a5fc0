"""DPO preference pairs from scored trajectories (STILL-2 perplexity-contrast rule) and their export.

Names are imported on first use (PEP 562), so that the CLI can read the option dataclasses
(DatasetRecipe, PairOptions, ScoreConfig) at start-up without loading pyarrow.
"""

from __future__ import annotations

from pipeline.lazy import lazy_exports

_EXPORTS = {
    "PairOptions": "pipeline.pairs.config",
    "PairReport": "pipeline.pairs.build",
    "build_pairs": "pipeline.pairs.build",
    "choose_pairs": "pipeline.pairs.build",
    "list_pairs": "pipeline.pairs.build",
    "pair_id": "pipeline.pairs.build",
    "export_pairs": "pipeline.pairs.export",
}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
