"""Nothing leaks: evaluation outputs and rows on test problems stay out of datasets, pairs and exports
unless named with --allow; the exclusion registry takes new kinds without changes to the commands."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.datasets import DatasetRecipe, build_dataset, exclusions
from pipeline.pairs import PairOptions, build_pairs
from store.ingest import add_problems, add_trajectories, insert_new, upsert
from store.trajectory_format import to_still

cli = CliRunner()

# problem id -> (source, split)
PROBLEMS = {
    "tr1": ("gen", "train"),
    "tr2": ("gen", "train"),
    "te1": ("gen", "test"),
    "m500": ("math500", None),
    "evald": ("gen", "train"),
}


def _traj(tid, pid, origin, correct):
    answer = "1" if correct else "2"
    return {
        "id": tid,
        "problem_id": pid,
        "text": to_still(f"thinking {tid} " * 30, f"$\\boxed{{{answer}}}$"),
        "thought": f"thinking {tid} " * 30,
        "solution": f"$\\boxed{{{answer}}}$",
        "format_style": "still",
        "origin": origin,
        "model": "m",
        "verdict": "correct" if correct else "incorrect",
    }


@pytest.fixture
def leaky(store):
    """Train problems explored (and one distilled); a test-split problem and a MATH-500 problem explored
    too; an eval output on a train-split problem ('evald', which thereby counts as a test problem)."""
    problems = [
        {"id": pid, "source": src, "question": f"Q {pid}?", "question_hash": pid, "answer": "1", "split": split}
        for pid, (src, split) in PROBLEMS.items()
    ]
    trajs = []
    for pid in PROBLEMS:
        trajs += [_traj(f"{pid}-ok", pid, "explore", True), _traj(f"{pid}-bad", pid, "explore", False)]
    trajs += [_traj("evald-eval", "evald", "eval", True), _traj("tr2-distill", "tr2", "distill", True)]
    ppl = []
    for t in trajs:
        ppl.append(
            {
                "trajectory_id": t["id"],
                "scorer": "S",
                "part": "full",
                "mean_nll": 0.1,
                "ppl": 3.0 if t["verdict"] == "correct" else 1.5,
                "n_tokens": 10,
            }
        )
    with store.write() as conn:
        add_problems(conn, problems)
        add_trajectories(conn, trajs)
        upsert(conn, "perplexity", ppl)
    return store


def _members(store, name):
    with store.read() as conn:
        return conn.execute(
            """SELECT t.id, t.origin, p.split, p.source FROM dataset_member m
                               JOIN trajectory t ON t.id = m.member_id JOIN problem p ON p.id = t.problem_id
                               WHERE m.dataset = ? ORDER BY t.id""",
            [name],
        ).fetchall()


def test_default_build_leaks_no_eval_or_test_row(leaky, db_path):
    result = cli.invoke(app, ["dataset", "build", "D", "--db", str(db_path), "--json"])
    assert result.exit_code == 0, result.output
    members = _members(leaky, "D")
    assert {m[0] for m in members} == {"tr1-ok", "tr2-ok", "tr2-distill"}
    assert all(origin != "eval" and split != "test" and source != "math500" for _, origin, split, source in members)
    report = json.loads(result.stdout)
    # te1-ok, m500-ok, evald-ok are on test problems; evald-eval (both) is counted once, as an eval output
    assert report["excluded"] == {"eval": {"gen": 1}, "test": {"gen": 2, "math500": 1}}


def test_named_inclusions_bring_them_back(leaky):
    test_only = build_dataset(leaky, "T", DatasetRecipe(allow=["test"]))
    assert set(test_only.selection.ids) == {"tr1-ok", "tr2-ok", "tr2-distill", "te1-ok", "m500-ok", "evald-ok"}
    both = build_dataset(leaky, "B", DatasetRecipe(allow=["eval", "test"], origins=["eval"]))
    assert both.selection.ids == ["evald-eval"]


def test_asking_for_eval_origin_without_including_it_is_an_error(leaky, db_path):
    result = cli.invoke(app, ["dataset", "build", "E", "--origins", "explore,eval", "--db", str(db_path)])
    assert result.exit_code == 1 and "--allow eval" in result.output
    with pytest.raises(ValueError, match="unknown exclusion"):
        DatasetRecipe(allow=["evals"])


def test_pairs_and_exports_leave_them_out(leaky, db_path, tmp_path):
    report = build_pairs(leaky, PairOptions(scorer="S"))
    with leaky.read() as conn:
        paired = {r[0] for r in conn.execute("SELECT problem_id FROM pair").fetchall()}
    assert paired == {"tr1", "tr2"} and report.added == 2
    build_pairs(leaky, PairOptions(scorer="S", allow=["test"]))
    with leaky.read() as conn:
        paired = {r[0] for r in conn.execute("SELECT problem_id FROM pair").fetchall()}
    assert paired == {"tr1", "tr2", "te1", "m500", "evald"}

    out = tmp_path / "pairs.jsonl"
    assert cli.invoke(app, ["pairs", "export", str(out), "--db", str(db_path)]).exit_code == 0
    assert len(out.read_text().splitlines()) == 2
    assert cli.invoke(app, ["pairs", "export", str(out), "--allow", "test", "--db", str(db_path)]).exit_code == 0
    assert len(out.read_text().splitlines()) == 5

    # a dataset made by hand (no recipe) that holds an eval output and a test row exports without them
    with leaky.write() as conn:
        conn.execute("INSERT INTO dataset (name, kind, n_members) VALUES ('hand', 'sft', 3)")
        insert_new(
            conn,
            "dataset_member",
            [{"dataset": "hand", "member_id": i, "inherited": False} for i in ("tr1-ok", "evald-eval", "te1-ok")],
        )
    sft = tmp_path / "sft.jsonl"
    assert cli.invoke(app, ["dataset", "export", "hand", str(sft), "--db", str(db_path)]).exit_code == 0
    assert len(sft.read_text().splitlines()) == 1
    all_rows = tmp_path / "all.jsonl"
    assert cli.invoke(app, ["export", str(all_rows), "--db", str(db_path), "--with-meta"]).exit_code == 0
    exported = [json.loads(line) for line in all_rows.read_text().splitlines()]
    assert {r["problem_id"] for r in exported} == {"tr1", "tr2"} and all(r["origin"] != "eval" for r in exported)


def test_a_new_kind_plugs_in_and_is_lifted_by_name(leaky, monkeypatch, tmp_path, db_path):
    planted = exclusions.Exclusion(
        "planted",
        "rows of problem tr2 (a stand-in for a new kind)",
        group_sql="CASE WHEN v.problem_id = 'tr2' THEN 'tr2' END",
    )
    monkeypatch.setitem(exclusions.EXCLUSIONS, "planted", planted)
    kept = build_dataset(leaky, "P", DatasetRecipe())
    assert kept.selection.ids == ["tr1-ok"] and kept.selection.excluded["planted"] == {"tr2": 2}
    out = tmp_path / "all.jsonl"  # the exports know it too
    assert cli.invoke(app, ["export", str(out), "--db", str(db_path), "--with-meta"]).exit_code == 0
    assert {json.loads(line)["problem_id"] for line in out.read_text().splitlines()} == {"tr1"}
    lifted = build_dataset(leaky, "Q", DatasetRecipe(allow=["planted"]))
    assert lifted.selection.ids == ["tr1-ok", "tr2-distill", "tr2-ok"]
