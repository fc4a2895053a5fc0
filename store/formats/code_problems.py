"""Rows of code benchmarks mapped to problems whose answer is a CodeTests JSON (answer_kind 'code').

Layouts (detected from the columns):
* ``humaneval``    - ``task_id``, ``prompt``, ``canonical_solution``, ``test``, ``entry_point``
* ``mbpp``         - ``text``/``prompt``, ``code``, ``test_list`` [, ``test_setup_code``, ``test_imports``,
                     ``challenge_test_list``] (original and sanitized MBPP)
* ``apps``         - ``question``, ``input_output`` (JSON: ``inputs``, ``outputs`` [, ``fn_name``]),
                     ``starter_code``, ``solutions`` (APPS and TACO)
* ``livecodebench``- ``question_content``, ``public_test_cases`` / ``private_test_cases`` (JSON, or LCB's
                     compressed form), ``starter_code``, ``metadata`` (``func_name`` for functional tests)
* ``codecontests`` - ``description``, ``public_tests``/``private_tests``/``generated_tests`` as
                     ``{"input": [...], "output": [...]}`` (DeepMind CodeContests)
* ``code_io``      - a statement (``question``/``problem``/``description``/``statement``) and a list of
                     ``{"input", "output"}`` under ``tests``/``test_cases``/``official_tests``/``examples``
                     (Codeforces-style files)
The question stored is what the model is asked: the statement plus one line saying what to write.
"""

from __future__ import annotations

import ast
import base64
import io
import json
import pickle
import zlib
from typing import Any

from store.formats.code_tests import CodeTests, cap_cases

LAYOUTS = ("humaneval", "mbpp", "apps", "livecodebench", "codecontests", "code_io")
_STATEMENT = ("question", "problem", "description", "statement", "prompt", "problem_statement")
_IO_LISTS = ("tests", "test_cases", "official_tests", "examples", "public_tests_list")
# Difficulty labels -> 1..5 (ours): APPS, TACO, LiveCodeBench, LeetCode
_DIFFICULTY = {
    "introductory": 1,
    "interview": 2,
    "competition": 4,
    "easy": 1,
    "medium": 2,
    "medium_hard": 3,
    "hard": 4,
    "very_hard": 5,
}

FUNCTION_INSTRUCTION = "Write the complete Python function in one ```python code block."
STDIN_INSTRUCTION = (
    "Write a complete Python program that reads from standard input and writes to standard "
    "output, in one ```python code block."
)


class CodeRowError(ValueError):
    """A row that cannot become a code problem; the message names what is missing."""


def detect_code_layout(keys: set[str]) -> str | None:
    if {"task_id", "prompt", "test", "entry_point"} <= keys:
        return "humaneval"
    if "test_list" in keys:
        return "mbpp"
    if "input_output" in keys:
        return "apps"
    if "public_test_cases" in keys or "private_test_cases" in keys:
        return "livecodebench"
    if "public_tests" in keys and "description" in keys:
        return "codecontests"
    if keys & set(_IO_LISTS) and keys & set(_STATEMENT):
        return "code_io"
    return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _json(value: Any, what: str) -> Any:
    if isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError) as e:
        raise CodeRowError(f"{what} is not valid JSON ({e})") from None


def _difficulty(value: Any) -> int | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    key = _text(value).strip().lower().replace(" ", "_")
    return _DIFFICULTY.get(key)


def _with_starter(statement: str, starter: str, instruction: str) -> str:
    out = statement.strip()
    if starter.strip():
        out += f"\n\nStarter code:\n```python\n{starter.rstrip()}\n```"
    return f"{out}\n\n{instruction}"


def _called_function(asserts: list[str]) -> str | None:
    for line in asserts:
        try:
            tree = ast.parse(line)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id not in ("set", "list", "sorted", "tuple", "abs", "round", "len", "isclose"):
                    return node.func.id
    return None


def _io_cases(inputs: list, outputs: list) -> list[dict[str, str]]:
    if len(inputs) != len(outputs):
        raise CodeRowError(f"{len(inputs)} test inputs but {len(outputs)} outputs")
    return [{"input": _io_text(i), "output": _io_text(o)} for i, o in zip(inputs, outputs)]


def _io_text(value: Any) -> str:
    if isinstance(value, list):  # TACO sometimes stores an input as a list of lines
        return "\n".join(_text(v) for v in value)
    return _text(value)


def _io_tests(cases: list[dict[str, Any]]) -> CodeTests:
    if not cases:
        raise CodeRowError("no test cases")
    kept, dropped = cap_cases(cases)
    return CodeTests(style="io", cases=tuple(kept), dropped=dropped)


