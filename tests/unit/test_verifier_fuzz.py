"""Hypothesis fuzz of grade/verify with hostile answers (issue 19): huge numbers, box spam, deep nesting,
prose. Each item must give a well-formed verdict and finish under its timeout plus a generous constant
(a no-hang bound only, not a speed claim)."""

from __future__ import annotations

import json
import time

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.verifier import extract, grade_many
from pipeline.verifier.verdict import RULES

TIMEOUT = 1.0
SLACK = 30.0  # generous, 'does not hang': a loaded CI machine, a worker respawn (imports) after a kill

huge = st.builds(
    lambda e, form: form.format(e=e),
    st.integers(4000, 30000),
    st.sampled_from(
        [
            "10^{{{e}}}",
            "1e{e}",
            "9.99\\times10^{{{e}}}",
            "0.3\\times10^{{-{e}}}",
            "2^{{{e}}}",
            "\\frac{{1}}{{10^{{{e}}}}}",
        ]
    ),
)
digits = st.integers(1, 6000).map(lambda n: "9" * n)
spam = st.builds(
    lambda unit, k, prefix: prefix + unit * k,
    st.sampled_from(["\\boxed{", "\\boxed{1}", "\\fbox{", "{", "\\boxed{\\boxed{", "$", "\\("]),
    st.integers(1, 40_000),
    st.sampled_from(["", "<|begin_of_solution|>", "<think>"]),
)
nested = st.builds(
    lambda k, pair: "\\boxed{" + pair[0] * k + "2" + pair[1] * k + "}",
    st.integers(1, 3000),
    st.sampled_from([("{", "}"), ("(", ")"), ("\\frac{1}{", "}"), ("\\sqrt{", "}")]),
)
prose = st.builds(
    lambda n, end: "Let me think about it. " * n + end,
    st.integers(0, 3000),
    st.sampled_from(
        [
            "Therefore, the answer is 3.",
            "So I'd go with B.",
            "The total is 3,50 €.",
            "Hence $x \\le 3$ is the solution set.",
            "so the value is",
            "= 10^{99999}.",
        ]
    ),
)
hostile = st.one_of(huge.map(lambda s: f"\\boxed{{{s}}}"), huge, digits, spam, nested, prose, st.text(max_size=200))
gold = st.one_of(st.sampled_from(["7", "3", "B", "1e9999", "\\frac{1}{2}"]), huge)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    gold,
    hostile,
    st.sampled_from(["math", "int", "mc"]),
    st.sampled_from([None, "stop", "length"]),
    st.sampled_from(["strict", "default", "harness"]),
)
@example("7", "", "math", "length", "strict")  # found by a CI run: an empty output cut off at the limit
def test_hostile_answers_finish_under_their_timeout(g, p, kind, finish_reason, policy):
    t0 = time.monotonic()
    v = grade_many([(g, p, kind, finish_reason)], timeout=TIMEOUT, workers=1, policy=policy)[0]
    assert time.monotonic() - t0 < TIMEOUT + SLACK
    assert isinstance(v.equal, bool) and v.rule in RULES and v.reason
    if finish_reason == "length" and policy != "harness":
        assert not v.equal and v.rule == "cut_off"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hostile)
def test_extraction_is_bounded(p):
    t0 = time.monotonic()
    for kind in ("math", "mc"):
        e = extract(p, kind)
        assert e.answer is None or isinstance(e.answer, str)
    assert time.monotonic() - t0 < 2.0 + SLACK


def test_box_spam_and_huge_numbers_through_grade(tmp_path):
    """The issue-19 inputs through `still2 grade`: a verdict for every row, within the timeout."""
    rows = [
        {"gold": "1", "pred": "\\boxed{" * 285_000},
        {"gold": "1", "pred": "<|begin_of_solution|>" + "\\boxed{" * 40_000},
        {"gold": "1", "pred": "\\boxed{1}" * 200_000},
        {"gold": "7", "pred": "\\boxed{10^{4301}}"},
        {"gold": "1e9999", "pred": "\\boxed{10^{9999}}"},
        {"gold": "1", "pred": "\\boxed{0.30162\\times10^{-8574}}"},
        {"gold": "7", "pred": "The answer is 1e5000."},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    t0 = time.monotonic()
    result = CliRunner().invoke(
        app, ["grade", str(src), "--out", str(out), "--timeout", "1", "--workers", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert time.monotonic() - t0 < len(rows) * (1 + SLACK)
    graded = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [g["equal"] for g in graded] == [False, False, False, False, True, False, False]
