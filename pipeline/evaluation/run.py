"""`still2 eval`: run a model on benchmarks through the resumable explore loop (origin 'eval').

Each benchmark is one explore run with max_rollouts = want_correct - 1 = k, so every problem gets
exactly k samples whatever their verdicts; k, temperature and top-p come from the protocol
(pipeline/evaluation/protocol.py: greedy, or sampled pass@1 over k per benchmark), the prompt from
the model (cot for a base model, still for a trained one). Every output is stored as a trajectory
(model = the model id) with its verdict; the metrics go to `eval_result` for (model, benchmark, run)
with their standard error and what they were measured under (protocol, prompt, engine and version,
dtype, max tokens, seed, temperature, top-p, k, answer policy).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from pipeline.evaluation.benchmarks import Benchmark, benchmark_problems, parse_benchmark
from pipeline.evaluation.metrics import benchmark_metrics, majority
from pipeline.options import opt
from pipeline.evaluation.protocol import (
    PromptChoice,
    Protocol,
    default_prompt,
    engine_facts,
    mean_and_se,
    prompt_choice,
    resolve_protocol,
)
from store.store import Store


@dataclass
class EvalConfig:
    """CLI flags mirror these fields (``still2 eval --help``)."""

    # greedy | sampled (pipeline/evaluation/protocol.py); None: n and temperature as given (n = 1 greedy).
    protocol: str | None = field(default=None, metadata=opt("greedy | sampled (pass@1 over k samples)."))
    # Samples per problem: all benchmarks (None: the protocol's; legacy 1).
    n: int | None = field(default=None, metadata=opt("Samples per problem for every benchmark.", min=1))
    samples: dict[str, int] = field(default_factory=dict, metadata=opt("Samples per problem per benchmark.", cli=False))
    # None: greedy (0) for one sample, 0.6 for several; the sampled protocol: 0.6.
    temperature: float | None = field(default=None, metadata=opt("Sampling temperature.", min=0.0))
    top_p: float | None = field(default=None, metadata=opt("Nucleus sampling (sampled protocol: 0.95)."))
    max_new_tokens: int = 32768
    seed: int = 0
    batch_problems: int = 8
    limit: int | None = None
    # still | cot | none | custom; None: cot for a base model, still for one trained here (or what
    # system_prompt / use_system say).
    prompt: str | None = field(default=None, metadata=opt("still | cot | none | custom."))
    system_prompt: str | None = None
    use_system: bool = True
    verifier_timeout: float = 5.0
    answer_policy: str = field(default="default", metadata=opt(
        "Where answers may be read: strict | default | harness (pipeline/verifier/policy.py); recorded per result."))

    def effective_temperature(self) -> float:
        if self.temperature is not None:
            return self.temperature
        return 0.0 if (self.n or 1) == 1 else 0.6

    def protocol_for(self, benchmark: str) -> Protocol:
        if self.protocol is None:
            n = self.samples.get(benchmark) or self.n or 1
            temperature = self.temperature if self.temperature is not None else (0.0 if n == 1 else 0.6)
            name = "greedy" if n == 1 and temperature == 0 else "custom"
            return Protocol(name, n, temperature, 1.0 if self.top_p is None else self.top_p)
        if self.protocol == "greedy" and ((self.n or 1) > 1 or any(v > 1 for v in self.samples.values())):
            raise ValueError("the greedy protocol draws one answer per problem; use --protocol sampled for k samples")
        return resolve_protocol(self.protocol, benchmark, samples=self.samples, k=self.n,
                                temperature=self.temperature, top_p=self.top_p)

    def prompt_for(self, conn, model_id: str) -> PromptChoice:
        if self.prompt is not None:
            return prompt_choice(self.prompt, self.system_prompt)
        if not self.use_system:
            return prompt_choice("none")
        if self.system_prompt is not None:
            return prompt_choice("custom", self.system_prompt)
        return prompt_choice(default_prompt(conn, model_id))


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


def _explore_config(cfg: EvalConfig, proto: Protocol, prompt: PromptChoice):
    from pipeline.explore.loop import ExploreConfig

    return ExploreConfig(max_rollouts=proto.samples, want_correct=proto.samples + 1, per_round=proto.samples,
                         batch_problems=cfg.batch_problems, temperature=proto.temperature,
                         top_p=proto.top_p, max_new_tokens=cfg.max_new_tokens, seed=cfg.seed,
                         system_prompt=prompt.system_prompt, use_system=prompt.use_system,
                         instruction=prompt.instruction, origin="eval", verifier_timeout=cfg.verifier_timeout,
                         answer_policy=cfg.answer_policy)


def _outcomes(store: Store, run_id: str, ids: list[str]) -> dict[str, list[tuple[bool, str | None]]]:
    with store.read() as conn:
        rows = conn.execute("""SELECT problem_id, verdict = 'correct', extracted FROM trajectory
                               WHERE run_id = ? AND problem_id IN (SELECT unnest(?)) ORDER BY problem_id, sample_index""",
                            [run_id, ids]).fetchall()
    out: dict[str, list[tuple[bool, str | None]]] = {}
    for pid, ok, extracted in rows:
        out.setdefault(pid, []).append((bool(ok), extracted))
    return out


def _majority_verdicts(problems, outcomes, timeout: float, policy: str = "default") -> dict[str, bool]:
    """maj@k: the verifier judges the majority extracted answer against the gold one."""
    from pipeline.verifier import grade_many

    gold = {p.id: p for p in problems}
    todo = [(pid, majority([e for _, e in rs])) for pid, rs in outcomes.items()]
    todo = [(pid, m) for pid, m in todo if m is not None]
    from pipeline.verifier.kinds import get as answer_kind

    verdicts = grade_many([(gold[pid].answer, answer_kind(gold[pid].answer_kind).as_prediction(m), gold[pid].answer_kind)
                           for pid, m in todo],
                          timeout=timeout, policy=policy)
    return {pid: v.equal for (pid, _), v in zip(todo, verdicts)}


def write_results(store: Store, model_id: str, benchmark: str, metrics: dict[str, float], n: int,
                  run_id: str, record: dict[str, Any] | None = None, stderr: dict[str, float] | None = None) -> None:
    """Replace this run's rows for (model, benchmark): a resumed eval does not duplicate them.

    ``record`` (protocol, prompt, engine, engine_version, dtype, max_new_tokens, seed, temperature,
    top_p, samples, answer_policy) goes on every row; ``stderr`` per metric where known.
    """
    record = record or {}
    columns = ["model", "benchmark", "metric", "value", "n", "run_id", "stderr", *RECORD_COLUMNS]
    with store.write() as conn:
        conn.execute("DELETE FROM eval_result WHERE model = ? AND benchmark = ? AND run_id = ?",
                     [model_id, benchmark, run_id])
        conn.executemany(f"INSERT INTO eval_result ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                         [[model_id, benchmark, metric, value, n, run_id, (stderr or {}).get(metric),
                           *[record.get(c) for c in RECORD_COLUMNS]] for metric, value in metrics.items()])


RECORD_COLUMNS = ("protocol", "prompt", "engine", "engine_version", "dtype", "max_new_tokens", "seed", "temperature",
                  "top_p", "samples", "answer_policy")


def evaluate_benchmark(store: Store, engine, engine_kind: str, model_id: str, bench: Benchmark, cfg: EvalConfig,
                       *, on_batch: Callable[[dict], None] | None = None,
                       prompt: PromptChoice | None = None) -> dict[str, Any]:
    from pipeline.explore.loop import derive_run_id, explore

    problems = benchmark_problems(store, bench, cfg.limit)
    proto = cfg.protocol_for(bench.name)
    if prompt is None:
        with store.read() as conn:
            prompt = cfg.prompt_for(conn, model_id)
    config = _explore_config(cfg, proto, prompt)
    selection = {"benchmark": bench.name, "ids": [p.id for p in problems]}
    run_id = derive_run_id("eval", engine_kind, model_id, config, selection)
    started = time.monotonic()
    summary = explore(store, NamedEngine(engine, model_id), engine_kind, problems, config, run_id,
                      on_batch=on_batch, run_args={"benchmark": bench.name, "eval": asdict(cfg),
                                                   "protocol": asdict(proto), "prompt": prompt.label})
    outcomes = _outcomes(store, run_id, selection["ids"])
    maj = _majority_verdicts(problems, outcomes, cfg.verifier_timeout, cfg.answer_policy) if proto.samples > 1 else None
    metrics = benchmark_metrics(outcomes, proto.samples, maj)
    _, se = mean_and_se([sum(ok for ok, _ in rs) / len(rs) for rs in outcomes.values()])
    record = {"protocol": proto.name, "prompt": prompt.label, **engine_facts(engine, engine_kind),
              "max_new_tokens": cfg.max_new_tokens, "seed": cfg.seed, "temperature": proto.temperature,
              "top_p": proto.top_p, "samples": proto.samples, "answer_policy": cfg.answer_policy}
    write_results(store, model_id, bench.name, metrics, len(problems), run_id, record, {"accuracy": se})
    return {"model": model_id, "benchmark": bench.name, "problems": len(problems), "n": proto.samples,
            "run_id": run_id, "metrics": metrics, "stderr": {"accuracy": se}, "record": record,
            "seconds": round(time.monotonic() - started, 2), "tokens": summary.tokens_new}


def run_eval(store: Store, engine, engine_kind: str, model_id: str, benchmarks: list[str], cfg: EvalConfig,
             *, on_batch: Callable[[dict], None] | None = None) -> list[dict[str, Any]]:
    if cfg.n is not None and cfg.n < 1:
        raise ValueError("n must be >= 1")
    parsed = [parse_benchmark(b) for b in benchmarks]
    if not parsed:
        raise ValueError("give at least one --benchmark")
    for b in parsed:
        cfg.protocol_for(b.name)  # bad combinations fail before any generation
    with store.read() as conn:
        prompt = cfg.prompt_for(conn, model_id)
    return [evaluate_benchmark(store, engine, engine_kind, model_id, b, cfg, on_batch=on_batch, prompt=prompt)
            for b in parsed]
