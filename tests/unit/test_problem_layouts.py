"""Problem file layouts are registered objects: columns, detection, answer kind, domain and a per-row step."""

from __future__ import annotations

from store.formats import problems as fmt
from store.formats.readers import Source, SourceRow


def _map(*rows: dict, **kw):
    return fmt.map_problem_rows(
        Source("mem.jsonl", "jsonl", [SourceRow(i + 1, r) for i, r in enumerate(rows)]), source_name="mem", **kw
    )


def test_detection_follows_registration_order_with_generic_last():
    assert list(fmt.PROBLEM_LAYOUTS)[-1] == fmt.FALLBACK_LAYOUT
    assert fmt.detect_layout({"problem": "p", "ground_truth_answer": "1"}) == "gt"  # before math
    assert fmt.detect_layout({"problem": "p", "answer": "1"}) == "math"
    assert fmt.detect_layout({"question": "q", "answer": "so 4\n#### 4"}) == "gsm8k"
    assert fmt.detect_layout({"question": "q", "answer": "4"}) == "generic"


def test_a_registered_layout_with_an_adjust_step(monkeypatch):
    def upper(row: fmt.RowDraft) -> str | None:
        if row.answer == "skip":
            return "refused by the layout"
        row.question = row.question.upper()
        row.meta["shouted"] = True
        return None

    monkeypatch.setitem(
        fmt.PROBLEM_LAYOUTS,
        "shout",
        fmt.ProblemLayout(
            "shout",
            {"question": ("Q",), "answer": ("A",)},
            lambda keys, row: "Q" in keys,
            answer_kind="int",
            domain="puzzle",
            adjust=upper,
        ),
    )
    records, errors, layout = _map({"Q": "what is 2+2?", "A": "004"}, {"Q": "x", "A": "skip"})
    assert layout == "shout" and [e.message for e in errors] == ["refused by the layout"]
    (rec,) = records
    assert rec["question"] == "WHAT IS 2+2?" and rec["answer"] == "4" and rec["answer_kind"] == "int"
    assert rec["domain"] == "puzzle" and rec["meta"]["shouted"] and rec["meta"]["raw_answer"] == "004"
