"""Import problems and trajectories from files into the store: checked whole before writing, idempotent.

An import runs in two steps, and only the second holds the store's write lock:

1. **read** (no lock): rows are read as a stream (store/formats/readers.py), mapped by their layout
   (problems.py, trajectories.py), validated, and responses parsed into thought and solution, a
   batch at a time; the prepared batches are spilled to an Arrow file beside the store, so memory
   stays at about one batch whatever the file's size. With bad rows the import stops here with an
   error naming file and line (``ImportFailed``) and writes nothing, unless ``skip_bad`` is set, in
   which case the good rows go in and the report lists what was skipped.
2. **write**: each spilled batch is written in its own short transaction (problems of the batch's
   questions first, then its trajectories), and the lock is released between batches, so a reader
   (the TUI) waits for one batch at most. The ``import_log`` row goes in with the last batch.

Ids are content hashes, so importing a file twice adds nothing; a killed import leaves whole batches
and no import_log row, and running it again adds exactly the rows that are missing.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pyarrow as pa

from store.formats import problems as problem_formats
from store.formats import trajectories as trajectory_formats
from store.formats.errors import ImportFailed, RowError
from store.formats.readers import Source, SourceRow, iter_source, resolve_format, source_sha256
from store.formats.values import BadValue
from store.ids import imported_id, problem_id, question_hash
from store.ingest import add_problems, add_trajectories, insert_new, to_arrow
from store.store import Store, StoreError
from store.trajectory_format import parse_response, with_reasoning

# DuckDB's memory for an import's write transactions: a checkpoint otherwise takes what a whole row group
# needs at once; with a limit it spills to <db>.tmp and works in pieces.
WRITE_MEMORY_LIMIT = "256MB"
READ_BATCH_ROWS = 500  # source rows mapped together
WRITE_BATCH_ROWS = 2_000  # records per write transaction at most
WRITE_BATCH_BYTES = 8 << 20  # and about this much text


@dataclass
class ImportReport:
    path: str
    kind: str
    format: str
    layout: str
    rows_read: int
    added: int
    problems_added: int = 0
    problems_matched: int = 0
    skipped: list[RowError] = field(default_factory=list)
    batches: int = 0

    @property
    def incomplete(self) -> bool:
        """A part of the file could not be read (reported among ``skipped``)."""
        return any(e.fatal for e in self.skipped)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "format": self.format,
            "layout": self.layout,
            "rows_read": self.rows_read,
            "added": self.added,
            "problems_added": self.problems_added,
            "problems_matched": self.problems_matched,
            "incomplete": self.incomplete,
            "skipped": [{"line": e.line, "error": e.message} for e in self.skipped],
        }


def _log(conn, path: str, sha: str, kind: str, fmt: str, read: int, added: int, skipped: int) -> None:
    insert_new(
        conn,
        "import_log",
        [
            {
                "path": path,
                "sha256": sha,
                "kind": kind,
                "format": fmt,
                "rows_read": read,
                "rows_added": added,
                "rows_skipped": skipped,
            }
        ],
    )


# ---- reading -----------------------------------------------------------------------------------


class _Rows:
    """A file's row stream with the first good row peeked (for layout detection) and rows counted."""

    def __init__(self, path: str, fmt: str | None, split: str | None):
        self.path = str(path)
        self.format = resolve_format(self.path, fmt)
        self._items = iter_source(self.path, self.format, split)
        self._head: list[SourceRow | RowError] = []
        self.first: SourceRow | None = None
        for item in self._items:
            self._head.append(item)
            if isinstance(item, SourceRow):
                self.first = item
                break
        self.read = 0

    def batches(self, size: int) -> Iterator[Source]:
        rows: list[SourceRow] = []
        errors: list[RowError] = []
        for item in self._iter():
            self.read += 1
            (errors if isinstance(item, RowError) else rows).append(item)
            if len(rows) >= size:
                yield Source(self.path, self.format, rows, errors)
                rows, errors = [], []
        if rows or errors:
            yield Source(self.path, self.format, rows, errors)

    def _iter(self) -> Iterator[SourceRow | RowError]:
        yield from self._head
        yield from self._items


def detect_kind(path: str, fmt: str | None = None, split: str | None = None) -> str:
    """'problems' or 'trajectories', from the first good row only."""
    first = _Rows(path, fmt, split).first
    if first is None:
        return "problems"
    return "trajectories" if trajectory_formats.is_trajectory_file(set(first.data)) else "problems"


