"""Decontamination: the n-gram index, the rule over the store, `problems add` warnings, `dataset build` exclusion."""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.datasets import DatasetRecipe, build_dataset, dataset_summary
from pipeline.filters import run_filters
from pipeline.filters.contamination import Detector, load_benchmark_items
from pipeline.filters.ngram_index import BenchItem, NgramIndex, normalized, words, words_with_offsets
from store.ids import problem_id, question_hash
from store.ingest import add_problems, add_trajectories

BENCH = {
    "b1": "Let $a,$ $b,$ and $c$ be positive real numbers such that $a + b + c = 12.$ Find the minimum value "
    "of \\[\\frac{1}{a} + \\frac{4}{b} + \\frac{9}{c}.\\]",
    "b2": "Suzanne walks four miles every third day. What is the fewest number of miles she can walk in February?",
    "b3": "Compute $\\dbinom{31}{28}$.",
    "b4": "The Fibonacci sequence is the sequence 1, 1, 2, 3, 5, $\\ldots$ where each term is the sum of the "
    "previous two terms. What is the remainder when the $100^{\\mathrm{th}}$ term of the sequence is "
    "divided by 4?",
}


def add(store, rows, split=None, source="train-src"):
    """Problems (question list) with one trajectory each; returns {question: (problem id, trajectory id)}."""
    out = {}
    with store.write() as conn:
        add_problems(
            conn,
            [
                {
                    "id": problem_id(source, q),
                    "source": source,
                    "question": q,
                    "question_hash": question_hash(q),
                    "answer": "1",
                    "split": split,
                    "source_key": str(i),
                }
                for i, q in enumerate(rows)
            ],
        )
        traj = []
        for q in rows:
            pid = problem_id(source, q)
            out[q] = (pid, "t" + pid.split(":")[1])
            traj.append(
                {
                    "id": out[q][1],
                    "problem_id": pid,
                    "text": "<|begin_of_thought|>\n\nWe compute.\n\n"
                    "<|end_of_thought|>\n\n<|begin_of_solution|>\n\n\\boxed{1}\n\n<|end_of_solution|>",
                    "origin": "explore",
                    "model": "m",
                    "verdict": "correct",
                }
            )
        add_trajectories(conn, traj)
    return out


@pytest.fixture
def bench_store(store):
    with store.write() as conn:
        add_problems(
            conn,
            [
                {
                    "id": f"math500:{k}",
                    "source": "math500",
                    "source_key": k,
                    "question": q,
                    "question_hash": question_hash(q),
                    "answer": "1",
                }
                for k, q in BENCH.items()
            ],
        )
    return store


def flag_rows(store):
    with store.read() as conn:
        return {
            r[0]: (r[1], json.loads(r[2]) if r[2] else None)
            for r in conn.execute(
                "SELECT trajectory_id, reason, detail FROM flag WHERE rule = 'contamination'"
            ).fetchall()
        }


def test_normalisation_drops_latex_and_case_and_keeps_offsets():
    text = r"Find $\dfrac{1}{2}+X^2$ IF 1/2"
    assert words(text) == ["find", "1", "2", "x", "2", "if", "1", "2"]
    assert normalized(r"\(\frac{1}{2}\)") == normalized("1/2") == "1 2"
    assert [text[a:b] for _, a, b in words_with_offsets(text)] == ["Find", "1", "2", "X", "2", "IF", "1", "2"]


def test_vectorised_candidates_agree_with_the_word_by_word_match():
    rng = random.Random(0)
    vocab = [f"w{i}" for i in range(30)]
    items = [BenchItem(f"p{i}", "bench", str(i), " ".join(rng.choice(vocab) for _ in range(25))) for i in range(20)]
    index = NgramIndex(items, (5,), boilerplate=10**9)
    texts = [" ".join(rng.choice(vocab) for _ in range(60)) for _ in range(50)]
    texts += [f"Intro words here. {items[3].question} And more."]
    found = index.candidates(texts, 5)
    for t, text in enumerate(texts):
        ws = words(text)
        expected = [
            p
            for p in range(len(ws) - 4)
            if any(ws[p : p + 5] == iw[b : b + 5] for iw in index.item_words for b in range(len(iw) - 4))
        ]
        assert sorted(found.get(t, [])) == expected
    m = index.best_match(texts[-1], 5, found[len(texts) - 1])
    assert m.item.problem_id == "p3" and m.score == 1.0
    assert texts[-1][m.start : m.end] == items[3].question


