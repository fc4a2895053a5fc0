"""Importer fuzz over encodings and value types (hypothesis): whatever a file holds, an import either
takes every row or names every bad one at its real line, never crashes, and --skip-bad never drops a
row it did not report.

The invariant checked on every generated file: the lines of the imported problems plus the lines of
the reported errors are exactly the file's non-blank lines (or records, for CSV), with no overlap;
a fatal error (the file cannot be read on) may end the list, and then nothing after it is counted.
"""

from __future__ import annotations

import csv
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import Store
from store.formats.errors import ImportFailed
from store.importer import import_problems

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)
RAW_VALUES = st.sampled_from(
    [
        "NaN",
        "-Infinity",
        '"\\ud800"',
        '"\\udfff x"',
        "[" * 3000 + "]" * 3000,
        '"ok\\u00e9"',
        '"\\ud83d\\ude00"',
        "1e999",
        "-0",
        "1" * 5000,
    ]
)
BAD_BYTES = st.sampled_from([b"\xff", b"\xe9", b"\xc3", b"\x80\x80", b"\xed\xa0\x80", b"\x00"])


@st.composite
def jsonl_lines(draw):
    """(line bytes, is_blank) for each line of a JSONL file of problems."""
    lines = []
    for i in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["good", "good", "typed", "raw", "bytes", "blank", "broken", "scalar"]))
        question = f"q{i} " + draw(st.text(max_size=20))
        if kind == "good":
            data = json.dumps({"problem": question, "answer": draw(st.text(min_size=1, max_size=10))}).encode()
        elif kind == "typed":
            data = json.dumps({"problem": question, "answer": draw(json_values)}).encode()
        elif kind == "raw":
            data = b'{"problem": ' + json.dumps(question).encode() + b', "answer": ' + draw(RAW_VALUES).encode() + b"}"
        elif kind == "bytes":
            good = json.dumps({"problem": question, "answer": "1"}).encode()
            cut = draw(st.integers(0, len(good)))
            data = good[:cut] + draw(BAD_BYTES) + good[cut:]
        elif kind == "blank":
            data = draw(st.sampled_from([b"", b"   ", b"\t"]))
        elif kind == "broken":
            data = json.dumps({"problem": question})[: draw(st.integers(1, 8))].encode()
        else:
            data = draw(st.sampled_from([b"42", b"[]", b'"s"', b"null", b"true"]))
        lines.append(data + draw(st.sampled_from([b"\n", b"\r\n"])))
    prefix = draw(st.sampled_from([b"", b"", b"\xef\xbb\xbf"]))
    return prefix, lines


def imported_lines(store: Store, source: str) -> list[int]:
    with store.read() as conn:
        return sorted(
            int(r[0]) for r in conn.execute("SELECT source_key FROM problem WHERE source = ?", [source]).fetchall()
        )


def check_accounting(store, path, expected_lines: set[int], source: str) -> None:
    try:
        report = import_problems(store, str(path), source=source, layout="generic")
        errors = []
    except ImportFailed as failed:
        assert imported_lines(store, source) == [], "nothing may be written when rows are bad"
        assert all(e.line >= 1 and str(e).startswith(f"{path}:") for e in failed.errors)
        report = import_problems(store, str(path), source=source, layout="generic", skip_bad=True)
        errors = report.skipped
        assert sorted((e.line, e.message) for e in failed.errors) == sorted((e.line, e.message) for e in errors)
    got = imported_lines(store, source)
    bad = [e.line for e in errors]
    assert not set(got) & set(bad), "a line both imported and reported"
    fatal = [e for e in errors if e.fatal]
    if fatal:
        cut = fatal[-1].line
        assert set(got) | set(bad) >= {n for n in expected_lines if n < cut}
    else:
        assert sorted(set(got) | set(bad)) == sorted(expected_lines), (got, bad, sorted(expected_lines))
        assert len(bad) == len(set(bad))
    assert report.added == len(got)


@SETTINGS
@given(jsonl_lines(), st.sampled_from(["utf-8", "gzip"]))
def test_jsonl_fuzz(tmp_path_factory, generated, container):
    prefix, lines = generated
    tmp = tmp_path_factory.mktemp("fz")
    data = prefix + b"".join(lines)
    path = tmp / ("f.jsonl" if container == "utf-8" else "f.jsonl.gz")
    if container == "gzip":
        import gzip

        data = gzip.compress(data)
    path.write_bytes(data)
    expected = {n for n, line in enumerate(lines, start=1) if line.strip()}
    store = Store(tmp / "s.duckdb")
    check_accounting(store, path, expected, "fz")
    store.close()


@st.composite
def csv_records(draw):
    """(file bytes, record start lines) of a problems CSV, with quoted newlines, long fields, bad bytes."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(["problem", "answer"])
    header = out.getvalue().encode()
    chunks, starts, line = [header], [], 2
    for i in range(draw(st.integers(1, 15))):
        kind = draw(st.sampled_from(["good", "good", "multiline", "long", "bytes", "ragged"]))
        buf = io.StringIO(newline="")
        w = csv.writer(buf, lineterminator="\n")
        question = f"q{i} " + draw(
            st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=15)
        )
        if kind == "multiline":
            question += "\nsecond line, with comma\n"
        if kind == "long":
            question += "x" * 140_000
        w.writerow([question, "1"] + (["extra"] if kind == "ragged" else []))
        record = buf.getvalue().encode()
        if kind == "bytes":
            record = record[:3] + draw(BAD_BYTES).replace(b"\x00", b"\xff") + record[3:]
        if not question.strip() and kind not in ("ragged", "bytes"):
            continue
        starts.append(line)
        line += record.count(b"\n")
        chunks.append(record)
    prefix = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    return prefix + b"".join(chunks), set(starts)


@SETTINGS
@given(csv_records())
def test_csv_fuzz(tmp_path_factory, generated):
    data, starts = generated
    tmp = tmp_path_factory.mktemp("fzc")
    path = tmp / "f.csv"
    path.write_bytes(data)
    store = Store(tmp / "s.duckdb")
    check_accounting(store, path, starts, "fzc")
    store.close()
