"""Items 4, 6, 10, 11, 12: bad input files give file:line errors with the real line, `--skip-bad` passes
every one of them without dropping a good row, and wrong value types are refused."""

from __future__ import annotations

import json
import os
import time

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from store import Store
from store.formats.errors import ImportFailed, RowError
from store.importer import import_problems, import_trajectories
from tests.reliability.bad_inputs import (
    STILL,
    gz,
    jsonl_with_bad_line,
    latin1_line,
    problem_line,
    skyt1_line,
    write_lines,
)

runner = CliRunner()


def lines_of(store: Store, source: str) -> list[int]:
    with store.read() as conn:
        return sorted(
            int(r[0]) for r in conn.execute("SELECT source_key FROM problem WHERE source = ?", [source]).fetchall()
        )


# ---- item 4: per-line decoding, exact line numbers, nothing dropped -------------------------------


def test_latin1_byte_on_line_250_of_300(store, tmp_path):
    path = jsonl_with_bad_line(tmp_path / "p.jsonl", 300, 250, latin1_line(250))
    with pytest.raises(ImportFailed) as failed:
        import_problems(store, str(path))
    assert [(e.line, "not UTF-8" in e.message) for e in failed.value.errors] == [(250, True)]
    report = import_problems(store, str(path), skip_bad=True)
    assert (report.rows_read, report.added, [e.line for e in report.skipped]) == (300, 299, [250])
    assert lines_of(store, "p") == [n for n in range(1, 301) if n != 250]  # lines 251-300 are there


def test_csv_field_over_128_kb_and_the_row_after_it(store, tmp_path):
    path = write_lines(tmp_path / "big.csv", ["problem,answer\n", '"' + "x" * 200_000 + '",1\n', "good row,2\n"])
    report = import_problems(store, str(path))
    assert report.added == 2 and not report.skipped
    with store.read() as conn:
        assert conn.execute("SELECT max(length(question)) FROM problem").fetchone()[0] == 200_000


def test_csv_line_numbers_count_multiline_records(store, tmp_path):
    path = write_lines(
        tmp_path / "m.csv",
        [
            "problem,answer\n",
            '"two\nlines",1\n',
            "caf\xe9,2\n".encode("latin-1"),
            '"three\nmore\nlines",3\n',
            "bad,4,extra\n",
            "last,5\n",
        ],
    )
    report = import_problems(store, str(path), skip_bad=True)
    assert [(e.line, e.message.split(" (")[0]) for e in report.skipped] == [
        (4, "not UTF-8 text"),
        (8, "more fields than the header has"),
    ]
    assert lines_of(store, "m") == [2, 5, 9]  # each record's first line


def test_line_numbers_survive_blank_lines_and_crlf(store, tmp_path):
    path = write_lines(
        tmp_path / "c.jsonl",
        [problem_line(0).replace("\n", "\r\n"), "\n", "   \n", b'{"problem": "x\xff"}\n', problem_line(4)],
    )
    report = import_problems(store, str(path), skip_bad=True)
    assert [e.line for e in report.skipped] == [4] and lines_of(store, "c") == [1, 5]


# ---- item 6: every importer error has file:line and --skip-bad passes it -------------------------

