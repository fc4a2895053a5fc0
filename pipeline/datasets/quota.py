"""Seeded, deterministic sampling with ratios: stable order keys and largest-remainder quotas."""

from __future__ import annotations

import hashlib
import math


def seeded_key(seed: int, item_id: str) -> str:
    """An order for sampling that depends only on the seed and the id (not on row order)."""
    return hashlib.sha1(f"{seed}\x00{item_id}".encode()).hexdigest()


def allocate(available: dict, ratios: dict, total: int | None) -> dict:
    """How many to take from each group so the counts follow ``ratios`` as closely as possible.

    Groups with ratio 0 or missing from ``ratios`` get 0. With ``total`` None, the total is the
    largest one every group can supply at its ratio. Counts never exceed what a group has;
    rounding uses the largest remainder, ties broken by group key.
    """
    weights = {k: ratios.get(k, 0.0) for k in available if ratios.get(k, 0.0) > 0}
    if not weights:
        return {k: 0 for k in available}
    norm = sum(weights.values())
    shares = {k: w / norm for k, w in weights.items()}
    if total is None:
        total = min(math.floor(available[k] / s + 1e-9) for k, s in shares.items())
    exact = {k: total * s for k, s in shares.items()}
    counts = {k: math.floor(v) for k, v in exact.items()}
    rest = total - sum(counts.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - counts[k]), str(k)))[:rest]:
        counts[k] += 1
    return {k: min(counts.get(k, 0), n) for k, n in available.items()}
