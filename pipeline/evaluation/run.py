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
from pathlib import Path
from typing import Any, Callable

from pipeline.evaluation.benchmarks import Benchmark, benchmark_problems, parse_benchmark
from pipeline.evaluation.metrics import benchmark_metrics, majority
from pipeline.evaluation.protocol import (
    PROMPTS,
    PROTOCOLS,
    PromptChoice,
    Protocol,
    default_prompt,
    engine_facts,
    mean_and_se,
    parse_samples,
    prompt_choice,
    resolve_protocol,
)
from pipeline.explore.config import ANSWER_POLICY_HELP, AnswerPolicyName, read_prompt
from pipeline.options import Choice, opt
from store.store import Store

ProtocolName = Choice("ProtocolName", [(p, p) for p in PROTOCOLS])
PromptName = Choice("PromptName", [(p, p) for p in PROMPTS])


def _samples(items: list[str] | None) -> dict[str, int] | None:
    return parse_samples(items) if items else None


@dataclass
class EvalConfig:
    """How `still2 eval` samples, prompts and grades; its options are generated from these fields."""

    protocol: str | None = field(
        default=None,
        metadata=opt(
            "greedy (the report's: one answer, T=0) | sampled (pass@1 averaged over k samples at T=0.6, top-p 0.95; "
            "k: AIME 64, MATH-500 4, GPQA 8, others 4), with its standard error.",
            choices=ProtocolName,
        ),
    )
    n: int | None = field(
        default=None,
        metadata=opt(
            "Samples per problem for every benchmark (sampled: overrides k; without --protocol: 1 = greedy, >1 sampled "
            "at T=0.6). >1 adds pass@n and maj@n.",
            min=1,
        ),
    )
    samples: dict[str, int] = field(
        default_factory=dict,
        metadata=opt(
            "k for one benchmark, BENCHMARK=K (repeatable), e.g. aime24=16.", cli_type=list[str], parse=_samples
        ),
    )
    temperature: float | None = field(
        default=None,
        metadata=opt(
            "Default: the protocol's (greedy 0, sampled 0.6; without --protocol 0 for n=1, 0.6 for n>1).", min=0.0
        ),
    )
    top_p: float | None = field(default=None, metadata=opt("Nucleus sampling (default: sampled 0.95, else 1.0)."))
    max_new_tokens: int = field(default=32768, metadata=opt("Per answer (report: 32768).", min=1))
    seed: int = field(default=0, metadata=opt("Sampling seed."))
    batch_problems: int = field(default=8, metadata=opt("Problems per generate call.", min=1))
    limit: int | None = field(default=None, metadata=opt("At most N problems per benchmark."))
    prompt: str | None = field(
        default=None,
        metadata=opt(
            "still (STILL-2 system prompt) | cot (no system prompt, 'reason step by step ... \\boxed{}') | none | "
            "custom (--prompt-file). Default: cot for a base model, still for one trained here.",
            choices=PromptName,
        ),
    )
    system_prompt: str | None = field(
        default=None,
        metadata=opt("System prompt file (default: STILL-2's).", "--prompt-file", cli_type=Path, parse=read_prompt),
    )
    use_system: bool = field(default=True, metadata=opt("No system prompt in the chat.", "--no-system", negate=True))
    verifier_timeout: float = field(default=5.0, metadata=opt("Seconds per verification (code: per test case)."))
    answer_policy: str = field(default="default", metadata=opt(ANSWER_POLICY_HELP, choices=AnswerPolicyName))

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
        return resolve_protocol(
            self.protocol, benchmark, samples=self.samples, k=self.n, temperature=self.temperature, top_p=self.top_p
        )

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

    return ExploreConfig(
        max_rollouts=proto.samples,
        want_correct=proto.samples + 1,
        per_round=proto.samples,
        batch_problems=cfg.batch_problems,
        temperature=proto.temperature,
        top_p=proto.top_p,
        max_new_tokens=cfg.max_new_tokens,
        seed=cfg.seed,
        system_prompt=prompt.system_prompt,
        use_system=prompt.use_system,
        instruction=prompt.instruction,
        origin="eval",
        verifier_timeout=cfg.verifier_timeout,
        answer_policy=cfg.answer_policy,
    )


