"""`still2 complete`: write the missing solution section of trajectories that have a thought but no solution.

The report's way (§2.2.1, for QwQ, which "directly outputs the correct answer following the thinking
process"): a reasoning model trained on STILL-format data - the user's choice, through any engine - is
given the problem under the STILL prompt and the assistant turn opened with the thought,

    <|begin_of_thought|> {thought} <|end_of_thought|> <|begin_of_solution|>

and continues it: "given the preceding thought process, the reasoning model can readily generate the
solution". Works on any selection: imported files (QwQ outputs), distilled or explored rollouts.

The source trajectory is never changed. Each completion is a new trajectory (same problem, origin and
thought author as its source; format flag `solution_completed`; meta.completed_from = the source id,
meta.completer = the completing model) with its own verdict. Its id hashes (source, completer), so a
rerun completes only what is left.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

from pipeline.engines.base import Engine, SamplingParams
from store import Store
from store.ids import stable_id
from store.ingest import add_trajectories
from store.prompting import chat_prompt
from store.trajectory_format import BEGIN_SOLUTION, BEGIN_THOUGHT, END_SOLUTION, END_THOUGHT, parse_response

COMPLETED_FLAG = "solution_completed"
# Rows a completion makes sense for: a non-blank thought, no solution, not cut inside the thought.
TODO = (
    "v.thought IS NOT NULL AND length(trim(v.thought)) > 0 AND v.solution IS NULL "
    "AND NOT list_contains(coalesce(v.format_flags, []::VARCHAR[]), 'truncated')"
)


@dataclass
class CompleteConfig:
    """What `still2 complete` does; CLI flags mirror the fields."""

    max_new_tokens: int = 4096  # ours: a solution section, not a second thought
    temperature: float = 0.0  # greedy: one solution per thought
    seed: int = 0
    batch_problems: int = 8
    system_prompt: str | None = None
    use_system: bool = True
    verifier_timeout: float = 5.0
    answer_policy: str = "default"  # where answers may be read (pipeline.verifier.policy)


@dataclass
class CompleteSummary:
    selected: int
    already_done: int
    completed: int
    correct: int

    def to_dict(self) -> dict:
        return asdict(self)


def assistant_prefix(thought: str) -> str:
    """The opened assistant turn the completer continues: the thought, closed, and the solution tag."""
    return f"{BEGIN_THOUGHT}\n\n{thought.strip()}\n\n{END_THOUGHT}\n\n{BEGIN_SOLUTION}"


def completion_id(source_id: str, completer: str) -> str:
    return stable_id(source_id, "completed", completer)


def select_sources(store: Store, where: str | None = None) -> list[dict]:
    """Trajectories with a thought and no solution (and not cut inside the thought), restricted by `where`
    (SQL over the trajectories view, alias v)."""
    clause = f"{TODO} AND ({where})" if where else TODO
    with store.read() as conn:
        return (
            conn.sql(f"""
            SELECT v.id, v.problem_id, v.thought, v.question, v.gold, v.answer_kind, v.origin, v.model,
                   v.iteration, v.run_id, p.choices
            FROM trajectories v LEFT JOIN problem p ON p.id = v.problem_id
            WHERE {clause} ORDER BY v.id""")
            .to_arrow_table()
            .to_pylist()
        )


def finished_text(prefix: str, continuation: str) -> str:
    """Prefix + continuation, cut after the end-of-solution tag when the model wrote one."""
    end = continuation.find(END_SOLUTION)
    if end >= 0:
        continuation = continuation[: end + len(END_SOLUTION)]
    return prefix + continuation


def complete_solutions(
    store: Store,
    engine: Engine,
    sources: list[dict],
    config: CompleteConfig,
    *,
    on_batch: Callable[[int], None] | None = None,
) -> CompleteSummary:
    from pipeline.verifier import grade_many, verdict_columns

    with store.read() as conn:
        done = {
            r[0]
            for r in conn.execute(
                "SELECT id FROM trajectory WHERE id IN (SELECT unnest(?))",
                [[completion_id(s["id"], engine.model_id) for s in sources]],
            ).fetchall()
        }
    todo = [s for s in sources if completion_id(s["id"], engine.model_id) not in done]
    completed = correct = 0
    for b in range(0, len(todo), config.batch_problems):
        batch = todo[b : b + config.batch_problems]
        prefixes = [assistant_prefix(s["thought"]) for s in batch]
        prompts = [
            chat_prompt(s["question"], s["choices"], config.system_prompt, use_system=config.use_system)
            + [{"role": "assistant", "content": prefix}]
            for s, prefix in zip(batch, prefixes)
        ]
        params = SamplingParams(
            n=1, temperature=config.temperature, max_new_tokens=config.max_new_tokens, seed=config.seed
        )
        results = engine.generate(prompts, params)
        texts = [finished_text(prefix, r.completions[0].text) for prefix, r in zip(prefixes, results)]
        verdicts = grade_many(
            [
                (s["gold"], text, s["answer_kind"], r.completions[0].finish_reason)
                for s, text, r in zip(batch, texts, results)
            ],
            timeout=config.verifier_timeout,
            policy=config.answer_policy,
        )
        rows = []
        for source, text, result, verdict in zip(batch, texts, results, verdicts):
            parsed = parse_response(text)
            completion = result.completions[0]
            rows.append(
                {
                    "id": completion_id(source["id"], engine.model_id),
                    "problem_id": source["problem_id"],
                    "text": text,
                    "thought": parsed.thought,
                    "solution": parsed.solution,
                    "format_style": parsed.style,
                    "format_flags": [*parsed.flags, COMPLETED_FLAG],
                    **verdict_columns(verdict, config.answer_policy),
                    "n_tokens": completion.n_tokens,
                    "origin": source["origin"],
                    "model": source["model"],
                    "run_id": None,
                    "iteration": source["iteration"],
                    "finish_reason": completion.finish_reason,
                    "seconds": completion.seconds,
                    "sampling": {
                        "temperature": config.temperature,
                        "max_new_tokens": config.max_new_tokens,
                        "seed": config.seed,
                    },
                    # run_id stays empty: a run's rows are its rollouts (explore resumes from their count)
                    "meta": {
                        "completed_from": source["id"],
                        "completer": engine.model_id,
                        "source_run": source["run_id"],
                    },
                }
            )
        with store.write() as conn:
            add_trajectories(conn, rows)
        completed += len(rows)
        correct += sum(r["verdict"] == "correct" for r in rows)
        if on_batch:
            on_batch(len(rows))
    return CompleteSummary(len(sources), len(sources) - len(todo), completed, correct)
