"""The `code` answer kind: extract the program from each response and run it against the problem's tests
(the gold is a CodeTests JSON) in the sandbox, `workers` programs at a time.

A verdict is correct only when every test passed. Its reason names the first failing test: the assertion
with the value actually returned, or the input with the expected and actual output (cut short), or the
exception, or the limit that was hit. Rules: `tests` (decided by running them), `timeout`, `no_answer`
(no program found), `error` (the sandbox failed: never a pass). The program's `timeout` is per test case.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from typing import Callable, Iterable

from pipeline.verifier import verdict as R
from pipeline.verifier.code_extract import extract_program
from pipeline.verifier.verdict import Verdict
from store.formats.code_tests import CodeTests

TESTS = "tests"  # rule id: the tests ran and decided
SHOW = 60  # characters of an input / expected / actual value in a reason
CACHE_SIZE = 20_000
_cache: OrderedDict[tuple[str, str], tuple[bool, str, str]] = OrderedDict()


def compose(tests: CodeTests, code: str) -> tuple[str, int]:
    """The program that runs and the number of lines before the model's code in it: HumanEval's prompt
    (imports, helpers, signature), then the code. An indented code block is a completion of the body; a
    full definition replaces the prompt's stub."""
    if not tests.prefix:
        return code, 0
    first = next((line for line in code.splitlines() if line.strip()), "")
    head = tests.prefix.rstrip("\n") + ("\n" if first[:1] in (" ", "\t") else "\n\n\n")
    return head + code, head.count("\n")


_PROGRAM_LINE = re.compile(r"\(solution line (\d+)\)")


def _code_lines(reason: str, offset: int) -> str:
    """Line numbers of the composed program -> lines of the model's code (or of the prompt before it)."""

    def renumber(m: re.Match) -> str:
        n = int(m.group(1))
        return f"(line {n - offset} of the code)" if n > offset else f"(line {n} of the prompt)"

    return _PROGRAM_LINE.sub(renumber, reason) if offset else _PROGRAM_LINE.sub(r"(line \1 of the code)", reason)


def _show(value, quote: bool = False, n: int = SHOW) -> str:
    """A value for a reason, cut short; stdin/stdout text is quoted so that newlines show as \\n."""
    s = json.dumps(value, ensure_ascii=False) if quote else str(value)
    return s if len(s) <= n else s[: n - 3] + "..."


def reason_for(report, tests: CodeTests) -> tuple[bool, str, str]:
    """(equal, rule, reason) for a sandbox Report."""
    n = report.n or tests.count()
    if report.ok:
        return True, TESTS, f"tests: passed {report.passed}/{n} ({tests.describe()})"
    f = report.failure or {}
    kind, t = f.get("kind", "error"), f.get("test", report.passed + 1)
    detail = f.get("detail", "")
    if kind == "sandbox":
        return False, R.ERROR, f"error: {detail}"
    where = f"test {t}/{n}"
    if tests.style == "assert" and tests.test and f.get("assert_index"):
        where = f"assert {f['assert_index']}/{f['of']}"
    given = ""
    io = tests.style == "io"
    if io and "input" in f:
        given = f" input {_show(f['input'], True)}"
    elif tests.style == "call" and "input" in f:
        given = f" {tests.fn_name}({_show(f['input'])})"
    if kind == "timeout":
        return False, R.TIMEOUT, f"timeout: {where}{given} {detail}".rstrip()
    if kind == "wrong":
        if "assertion" in f:
            got = f" (got {_show(f['actual'])})" if "actual" in f else ""
            return False, TESTS, f"tests: {where} failed: {_show(f['assertion'], n=2 * SHOW)}{got}"
        return (
            False,
            TESTS,
            (
                f"tests: {where} failed:{given} expected {_show(f.get('expected', ''), io)} "
                f"got {_show(f.get('actual', ''), io)}"
            ),
        )
    return False, TESTS, f"tests: {where}{given}: {detail}"


def _cache_key(gold: str, program: str) -> tuple[str, str]:
    return hashlib.sha256(gold.encode()).hexdigest(), program


def clear_cache() -> None:
    _cache.clear()


def grade_programs(
    items: Iterable[tuple[str, str, str]],
    *,
    workers: int | None = None,
    timeout: float = 5.0,
    progress: Callable[[int], None] | None = None,
) -> list[Verdict]:
    """Grade (tests_json, response, 'code') items; order preserved."""
    from pipeline.sandbox import Limits, Run, get_sandbox

    items = list(items)
    out: list[Verdict | None] = [None] * len(items)
    waiting: dict[tuple[str, str], list[int]] = {}
    runs: dict[tuple[str, str], Run] = {}
    parsed: dict[int, tuple[CodeTests, str]] = {}
    offsets: dict[tuple[str, str], int] = {}
    limits = Limits(test_seconds=max(0.1, float(timeout)), total_seconds=max(60.0, 2 * float(timeout)))
    for i, (gold, pred, _kind) in enumerate(items):
        gold_s = gold if isinstance(gold, str) else json.dumps(gold)
        try:
            tests = CodeTests.from_json(gold_s)
        except ValueError as e:
            out[i] = Verdict(False, None, None, f"no_answer: the gold holds no code tests ({e})", R.NO_ANSWER)
            continue
        found = extract_program(pred if isinstance(pred, str) else "", tests.language)
        if found.program is None:
            out[i] = Verdict(False, None, tests.describe(), f"no_answer: {found.note}", R.NO_ANSWER)
            continue
        if tests.language != "python":
            out[i] = Verdict(
                False,
                found.program,
                tests.describe(),
                f"error: only Python programs run here, not {tests.language}",
                R.ERROR,
            )
            continue
        parsed[i] = (tests, found.program)
        key = _cache_key(gold_s, found.program)
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            out[i] = Verdict(hit[0], found.program, tests.describe(), hit[2], hit[1])
            continue
        waiting.setdefault(key, []).append(i)
        if key not in runs:
            program, offsets[key] = compose(tests, found.program)
            runs[key] = Run(program, tests.to_dict(), limits)
    done = sum(v is not None for v in out)
    if progress is not None:
        progress(done)
    if runs:
        keys = list(runs)
        counter = [done]

        def on_done(j: int, report) -> None:
            idx = waiting[keys[j]]
            tests = parsed[idx[0]][0]
            equal, rule, reason = reason_for(report, tests)
            reason = _code_lines(reason, offsets[keys[j]])
            if rule == TESTS:
                _cache[keys[j]] = (equal, rule, reason)
                if len(_cache) > CACHE_SIZE:
                    _cache.popitem(last=False)
            for i in idx:
                out[i] = Verdict(equal, parsed[i][1], tests.describe(), reason, rule)
            counter[0] += len(idx)
            if progress is not None:
                progress(counter[0])

        get_sandbox(workers=workers).run_many([runs[k] for k in keys], on_done)
    return out  # type: ignore[return-value]
