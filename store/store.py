"""The Store: one DuckDB file per project, opened under locks, schema migrated on first use."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from store.connection import MEMORY, Connector, StoreError
from store.schema import SCHEMA_VERSION, migrate, needs_setup


class Store:
    """Entry point for every reader and writer.

    ``with store.read() as conn`` gives a read-only connection (many processes at once);
    ``with store.write() as conn`` gives a read-write connection inside one transaction, exclusive
    across processes. Keep write blocks short and batch rows through Arrow.
    """

    def __init__(
        self,
        path: str | os.PathLike = "still2.duckdb",
        *,
        lock_timeout: float = 600.0,
        upto: int = SCHEMA_VERSION,
        sticky_reads: bool = False,
    ):
        self.path = str(path)
        self.connector = Connector(self.path, lock_timeout=lock_timeout)
        self.connector.sticky_reads = sticky_reads
        self._upto = upto
        self._ready = False

    @classmethod
    def memory(cls) -> "Store":
        return cls(MEMORY)

    @property
    def exists(self) -> bool:
        return self.path == MEMORY or Path(self.path).exists()

    def _has_data(self) -> bool:
        """The file exists and is not empty (an empty file is replaced by a new store on first write)."""
        path = Path(self.path)
        return self.path != MEMORY and path.exists() and (path.is_dir() or path.stat().st_size > 0)

    @contextmanager
    def _schema_check(self) -> Iterator[None]:
        """Schema problems (newer version, damaged meta, foreign file) name the store file."""
        try:
            yield
        except StoreError as e:
            if str(e).startswith(self.path):
                raise
            raise StoreError(f"{self.path}: {e}") from None

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        with self._schema_check():
            if self._has_data():
                with self.connector.connect(write=False) as conn:
                    if not needs_setup(conn, self._upto):
                        self._ready = True
                        return
            with self.connector.connect(write=True) as conn:
                migrate(conn, self._upto)
        self._ready = True

    def init(self) -> None:
        """Create the file (or upgrade it) now."""
        self._ensure_schema()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if not self._ready and self._has_data():
            # Check the schema on the connection we are about to use: one open instead of two.
            with self.connector.connect(write=False) as conn:
                with self._schema_check():
                    ready = not needs_setup(conn, self._upto)
                if ready:
                    self._ready = True
                    yield conn
                    return
        self._ensure_schema()
        with self.connector.connect(write=False) as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self._ensure_schema()
        with self.connector.connect(write=True) as conn:
            yield conn

    def writer_waiting(self) -> bool:
        return self.connector.writer_waiting()

    def poll(self) -> bool:
        """Sticky readers call this often (the TUI: every 100 ms) so waiting writers get in."""
        return self.connector.poll()

    def refresh(self) -> None:
        """Drop a sticky read connection so the next read sees what other processes wrote."""
        self.connector.release_session()

    def schema_version(self) -> int:
        from store.schema import current_version

        with self.read() as conn:
            return current_version(conn)

    def close(self) -> None:
        self.connector.close()


__all__ = ["Store", "StoreError"]
