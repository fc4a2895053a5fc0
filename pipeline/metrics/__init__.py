"""Per-trajectory behaviour metrics stored for curation (``still2 metrics``): overthinking and re-checks."""

from __future__ import annotations

from pipeline.metrics.overthinking import RECHECKS, count_rechecks, first_correct
from pipeline.metrics.run import MetricsReport, compute_metrics

__all__ = ["RECHECKS", "count_rechecks", "first_correct", "MetricsReport", "compute_metrics"]
