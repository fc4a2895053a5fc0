"""Item 1: the SQL console (`still2 sql`, the TUI's SQL screen) reads the store and nothing else.

One test per escape route the review used or that DuckDB offers: each must leave the store and every
other file untouched, and each must be refused before or inside DuckDB.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from store import Store, StoreError
from store.sql_console import SqlRefused, read_statements, run_query
from tests.reliability.conftest import counts

runner = CliRunner()


def sql(db, query, *extra):
    return runner.invoke(app, ["sql", query, "--db", str(db), *extra])


def test_reads_work(real_store):
    result = run_query(Store(real_store), "SELECT count(*) AS n FROM trajectories; SELECT 41 + 1 AS answer")
    assert result.names == ["answer"] and result.rows == [(42,)]
    assert run_query(Store(real_store), "SELECT id FROM problem ORDER BY id", limit=3).more is True
    for query in (
        "DESCRIBE trajectory",
        "SHOW TABLES",
        "SUMMARIZE SELECT 1 AS a",
        "EXPLAIN SELECT 1",
        "PRAGMA table_info('problem')",
        "CALL pragma_version()",
        "FROM problem LIMIT 1",
        "WITH x AS (SELECT 1 AS a) SELECT * FROM x",
    ):
        run_query(Store(real_store), query)


def test_copy_onto_the_store_is_refused(real_store):
    before = real_store.read_bytes()
    result = sql(real_store, f"copy (select 'x' as x) to '{real_store}' (format csv)")
    assert result.exit_code == 1 and "COPY" in result.output
    assert real_store.read_bytes() == before
    assert counts(real_store) == (40, 40)


@pytest.mark.parametrize(
    "statement",
    [
        "copy (select 1 as x) to '{out}'",
        "copy problem to '{out}' (format parquet)",
        "export database '{out}'",
    ],
)
def test_writing_files_is_refused(real_store, tmp_path, statement):
    out = tmp_path / "written"
    with pytest.raises(SqlRefused):
        run_query(Store(real_store), statement.format(out=out))
    assert not out.exists()


def test_attach_another_store_read_write_is_refused(real_store, tmp_path):
    other = tmp_path / "other.duckdb"
    shutil.copy(real_store, other)
    result = sql(real_store, f"attach '{other}' as o (READ_WRITE); delete from o.trajectory")
    assert result.exit_code == 1 and "ATTACH" in result.output
    assert counts(other) == (40, 40)


def test_multi_statement_trick_runs_nothing(real_store, tmp_path):
    out = tmp_path / "x.csv"
    with pytest.raises(SqlRefused, match="statement 2 of 3"):
        run_query(Store(real_store), f"select 'a;b'; copy (select 1) to '{out}'; select 2")
    assert not out.exists()
    with pytest.raises(SqlRefused, match="DROP"):
        run_query(Store(real_store), "select 1; drop table trajectory")
    assert counts(real_store) == (40, 40)


@pytest.mark.parametrize(
    "query",
    [
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/hostname')",
        "select count(*) from read_blob('/etc/*')",
        "select * from glob('/etc/*')",
        "select * from read_parquet('{other}')",
        "select * from sqlite_scan('{other}', 'x')",
    ],
)
def test_reading_other_files_fails_inside_duckdb(real_store, tmp_path, query):
    """These are SELECTs, so the parser check lets them through: the sandbox is what stops them."""
    other = tmp_path / "other.parquet"
    other.write_bytes(b"PAR1")
    with pytest.raises((duckdb.PermissionException, duckdb.CatalogException)):
        run_query(Store(real_store), query.format(other=other))


@pytest.mark.parametrize(
    "query",
    [
        "set enable_external_access = true",
        "reset lock_configuration",
        "pragma threads = 1",
        "set allow_unsigned_extensions = true",
        "install httpfs",
        "load sqlite",
        "use memory",
        "create table memory.main.t (a int)",
        "insert into problem (id) values ('x')",
        "update problem set answer = 1",
        "delete from trajectory",
        "drop table trajectory",
        "begin",
        "vacuum",
        "detach store",
        "attach ':memory:' as m",
        "prepare p as select 1",
    ],
)
def test_non_read_statements_are_refused(real_store, query):
    with pytest.raises(SqlRefused):
        read_statements(query)
    with pytest.raises(SqlRefused):
        run_query(Store(real_store), query)


@pytest.mark.parametrize("query", ["select current_setting('threads')", "pragma database_list"])
def test_sandbox_settings_hold_even_for_reads(real_store, query):
    """External access is off for the console's connection whatever is read."""
    run_query(Store(real_store), query)
    setting = run_query(Store(real_store), "select current_setting('enable_external_access')").rows
    locked = run_query(Store(real_store), "select current_setting('lock_configuration')").rows
    assert setting == [(False,)] and locked == [(True,)]


def test_call_checkpoint_changes_nothing(real_store):
    """CALL passes the type check (table functions are reads); on the read-only attachment a
    checkpoint has nothing to write."""
    before = real_store.read_bytes()
    run_query(Store(real_store), "CALL checkpoint()")
    with pytest.raises(duckdb.Error):  # refused by DuckDB on the read-only attachment
        run_query(Store(real_store), "CALL force_checkpoint()")
    assert real_store.read_bytes() == before


def test_write_flag_runs_writes(real_store):
    result = sql(real_store, "delete from trajectory where false", "--write")
    assert result.exit_code == 0, result.output


def test_console_works_while_the_tui_holds_its_read_connection(real_store):
    """The TUI keeps a sticky read connection (default settings) open in the same process: the sandbox
    is a separate DuckDB instance, so DuckDB's 'same file, different configuration' refusal never hits."""
    store = Store(real_store, sticky_reads=True)
    with store.read() as conn:
        conn.execute("SELECT 1").fetchall()
    assert run_query(store, "SELECT count(*) FROM trajectory").rows == [(40,)]
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM problem").fetchone() == (40,)
    store.close()


def test_memory_store_has_no_console():
    with pytest.raises(StoreError):
        run_query(Store.memory(), "select 1")
