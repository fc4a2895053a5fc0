"""Read rows from JSONL, JSON arrays, Parquet, CSV and Hugging Face datasets, each with its line number.

Line numbers are what a user sees in an editor: JSONL lines are 1-based file lines, CSV rows count
the header as line 1, Parquet and HF rows are 1-based row numbers.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from store.formats.errors import RowError


@dataclass
class SourceRow:
    line: int
    data: dict[str, Any]


@dataclass
class Source:
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


def detect_format(path: str) -> str:
    p = Path(path)
    if p.is_dir():
        return "hf"
    suffixes = "".join(p.suffixes[-2:]).lower()
    if suffixes.endswith((".jsonl", ".ndjson", ".jsonl.gz")):
        return "jsonl"
    if suffixes.endswith(".json"):
        return "json"
    if suffixes.endswith(".parquet"):
        return "parquet"
    if suffixes.endswith((".csv", ".tsv")):
        return "csv"
    if not p.exists() and "/" in path and not path.startswith((".", "/")):
        return "hf-hub"
    raise RowError(path, 0, "cannot tell the format from the name; use .jsonl, .json, .parquet, .csv, or a "
                            "datasets folder (save_to_disk) / hub id")


def _read_jsonl(path: str) -> Iterator[SourceRow | RowError]:
    import gzip

    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="strict") as f:
        lineno = 0
        while True:
            try:
                line = f.readline()
            except UnicodeDecodeError as e:
                yield RowError(path, lineno + 1, f"not UTF-8 text ({e.reason})")
                return
            if not line:
                return
            lineno += 1
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                yield RowError(path, lineno, f"invalid JSON: {e.msg} (column {e.colno})")
                continue
            if not isinstance(obj, dict):
                yield RowError(path, lineno, f"expected a JSON object, got {type(obj).__name__}")
                continue
            yield SourceRow(lineno, obj)


def _read_json(path: str) -> Iterator[SourceRow | RowError]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    stripped = text.lstrip()
    if not stripped.startswith("["):
        yield from _read_jsonl(path)
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        yield RowError(path, e.lineno, f"invalid JSON: {e.msg} (column {e.colno})")
        return
    for i, obj in enumerate(data, start=1):
        if isinstance(obj, dict):
            yield SourceRow(i, obj)
        else:
            yield RowError(path, i, f"array item {i}: expected an object, got {type(obj).__name__}")


def _read_arrow_rows(table, first_line: int) -> Iterator[SourceRow]:
    for batch in table.to_batches(max_chunksize=10_000):
        for i, row in enumerate(batch.to_pylist()):
            yield SourceRow(first_line + i, row)
        first_line += batch.num_rows


def _read_parquet(path: str) -> Iterator[SourceRow | RowError]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as e:  # noqa: BLE001 - any reader failure is reported against the file
        yield RowError(path, 0, f"unreadable Parquet: {e}")
        return
    yield from _read_arrow_rows(table, 1)


def _read_csv(path: str) -> Iterator[SourceRow | RowError]:
    import csv

    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        try:
            for row in reader:
                line = reader.line_num
                if None in row:
                    yield RowError(path, line, "more fields than the header has")
                    continue
                if any(v is None for v in row.values()):
                    yield RowError(path, line, "fewer fields than the header has")
                    continue
                yield SourceRow(line, dict(row))
        except csv.Error as e:
            yield RowError(path, reader.line_num, f"CSV error: {e}")


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
                    yield RowError(path, 0, f"no split {chosen!r}; splits: {', '.join(names)}")
                    return
                ds = ds[chosen]
    except Exception as e:  # noqa: BLE001
        yield RowError(path, 0, f"cannot load dataset: {e}")
        return
    yield from _read_arrow_rows(ds.data.table, 1)


def read_source(path: str | os.PathLike, fmt: str | None = None, split: str | None = None) -> Source:
    """Read every row of a file (or dataset); bad rows are collected as RowErrors, never raised here."""
    path = str(path)
    fmt = fmt or detect_format(path)
    if fmt not in ("hf-hub",) and not Path(path).exists():
        raise RowError(path, 0, "no such file")
    readers = {
        "jsonl": lambda: _read_jsonl(path),
        "json": lambda: _read_json(path),
        "parquet": lambda: _read_parquet(path),
        "csv": lambda: _read_csv(path),
        "hf": lambda: _read_hf(path, split, hub=False),
        "hf-hub": lambda: _read_hf(path, split, hub=True),
    }
    if fmt not in readers:
        raise RowError(path, 0, f"unknown format {fmt!r}; known: {', '.join(readers)}")
    source = Source(path=path, format=fmt, rows=[])
    for item in readers[fmt]():
        if isinstance(item, RowError):
            source.errors.append(item)
        else:
            source.rows.append(item)
    source.sha256 = file_sha256(path) if fmt != "hf-hub" else f"hub:{path}:{split or 'train'}"
    return source
