"""Code problems through explore and eval: programs from a scripted engine are run against the tests,
stored with their verdicts and reasons, and counted in accuracy, pass@k and maj@k."""

from __future__ import annotations

from pathlib import Path

from pipeline.engines.base import Completion, PromptResult
from pipeline.evaluation.run import EvalConfig, run_eval
from pipeline.explore.loop import ExploreConfig, derive_run_id, explore
from pipeline.explore.selection import select_problems
from store.importer import import_problems

MBPP = Path(__file__).resolve().parents[1] / "data" / "code" / "mbpp_sample.jsonl"

RIGHT = {
    "similar_elements": "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b)))",
    "is_not_prime": "def is_not_prime(n):\n    return any(n % i == 0 for i in range(2, int(n ** 0.5) + 1))",
    "heap_queue_largest": "import heapq\ndef heap_queue_largest(nums, n):\n    return heapq.nlargest(n, nums)",
    "square_perimeter": "def square_perimeter(a):\n    return 4 * a",
}
WRONG = {
    "similar_elements": "def similar_elements(a, b):\n    return tuple(set(a) | set(b))",
    "is_not_prime": "def is_not_prime(n):\n    return n % 2 == 0",
    "heap_queue_largest": "def heap_queue_largest(nums, n):\n    return sorted(nums)[:n]",
    "square_perimeter": "def square_perimeter(a):\n    return a * a",
}


def response(code: str) -> str:
    return (
        f"<|begin_of_thought|>\n\nLet me think.\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n"
        f"```python\n{code}\n```\n\n<|end_of_solution|>"
    )


class ScriptedCoder:
    """Answers each MBPP question with the programs of its script, one per sample, in order."""

    name = "scripted"
    model_id = "scripted"

    def __init__(self, script: dict[str, list[str]]):
        self.script = script
        self.seen: dict[str, int] = {}

    def generate(self, messages_list, params):
        out = []
        for i, messages in enumerate(messages_list):
            q = messages[-1]["content"]
            fn = next(name for name in self.script if name in q)
            comps = []
            for _ in range(params.n):
                k = self.seen.get(fn, 0)
                self.seen[fn] = k + 1
                programs = self.script[fn]
                comps.append(Completion(text=response(programs[k % len(programs)]), n_tokens=20, finish_reason="stop"))
            out.append(PromptResult(prompt_index=i, completions=comps, prompt_tokens=10))
        return out

    def close(self):
        pass


def rows(store, run_id):
    with store.read() as conn:
        return conn.execute(
            """SELECT p.meta->>'entry_point', t.verdict, t.verdict_reason, t.extracted
                               FROM trajectory t JOIN problem p ON p.id = t.problem_id WHERE t.run_id = ?
                               ORDER BY 1, t.sample_index""",
            [run_id],
        ).fetchall()


def test_eval_pass_at_k_and_majority_on_code(store):
    import_problems(store, str(MBPP), source="mbpp")
    # 2 samples each: both right, right+wrong, both wrong, wrong+right
    script = {
        "similar_elements": [RIGHT["similar_elements"]] * 2,
        "is_not_prime": [RIGHT["is_not_prime"], WRONG["is_not_prime"]],
        "heap_queue_largest": [WRONG["heap_queue_largest"]] * 2,
        "square_perimeter": [WRONG["square_perimeter"], RIGHT["square_perimeter"]],
    }
    [res] = run_eval(store, ScriptedCoder(script), "scripted", "coder", ["mbpp"], EvalConfig(n=2, max_new_tokens=64))
    m = res["metrics"]
    assert m["accuracy"] == 0.5  # 4 of 8 samples
    assert m["pass@2"] == 0.75  # 3 of 4 problems solved at least once
    assert m["maj@2"] == 0.5  # the first program wins a tie: right for similar_elements and is_not_prime
    got = rows(store, res["run_id"])
    assert len(got) == 8
    wrong = [r for r in got if r[1] == "incorrect"]
    assert {r[2].split(" failed")[0] for r in wrong} == {"tests: test 1/3"}
    assert (
        "is_not_prime",
        "incorrect",
        "tests: test 1/3 failed: assert is_not_prime(2) == False (got True)",
        WRONG["is_not_prime"],
    ) in got


def test_explore_stops_at_the_first_passing_program_and_stores_every_rollout(store):
    import_problems(store, str(MBPP), source="mbpp", split="train")
    script = {name: [WRONG[name], WRONG[name], RIGHT[name]] for name in RIGHT}
    script["heap_queue_largest"] = [WRONG["heap_queue_largest"]]  # never solved
    with store.read() as conn:
        problems = select_problems(conn, source="mbpp")
    config = ExploreConfig(max_rollouts=4, want_correct=1, per_round=1, batch_problems=4, max_new_tokens=64)
    run_id = derive_run_id("explore", "scripted", "scripted", config, {"source": "mbpp"})
    summary = explore(store, ScriptedCoder(script), "scripted", problems, config, run_id)
    got = rows(store, run_id)
    per = {}
    for fn, verdict, _, _ in got:
        per.setdefault(fn, []).append(verdict)
    assert per["heap_queue_largest"] == ["incorrect"] * 4
    for fn in ("similar_elements", "is_not_prime", "square_perimeter"):
        assert per[fn] == ["incorrect", "incorrect", "correct"]
    assert summary.tokens_new > 0