def _map(mapper: Callable[[Source], tuple[list, list[RowError], str]], batch: Source) -> tuple[list, list[RowError]]:
    """Map a batch; a value of the wrong type (BadValue) is charged to its own row, not the batch."""
    try:
        records, errors, _ = mapper(batch)
        return records, errors
    except BadValue:
        pass
    records, errors = [], list(batch.errors)
    for row in batch.rows:
        try:
            one, errs, _ = mapper(Source(batch.path, batch.format, [row]))
        except BadValue as e:
            errors.append(RowError(batch.path, row.line, str(e)))
            continue
        records.extend(one)
        errors.extend(errs)
    return records, errors


# ---- the spill: prepared batches on disk between the two steps ----------------------------------


class _Spill:
    """Record batches written as consecutive Arrow IPC streams (each with its own schema) in one file."""

    def __init__(self, store: Store):
        name = f"{Path(store.path).name}.import-{os.getpid()}-{secrets.token_hex(3)}.arrow"
        places = [Path(store.path).parent] if store.path != ":memory:" else []
        for place in places:
            _remove_stale_spills(place, Path(store.path).name)
        for place in [*places, Path(tempfile.gettempdir())]:
            self.path = place / name
            try:
                self._file = open(self.path, "w+b")
                break
            except OSError:
                continue
        else:
            raise StoreError(
                f"cannot create a temporary file for the import beside {store.path} or in {tempfile.gettempdir()}"
            )
        self.batches = 0

    def add(self, records: list[dict]) -> None:
        if not records:
            return
        table = to_arrow(records)
        try:
            with pa.ipc.new_stream(self._file, table.schema) as writer:
                writer.write_table(table)
        except OSError as e:
            raise StoreError(
                f"cannot write the import's temporary file {self.path}: {e.strerror or e} "
                "(it holds the prepared rows, about twice the text of the file)"
            ) from None
        self.batches += 1

    def __iter__(self) -> Iterator[pa.Table]:
        self._file.flush()
        self._file.seek(0)
        for _ in range(self.batches):
            reader = pa.ipc.open_stream(self._file)
            yield reader.read_all()

    def close(self) -> None:
        try:
            self._file.close()
        except OSError:
            pass  # a full disk: what was not flushed goes with the file
        finally:
            self.path.unlink(missing_ok=True)


