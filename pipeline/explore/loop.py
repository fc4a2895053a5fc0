"""The exploration loop: rounds of sampling until each problem has enough correct rollouts or hits the cap.

Resumable by construction: a run id is derived from everything that decides what gets sampled, each
rollout's id is (run, problem, sample index), and a batch is written in one transaction only after
it has been generated and verified. Killed at any point, the same command starts again from the
stored counts: finished problems are skipped, nothing is duplicated, only the unwritten batch is
redone.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Callable

from pipeline.engines.base import Engine, SamplingParams
from pipeline.explore.config import ExploreConfig  # noqa: F401 - the loop's config, imported from here too
from pipeline.explore.selection import ProblemRef
from store import Store, runs
from store.ids import stable_id
from store.ingest import add_trajectories
from store.prompting import chat_prompt
from store.trajectory_format import parse_response


def derive_run_id(origin: str, engine_kind: str, model_id: str, config: ExploreConfig, selection: dict) -> str:
    """Same command, same run id: this is what makes a rerun resume instead of starting over."""
    fingerprint = json.dumps(
        {
            "engine": engine_kind,
            "model": model_id,
            "sampling": config.sampling_fingerprint(),
            "iteration": config.iteration,
            "selection": selection,
        },
        sort_keys=True,
        default=str,
    )
    return f"{origin}-{stable_id(fingerprint)[:10]}"


@dataclass
class ExploreSummary:
    run_id: str
    problems: int
    skipped_finished: int
    solved: int
    rollouts_new: int
    correct_new: int
    tokens_new: int
    seconds: float
    rollouts_total: int = 0
    correct_total: int = 0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens_new / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["tokens_per_second"] = round(self.tokens_per_second, 1)
        d["pass_at_1"] = round(self.correct_total / self.rollouts_total, 4) if self.rollouts_total else None
        d["solved_fraction"] = round(self.solved / self.problems, 4) if self.problems else None
        return d


def _counts(store: Store, run_id: str, ids: list[str]) -> dict[str, tuple[int, int]]:
    with store.read() as conn:
        rows = conn.execute(
            """SELECT problem_id, count(*), count(*) FILTER (WHERE verdict = 'correct')
                               FROM trajectory WHERE run_id = ? AND problem_id IN (SELECT unnest(?))
                               GROUP BY problem_id""",
            [run_id, ids],
        ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def explore(
    store: Store,
    engine: Engine,
    engine_kind: str,
    problems: list[ProblemRef],
    config: ExploreConfig,
    run_id: str,
    *,
    on_batch: Callable[[dict], None] | None = None,
    run_args: dict | None = None,
) -> ExploreSummary:
    """Run (or resume) exploration over `problems`; every rollout is verified and stored."""
    from pipeline.verifier import grade_many, verdict_columns
    from pipeline.verifier.kinds import instruction_for

    # the row names this process (pid, host): a killed explore's row is recognised as stale (store/runs.py)
    runs.begin(
        store,
        run_id,
        config.origin,
        {"engine": engine_kind, "model": engine.model_id, "config": asdict(config), **(run_args or {})},
    )
    start = time.monotonic()
    counts = _counts(store, run_id, [p.id for p in problems])

    def finished(pid: str) -> bool:
        n, ok = counts.get(pid, (0, 0))
        return ok >= config.want_correct or n >= config.max_rollouts

    skipped = sum(finished(p.id) for p in problems)
    rollouts_new = correct_new = tokens_new = 0
    while True:
        open_problems = [p for p in problems if not finished(p.id)]
        if not open_problems:
            break
        for b in range(0, len(open_problems), config.batch_problems):
            batch = open_problems[b : b + config.batch_problems]
            # One generate call per batch with a common n: problems near their cap get fewer kept rollouts.
            n = min(config.per_round, max(config.max_rollouts - counts.get(p.id, (0, 0))[0] for p in batch))
            # The seed depends on the stored state, so a resumed run replays exactly the unwritten batch.
            state = ",".join(f"{p.id}:{counts.get(p.id, (0, 0))[0]}" for p in batch)
            seed = int(stable_id(config.seed, run_id, state)[:8], 16)
            params = SamplingParams(
                n=n,
                temperature=config.temperature,
                top_p=config.top_p,
                max_new_tokens=config.max_new_tokens,
                seed=seed,
                stop=config.stop,
            )
            prompts = [
                chat_prompt(
                    p.question,
                    p.choices,
                    config.system_prompt,
                    use_system=config.use_system,
                    instruction=instruction_for(config.instruction, p.answer_kind),
                )
                for p in batch
            ]
            t0 = time.monotonic()
            results = engine.generate(prompts, params)
            gen_seconds = time.monotonic() - t0
            pending = []
            for problem, result in zip(batch, results):
                have = counts.get(problem.id, (0, 0))[0]
                room = config.max_rollouts - have
                for j, completion in enumerate(result.completions[:room]):
                    pending.append((problem, have + j, completion))
            verdicts = grade_many(
                [(p.answer, c.text, p.answer_kind, c.finish_reason) for p, _, c in pending],
                timeout=config.verifier_timeout,
                workers=config.verifier_workers,
                policy=config.answer_policy,
            )
            rows = []
            sampling = {
                "temperature": config.temperature,
                "top_p": config.top_p,
                "max_new_tokens": config.max_new_tokens,
                "seed": seed,
                "n": n,
            }
            for (problem, index, completion), verdict in zip(pending, verdicts):
                parsed = parse_response(completion.text)
                meta = completion.raw_fields()  # the teacher's split fields, kept as they came
                rows.append(
                    {
                        "id": stable_id(run_id, problem.id, index),
                        "problem_id": problem.id,
                        "text": completion.text,
                        "thought": parsed.thought,
                        "solution": parsed.solution,
                        "format_style": parsed.style,
                        "format_flags": list(parsed.flags),
                        **verdict_columns(verdict, config.answer_policy),
                        "n_tokens": completion.n_tokens,
                        "origin": config.origin,
                        "model": engine.model_id,
                        "run_id": run_id,
                        "iteration": config.iteration,
                        "sample_index": index,
                        "sampling": sampling,
                        "finish_reason": completion.finish_reason,
                        "seconds": completion.seconds,
                        "meta": meta,
                    }
                )
            with store.write() as conn:
                add_trajectories(conn, rows)
            for row in rows:
                n_have, n_ok = counts.get(row["problem_id"], (0, 0))
                counts[row["problem_id"]] = (n_have + 1, n_ok + (row["verdict"] == "correct"))
            rollouts_new += len(rows)
            correct_new += sum(r["verdict"] == "correct" for r in rows)
            tokens_new += sum(r["n_tokens"] or 0 for r in rows)
            if on_batch:
                on_batch(
                    {
                        "rollouts": len(rows),
                        "correct": sum(r["verdict"] == "correct" for r in rows),
                        "tokens": sum(r["n_tokens"] or 0 for r in rows),
                        "gen_seconds": gen_seconds,
                        "solved": sum(counts.get(p.id, (0, 0))[1] > 0 for p in problems),
                        "finished": sum(finished(p.id) for p in problems),
                    }
                )

    totals = [counts.get(p.id, (0, 0)) for p in problems]
    summary = ExploreSummary(
        run_id=run_id,
        problems=len(problems),
        skipped_finished=skipped,
        solved=sum(ok > 0 for _, ok in totals),
        rollouts_new=rollouts_new,
        correct_new=correct_new,
        tokens_new=tokens_new,
        seconds=time.monotonic() - start,
        rollouts_total=sum(n for n, _ in totals),
        correct_total=sum(ok for _, ok in totals),
    )
    runs.end(store, run_id, "done", progress=summary.to_dict())
    return summary
