"""Full-text search over the trajectory text: the store's token index, with a scan as the fallback.

A word matches as a substring of the text: case-insensitively when it is all lowercase, with exact
case otherwise (``store.search_index.predicate``). The TUI asks the store's token index
(store/search_index.py) for the matching rowids and maps them to positions of its in-memory index;
the store-side predicate (``text_clause``) is what bulk curation and the no-index path use, so both
select the same rows. bench/tui.py measures common word, rare word and phrase on 1M rows.

A word the index cannot answer alone (a phrase, symbols, capitals) has its candidates' text read; when
there are many, counting the matches takes seconds (a read of all text), so ``first_positions`` finds
the first page before: it reads the text of the candidates in display order, a chunk at a time, until
the page is full.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from store import Store
from store.search_index import (
    Candidates,
    candidates,
    doc_ids,
    intersect_sorted,
    matching_rowids,
    predicate,
    search,
    unique_sorted,
)

FIRST_PAGE_ABOVE = 20_000  # matches to check beyond this: the first page is found before the count
FIRST_CHUNK = 4  # pages in the first chunk of candidates read
CHUNKS = 3  # chunks read at most before leaving the first page to the count
MAX_CHUNK = 64  # pages in the largest chunk (a chunk spread over the table costs a read of it)


def text_clause(word: str) -> tuple[str, str]:
    """A predicate over ``trajectory t`` and its one parameter."""
    return predicate(word, "t.text")


def text_positions(store: Store, index, word: str, found: Candidates | None = None) -> np.ndarray:
    """Sorted positions (in the TUI's TrajectoryIndex) of the trajectories whose text contains ``word``
    (``found``: its candidates, if known)."""
    with store.read() as conn:
        hits = search(conn, word, found)
        if hits.rowids is not None:
            pos = index.positions_of_rowids(hits.rowids)
            return unique_sorted(pos[pos >= 0])
        doc_pos = index.positions_of_docs(hits.docs)
        # Docs indexed after the in-memory index was loaded (the search index catches up in the background).
        late = hits.docs[doc_pos < 0]
        late_ids = doc_ids(conn, late)
    pos = np.concatenate([doc_pos, index.positions_of_ids(hits.unindexed_ids + late_ids)])
    return unique_sorted(pos[pos >= 0])


def word_candidates(store: Store, words: list[str]) -> dict[str, Candidates]:
    with store.read() as conn:
        return {word: candidates(conn, word) for word in words}


def first_positions(
    store: Store,
    index,
    words: list[str],
    found: dict[str, Candidates],
    filtered: Callable[[], np.ndarray],
    sort_key: str,
    descending: bool,
    limit: int,
) -> tuple[np.ndarray, bool] | None:
    """The first ``limit`` positions, in display order, of ``filtered()`` (sorted positions) whose text
    holds every word, and whether they are all of them: a prefix of the exact view, found by reading the
    text of as few candidates as it takes. None when the exact answer is as quick (no text to read or
    few candidates) or the page is not full after CHUNKS chunks."""
    undocumented = index.positions_without_doc()  # not in the search index when loaded: always read
    if all(found[w].exact for w in words) and not len(undocumented):
        return None
    matches = filtered()
    for word in words:
        if found[word].docs is not None:
            pos = index.positions_of_docs(found[word].docs)
            matches = intersect_sorted(matches, unique_sorted(np.concatenate([pos[pos >= 0], undocumented])))
    if len(matches) <= FIRST_PAGE_ABOVE:
        return None
    order = index.view(matches, sort_key, descending)
    rid = index.rid
    first: list[int] = []
    start, chunk = 0, FIRST_CHUNK * limit
    with store.read() as conn:
        for _ in range(CHUNKS):
            part = order[start : start + chunk]
            hits = set(matching_rowids(conn, rid[part], words).tolist())
            first += [p for p, r in zip(part.tolist(), rid[part].tolist()) if r in hits]
            start += len(part)
            if len(first) >= limit or start >= len(order):
                return np.asarray(first[:limit], dtype=np.int64), start >= len(order) and len(first) <= limit
            rate = len(first) / start
            if not rate:
                return None
            chunk = min(int((limit - len(first)) / rate * 1.5) + 1, MAX_CHUNK * limit)
    return None