def _humaneval(row: dict[str, Any]) -> dict[str, Any]:
    prompt, entry = _text(row["prompt"]), _text(row["entry_point"])
    tests = CodeTests(style="assert", entry_point=entry, prefix=prompt, test=_text(row["test"]))
    return {
        "question": f"Complete the following Python function.\n\n```python\n{prompt.rstrip()}\n```\n\n"
        f"{FUNCTION_INSTRUCTION}",
        "tests": tests,
        "solution": prompt + _text(row.get("canonical_solution")),
        "source_key": row.get("task_id"),
        "meta": {"entry_point": entry},
    }


def _mbpp(row: dict[str, Any]) -> dict[str, Any]:
    asserts = [_text(t) for t in (row.get("test_list") or []) if _text(t).strip()]
    if not asserts:
        raise CodeRowError("MBPP row has an empty test_list")
    setup = "\n".join([_text(row.get("test_setup_code"))] + [_text(t) for t in row.get("test_imports") or []])
    statement = _text(row.get("text") or row.get("prompt")).strip()
    if not statement:
        raise CodeRowError("MBPP row has no text/prompt")
    entry = _called_function(asserts)
    question = (
        f"{statement}\nYour code should pass these tests:\n\n" + "\n".join(asserts[:3]) + f"\n\n{FUNCTION_INSTRUCTION}"
    )
    challenge = [_text(t) for t in (row.get("challenge_test_list") or []) if _text(t).strip()]
    tests = CodeTests(style="assert", entry_point=entry, setup=setup.strip(), asserts=tuple(asserts + challenge))
    return {
        "question": question,
        "tests": tests,
        "solution": row.get("code"),
        "source_key": row.get("task_id"),
        "meta": {"entry_point": entry} if entry else {},
    }


def _apps(row: dict[str, Any]) -> dict[str, Any]:
    io_spec = _json(row.get("input_output"), "input_output")
    if not isinstance(io_spec, dict):
        raise CodeRowError("input_output must be an object with inputs and outputs")
    inputs, outputs = io_spec.get("inputs") or [], io_spec.get("outputs") or []
    fn_name = io_spec.get("fn_name")
    starter = _text(row.get("starter_code"))
    statement = _text(row.get("question"))
    if fn_name:
        if len(inputs) != len(outputs):
            raise CodeRowError(f"{len(inputs)} test inputs but {len(outputs)} outputs")
        cases = [
            {"args": i if isinstance(i, list) else [i], "output": o, "wrapped": True} for i, o in zip(inputs, outputs)
        ]
        if not cases:
            raise CodeRowError("no test cases")
        kept, dropped = cap_cases(cases)
        tests = CodeTests(style="call", fn_name=str(fn_name), cases=tuple(kept), dropped=dropped)
        question = _with_starter(statement, starter, f"Complete the function `{fn_name}`. {FUNCTION_INSTRUCTION}")
    else:
        tests = _io_tests(_io_cases(inputs, outputs))
        question = _with_starter(statement, starter, STDIN_INSTRUCTION)
    solutions = _json(row["solutions"], "solutions") if row.get("solutions") else []
    return {
        "question": question,
        "tests": tests,
        "solution": solutions[0] if isinstance(solutions, list) and solutions else None,
        "source_key": row.get("problem_id") or row.get("id") or row.get("name"),
        "subject": row.get("source") if isinstance(row.get("source"), str) else None,
        "meta": {},
    }


