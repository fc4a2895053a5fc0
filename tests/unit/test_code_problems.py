"""Code and multiple-choice layouts end to end: rows of each benchmark shape import as problems, their
reference solutions pass in the sandbox, broken ones fail with a reason naming the test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.verifier import grade_many
from store.formats.code_tests import CodeTests
from store.importer import import_problems
from store.prompting import render_question

DATA = Path(__file__).resolve().parents[1] / "data"


def still(code: str, lang: str = "python") -> str:
    return (
        f"<|begin_of_thought|>\n\nthink\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n```{lang}\n{code}\n```"
        "\n\n<|end_of_solution|>"
    )


def problems(store, source: str) -> list[dict]:
    with store.read() as conn:
        cols = ["id", "source_key", "answer", "answer_kind", "domain", "solution", "question", "choices", "difficulty"]
        rows = conn.execute(
            f"SELECT {', '.join(cols)} FROM problem WHERE source = ? ORDER BY source_key", [source]
        ).fetchall()
    return [dict(zip(cols, r)) for r in rows]


@pytest.mark.parametrize(
    "name,layout,n,style",
    [
        ("mbpp_sample", "mbpp", 4, "assert"),
        ("apps_sample", "apps", 2, None),
        ("taco_sample", "apps", 1, "io"),
        ("livecodebench_sample", "livecodebench", 2, None),
        ("codecontests_sample", "codecontests", 1, "io"),
        ("codeforces_sample", "code_io", 1, "io"),
    ],
)
def test_code_layouts_import_and_reference_solutions_pass(store, name, layout, n, style):
    report = import_problems(store, str(DATA / "code" / f"{name}.jsonl"))
    assert (report.layout, report.added) == (layout, n)
    rows = problems(store, name)
    assert all(r["answer_kind"] == "code" and r["domain"] == "code" for r in rows)
    if style:
        assert {CodeTests.from_json(r["answer"]).style for r in rows} == {style}
    with_solution = [r for r in rows if r["solution"]]
    verdicts = grade_many([(r["answer"], still(r["solution"]), "code") for r in with_solution])
    assert [v.reason for v in verdicts if not v.equal] == []
    assert all(v.reason.startswith("tests: passed") for v in verdicts)


def test_livecodebench_functional_and_compressed_private_tests(store):
    import_problems(store, str(DATA / "code" / "livecodebench_sample.jsonl"))
    by_key = {r["source_key"]: r for r in problems(store, "livecodebench_sample")}
    fn = CodeTests.from_json(by_key["3000"]["answer"])
    assert fn.style == "call" and fn.fn_name == "maxProfit" and len(fn.cases) == 2  # public + private
    assert fn.cases[1] == {"args": [[7, 6, 4, 3, 1]], "output": 0}
    stdin = CodeTests.from_json(by_key["abc000_a"]["answer"])
    assert [c["output"] for c in stdin.cases] == ["6\n", "162\n", "1\n"]
    right = (
        "class Solution:\n    def maxProfit(self, prices):\n        best, lo = 0, prices[0]\n"
        "        for p in prices:\n            best, lo = max(best, p - lo), min(lo, p)\n        return best"
    )
    wrong = "class Solution:\n    def maxProfit(self, prices):\n        return max(prices) - min(prices)"
    digits = "print(sum(int(c) for c in input().strip()))"
    v = grade_many(
        [
            (by_key["3000"]["answer"], still(right), "code"),
            (by_key["3000"]["answer"], still(wrong), "code"),
            (by_key["abc000_a"]["answer"], still(digits), "code"),
        ]
    )
    assert [x.equal for x in v] == [True, False, True]
    assert v[1].reason == "tests: test 1/2 failed: maxProfit([7, 1, 5, 3, 6, 4]) expected 5 got 6"


def test_io_failure_reason_names_input_expected_and_actual(store):
    import_problems(store, str(DATA / "code" / "apps_sample.jsonl"))
    row = next(r for r in problems(store, "apps_sample") if r["source_key"] == "4021")
    v = grade_many(
        [(row["answer"], still("n = int(input())\nprint(sum(map(int, input().split())) + (n == 5))"), "code")]
    )[0]
    assert not v.equal
    assert v.reason == 'tests: test 3/3 failed: input "5\\n5 4 3 2 1\\n" expected "15\\n" got "16\\n"'


def test_mbpp_failing_assert_shows_the_returned_value(store):
    import_problems(store, str(DATA / "code" / "mbpp_sample.jsonl"))
    row = next(r for r in problems(store, "mbpp_sample") if r["source_key"] == "3")
    broken = "def is_not_prime(n):\n    return n % 2 == 0"
    v = grade_many([(row["answer"], still(broken), "code")])[0]
    assert v.reason == "tests: test 1/3 failed: assert is_not_prime(2) == False (got True)"
    assert v.extracted == broken and v.gold == "3 asserts"


def test_a_bad_code_row_names_its_line_and_nothing_is_imported(store, tmp_path):
    f = tmp_path / "apps_bad.jsonl"
    good = json.loads((DATA / "code" / "apps_sample.jsonl").read_text().splitlines()[0])
    bad = dict(good, input_output=json.dumps({"inputs": ["1\n"], "outputs": []}))
    f.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(Exception, match=r"apps_bad.jsonl:2: 1 test inputs but 0 outputs"):
        import_problems(store, str(f))
    assert problems(store, "apps_bad") == []


def test_no_program_and_non_code_gold(store):
    tests = CodeTests(style="io", cases=({"input": "", "output": "1"},)).to_json()
    v = grade_many([(tests, "I think the answer is 1.", "code"), ("42", still("print(42)"), "code")])
    assert v[0].rule == "no_answer" and "no ```python code block" in v[0].reason
    assert v[1].rule == "no_answer" and "no code tests" in v[1].reason


def test_five_way_riddles_and_four_way_science_as_multiple_choice(store):
    r1 = import_problems(store, str(DATA / "choices" / "riddlesense_sample.jsonl"))
    r2 = import_problems(store, str(DATA / "choices" / "science_mc_sample.jsonl"))
    r3 = import_problems(store, str(DATA / "choices" / "gpqa_sample.csv"))
    assert (r1.layout, r2.layout, r3.layout) == ("choices", "choices", "gpqa")
    riddles = problems(store, "riddlesense_sample")
    assert {r["domain"] for r in riddles} == {"puzzle"} and {len(r["choices"]) for r in riddles} == {5}
    sand = next(r for r in riddles if "tonne bag of sand" in r["question"])
    assert sand["answer"] == "E" and sand["choices"][4] == "hole"
    assert "E) hole" in render_question(sand["question"], sand["choices"])
    science = problems(store, "science_mc_sample")
    assert {r["domain"] for r in science} == {"science"} and sorted(r["answer"] for r in science) == ["B", "C"]
    v = grade_many(
        [
            (sand["answer"], "The bag gets lighter with a hole in it. The answer is (E).", "mc"),
            (sand["answer"], "The answer is D.", "mc"),
        ]
    )
    assert [x.equal for x in v] == [True, False]


def test_more_choices_than_the_verifier_reads_is_a_row_error(store, tmp_path):
    import json as _json

    f = tmp_path / "six_way.jsonl"
    f.write_text(_json.dumps({"question": "Pick one.", "choices": list("uvwxyz"), "answer": "F"}) + "\n")
    with pytest.raises(Exception, match=r"six_way.jsonl:1: 6 choices \(expected 2 to 5"):
        import_problems(store, str(f))
