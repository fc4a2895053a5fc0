"""`still2 eval`: run a model on benchmarks through the resumable explore loop (origin 'eval').

Each benchmark is one explore run with max_rollouts = want_correct - 1 = n, so every problem gets
exactly n samples (greedy by default) whatever their verdicts. Every output is stored as a trajectory
(model = the model id) with its verdict; the metrics go to `eval_result` for (model, benchmark, run).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

from pipeline.evaluation.benchmarks import Benchmark, benchmark_problems, parse_benchmark
from pipeline.evaluation.metrics import benchmark_metrics, majority
from store.store import Store


@dataclass
class EvalConfig:
    """CLI flags mirror these fields."""

    n: int = 1
    # None: greedy (0) for n = 1, 0.6 for sampled pass@k / maj@k.
    temperature: float | None = None
    top_p: float = 1.0
    max_new_tokens: int = 32768
    seed: int = 0
    batch_problems: int = 8
    limit: int | None = None
    system_prompt: str | None = None
    use_system: bool = True
    verifier_timeout: float = 5.0

    def effective_temperature(self) -> float:
        if self.temperature is not None:
            return self.temperature
        return 0.0 if self.n == 1 else 0.6


class NamedEngine:
    """An engine whose outputs are stored under the store's model id rather than the engine's own name."""

    def __init__(self, engine, model_id: str):
        self._engine = engine
        self.name = getattr(engine, "name", "engine")
        self.model_id = model_id

    def generate(self, messages_list, params):
        return self._engine.generate(messages_list, params)

    def score(self, prompts, responses):
        return self._engine.score(prompts, responses)

    def close(self) -> None:
        self._engine.close()


def _explore_config(cfg: EvalConfig):
    from pipeline.explore.loop import ExploreConfig

    return ExploreConfig(max_rollouts=cfg.n, want_correct=cfg.n + 1, per_round=cfg.n,
                         batch_problems=cfg.batch_problems, temperature=cfg.effective_temperature(),
                         top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens, seed=cfg.seed,
                         system_prompt=cfg.system_prompt, use_system=cfg.use_system, origin="eval",
                         verifier_timeout=cfg.verifier_timeout)


def _outcomes(store: Store, run_id: str, ids: list[str]) -> dict[str, list[tuple[bool, str | None]]]:
    with store.read() as conn:
        rows = conn.execute("""SELECT problem_id, verdict = 'correct', extracted FROM trajectory
                               WHERE run_id = ? AND problem_id IN (SELECT unnest(?)) ORDER BY problem_id, sample_index""",
                            [run_id, ids]).fetchall()
    out: dict[str, list[tuple[bool, str | None]]] = {}
    for pid, ok, extracted in rows:
        out.setdefault(pid, []).append((bool(ok), extracted))
    return out


def _majority_verdicts(problems, outcomes, timeout: float) -> dict[str, bool]:
    """maj@k: the verifier judges the majority extracted answer against the gold one."""
    from pipeline.verifier import grade_many

    gold = {p.id: p for p in problems}
    todo = [(pid, majority([e for _, e in rs])) for pid, rs in outcomes.items()]
    todo = [(pid, m) for pid, m in todo if m is not None]
    from pipeline.verifier.kinds import get as answer_kind

    verdicts = grade_many([(gold[pid].answer, answer_kind(gold[pid].answer_kind).as_prediction(m), gold[pid].answer_kind)
                           for pid, m in todo],
                          timeout=timeout)
    return {pid: v.equal for (pid, _), v in zip(todo, verdicts)}


def write_results(store: Store, model_id: str, benchmark: str, metrics: dict[str, float], n: int,
                  run_id: str) -> None:
    """Replace this run's rows for (model, benchmark): a resumed eval does not duplicate them."""
    with store.write() as conn:
        conn.execute("DELETE FROM eval_result WHERE model = ? AND benchmark = ? AND run_id = ?",
                     [model_id, benchmark, run_id])
        conn.executemany("INSERT INTO eval_result (model, benchmark, metric, value, n, run_id) VALUES (?, ?, ?, ?, ?, ?)",
                         [[model_id, benchmark, metric, value, n, run_id] for metric, value in metrics.items()])


def evaluate_benchmark(store: Store, engine, engine_kind: str, model_id: str, bench: Benchmark, cfg: EvalConfig,
                       *, on_batch: Callable[[dict], None] | None = None) -> dict[str, Any]:
    from pipeline.explore.loop import derive_run_id, explore

    problems = benchmark_problems(store, bench, cfg.limit)
    config = _explore_config(cfg)
    selection = {"benchmark": bench.name, "ids": [p.id for p in problems]}
    run_id = derive_run_id("eval", engine_kind, model_id, config, selection)
    started = time.monotonic()
    summary = explore(store, NamedEngine(engine, model_id), engine_kind, problems, config, run_id,
                      on_batch=on_batch, run_args={"benchmark": bench.name, "eval": asdict(cfg)})
    outcomes = _outcomes(store, run_id, selection["ids"])
    maj = _majority_verdicts(problems, outcomes, cfg.verifier_timeout) if cfg.n > 1 else None
    metrics = benchmark_metrics(outcomes, cfg.n, maj)
    write_results(store, model_id, bench.name, metrics, len(problems), run_id)
    return {"model": model_id, "benchmark": bench.name, "problems": len(problems), "n": cfg.n,
            "run_id": run_id, "metrics": metrics, "seconds": round(time.monotonic() - started, 2),
            "tokens": summary.tokens_new}


def run_eval(store: Store, engine, engine_kind: str, model_id: str, benchmarks: list[str], cfg: EvalConfig,
             *, on_batch: Callable[[dict], None] | None = None) -> list[dict[str, Any]]:
    if cfg.n < 1:
        raise ValueError("n must be >= 1")
    parsed = [parse_benchmark(b) for b in benchmarks]
    if not parsed:
        raise ValueError("give at least one --benchmark")
    return [evaluate_benchmark(store, engine, engine_kind, model_id, b, cfg, on_batch=on_batch) for b in parsed]
