"""`still2 judge` through the OpenAI-compatible stub server: selection (undecided / audit), parsing, storage in
its own columns (our verdict untouched), resumption, every judge model's opinion kept (judge_opinion);
accepting an opinion and undoing it."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.judge import JudgeConfig, parse_judgement, select_rows
from store import curation
from store.ingest import add_trajectories, insert_new
from tests.unit.test_engines_openai import StubServer

cli = CliRunner()


class JudgeStub(StubServer):
    """Replies like a judge: correct when the response's tail contains the reference answer as a word. The
    model named "contrary" says the opposite (a second judge that disagrees with the first)."""

    def answer(self, handler, body, status):
        prompt = body["messages"][-1]["content"]
        gold = re.search(r"Reference answer: (.*)", prompt).group(1).strip()
        tail = prompt.split('"""')[1]
        ok = re.search(rf"(?<![\d.]){re.escape(gold)}(?![\d.])", tail) is not None
        ok = ok != (body["model"] == "contrary")
        content = (
            f"VERDICT: {'correct' if ok else 'incorrect'}\nREASON: the response "
            f"{'states' if ok else 'never states'} {gold}."
        )
        handler.reply(
            200,
            {
                "id": "j",
                "object": "chat.completion",
                "usage": {"prompt_tokens": 1, "completion_tokens": 1},
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
            },
        )


def _fill(store):
    with store.write() as conn:
        insert_new(
            conn,
            "problem",
            [
                {
                    "id": f"p{i}",
                    "source": "t",
                    "question": f"What is {i} + {i}?",
                    "question_hash": f"h{i}",
                    "answer": str(2 * i),
                }
                for i in range(6)
            ],
        )
        rows = []
        for i in range(6):
            text = (
                f"Adding them up I end with {2 * i} apples in the basket"
                if i % 2 == 0
                else f"I think it's {2 * i + 1}, more or less"
            )
            rows.append(
                {
                    "id": f"t{i}",
                    "problem_id": f"p{i}",
                    "text": text,
                    "origin": "import",
                    "verdict": "incorrect",
                    "verdict_rule": "no_answer",
                    "harness_correct": i % 2 == 0,
                    "verdict_reason": "no_answer: nothing found",
                }
            )
        rows.append(
            {
                "id": "t9",
                "problem_id": "p1",
                "text": "\\boxed{2}",
                "origin": "import",
                "verdict": "correct",
                "verdict_rule": "exact",
                "verdict_reason": "exact: 2 == 2",
            }
        )
        add_trajectories(conn, rows)


def test_parse_judgement():
    assert parse_judgement("VERDICT: correct\nREASON: states 4.") == ("correct", "states 4.")
    assert parse_judgement("verdict: **Incorrect**\nreason: says 5") == ("incorrect", "says 5")
    assert parse_judgement("The answer is wrong because 3 != 4")[0] == "incorrect"
    assert parse_judgement("Correct. The student wrote 4.")[0] == "correct"
    assert parse_judgement("I am a language model and like apples.") == (
        "unsure",
        "I am a language model and like apples.",
    )
    assert parse_judgement("")[0] == "unsure"


def test_selection_undecided_and_audit(store):
    _fill(store)
    undecided = {r[0] for r in select_rows(store, JudgeConfig(), "m")}
    assert undecided == {f"t{i}" for i in range(6)}  # the decided row t9 is not asked
    audit = [r[0] for r in select_rows(store, JudgeConfig(audit=3, seed=1), "m")]
    assert len(audit) == 3 and audit == [r[0] for r in select_rows(store, JudgeConfig(audit=3, seed=1), "m")]
    assert {r[0] for r in select_rows(store, JudgeConfig(audit=7), "m")} == undecided | {"t9"}


def test_an_interrupted_audit_resumes_the_same_sample(store):
    """An audit is a fixed seeded sample: rows judged by an interrupted run (here --limit 2) are not
    replaced by newly drawn ones; the rerun judges the rest of the same sample, and then nothing."""
    _fill(store)
    sample = [r[0] for r in select_rows(store, JudgeConfig(audit=4, seed=3), "m")]
    first = [r[0] for r in select_rows(store, JudgeConfig(audit=4, seed=3, limit=2), "m")]
    assert first == sample[:2]
    with store.write() as conn:
        insert_new(
            conn,
            "judge_opinion",
            [{"trajectory_id": t, "judge_model": "m", "verdict": "correct", "reason": "r"} for t in first],
        )
    rest = [r[0] for r in select_rows(store, JudgeConfig(audit=4, seed=3), "m")]
    assert rest == sample[2:]  # the same sample, not two new rows
    assert [r[0] for r in select_rows(store, JudgeConfig(audit=4, seed=3), "other")] == sample
    assert [r[0] for r in select_rows(store, JudgeConfig(audit=4, seed=3, overwrite=True), "m")] == sample


