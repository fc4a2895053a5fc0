"""`still2 complete`: a thought without a solution (QwQ-style import, or a generated rollout) gets its solution
written by a completer of the user's choice continuing the thought under the STILL prompt."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pipeline.cli import app
from store.importer import import_trajectories
from store.prompting import still2_system_prompt
from store.trajectory_format import BEGIN_SOLUTION, BEGIN_THOUGHT, END_THOUGHT, parse_response
from tests.unit.test_engines_openai import StubServer

cli = CliRunner()
QWQ = [  # QwQ-32B-Preview answers after thinking, with no solution section
    {
        "problem": "What is 12 times 12?",
        "answer": "144",
        "response": "Let me compute 12 times 12.\n\nTwelve dozens is 144.\n\nSo the answer is 144.",
    },
    {
        "problem": "What is 15 plus 27?",
        "answer": "42",
        "response": "15 plus 27: 15 + 20 = 35, then + 7 = 42.\n\nThe answer is 42.",
    },
]


def _completer(question, k):
    """A completer continuing the opened solution section (the stub sees the assistant prefix last)."""
    assert question.startswith(BEGIN_THOUGHT) and question.endswith(BEGIN_SOLUTION)
    answer = "144" if "144" in question else "41"  # the second one is wrong on purpose
    return f"\n\nThe result is $\\boxed{{{answer}}}$.\n\n<|end_of_solution|>\n\nextra text the model added", None


def test_complete_imported_thoughts_with_a_chosen_completer(db_path, tmp_path):
    from store import Store

    path = tmp_path / "qwq.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in QWQ))
    store = Store(db_path)
    store.init()
    import_trajectories(store, str(path), model="QwQ-32B-Preview", origin="distill")
    with store.read() as conn:
        before = conn.execute("SELECT id, text, thought, solution FROM trajectory ORDER BY id").fetchall()
    assert all(row[3] is None for row in before)

    with StubServer(reply=_completer) as stub:
        args = [
            "complete",
            "--db",
            str(db_path),
            "--engine",
            "openai",
            "--model",
            "stub-model",
            "--base-url",
            stub.url,
            "--where",
            "v.model = 'QwQ-32B-Preview'",
            "--json",
        ]
        result = cli.invoke(app, args)
        assert result.exit_code == 0, result.output
        again = cli.invoke(app, args)
        requests = list(stub.requests)
    assert json.loads(result.stdout) == {
        "selected": 2,
        "already_done": 0,
        "completed": 2,
        "correct": 1,
        "completer": "stub-model",
    }
    assert json.loads(again.stdout)["completed"] == 0 and len(requests) == 2  # nothing redone

    body = requests[0]
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    system, user, assistant = body["messages"]
    assert system == {"role": "system", "content": still2_system_prompt()}
    assert user["role"] == "user" and assistant["role"] == "assistant"
    assert END_THOUGHT in assistant["content"]

    with store.read() as conn:
        after = conn.execute(
            "SELECT id, text, thought, solution FROM trajectory WHERE id IN (SELECT unnest(?)) ORDER BY id",
            [[r[0] for r in before]],
        ).fetchall()
        new = conn.execute("""SELECT t.thought, t.solution, t.verdict, t.format_flags, t.model, t.origin,
                                     t.meta->>'completed_from', t.meta->>'completer', s.thought, t.text
                              FROM trajectory t JOIN trajectory s ON s.id = t.meta->>'completed_from'
                              ORDER BY t.verdict""").fetchall()
    assert after == before  # the sources are untouched
    assert len(new) == 2
    for thought, solution, _verdict, flags, model, origin, _source, completer, source_thought, text in new:
        assert thought == source_thought and solution.startswith("The result is $\\boxed{")
        assert "solution_completed" in flags and "text_after_solution" not in flags  # cut at the end tag
        assert (model, origin, completer) == ("QwQ-32B-Preview", "distill", "stub-model")
        assert parse_response(text).well_formed
    assert [row[2] for row in new] == ["correct", "incorrect"]


def test_continuation_prompt_ends_inside_the_assistant_turn():
    from transformers import AutoTokenizer

    from pipeline.engines.default_model import resolve_model
    from pipeline.engines.prompts import render_prompt
    from pipeline.explore.complete import assistant_prefix

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(None))
    prefix = assistant_prefix("I think it is 4.")
    messages = [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": prefix}]
    text = render_prompt(tokenizer, messages)
    assert text.endswith(prefix)
    plain = render_prompt(tokenizer, messages[:1])
    assert text.startswith(plain)  # same turn structure, then the opened assistant turn