class _StringsOnly(pickle.Unpickler):
    """LiveCodeBench compresses private tests as a pickled JSON string: unpickle plain data, never code."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a test-case pickle")


def _lcb_cases(value: Any) -> list[dict[str, Any]]:
    if value in (None, "", []):
        return []
    if isinstance(value, list):
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        pass
    try:
        raw = _StringsOnly(io.BytesIO(zlib.decompress(base64.b64decode(value)))).load()
        return json.loads(raw)
    except Exception as e:  # noqa: BLE001 - any decoding failure is a bad row
        raise CodeRowError(f"test cases are neither JSON nor LiveCodeBench's compressed form ({e})") from None


def _lcb(row: dict[str, Any]) -> dict[str, Any]:
    cases = _lcb_cases(row.get("public_test_cases")) + _lcb_cases(row.get("private_test_cases"))
    if not cases:
        raise CodeRowError("no test cases")
    meta = _json(row["metadata"], "metadata") if row.get("metadata") else {}
    fn_name = meta.get("func_name") if isinstance(meta, dict) else None
    starter = _text(row.get("starter_code"))
    statement = _text(row.get("question_content"))
    if any(c.get("testtype") == "functional" for c in cases):
        if not fn_name:
            raise CodeRowError("functional tests but no func_name in metadata")
        call_cases = []
        for c in cases:
            args = [json.loads(line) for line in _text(c.get("input")).split("\n") if line.strip()]
            call_cases.append({"args": args, "output": json.loads(_text(c.get("output")))})
        kept, dropped = cap_cases(call_cases)
        tests = CodeTests(style="call", fn_name=fn_name, cases=tuple(kept), dropped=dropped)
        question = _with_starter(statement, starter, f"Complete the method `{fn_name}`. {FUNCTION_INSTRUCTION}")
    else:
        tests = _io_tests([{"input": _text(c.get("input")), "output": _text(c.get("output"))} for c in cases])
        question = _with_starter(statement, starter, STDIN_INSTRUCTION)
    return {
        "question": question,
        "tests": tests,
        "solution": None,
        "source_key": row.get("question_id") or row.get("question_title"),
        "subject": row.get("platform"),
        "meta": {"contest_date": _text(row.get("contest_date")) or None},
    }


def _codecontests(row: dict[str, Any]) -> dict[str, Any]:
    cases: list[dict[str, str]] = []
    for name in ("public_tests", "private_tests", "generated_tests"):
        block = row.get(name) or {}
        if isinstance(block, dict):
            cases += _io_cases(list(block.get("input") or []), list(block.get("output") or []))
    solutions = row.get("solutions") or {}
    solution = None
    if isinstance(solutions, dict):  # {"language": [3 = PYTHON3, ...], "solution": [...]}
        for lang, code in zip(solutions.get("language") or [], solutions.get("solution") or []):
            if lang == 3:
                solution = code
                break
    return {
        "question": _with_starter(_text(row["description"]), "", STDIN_INSTRUCTION),
        "tests": _io_tests(cases),
        "solution": solution,
        "source_key": row.get("name"),
        "meta": {},
    }


def _code_io(row: dict[str, Any]) -> dict[str, Any]:
    statement = next((_text(row[k]) for k in _STATEMENT if _text(row.get(k)).strip()), "")
    if not statement:
        raise CodeRowError(f"no statement (looked for {', '.join(_STATEMENT)})")
    for extra, title in (("input_format", "Input"), ("output_format", "Output")):
        if _text(row.get(extra)).strip():
            statement += f"\n\n{title}\n{_text(row[extra]).strip()}"
    raw = next((row[k] for k in _IO_LISTS if row.get(k)), None)
    raw = _json(raw, "tests") if raw is not None else []
    if isinstance(raw, dict):
        cases = _io_cases(list(raw.get("input") or []), list(raw.get("output") or []))
    else:
        cases = [
            {"input": _io_text(c.get("input")), "output": _io_text(c.get("output"))} for c in raw if isinstance(c, dict)
        ]
    return {
        "question": _with_starter(statement, "", STDIN_INSTRUCTION),
        "tests": _io_tests(cases),
        "solution": row.get("solution"),
        "source_key": row.get("id") or row.get("name"),
        "subject": None,
        "meta": {},
    }


_MAPPERS = {
    "humaneval": _humaneval,
    "mbpp": _mbpp,
    "apps": _apps,
    "livecodebench": _lcb,
    "codecontests": _codecontests,
    "code_io": _code_io,
}


def map_code_row(row: dict[str, Any], layout: str) -> dict[str, Any]:
    """question, answer (CodeTests JSON), solution, source_key, difficulty, subject, meta for one row.
    Raises CodeRowError with a message naming what is wrong."""
    try:
        out = _MAPPERS[layout](row)
    except KeyError as e:
        raise CodeRowError(f"{layout} row without column {e.args[0]!r}") from None
    except ValueError as e:  # CodeTests validation
        raise CodeRowError(str(e)) from None
    tests: CodeTests = out.pop("tests")
    meta = {k: v for k, v in (out.pop("meta") or {}).items() if v is not None}
    meta.update({"tests": tests.describe(), "test_style": tests.style})
    if tests.dropped:
        meta["tests_dropped"] = tests.dropped
    solution = out.get("solution")
    return {
        **out,
        "answer": tests.to_json(),
        "solution": _text(solution) if solution is not None else None,
        "difficulty": _difficulty(row.get("difficulty")),
        "meta": meta,
        "source_key": str(out["source_key"]) if out.get("source_key") is not None else None,
    }
