"""Dataset versions D_t: a recipe (``DatasetRecipe``) selects trajectories on top of a parent dataset.

Names are imported on first use (PEP 562), so that the CLI can read the option dataclasses
(DatasetRecipe, PairOptions, ScoreConfig) at start-up without loading pyarrow.
"""

from __future__ import annotations

from pipeline.lazy import lazy_exports

_EXPORTS = {
    "BuildResult": "pipeline.datasets.build",
    "build_dataset": "pipeline.datasets.build",
    "list_datasets": "pipeline.datasets.build",
    "member_ids": "pipeline.datasets.build",
    "export_dataset": "pipeline.datasets.export",
    "DatasetRecipe": "pipeline.datasets.recipe",
    "dataset_summary": "pipeline.datasets.report",
}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