def _remove_stale_spills(place: Path, store_name: str) -> None:
    """Spill files left by killed imports (their process is gone) are removed."""
    for leftover in place.glob(f"{store_name}.import-*.arrow"):
        try:
            pid = int(leftover.name[len(store_name) + len(".import-") :].split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            leftover.unlink(missing_ok=True)
        except (ValueError, PermissionError, OSError):
            continue


@contextmanager
def _spill(store: Store) -> Iterator[_Spill]:
    spill = _Spill(store)
    try:
        yield spill
    finally:
        spill.close()


class _Batcher:
    """Groups prepared records into write batches bounded by rows and text size."""

    def __init__(self, spill: _Spill, size_of: Callable[[dict], int]):
        self.spill, self.size_of = spill, size_of
        self.pending: list[dict] = []
        self.bytes = 0

    def add(self, record: dict) -> None:
        self.pending.append(record)
        self.bytes += self.size_of(record)
        if len(self.pending) >= WRITE_BATCH_ROWS or self.bytes >= WRITE_BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        self.spill.add(self.pending)
        self.pending, self.bytes = [], 0


def _limit_memory(store: Store, conn) -> None:
    """Bound DuckDB's memory for this write connection (closed after the batch; a file store spills to
    disk, an in-memory one cannot, so it keeps its setting)."""
    if store.path != ":memory:":
        conn.execute(f"SET memory_limit = '{WRITE_MEMORY_LIMIT}'")


def _check_writable(store: Store) -> None:
    """Fail before reading a large file if an existing store cannot be written (applies pending migrations);
    a store that does not exist yet is created by the first batch, as before."""
    if store.exists and store.path != ":memory:":
        with store.write():
            pass


def _finish_reading(path: str, errors: list[RowError], total: int, skip_bad: bool) -> None:
    errors.sort(key=lambda e: e.line)  # in file order (a batch's type errors are found after its parse errors)
    if errors and not skip_bad:
        raise ImportFailed(path, errors, total)


# ---- problems ----------------------------------------------------------------------------------


def import_problems(
    store: Store,
    path: str,
    *,
    source: str | None = None,
    fmt: str | None = None,
    layout: str | None = None,
    field_map: dict[str, str] | None = None,
    split: str | None = None,
    domain: str | None = None,
    answer_kind: str | None = None,
    difficulty: int | None = None,
    seed: int = 0,
    skip_bad: bool = False,
) -> ImportReport:
    _check_writable(store)
    rows = _Rows(path, fmt, split)
    guessed_name, guessed_split = problem_formats.source_name_for(rows.path)
    used_layout = layout or (problem_formats.detect_layout(rows.first.data) if rows.first else "generic")

    def mapper(batch: Source):
        return problem_formats.map_problem_rows(
            batch,
            source_name=source or guessed_name,
            layout=used_layout,
            field_map=field_map,
            split=split or guessed_split,
            domain=domain,
            answer_kind=answer_kind,
            difficulty=difficulty,
            seed=seed,
        )

    errors: list[RowError] = []
    with _spill(store) as spill:
        batcher = _Batcher(spill, lambda r: len(r["question"]) + len(r.get("solution") or ""))
        for batch in rows.batches(READ_BATCH_ROWS):
            records, batch_errors = _map(mapper, batch)
            errors.extend(batch_errors)
            if errors and not skip_bad:
                continue  # keep reading to report every bad row, but prepare nothing more
            for record in records:
                batcher.add(record)
        batcher.flush()
        _finish_reading(rows.path, errors, rows.read, skip_bad)
        sha = source_sha256(rows.path, rows.format, split)
        added = 0
        tables = list(range(spill.batches))
        for i, table in zip(tables, spill):
            with store.write() as conn:
                _limit_memory(store, conn)
                added += add_problems(conn, table)
                if i == len(tables) - 1:
                    _log(conn, rows.path, sha, "problems", rows.format, rows.read, added, len(errors))
        if not tables:
            with store.write() as conn:
                _log(conn, rows.path, sha, "problems", rows.format, rows.read, 0, len(errors))
        return ImportReport(
            rows.path, "problems", rows.format, used_layout, rows.read, added, skipped=errors, batches=spill.batches
        )


# ---- trajectories ------------------------------------------------------------------------------


def _match_problems(conn, hashes: list[str], prefer_source: str | None) -> dict[str, str]:
    """question_hash -> problem id for hashes already in the store (preferred source first, then oldest)."""
    if not hashes:
        return {}
    rows = conn.execute(
        """SELECT question_hash, arg_min(id, (CASE WHEN source = ? THEN 0 ELSE 1 END, created, id))
           FROM problem WHERE question_hash IN (SELECT unnest(?)) GROUP BY question_hash""",
        [prefer_source or "", hashes],
    ).fetchall()
    return dict(rows)


def _check_trajectory(raw: trajectory_formats.RawTrajectory) -> str | None:
    """What makes a mapped trajectory unusable, or None."""
    if not raw.question.strip():
        return "empty question"
    if not raw.text.strip():
        return "empty response" + (f" (sample {raw.sample_index})" if raw.sample_index else "")
    return None


def _trajectory_fields(raw: trajectory_formats.RawTrajectory, layout: str) -> dict[str, Any]:
    """The columns of a trajectory row that depend on the file alone (not on the store's problems)."""
    # A record's split-out reasoning is the thought (STILL layout); the raw fields stay in meta.
    text = with_reasoning(raw.text, raw.reasoning)
    parsed = parse_response(text)
    meta: dict[str, Any] = {"layout": layout}
    if raw.reasoning:
        meta.update(reasoning_content=raw.reasoning, raw_content=raw.text)
    if raw.extras.get("source_idx") is not None:
        meta["source_idx"] = raw.extras["source_idx"]
    return {
        "question_hash": question_hash(raw.question),
        "question": raw.question.strip(),
        "gold": raw.gold,
        "domain": raw.domain,
        "source_key": str(raw.extras.get("source_idx", raw.line)),
        "text": text,
        "thought": parsed.thought,
        "solution": parsed.solution,
        "format_style": parsed.style,
        "format_flags": list(parsed.flags),
        "harness_pred": raw.extras.get("harness_pred"),
        "harness_correct": raw.extras.get("harness_correct"),
        "raw_model": raw.model,
        "sample_index": raw.sample_index,
        "source_line": raw.line,
        "meta": meta,
    }


PROBLEM_ONLY = ("question_hash", "question", "gold", "domain", "source_key", "raw_model")


def import_trajectories(
    store: Store,
    path: str,
    *,
    source: str | None = None,
    fmt: str | None = None,
    layout: str | None = None,
    field_map: dict[str, str] | None = None,
    split: str | None = None,
    model: str | None = None,
    origin: str | None = None,
    run_id: str | None = None,
    iteration: int | None = None,
    problem_source: str | None = None,
    skip_bad: bool = False,
) -> ImportReport:
    _check_writable(store)
    rows = _Rows(path, fmt, split)
    used_layout = layout or (
        trajectory_formats.detect_layout(set(rows.first.data)) if rows.first else "prompt-response"
    )
    origin = origin or trajectory_formats.get_layout(used_layout).origin  # an unknown --layout is an error
    source_name = source or problem_formats.source_name_for(rows.path)[0]

    def mapper(batch: Source):
        return trajectory_formats.map_trajectory_rows(batch, layout=used_layout, field_map=field_map)

    errors: list[RowError] = []
    with _spill(store) as spill:
        batcher = _Batcher(spill, lambda r: len(r["text"]))
        for batch in rows.batches(READ_BATCH_ROWS):
            raws, batch_errors = _map(mapper, batch)
            errors.extend(batch_errors)
            for raw in raws:
                problem = _check_trajectory(raw)
                if problem:
                    errors.append(RowError(rows.path, raw.line, problem))
                elif not errors or skip_bad:
                    batcher.add(_trajectory_fields(raw, used_layout))
        batcher.flush()
        _finish_reading(rows.path, errors, rows.read, skip_bad)
        sha = source_sha256(rows.path, rows.format, split)

        report = ImportReport(
            rows.path, "trajectories", rows.format, used_layout, rows.read, 0, skipped=errors, batches=spill.batches
        )
        pid_of: dict[str, str] = {}
        created: set[str] = set()
        matched: set[str] = set()
        for i, table in enumerate(spill):
            last = i == spill.batches - 1
            with store.write() as conn:
                _limit_memory(store, conn)
                report.problems_added += _add_batch(
                    conn,
                    table,
                    pid_of,
                    created,
                    matched,
                    source_name=source_name,
                    problem_source=problem_source,
                    split=split,
                    src_path=rows.path,
                    model=model,
                    origin=origin,
                    run_id=run_id,
                    iteration=iteration,
                    report=report,
                )
                if last:
                    _log(conn, rows.path, sha, "trajectories", rows.format, rows.read, report.added, len(errors))
        if spill.batches == 0:
            with store.write() as conn:
                _log(conn, rows.path, sha, "trajectories", rows.format, rows.read, 0, len(errors))
        report.problems_matched = len(matched)
        return report


def _add_batch(
    conn,
    table: pa.Table,
    pid_of: dict[str, str],
    created: set[str],
    matched: set[str],
    *,
    source_name: str,
    problem_source: str | None,
    split: str | None,
    src_path: str,
    model: str | None,
    origin: str,
    run_id: str | None,
    iteration: int | None,
    report: ImportReport,
) -> int:
    """Write one prepared batch: its new problems, then its trajectories. Returns problems added.
    The trajectories stay an Arrow table: only the id columns are computed here, row by row."""
    cols = table.select(
        ["question_hash", "question", "gold", "domain", "source_key", "raw_model", "text", "sample_index"]
    ).to_pydict()
    hashes = cols["question_hash"]
    unknown = sorted(set(hashes) - pid_of.keys())
    known = _match_problems(conn, unknown, problem_source)
    matched.update(h for h in known if h not in created)
    pid_of.update(known)
    new_problems: dict[str, dict] = {}
    for i, h in enumerate(hashes):
        if h in pid_of or h in new_problems:
            continue
        new_problems[h] = {
            "id": problem_id(source_name, cols["question"][i]),
            "source": source_name,
            "source_key": cols["source_key"][i],
            "domain": cols["domain"][i] or "math",
            "question": cols["question"][i],
            "question_hash": h,
            "answer": cols["gold"][i],
            "answer_kind": "int" if "aime" in source_name.lower() else "math",
            "split": split,
            "meta": {"created_by_import": src_path},
        }
    added_problems = add_problems(conn, list(new_problems.values()))
    for h, p in new_problems.items():
        pid_of[h] = p["id"]
        created.add(h)
    pids = [pid_of[h] for h in hashes]
    models = [model or m for m in cols["raw_model"]]
    ids = [
        imported_id(pid, m, origin, text if k == 0 else f"{k}\x00{text}")
        for pid, m, text, k in zip(pids, models, cols["text"], cols["sample_index"])
    ]
    n = table.num_rows
    rows = table.drop_columns(list(PROBLEM_ONLY))
    for name, values in (
        ("id", pa.array(ids, pa.string())),
        ("problem_id", pa.array(pids, pa.string())),
        ("model", pa.array(models, pa.string())),
        ("origin", pa.array([origin] * n, pa.string())),
        ("run_id", pa.array([run_id] * n, pa.string())),
        ("iteration", pa.array([iteration] * n, pa.int32())),
        ("source_file", pa.array([src_path] * n, pa.string())),
    ):
        rows = rows.append_column(name, values)
    report.added += add_trajectories(conn, rows)
    return added_problems
