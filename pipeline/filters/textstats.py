"""Shared text statistics for the rules: word splitting, word ids, n-gram repetition coverage."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

WORD = re.compile(r"\S+")


def words(text: str) -> list[str]:
    return WORD.findall(text)


def word_ids(tokens: list[str]) -> np.ndarray:
    """Each word mapped to a small integer (first-seen order)."""
    vocab: dict[str, int] = {}
    return np.fromiter((vocab.setdefault(w, len(vocab)) for w in tokens), dtype=np.int64, count=len(tokens))


@lru_cache(maxsize=8)
def _coefficients(n: int) -> np.ndarray:
    return np.random.default_rng(12345).integers(1, 2**62, size=n, dtype=np.int64).astype(np.uint64) | np.uint64(1)


def ngram_coverage(ids: np.ndarray, n: int, min_count: int) -> tuple[float, int, int]:
    """Share of word positions inside an n-gram that occurs at least ``min_count`` times.

    Returns (coverage, start of the most frequent n-gram, its count); n-grams are hashed with random
    odd 64-bit coefficients (wrap-around arithmetic), so a collision is astronomically unlikely.
    """
    if len(ids) < n:
        return 0.0, 0, 0
    windows = np.lib.stride_tricks.sliding_window_view(ids.astype(np.uint64), n)
    with np.errstate(over="ignore"):
        hashes = windows @ _coefficients(n)
    _, first, inverse, counts = np.unique(hashes, return_index=True, return_inverse=True, return_counts=True)
    per_start = counts[inverse]
    repeated = per_start >= min_count
    if not repeated.any():
        return 0.0, 0, int(counts.max())
    delta = np.zeros(len(ids) + 1, dtype=np.int64)
    starts = np.flatnonzero(repeated)
    np.add.at(delta, starts, 1)
    np.add.at(delta, starts + n, -1)
    covered = int((np.cumsum(delta[:-1]) > 0).sum())
    top = int(np.argmax(counts))
    return covered / len(ids), int(first[top]), int(counts[top])
