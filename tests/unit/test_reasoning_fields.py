"""A teacher's split-out reasoning (`reasoning_content` / `reasoning`) is the thought, wherever it enters:
the OpenAI-compatible engine (distill against a stub server), and import of JSONL / messages / HF records."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from store.importer import import_trajectories
from store.trajectory_format import BEGIN_SOLUTION, END_THOUGHT, parse_response, to_still, with_reasoning
from tests.unit.test_engines_openai import StubServer

cli = CliRunner()


# -- the layout mapping ---------------------------------------------------------------------------
def test_reasoning_is_the_thought_and_content_the_solution():
    text = with_reasoning("So the answer is $\\boxed{4}$.", "  Let me add 2 and 2.\n\nThat is 4.  ")
    parsed = parse_response(text)
    assert parsed.style == "still" and parsed.well_formed
    assert parsed.thought == "Let me add 2 and 2.\n\nThat is 4."
    assert parsed.solution == "So the answer is $\\boxed{4}$."


def test_no_reasoning_leaves_the_content_alone():
    assert with_reasoning("<think>x</think>y", None) == "<think>x</think>y"
    assert with_reasoning("plain", "  \n") == "plain"


def test_reasoning_cut_at_the_length_limit_stays_an_open_thought():
    parsed = parse_response(with_reasoning("", "I was thinking and then", truncated=True))
    assert parsed.thought == "I was thinking and then" and parsed.solution is None
    assert "truncated" in parsed.flags and "missing_end_thought" in parsed.flags
    # finished thinking but no answer: a closed thought without a solution (what `complete` fills)
    parsed = parse_response(with_reasoning("", "done thinking"))
    assert parsed.thought == "done thinking" and "missing_solution" in parsed.flags
    assert "truncated" not in parsed.flags


def test_content_with_its_own_solution_tags_gives_its_solution():
    content = f"{BEGIN_SOLUTION}\n\nx = 3\n\n<|end_of_solution|>"
    parsed = parse_response(with_reasoning(content, "think"))
    assert (parsed.thought, parsed.solution) == ("think", "x = 3") and parsed.well_formed


# -- import -----------------------------------------------------------------------------------------
def _thought_solution(store):
    with store.read() as conn:
        return conn.execute("""SELECT thought, solution, format_style, meta->>'reasoning_content',
                               meta->>'raw_content' FROM trajectory ORDER BY source_line""").fetchall()


def test_import_jsonl_reasoning_content_and_reasoning(store, tmp_path):
    path = tmp_path / "r1.jsonl"
    rows = [
        {
            "problem": "What is 2+2?",
            "answer": "4",
            "reasoning_content": "Two plus two.\n\nIs four.",
            "response": "The answer is $\\boxed{4}$.",
        },
        {"problem": "What is 3+3?", "answer": "6", "reasoning": "Three and three.", "response": "$\\boxed{6}$"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = import_trajectories(store, str(path))
    assert report.added == 2
    got = _thought_solution(store)
    assert got[0] == (
        "Two plus two.\n\nIs four.",
        "The answer is $\\boxed{4}$.",
        "still",
        "Two plus two.\n\nIs four.",
        "The answer is $\\boxed{4}$.",
    )
    assert got[1][:3] == ("Three and three.", "$\\boxed{6}$", "still")
    # idempotent: the same file adds nothing
    assert import_trajectories(store, str(path)).added == 0


def test_import_messages_with_reasoning_on_the_assistant_turn(store, tmp_path):
    path = tmp_path / "msgs.jsonl"
    row = {
        "messages": [
            {"role": "user", "content": "What is 5-1?"},
            {"role": "assistant", "content": "It is $\\boxed{4}$.", "reasoning_content": "Five less one."},
        ],
        "answer": "4",
    }
    path.write_text(json.dumps(row) + "\n")
    import_trajectories(store, str(path))
    thought, solution, style, *_ = _thought_solution(store)[0]
    assert (thought, solution, style) == ("Five less one.", "It is $\\boxed{4}$.", "still")


def test_import_hf_dataset_with_reasoning_column(store, tmp_path):
    import datasets

    datasets.Dataset.from_list(
        [{"question": "What is 7+1?", "answer": "8", "reasoning_content": "Seven, eight.", "output": "$\\boxed{8}$"}]
    ).save_to_disk(str(tmp_path / "hf"))
    import_trajectories(store, str(tmp_path / "hf"))
    assert _thought_solution(store)[0][:3] == ("Seven, eight.", "$\\boxed{8}$", "still")


def test_import_think_layout_keeps_its_thought(store, tmp_path):
    path = tmp_path / "think.jsonl"
    path.write_text(
        json.dumps(
            {"problem": "What is 1+1?", "answer": "2", "response": "<think>one and one</think>\n\nSo $\\boxed{2}$."}
        )
        + "\n"
    )
    import_trajectories(store, str(path))
    thought, solution, style, reasoning, raw = _thought_solution(store)[0]
    assert (thought, solution, style, reasoning, raw) == ("one and one", "So $\\boxed{2}$.", "r1", None, None)


# -- distill through the OpenAI-compatible engine ---------------------------------------------------
GOLD = {"What is 6 times 7?": "42", "What is 9 plus 10?": "19"}


def _teacher(question, k):
    """An R1-API-like teacher: the long thought in reasoning_content, the final answer in content."""
    gold = GOLD[question]
    return (
        f"The result is $\\boxed{{{gold}}}$.",
        f"Let me work out: {question}\n\nRollout {k}: I compute carefully.\n\nSo it is {gold}.",
    )


@pytest.fixture
def problems_file(tmp_path):
    path = tmp_path / "probs.jsonl"
    path.write_text("".join(json.dumps({"problem": q, "answer": a}) + "\n" for q, a in GOLD.items()))
    return path


def test_distill_keeps_the_teachers_thought_and_exports_it_in_still_tags(db_path, problems_file, tmp_path):
    from store import Store

    assert (
        cli.invoke(
            app, ["problems", "add", str(problems_file), "--source", "t", "--split", "train", "--db", str(db_path)]
        ).exit_code
        == 0
    )
    with StubServer(reply=_teacher) as stub:
        result = cli.invoke(
            app,
            [
                "distill",
                "--db",
                str(db_path),
                "--engine",
                "openai",
                "--model",
                "stub-model",
                "--base-url",
                stub.url,
                "--source",
                "t",
                "--max-rollouts",
                "3",
                "--want-correct",
                "3",
                "--per-round",
                "3",
                "--json",
            ],
        )
    assert result.exit_code == 0, result.output
    store = Store(db_path)
    with store.read() as conn:
        rows = conn.execute("""SELECT p.question, t.thought, t.solution, t.verdict, t.format_style,
                                      t.meta->>'reasoning_content', t.meta->>'raw_content', t.origin
                               FROM trajectory t JOIN problem p ON p.id = t.problem_id
                               ORDER BY p.question, t.sample_index""").fetchall()
    # several labelled rollouts per problem, as the report collects them
    assert len(rows) == 6
    for question, thought, solution, verdict, style, reasoning, raw, origin in rows:
        content, _ = _teacher(question, 0)
        assert thought == reasoning.strip() and thought.startswith(f"Let me work out: {question}")
        assert solution == content == raw
        assert (verdict, style, origin) == ("correct", "still", "distill")

    assert cli.invoke(app, ["dataset", "build", "D0", "--origins", "distill", "--db", str(db_path)]).exit_code == 0
    out = tmp_path / "sft.jsonl"
    result = cli.invoke(
        app, ["dataset", "export", "D0", str(out), "--shape", "prompt-completion", "--db", str(db_path)]
    )
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(exported) == 6
    for row in exported:
        question = row["prompt"][-1]["content"]
        completion = row["completion"][0]["content"]
        content, _ = _teacher(question, 0)
        parsed = parse_response(completion)
        assert parsed.well_formed and parsed.style == "still"
        assert parsed.thought.startswith(f"Let me work out: {question}") and parsed.solution == content
        assert completion.index(END_THOUGHT) < completion.index(BEGIN_SOLUTION)
        assert completion == to_still(parsed.thought, parsed.solution)