def _outcomes(store: Store, run_id: str, ids: list[str]) -> dict[str, list[tuple[bool, str | None]]]:
    with store.read() as conn:
        rows = conn.execute(
            """SELECT problem_id, verdict = 'correct', extracted FROM trajectory
                               WHERE run_id = ? AND problem_id IN (SELECT unnest(?)) ORDER BY problem_id, sample_index""",
            [run_id, ids],
        ).fetchall()
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

    verdicts = grade_many(
        [
            (gold[pid].answer, answer_kind(gold[pid].answer_kind).as_prediction(m), gold[pid].answer_kind)
            for pid, m in todo
        ],
        timeout=timeout,
        policy=policy,
    )
    return {pid: v.equal for (pid, _), v in zip(todo, verdicts)}


def write_results(
    store: Store,
    model_id: str,
    benchmark: str,
    metrics: dict[str, float],
    n: int,
    run_id: str,
    record: dict[str, Any] | None = None,
    stderr: dict[str, float] | None = None,
) -> None:
    """Replace this run's rows for (model, benchmark): a resumed eval does not duplicate them.

    ``record`` (protocol, prompt, engine, engine_version, dtype, max_new_tokens, seed, temperature,
    top_p, samples, answer_policy) goes on every row; ``stderr`` per metric where known.
    """
    record = record or {}
    columns = ["model", "benchmark", "metric", "value", "n", "run_id", "stderr", *RECORD_COLUMNS]
    with store.write() as conn:
        conn.execute(
            "DELETE FROM eval_result WHERE model = ? AND benchmark = ? AND run_id = ?", [model_id, benchmark, run_id]
        )
        conn.executemany(
            f"INSERT INTO eval_result ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [
                [
                    model_id,
                    benchmark,
                    metric,
                    value,
                    n,
                    run_id,
                    (stderr or {}).get(metric),
                    *[record.get(c) for c in RECORD_COLUMNS],
                ]
                for metric, value in metrics.items()
            ],
        )


RECORD_COLUMNS = (
    "protocol",
    "prompt",
    "engine",
    "engine_version",
    "dtype",
    "max_new_tokens",
    "seed",
    "temperature",
    "top_p",
    "samples",
    "answer_policy",
)


def evaluate_benchmark(
    store: Store,
    engine,
    engine_kind: str,
    model_id: str,
    bench: Benchmark,
    cfg: EvalConfig,
    *,
    on_batch: Callable[[dict], None] | None = None,
    prompt: PromptChoice | None = None,
) -> dict[str, Any]:
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
    summary = explore(
        store,
        NamedEngine(engine, model_id),
        engine_kind,
        problems,
        config,
        run_id,
        on_batch=on_batch,
        run_args={"benchmark": bench.name, "eval": asdict(cfg), "protocol": asdict(proto), "prompt": prompt.label},
    )
    outcomes = _outcomes(store, run_id, selection["ids"])
    maj = _majority_verdicts(problems, outcomes, cfg.verifier_timeout, cfg.answer_policy) if proto.samples > 1 else None
    metrics = benchmark_metrics(outcomes, proto.samples, maj)
    _, se = mean_and_se([sum(ok for ok, _ in rs) / len(rs) for rs in outcomes.values()])
    record = {
        "protocol": proto.name,
        "prompt": prompt.label,
        **engine_facts(engine, engine_kind),
        "max_new_tokens": cfg.max_new_tokens,
        "seed": cfg.seed,
        "temperature": proto.temperature,
        "top_p": proto.top_p,
        "samples": proto.samples,
        "answer_policy": cfg.answer_policy,
    }
    write_results(store, model_id, bench.name, metrics, len(problems), run_id, record, {"accuracy": se})
    return {
        "model": model_id,
        "benchmark": bench.name,
        "problems": len(problems),
        "n": proto.samples,
        "run_id": run_id,
        "metrics": metrics,
        "stderr": {"accuracy": se},
        "record": record,
        "seconds": round(time.monotonic() - started, 2),
        "tokens": summary.tokens_new,
    }


def run_eval(
    store: Store,
    engine,
    engine_kind: str,
    model_id: str,
    benchmarks: list[str],
    cfg: EvalConfig,
    *,
    on_batch: Callable[[dict], None] | None = None,
) -> list[dict[str, Any]]:
    if cfg.n is not None and cfg.n < 1:
        raise ValueError("n must be >= 1")
    parsed = [parse_benchmark(b) for b in benchmarks]
    if not parsed:
        raise ValueError("give at least one --benchmark")
    for b in parsed:
        cfg.protocol_for(b.name)  # bad combinations fail before any generation
    with store.read() as conn:
        prompt = cfg.prompt_for(conn, model_id)
    return [
        evaluate_benchmark(store, engine, engine_kind, model_id, b, cfg, on_batch=on_batch, prompt=prompt)
        for b in parsed
    ]
