"""Builders of the bad input files of the review (issue 19), shared by the tests."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

STILL = (
    "<|begin_of_thought|>\n\nstep one\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n"
    "\\boxed{{{answer}}}\n\n<|end_of_solution|>"
)


def problem_line(i: int) -> str:
    return json.dumps({"problem": f"What is {i} + {i}?", "answer": str(2 * i)}) + "\n"


def write_lines(path: Path, lines: list[str | bytes]) -> Path:
    with open(path, "wb") as f:
        for line in lines:
            f.write(line if isinstance(line, bytes) else line.encode("utf-8"))
    return path


def jsonl_with_bad_line(path: Path, n: int, bad: int, bad_line: bytes) -> Path:
    """n problem rows; line ``bad`` (1-based) replaced by ``bad_line``."""
    return write_lines(path, [bad_line if i + 1 == bad else problem_line(i) for i in range(n)])


def latin1_line(i: int) -> bytes:
    return ('{"problem": "caf\xe9 ' + str(i) + '", "answer": "1"}\n').encode("latin-1")


def skyt1_line(question: str, codes: list, gt="1", score=None) -> str:
    row = {"idx": 0, "question": question, "gt": gt, "code": codes, "pred": ["1"] * len(codes)}
    row["score"] = score if score is not None else [True] * len(codes)
    return json.dumps(row) + "\n"


def gz(path: Path, text: str) -> Path:
    path.write_bytes(gzip.compress(text.encode()))
    return path
