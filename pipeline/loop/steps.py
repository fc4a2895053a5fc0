"""The loop's steps, each a plain function over the store returning the outputs the ledger records.

Filtering, scoring, dataset building and pair building use the curation packages (pipeline.filters,
pipeline.scoring, pipeline.datasets, pipeline.pairs). Only two small pieces are done here: generating
the problem sets (what `still2 problems generate` does) and collecting pairs into a 'pairs' dataset.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.loop.config import IterateConfig
from store.store import Store


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def generated_source(cfg: IterateConfig, split: str) -> str:
    seed = 1 if split == "train" else 2
    return f"gen-{cfg.generate_kind}-d{cfg.generate_difficulty}-s{seed}"


def generate_problems(store: Store, cfg: IterateConfig) -> dict[str, Any]:
    """A train pool (seed 1) and a disjoint test set (seed 2, questions of the pool removed)."""
    from pipeline.problems import generators
    from store.ingest import add_problems

    out: dict[str, Any] = {}
    pool_questions: set[str] = set()
    for split, n in (("train", cfg.generate_train), ("test", cfg.generate_test)):
        if n <= 0:
            continue
        source = generated_source(cfg, split)
        items = generators.generate(
            cfg.generate_kind, cfg.generate_difficulty, n + (n if split == "test" else 0), 1 if split == "train" else 2
        )
        if split == "train":
            items = items[:n]
            pool_questions = {g.question for g in items}
        else:
            items = [g for g in items if g.question not in pool_questions][:n]
        rows = [g.problem_row(source, split) for g in items]
        with store.write() as conn:
            add_problems(conn, rows)
        out[split] = {"source": source, "problems": len(rows)}
    return out


def pool_source(cfg: IterateConfig) -> str | None:
    return cfg.pool_source or (generated_source(cfg, "train") if cfg.generate_kind else None)


def pool_problems(store: Store, cfg: IterateConfig):
    from pipeline.explore.selection import select_problems

    with store.read() as conn:
        return select_problems(
            conn,
            mode=cfg.pool_mode,
            where=cfg.pool_where,
            source=pool_source(cfg),
            split=cfg.pool_split,
            limit=cfg.pool_limit,
        )


def pool_step(store: Store, cfg: IterateConfig) -> dict[str, Any]:
    """The round's pool, frozen in the ledger: a resumed round explores the same problems even though
    'unsolved' / 'hardest' would now choose others."""
    return {"ids": [p.id for p in pool_problems(store, cfg)], "mode": cfg.pool_mode}


def pool_refs(store: Store, ids: list[str]):
    from pipeline.explore.selection import select_problems

    with store.read() as conn:
        return select_problems(conn, problem_ids=ids)


def check_dataset(store: Store, name: str) -> None:
    with store.read() as conn:
        if not conn.execute("SELECT count(*) FROM dataset WHERE name = ?", [name]).fetchone()[0]:
            raise ValueError(f"seed dataset {name!r} does not exist (see `still2 dataset list`)")


def distill_step(store: Store, cfg: IterateConfig) -> dict[str, Any]:
    """Imitation data: the teacher's rollouts on the distillation problems, every one kept and labelled."""
    from pipeline.engines.spec import EngineSpec
    from pipeline.explore.loop import ExploreConfig, derive_run_id, explore
    from pipeline.explore.selection import select_problems

    with store.read() as conn:
        problems = select_problems(
            conn,
            where=cfg.distill_where,
            source=cfg.distill_source or pool_source(cfg),
            split=cfg.pool_split,
            limit=cfg.distill_limit,
        )
    if not problems:
        raise ValueError("no problems to distil (see --distill-source / --distill-where)")
    n = cfg.distill_rollouts
    config = ExploreConfig(
        max_rollouts=n,
        want_correct=n + 1,
        per_round=n,
        batch_problems=cfg.batch_problems,
        temperature=cfg.distill_temperature,
        top_p=cfg.top_p,
        max_new_tokens=cfg.max_new_tokens,
        seed=cfg.seed,
        system_prompt=cfg.system_prompt,
        use_system=cfg.use_system,
        iteration=0,
        origin="distill",
    )
    selection = {"loop": cfg.loop_name(), "distill": True, "ids": [p.id for p in problems]}
    engine = EngineSpec.from_args(cfg.teacher_engine, cfg.teacher_args).build(cfg.teacher)
    try:
        run_id = derive_run_id("distill", cfg.teacher_engine, engine.model_id, config, selection)
        summary = explore(
            store, engine, cfg.teacher_engine, problems, config, run_id, run_args={"selection": selection}
        )
    finally:
        engine.close()
    return {
        "run_id": run_id,
        "teacher": engine.model_id,
        "problems": summary.problems,
        "solved": summary.solved,
        "rollouts": summary.rollouts_total,
        "correct": summary.correct_total,
    }


