"""Safe multi-process access to one DuckDB file: every open..close happens under an flock.

DuckDB allows one read-write process or many read-only processes on a file, never both, and a
second opener fails at once (no lock wait). FINDINGS.md measured committed rows LOST with DuckDB
2.0 when several processes open -> write -> close and retry on that error, and none lost when an
application-level ``fcntl.flock`` on a separate lock file was held around each open..close. So:

* writers take ``LOCK_EX`` on ``<db>.lock`` around ``connect(read_only=False)`` .. ``close()``;
* readers take ``LOCK_SH`` around ``connect(read_only=True)`` .. ``close()``: many read together;
* a writer about to wait announces itself by holding ``LOCK_SH`` on ``<db>.want-write``; long-lived
  readers (the TUI) poll :meth:`Store.writer_waiting` and release their connection, so writers
  wait at most one poll interval and no one ever sees a lock error.

A sticky reader (``sticky_reads``, used by the TUI) keeps its read connection between queries, so
a query costs no open/close; :meth:`Connector.poll` hands it back when a writer waits.

Within one process the same Store object re-uses an open connection (a read inside a write uses the
write connection), because a second flock on a new file descriptor would deadlock against our own.
The lock file must live on a local filesystem (flock over NFS is not reliable); see README.
"""
from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

MEMORY = ":memory:"


class StoreError(Exception):
    """A store-level error with a message meant for the user."""


class _Held:
    def __init__(self, conn: duckdb.DuckDBPyConnection, write: bool, lock_fd: int | None):
        self.conn = conn
        self.write = write
        self.lock_fd = lock_fd
        self.depth = 1


class Connector:
    """Opens locked connections to one DuckDB file (or one shared in-memory database)."""

    def __init__(self, path: str | os.PathLike, *, lock_timeout: float = 600.0):
        self.path = str(path)
        self.memory = self.path == MEMORY
        self.lock_timeout = lock_timeout
        self._held: _Held | None = None
        self._mutex = threading.RLock()
        self._memory_conn: duckdb.DuckDBPyConnection | None = None
        self.sticky_reads = False
        self._session: _Held | None = None
        if not self.memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)

    @property
    def lock_path(self) -> str:
        return self.path + ".lock"

    @property
    def want_write_path(self) -> str:
        return self.path + ".want-write"

    def _flock(self, path: str, mode: int) -> int:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.002
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise StoreError(
                        f"timed out after {self.lock_timeout:.0f}s waiting for the store lock {path}"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)

    @staticmethod
    def _unlock(fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def writer_waiting(self) -> bool:
        """True when another process is waiting to write (long-lived readers should let go)."""
        if self.memory:
            return False
        try:
            fd = os.open(self.want_write_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def _open(self, write: bool) -> _Held:
        if self.memory:
            if self._memory_conn is None:
                self._memory_conn = duckdb.connect(MEMORY)
            return _Held(self._memory_conn, True, None)
        if write:
            announce = os.open(self.want_write_path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(announce, fcntl.LOCK_SH)
            try:
                fd = self._flock(self.lock_path, fcntl.LOCK_EX)
            finally:
                self._unlock(announce)
        else:
            if not os.path.exists(self.path):
                raise StoreError(f"no store at {self.path}")
            fd = self._flock(self.lock_path, fcntl.LOCK_SH)
        try:
            conn = duckdb.connect(self.path, read_only=not write)
        except BaseException:
            self._unlock(fd)
            raise
        return _Held(conn, write, fd)

    def _close(self, held: _Held) -> None:
        if self.memory:
            return
        try:
            held.conn.close()
        finally:
            if held.lock_fd is not None:
                self._unlock(held.lock_fd)

    @contextmanager
    def connect(self, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for the duration of the block. Writes run in one transaction."""
        with self._mutex:
            outer = self._held
            if outer is not None:
                if write and not outer.write:
                    raise StoreError("cannot write inside a read-only store block")
                outer.depth += 1
                try:
                    yield outer.conn
                finally:
                    outer.depth -= 1
                return
            if self._session is not None:
                if not write:
                    yield self._session.conn
                    return
                self.release_session()
            held = self._open(write)
            if not write and self.sticky_reads and not self.memory:
                self._session = held
                yield held.conn
                return
            self._held = held
            try:
                if write:
                    held.conn.execute("BEGIN TRANSACTION")
                    try:
                        yield held.conn
                    except BaseException:
                        held.conn.execute("ROLLBACK")
                        raise
                    held.conn.execute("COMMIT")
                else:
                    yield held.conn
            finally:
                self._held = None
                self._close(held)

    def release_session(self) -> None:
        """Close the long-lived read connection (the next read reopens and sees new data)."""
        with self._mutex:
            if self._session is not None:
                held, self._session = self._session, None
                self._close(held)

    def poll(self) -> bool:
        """For sticky readers: let go of the read connection if a writer is waiting. True if released."""
        if not self._mutex.acquire(blocking=False):  # a query runs in another thread: ask again next poll
            return False
        try:
            if self._session is not None and self.writer_waiting():
                self.release_session()
                return True
        finally:
            self._mutex.release()
        return False

    def close(self) -> None:
        self.release_session()
        if self._memory_conn is not None:
            self._memory_conn.close()
            self._memory_conn = None
