"""Perplexity scoring of stored trajectories with any engine that implements ``score()``."""
from __future__ import annotations

from pipeline.scoring.score import PARTS, ScoreReport, score_trajectories

__all__ = ["PARTS", "ScoreReport", "score_trajectories"]
