"""Safe multi-process access to one DuckDB file: every open..close happens under an flock.

DuckDB allows one read-write process or many read-only processes on a file, never both, and a
second opener fails at once (no lock wait). FINDINGS.md measured committed rows LOST with DuckDB
2.0 when several processes open -> write -> close and retry on that error, and none lost when an
application-level ``fcntl.flock`` on a separate lock file was held around each open..close. So:

* writers take ``LOCK_EX`` on ``<db>.lock`` around ``connect(read_only=False)`` .. ``close()``;
* readers take ``LOCK_SH`` around ``connect(read_only=True)`` .. ``close()``: many read together;
* a writer about to wait announces itself by holding ``LOCK_SH`` on ``<db>.want-write``; long-lived
  readers (the TUI) poll :meth:`Store.writer_waiting` and release their connection, so writers
  wait at most one poll interval and no one ever sees a lock error;
* a reader that finds the lock taken queues on ``<db>.want-read`` (``LOCK_SH`` until it gets in), and a
  writer lets the queued readers in before it locks again: an import writing batch after batch in
  short transactions never starves a reader for longer than one batch;
* a new reader lets an announced writer lock first, so readers that reopen in a loop cannot starve it.

A sticky reader (``sticky_reads``, used by the TUI) keeps its read connection between queries, so
a query costs no open/close; :meth:`Connector.poll` hands it back when a writer waits.

Within one process the same Store object re-uses an open connection (a read inside a write uses the
write connection), because a second flock on a new file descriptor would deadlock against our own.
The lock file must live on a local filesystem (flock over NFS is not reliable); see README.
Readers open the lock files read-only (``flock`` works on an O_RDONLY descriptor), so a store in a
read-only directory, or whose lock file belongs to another user, can still be read.

Every DuckDB connection is opened with extension autoloading and autoinstalling off (the wheel's
built-in extensions need neither; a SQLite file given as the store must not make DuckDB download
a scanner). Opening a file that is not a DuckDB store raises a one-line :class:`StoreError`.
:meth:`Connector.sandboxed` gives the SQL console a read-only connection that cannot reach any other
file or change any setting.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

MEMORY = ":memory:"

READER_TURN = 2.0  # seconds a writer waits at most for the readers queued before it (see _let_readers_in)
WRITER_TURN = 2.0  # seconds a new reader waits at most for an announced writer to take the lock (_let_writer_in)

# Rows per row group of what a writer appends. DuckDB merges the small row groups that batch commits
# leave into larger ones during checkpoints, and a merge is done inside the writer's commit, under the
# store lock: with DuckDB's default (122,880 rows) one commit of a 400k-trajectory import took 2.0 s of
# CPU and a polling reader waited 21 s on a loaded machine; with 16,384-row groups the longest took
# 0.25 s (BENCHMARKS.md, "Import beside a reader"). In a spot check on those two stores, full scans
# took the same time and the file was 20% smaller. DuckDB takes it per ATTACH (it is not stored in
# the file), so every connection attaches the store with it.
ROW_GROUP_SIZE = 16_384
STORE_CATALOG = "store"  # the name the store is attached under (and made the default catalog)

# Settings of every connection: a store never needs an extension DuckDB would fetch or load by itself.
BASE_CONFIG = {"autoload_known_extensions": False, "autoinstall_known_extensions": False}
# Settings the SQL console's sandbox adds once the store is attached (see Connector.sandboxed).
SANDBOX_SETTINGS = (
    "SET enable_external_access = false",
    "SET allow_community_extensions = false",
    "SET lock_configuration = true",
)


class StoreError(Exception):
    """A store-level error with a message meant for the user."""

    def __rich__(self) -> str:
        """How Textual shows it when it ends the TUI: the message, without a traceback."""
        from rich.markup import escape

        return f"[bold red]error:[/] {escape(str(self))}"


def store_open_error(path: str, error: BaseException) -> StoreError:
    """A one-line message for a file DuckDB cannot open as a store."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    lowered = text.lower()
    if (
        "not a valid duckdb database file" in lowered
        or "unable to open database" in lowered
        or "sqlite" in lowered
        or "file header" in lowered
    ):
        return StoreError(f"{path} is not a still2 store (not a DuckDB database file)")
    if "could not read enough bytes" in lowered or "corrupt" in lowered or "checksum" in lowered:
        return StoreError(f"{path} is damaged (truncated or corrupt: {text}); restore it from a copy")
    if "permission denied" in lowered:
        return StoreError(
            f"{path}: permission denied ({'writing needs' if 'write' in lowered else 'needs'} "
            "access to the file and its directory)"
        )
    if "is a directory" in lowered or os.path.isdir(path):
        return StoreError(f"{path} is a directory, not a store file")
    if "conflicting lock" in lowered:
        return StoreError(f"{path} is open for writing by a process that does not use the still2 lock: {text}")
    if "no space left" in lowered:
        return StoreError(f"{path}: no space left on the device")
    return StoreError(f"cannot open the store {path}: {text}")