def test_boilerplate_ngrams_shared_by_many_benchmark_problems_are_dropped():
    shared = "express your answer as a common fraction"
    items = [BenchItem(f"p{i}", "b", None, f"problem {i} about topic{i} {shared}") for i in range(3)]
    index = NgramIndex(items, (5,), boilerplate=3)
    assert index.dropped[5] >= 3
    assert index.matches([f"Something else entirely. {shared}."], 5) == {}


def test_detector_copies_found_siblings_and_shared_phrasing_not(bench_store):
    with bench_store.read() as conn:
        det = Detector(load_benchmark_items(conn))
    framed = "Solve the following problem. " + BENCH["b1"].replace("$", "") + " Show your reasoning."
    one_word = BENCH["b2"].replace("What is", "Find", 1)
    sibling = BENCH["b4"].replace("divided by 4", "divided by 7")
    phrasing = "Let $x$ be positive real numbers such that $x^2 = 7.$ Find the minimum value of $x + 1$."
    results = det.check_questions([BENCH["b1"], framed, BENCH["b3"], one_word, sibling, phrasing])
    assert results[0].item.problem_id == "math500:b1" and results[0].method == "ngram5"
    assert results[1].item.problem_id == "math500:b1" and results[1].score >= 0.9
    assert results[2].item.problem_id == "math500:b3" and results[2].method == "fuzzy"  # 3 words: no n-gram
    assert results[3].item.problem_id == "math500:b2"
    assert results[4] is None  # other numbers: a sibling, not a copy
    assert results[5] is None  # shares phrasing only
    loose = Detector(det.items, require_numbers=False)
    assert loose.check_questions([sibling])[0].item.problem_id == "math500:b4"


def test_rule_flags_with_reason_and_span_and_skips_benchmark_rows(bench_store):
    framed = "Problem 7. " + BENCH["b1"]
    quoting = "I once saw: " + BENCH["b4"] + " That one is harder."
    made = add(bench_store, [framed, "What is 2 + 2?", "Count the primes below 30."])
    with bench_store.write() as conn:  # a trajectory quoting a benchmark problem, and one of a benchmark problem
        add_trajectories(
            conn,
            [
                {"id": "quote", "problem_id": made["What is 2 + 2?"][0], "text": quoting, "origin": "explore"},
                {"id": "evalrow", "problem_id": "math500:b1", "text": BENCH["b1"], "origin": "eval"},
            ],
        )
    report = run_filters(bench_store, ["contamination"])
    found = flag_rows(bench_store)
    assert set(found) == {made[framed][1], "quote"}
    assert report.counts[0].flagged == 2
    reason, detail = found[made[framed][1]]
    assert "math500 b1" in reason and "question" in reason
    assert detail["benchmark"] == "math500" and detail["benchmark_problem_id"] == "math500:b1"
    start, end = detail["span"]
    assert framed[start:end] == detail["span_text"] and "positive real numbers" in detail["span_text"]
    reason, detail = found["quote"]
    assert detail["field"] == "text" and detail["method"] == "ngram13" and "math500 b4" in reason
    # rowid chunks of one row (a batch rule needs no whole problems) give the same flags
    assert run_filters(bench_store, ["contamination"], chunk_size=1).counts[0].flagged == 2
    assert flag_rows(bench_store) == found
    assert quoting[detail["span"][0] : detail["span"][1]].startswith("The Fibonacci sequence")