def test_mixed_dataset_of_math_code_and_multiple_choice(store, tmp_path, db_path):
    import json

    from typer.testing import CliRunner

    from pipeline.cli import app
    from store.ids import question_hash
    from store.ingest import add_problems

    data = Path(__file__).resolve().parents[1] / "data"
    import_problems(store, str(MBPP), source="mbpp", split="train")
    import_problems(store, str(data / "choices" / "riddlesense_sample.jsonl"), split="train")
    import_problems(store, str(data / "choices" / "science_mc_sample.jsonl"), split="train")
    with store.write() as conn:
        add_problems(
            conn,
            [
                {
                    "id": f"m{i}",
                    "source": "toy",
                    "question": f"What is {i} + {i}?",
                    "question_hash": question_hash(f"What is {i} + {i}?"),
                    "answer": str(2 * i),
                    "answer_kind": "int",
                    "domain": "math",
                    "split": "train",
                }
                for i in range(6)
            ],
        )
        rows = conn.execute(
            "SELECT question, answer, answer_kind, choices, meta->>'entry_point' FROM problem"
        ).fetchall()
    teacher = []
    for q, answer, kind, _choices, entry in rows:
        if kind == "code":
            sol = response(RIGHT[entry])
        elif kind == "mc":
            sol = response("").replace("```python\n\n```", f"The answer is ({answer}).")
        else:
            sol = response("").replace("```python\n\n```", f"So the answer is \\boxed{{{answer}}}.")
        teacher.append({"question": q, "response": sol})
    f = tmp_path / "teacher.jsonl"
    f.write_text("".join(json.dumps(t) + "\n" for t in teacher))
    cli = CliRunner()
    db = ["--db", str(db_path)]
    for args in (
        ["import", str(f), "--origin", "distill", "--model", "teacher"],
        ["verify", "--stale"],
        [
            "dataset",
            "build",
            "mix",
            "--domain-mix",
            "math=0.4,code=0.3,science=0.2,puzzle=0.1",
            "--size",
            "10",
            "--origins",
            "distill",
        ],
    ):
        result = cli.invoke(app, [*args, *db])
        assert result.exit_code == 0, result.output
    result = cli.invoke(app, ["dataset", "show", "mix", "--json", *db])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    counts = {d["domain"]: d["count"] for d in shown["domains"]}
    assert counts == {"math": 4, "code": 3, "science": 2, "puzzle": 1}


def test_cot_prompt_asks_code_problems_for_a_program_not_a_box(store):
    """The backbone's plain chain-of-thought prompt appends the \\boxed{} instruction to math questions only."""
    from store.ids import question_hash
    from store.ingest import add_problems
    from store.prompting import BOXED_INSTRUCTION

    import_problems(store, str(MBPP), source="mbpp")
    with store.write() as conn:
        add_problems(
            conn,
            [
                {
                    "id": "m1",
                    "source": "mbpp",
                    "question": "What is 2 + 2?",
                    "question_hash": question_hash("What is 2 + 2?"),
                    "answer": "4",
                    "answer_kind": "int",
                    "domain": "math",
                    "split": "test",
                }
            ],
        )
    seen = []

    class Recorder(ScriptedCoder):
        def generate(self, messages_list, params):
            seen.extend(m[-1]["content"] for m in messages_list)
            math = [i for i, m in enumerate(messages_list) if "2 + 2" in m[-1]["content"]]
            code = [m for m in messages_list if "2 + 2" not in m[-1]["content"]]
            out = super().generate(code, params)
            for i in math:
                out.insert(
                    i,
                    PromptResult(
                        prompt_index=i,
                        completions=[Completion(text="\\boxed{4}", n_tokens=3, finish_reason="stop")],
                        prompt_tokens=5,
                    ),
                )
            return [
                PromptResult(prompt_index=i, completions=r.completions, prompt_tokens=r.prompt_tokens)
                for i, r in enumerate(out)
            ]

    [res] = run_eval(
        store,
        Recorder({k: [v] for k, v in RIGHT.items()}),
        "scripted",
        "coder",
        ["mbpp"],
        EvalConfig(max_new_tokens=64, prompt="cot", batch_problems=8),
    )
    assert res["metrics"]["accuracy"] == 1.0  # 4 programs pass, 4 is right
    math = [q for q in seen if "2 + 2" in q]
    code = [q for q in seen if "2 + 2" not in q]
    assert len(math) == 1 and len(code) == 4
    assert math[0].endswith("\n" + BOXED_INSTRUCTION)
    assert all("boxed" not in q and q.endswith("put your final program in one ```python code block.") for q in code)
