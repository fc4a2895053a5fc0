"""The loop as the report runs it: imitate first, then explore with the latest model and self-improve.

Stages, with the report's names and what the store records (ledger steps are `run` rows of kind
'iterate-step', id iterate-NAME-r{round}-{step}):

    round 0   generate       problems (train pool + test set), when the recipe generates them
              eval           M_0 evaluated: Table 2's "Backbone" row
              distill        imitate, D_0 (§2.2.1): a teacher's rollouts, origin 'distill'  [--teacher]
              distill-filter the report's pre-processing rules on them
              seed           dataset NAME-D0 = the teacher's correct, unflagged rollouts  [or --seed-dataset]
    round t   train          t = 1: M_1 = SFT(M_0, D_0), the imitation model (§2.2.2)
                             t > 1: M_t = SFT(M_0, D_{t-1}) (§2.3.3), or with --method dpo
                                    M_t = DPO(M_1, P_{t-1}) (§2.3.3: "M_1 as the base model for DPO")
              eval           M_t evaluated
              pool           the problems M_t explores this round, frozen (--pool-mode ...)
              explore        explore with M_t (§2.3.1): rollouts origin 'explore', iteration t
              filter         pre-processing of the new rollouts (§2.3.2 "strict pre-processing")
              score          perplexity under M_t, "the current reasoning model" (§2.3.2)
              dataset        D_t = D_{t-1} + selected explored trajectories (§2.3.2)   [sft]
              pairs          P_t = P_{t-1} + pairs on M_t's perplexity: correct/high vs incorrect/low (§2.3.3) [dpo]
    (the explore steps run in rounds t < T: the last round trains and evaluates M_T)

Every step goes through the Ledger, so rerunning the same command skips finished steps and redoes
only the interrupted one (explore resumes inside itself as well); a larger --rounds continues a loop.
"""

from __future__ import annotations

from typing import Any, Callable

from pipeline.loop import steps
from pipeline.loop.config import IterateConfig
from pipeline.loop.ledger import Ledger
from store.store import Store

# (paper stage, what the store records) for `iterate --help` and README, generated from one place.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("r0-eval", "Backbone: M_0 evaluated (Table 2)", "eval_result, model = M_0"),
    ("r0-distill", "Imitate: distil D_0 from a teacher (§2.2.1)", "trajectories origin 'distill', run distill-*"),
    ("r0-distill-filter", "Pre-processing of the distilled data (§2.2.1)", "flag"),
    ("r0-seed", "D_0 (§2.3.2)", "dataset NAME-D0 (or --seed-dataset)"),
    ("r1-train", "Imitate: M_1 = SFT(M_0, D_0) (§2.2.2)", "model NAME-M1 (dataset D_0)"),
    ("rt-eval", "M_t evaluated", "eval_result, model = NAME-Mt"),
    ("rt-pool, rt-explore", "Explore with M_t (§2.3.1)", "trajectories origin 'explore', iteration t"),
    ("rt-filter", "Strict pre-processing at each refinement step (§2.3.2)", "flag"),
    ("rt-score", "Perplexity under the current model M_t (§2.3.2)", "perplexity, scorer = NAME-Mt"),
    ("rt-dataset", "D_t = D_{t-1} + selected (§2.3.2)", "dataset NAME-Dt, parent D_{t-1}"),
    ("r(t+1)-train", "Self-improve: M_{t+1} = SFT(M_0, D_t) (§2.3.3)", "model NAME-M(t+1) (dataset NAME-Dt)"),
    (
        "rt-pairs",
        "P_t = P_{t-1} + pairs by M_t's perplexity (§2.3.3)  [--method dpo]",
        "pair, dataset NAME-Pt (kind pairs)",
    ),
    ("r(t+1)-train", "M_{t+1} = DPO(M_1, P_t) (§2.3.3)  [--method dpo]", "model NAME-M(t+1), parent NAME-M1"),
)


def stage_table(markdown: bool = True) -> str:
    """The stage table; markdown for README, plain lines for --help."""
    if markdown:
        rows = ["| ledger step | stage in the report | in the store |", "|---|---|---|"]
        rows += [f"| `{s}` | {paper} | {store} |" for s, paper, store in STAGES]
        return "\n".join(rows) + "\n"
    width = max(len(s) for s, _, _ in STAGES)
    return "\n".join(f"{s.ljust(width)}  {paper}: {store}" for s, paper, store in STAGES)


class EngineCache:
    """One loaded engine at a time, keyed by model id (explore and score share it; a new model swaps it)."""

    def __init__(self, cfg: IterateConfig):
        self.cfg = cfg
        self.key: str | None = None
        self.engine = None

    def get(self, store: Store, model_id: str):
        from pipeline.evaluation.run import NamedEngine
        from pipeline.training.lineage import load_path, resolve

        if self.key == model_id and self.engine is not None:
            return self.engine
        self.close()
        from pipeline.engines.spec import EngineSpec

        ref = resolve(store, model_id)
        path = ref.path if self.cfg.engine == "openai" else load_path(ref)
        self.engine = NamedEngine(EngineSpec.from_args(self.cfg.engine, self.cfg.engine_args).build(path), ref.id)
        self.key = model_id
        return self.engine

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
        self.engine, self.key = None, None


