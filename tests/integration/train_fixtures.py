"""Shared helpers for the training / eval / iterate tests: a small store with problems, trajectories, pairs."""

from __future__ import annotations

from store.ids import problem_id, question_hash, stable_id
from store.ingest import add_problems, add_trajectories, insert_new

THOUGHT_WORD = "pondering"
SOLUTION_WORD = "zebrafinal"


def still_text(thought: str, answer: str) -> str:
    return (
        f"<|begin_of_thought|>\n\n{thought}\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n"
        f"{SOLUTION_WORD} \\boxed{{{answer}}}\n\n<|end_of_solution|>"
    )


def seed_store(store, n: int = 4, *, source: str = "toy", split: str = "train") -> list[dict]:
    """n problems 'What is i + 1?', each with one correct and one incorrect STILL-format trajectory."""
    problems, trajs = [], []
    for i in range(n):
        q = f"What is {i} + 1?"
        pid = problem_id(source, q)
        problems.append(
            {
                "id": pid,
                "source": source,
                "source_key": str(i),
                "question": q,
                "question_hash": question_hash(q),
                "answer": str(i + 1),
                "answer_kind": "int",
                "split": split,
            }
        )
        for ok, ans in ((True, i + 1), (False, i + 7)):
            text = still_text(f"{THOUGHT_WORD} about {i} plus one", str(ans))
            trajs.append(
                {
                    "id": stable_id("t", pid, ok),
                    "problem_id": pid,
                    "text": text,
                    "thought": f"{THOUGHT_WORD} about {i} plus one",
                    "solution": f"{SOLUTION_WORD} \\boxed{{{ans}}}",
                    "format_style": "still",
                    "extracted": str(ans),
                    "verdict": "correct" if ok else "incorrect",
                    "origin": "distill" if ok and i % 2 == 0 else "explore",
                    "model": "teacher",
                    "n_tokens": 30,
                }
            )
    with store.write() as conn:
        add_problems(conn, problems)
        add_trajectories(conn, trajs)
    return trajs


def make_dataset(store, name: str, ids: list[str], kind: str = "sft") -> None:
    with store.write() as conn:
        conn.execute("INSERT INTO dataset (name, kind, n_members) VALUES (?, ?, ?)", [name, kind, len(ids)])
        insert_new(conn, "dataset_member", [{"dataset": name, "member_id": m, "inherited": False} for m in ids])


def make_pairs(store, trajs: list[dict], part: str = "full") -> list[str]:
    by_problem: dict[str, dict] = {}
    for t in trajs:
        by_problem.setdefault(t["problem_id"], {})[t["verdict"]] = t["id"]
    rows = [
        {
            "id": stable_id("pair", pid, part),
            "problem_id": pid,
            "chosen_id": d["correct"],
            "rejected_id": d["incorrect"],
            "part": part,
        }
        for pid, d in sorted(by_problem.items())
    ]
    with store.write() as conn:
        insert_new(conn, "pair", rows)
    return [r["id"] for r in rows]
