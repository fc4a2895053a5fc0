"""Filter rules on the real Sky-T1 outputs and on crafted cases: each flag and its reason, re-runs, CLI."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.filters import RULES, parse_params, run_filters
from store.ids import imported_id
from store.importer import import_trajectories
from store.ingest import add_problems, add_trajectories
from store.trajectory_format import parse_response, to_still

LOOPING = "9b4856e18f7d3b34"  # AIME: "For n=5, k=1: ..." repeated 463 times, cut at the length limit
SHORT_REAL = "c9fff89589da2e8d"  # the shortest real response (3,191 chars), well formed


def put(store, texts, *, problem="p1", question="What is 1+1?", verdicts=None, answer_kind="math"):
    """Add a problem and trajectories with the given texts; returns their ids in order."""
    rows = []
    for i, text in enumerate(texts):
        parsed = parse_response(text)
        rows.append(
            {
                "id": imported_id(problem, "m", "explore", f"{i}\x00{text}"),
                "problem_id": problem,
                "text": text,
                "thought": parsed.thought,
                "solution": parsed.solution,
                "format_style": parsed.style,
                "format_flags": list(parsed.flags),
                "origin": "explore",
                "model": "m",
                "verdict": (verdicts or ["correct"] * len(texts))[i],
            }
        )
    with store.write() as conn:
        add_problems(
            conn,
            [
                {
                    "id": problem,
                    "source": "t",
                    "question": question,
                    "question_hash": problem,
                    "answer": "2",
                    "answer_kind": answer_kind,
                }
            ],
        )
        add_trajectories(conn, rows)
    return [r["id"] for r in rows]


def flags(store, rule=None):
    with store.read() as conn:
        sql = "SELECT trajectory_id, rule, reason FROM flag" + (" WHERE rule = ?" if rule else "")
        return {(r[0], r[1]): r[2] for r in conn.execute(sql, [rule] if rule else []).fetchall()}


def reason(store, tid, rule):
    return flags(store, rule).get((tid, rule))


def prose(n_words=400, seed=0):
    import random

    rng = random.Random(seed)
    vocab = (
        "we compute the sum of both sides then divide by two and check each case carefully "
        "since x must be positive integer so next consider remaining values after factoring"
    ).split()
    return " ".join(rng.choice(vocab) + ("." if rng.random() < 0.1 else "") for _ in range(n_words))


GOOD_SOLUTION = "Adding the two numbers gives the result.\n\nThe final answer is $\\boxed{2}$."


@pytest.fixture
def real(store, shared_data):
    for name in ("trajectories_skyt1_14b_amc23.jsonl", "trajectories_skyt1_32b_aime24.jsonl"):
        import_trajectories(store, str(shared_data / "trajectories" / name))
    return store


@pytest.fixture(scope="module")
def real_all(tmp_path_factory):
    """The real files with every rule run once (shared by the read-only assertions below)."""
    from store import Store
    from tests.conftest import SHARED

    if not (SHARED / "data").exists():
        pytest.skip("../shared/data is not present")
    store = Store(tmp_path_factory.mktemp("real") / "store.duckdb")
    for name in ("trajectories_skyt1_14b_amc23.jsonl", "trajectories_skyt1_32b_aime24.jsonl"):
        import_trajectories(store, str(SHARED / "data" / "trajectories" / name))
    with store.read() as conn:
        before = conn.execute("SELECT id, text, status, verdict FROM trajectory ORDER BY id").fetchall()
    report = run_filters(store)
    yield store, report, before
    store.close()


# -- real data -------------------------------------------------------------------------------------
def test_real_files_flag_loops_truncations_and_missing_answers(real_all):
    real, report, _ = real_all
    counts = {c.rule: c.flagged for c in report.counts}
    assert report.covered == 70
    assert counts == {
        "repetition": 27,
        "gibberish": 0,
        "language_mix": 0,
        "too_short": 0,
        "too_long": 0,
        "format": 27,
        "duplicate": 0,
        "near_duplicate": 0,
        "no_answer": 27,
        "contamination": 0,
    }
    with real.read() as conn:
        truncated = {
            r[0]
            for r in conn.execute("SELECT id FROM trajectory WHERE list_contains(format_flags, 'truncated')").fetchall()
        }
    found = flags(real)
    # Every truncated Sky-T1 output is a loop that ran into the length limit, and only those.
    for rule in ("repetition", "format", "no_answer"):
        assert {tid for tid, r in found if r == rule} == truncated
    assert '×463: "For n=5, k=1: C(4,0) + 1 = 1 + 1 = 2, but it should be 7."' in reason(real, LOOPING, "repetition")
    assert reason(real, LOOPING, "repetition").startswith("90% of 15,576 words in 20-word sequences repeated ≥3×")
    assert reason(real, LOOPING, "format") == (
        "missing_end_thought, missing_begin_solution, missing_end_solution, "
        "missing_solution, truncated (no solution; cut off inside a section)"
    )
    assert reason(real, LOOPING, "no_answer") == "no solution section to take a final answer from"


def test_real_trajectories_are_never_modified(real_all):
    real, _, before = real_all
    with real.read() as conn:
        assert conn.execute("SELECT id, text, status, verdict FROM trajectory ORDER BY id").fetchall() == before


def test_real_untagged_and_duplicated_outputs(real):
    with real.read() as conn:
        text = conn.execute("SELECT text FROM trajectory WHERE id = ?", [SHORT_REAL]).fetchone()[0]
    for tag in ("<|begin_of_thought|>", "<|end_of_thought|>", "<|begin_of_solution|>", "<|end_of_solution|>"):
        text = text.replace(tag, "")
    edited = " ".join(w if i % 100 != 50 else "CHANGED" for i, w in enumerate(text.split(" ")))
    untagged, copy, near = put(
        real, [text, text, edited], problem="p-untagged", question="Find the sum of the real roots."
    )
    run_filters(real, where="problem_id = 'p-untagged'")
    assert reason(real, untagged, "format") == "no_tags, missing_solution (no tags at all; no solution)"
    assert reason(real, untagged, "no_answer") == "no solution section to take a final answer from"
    duplicates = {tid for tid, r in flags(real, "duplicate")}
    assert len(duplicates) == 1 and duplicates <= {untagged, copy}
    kept = ({untagged, copy} - duplicates).pop()
    assert reason(real, duplicates.pop(), "duplicate") == (
        f"exact duplicate of {kept} (same text after whitespace normalisation)"
    )
    near_flags = {tid: r for (tid, _), r in flags(real, "near_duplicate").items()}
    assert len(near_flags) == 2
    (unflagged,) = {untagged, copy, near} - set(near_flags)
    jaccards = sorted(
        re.fullmatch(
            rf"near duplicate of {unflagged} \(estimated Jaccard (\d\.\d\d) over 5-word "
            r"shingles ≥ 0\.8\)",
            r,
        ).group(1)
        for r in near_flags.values()
    )
    assert "0.85" <= jaccards[0] < "0.98" and jaccards[1] == "1.00"


def test_rerun_with_changed_threshold_replaces_flags(real):
    run_filters(real, ["too_short"], params={"too_short": {"min_thought_chars": 5000}})
    strict = flags(real, "too_short")
    with real.read() as conn:
        short = {r[0] for r in conn.execute("SELECT id FROM trajectory WHERE thought_chars < 5000").fetchall()}
        params = conn.execute("SELECT DISTINCT params FROM flag WHERE rule = 'too_short'").fetchall()
    assert {tid for tid, _ in strict} == short and len(short) == 18
    assert reason(real, SHORT_REAL, "too_short") == "thought 2428 chars < 5000"
    assert json.loads(params[0][0])["min_thought_chars"] == 5000
    run_filters(real, ["too_short"], params={"too_short": {"min_thought_chars": 3500}})
    assert 0 < len(flags(real, "too_short")) < len(strict)
    run_filters(real, ["too_short"])
    assert flags(real, "too_short") == {}
    run_filters(real, ["repetition"])
    run_filters(real, ["repetition"], params={"repetition": {"max_ratio": 0.95, "max_line_ratio": 0.95}})
    assert {tid for tid, _ in flags(real, "repetition")} == {
        "0c298ec3a8b053a7",
        "6f074038429de2a7",
        "55b9936b0e998b85",
        "0716b10d68166cde",
    }


def test_where_limits_which_flags_are_replaced(real):
    run_filters(real, ["format"])
    run_filters(
        real,
        ["format"],
        where="id = '9b4856e18f7d3b34'",
        params={
            "format": {
                "ignore": "truncated,missing_end_thought,missing_begin_solution,missing_end_solution,missing_solution"
            }
        },
    )
    assert len(flags(real, "format")) == 26 and (LOOPING, "format") not in flags(real, "format")


# -- crafted cases ---------------------------------------------------------------------------------
def test_repetition_crafted(store):
    loop = "Let me check the case n = 3 again, since it should give seven."
    looping = to_still(prose(200) + "\n\n" + "\n\n".join([loop] * 60), GOOD_SOLUTION)
    fine = to_still(prose(600, seed=1), GOOD_SOLUTION)
    a, b = put(store, [looping, fine])
    run_filters(store, ["repetition"])
    assert set(flags(store)) == {(a, "repetition")}
    assert f'most repeated line ×60: "{loop}"' in reason(store, a, "repetition")


def test_repetition_ngram_without_line_breaks(store):
    phrase = "so the total is the sum of a and b which we already found to be twelve so "
    text = to_still(prose(100) + " " + phrase * 30, GOOD_SOLUTION)
    (a,) = put(store, [text])
    run_filters(store, ["repetition"])
    r = reason(store, a, "repetition")
    assert "20-word sequences repeated ≥3×" in r and "most repeated line ×" not in r
    assert "most repeated 20-gram ×" in r


def test_gibberish_crafted(store):
    symbols = to_still("#$%&*!@^ " * 80 + "ok", GOOD_SOLUTION)
    long_word = to_still(prose(200) + " " + "x9" * 150, GOOD_SOLUTION)
    broken = to_still(prose(200) + " caf\ufffd \x07", GOOD_SOLUTION)
    tiny_vocab = to_still(prose(100) + " " + " ".join(["the", "the", "the", "a"] * 50), GOOD_SOLUTION)
    ok = to_still(prose(400) + " \\frac{a}{b} = \\sqrt{x^2+1}", GOOD_SOLUTION)
    ids = put(store, [symbols, long_word, broken, tiny_vocab, ok])
    run_filters(store, ["gibberish"])
    got = {tid: r for (tid, _), r in flags(store, "gibberish").items()}
    assert set(got) == set(ids[:4])
    assert "of characters are symbols (> 50%)" in got[ids[0]]
    assert 'a 300-character word "x9x9' in got[ids[1]]
    assert got[ids[2]] == "2 replacement/control characters (U+0007, U+FFFD)"
    assert "100-word window with only 2% distinct words" in got[ids[3]]


def test_language_mix_crafted(store):
    en = put(
        store,
        [to_still(prose(300) + " 因此我们得到答案是二。", GOOD_SOLUTION), to_still(prose(300), GOOD_SOLUTION)],
        problem="en",
        question="What is 1+1?",
    )
    zh_prose = "我们先计算两边的和然后除以二再逐一检查每种情况因为变量必须是正整数" * 4
    zh = put(
        store,
        [
            to_still(zh_prose + " $x^2 + y = 3$ \\frac{a}{b}", "所以答案是 $\\boxed{2}$。"),
            to_still(
                zh_prose + " Let me think in English about this problem carefully now, "
                "because the numbers are small and the cases are few.",
                "$\\boxed{2}$",
            ),
        ],
        problem="zh",
        question="计算一加一等于多少？",
    )
    run_filters(store, ["language_mix"])
    got = {tid: r for (tid, _), r in flags(store, "language_mix").items()}
    assert set(got) == {en[0], zh[1]}
    assert got[en[0]].startswith("English problem, 11 CJK characters (0.7% of letters)")
    assert got[en[0]].endswith('e.g. "因此我们得到答案是二。"')
    assert got[zh[1]].startswith("Chinese problem,") and 'e.g. "Let me think in English' in got[zh[1]]


def test_too_short_thought_and_solution_separately(store):
    ids = put(
        store,
        [
            to_still("tiny thought", GOOD_SOLUTION),
            to_still(prose(400), "$\\boxed{2}$"),
            to_still(prose(400), GOOD_SOLUTION),
            "<|begin_of_thought|>\n\n" + prose(400),
        ],
    )
    run_filters(store, ["too_short"])
    got = {tid: r for (tid, _), r in flags(store, "too_short").items()}
    assert got == {ids[0]: "thought 12 chars < 1000", ids[1]: "solution 11 chars < 50"}
    run_filters(
        store,
        ["too_short"],
        params={
            "too_short": {
                "min_thought_chars": 0,
                "min_solution_chars": 0,
                "min_thought_tokens": 500,
                "min_solution_tokens": 5,
            }
        },
    )
    got = {tid: r for (tid, _), r in flags(store, "too_short").items()}
    assert got[ids[0]] == "thought 2 tokens < 500; solution 3 tokens < 5" or got[ids[0]].startswith("thought 2 tokens")
    assert set(got) == {ids[0], ids[1], ids[2], ids[3]} and "tokens < 500" in got[ids[3]]


def test_format_crafted(store):
    ids = put(
        store,
        [
            to_still(prose(50), GOOD_SOLUTION),
            "<think>" + prose(50) + "</think>" + GOOD_SOLUTION,
            "<|begin_of_solution|>x<|end_of_solution|><|begin_of_thought|>y<|end_of_thought|>",
            "<|begin_of_thought|>\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n2\n\n<|end_of_solution|>",
        ],
    )
    run_filters(store, ["format"])
    got = {tid: r for (tid, _), r in flags(store, "format").items()}
    assert set(got) == {ids[2], ids[3]}
    assert "tags_out_of_order" in got[ids[2]]
    assert got[ids[3]] == "empty_thought (empty thought)"
    run_filters(store, ["format"], params={"format": {"allow_r1": False}})
    assert flags(store, "format")[(ids[1], "format")] == "r1_think"


def test_no_answer_crafted(store):
    ids = put(
        store,
        [
            to_still(prose(50), GOOD_SOLUTION),
            to_still(prose(50), "So the answer is 2."),
            to_still(prose(50), "We are done with the computation, which shows the claim."),
            "<|begin_of_thought|>\n\n" + prose(50),
        ],
    )
    run_filters(store, ["no_answer"])
    got = {tid: r for (tid, _), r in flags(store, "no_answer").items()}
    assert got == {
        ids[2]: "no \\boxed{} or final-answer statement in the solution",
        ids[3]: "no solution section to take a final answer from",
    }


def test_no_answer_for_code_means_no_program(store):
    ids = put(
        store,
        [
            to_still(prose(50), "Here it is:\n```python\ndef f(x):\n    return x\n```"),
            to_still(prose(50), "The function returns x, so the answer is \\boxed{x}."),
            to_still(prose(50), "```cpp\nint f(int x) { return x; }\n```"),
        ],
        problem="c1",
        question="Write f.",
        answer_kind="code",
    )
    run_filters(store, ["no_answer"])
    got = {tid: r for (tid, _), r in flags(store, "no_answer").items()}
    assert set(got) == {ids[1], ids[2]}
    assert got[ids[2]].startswith("no program in the solution") and "cpp" in got[ids[2]]


def test_duplicates_keep_correct_copy_and_compare_only_within_a_problem(store):
    base = to_still(prose(300), GOOD_SOLUTION)
    wrong, right = put(store, [base, base.replace(" ", "  ")], verdicts=["incorrect", "correct"])
    (other,) = put(store, [base], problem="p2")
    run_filters(store, ["duplicate", "near_duplicate"])
    assert flags(store) == {
        (wrong, "duplicate"): f"exact duplicate of {right} (same text after whitespace normalisation)",
        (wrong, "near_duplicate"): f"near duplicate of {right} (estimated Jaccard 1.00 over 5-word shingles ≥ 0.8)",
    }
    assert other not in {tid for tid, _ in flags(store)}


def test_near_duplicate_threshold(store):
    text = prose(400, seed=3)
    words = text.split()
    edited = " ".join(w if i % 40 else "CHANGED" for i, w in enumerate(words))
    a, b = put(store, [to_still(text, GOOD_SOLUTION), to_still(edited, GOOD_SOLUTION)])
    run_filters(store, ["near_duplicate"])
    assert len(flags(store, "near_duplicate")) == 1
    run_filters(store, ["near_duplicate"], params={"near_duplicate": {"threshold": 0.95}})
    assert flags(store, "near_duplicate") == {}


# -- parameters and CLI ----------------------------------------------------------------------------
def test_params_are_typed_and_checked():
    assert parse_params(["repetition.max_ratio=0.5", "format.allow_r1=false", "too_short.min_thought_chars=10"]) == {
        "repetition": {"max_ratio": 0.5},
        "format": {"allow_r1": False},
        "too_short": {"min_thought_chars": 10},
    }
    with pytest.raises(ValueError, match="has no parameter 'nope'"):
        parse_params(["repetition.nope=1"])
    with pytest.raises(ValueError, match="unknown rule"):
        parse_params(["loops.n=3"])
    with pytest.raises(ValueError, match="RULE.KEY=VALUE"):
        parse_params(["repetition=3"])


def test_every_rule_has_a_docstring_and_defaults():
    assert list(RULES) == [
        "repetition",
        "gibberish",
        "language_mix",
        "too_short",
        "too_long",
        "format",
        "duplicate",
        "near_duplicate",
        "no_answer",
        "contamination",
    ]
    for rule in RULES.values():
        assert len(rule.doc) > 40, rule.name


def test_cli_filter_json_and_table(real, db_path):
    runner = CliRunner()
    result = runner.invoke(
        app, ["filter", "--db", str(db_path), "--rules", "repetition,format", "--param", "repetition.n=30", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {r["rule"]: r["flagged"] for r in report["rules"]} == {"repetition": 27, "format": 27}
    assert report["rules"][0]["params"]["n"] == 30
    result = runner.invoke(app, ["filter", "--db", str(db_path), "--rules", "too_short", "--where", "origin = 'eval'"])
    assert result.exit_code == 0 and "too_short" in result.output
    bad = runner.invoke(app, ["filter", "--db", str(db_path), "--rules", "nope"])
    assert bad.exit_code == 1 and "unknown rule(s): nope" in bad.output
    listing = runner.invoke(app, ["filter", "--list", "--json"])
    assert {r["rule"] for r in json.loads(listing.stdout)} == set(RULES)


def test_too_long_flags_long_and_cut_responses(store):
    from store.ingest import add_problems, add_trajectories

    with store.write() as conn:
        add_problems(conn, [{"id": "p", "source": "s", "question": "Q?", "question_hash": "p", "answer": "1"}])
        add_trajectories(
            conn,
            [
                {
                    "id": "fits",
                    "problem_id": "p",
                    "text": "a",
                    "origin": "explore",
                    "n_tokens": 100,
                    "finish_reason": "stop",
                },
                {
                    "id": "long",
                    "problem_id": "p",
                    "text": "b",
                    "origin": "explore",
                    "n_tokens": 101,
                    "finish_reason": "stop",
                },
                {
                    "id": "cut",
                    "problem_id": "p",
                    "text": "c",
                    "origin": "explore",
                    "n_tokens": 50,
                    "finish_reason": "length",
                },
            ],
        )
    run_filters(store, ["too_long"], params={"too_long": {"max_tokens": 100}})
    assert {tid for tid, _ in flags(store)} == {"long", "cut"}
    assert reason(store, "long", "too_long") == "response 101 tokens > 100"
    assert reason(store, "cut", "too_long") == "generation stopped at its token limit"
