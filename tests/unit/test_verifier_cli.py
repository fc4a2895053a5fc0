"""`still2 grade` through typer's CliRunner: rows written back with the verdict, errors name file and line."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from pipeline.verifier import GradeInputError, grade_file


def _app():
    try:
        from pipeline.cli import app

        return app
    except Exception:  # noqa: BLE001 - other command modules may not be importable yet
        from pipeline.cli import grade_cmds

        app = typer.Typer()
        grade_cmds.register(app)
        app.command("noop")(lambda: None)
        return app


ROWS = [
    {"gold": "25", "pred": "The answer is \\boxed{25}.", "id": 1},
    {"gold": "C", "pred": "Answer: (C)", "kind": "mc", "id": 2},
    {"gold": "025", "pred": "\\boxed{24}", "kind": "int", "id": 3},
    {"gold": 27.0, "pred": "<|begin_of_thought|>\n\ncut off " + "x" * 400, "id": 4},
]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_grade_command_writes_rows(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(src, ROWS)
    res = CliRunner().invoke(_app(), ["grade", str(src), "--out", str(out), "--json", "--timeout", "5"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["n"] == 4 and summary["equal"] == 2 and summary["not_equal"] == 2
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [1, 2, 3, 4]
    assert [r["equal"] for r in rows] == [True, True, False, False]
    assert rows[0]["extracted"] == "25" and rows[0]["reason"]
    assert rows[3]["extracted"] is None


def test_grade_command_stdout(tmp_path):
    src = tmp_path / "in.jsonl"
    _write(src, ROWS[:2])
    res = CliRunner().invoke(_app(), ["grade", str(src)])
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert [r["equal"] for r in lines] == [True, True]


def test_bad_line_names_file_and_line(tmp_path):
    src, out = tmp_path / "bad.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps(ROWS[0]) + "\n\n" + '{"gold": "1", "pred": \n', encoding="utf-8")
    res = CliRunner().invoke(_app(), ["grade", str(src), "--out", str(out)])
    assert res.exit_code == 1
    assert "bad.jsonl" in res.output and "line 3" in res.output
    assert not out.exists()
    with pytest.raises(GradeInputError) as e:
        grade_file(src, out)
    assert e.value.line == 3 and e.value.path.endswith("bad.jsonl") and isinstance(e.value, ValueError)


@pytest.mark.parametrize(
    "row, msg",
    [
        ({"pred": "1"}, "gold"),
        ({"gold": "1", "pred": "1", "kind": "essay"}, "kind"),
        (["1", "2"], "object"),
        ({"gold": None, "pred": "1"}, "gold"),
    ],
)
def test_invalid_rows(tmp_path, row, msg):
    src = tmp_path / "x.jsonl"
    src.write_text(json.dumps({"gold": "1", "pred": "1"}) + "\n" + json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(GradeInputError) as e:
        grade_file(src, tmp_path / "o.jsonl")
    assert e.value.line == 2 and msg in str(e.value)
    assert not (tmp_path / "o.jsonl").exists()


def test_missing_file(tmp_path):
    res = CliRunner().invoke(_app(), ["grade", str(tmp_path / "nope.jsonl")])
    assert res.exit_code == 1 and "nope.jsonl" in res.output


@pytest.mark.parametrize(
    "content, line, msg",
    [
        (b'{"gold":"caf\xe9","pred":"1"}\n', 1, "not UTF-8"),  # non-UTF-8 first line (was UnboundLocalError)
        ("\ufeff".encode("utf-16-le") + '{"gold": "1"}'.encode("utf-16-le"), 1, "not UTF-8"),
        (('{"gold": 1, "pred": ' + "7" * 5000 + "}\n").encode(), 1, "4,300 digits"),
        (('{"gold":"1","pred":' + "[" * 100_000 + "]" * 100_000 + "}\n").encode(), 1, "nested too deeply"),
        ((json.dumps({"gold": "1", "pred": "1"}) + "\n").encode() * 2000 + b'{"gold":"\xff"}\n', 2001, "not UTF-8"),
        (b'{"gold": "1", "pred": "1", "finish_reason": 3}\n', 1, "finish_reason"),
    ],
)
def test_grade_names_file_and_line_instead_of_crashing(tmp_path, content, line, msg):
    src = tmp_path / "bad.jsonl"
    src.write_bytes(content)
    res = CliRunner().invoke(_app(), ["grade", str(src)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"bad.jsonl, line {line}:" in res.output and msg in res.output


def test_grade_rows_carry_source_policy_and_finish_reason(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    long = "Let me add the two numbers carefully and check the result once more. " * 6
    rows = [
        {"gold": "5", "pred": long + "So the sum is 5."},
        {"gold": "5", "pred": long + "So the sum is 5.", "finish_reason": "length"},
        {"gold": "5", "pred": "\\boxed{5}"},
    ]
    _write(src, rows)
    res = CliRunner().invoke(_app(), ["grade", str(src), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["answer_policy"] == "default" and summary["cut_off"] == 1
    graded = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(g["equal"], g["answer_source"]) for g in graded] == [(True, "statement"), (False, "none"), (True, "box")]
    res = CliRunner().invoke(_app(), ["grade", str(src), "--out", str(out), "--json", "--answer-policy", "strict"])
    assert json.loads(res.stdout)["equal"] == 1  # the statement is not read under strict
    res = CliRunner().invoke(_app(), ["grade", str(src), "--answer-policy", "lenient"])
    assert res.exit_code == 1 and "strict, default, harness" in res.output
