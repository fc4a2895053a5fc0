"""The loop itself: round 0 sets up (problems, baseline eval of M_0); round t explores with M_{t-1},
filters, scores, builds D_t, trains M_t (from M_0; or DPO from M_1 after round 1) and evaluates it.

Every step goes through the Ledger, so rerunning the same command skips finished steps and redoes
only the interrupted one (explore resumes inside itself as well).
"""
from __future__ import annotations

from typing import Any, Callable

from pipeline.loop.config import IterateConfig
from pipeline.loop.ledger import Ledger
from pipeline.loop import steps
from store.store import Store


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

    try:
        m0 = resolve(store, cfg.model)
        if cfg.generate_kind:
            step(0, "generate", lambda: steps.generate_problems(store, cfg))
        round0 = {"model": m0.id}
        if benchmarks:
            round0["eval"] = step(0, "eval", lambda: steps.eval_step(store, engines.get(store, m0.id), cfg, m0.id,
                                                                    benchmarks))
        history["rounds"].append(round0)
        explorer = resolve(store, cfg.explorer).id if cfg.explorer else m0.id
        parent = cfg.seed_dataset
        m1: str | None = None
        for t in range(1, cfg.rounds + 1):
            record: dict[str, Any] = {"round": t, "explorer": explorer}
            pool = steps.pool_problems(store, cfg)
            if not pool:
                raise ValueError("the exploration pool is empty: add problems (or use --recipe cpu-tiny to generate)")
            ex = step(t, "explore", lambda: steps.explore_step(store, engines.get(store, explorer), cfg, t, pool))
            record["explore"] = ex
            step(t, "filter", lambda: steps.filter_step(store, cfg, ex["run_id"]))
            scorer = None
            if cfg.score:
                scorer = step(t, "score", lambda: steps.score_step(
                    store, engines.get(store, explorer), ex["run_id"],
                    "both" if cfg.method == "dpo" and cfg.pair_part == "thought" else "full"))["scorer"]
            engines.close()  # free memory before training
            ds = step(t, "dataset", lambda: steps.dataset_step(store, cfg, f"{loop}-D{t}", parent, scorer))
            record["dataset"] = ds
            name = f"{loop}-M{t}"
            if cfg.method == "dpo" and t > 1 and m1 and scorer:
                pairs = step(t, "pairs", lambda: steps.pairs_step(store, cfg, f"{loop}-P{t}", scorer))
                record["pairs"] = pairs
                train = (step(t, "train", lambda: steps.train_step(store, cfg, "dpo", name=name, dataset=pairs["dataset"],
                                                                    base=m0.id, start=m1))
                         if pairs["pairs"] else step(t, "train", lambda: {"model": explorer, "skipped": "no pairs"}))
            elif ds["size"]:
                train = step(t, "train", lambda: steps.train_step(store, cfg, "sft", name=name, dataset=ds["dataset"],
                                                                  base=m0.id))
            else:
                train = step(t, "train", lambda: {"model": explorer, "skipped": "empty dataset"})
            record["train"] = train
            if m1 is None and train.get("method") == "sft":
                m1 = train["model"]
            if benchmarks and not train.get("skipped"):
                record["eval"] = step(t, "eval", lambda: steps.eval_step(store, engines.get(store, train["model"]), cfg,
                                                                         train["model"], benchmarks))
            explorer = train["model"]
            parent = ds["dataset"]
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
