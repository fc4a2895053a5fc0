"""DPO pairs: the perplexity-contrast rule, curation status, flags, determinism, thought-only export, CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.pairs import PairOptions, build_pairs, choose_pairs, export_pairs, list_pairs, pair_id
from store.ingest import add_problems, add_trajectories, insert_new, upsert
from store.trajectory_format import to_still

runner = CliRunner()

# problem -> [(trajectory suffix, verdict, full ppl, thought ppl, status)]
LAYOUT = {
    "P1": [
        ("c1", "correct", 5.0, 1.5, "pending"),
        ("c2", "correct", 3.0, 1.2, "approved"),
        ("w1", "incorrect", 2.0, 1.1, "pending"),
        ("w2", "incorrect", 4.0, 1.9, "pending"),
        ("w3", "incorrect", 6.0, 1.0, "pending"),
    ],
    "P2": [("c1", "correct", 9.0, 2.0, "pending"), ("c2", "correct", 8.0, 2.0, "pending")],
    "P3": [("c1", "correct", 2.0, 1.0, "pending"), ("w1", "incorrect", 3.0, 2.0, "pending")],
    "P4": [
        ("c1", "correct", 10.0, 3.0, "rejected"),
        ("c2", "correct", 4.0, 3.0, "approved"),
        ("w1", "incorrect", 1.0, 1.0, "pending"),
    ],
}


@pytest.fixture
def pstore(store):
    problems, trajectories, ppl = [], [], []
    for pid, rows in LAYOUT.items():
        problems.append({"id": pid, "source": "t", "question": f"What is {pid}?", "question_hash": pid, "answer": "1"})
        for suffix, verdict, full, thought, status in rows:
            tid = f"{pid}-{suffix}"
            answer = 1 if verdict == "correct" else 2
            trajectories.append(
                {
                    "id": tid,
                    "problem_id": pid,
                    "origin": "explore",
                    "verdict": verdict,
                    "status": status,
                    "format_style": "still",
                    "text": to_still(f"Thinking {tid}.", f"$\\boxed{{{answer}}}$"),
                }
            )
            ppl += [
                {"trajectory_id": tid, "scorer": "S", "part": "full", "mean_nll": 0.0, "ppl": full},
                {"trajectory_id": tid, "scorer": "S", "part": "thought", "mean_nll": 0.0, "ppl": thought},
            ]
    with store.write() as conn:
        add_problems(conn, problems)
        add_trajectories(conn, trajectories)
        upsert(conn, "perplexity", ppl)
    return store


def pairs_of(store):
    with store.read() as conn:
        return conn.execute(
            "SELECT problem_id, chosen_id, rejected_id, part, rule, meta FROM pair ORDER BY problem_id, chosen_id"
        ).fetchall()


def test_rule_chosen_correct_higher_ppl_rejected_incorrect_lower():
    rows = [
        {"id": i, "verdict": v, "ppl": p}
        for i, v, p in [("a", "correct", 5), ("b", "correct", 3), ("x", "incorrect", 2), ("y", "incorrect", 4)]
    ]
    assert [(c["id"], r["id"]) for c, r in choose_pairs(rows, 5)] == [("a", "x")]
    rows.append({"id": "c", "verdict": "correct", "ppl": 4.5})
    assert [(c["id"], r["id"]) for c, r in choose_pairs(rows, 5)] == [("a", "x"), ("c", "y")]
    assert [(c["id"], r["id"]) for c, r in choose_pairs(rows, 1)] == [("a", "x")]


def test_build_pairs_respects_rule_status_and_is_idempotent(pstore):
    report = build_pairs(pstore, PairOptions(scorer="S", max_per_problem=3))
    assert (report.problems, report.problems_with_both, report.added) == (4, 3, 2)
    got = pairs_of(pstore)
    assert [(p, c, r) for p, c, r, *_ in got] == [("P1", "P1-c1", "P1-w1"), ("P4", "P4-c2", "P4-w1")]
    meta = json.loads(got[0][5])
    assert meta == {"scorer": "S", "chosen_ppl": 5.0, "rejected_ppl": 2.0} and got[0][4] == "ppl_contrast"
    assert all(json.loads(m)["chosen_ppl"] > json.loads(m)["rejected_ppl"] for *_, m in got)
    again = build_pairs(pstore, PairOptions(scorer="S", max_per_problem=3))
    assert again.added == 0 and len(pairs_of(pstore)) == 2
    with pstore.read() as conn:
        ids = {r[0] for r in conn.execute("SELECT id FROM pair").fetchall()}
    assert pair_id("P1-c1", "P1-w1", "full") in ids


def test_approved_only_problem_and_flags(pstore):
    assert build_pairs(pstore, PairOptions(scorer="S", approved_only=True)).added == 0
    assert build_pairs(pstore, PairOptions(scorer="S", problem="P4")).added == 1
    assert [r[0] for r in pairs_of(pstore)] == ["P4"]
    with pstore.write() as conn:
        insert_new(conn, "flag", [{"trajectory_id": "P1-c1", "rule": "repetition", "reason": "loop"}])
    assert build_pairs(pstore, PairOptions(scorer="S", skip_flags=["repetition"])).added == 1
    assert ("P1", "P1-c2", "P1-w1") in [r[:3] for r in pairs_of(pstore)]  # the flagged P1-c1 is passed over
    assert build_pairs(pstore, PairOptions(scorer="S", skip_flags=["format"])).added == 1


def test_thought_part_uses_thought_perplexity_and_export_cuts(pstore, tmp_path):
    report = build_pairs(pstore, PairOptions(part="thought", max_per_problem=2))
    assert report.scorer == "S"
    got = pairs_of(pstore)
    # P1 thought ppl: correct 1.5, 1.2 vs incorrect 1.0, 1.1 -> two pairs; P4: 3.0 > 1.0.
    assert [(c, r, part) for _, c, r, part, *_ in got] == [
        ("P1-c1", "P1-w3", "thought"),
        ("P1-c2", "P1-w1", "thought"),
        ("P4-c2", "P4-w1", "thought"),
    ]
    n = export_pairs(pstore, tmp_path / "p.jsonl")
    rows = [json.loads(line) for line in open(tmp_path / "p.jsonl")]
    assert n == 3 and set(rows[0]) == {"prompt", "chosen", "rejected"}
    assert rows[0]["chosen"][0]["content"].endswith("<|end_of_thought|>")
    assert "<|begin_of_solution|>" not in rows[0]["rejected"][0]["content"]
    assert [m["role"] for m in rows[0]["prompt"]] == ["system", "user"]


def test_export_skips_rejected_pairs(pstore, tmp_path):
    build_pairs(pstore, PairOptions(scorer="S"))
    with pstore.write() as conn:
        conn.execute("UPDATE pair SET status = 'rejected' WHERE problem_id = 'P4'")
    assert export_pairs(pstore, tmp_path / "p.jsonl") == 1
    assert export_pairs(pstore, tmp_path / "p.jsonl", include_pending=False) == 0
    assert [r["problem_id"] for r in list_pairs(pstore, status="rejected")] == ["P4"]


def test_no_scores_is_a_clear_error(store):
    with pytest.raises(ValueError, match="run `still2 score` first"):
        build_pairs(store, PairOptions())


def test_cli_pairs_build_list_export(pstore, db_path, tmp_path):
    db = str(db_path)
    out = runner.invoke(app, ["pairs", "build", "--db", db, "--scorer", "S", "--max-per-problem", "2", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["added"] == 2
    listed = json.loads(runner.invoke(app, ["pairs", "list", "--db", db, "--json"]).stdout)
    assert [(p["chosen_id"], p["chosen_ppl"], p["rejected_id"], p["rejected_ppl"]) for p in listed] == [
        ("P1-c1", 5.0, "P1-w1", 2.0),
        ("P4-c2", 4.0, "P4-w1", 1.0),
    ]
    table = runner.invoke(app, ["pairs", "list", "--db", db])
    assert table.exit_code == 0 and "P1-c1" in table.output
    exported = runner.invoke(
        app, ["pairs", "export", str(tmp_path / "p.jsonl"), "--db", db, "--part", "thought", "--json"]
    )
    assert json.loads(exported.stdout)["rows"] == 2
    first = json.loads(open(tmp_path / "p.jsonl").readline())
    assert first["chosen"][0]["content"].endswith("<|end_of_thought|>")
    again = runner.invoke(app, ["pairs", "build", "--db", db, "--scorer", "S", "--problem", "P1"])
    assert again.exit_code == 0 and "0 new pairs" in again.output
