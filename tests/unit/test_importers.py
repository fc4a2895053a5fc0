"""Importers on the real shared files and on crafted bad input: counts, splits, verdicts, errors, idempotence."""

from __future__ import annotations

import json

import pytest

from store.formats.errors import ImportFailed
from store.importer import import_problems, import_trajectories

BENCHMARKS = {
    "aime24.jsonl": (30, "math"),
    "aime25.jsonl": (30, "prompt"),
    "amc23.jsonl": (40, "math"),
    "gsm8k_test.jsonl": (1319, "gsm8k"),
    "math500.jsonl": (500, "math"),
}


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_benchmark_files_import_with_answers(store, shared_data, name):
    rows, layout = BENCHMARKS[name]
    report = import_problems(store, str(shared_data / "benchmarks" / name))
    assert (report.rows_read, report.added, report.layout) == (rows, rows, layout)
    with store.read() as conn:
        assert conn.execute("SELECT count(*), count(answer) FROM problem").fetchone() == (rows, rows)


def test_aime_answers_are_integers_without_leading_zeros(store, shared_data):
    import_problems(store, str(shared_data / "benchmarks" / "aime24.jsonl"))
    raw = [json.loads(line) for line in open(shared_data / "benchmarks" / "aime24.jsonl")]
    padded = [r for r in raw if r["answer"].startswith("0")]
    assert padded, "the file has zero-padded answers such as 025"
    with store.read() as conn:
        answers = dict(conn.execute("SELECT source_key, answer FROM problem").fetchall())
        kinds = {r[0] for r in conn.execute("SELECT DISTINCT answer_kind FROM problem").fetchall()}
    assert kinds == {"int"}
    for r in padded:
        assert answers[str(r["id"])] == str(int(r["answer"]))


def test_aime25_prompt_suffix_is_stripped(store, shared_data):
    import_problems(store, str(shared_data / "benchmarks" / "aime25.jsonl"))
    with store.read() as conn:
        questions = [r[0] for r in conn.execute("SELECT question FROM problem").fetchall()]
    assert questions and not any("Please reason step by step" in q for q in questions)


def test_gsm8k_answer_is_the_final_number_and_split_from_name(store, shared_data):
    import_problems(store, str(shared_data / "benchmarks" / "gsm8k_test.jsonl"))
    with store.read() as conn:
        answer, split, solution, source = conn.execute(
            "SELECT answer, split, solution, source FROM problem WHERE question LIKE 'Janet%ducks%'"
        ).fetchone()
    assert (answer, split, source) == ("18", "test", "gsm8k")
    assert "####" not in solution


def test_math_train_hard_has_three_rows_without_answer(store, shared_data):
    path = str(shared_data / "benchmarks" / "math_train_hard.jsonl")
    with pytest.raises(ImportFailed) as exc:
        import_problems(store, path)
    assert [e.line for e in exc.value.errors] == [224, 236, 276]
    assert "math_train_hard.jsonl:224" in str(exc.value)
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM problem").fetchone()[0] == 0  # all or nothing
    report = import_problems(store, path, skip_bad=True)
    assert (report.added, len(report.skipped)) == (408, 3)


@pytest.mark.parametrize(
    "name,rows,correct,with_solution",
    [
        ("trajectories_skyt1_32b_aime24.jsonl", 30, 9, 19),
        ("trajectories_skyt1_14b_amc23.jsonl", 40, 22, 24),
    ],
)
def test_skyt1_trajectories_import(store, shared_data, name, rows, correct, with_solution):
    bench = "aime24.jsonl" if "aime24" in name else "amc23.jsonl"
    import_problems(store, str(shared_data / "benchmarks" / bench))
    report = import_trajectories(store, str(shared_data / "trajectories" / name))
    assert (report.added, report.problems_matched, report.problems_added) == (rows, rows, 0)
    source = [json.loads(line) for line in open(shared_data / "trajectories" / name)]
    with store.read() as conn:
        got = conn.execute("""SELECT count(*), count(*) FILTER (WHERE harness_correct), count(solution),
                                     count(DISTINCT origin) FROM trajectory""").fetchone()
        by_line = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT source_line, text, harness_pred, harness_correct, thought, solution FROM trajectory"
            ).fetchall()
        }
    assert got == (rows, correct, with_solution, 1)
    for line, row in enumerate(source, start=1):
        text, pred, ok, thought, solution = by_line[line]
        assert text == row["code"][0] and pred == row["pred"][0] and ok == row["score"][0]
        if "<|end_of_thought|>" in text:
            inner = text.split("<|begin_of_thought|>", 1)[1].split("<|end_of_thought|>", 1)[0].strip()
            assert thought == inner
            assert solution is not None and solution in text
        else:
            assert solution is None


def test_importing_twice_adds_nothing(store, shared_data):
    path = str(shared_data / "trajectories" / "trajectories_skyt1_14b_amc23.jsonl")
    first = import_trajectories(store, path)
    second = import_trajectories(store, path)
    assert (first.added, first.problems_added) == (40, 40)
    assert (second.added, second.problems_added, second.problems_matched) == (0, 0, 40)