def test_test_split_problems_are_benchmarks_and_the_benchmarks_param_narrows(store):
    made_test = add(
        store,
        ["Alice has 17 apples and gives 5 to Bob and 3 to Carol. How many are left?"],
        split="test",
        source="gen-x",
    )
    copy = add(
        store,
        ["Alice has 17 apples and gives 5 to Bob and 3 to Carol. How many are left?!"],
        split="train",
        source="gen-y",
    )
    run_filters(store, ["contamination"])
    found = flag_rows(store)
    assert list(found) == [next(iter(copy.values()))[1]]
    assert next(iter(found.values()))[1]["benchmark"] == "gen-x:test"
    assert next(iter(made_test.values()))[1] not in found
    run_filters(store, ["contamination"], params={"contamination": {"benchmarks": "math500"}})
    assert flag_rows(store) == {}


def test_dataset_build_excludes_contaminated_counts_per_benchmark_and_allow_lifts(bench_store):
    made = add(bench_store, [BENCH["b1"] + " ", "Problem: " + BENCH["b2"], "What is 2 + 2?", "Count primes below 30."])
    run_filters(bench_store, ["contamination"])
    # A contaminated problem added after the filter ran is caught by the build's own question check.
    late = add(bench_store, ["Question. " + BENCH["b4"]], source="late")
    result = build_dataset(bench_store, "d0", DatasetRecipe())
    assert result.excluded == {"contaminated": {"math500": 3}}
    with bench_store.read() as conn:
        members = {r[0] for r in conn.execute("SELECT member_id FROM dataset_member WHERE dataset = 'd0'").fetchall()}
    assert members == {made["What is 2 + 2?"][1], made["Count primes below 30."][1]}
    assert late["Question. " + BENCH["b4"]][1] not in members
    assert dataset_summary(bench_store, "d0")["excluded"] == {"contaminated": {"math500": 3}}
    allowed = build_dataset(bench_store, "d1", DatasetRecipe(allow=["contaminated"]))
    assert allowed.size == 5 and allowed.excluded == {}
    # other flags still exclude with the default exclude_flags ["*"]; contamination ones are counted apart
    child = build_dataset(bench_store, "d2", DatasetRecipe(parent="d1"))
    assert child.inherited == 2 and child.excluded == {"contaminated": {"math500": 3}}
    with pytest.raises(ValueError, match="unknown exclusion"):
        DatasetRecipe(allow=["nope"])


def test_cli_problems_add_warns_and_dataset_show_prints_removed(tmp_path, db_path, shared_data):
    bench = tmp_path / "mine_train.jsonl"
    rows = [json.loads(line) for line in (shared_data / "benchmarks" / "math500.jsonl").open()][:3]
    bench.write_text(
        "".join(json.dumps({"problem": "Problem: " + r["problem"], "answer": r["answer"]}) + "\n" for r in rows)
        + json.dumps({"problem": "What is 2 + 2?", "answer": "4"})
        + "\n"
    )
    runner = CliRunner()
    first = runner.invoke(app, ["problems", "add", str(bench), "--db", str(db_path)])
    assert first.exit_code == 0 and "warning" not in first.output
    second = runner.invoke(
        app, ["problems", "add", str(shared_data / "benchmarks" / "math500.jsonl"), "--db", str(db_path)]
    )
    assert second.exit_code == 0, second.output
    assert "3 train problem(s) match benchmark/test problems" in " ".join(second.output.split())
    assert rows[0]["unique_id"] in second.output
    from store import Store

    store = Store(db_path)
    with store.read() as conn:
        train = conn.execute("SELECT id FROM problem WHERE source = 'mine' ORDER BY id").fetchall()
    with store.write() as conn:
        add_trajectories(
            conn,
            [
                {"id": f"t{i}", "problem_id": pid, "text": "\\boxed{1}", "origin": "explore", "verdict": "correct"}
                for i, (pid,) in enumerate(train)
            ],
        )
    out = runner.invoke(app, ["filter", "--rules", "contamination", "--db", str(db_path), "--json"])
    assert json.loads(out.stdout)["rules"][0]["flagged"] == 3
    built = runner.invoke(app, ["dataset", "build", "d0", "--db", str(db_path), "--json"])
    assert json.loads(built.stdout)["excluded"] == {"contaminated": {"math500": 3}}
    shown = runner.invoke(app, ["dataset", "show", "d0", "--db", str(db_path)])
    assert "contaminated" in shown.output and "math500" in shown.output
