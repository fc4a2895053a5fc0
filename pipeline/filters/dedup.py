"""Rules ``duplicate`` and ``near_duplicate``: the same response given twice for one problem.

Within each problem, trajectories are visited in a fixed order (approved first, then correct,
then by id); the first of a group is kept unflagged and every later member is flagged with the
id of the one it duplicates. Only the trajectories a run covers are compared.
"""

from __future__ import annotations

import hashlib

import numpy as np

from pipeline.filters.base import Rule, register
from pipeline.filters.textstats import words

_STATUS_RANK = {"approved": 0, "pending": 1, "rejected": 2}


def keep_order(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (_STATUS_RANK.get(r.get("status"), 1), r.get("verdict") != "correct", r["id"]))


def _normalized(text: str) -> str:
    return " ".join(text.split())


def check_duplicate(rows: list[dict], p: dict) -> dict[str, str]:
    """Exact duplicates: identical text after collapsing whitespace, within one problem.

    The kept copy is the first in order approved > pending > rejected, correct first, then id.
    """
    seen: dict[str, str] = {}
    out = {}
    for row in keep_order(rows):
        key = hashlib.sha1(_normalized(row.get("text") or "").encode()).hexdigest()
        if key in seen:
            out[row["id"]] = f"exact duplicate of {seen[key]} (same text after whitespace normalisation)"
        else:
            seen[key] = row["id"]
    return out


def _minhash(text: str, p: dict):
    from datasketch import MinHash

    tokens = words(text.lower())
    k = p["shingle"]
    shingles = {" ".join(tokens[i : i + k]).encode() for i in range(max(1, len(tokens) - k + 1))}
    mh = MinHash(num_perm=p["num_perm"], seed=p["seed"])
    mh.update_batch(list(shingles))
    return mh


def check_near_duplicate(rows: list[dict], p: dict) -> dict[str, str]:
    """Near duplicates: estimated Jaccard similarity of word shingles at least ``threshold``.

    MinHash signatures (datasketch, ``num_perm`` permutations, ``shingle``-word shingles,
    lower-cased); each trajectory is compared with every kept one of its problem (rollouts per
    problem are few, and LSH banding misses pairs near the threshold) and flagged against the most
    similar. Texts shorter than ``min_words`` words are skipped (rule ``too_short`` covers them).
    """
    if len(rows) < 2:
        return {}
    ordered = [r for r in keep_order(rows) if len(words(r.get("text") or "")) >= p["min_words"]]
    if len(ordered) < 2:
        return {}
    kept_ids: list[str] = []
    kept: list[np.ndarray] = []
    out = {}
    for row in ordered:
        signature = _minhash(row.get("text") or "", p).hashvalues
        if kept:
            similarity = (np.vstack(kept) == signature).mean(axis=1)
            best = int(np.argmax(similarity))
            if similarity[best] >= p["threshold"]:
                out[row["id"]] = (
                    f"near duplicate of {kept_ids[best]} (estimated Jaccard {similarity[best]:.2f} "
                    f"over {p['shingle']}-word shingles ≥ {p['threshold']})"
                )
                continue
        kept_ids.append(row["id"])
        kept.append(signature)
    return out


DUPLICATE = register(
    Rule(name="duplicate", check=check_duplicate, defaults={}, kind="group", columns=("text", "verdict", "status"))
)
NEAR_DUPLICATE = register(
    Rule(
        name="near_duplicate",
        check=check_near_duplicate,
        defaults={"threshold": 0.8, "shingle": 5, "num_perm": 128, "seed": 1, "min_words": 20},
        kind="group",
        columns=("text", "verdict", "status"),
    )
)
