"""The test harnesses that run inside a confined child (stdlib only: this file runs inside the sandbox).

Each harness executes the program and its tests in this process and streams one message per test to the
runner: `{"i": k, "ok": true}` or `{"i": k, "ok": false, "kind": ..., ...}`; `{"done": true}` at the end.
Styles: `assert` (HumanEval's check(candidate) or MBPP's list of assert lines), `call` (a function called
with arguments, compared with the expected value: APPS/TACO fn_name, LeetCode/LiveCodeBench functional),
`io` (one stdin/stdout run; the runner compares the output).
"""

from __future__ import annotations

import ast
import json
import math
import signal
import sys
import traceback

PROGRAM_FILE = "solution.py"
TEST_FILE = "<tests>"
SHOW = 200  # characters of an input, expected or actual value kept in a message


class TestTimeout(BaseException):
    """Raised by the per-test alarm; a BaseException so that `except Exception` in the program cannot eat it."""


def _on_alarm(signum, frame):
    raise TestTimeout()


def cut(value, n: int = SHOW) -> str:
    s = value if isinstance(value, str) else repr(value)
    return s if len(s) <= n else s[: n - 3] + "..."


def _arm(seconds: float) -> None:
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(0.001, seconds))


def _disarm() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)


def _program_line(tb) -> int | None:
    line = None
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename == PROGRAM_FILE:
            line = lineno
    return line


def exception_message(e: BaseException, i: int, seconds: float, memory_mb: int) -> dict:
    """The failure message for an exception raised while test i ran."""
    if isinstance(e, TestTimeout):
        return {"i": i, "ok": False, "kind": "timeout", "detail": f"took longer than {seconds:g} s"}
    if isinstance(e, MemoryError):
        return {"i": i, "ok": False, "kind": "memory", "detail": f"MemoryError (limit {memory_mb} MiB)"}
    if isinstance(e, OSError) and e.errno == 27:  # EFBIG: RLIMIT_FSIZE (Python ignores SIGXFSZ)
        return {"i": i, "ok": False, "kind": "output", "detail": "output or file size limit exceeded"}
    if isinstance(e, BlockingIOError) and e.errno == 11:
        return {"i": i, "ok": False, "kind": "processes", "detail": f"process limit hit ({cut(str(e), 80)})"}
    if isinstance(e, UntrustedResult):
        return {"i": i, "ok": False, "kind": "exception", "detail": str(e)}
    if isinstance(e, RecursionError):
        detail = "RecursionError: maximum recursion depth exceeded"
    elif isinstance(e, SyntaxError) and e.filename == PROGRAM_FILE:
        return {
            "i": i,
            "ok": False,
            "kind": "syntax",
            "detail": f"SyntaxError: {cut(e.msg or '', 120)} (line {e.lineno})",
        }
    else:
        detail = f"{type(e).__name__}: {cut(str(e), 160)}" if str(e) else type(e).__name__
    line = _program_line(e.__traceback__)
    if line is not None:
        detail += f" (solution line {line})"
    return {"i": i, "ok": False, "kind": "exception", "detail": detail}


class UntrustedResult(TypeError):
    """A function returned an object of a class the program defined: its == could claim anything."""


def guard_result(value, depth: int = 0):
    """`value` unchanged, unless it (or anything inside, 3 levels deep) is an instance of a class the
    program itself defined (an "always equal" object would pass any `==` test)."""
    if type(value).__module__ in ("solution", "__main__"):
        raise UntrustedResult(
            f"the function returned an instance of {type(value).__name__}, a class of its own; "
            "its comparisons cannot be trusted"
        )
    if depth < 3:
        if isinstance(value, dict):
            for k, v in list(value.items())[:1000]:
                guard_result(k, depth + 1)
                guard_result(v, depth + 1)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for v in list(value)[:1000]:
                guard_result(v, depth + 1)
    return value


def guarded(fn):
    """`fn` whose results go through guard_result (HumanEval's candidate, MBPP's function)."""

    def call(*args, **kwargs):
        return guard_result(fn(*args, **kwargs))

    call.__name__ = getattr(fn, "__name__", "candidate")
    call.__doc__ = getattr(fn, "__doc__", None)
    return call


def load_program(source: str, name: str) -> dict:
    """Compile and execute the program; its globals. `name` is `__name__` (solution, or __main__ for io)."""
    code = compile(source, PROGRAM_FILE, "exec")
    env = {"__name__": name, "__file__": PROGRAM_FILE, "__builtins__": __builtins__}
    exec(code, env)
    return env


# --- assert style -------------------------------------------------------------------------------------


def _assert_nodes(test_src: str) -> list[ast.Assert]:
    return sorted((n for n in ast.walk(ast.parse(test_src)) if isinstance(n, ast.Assert)), key=lambda n: n.lineno)


def _explain_assert(tb, test_src: str, nodes: list[ast.Assert]) -> dict:
    """Which assert failed (index, source) and, for `a == b`, the actual value of a."""
    frame = lineno = None
    for f, ln in traceback.walk_tb(tb):
        if f.f_code.co_filename == TEST_FILE:
            frame, lineno = f, ln
    out: dict = {"kind": "wrong"}
    node = next((n for n in nodes if n.lineno <= (lineno or 0) <= (n.end_lineno or n.lineno)), None)
    if node is None:
        out["detail"] = "AssertionError"
        return out
    out["of"] = len(nodes)
    out["assert_index"] = nodes.index(node) + 1
    out["assertion"] = cut(ast.get_source_segment(test_src, node) or "assert ...")
    test = node.test
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq) and frame is not None:
        try:
            actual = eval(compile(ast.Expression(test.left), TEST_FILE, "eval"), frame.f_globals, frame.f_locals)
            expected = eval(
                compile(ast.Expression(test.comparators[0]), TEST_FILE, "eval"), frame.f_globals, frame.f_locals
            )
            out["actual"], out["expected"] = cut(actual), cut(expected)
        except BaseException as e:  # re-running the call failed this time: say so instead of a value
            out["actual"] = f"<{type(e).__name__} when re-evaluated>"
    return out


