"""Read rows from JSONL, JSON arrays, Parquet, CSV and Hugging Face datasets, each with its line number.

Line numbers are what a user sees in an editor: JSONL lines are 1-based file lines, CSV rows are the
file line their record starts on (the header is line 1), JSON array items the line their value
starts on, Parquet and HF rows 1-based row numbers.

Rows are read lazily (``iter_source``), so an importer can map and write a large file in batches.
A bad row is a :class:`RowError` in the stream, never an exception, and never the end of the stream:
text files are split into lines as bytes and each line is decoded on its own, so one bad byte costs
one row and every line after it keeps its number. Only a file that cannot be read on (a corrupt
gzip stream, a UTF-16 file, Parquet that does not open) ends with a RowError whose ``fatal`` flag is
set; ``--skip-bad`` reports it and does not pretend the rest was read.

JSON values are parsed with Python's json module plus three guards: integers longer than Python's
int-to-text limit (4,300 digits) are kept as their digits (text), NaN/Infinity (not JSON) and lone
UTF-16 surrogates (not text) are row errors, and nesting too deep for the parser is a row error.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from store.formats.errors import RowError

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# CSV fields can hold whole trajectories; the csv module's default limit (128 KB) would cut them.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
MAX_INT_DIGITS = 4300  # sys.get_int_max_str_digits() default: longer integers cannot become text
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


@dataclass
class SourceRow:
    line: int
    data: dict[str, Any]


@dataclass
class Source:
    """A batch of rows (or a whole file) as the layout mappers take it."""

    path: str
    format: str
    rows: list[SourceRow]
    errors: list[RowError] = field(default_factory=list)
    sha256: str = ""


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    p = Path(path)
    if p.is_dir():
        for child in sorted(p.rglob("*")):
            if child.is_file():
                h.update(child.name.encode())
                h.update(child.read_bytes())
        return h.hexdigest()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _looks_like_hub_id(path: str) -> bool:
    """'org/name' with nothing of it on disk: a mistyped local path ('data/typo') is not a hub id."""
    parts = path.split("/")
    if len(parts) != 2 or not all(parts) or path.startswith((".", "/", "~")):
        return False
    if os.path.lexists(parts[0]) or os.path.lexists(path):
        return False
    try:
        from huggingface_hub.utils import validate_repo_id

        validate_repo_id(path)
    except Exception:  # noqa: BLE001 - any refusal means: not a repo id
        return False
    return True


def detect_format(path: str) -> str:
    p = Path(path)
    if p.is_dir():
        return "hf"
    suffixes = "".join(p.suffixes[-2:]).lower()
    if suffixes.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
        return "jsonl"
    if suffixes.endswith(".json"):
        return "json"
    if suffixes.endswith(".parquet"):
        return "parquet"
    if suffixes.endswith((".csv", ".tsv")):
        return "csv"
    if _looks_like_hub_id(path):
        return "hf-hub"
    if not os.path.exists(path):
        dangling = " (a dangling or looping symlink)" if os.path.lexists(path) else ""
        raise RowError(path, 0, f"no such file{dangling}")
    raise RowError(
        path,
        0,
        "cannot tell the format from the name; use .jsonl, .json, .parquet, .csv, or a "
        "datasets folder (save_to_disk) / hub id (org/name), or pass --format",
    )


# ---- JSON values -------------------------------------------------------------------------------


class _BadValue(ValueError):
    pass


def _parse_int(text: str) -> int | str:
    digits = len(text) - (text[0] == "-")
    return int(text) if digits <= MAX_INT_DIGITS else text


def _refuse_constant(name: str) -> Any:
    raise _BadValue(f"{name} is not a JSON value (write it as a string if it is meant)")


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


_DECODER = json.JSONDecoder(parse_int=_parse_int, parse_constant=_refuse_constant)


def _json_value(text: str, start: int, may_have_surrogates: bool) -> tuple[Any, int]:
    """(value, end index); raises _BadValue with a message for anything not a clean JSON value.
    ``may_have_surrogates``: the raw bytes hold a \\uD800-\\uDFFF escape, so look for lone ones."""
    try:
        value, end = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as e:
        raise _BadValue(f"invalid JSON: {e.msg} (column {e.colno})") from None
    except RecursionError:
        raise _BadValue("invalid JSON: nested too deeply to read") from None
    except ValueError as e:
        raise _BadValue(f"invalid JSON: {e}") from None
    if may_have_surrogates and _has_lone_surrogate(value):
        raise _BadValue("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff): not valid text")
    return value, end


def _decode_line(raw: bytes) -> str:
    """UTF-8 text of one line; UnicodeDecodeError names the byte and column."""
    return raw.decode("utf-8")


def _decode_problem(e: UnicodeDecodeError) -> str:
    return f"not UTF-8 text (byte 0x{e.object[e.start]:02x} at column {e.start + 1})"


# ---- text files --------------------------------------------------------------------------------


def _open_binary(path: str):
    if path.lower().endswith(".gz"):
        import gzip

        return gzip.open(path, "rb")
    return open(path, "rb")


def _lines(path: str) -> Iterator[tuple[int, bytes] | RowError]:
    """(line number, raw bytes without the BOM) for every line; a RowError(fatal) if reading stops."""
    import gzip
    import zlib

    lineno = 0
    try:
        with _open_binary(path) as f:
            for raw in f:
                lineno += 1
                if lineno == 1:
                    if raw.startswith(UTF16_BOMS):
                        yield RowError(path, 1, "the file is UTF-16 text; save it as UTF-8", fatal=True)
                        return
                    if raw.startswith(UTF8_BOM):
                        raw = raw[len(UTF8_BOM) :]
                yield lineno, raw
    except (gzip.BadGzipFile, zlib.error, EOFError) as e:
        where = "not a gzip file" if lineno == 0 else "the gzip stream is damaged"
        yield RowError(path, lineno + 1, f"{where} ({e}); the rest of the file cannot be read", fatal=True)
    except OSError as e:
        yield RowError(path, lineno + 1, f"cannot read the file: {e.strerror or e}", fatal=True)


def _read_jsonl(path: str) -> Iterator[SourceRow | RowError]:
    for item in _lines(path):
        if isinstance(item, RowError):
            yield item
            return
        lineno, raw = item
        try:
            text = _decode_line(raw)
        except UnicodeDecodeError as e:
            yield RowError(path, lineno, _decode_problem(e))
            continue
        if not text.strip():
            continue
        try:
            obj, end = _json_value(text, len(text) - len(text.lstrip()), bool(_SURROGATE_ESCAPE.search(raw)))
            if text[end:].strip():
                raise _BadValue(f"invalid JSON: extra data after the value (column {end + 1})")
        except _BadValue as e:
            yield RowError(path, lineno, str(e))
            continue
        if not isinstance(obj, dict):
            yield RowError(path, lineno, f"expected a JSON object, got {_json_type(obj)}")
            continue
        yield SourceRow(lineno, obj)


def _json_type(value: Any) -> str:
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "true/false",
        type(None): "null",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _read_json(path: str) -> Iterator[SourceRow | RowError]:
    """A JSON array of objects, item by item (each with the line it starts on); else JSON lines."""
    with _open_binary(path) as f:
        head = f.read(4096)
    if head.startswith(UTF8_BOM):
        head = head[len(UTF8_BOM) :]
    if not head.lstrip().startswith(b"["):
        yield from _read_jsonl(path)
        return
    with _open_binary(path) as f:
        raw = f.read()
    if raw.startswith(UTF8_BOM):
        raw = raw[len(UTF8_BOM) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        yield RowError(path, line, f"not UTF-8 text (byte 0x{raw[e.start]:02x} at column {column})", fatal=True)
        return
    yield from _array_items(path, text, bool(_SURROGATE_ESCAPE.search(raw)))


def _array_items(path: str, text: str, may_have_surrogates: bool) -> Iterator[SourceRow | RowError]:
    ws = " \t\r\n"
    pos = text.index("[") + 1
    line, counted = 1, 0

    def line_at(index: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, index)
        counted = index
        return line

    item = 0
    while True:
        while pos < len(text) and text[pos] in ws:
            pos += 1
        if pos < len(text) and text[pos] == "]" and item == 0:
            return
        item += 1
        start = pos
        try:
            value, pos = _json_value(text, start, may_have_surrogates)
        except _BadValue as e:
            yield RowError(
                path, line_at(start), f"array item {item}: {e}; the rest of the array cannot be read", fatal=True
            )
            return
        at = line_at(start)
        if isinstance(value, dict):
            yield SourceRow(at, value)
        else:
            yield RowError(path, at, f"array item {item}: expected an object, got {_json_type(value)}")
        while pos < len(text) and text[pos] in ws:
            pos += 1
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        if pos < len(text) and text[pos] == "]":
            if text[pos + 1 :].strip():
                yield RowError(path, line_at(pos), "extra data after the JSON array", fatal=True)
            return
        yield RowError(
            path, line_at(min(pos, len(text))), "invalid JSON: expected ',' or ']' after an array item", fatal=True
        )
        return


def _read_csv(path: str) -> Iterator[SourceRow | RowError]:
    """CSV/TSV records with the line each starts on; every physical line is decoded on its own, so a
    bad byte costs the one record holding it."""
    delimiter = "\t" if path.lower().endswith((".tsv", ".tsv.gz")) else ","
    bad_lines: dict[int, str] = {}
    fatal: list[RowError] = []

    def text_lines() -> Iterator[str]:
        for item in _lines(path):
            if isinstance(item, RowError):
                fatal.append(item)
                return
            lineno, raw = item
            try:
                yield _decode_line(raw)
            except UnicodeDecodeError as e:
                bad_lines[lineno] = _decode_problem(e)
                yield raw.decode("utf-8", errors="replace")

    reader = csv.reader(text_lines(), delimiter=delimiter)
    header: list[str] | None = None
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            yield RowError(path, start, f"CSV error: {e}")
            start = reader.line_num + 1
            continue
        end = reader.line_num
        problems = [
            f"line {n}: {bad_lines.pop(n)}" if n != start else bad_lines.pop(n)
            for n in range(start, end + 1)
            if n in bad_lines
        ]
        line, start = start, end + 1
        if header is None:
            if problems:
                yield RowError(path, line, f"header: {'; '.join(problems)}", fatal=True)
                return
            header = [h.strip() for h in record]
            continue
        if not record or record == [""]:
            continue
        if problems:
            yield RowError(path, line, "; ".join(problems))
            continue
        if len(record) > len(header):
            yield RowError(path, line, "more fields than the header has")
            continue
        if len(record) < len(header):
            yield RowError(path, line, "fewer fields than the header has")
            continue
        yield SourceRow(line, dict(zip(header, record)))
    yield from fatal


# ---- columnar ----------------------------------------------------------------------------------


def _arrow_rows(batches: Iterable, first_line: int) -> Iterator[SourceRow]:
    line = first_line
    for batch in batches:
        for i, row in enumerate(batch.to_pylist()):
            yield SourceRow(line + i, row)
        line += batch.num_rows


def _read_parquet(path: str) -> Iterator[SourceRow | RowError]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as e:  # noqa: BLE001 - any reader failure is reported against the file
        yield RowError(path, 0, f"unreadable Parquet: {e}", fatal=True)
        return
    line = 1
    try:
        for batch in parquet.iter_batches(batch_size=2_000):
            yield from _arrow_rows([batch], line)
            line += batch.num_rows
    except Exception as e:  # noqa: BLE001
        yield RowError(path, line, f"unreadable Parquet from row {line}: {e}", fatal=True)


def _read_hf(path: str, split: str | None, hub: bool) -> Iterator[SourceRow | RowError]:
    import datasets

    try:
        if hub:
            ds = datasets.load_dataset(path, split=split or "train")
        else:
            ds = datasets.load_from_disk(path)
            if isinstance(ds, datasets.DatasetDict):
                names = list(ds.keys())
                chosen = split or ("test" if "test" in names else names[0])
                if chosen not in ds:
                    yield RowError(path, 0, f"no split {chosen!r}; splits: {', '.join(names)}", fatal=True)
                    return
                ds = ds[chosen]
    except Exception as e:  # noqa: BLE001
        yield RowError(path, 0, f"cannot load dataset: {e}", fatal=True)
        return
    yield from _arrow_rows(ds.data.table.to_batches(max_chunksize=2_000), 1)


READERS = {
    "jsonl": lambda path, split: _read_jsonl(path),
    "json": lambda path, split: _read_json(path),
    "parquet": lambda path, split: _read_parquet(path),
    "csv": lambda path, split: _read_csv(path),
    "hf": lambda path, split: _read_hf(path, split, hub=False),
    "hf-hub": lambda path, split: _read_hf(path, split, hub=True),
}


def resolve_format(path: str, fmt: str | None) -> str:
    fmt = fmt or detect_format(path)
    if fmt not in READERS:
        raise RowError(path, 0, f"unknown format {fmt!r}; known: {', '.join(READERS)}")
    if fmt != "hf-hub" and not os.path.exists(path):
        raise RowError(path, 0, "no such file")
    return fmt


def iter_source(
    path: str | os.PathLike, fmt: str | None = None, split: str | None = None
) -> Iterator[SourceRow | RowError]:
    """Every row of a file (or dataset) as it is read; bad rows come as RowErrors, never raised."""
    path = str(path)
    return READERS[resolve_format(path, fmt)](path, split)


def source_sha256(path: str, fmt: str, split: str | None) -> str:
    return file_sha256(path) if fmt != "hf-hub" else f"hub:{path}:{split or 'train'}"


def read_source(path: str | os.PathLike, fmt: str | None = None, split: str | None = None) -> Source:
    """Every row of a file at once (small files, tests); the importer streams with iter_source."""
    path = str(path)
    fmt = resolve_format(path, fmt)
    source = Source(path=path, format=fmt, rows=[])
    for item in READERS[fmt](path, split):
        (source.errors if isinstance(item, RowError) else source.rows).append(item)
    source.sha256 = source_sha256(path, fmt, split)
    return source