DUCKDB_MAGIC = (8, b"DUCK")  # offset and bytes of DuckDB's file magic


def _check_header(path: str) -> None:
    """Refuse files that are not DuckDB databases before DuckDB sees them: DuckDB 2.0 opens a JSON, CSV
    or Parquet file as an in-memory database over its data (writes would vanish) and a SQLite file
    through an extension."""
    offset, magic = DUCKDB_MAGIC
    if os.path.isdir(path):
        raise StoreError(f"{path} is a directory, not a store file")
    try:
        with open(path, "rb") as f:
            head = f.read(offset + len(magic))
    except PermissionError:
        raise StoreError(f"{path}: permission denied (reading the store needs read access to the file)") from None
    if not head:
        raise StoreError(f"{path} is an empty file, not a store (`still2 init --db {path}` makes one)")
    if head[offset:] != magic:
        raise StoreError(f"{path} is not a still2 store (not a DuckDB database file)")


def connect_file(path: str, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection to the store file with the store's settings: an in-memory DuckDB that attaches the
    file (as the default catalog, ``store``) with ROW_GROUP_SIZE; a file that is no store raises a
    one-line StoreError."""
    if os.path.exists(path):
        if not read_only and not os.path.isdir(path) and os.path.getsize(path) == 0:
            os.unlink(path)  # an empty file (touch, mktemp) holds nothing: DuckDB creates the store in its place
        else:
            _check_header(path)
    # DuckDB spills to <db>.tmp for a database file, but to ./.tmp (the user's working directory) for an
    # in-memory one that attaches it: keep the file's place.
    conn = duckdb.connect(MEMORY, config={**BASE_CONFIG, "temp_directory": path + ".tmp"})
    options = "READ_ONLY" if read_only else f"ROW_GROUP_SIZE {ROW_GROUP_SIZE}"
    try:
        conn.execute(f"ATTACH ? AS {STORE_CATALOG} ({options})", [path])
        conn.execute(f"USE {STORE_CATALOG}")
    except duckdb.Error as e:
        conn.close()
        raise store_open_error(path, e) from None
    return conn


def store_io_error(path: str, error: BaseException) -> StoreError | None:
    """A one-line StoreError when a DuckDB error during work says the store is damaged or the disk full;
    None for every other error (a user's bad SQL stays a DuckDB error)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    lowered = text.lower()
    if "no space left" in lowered or "disk is full" in lowered:
        return StoreError(
            f"{path}: no space left on the device; this write was not completed "
            "(free some space and run the command again)"
        )
    if isinstance(error, (duckdb.IOException, duckdb.FatalException, duckdb.InternalException)) and (
        "could not read enough bytes" in lowered or "corrupt" in lowered or "checksum" in lowered
    ):
        return StoreError(f"{path} is damaged (truncated or corrupt: {text}); restore it from a copy")
    if isinstance(error, duckdb.FatalException):
        return StoreError(f"{path}: DuckDB stopped on a fatal error, nothing more was written: {text}")
    return None


def _rollback(conn: duckdb.DuckDBPyConnection) -> None:
    try:
        conn.execute("ROLLBACK")
    except duckdb.Error:
        pass  # the connection is already unusable (a fatal error); closing it discards the transaction


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

    @property
    def want_read_path(self) -> str:
        return self.path + ".want-read"

    def _open_lock_file(self, path: str, *, create: bool) -> int | None:
        """A descriptor to flock on. Readers open an existing file read-only and create it only if they
        can; None when it neither exists nor can be created (a read-only directory: no writer either)."""
        try:
            return os.open(path, os.O_RDONLY if not create else os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            pass
        except OSError as e:
            if e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise
            if create:
                why = "its file system is read-only" if e.errno == errno.EROFS else "permission denied"
                raise StoreError(
                    f"cannot write to the store: its lock file {path} is not writable ({why}); reading works"
                ) from None
            return None
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                return None
            raise

    def _flock(self, path: str, mode: int) -> int | None:
        fd = self._open_lock_file(path, create=mode == fcntl.LOCK_EX)
        if fd is None:
            return None
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.002
        queued: int | None = None  # a blocked reader holds LOCK_SH on <db>.want-read until it gets in
        try:
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
                    if queued is None and mode == fcntl.LOCK_SH and path == self.lock_path:
                        queued = self._announce(self.want_read_path)
                    time.sleep(delay)
                    delay = min(delay * 2, 0.05)
        finally:
            self._unlock(queued)

    def _announce(self, path: str) -> int | None:
        """Hold LOCK_SH on an announcement file (best effort: None where it cannot be created)."""
        try:
            fd = self._open_lock_file(path, create=False)
        except OSError:
            return None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)
        return fd

    def _let_readers_in(self) -> None:
        """A writer about to lock lets the readers already queued behind the previous writer go first,
        so a writer committing batch after batch cannot starve them (it waits READER_TURN at most)."""
        try:
            fd = os.open(self.want_read_path, os.O_RDONLY)
        except OSError:
            return
        try:
            deadline = time.monotonic() + READER_TURN
            while time.monotonic() < deadline:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    return
                except BlockingIOError:
                    time.sleep(0.002)
        finally:
            os.close(fd)

    def _let_writer_in(self) -> None:
        """A reader about to lock lets an announced writer take the lock first (it waits WRITER_TURN at
        most): a reader that reopens in a loop (the TUI, after handing its connection back to that
        writer) would otherwise take the shared lock again before the writer's next try, and the writer
        could wait for minutes. Readers queued behind a writer still go before the next one
        (_let_readers_in), so neither side starves."""
        deadline = time.monotonic() + WRITER_TURN
        while self.writer_waiting() and time.monotonic() < deadline:
            time.sleep(0.002)

    @staticmethod
    def _unlock(fd: int | None) -> None:
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def writer_waiting(self) -> bool:
        """True when another process is waiting to write (long-lived readers should let go)."""
        if self.memory:
            return False
        try:
            fd = os.open(self.want_write_path, os.O_RDONLY)
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
            announce = self._open_lock_file(self.want_write_path, create=True)
            fcntl.flock(announce, fcntl.LOCK_SH)
            try:
                self._let_readers_in()
                fd = self._flock(self.lock_path, fcntl.LOCK_EX)
            finally:
                self._unlock(announce)
        else:
            if not os.path.exists(self.path):
                raise StoreError(f"no store at {self.path}")
            self._let_writer_in()
            fd = self._flock(self.lock_path, fcntl.LOCK_SH)
        try:
            conn = connect_file(self.path, read_only=not write)
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
                    with self._store_errors():
                        yield self._session.conn
                    return
                self.release_session()
            held = self._open(write)
            if not write and self.sticky_reads and not self.memory:
                self._session = held
                with self._store_errors():
                    yield held.conn
                return
            self._held = held
            try:
                with self._store_errors():
                    try:
                        if write:
                            held.conn.execute("BEGIN TRANSACTION")
                            try:
                                yield held.conn
                            except BaseException:
                                _rollback(held.conn)
                                raise
                            held.conn.execute("COMMIT")
                        else:
                            yield held.conn
                    finally:
                        self._held = None
                        self._close(held)
            finally:
                self._held = None

    @contextmanager
    def _store_errors(self) -> Iterator[None]:
        """DuckDB errors that mean the store file itself is damaged or its disk full become StoreErrors."""
        try:
            yield
        except duckdb.Error as e:
            problem = store_io_error(self.path, e)
            if problem is None:
                raise
            raise problem from e

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

    @contextmanager
    def sandboxed(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the store that cannot touch any other file or change a setting.

        An in-memory DuckDB attaches the store read-only and makes it the default catalog, then turns
        external access off and locks the configuration: COPY TO, EXPORT, ATTACH, read_csv('/etc/..'),
        INSTALL/LOAD and SET all fail in DuckDB itself. A separate database instance is used because
        DuckDB refuses a second connection to one file with other settings in the same process (the
        TUI keeps its own read connection open). Held under the shared store lock like any reader.
        """
        if self.memory:
            raise StoreError("the SQL console needs a store file, not an in-memory store")
        if not os.path.exists(self.path):
            raise StoreError(f"no store at {self.path}")
        _check_header(self.path)
        with self._mutex:
            if self._held is not None and self._held.write:
                raise StoreError("cannot open the SQL console inside a write block")
            fd = self._flock(self.lock_path, fcntl.LOCK_SH)
            conn = None
            try:
                conn = duckdb.connect(MEMORY, config=BASE_CONFIG)
                try:
                    conn.execute(f"ATTACH ? AS {STORE_CATALOG} (READ_ONLY)", [self.path])
                except duckdb.Error as e:
                    raise store_open_error(self.path, e) from None
                conn.execute(f"USE {STORE_CATALOG}")
                for statement in SANDBOX_SETTINGS:
                    conn.execute(statement)
                yield conn
            finally:
                if conn is not None:
                    conn.close()
                self._unlock(fd)

    def close(self) -> None:
        self.release_session()
        if self._memory_conn is not None:
            self._memory_conn.close()
            self._memory_conn = None
