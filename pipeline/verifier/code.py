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


def compose(tests: CodeTests, code: str) -> str:
    """The program that runs: HumanEval's prompt (imports, helpers, signature), then the model's code. An
    indented code block is a completion of the body; a full definition replaces the prompt's stub."""
    if not tests.prefix:
        return code
    first = next((line for line in code.splitlines() if line.strip()), "")
    if first[:1] in (" ", "\t"):
        return tests.prefix.rstrip("\n") + "\n" + code
    return tests.prefix.rstrip("\n") + "\n\n\n" + code


def _show(value) -> str:
    s = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
    return s if len(s) <= SHOW else s[: SHOW - 3] + "..."


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
    if tests.style == "io" and "input" in f:
        given = f" input {_show(f['input'])}"
    elif tests.style == "call" and "input" in f:
        given = f" {tests.fn_name}({_show(f['input'])})"
    if kind == "timeout":
        return False, R.TIMEOUT, f"timeout: {where}{given} {detail}".rstrip()
    if kind == "wrong":
        if "assertion" in f:
            got = f" (got {_show(f['actual'])})" if "actual" in f else ""
            return False, TESTS, f"tests: {where} failed: {_show(f['assertion'])}{got}"
        return False, TESTS, (f"tests: {where} failed:{given} expected {_show(f.get('expected', ''))} "
                              f"got {_show(f.get('actual', ''))}")
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
            out[i] = Verdict(False, found.program, tests.describe(),
                             f"error: only Python programs run here, not {tests.language}", R.ERROR)
            continue
        parsed[i] = (tests, found.program)
        key = _cache_key(gold_s, found.program)
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            out[i] = Verdict(hit[0], found.program, tests.describe(), hit[2], hit[1])
            continue
        waiting.setdefault(key, []).append(i)
        runs.setdefault(key, Run(compose(tests, found.program), tests.to_dict(), limits))
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