def seed_step(store: Store, cfg: IterateConfig, name: str, run_id: str) -> dict[str, Any]:
    """D_0 = the distillation run's correct rollouts that no filter flagged."""
    from pipeline.datasets import DatasetRecipe, build_dataset

    recipe = DatasetRecipe(
        origins=["distill"], runs=[run_id], correct_only=True, exclude_flags=list(cfg.exclude_flags), seed=cfg.seed
    )
    result = build_dataset(store, name, recipe, note=f"iterate {cfg.loop_name()}: D_0 distilled", replace=True)
    if not result.size:
        raise ValueError(f"the teacher produced no correct, unflagged trajectory: D_0 ({name}) is empty")
    return {"dataset": name, "size": result.size}


def explore_step(store: Store, engine, cfg: IterateConfig, round_: int, pool) -> dict[str, Any]:
    from pipeline.explore.loop import ExploreConfig, derive_run_id, explore

    config = ExploreConfig(
        max_rollouts=cfg.max_rollouts,
        want_correct=cfg.want_correct,
        per_round=cfg.per_round,
        batch_problems=cfg.batch_problems,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_new_tokens=cfg.max_new_tokens,
        seed=cfg.seed,
        system_prompt=cfg.system_prompt,
        use_system=cfg.use_system,
        iteration=round_,
        origin="explore",
    )
    selection = {"loop": cfg.loop_name(), "round": round_, "ids": [p.id for p in pool]}
    run_id = derive_run_id("explore", cfg.engine, engine.model_id, config, selection)
    summary = explore(store, engine, cfg.engine, pool, config, run_id, run_args={"selection": selection})
    return {
        "run_id": run_id,
        "model": engine.model_id,
        "problems": summary.problems,
        "solved": summary.solved,
        "rollouts": summary.rollouts_total,
        "correct": summary.correct_total,
        "tokens_new": summary.tokens_new,
    }


def filter_step(store: Store, cfg: IterateConfig, run_id: str) -> dict[str, Any]:
    from pipeline.filters import run_filters

    if not cfg.filter_rules:
        return {"rules": []}
    # too_long: a rollout longer than the generation budget (which the training max_length covers) or cut by it.
    params = {"too_long": {"max_tokens": cfg.max_new_tokens}} if "too_long" in cfg.filter_rules else None
    report = run_filters(store, list(cfg.filter_rules), where=f"run_id = {_quote(run_id)}", params=params)
    return {"rules": cfg.filter_rules, "covered": report.covered, "flagged": {c.rule: c.flagged for c in report.counts}}


def score_step(store: Store, engine, run_id: str, parts: str = "full") -> dict[str, Any]:
    from pipeline.scoring import score_trajectories

    report = score_trajectories(store, engine, scorer=engine.model_id, part=parts, where=f"run_id = {_quote(run_id)}")
    return {"scorer": report.scorer, "scored": report.scored, "tokens": report.tokens}


def dataset_step(store: Store, cfg: IterateConfig, name: str, parent: str | None, scorer: str | None) -> dict[str, Any]:
    """D_t = D_{t-1} + new correct, unflagged explored trajectories.

    Without perplexity selection the candidates are every exploration run's rows (the report keeps "a global
    pool across multiple runs", §3.2); with it (still2-paper) only rows M_t scored, i.e. this round's, since
    the perplexity is the one "recognized by the current reasoning model" (§2.3.2)."""
    from pipeline.datasets import DatasetRecipe, build_dataset

    recipe = DatasetRecipe(
        parent=parent,
        origins=["explore"],
        correct_only=True,
        exclude_flags=list(cfg.exclude_flags),
        max_per_problem=cfg.max_per_problem,
        ppl_scorer=scorer if cfg.ppl_top_percent else None,
        ppl_top_percent=cfg.ppl_top_percent,
        seed=cfg.seed,
    )
    result = build_dataset(store, name, recipe, note=f"iterate {cfg.loop_name()}", replace=True)
    return {"dataset": name, "size": result.size, "inherited": result.inherited, "added": result.added}


