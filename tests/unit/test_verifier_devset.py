"""The dev set (tests/data/verifier_devset.jsonl) as a test: zero false positives, accuracy >= 97%; and
agreement with the Sky-T1 harness verdicts on the shared trajectory files."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pipeline.verifier import grade_many

DEVSET = Path(__file__).resolve().parents[1] / "data" / "verifier_devset.jsonl"


def test_devset_zero_false_positives_and_accuracy():
    rows = [json.loads(line) for line in DEVSET.open(encoding="utf-8") if line.strip()]
    assert len(rows) >= 500
    verdicts = grade_many([(r["gold"], r["pred"], r["kind"]) for r in rows], timeout=5.0)
    fp = [(r["category"], r["note"], r["gold"][:60], r["pred"][-80:], v.reason)
          for r, v in zip(rows, verdicts) if v.equal and not r["expected"]]
    ok = sum(v.equal == r["expected"] for r, v in zip(rows, verdicts))
    assert fp == []
    assert ok / len(rows) >= 0.97, Counter(r["category"] for r, v in zip(rows, verdicts) if v.equal != r["expected"])


# Harness verdicts we disagree with, by (file, idx): the harness scored a truncated output with no final
# answer as correct from the last number in the text.
KNOWN_HARNESS_ERRORS = {("trajectories_skyt1_14b_amc23.jsonl", 7)}


@pytest.mark.parametrize(
    "fname, kind", [("trajectories_skyt1_32b_aime24.jsonl", "int"), ("trajectories_skyt1_14b_amc23.jsonl", "math")]
)
def test_agreement_with_harness(shared_data, fname, kind):
    rows = [json.loads(line) for line in (shared_data / "trajectories" / fname).open(encoding="utf-8")]
    verdicts = grade_many([(r["gt"], r["code"][0], kind) for r in rows])
    disagree = {(fname, r["idx"]) for r, v in zip(rows, verdicts) if v.equal != r["score"][0]}
    assert disagree == {k for k in KNOWN_HARNESS_ERRORS if k[0] == fname}
    for r, v in zip(rows, verdicts):
        if "<|end_of_solution|>" not in r["code"][0]:
            assert v.rule == "no_answer"  # truncated outputs are never correct
