"""Curation actions and their persisted undo/redo log."""

from __future__ import annotations

import pytest

from store import Store
from store.curation import add_note, add_tag, redo, remove_tag, set_status, swap_pair, undo
from store.ingest import add_problems, add_trajectories, insert_new


@pytest.fixture
def filled(store):
    with store.write() as conn:
        add_problems(conn, [{"id": "p", "source": "s", "question": "q", "question_hash": "h", "answer": "1"}])
        add_trajectories(
            conn,
            [
                {
                    "id": f"t{i}",
                    "problem_id": "p",
                    "text": str(i),
                    "origin": "explore",
                    "verdict": "correct" if i % 2 else "incorrect",
                }
                for i in range(10)
            ],
        )
        insert_new(conn, "pair", [{"id": "pr", "problem_id": "p", "chosen_id": "t1", "rejected_id": "t0"}])
    return store


def statuses(store) -> dict[str, str]:
    with store.read() as conn:
        return dict(conn.execute("SELECT id, status FROM trajectory").fetchall())


def test_status_undo_redo_persist_across_processes(filled, db_path):
    with filled.write() as conn:
        ev = set_status(conn, "approved", ids=["t1", "t3"])
    assert ev.n == 2
    assert statuses(filled)["t1"] == "approved"
    with filled.write() as conn:
        bulk = set_status(conn, "rejected", where="verdict = 'incorrect'")
    assert bulk.n == 5
    reopened = Store(db_path)  # another "process": the log lives in the file
    with reopened.write() as conn:
        assert undo(conn).id == bulk.id
    s = statuses(reopened)
    assert s["t0"] == "pending" and s["t1"] == "approved"
    with reopened.write() as conn:
        assert undo(conn).id == ev.id
        assert undo(conn) is None
    assert set(statuses(reopened).values()) == {"pending"}
    with reopened.write() as conn:
        assert redo(conn).id == ev.id
        assert redo(conn).id == bulk.id
        assert redo(conn) is None
    s = statuses(reopened)
    assert s["t1"] == "approved" and s["t0"] == "rejected"


def test_new_action_drops_redo_stack(filled):
    with filled.write() as conn:
        set_status(conn, "approved", ids=["t1"])
        undo(conn)
        set_status(conn, "rejected", ids=["t2"])
        assert redo(conn) is None
        assert conn.execute("SELECT count(*) FROM event WHERE state = 'dropped'").fetchone()[0] == 1


def test_unchanged_rows_are_not_logged_and_undo_restores_mixed_states(filled):
    with filled.write() as conn:
        set_status(conn, "approved", ids=["t1"])
        set_status(conn, "rejected", ids=["t2"])
        ev = set_status(conn, "approved", ids=["t1", "t2", "t3"])
        assert ev.n == 2
        undo(conn)
    s = statuses(filled)
    assert (s["t1"], s["t2"], s["t3"]) == ("approved", "rejected", "pending")


def test_tags_notes_and_swap_undo(filled):
    with filled.write() as conn:
        add_tag(conn, "loop", ids=["t1", "t2"])
        add_tag(conn, "loop", ids=["t2", "t3"])  # t2 already tagged: only t3 is logged
        add_note(conn, "t1", "truncated near the end")
        swap_pair(conn, "pr")
        assert conn.execute("SELECT chosen_id, rejected_id FROM pair").fetchone() == ("t0", "t1")
        undo(conn)
        assert conn.execute("SELECT chosen_id, rejected_id FROM pair").fetchone() == ("t1", "t0")
        undo(conn)
        assert conn.execute("SELECT count(*) FROM note").fetchone()[0] == 0
        redo(conn)
        assert conn.execute("SELECT text FROM note").fetchone()[0] == "truncated near the end"
        undo(conn)
        undo(conn)
        assert sorted(r[0] for r in conn.execute("SELECT target_id FROM tag").fetchall()) == ["t1", "t2"]
        ev = remove_tag(conn, "loop", where="id IN ('t1', 't2')")
        assert ev.n == 2 and conn.execute("SELECT count(*) FROM tag").fetchone()[0] == 0
        undo(conn)
        assert conn.execute("SELECT count(*) FROM tag").fetchone()[0] == 2


def test_pair_status_and_bad_input(filled):
    with filled.write() as conn:
        assert set_status(conn, "approved", ids=["pr"], kind="pair").n == 1
        with pytest.raises(ValueError):
            set_status(conn, "maybe", ids=["t1"])
        with pytest.raises(ValueError):
            set_status(conn, "approved")
