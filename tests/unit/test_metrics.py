"""`still2 metrics`: the first correct answer in a thought, what follows it, re-check counts; resumable."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.metrics import count_rechecks, first_correct
from pipeline.metrics.overthinking import candidates
from store.ingest import add_problems, add_trajectories
from store.trajectory_format import parse_response, to_still

THOUGHT = (
    "Compute 5^10 mod 10 first.\n\n"
    "So, 5^10 mod 10 = 5.\n\n"  # an intermediate result: the next step goes on, no doubt
    "Next, 6^10 mod 10 = 6.\n\n"
    "Therefore, the sum is 5 + 6 = 11.\n\n"
    "Wait, let me double-check that. 5 + 6 is 11, yes.\n\n"
    "Alternatively, add the last digits again: 11. Let me verify once more: 11."
)


def test_rechecks_count_each_phrase_once_under_one_kind():
    counts = count_rechecks("Wait, wait. Let me double-check. Let me verify. Alternatively, another approach: hmm.")
    assert counts == {"wait": 2, "double_check": 1, "verify": 1, "alternatively": 1, "another_way": 1, "hmm": 1}
    assert count_rechecks("await the waiter; verifying is fine") == {}


def test_first_correct_skips_intermediate_results_and_uses_the_verifiers_equivalence():
    hit = first_correct(THOUGHT, "11")
    assert hit is not None and hit.how == "conclusion" and THOUGHT[hit.start :].startswith("Therefore, the sum")
    assert all(c.text != "5" for c in candidates(THOUGHT))  # "So, 5^10 mod 10 = 5." is followed by "Next"
    assert first_correct(THOUGHT, "5") is None
    boxed = "Half of one is \\boxed{0.5}.\n\nWait, is that right? Yes."
    assert first_correct(boxed, "\\frac{1}{2}").how == "boxed"
    assert first_correct("The answer is $\\frac{2}{4}$ I think.", "1/2").how == "answer"
    assert first_correct("So the result is 3.\n\nNext we add.", "3") is None
    # Sky-T1 writes conclusions without a full stop: the line break still ends the step before the doubt
    no_stop = "4 and 5 are relatively prime.\n\nTherefore, m + n = 4 + 5 = 9\n\nWait a minute, is that all?"
    assert first_correct(no_stop, "9").how == "conclusion"
    assert first_correct("So x = 9\nand then y = 2\n\nWait.", "9") is None  # 'So x = 9' does not end its step


def _store_with(store, golds: dict[str, str], thoughts: dict[str, str]):
    with store.write() as conn:
        add_problems(
            conn,
            [
                {"id": f"p{k}", "source": "t", "question": f"Q{k}", "question_hash": f"q{k}", "answer": g}
                for k, g in golds.items()
            ],
        )
        rows = []
        for k, thought in thoughts.items():
            text = to_still(thought, "$\\boxed{11}$")
            parsed = parse_response(text)
            rows.append(
                {
                    "id": f"t{k}",
                    "problem_id": f"p{k}",
                    "text": text,
                    "origin": "explore",
                    "thought": parsed.thought,
                    "solution": parsed.solution,
                    "format_style": "still",
                }
            )
        add_trajectories(conn, rows)


def test_metrics_command_stores_rows_and_resumes(store, db_path):
    _store_with(store, {"a": "11", "b": "12"}, {"a": THOUGHT, "b": "So it is 11.\n\nHmm, fine."})
    runner = CliRunner()
    args = ["metrics", "--db", str(db_path), "--tokenizer", "none", "--json"]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert (report["selected"], report["computed"], report["with_correct"]) == (2, 2, 1)
    with store.read() as conn:
        rows = {
            r[0]: r[1:]
            for r in conn.execute("""
            SELECT trajectory_id, first_correct_char, first_correct_step, chars_after_correct, thought_chars,
                   rechecks, recheck_counts, tokens_after_correct FROM trajectory_metrics""").fetchall()
        }
    fc, step, after, chars, rechecks, counts, tokens = rows["ta"]
    assert THOUGHT[fc:].startswith("Therefore") and step == 3 and chars == len(THOUGHT)
    assert after == len(THOUGHT) - THOUGHT.index("Wait") + 2  # the blank line before "Wait" is after it too
    assert rechecks == 4 and json.loads(counts) == {"wait": 1, "double_check": 1, "alternatively": 1, "verify": 1}
    assert tokens is None and rows["tb"][0] is None and rows["tb"][2] is None
    assert json.loads(runner.invoke(app, args).stdout)["selected"] == 0
    with store.write() as conn:  # a corrected gold answer makes its rows stale
        conn.execute("UPDATE problem SET answer = '11' WHERE id = 'pb'")
    again = json.loads(runner.invoke(app, args).stdout)
    assert (again["selected"], again["with_correct"]) == (1, 1)
