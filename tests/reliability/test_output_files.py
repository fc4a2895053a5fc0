"""Item 7: `export` and `grade --out` write through FIFOs, devices and symlinks, refuse what they cannot
write, leave no temporary file on failure and create files with the umask's mode."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from store.output import OutputError, open_output

runner = CliRunner()


def export(db, out, *extra):
    """The base store's 40 trajectories are Sky-T1 evaluation outputs (origin eval) on a benchmark (AMC 2023,
    split test): lift both default exclusions."""
    return runner.invoke(app, ["export", str(out), "--db", str(db), "--allow", "eval,test", *extra])


def test_export_into_a_fifo_reaches_the_reader(real_store, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = {}

    def reader():
        with open(fifo, "rb") as f:
            got["data"] = f.read()

    t = threading.Thread(target=reader)
    t.start()
    result = export(real_store, fifo)
    t.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a regular file"
    assert len(got["data"].splitlines()) == 40 and json.loads(got["data"].splitlines()[0])["messages"]


def test_export_through_a_symlink_writes_its_target(real_store, tmp_path):
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    assert export(real_store, link).exit_code == 0
    assert link.is_symlink() and len(target.read_text().splitlines()) == 40


def test_export_to_character_devices(real_store):
    assert export(real_store, "/dev/null").exit_code == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    if os.path.exists("/dev/full"):
        result = export(real_store, "/dev/full")
        assert result.exit_code == 1 and "No space left" in result.output
        assert isinstance(result.exception, SystemExit)
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_directory_and_block_device_are_refused(real_store, tmp_path):
    result = export(real_store, tmp_path, "--format", "jsonl")
    assert result.exit_code == 1 and "is a directory" in result.output
    blocks = [f"/dev/{d}" for d in ("loop0", "vda", "sda") if os.path.exists(f"/dev/{d}")]
    if blocks:
        with pytest.raises(OutputError, match="block device"):
            with open_output(blocks[0]):
                pass


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    out = tmp_path / "existing.jsonl"
    out.write_text("old\n")
    os.chmod(out, 0o640)
    with pytest.raises(OutputError, match="No space left"):
        with open_output(out) as f:
            f.write("new\n")
            raise OSError(28, "No space left on device")
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.jsonl"]
    with open_output(out) as f:
        f.write("new\n")
    assert out.read_text() == "new\n" and stat.S_IMODE(out.stat().st_mode) == 0o640  # a replaced file keeps its mode


def test_new_files_follow_the_umask(real_store, tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "new.jsonl"
        assert export(real_store, out).exit_code == 0
        graded = tmp_path / "graded.jsonl"
        rows = tmp_path / "rows.jsonl"
        rows.write_text('{"gold": "2", "pred": "\\\\boxed{2}"}\n')
        result = runner.invoke(app, ["grade", str(rows), "--out", str(graded), "--workers", "1"])
        assert result.exit_code == 0, result.output
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert stat.S_IMODE(graded.stat().st_mode) == 0o644


def test_grade_out_writes_through_a_symlink_and_a_fifo(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"gold": "2", "pred": "\\\\boxed{2}"}\n')
    target = tmp_path / "real.jsonl"
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    assert runner.invoke(app, ["grade", str(rows), "--out", str(link), "--workers", "1"]).exit_code == 0
    assert link.is_symlink() and json.loads(target.read_text())["equal"] is True
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = {}
    t = threading.Thread(target=lambda: got.setdefault("data", open(fifo, "rb").read()))
    t.start()
    assert runner.invoke(app, ["grade", str(rows), "--out", str(fifo), "--workers", "1"]).exit_code == 0
    t.join(timeout=60)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and json.loads(got["data"])["equal"] is True
