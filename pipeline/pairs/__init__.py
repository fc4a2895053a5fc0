"""DPO preference pairs from scored trajectories (STILL-2 perplexity-contrast rule) and their export."""
from __future__ import annotations

from pipeline.pairs.build import PairOptions, PairReport, build_pairs, choose_pairs, list_pairs, pair_id
from pipeline.pairs.export import export_pairs

__all__ = ["PairOptions", "PairReport", "build_pairs", "choose_pairs", "export_pairs", "list_pairs", "pair_id"]