def run_assert(job: dict, send) -> None:
    spec, limits = job["tests"], job["limits"]
    seconds, memory = float(limits["test_seconds"]), int(limits["memory_mb"])
    if spec.get("test"):  # HumanEval: one test = the check function
        _arm(seconds)
        try:
            env = load_program(job["program"], "solution")
            test_src = (spec.get("setup") or "") + "\n" + spec["test"]
            nodes = _assert_nodes(test_src)
            exec(compile(test_src, TEST_FILE, "exec"), env)
            if "check" in env:
                entry = spec.get("entry_point")
                if entry not in env:
                    raise NameError(f"the program defines no {entry!r}")
                env["check"](guarded(env[entry]))
            _disarm()
            send({"i": 1, "ok": True})
        except AssertionError as e:
            msg = {"i": 1, "ok": False, **_explain_assert(e.__traceback__, test_src, nodes)}
            _disarm()
            send(msg)
        except BaseException as e:
            _disarm()
            send(exception_message(e, 1, seconds, memory))
        return
    asserts = spec.get("asserts") or []
    try:
        _arm(seconds)
        env = load_program(job["program"], "solution")
        entry = spec.get("entry_point")
        if entry and callable(env.get(entry)):
            env[entry] = guarded(env[entry])
        if spec.get("setup"):
            exec(compile(spec["setup"], TEST_FILE, "exec"), env)
        _disarm()
    except BaseException as e:
        _disarm()
        send(exception_message(e, 1, seconds, memory))
        return
    for i, line in enumerate(asserts, start=1):
        try:
            nodes = _assert_nodes(line)
            _arm(seconds)
            exec(compile(line, TEST_FILE, "exec"), env)
            _disarm()
            send({"i": i, "ok": True})
        except AssertionError as e:
            msg = {"i": i, "ok": False, **_explain_assert(e.__traceback__, line, nodes)}
            msg.pop("assert_index", None)
            msg.pop("of", None)
            _disarm()
            send(msg)
            return
        except BaseException as e:
            _disarm()
            send(exception_message(e, i, seconds, memory))
            return


# --- call style ---------------------------------------------------------------------------------------


def _plain(value):
    """Tuples as lists, recursively (expected values come from JSON)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def values_equal(actual, expected) -> bool:
    a, e = _plain(actual), _plain(expected)
    if a == e:
        return True
    if isinstance(a, float) or isinstance(e, float):
        try:
            return math.isclose(float(a), float(e), rel_tol=1e-6, abs_tol=1e-6)
        except (TypeError, ValueError, OverflowError):
            return False
    if isinstance(a, list) and isinstance(e, list) and len(a) == len(e):
        return all(values_equal(x, y) for x, y in zip(a, e))
    return False


def _function(env: dict, name: str):
    if name in env and callable(env[name]):
        return env[name]
    cls = env.get("Solution")
    if isinstance(cls, type) and hasattr(cls, name):
        return getattr(cls(), name)
    raise NameError(f"the program defines no function {name!r} (nor a Solution class with it)")


def run_call(job: dict, send) -> None:
    spec, limits = job["tests"], job["limits"]
    seconds, memory = float(limits["test_seconds"]), int(limits["memory_mb"])
    try:
        _arm(seconds)
        env = load_program(job["program"], "solution")
        fn = _function(env, spec["fn_name"])
        _disarm()
    except BaseException as e:
        _disarm()
        send(exception_message(e, 1, seconds, memory))
        return
    for i, case in enumerate(spec.get("cases") or [], start=1):
        args = case.get("args") or []
        try:
            _arm(seconds)
            actual = guard_result(fn(*json.loads(json.dumps(args))))  # fresh arguments: no state leaks
            _disarm()
        except BaseException as e:
            _disarm()
            msg = exception_message(e, i, seconds, memory)
            msg["input"] = cut(", ".join(json.dumps(a) for a in args))
            send(msg)
            return
        expected = case.get("output")
        ok = values_equal(actual, expected)
        if not ok and case.get("wrapped") and isinstance(expected, list) and len(expected) == 1:
            ok = values_equal(actual, expected[0])  # APPS wraps call-based outputs in a list
            expected = expected[0]
        if ok:
            send({"i": i, "ok": True})
        else:
            send(
                {
                    "i": i,
                    "ok": False,
                    "kind": "wrong",
                    "input": cut(", ".join(json.dumps(a) for a in args)),
                    "expected": cut(expected),
                    "actual": cut(actual),
                }
            )
            return


# --- io style (one case per child) --------------------------------------------------------------------


def run_io_case(job: dict, i: int, send) -> None:
    limits = job["limits"]
    seconds, memory = float(limits["test_seconds"]), int(limits["memory_mb"])
    sys.argv = [PROGRAM_FILE]
    try:
        _arm(seconds)
        load_program(job["program"], "__main__")
        _disarm()
    except SystemExit as e:
        _disarm()
        if e.code not in (None, 0):
            send({"i": i, "ok": False, "kind": "exit", "detail": f"exit status {cut(e.code, 40)}"})
            return
    except BaseException as e:
        _disarm()
        send(exception_message(e, i, seconds, memory))
        return
    try:
        sys.stdout.flush()
    except OSError as e:
        send(exception_message(e, i, seconds, memory))
        return
    send({"i": i, "ran": True})  # the runner compares the output
