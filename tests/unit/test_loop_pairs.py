"""iterate's DPO data: P_t = P_{t-1} + the pairs made on M_t's perplexity; pairs made elsewhere (another scorer,
or by hand with an exclusion lifted) and pairs with an evaluation output or a test-problem row never enter."""

from __future__ import annotations

from pipeline.loop.config import iterate_config
from pipeline.loop.steps import pairs_step
from store.ingest import add_problems, add_trajectories, insert_new, upsert
from store.trajectory_format import to_still


def _traj(tid, pid, origin, correct):
    answer = "1" if correct else "2"
    return {
        "id": tid,
        "problem_id": pid,
        "text": to_still(f"thinking {tid}", f"$\\boxed{{{answer}}}$"),
        "thought": f"thinking {tid}",
        "solution": f"$\\boxed{{{answer}}}$",
        "format_style": "still",
        "origin": origin,
        "model": "m",
        "verdict": "correct" if correct else "incorrect",
    }


def _seed(store):
    problems = [
        {"id": pid, "source": "gen", "question": f"Q {pid}?", "question_hash": pid, "answer": "1", "split": split}
        for pid, split in (("a", "train"), ("b", "train"), ("c", "train"), ("te", "test"))
    ]
    trajs = [
        _traj(f"{pid}-{k}", pid, "explore", k.startswith("ok")) for pid in ("a", "b", "c", "te") for k in ("ok", "bad")
    ]
    trajs.append(_traj("a-eval", "a", "eval", True))  # an evaluation output: 'a' now counts as a test problem too
    ppl = []
    for scorer, pids in (("L-M1", ("b", "te")), ("L-M2", ("c",)), ("other", ("b",))):
        for pid in pids:
            ppl += [
                {
                    "trajectory_id": f"{pid}-ok",
                    "scorer": scorer,
                    "part": "full",
                    "mean_nll": 1.0,
                    "ppl": 3.0,
                    "n_tokens": 5,
                },
                {
                    "trajectory_id": f"{pid}-bad",
                    "scorer": scorer,
                    "part": "full",
                    "mean_nll": 0.5,
                    "ppl": 1.5,
                    "n_tokens": 5,
                },
            ]
    with store.write() as conn:
        add_problems(conn, problems)
        add_trajectories(conn, trajs)
        upsert(conn, "perplexity", ppl)
        # made by hand with the exclusions lifted (`pairs build --allow eval --allow test`)
        insert_new(
            conn,
            "pair",
            [
                {
                    "id": "hand",
                    "problem_id": "a",
                    "chosen_id": "a-eval",
                    "rejected_id": "a-bad",
                    "part": "full",
                    "meta": '{"scorer": "L-M1"}',
                }
            ],
        )


def _members(store, name):
    with store.read() as conn:
        return conn.execute(
            """SELECT c.problem_id, m.inherited FROM dataset_member m JOIN pair pr ON pr.id = m.member_id
                               JOIN trajectory c ON c.id = pr.chosen_id WHERE m.dataset = ?
                               ORDER BY 1""",
            [name],
        ).fetchall()


def test_pairs_of_the_round_scorer_accumulate_and_nothing_leaks(store):
    _seed(store)
    cfg = iterate_config(None, name="L", method="dpo", dpo_variant="full", seed_dataset="D0")
    p1 = pairs_step(store, cfg, "L-P1", "L-M1")
    # b: M_1's pair. Not the test problem's pair, not the hand-made pair with an eval output, and not the pair
    # another scorer made on b (pair ids hash chosen/rejected/part, so it is the same pair: built once).
    assert _members(store, "L-P1") == [("b", False)]
    assert (p1["pairs"], p1["inherited"]) == (1, 0)
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM pair WHERE problem_id = 'te'").fetchone()[0] == 0

    p2 = pairs_step(store, cfg, "L-P2", "L-M2", parent="L-P1")
    assert _members(store, "L-P2") == [("b", True), ("c", False)]
    assert (p2["pairs"], p2["inherited"]) == (2, 1)
    with store.read() as conn:
        assert conn.execute("SELECT parent, kind FROM dataset WHERE name = 'L-P2'").fetchone() == ("L-P1", "pairs")