CASES = {
    "deep": ('{"problem": "d", "answer": ' + "[" * 100_000 + "]" * 100_000 + "}\n", "nested too deeply"),
    "surrogate": ('{"problem": "s\\ud800", "answer": "1"}\n', "lone UTF-16 surrogate"),
    "nan": ('{"problem": "n", "answer": NaN}\n', "NaN is not a JSON value"),
    "truncated": ('{"problem": "t", "answ\n', "invalid JSON"),
    "scalar": ("42\n", "expected a JSON object"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_json_line_is_named_and_skippable(case, store, tmp_path):
    line, message = CASES[case]
    path = jsonl_with_bad_line(tmp_path / f"{case}.jsonl", 5, 3, line.encode())
    with pytest.raises(ImportFailed) as failed:
        import_problems(store, str(path))
    [error] = failed.value.errors
    assert error.line == 3 and message in error.message and str(error).startswith(f"{path}:3:")
    report = import_problems(store, str(path), skip_bad=True)
    assert report.added == 4 and lines_of(store, case) == [1, 2, 4, 5]


def test_integer_of_5000_digits_is_kept_as_its_digits(store, tmp_path):
    path = jsonl_with_bad_line(
        tmp_path / "big.jsonl", 3, 2, ('{"problem": "big", "answer": ' + "7" * 5000 + "}\n").encode()
    )
    assert import_problems(store, str(path)).added == 3
    with store.read() as conn:
        assert conn.execute("SELECT answer FROM problem WHERE question = 'big'").fetchone()[0] == "7" * 5000


def test_integer_of_5000_digits_as_aime_answer(store, tmp_path):
    path = write_lines(tmp_path / "aime_big.jsonl", ['{"problem": "big", "answer": ' + "7" * 5000 + "}\n"])
    assert import_problems(store, str(path)).added == 1


def test_not_gzip_and_truncated_gzip(store, tmp_path):
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(b"this is not gzip\n")
    with pytest.raises(ImportFailed) as failed:
        import_problems(store, str(bad))
    assert failed.value.errors[0].line == 1 and "not a gzip file" in failed.value.errors[0].message
    report = import_problems(store, str(bad), skip_bad=True)
    assert report.added == 0 and report.incomplete

    whole = gz(tmp_path / "t.jsonl.gz", "".join(problem_line(i) for i in range(2000)))
    data = whole.read_bytes()
    whole.write_bytes(data[: len(data) // 2])
    report = import_problems(store, str(whole), skip_bad=True)
    assert report.incomplete and report.skipped[-1].fatal
    cut = report.skipped[-1].line
    assert lines_of(store, "t") == list(range(1, cut))  # every line before the damage, none invented


def test_csv_latin1_and_binary_garbage(store, tmp_path):
    path = write_lines(tmp_path / "l.csv", ["problem,answer\n", "ok,1\n", "caf\xe9,2\n".encode("latin-1"), "fine,3\n"])
    with pytest.raises(ImportFailed) as failed:
        import_problems(store, str(path))
    assert str(failed.value.errors[0]).startswith(f"{path}:3: not UTF-8 text")
    assert import_problems(store, str(path), skip_bad=True).added == 2
    garbage = tmp_path / "g.csv"
    garbage.write_bytes(os.urandom(3000))
    with pytest.raises(ImportFailed) as failed:  # never a bare codec error without a location
        import_problems(store, str(garbage))
    assert all(e.line >= 1 for e in failed.value.errors)


def test_utf16_file_is_one_clear_error(store, tmp_path):
    path = tmp_path / "u.jsonl"
    path.write_bytes(problem_line(0).encode("utf-16"))
    with pytest.raises(ImportFailed) as failed:
        import_problems(store, str(path))
    assert [(e.line, e.message) for e in failed.value.errors] == [(1, "the file is UTF-16 text; save it as UTF-8")]


def test_json_array_items_carry_their_line(store, tmp_path):
    path = tmp_path / "a.json"
    path.write_text(
        '[\n  {"problem": "a", "answer": 1},\n  7,\n  {"problem": "b",\n   "answer": true},\n'
        '  {"problem": "c", "answer": 3}\n]\n'
    )
    report = import_problems(store, str(path), skip_bad=True)
    assert [(e.line, e.message.split(":")[0]) for e in report.skipped] == [
        (3, "array item 2"),
        (4, "answer is true (a boolean); expected text or a number"),
    ]
    assert report.added == 2


# ---- item 10: a mistyped path is not a Hub id -----------------------------------------------------


@pytest.mark.parametrize("name", ["data/typo_no_ext", "data/loop"])
def test_mistyped_relative_path_is_no_such_file(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    os.symlink("loop", tmp_path / "data" / "loop")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    started = time.monotonic()
    result = runner.invoke(app, ["import", name, "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 1 and "no such file" in result.output and "Hub" not in result.output
    assert time.monotonic() - started < 30  # generous: the review saw ~51 s of network retries


def test_hub_id_shape_is_still_a_hub_id(tmp_path, monkeypatch):
    from store.formats.readers import detect_format

    monkeypatch.chdir(tmp_path)
    assert detect_format("AI-MO/aimo-validation-aime") == "hf-hub"
    with pytest.raises(RowError, match="no such file"):
        detect_format("a/b/c")


# ---- item 11: typed validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer,message",
    [
        ('{"a": 1}', "answer is an object"),
        ("true", "answer is true (a boolean)"),
        ("[[1], 2]", "nested list"),
        ("Infinity", "Infinity is not a JSON value"),
    ],
)
def test_problem_answer_types(answer, message, store, tmp_path):
    path = jsonl_with_bad_line(tmp_path / "t.jsonl", 3, 2, ('{"problem": "q", "answer": ' + answer + "}\n").encode())
    with pytest.raises(ImportFailed) as failed:
        import_problems(store, str(path))
    assert [e.line for e in failed.value.errors] == [2] and message in failed.value.errors[0].message


def test_problem_answer_float_and_list(store, tmp_path):
    path = write_lines(
        tmp_path / "f.jsonl",
        [
            '{"problem": "a", "answer": 1e308}\n',
            '{"problem": "b", "answer": 27.0}\n',
            '{"problem": "c", "answer": [1, 2]}\n',
        ],
    )
    import_problems(store, str(path))
    with store.read() as conn:
        got = dict(conn.execute("SELECT question, answer FROM problem").fetchall())
    assert got == {"a": "1e+308", "b": "27", "c": "1, 2"}


def test_trajectory_value_types(store, tmp_path):
    path = write_lines(
        tmp_path / "t.jsonl",
        [
            skyt1_line("Q1", [STILL.format(answer=1)]),
            skyt1_line("Q2", ["x"], score=["no"]),
            skyt1_line("", ["x"]),
            skyt1_line("   ", ["x"]),
            skyt1_line("Q5", [""]),
            skyt1_line("Q6", ["y"], gt={"x": 1}),
            skyt1_line("Q7", []),
            skyt1_line("Q8", ["z", "  "]),
        ],
    )
    with pytest.raises(ImportFailed) as failed:
        import_trajectories(store, str(path))
    assert [(e.line, e.message) for e in failed.value.errors] == [
        (2, "score[0] holds 'no'; a harness verdict must be true or false"),
        (3, "empty question"),
        (4, "empty question"),
        (5, "empty response"),
        (6, "gt is an object {'x': 1}; expected text or a number"),
        (7, "Sky-T1 row has no responses (code is an empty list)"),
        (8, "empty response (sample 1)"),
    ]
    report = import_trajectories(store, str(path), skip_bad=True)
    assert report.added == 2  # Q1 and Q8's first sample
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM problem WHERE trim(question) = ''").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM trajectory WHERE trim(text) = ''").fetchone()[0] == 0


def test_sky_t1_integer_scores_are_verdicts(store, tmp_path):
    path = write_lines(tmp_path / "s.jsonl", [skyt1_line("Q", ["a", "b"], score=[1, 0])])
    import_trajectories(store, str(path))
    with store.read() as conn:
        assert sorted(r[0] for r in conn.execute("SELECT harness_correct FROM trajectory").fetchall()) == [False, True]


# ---- item 12: byte-order marks --------------------------------------------------------------------


def test_csv_with_bom(store, tmp_path):
    path = write_lines(tmp_path / "excel.csv", [b"\xef\xbb\xbfproblem,answer\r\n", b"one,1\r\n", b"two,2\r\n"])
    report = import_problems(store, str(path))
    assert report.added == 2 and report.layout == "math"


def test_jsonl_and_json_with_bom(store, tmp_path):
    path = write_lines(tmp_path / "bom.jsonl", [b"\xef\xbb\xbf" + problem_line(0).encode(), problem_line(1)])
    assert import_problems(store, str(path)).added == 2
    arr = tmp_path / "bom.json"
    arr.write_bytes(b"\xef\xbb\xbf" + json.dumps([{"problem": "z", "answer": 1}]).encode())
    assert import_problems(store, str(arr)).added == 1
