"""The report's trick for outputs with a thought but no solution section: ask a model to write it.

The original trajectory stays as it was; the completed one is a new trajectory (flag
`solution_completed`, meta.completed_from = the original id) with its own verdict.
"""
from __future__ import annotations

from pipeline.engines.base import Engine, SamplingParams
from pipeline.explore.loop import ExploreConfig
from store import Store
from store.ids import stable_id
from store.ingest import add_trajectories
from store.trajectory_format import to_still

INSTRUCTION = ("Here is a careful reasoning process for the problem above:\n\n{thought}\n\n"
               "Based only on this reasoning, write the final solution: a concise, clear derivation that ends "
               "with the final answer in \\boxed{{}}. Do not repeat the exploration.")


def complete_missing_solutions(store: Store, engine: Engine, run_id: str, config: ExploreConfig) -> int:
    from pipeline.verifier import VERIFIER_VERSION, grade_many

    with store.read() as conn:
        todo = conn.execute("""
            SELECT t.id, t.problem_id, t.thought, p.question, p.answer, p.answer_kind, t.iteration
            FROM trajectory t JOIN problem p ON p.id = t.problem_id
            WHERE t.run_id = ? AND t.solution IS NULL AND t.thought IS NOT NULL AND length(trim(t.thought)) > 0
              AND NOT EXISTS (SELECT 1 FROM trajectory c WHERE c.id = substr(sha1(t.id || chr(0) || 'completed'), 1, 16))
            ORDER BY t.id""", [run_id]).fetchall()
    if not todo:
        return 0
    prompts = [[{"role": "user", "content": f"{question}\n\n" + INSTRUCTION.format(thought=thought)}]
               for _, _, thought, question, *_ in todo]
    params = SamplingParams(n=1, temperature=0.0, max_new_tokens=min(config.max_new_tokens, 1024), seed=config.seed)
    results = engine.generate(prompts, params)
    texts = []
    for (tid, pid, thought, _q, _a, _k, it), result in zip(todo, results):
        solution = result.completions[0].text.strip()
        texts.append((tid, pid, thought, solution, it, result.completions[0]))
    verdicts = grade_many([(row[4], to_still(t[2], t[3]), row[5], t[5].finish_reason) for row, t in zip(todo, texts)],
                          timeout=config.verifier_timeout, policy=config.answer_policy)
    rows = []
    for (tid, pid, thought, solution, it, completion), verdict in zip(texts, verdicts):
        rows.append({
            "id": stable_id(tid, "completed"), "problem_id": pid, "text": to_still(thought, solution),
            "thought": thought, "solution": solution, "format_style": "still",
            "format_flags": ["solution_completed"], "extracted": verdict.extracted,
            "verdict": "correct" if verdict.equal else "incorrect", "verdict_reason": verdict.reason,
            "answer_source": verdict.answer_source, "answer_policy": config.answer_policy,
            "verdict_rule": verdict.rule,
            "verifier_version": VERIFIER_VERSION, "n_tokens": completion.n_tokens, "origin": config.origin,
            "model": engine.model_id, "run_id": run_id, "iteration": it, "finish_reason": completion.finish_reason,
            "meta": {"completed_from": tid, "completer": engine.model_id},
        })
    with store.write() as conn:
        return add_trajectories(conn, rows)
