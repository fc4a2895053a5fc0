"""`grade_file`: grade a JSONL file of {gold, pred, kind} rows and write them back with the verdict fields."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from typing import Any, Callable, TextIO

from .grader import grade_many
from .kinds import names as kind_names
from .policy import get_policy


class GradeInputError(ValueError):
    """A bad input row; `.path` and `.line` (1-based) name it."""

    def __init__(self, path: str | os.PathLike, line: int, message: str):
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


def _field(row: dict, name: str, path, line: int) -> str:
    v = row.get(name)
    if name == "gold" and row.get("kind") == "code" and isinstance(v, dict):
        return json.dumps(v)  # code tests may be given as an object
    if isinstance(v, bool) or v is None or not isinstance(v, (str, int, float)):
        raise GradeInputError(path, line, f"field {name!r} must be a string or a number")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _json_line(line: str, path, n: int):
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise GradeInputError(path, n, f"invalid JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise GradeInputError(path, n, "JSON nested too deeply") from None
    except ValueError as e:  # Python refuses integers of more than 4,300 digits
        if "digits" in str(e):
            raise GradeInputError(
                path, n, "a JSON integer with more than 4,300 digits (write it as a string)"
            ) from None
        raise GradeInputError(path, n, f"invalid JSON ({e})") from None


def read_rows(path: str | os.PathLike) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) for every non-empty line; raises GradeInputError on the first bad one.

    Each line is decoded on its own, so a bad byte is reported on its own line (1-based)."""
    rows = []
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise GradeInputError(
                    path, n, f"not UTF-8 text ({e.reason} at byte {e.start + 1} of the line)"
                ) from None
            if n == 1 and line.startswith("\ufeff"):
                line = line[1:]
            if not line.strip():
                continue
            row = _json_line(line, path, n)
            if not isinstance(row, dict):
                raise GradeInputError(path, n, "each line must be a JSON object")
            for name in ("gold", "pred"):
                if name not in row:
                    raise GradeInputError(path, n, f"missing field {name!r}")
                _field(row, name, path, n)
            kind = row.get("kind") or "math"
            if kind not in kind_names():
                raise GradeInputError(path, n, f"kind must be one of {', '.join(kind_names())}, got {kind!r}")
            fr = row.get("finish_reason")
            if fr is not None and not isinstance(fr, str):
                raise GradeInputError(path, n, 'field \'finish_reason\' must be a string (e.g. "stop" or "length")')
            rows.append((n, row))
    return rows


def grade_file(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike | None = None,
    *,
    timeout: float = 5.0,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    out_stream: TextIO | None = None,
    policy: str | None = None,
) -> dict[str, Any]:
    """Grade every row of `in_path` under an answer policy; write rows (with `equal`, `extracted`, `reason`,
    `answer_source`) to `out_path`, or to `out_stream` / stdout when out_path is None. Nothing is written if
    any row is invalid. Returns a summary."""
    t0 = time.monotonic()
    pol = get_policy(policy)
    from .pool import get_pool

    get_pool(workers).prestart(1)  # its imports overlap reading and extracting
    rows = read_rows(in_path)
    items = [
        (_field(r, "gold", in_path, n), _field(r, "pred", in_path, n), r.get("kind") or "math", r.get("finish_reason"))
        for n, r in rows
    ]
    verdicts = grade_many(items, workers=workers, timeout=timeout, progress=progress, policy=pol)
    lines = []
    for (_, row), v in zip(rows, verdicts):
        out = dict(row)
        out["equal"] = v.equal
        out["extracted"] = v.extracted
        out["reason"] = v.reason
        out["answer_source"] = v.answer_source
        lines.append(json.dumps(out, ensure_ascii=False) + "\n")
    if out_path is not None:
        from store.output import open_output  # FIFOs, devices and symlinks written through, not replaced

        with open_output(out_path) as fh:
            fh.writelines(lines)
    else:
        stream = out_stream if out_stream is not None else sys.stdout
        stream.writelines(lines)
        stream.flush()
    rules = Counter(v.rule for v in verdicts)
    n_equal = sum(v.equal for v in verdicts)
    return {
        "in": str(in_path),
        "out": str(out_path) if out_path is not None else None,
        "n": len(verdicts),
        "equal": n_equal,
        "not_equal": len(verdicts) - n_equal,
        "timeouts": rules.get("timeout", 0),
        "no_answer": rules.get("no_answer", 0),
        "unparseable": rules.get("unparseable", 0),
        "errors": rules.get("error", 0),
        "cut_off": rules.get("cut_off", 0),
        "by_rule": dict(sorted(rules.items())),
        "by_source": dict(sorted(Counter(v.answer_source for v in verdicts).items())),
        "answer_policy": pol.name,
        "seconds": round(time.monotonic() - t0, 3),
    }
