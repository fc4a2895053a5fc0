"""The tests of a code problem, stored as JSON in `problem.answer` (answer_kind 'code').

Three styles, after the benchmarks that use them:
- ``assert``: HumanEval's ``test`` program with ``check(candidate)`` called on ``entry_point``, or MBPP's
  list of one-line ``asserts`` run after ``setup``;
- ``call``: ``fn_name`` called with each case's ``args`` (a plain function or a method of ``Solution``),
  the result compared with ``output`` (APPS/TACO call-based, LeetCode / LiveCodeBench functional);
- ``io``: the program run with each case's ``input`` on stdin, stdout compared with ``output`` (APPS,
  TACO, LiveCodeBench stdin, Codeforces, CodeContests).
``prefix`` is placed before the program (HumanEval's prompt: imports, helpers and the signature, so that a
completion of the body runs too). Big test sets are cut at import to MAX_TEST_BYTES, ``dropped`` counts
what was left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

STYLES = ("assert", "call", "io")
MAX_TEST_BYTES = 4 * 1024 * 1024  # ours: per problem; APPS/TACO have problems with tens of MB of cases


@dataclass(frozen=True)
class CodeTests:
    style: str
    language: str = "python"
    entry_point: str | None = None
    prefix: str = ""
    setup: str = ""
    test: str = ""
    asserts: tuple[str, ...] = ()
    fn_name: str | None = None
    cases: tuple[dict[str, Any], ...] = field(default=())
    dropped: int = 0

    def __post_init__(self):
        if self.style not in STYLES:
            raise ValueError(f"unknown test style {self.style!r} (expected one of {', '.join(STYLES)})")
        if self.style == "assert" and not (self.test or self.asserts):
            raise ValueError("assert-style tests need a test program or assert lines")
        if self.style in ("call", "io") and not self.cases:
            raise ValueError(f"{self.style}-style tests need at least one case")
        if self.style == "call" and not self.fn_name:
            raise ValueError("call-style tests need fn_name")

    def count(self) -> int:
        if self.style == "assert":
            return 1 if self.test else len(self.asserts)
        return len(self.cases)

    def describe(self) -> str:
        if self.style == "assert":
            return f"check({self.entry_point})" if self.test else f"{len(self.asserts)} asserts"
        what = "stdin/stdout cases" if self.style == "io" else f"calls of {self.fn_name}"
        more = f" (+{self.dropped} left out)" if self.dropped else ""
        return f"{len(self.cases)} {what}{more}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"style": self.style, "language": self.language}
        for name in ("entry_point", "prefix", "setup", "test", "fn_name", "dropped"):
            value = getattr(self, name)
            if value:
                out[name] = value
        if self.asserts:
            out["asserts"] = list(self.asserts)
        if self.cases:
            out["cases"] = list(self.cases)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CodeTests":
        if not isinstance(data, dict) or "style" not in data:
            raise ValueError("code tests must be a JSON object with a 'style'")
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown field(s) in code tests: {', '.join(sorted(unknown))}")
        kw = dict(data)
        kw["asserts"] = tuple(kw.get("asserts") or ())
        kw["cases"] = tuple(kw.get("cases") or ())
        return cls(**kw)

    @classmethod
    def from_json(cls, text: str) -> "CodeTests":
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as e:
            raise ValueError(f"code tests are not valid JSON ({e})") from None
        return cls.from_dict(data)


def cap_cases(cases: list[dict[str, Any]], limit: int = MAX_TEST_BYTES) -> tuple[list[dict[str, Any]], int]:
    """The first cases whose JSON fits in `limit` bytes (always at least one), and how many were dropped."""
    kept, size = [], 0
    for case in cases:
        n = len(json.dumps(case, ensure_ascii=False))
        if kept and size + n > limit:
            break
        kept.append(case)
        size += n
    return kept, len(cases) - len(kept)
