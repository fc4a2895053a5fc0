"""Step labels (first wrong step) through the undoable event log, and their PRM export shape."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from store import curation
from store.formats.prm import prm_rows
from store.ingest import add_problems, add_trajectories
from store.trajectory_format import parse_response, to_still

WRONG = to_still("Let x be 2.\n\nThen x + x = 5.\n\nSo the answer is 5.", "$\\boxed{5}$")
RIGHT = to_still("Two and two.\n\nThat makes 4.", "$\\boxed{4}$")


@pytest.fixture
def labelled_store(store):
    with store.write() as conn:
        add_problems(
            conn, [{"id": "p", "source": "t", "question": "What is 2 + 2?", "question_hash": "p", "answer": "4"}]
        )
        add_trajectories(
            conn,
            [
                {
                    "id": tid,
                    "problem_id": "p",
                    "text": text,
                    "origin": "explore",
                    "verdict": verdict,
                    "thought": parse_response(text).thought,
                    "solution": parse_response(text).solution,
                    "format_style": "still",
                }
                for tid, text, verdict in (("w", WRONG, "incorrect"), ("c", RIGHT, "correct"))
            ],
        )
    return store


def _label(conn):
    return conn.execute("SELECT trajectory_id, first_wrong_step, n_steps, actor FROM step_label").fetchall()


def test_step_label_set_move_clear_undo_redo(labelled_store):
    with labelled_store.write() as conn:
        first = curation.set_step_label(conn, "w", 2, 3, actor="ann")
        assert (first.action, first.n) == ("step_label", 1) and _label(conn) == [("w", 2, 3, "ann")]
        curation.set_step_label(conn, "w", 1, 3, actor="ann")
        assert _label(conn) == [("w", 1, 3, "ann")]
        assert curation.set_step_label(conn, "w", 1, 3).n == 0  # no change: no event for undo to revert
        curation.set_step_label(conn, "w", None, 3)
        assert _label(conn) == []
        with pytest.raises(ValueError):
            curation.set_step_label(conn, "w", 3, 3)
        curation.undo(conn)
        assert _label(conn) == [("w", 1, 3, None)]  # the clearing undone (its event's actor)
        curation.undo(conn)
        assert _label(conn) == [("w", 2, 3, "ann")]
        curation.undo(conn)
        assert _label(conn) == []
        curation.redo(conn)
        assert _label(conn) == [("w", 2, 3, "ann")]


def test_prm_rows_cut_after_the_first_wrong_step(labelled_store, db_path, tmp_path):
    with labelled_store.write() as conn:
        curation.set_step_label(conn, "w", 1, 3)
    got = prm_rows(labelled_store)
    assert got.rows == [
        {"prompt": "What is 2 + 2?", "completions": ["Let x be 2.", "Then x + x = 5."], "labels": [True, False]}
    ]
    with_correct = prm_rows(labelled_store, with_correct=True, with_meta=True)
    assert [(r["id"], r["labels"]) for r in with_correct.rows] == [("c", [True, True]), ("w", [True, False])]
    out = tmp_path / "prm.jsonl"
    result = CliRunner().invoke(app, ["export", str(out), "--what", "prm", "--db", str(db_path), "--json"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["labels"] for line in out.read_text().splitlines()] == [[True, False]]
    with labelled_store.write() as conn:  # the text changed under the label: it is skipped, not mislabelled
        conn.execute("UPDATE trajectory SET text = ? WHERE id = 'w'", [to_still("One step only.", "5")])
    stale = prm_rows(labelled_store)
    assert stale.rows == [] and stale.stale == ["w"]