def benchmarks_for(cfg: IterateConfig) -> list[str]:
    if cfg.benchmarks:
        return list(cfg.benchmarks)
    if cfg.generate_kind and cfg.generate_test:
        return [f"{steps.generated_source(cfg, 'test')}:test"]
    return []


def iterate(store: Store, cfg: IterateConfig, *, on_step: Callable[[str, dict], None] | None = None) -> dict[str, Any]:
    from pipeline.training.lineage import resolve

    cfg.validate()
    if not cfg.seed_dataset and not cfg.teacher:
        raise ValueError(
            "the loop starts by imitation (M_1 = SFT(M_0, D_0)): give --seed-dataset D_0 "
            "(e.g. distilled data in the store) or --teacher MODEL to distil D_0 in the loop"
        )
    loop = cfg.loop_name()
    ledger = Ledger(store, loop)
    ledger.start_loop({**cfg.to_dict(), "loop": loop})
    engines = EngineCache(cfg)
    benchmarks = benchmarks_for(cfg)
    history: dict[str, Any] = {"loop": loop, "rounds": []}

    def step(round_: int, name: str, fn: Callable[[], dict]) -> dict:
        out = ledger.step(round_, name, fn)
        if on_step:
            on_step(f"r{round_}-{name}", out)
        return out

    def evaluate(round_: int, model_id: str) -> dict | None:
        if not benchmarks:
            return None
        return step(
            round_, "eval", lambda: steps.eval_step(store, engines.get(store, model_id), cfg, model_id, benchmarks)
        )

    try:
        m0 = resolve(store, cfg.model)
        if cfg.generate_kind:
            step(0, "generate", lambda: steps.generate_problems(store, cfg))
        round0: dict[str, Any] = {"model": m0.id}
        round0["eval"] = evaluate(0, m0.id)
        engines.close()
        if cfg.seed_dataset:
            steps.check_dataset(store, cfg.seed_dataset)
            d0 = cfg.seed_dataset
        else:  # imitation data distilled in the loop
            distilled = step(0, "distill", lambda: steps.distill_step(store, cfg))
            step(0, "distill-filter", lambda: steps.filter_step(store, cfg, distilled["run_id"]))
            d0 = step(0, "seed", lambda: steps.seed_step(store, cfg, f"{loop}-D0", distilled["run_id"]))["dataset"]
        round0["seed_dataset"] = d0
        history["rounds"].append(round0)

        data, pairs, m1, latest = d0, None, None, m0.id
        for t in range(1, cfg.rounds + 1):
            record: dict[str, Any] = {"round": t}
            name = f"{loop}-M{t}"
            if t == 1 or cfg.method == "sft":
                train = step(
                    t, "train", lambda: steps.train_step(store, cfg, "sft", name=name, dataset=data, base=m0.id)
                )
            elif pairs and pairs["pairs"]:
                train = step(
                    t,
                    "train",
                    lambda: steps.train_step(
                        store, cfg, "dpo", name=name, dataset=pairs["dataset"], base=m0.id, start=m1
                    ),
                )
            else:
                train = step(t, "train", lambda: {"model": latest, "skipped": "no pairs"})
            record["train"] = train
            if t == 1:
                m1 = train["model"]
            if not train.get("skipped"):
                latest = train["model"]
                record["eval"] = evaluate(t, latest)
            if t == cfg.rounds:
                history["rounds"].append(record)
                break
            # Explore with the latest model M_t, filter, score with it, select D_t (or pairs P_t).
            record["explorer"] = latest
            pool = step(t, "pool", lambda: steps.pool_step(store, cfg))
            if not pool["ids"]:
                raise ValueError("the exploration pool is empty: add problems (or use --recipe cpu-tiny to generate)")
            ex = step(
                t,
                "explore",
                lambda: steps.explore_step(
                    store, engines.get(store, latest), cfg, t, steps.pool_refs(store, pool["ids"])
                ),
            )
            record["explore"] = ex
            step(t, "filter", lambda: steps.filter_step(store, cfg, ex["run_id"]))
            scorer = None
            if cfg.score:
                parts = "both" if cfg.method == "dpo" and cfg.effective_pair_part() == "thought" else "full"
                scorer = step(
                    t, "score", lambda: steps.score_step(store, engines.get(store, latest), ex["run_id"], parts)
                )["scorer"]
            engines.close()  # free memory before training
            if cfg.method == "dpo":
                if scorer:
                    parent = pairs["dataset"] if pairs else None
                    pairs = step(t, "pairs", lambda: steps.pairs_step(store, cfg, f"{loop}-P{t}", scorer, parent))
                    record["pairs"] = pairs
            else:
                ds = step(t, "dataset", lambda: steps.dataset_step(store, cfg, f"{loop}-D{t}", data, scorer))
                record["dataset"] = ds
                data = ds["dataset"]
            history["rounds"].append(record)
    except BaseException as exc:
        engines.close()
        ledger.end_loop("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    engines.close()
    history["skipped_steps"] = ledger.skipped
    history["ran_steps"] = ledger.ran
    ledger.end_loop("done", {"rounds": cfg.rounds, "ran": ledger.ran, "skipped": ledger.skipped})
    return history
