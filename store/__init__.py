"""store: the DuckDB trajectory store (schema, locked connections, ingest, queries, formats). No torch, no Textual."""

from store.connection import StoreError
from store.store import Store

__all__ = ["Store", "StoreError"]
