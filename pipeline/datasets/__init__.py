"""Dataset versions D_t: a recipe (``DatasetRecipe``) selects trajectories on top of a parent dataset."""
from __future__ import annotations

from pipeline.datasets.build import BuildResult, build_dataset, list_datasets, member_ids
from pipeline.datasets.export import export_dataset
from pipeline.datasets.recipe import DatasetRecipe
from pipeline.datasets.report import dataset_summary

__all__ = ["BuildResult", "DatasetRecipe", "build_dataset", "dataset_summary", "export_dataset",
           "list_datasets", "member_ids"]
