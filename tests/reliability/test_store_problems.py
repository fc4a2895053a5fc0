"""Item 9: every store problem ends in one line naming the file, in stats, init, verify, import, sql and the
TUI, and nothing is written over a file that is not a store. Item 8: read-only stores are readable."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from store import Store
from tests.reliability.conftest import AMC, counts

runner = CliRunner()
COMMANDS = (
    ["stats"],
    ["init"],
    ["verify", "--workers", "1"],
    ["sql", "select count(*) from trajectory"],
    ["import", str(AMC)],
    ["export", "OUT.jsonl"],
)


def _make(kind: str, real_store, tmp_path):
    path = tmp_path / f"{kind}.duckdb"
    if kind == "truncated":
        data = real_store.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "garbage":
        path.write_bytes(os.urandom(20_000))
    elif kind == "jsonl":
        path = tmp_path / "rows.jsonl"
        path.write_text('{"problem": "1+1", "answer": "2"}\n')
    elif kind == "directory":
        path.mkdir()
    elif kind == "sqlite":
        con = sqlite3.connect(path)
        con.execute("create table trajectory (id text)")
        con.commit()
        con.close()
    else:
        shutil.copy(real_store, path)
        con = duckdb.connect(str(path))
        con.execute(
            {
                "future": "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
                "bad-meta": "UPDATE meta SET value = 'abc' WHERE key = 'schema_version'",
                "no-meta": "DROP TABLE meta",
            }[kind]
        )
        con.close()
    return path


EXPECTED = {
    "truncated": "damaged",
    "garbage": "not a still2 store",
    "jsonl": "not a still2 store",
    "directory": "is a directory",
    "sqlite": "not a still2 store",
    "future": "newer than this still2",
    "bad-meta": "meta table is damaged",
    "no-meta": "no still2 meta table",
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_one_line_error_in_every_command(kind, real_store, tmp_path):
    path = _make(kind, real_store, tmp_path)
    before = path.read_bytes() if path.is_file() else None
    for command in COMMANDS:
        command = [a.replace("OUT", str(tmp_path / "out")) for a in command]
        result = runner.invoke(app, [*command, "--db", str(path)])
        if kind in ("truncated", "future", "bad-meta", "no-meta") and command[0] in ("sql", "init", "export"):
            # These read only what is intact (metadata, the tables asked for), or refuse through the same
            # message; what matters is: no traceback, and nothing written over the store.
            assert result.exception is None or isinstance(result.exception, SystemExit), result.output
            continue
        assert result.exit_code == 1, (command, result.output)
        assert isinstance(result.exception, SystemExit), (command, repr(result.exception))
        assert "error:" in result.output and EXPECTED[kind] in result.output, (command, result.output)
        assert "Traceback" not in result.output
    if before is not None:
        assert path.read_bytes() == before, "a command wrote over a file that is not a usable store"


def test_sqlite_file_never_reaches_duckdb_extensions(real_store, tmp_path, monkeypatch):
    """DuckDB would autoload (and try to download) sqlite_scanner for a SQLite file: the header check and the
    connection settings keep it from trying."""
    path = _make("sqlite", real_store, tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))  # where DuckDB would install an extension
    result = runner.invoke(app, ["sql", "select 1", "--db", str(path)])
    assert result.exit_code == 1 and "not a still2 store" in result.output
    assert not (tmp_path / ".duckdb").exists()


def test_zero_byte_file_can_be_initialised(tmp_path):
    path = tmp_path / "empty.duckdb"
    path.touch()
    result = runner.invoke(app, ["init", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert counts(path) == (0, 0)


def test_disk_full_during_import_is_one_line_and_keeps_the_store(real_store, tmp_path, monkeypatch):
    """A commit that fails for lack of space: a one-line error and the store as it was. The failure is
    injected at COMMIT (no tmpfs is mountable in CI); the message comes from the same code as for ENOSPC."""
    from store.connection import Connector

    real_connect = Connector._open

    class FullDisk:
        def __init__(self, conn):
            self._conn = conn

        def execute(self, sql, *args):
            if sql == "COMMIT":
                raise duckdb.IOException('Could not write file "x": No space left on device')
            return self._conn.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self._conn, name)

    def open_full(self, write):
        held = real_connect(self, write)
        if write:
            held.conn = FullDisk(held.conn)
        return held

    monkeypatch.setattr(Connector, "_open", open_full)
    result = runner.invoke(app, ["import", str(AMC), "--db", str(real_store), "--source", "again"])
    monkeypatch.undo()
    assert result.exit_code == 1 and "no space left" in result.output.lower(), result.output
    assert isinstance(result.exception, SystemExit)
    assert counts(real_store) == (40, 40)


def test_tui_reports_a_bad_store_in_one_line(real_store, tmp_path):
    for kind in ("future", "garbage"):
        path = _make(kind, real_store, tmp_path)
        done = subprocess.run(
            [sys.executable, "-m", "still2tui", "--db", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode != 0
        assert EXPECTED[kind] in done.stderr and "Traceback" not in done.stderr, done.stderr


def _as_nobody(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv to act as another user"
)


@needs_root
@pytest.mark.parametrize("layout", ["read-only directory", "lock owned by another user"])
def test_read_only_store_is_readable(real_store, layout):
    import tempfile
    from pathlib import Path

    top = Path(tempfile.mkdtemp(prefix="still2-ro-"))  # pytest's tmp dirs are private to root
    os.chmod(top, 0o755)
    home = top / "ro"
    home.mkdir()
    db = home / "store.duckdb"
    shutil.copy(real_store, db)
    if layout == "lock owned by another user":
        (home / "store.duckdb.lock").touch()
        os.chmod(home / "store.duckdb.lock", 0o644)
        os.chmod(home, 0o777)
    else:
        os.chmod(home, 0o555)
    os.chmod(db, 0o444)
    try:
        read = _as_nobody(["sql", "select count(*) as n from trajectory", "--db", str(db), "--json"])
        assert read.returncode == 0, read.stderr
        assert '"n": 40' in read.stdout
        assert _as_nobody(["stats", "--db", str(db), "--json"]).returncode == 0
        write = _as_nobody(["import", str(AMC), "--db", str(db), "--source", "x"])
        assert write.returncode == 1 and "Traceback" not in write.stderr, write.stderr
        assert "error:" in write.stderr
        assert counts(db) == (40, 40)
    finally:
        os.chmod(home, 0o755)
        shutil.rmtree(top)


def test_reader_opens_the_lock_file_read_only(real_store):
    """flock works on an O_RDONLY descriptor: a reader never needs write access to the lock file."""
    lock = real_store.parent / (real_store.name + ".lock")
    Store(real_store).init()
    os.chmod(lock, 0o444)
    os.chmod(real_store, 0o444)
    store = Store(real_store)
    opened = []
    real_open = os.open

    def spy(path, flags, *args):
        opened.append((str(path), flags))
        return real_open(path, flags, *args)

    try:
        os.open = spy
        with store.read() as conn:
            conn.execute("select 1").fetchall()
    finally:
        os.open = real_open
        os.chmod(real_store, 0o644)
    assert [flags & (os.O_WRONLY | os.O_RDWR) for path, flags in opened if path == str(lock)] == [0]


def test_write_on_a_read_only_file_system_is_one_line(real_store, monkeypatch):
    """A store on a read-only mount (EROFS even for root): reading works, a write says why in one line."""
    import errno

    import store.connection as connection

    real_open = os.open

    def read_only_fs(path, flags, *args):
        if flags & (os.O_RDWR | os.O_WRONLY | os.O_CREAT):
            raise OSError(errno.EROFS, "Read-only file system", path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(connection.os, "open", read_only_fs)
    with Store(real_store).read() as conn:
        assert conn.execute("SELECT count(*) FROM trajectory").fetchone()[0] == 40
    result = runner.invoke(app, ["import", str(AMC), "--db", str(real_store), "--source", "x"])
    assert result.exit_code == 1 and not isinstance(result.exception, OSError), result.output
    assert "not writable (its file system is read-only); reading works" in result.output