def test_trajectory_without_stored_problem_creates_one_with_gold(store, tmp_path):
    f = tmp_path / "pr.jsonl"
    f.write_text(
        json.dumps({"prompt": "What is 2+2?", "response": "<think>2+2=4</think>The answer is 4.", "answer": "4"}) + "\n"
    )
    report = import_trajectories(store, str(f), model="m1")
    assert (report.added, report.problems_added, report.layout) == (1, 1, "prompt-response")
    with store.read() as conn:
        row = conn.execute("SELECT gold, thought, solution, format_style, model, origin FROM trajectories").fetchone()
    assert row == ("4", "2+2=4", "The answer is 4.", "r1", "m1", "import")


def test_messages_and_sharegpt_layouts(store, tmp_path):
    f = tmp_path / "chat.jsonl"
    rows = [
        {
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": "Q1"},
                {"role": "assistant", "content": "A1"},
            ]
        },
        {"conversations": [{"from": "human", "value": "Q2"}, {"from": "gpt", "value": "A2"}]},
    ]
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = import_trajectories(store, str(f))
    assert report.added == 2
    with store.read() as conn:
        got = sorted(conn.execute("SELECT question, text FROM trajectories").fetchall())
    assert got == [("Q1", "A1"), ("Q2", "A2")]


def test_still2_release_layout_is_distill(store, tmp_path):
    f = tmp_path / "still.jsonl"
    text = "<|begin_of_thought|>\n\nstep\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n42\n\n<|end_of_solution|>"
    f.write_text(json.dumps({"question": "Q", "combined_text": text, "domain": "puzzle"}) + "\n")
    import_trajectories(store, str(f))
    with store.read() as conn:
        assert conn.execute("SELECT origin, domain, thought, solution FROM trajectories").fetchone() == (
            "distill",
            "puzzle",
            "step",
            "42",
        )


def test_bad_json_line_names_file_and_line_and_imports_nothing(store, tmp_path):
    f = tmp_path / "bad.jsonl"
    good = json.dumps({"problem": "Q", "answer": "1"})
    f.write_text(f"{good}\n\n{{not json\n{json.dumps({'problem': 'Q2', 'answer': '2'})}\n[1, 2]\n")
    with pytest.raises(ImportFailed) as exc:
        import_problems(store, str(f))
    assert [e.line for e in exc.value.errors] == [3, 5]
    assert f"{f}:3: invalid JSON" in str(exc.value)
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM problem").fetchone()[0] == 0
    report = import_problems(store, str(f), skip_bad=True)
    assert report.added == 2 and [e.line for e in report.skipped] == [3, 5]


def test_csv_gpqa_options_shuffled_with_recorded_seed(store, tmp_path):
    import csv

    f = tmp_path / "gpqa_diamond.csv"
    with open(f, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "Record ID",
                "Question",
                "Correct Answer",
                "Incorrect Answer 1",
                "Incorrect Answer 2",
                "Incorrect Answer 3",
                "High-level domain",
                "Subdomain",
            ]
        )
        for i in range(8):
            w.writerow([f"rec{i}", f"Which is right {i}?", "right", "w1", "w2", "w3", "Physics", "Optics"])
    import_problems(store, str(f), seed=7)
    with store.read() as conn:
        rows = conn.execute("SELECT answer, choices, answer_kind, domain, meta FROM problem").fetchall()
    letters = set()
    for answer, choices, kind, domain, meta in rows:
        assert (kind, domain) == ("mc", "science")
        assert choices["ABCD".index(answer)] == "right" and sorted(choices) == ["right", "w1", "w2", "w3"]
        assert json.loads(meta)["shuffle_seed"].startswith("7:")
        letters.add(answer)
    assert len(letters) > 1  # the correct option is not always A
    store2_answers = [r[0] for r in rows]
    from store import Store

    again = Store(store.path + "2.duckdb")
    import_problems(again, str(f), seed=7)
    with again.read() as conn:
        assert [r[0] for r in conn.execute("SELECT answer FROM problem").fetchall()] == store2_answers


def test_csv_bad_row_names_line(store, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("question,answer\nQ1,1\nQ2,2,extra\n")
    with pytest.raises(ImportFailed, match=r"p.csv:3: more fields"):
        import_problems(store, str(f))


def test_field_override(store, tmp_path):
    f = tmp_path / "custom.jsonl"
    f.write_text(json.dumps({"Problem": "What is 3+3?", "Final": 6}) + "\n")
    with pytest.raises(ImportFailed, match="--field question=COLUMN"):
        import_problems(store, str(f))
    report = import_problems(store, str(f), field_map={"question": "Problem", "answer": "Final"})
    assert report.added == 1


def test_parquet_and_hf_dataset_sources(store, tmp_path):
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"problem": f"Q{i}", "answer": str(i)} for i in range(5)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "p.parquet")
    datasets.Dataset.from_list(rows[:3] + [{"problem": "Q9", "answer": "9"}]).save_to_disk(str(tmp_path / "hfds"))
    assert import_problems(store, str(tmp_path / "p.parquet"), source="s").added == 5
    assert import_problems(store, str(tmp_path / "hfds"), source="s").added == 1