def pairs_step(store: Store, cfg: IterateConfig, name: str, scorer: str, parent: str | None = None) -> dict[str, Any]:
    """P_t = P_{t-1} + the pairs built by the perplexity-contrast rule on M_t's scores (meta.scorer), collected
    into dataset `name` of kind 'pairs' (the inline piece: `still2 dataset build` selects trajectories only).

    Pairs made elsewhere (by hand, under another scorer, or with `pairs build --allow eval`) are not taken,
    and a pair with a side the default exclusions remove (pipeline.datasets.exclusions) never enters."""
    import pyarrow as pa

    from pipeline.pairs import PairOptions, build_pairs
    from pipeline.pairs.export import pair_keep_sql
    from store.ingest import insert_new

    part = cfg.effective_pair_part()
    report = build_pairs(
        store, PairOptions(scorer=scorer, part=part, max_per_problem=1, skip_flags=list(cfg.exclude_flags))
    )
    with store.read() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                f"""
            SELECT pr.id FROM pair pr
            WHERE pr.part = ? AND pr.status <> 'rejected' AND {pair_keep_sql([])}
              AND (json_extract_string(pr.meta, '$.scorer') = ?
                   OR pr.id IN (SELECT member_id FROM dataset_member WHERE dataset = ?))
            ORDER BY pr.id""",
                [part, scorer, parent or ""],
            ).fetchall()
        ]
        inherited = {
            r[0]
            for r in conn.execute("SELECT member_id FROM dataset_member WHERE dataset = ?", [parent or ""]).fetchall()
        }
    with store.write() as conn:
        conn.execute("DELETE FROM dataset_member WHERE dataset = ?", [name])
        conn.execute("DELETE FROM dataset WHERE name = ?", [name])
        conn.execute(
            "INSERT INTO dataset (name, parent, kind, recipe, n_members, note) VALUES (?, ?, 'pairs', ?, ?, ?)",
            [
                name,
                parent,
                json.dumps({"part": part, "scorer": scorer, "rule": "ppl_contrast"}),
                len(ids),
                f"iterate {cfg.loop_name()}",
            ],
        )
        if ids:
            insert_new(
                conn,
                "dataset_member",
                pa.Table.from_pylist([{"dataset": name, "member_id": i, "inherited": i in inherited} for i in ids]),
            )
    return {"dataset": name, "pairs": len(ids), "inherited": len(inherited & set(ids)), "added": report.added}


def train_step(
    store: Store, cfg: IterateConfig, method: str, *, name: str, dataset: str, base: str, start: str | None = None
) -> dict[str, Any]:
    from pipeline.training.config import recipe_config

    overrides = dict(cfg.train_overrides)
    overrides.update(
        dataset=dataset,
        base=base,
        name=name,
        from_model=start,
        use_system=cfg.use_system,
        system_prompt=cfg.system_prompt,
    )
    if method == "dpo":
        overrides.setdefault("variant", cfg.dpo_variant)
        if cfg.pair_part:
            overrides.setdefault("part", cfg.pair_part)
    config = recipe_config(method, cfg.train_recipe, **overrides)
    if method == "sft":
        from pipeline.training.sft import run_sft

        result = run_sft(store, config, show_progress=False)
    else:
        from pipeline.training.dpo import run_dpo

        result = run_dpo(store, config, show_progress=False)
    return {"model": result.model_id, "path": result.path, "method": method, **result.metrics}


def eval_step(store: Store, engine, cfg: IterateConfig, model_id: str, benchmarks: list[str]) -> dict[str, Any]:
    from pipeline.evaluation.run import EvalConfig, run_eval

    config = EvalConfig(
        n=1,
        max_new_tokens=cfg.eval_max_new_tokens,
        batch_problems=cfg.eval_batch_problems,
        limit=cfg.eval_limit,
        system_prompt=cfg.system_prompt,
        use_system=cfg.use_system,
        seed=cfg.seed,
    )
    results = run_eval(store, engine, cfg.engine, model_id, benchmarks, config)
    return {
        "model": model_id,
        "accuracy": {r["benchmark"]: r["metrics"].get("accuracy") for r in results},
        "problems": {r["benchmark"]: r["problems"] for r in results},
    }
