"""The answer-kind registry: grade_many sends each kind's items to its grader in one batch, keeps order."""

from __future__ import annotations

import sys
import types

import pytest

from pipeline.verifier import grade_many, kinds
from pipeline.verifier.verdict import Verdict


@pytest.fixture
def toy_kind():
    calls = []
    mod = types.ModuleType("toy_kind_grader")

    def grade(items, *, workers=None, timeout=5.0, progress=None):
        calls.append(list(items))
        out = [Verdict(g == p[::-1], p, g, f"toy: {p!r} reversed vs {g!r}", "toy") for g, p, _ in items]
        if progress is not None:
            progress(len(out))
        return out

    mod.grade = grade
    sys.modules["toy_kind_grader"] = mod
    kinds.register(kinds.AnswerKind("toy", "toy_kind_grader:grade", "reversed strings"))
    yield calls
    del kinds.KINDS["toy"]
    del sys.modules["toy_kind_grader"]


def test_mixed_kinds_keep_order_and_batch_per_grader(toy_kind):
    seen = []
    items = [
        ("7", "\\boxed{7}", "math"),
        ("abc", "cba", "toy"),
        ("B", "The answer is B", "mc"),
        ("abc", "abc", "toy"),
        ("3", "\\boxed{4}", "int"),
    ]
    out = grade_many(items, progress=seen.append)
    assert [v.equal for v in out] == [True, True, True, False, False]
    assert [v.rule for v in out][1::2] == ["toy", "toy"]
    assert toy_kind == [[("abc", "cba", "toy"), ("abc", "abc", "toy")]]  # one batch with both toy items
    assert seen[-1] == len(items)


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown kind 'nope'.*math"):
        grade_many([("1", "1", "nope")])


def test_default_kinds_registered():
    assert {"math", "int", "mc"} <= set(kinds.names())
