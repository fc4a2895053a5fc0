"""Schema creation, migrations from older files, views, and the in-process connection rules."""

from __future__ import annotations

import duckdb
import pytest

from store import Store, StoreError
from store.ingest import add_problems, add_trajectories, upsert
from store.schema import MIGRATIONS, SCHEMA_VERSION


def _problem(pid="p1", question="What is 1+1?", answer="2"):
    return {"id": pid, "source": "t", "question": question, "question_hash": pid, "answer": answer}


def test_new_store_has_every_table_and_view(store):
    with store.read() as conn:
        names = {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    for table in (
        "problem",
        "trajectory",
        "perplexity",
        "pair",
        "dataset",
        "dataset_member",
        "model",
        "run",
        "eval_result",
        "note",
        "tag",
        "event",
        "event_item",
        "flag",
        "import_log",
        "judge_opinion",
        "meta",
    ):
        assert table in names
    for view in ("trajectories", "problem_stats", "curation_progress", "pairs"):
        assert view in names
    assert store.schema_version() == SCHEMA_VERSION


def test_file_from_older_version_upgrades_and_keeps_rows(db_path):
    old = Store(db_path, upto=1)
    old.init()
    with old.write() as conn:
        add_problems(conn, [_problem()])
        add_trajectories(conn, [{"problem_id": "p1", "text": "x", "origin": "import"}])
        tables = {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "perplexity" not in tables and "event" not in tables
    old.close()
    assert Store(db_path, upto=1).schema_version() == 1

    new = Store(db_path)
    assert new.schema_version() == SCHEMA_VERSION
    with new.read() as conn:
        assert conn.execute("SELECT count(*) FROM trajectories").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM perplexity").fetchone()[0] == 0


def test_upgrade_keeps_the_judge_opinion_of_a_v8_store(db_path):
    """v8 held one judge opinion per row in trajectory.judge_*; v9's judge_opinion starts with those rows, so a
    later judge run with another model adds its opinion beside them and the same model does not ask again."""
    from pipeline.judge import JudgeConfig, select_rows

    old = Store(db_path, upto=8)
    old.init()
    with old.write() as conn:
        add_problems(conn, [_problem()])
        judged = {"judge_verdict": "correct", "judge_model": "judge-a", "judge_reason": "states 2."}
        rows = [
            {
                "id": f"t{i}",
                "problem_id": "p1",
                "text": "x",
                "origin": "import",
                "verdict": "incorrect",
                "verdict_rule": "no_answer",
                **(judged if i == 0 else {}),
            }
            for i in range(2)
        ]
        add_trajectories(conn, rows)
        tables = {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "judge_opinion" not in tables
    old.close()

    new = Store(db_path)
    assert new.schema_version() == SCHEMA_VERSION
    with new.read() as conn:
        opinions = conn.execute(
            "SELECT trajectory_id, judge_model, verdict, reason, mode, created IS NOT NULL FROM judge_opinion"
        ).fetchall()
        latest = conn.execute("SELECT judge_verdict, judge_model FROM trajectory WHERE id = 't0'").fetchone()
    assert opinions == [("t0", "judge-a", "correct", "states 2.", None, True)]
    assert latest == ("correct", "judge-a")  # the columns keep showing it
    assert [r[0] for r in select_rows(new, JudgeConfig(), "judge-a")] == ["t1"]
    assert [r[0] for r in select_rows(new, JudgeConfig(), "judge-b")] == ["t0", "t1"]
    new.close()


def test_newer_file_is_refused(db_path):
    Store(db_path).init()
    con = duckdb.connect(str(db_path))
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="newer"):
        Store(db_path).init()


def test_migrations_are_numbered_in_order():
    numbers = [m[0] for m in MIGRATIONS]
    assert numbers == list(range(1, len(numbers) + 1))


def test_write_rolls_back_on_error(store):
    with pytest.raises(RuntimeError):
        with store.write() as conn:
            add_problems(conn, [_problem()])
            raise RuntimeError("boom")
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM problem").fetchone()[0] == 0


def test_read_connection_is_read_only(store):
    with store.read() as conn:
        with pytest.raises(duckdb.Error):
            conn.execute("DELETE FROM problem")


def test_nested_read_inside_write_reuses_connection_and_write_inside_read_is_refused(store):
    with store.write() as conn:
        add_problems(conn, [_problem()])
        with store.read() as inner:
            assert inner is conn
            assert inner.execute("SELECT count(*) FROM problem").fetchone()[0] == 1
    with store.read():
        with pytest.raises(StoreError):
            with store.write():
                pass


def test_ingest_adds_only_new_rows_and_computes_ids_and_lengths(store):
    with store.write() as conn:
        add_problems(conn, [_problem()])
        rows = [{"problem_id": "p1", "text": "abc", "thought": "a", "solution": "bc", "origin": "import"}] * 2
        assert add_trajectories(conn, rows) == 1
        assert add_trajectories(conn, rows) == 0
        got = conn.execute(
            "SELECT id, n_chars, thought_chars, solution_chars, status, verdict FROM trajectory"
        ).fetchall()
    assert len(got) == 1
    tid, n, tc, sc, status, verdict = got[0]
    assert len(tid) == 16 and (n, tc, sc) == (3, 1, 2)
    assert (status, verdict) == ("pending", "unverified")


def test_ingest_rejects_unknown_columns(store):
    with store.write() as conn:
        with pytest.raises(ValueError, match="unknown column"):
            add_problems(conn, [{**_problem(), "bogus": 1}])


def test_trajectories_view_joins_latest_perplexity_and_flags(store):
    with store.write() as conn:
        add_problems(conn, [_problem()])
        add_trajectories(conn, [{"id": "t1", "problem_id": "p1", "text": "x", "origin": "explore"}])
        upsert(
            conn,
            "perplexity",
            [{"trajectory_id": "t1", "scorer": "m", "part": "full", "mean_nll": 1.0, "ppl": 2.718, "n_tokens": 3}],
        )
        upsert(
            conn,
            "perplexity",
            [{"trajectory_id": "t1", "scorer": "m", "part": "full", "mean_nll": 0.5, "ppl": 1.65, "n_tokens": 3}],
        )
        upsert(conn, "flag", [{"trajectory_id": "t1", "rule": "too_short", "reason": "1 char < 100"}])
        row = conn.execute("SELECT ppl, flags, gold, source FROM trajectories").fetchone()
        assert conn.execute("SELECT count(*) FROM perplexity").fetchone()[0] == 1
    assert row == (1.65, ["too_short"], "2", "t")


def test_problem_stats_pass_rate(store):
    with store.write() as conn:
        add_problems(conn, [_problem()])
        add_trajectories(
            conn,
            [
                {
                    "id": f"t{i}",
                    "problem_id": "p1",
                    "text": str(i),
                    "origin": "explore",
                    "verdict": "correct" if i == 0 else "incorrect",
                }
                for i in range(4)
            ]
            + [{"id": "e", "problem_id": "p1", "text": "e", "origin": "eval", "verdict": "correct"}],
        )
        rollouts, correct, rate = conn.execute("SELECT rollouts, correct, pass_rate FROM problem_stats").fetchone()
    assert (rollouts, correct, rate) == (4, 1, 0.25)


def test_ingest_keeps_input_order_and_first_duplicate(store):
    import random

    ids = [f"{random.Random(1).getrandbits(64) ^ i:016x}" for i in range(20000)]
    rows = [{"id": t, "problem_id": "p1", "text": f"row {n}", "origin": "import"} for n, t in enumerate(ids)]
    rows.append({"id": ids[5], "problem_id": "p1", "text": "a later duplicate", "origin": "import"})
    with store.write() as conn:
        add_problems(conn, [_problem()])
        assert add_trajectories(conn, rows) == 20000
        got = [r[0] for r in conn.execute("SELECT id FROM trajectory ORDER BY rowid").fetchall()]
        text5 = conn.execute("SELECT text FROM trajectory WHERE id = ?", [ids[5]]).fetchone()[0]
    assert got == ids and text5 == "row 5"