def test_judge_through_the_openai_stub_stores_its_own_columns(store, db_path):
    _fill(store)
    store.close()
    with JudgeStub() as stub:
        args = [
            "judge",
            "--db",
            str(db_path),
            "--engine",
            "openai",
            "--base-url",
            stub.url,
            "--model",
            "stub-model",
            "--json",
        ]
        out = cli.invoke(app, args)
        assert out.exit_code == 0, out.output
        result = json.loads(out.stdout)
        assert result["judged"] == 6 and result["correct"] == 3 and result["incorrect"] == 3
        again = json.loads(cli.invoke(app, args).stdout)  # resumable: judged rows are not asked twice
        assert again["judged"] == 0 and len(stub.requests) == 6
    from store import Store

    s = Store(db_path)
    with s.read() as conn:
        rows = conn.execute("""SELECT id, verdict, judge_verdict, judge_model, judge_reason, our_verdict
                               FROM trajectories ORDER BY id""").fetchall()
    for tid, verdict, jv, jm, jr, ours in rows:
        if tid == "t9":
            assert jv is None and verdict == "correct"
            continue
        i = int(tid[1:])
        assert verdict == ours == "incorrect"  # never overridden silently
        assert jv == ("correct" if i % 2 == 0 else "incorrect") and jm == "stub-model" and str(2 * i) in jr
    with s.write() as conn:
        event = curation.accept_verdict(conn, "judge", where="judge_verdict IS NOT NULL")
        assert event.n == 6  # every judged row now says who decided it (verdict_by), 3 of them changed verdict
        assert (
            conn.execute(
                "SELECT count(*) FROM trajectories WHERE verdict = 'correct' AND verdict_by = 'judge'"
            ).fetchone()[0]
            == 3
        )
        curation.undo(conn)
        assert conn.execute("SELECT count(*) FROM trajectory WHERE verdict_by IS NOT NULL").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM trajectory WHERE verdict = 'correct'").fetchone()[0] == 1
    s.close()


def _judge_args(db_path, url, model, *extra):
    return ["judge", "--db", str(db_path), "--engine", "openai", "--base-url", url, "--model", model, *extra]


def _opinions(db_path):
    """{(trajectory id, judge model): (verdict, created)} and {trajectory id: (judge_verdict, judge_model)}."""
    from store import Store

    s = Store(db_path)
    with s.read() as conn:
        opinions = conn.execute("SELECT trajectory_id, judge_model, verdict, created FROM judge_opinion").fetchall()
        latest = conn.execute("SELECT id, judge_verdict, judge_model FROM trajectory WHERE id <> 't9'").fetchall()
    s.close()
    return {(t, m): (v, c) for t, m, v, c in opinions}, {t: (v, m) for t, v, m in latest}


def test_a_second_judge_model_keeps_the_first_ones_opinions(store, db_path):
    _fill(store)
    store.close()
    expected = {f"t{i}": "correct" if i % 2 == 0 else "incorrect" for i in range(6)}
    flipped = {t: "incorrect" if v == "correct" else "correct" for t, v in expected.items()}
    with JudgeStub() as stub:
        first = json.loads(cli.invoke(app, [*_judge_args(db_path, stub.url, "stub-model"), "--json"]).stdout)
        assert first["judged"] == 6 and first["rows_with_other_judges"] == 0 and first["other_judges"] == {}

        out = cli.invoke(app, _judge_args(db_path, stub.url, "contrary"))  # the text summary
        assert out.exit_code == 0, out.output
        assert "judged 6 undecided rows with contrary" in out.output
        assert "6 of these rows already had another model's opinion (stub-model on 6)" in out.output
        opinions, latest = _opinions(db_path)
        assert len(opinions) == 12  # both judges' opinions, none replaced
        assert {t: opinions[(t, "stub-model")][0] for t in expected} == expected
        assert {t: opinions[(t, "contrary")][0] for t in expected} == flipped
        assert latest == {t: (v, "contrary") for t, v in flipped.items()}  # the latest opinion shows

        # each model resumes on its own opinions: the first model's rows are done although "contrary" judged last
        again = json.loads(cli.invoke(app, [*_judge_args(db_path, stub.url, "stub-model"), "--json"]).stdout)
        assert again["judged"] == 0 and len(stub.requests) == 12

        # --overwrite replaces only that model's opinion: t1 now states its answer, stub-model is asked again
        from store import Store

        s = Store(db_path)
        with s.write() as conn:
            conn.execute("UPDATE trajectory SET text = 'so the total is 2' WHERE id = 't1'")
        s.close()
        args = [*_judge_args(db_path, stub.url, "stub-model"), "--overwrite", "--where", "id = 't1'", "--json"]
        third = json.loads(cli.invoke(app, args).stdout)
        assert third["judged"] == 1 and third["replaced_own"] == 1
        assert third["rows_with_other_judges"] == 1 and third["other_judges"] == {"contrary": 1}
    after, latest = _opinions(db_path)
    assert len(after) == 12
    assert (
        after[("t1", "stub-model")][0] == "correct"
        and after[("t1", "stub-model")][1] > opinions[("t1", "stub-model")][1]
    )
    assert after[("t1", "contrary")] == opinions[("t1", "contrary")]  # the other model's opinion untouched
    assert {k: v for k, v in after.items() if k[0] != "t1"} == {k: v for k, v in opinions.items() if k[0] != "t1"}
    assert latest["t1"] == ("correct", "stub-model") and latest["t3"] == ("correct", "contrary")


def test_verify_keeps_an_accepted_verdict(store, db_path):
    _fill(store)
    with store.write() as conn:
        curation.accept_verdict(conn, "harness", ids=["t0"])
    store.close()
    out = cli.invoke(app, ["verify", "--db", str(db_path), "--json", "--workers", "1"])
    assert out.exit_code == 0, out.output
    from store import Store

    s = Store(db_path)
    with s.read() as conn:
        row = conn.execute(
            "SELECT verdict, verdict_by, our_verdict, verdict_rule, answer_policy FROM trajectories WHERE id = 't0'"
        ).fetchone()
    s.close()
    # t0's text ends mid-sentence ("... in the basket"): cut off, so ours is incorrect; the accepted harness
    # verdict stays and ours is kept beside it
    assert row == ("correct", "harness", "incorrect", "cut_off", "default")
