"""Full-text search over the trajectory text: the store's token index, with a scan as the fallback.

A word matches as a substring of the text: case-insensitively when it is all lowercase, with exact
case otherwise (``store.search_index.predicate``). The TUI asks the store's token index
(store/search_index.py) for the matching rowids and maps them to positions of its in-memory index;
the store-side predicate (``text_clause``) is what bulk curation and the no-index path use, so both
select the same rows. bench/tui.py measures common word, rare word and phrase on 1M rows.
"""
from __future__ import annotations

import numpy as np

from store import Store
from store.search_index import predicate, search, unique_sorted


def text_clause(word: str) -> tuple[str, str]:
    """A predicate over ``trajectory t`` and its one parameter."""
    return predicate(word, "t.text")


def text_positions(store: Store, index, word: str) -> np.ndarray:
    """Sorted positions (in the TUI's TrajectoryIndex) of the trajectories whose text contains ``word``."""
    with store.read() as conn:
        hits = search(conn, word)
        doc_pos = index.positions_of_docs(hits.docs)
        # Docs indexed after the in-memory index was loaded (the search index catches up in the background).
        late = hits.docs[doc_pos < 0]
        late_ids = [r[0] for r in conn.execute("SELECT trajectory_id FROM search_doc WHERE doc IN (SELECT unnest(?))",
                                               [late.tolist()]).fetchall()] if len(late) else []
    pos = np.concatenate([doc_pos, index.positions_of_ids(hits.unindexed_ids + late_ids)])
    return unique_sorted(pos[pos >= 0])
