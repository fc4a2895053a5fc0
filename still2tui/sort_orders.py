"""Whole-table sort orders of one column, computed with Arrow, matching DuckDB's ORDER BY.

The order of every row by a column does not depend on the filter, so the index computes it once per
(column, direction) and a filtered, sorted view is that order with the non-matching rows dropped
(``order[mask[order]]``, O(n)). Ties keep row order (Arrow's sort is stable), as ``ORDER BY col,
rowid``; NULLs go last ascending and first descending, as ``ASC NULLS LAST`` / ``DESC NULLS FIRST``.
Strings are replaced by their rank among the distinct values (bytewise, DuckDB's default collation),
so every column but floats sorts as small integers (Arrow uses a counting sort for those).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def sort_key(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """An array whose order is the column's order: string ranks (NULL kept), numbers as they are."""
    import pyarrow.compute as pc  # ~80 ms to import: not before the first paint

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        encoded = pc.dictionary_encode(values)
        ranks = np.empty(len(encoded.dictionary), np.int32)
        ranks[pc.array_sort_indices(encoded.dictionary).to_numpy()] = np.arange(len(encoded.dictionary))
        return pc.take(pa.array(ranks), encoded.indices)  # NULL index -> NULL rank
    return values


def order(key: pa.Array, descending: bool) -> np.ndarray:
    """Row positions sorted by ``key`` (stable); NULLs last ascending, first descending."""
    import pyarrow.compute as pc

    if descending:
        out = pc.array_sort_indices(key, order="descending", null_placement="at_start")
    else:
        out = pc.array_sort_indices(key, order="ascending", null_placement="at_end")
    return out.to_numpy().astype(np.int64)
