"""`IterateConfig`: everything the loop does, with the `still2-paper` and `cpu-tiny` presets.

CLI flags of `still2 iterate` mirror the fields; a recipe gives the base values, flags override them.
still2-paper's values come from pipeline/loop/paper.py, where each is marked as the report's or ours.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from pipeline.loop.paper import loop_preset
from store.ids import stable_id


def _f(default: Any, help: str, **kw: Any) -> Any:
    """A dataclass field with its help text in the metadata (the CLI is generated from these later)."""
    if callable(default):
        return field(default_factory=default, metadata={"help": help}, **kw)
    return field(default=default, metadata={"help": help}, **kw)


@dataclass
class IterateConfig:
    rounds: int = _f(2, "Rounds T: M_1 (imitation) ... M_T; M_t explores to build D_t for M_{t+1}.")
    name: str | None = _f(None, "Loop name: prefixes datasets (NAME-D1 ...) and models (NAME-M1 ...); "
                                "None = derived from the config (same settings, same name: a rerun resumes).")
    model: str = _f("default", "M_0, the base every M_t is trained from (the report: Qwen2.5-32B-Instruct).")
    engine: str = _f("transformers", "Engine for M_t: transformers | vllm | openai.")
    engine_args: dict[str, Any] = _f(dict, "Engine options for M_t (batch_size, base_url, ...).")
    method: str = _f("sft", "sft: M_t = SFT(M_0, D_{t-1}) | dpo: M_1 = SFT(M_0, D_0), then M_t = DPO(M_1, P_{t-1}).")
    seed_dataset: str | None = _f(None, "D_0 (distilled data) when it is already in the store.")
    # Imitation data built in the loop when there is no seed dataset: a teacher distils D_0.
    teacher: str | None = _f(None, "Teacher model distilling D_0 in round 0 (served name, folder or 'default').")
    teacher_engine: str = _f("openai", "Engine of the teacher: openai (an API such as R1's) | vllm | transformers.")
    teacher_args: dict[str, Any] = _f(dict, "Teacher engine options (base_url, api_key_env, concurrency, ...).")
    distill_source: str | None = _f(None, "Problems the teacher is asked (default: the exploration pool's).")
    distill_where: str | None = _f(None, "SQL over problem (p.) / problem_stats (s.) for the distillation problems.")
    distill_limit: int | None = _f(None, "At most N distillation problems.")
    distill_rollouts: int = _f(4, "Teacher rollouts per problem, all kept and labelled.")
    distill_temperature: float = _f(0.7, "Teacher sampling temperature.")
    # Generated problems (train pool + disjoint test set) added first when generate_kind is set.
    generate_kind: str | None = _f(None, "Generate train/test problems of this kind first.")
    generate_difficulty: int = _f(1, "Difficulty of generated problems (1..5).")
    generate_train: int = _f(0, "Generated pool size.")
    generate_test: int = _f(0, "Generated test set size.")
    # The pool explored each round (frozen per round in the ledger).
    pool_source: str | None = _f(None, "Problem source of the exploration pool.")
    pool_split: str | None = _f("train", "Split of the pool.")
    pool_mode: str = _f("all", "all | unsolved | hardest.")
    pool_where: str | None = _f(None, "SQL over problem (p.) / problem_stats (s.).")
    pool_limit: int | None = _f(None, "At most N pool problems per round.")
    max_rollouts: int = _f(20, "Rollouts per problem at most (report: 20).")
    want_correct: int = _f(1, "Stop a problem after this many correct rollouts (report: 1).")
    per_round: int = _f(4, "Rollouts per problem per sampling round.")
    batch_problems: int = _f(8, "Problems per generate call.")
    temperature: float = _f(0.7, "Exploration temperature.")
    top_p: float = _f(1.0, "Exploration nucleus sampling.")
    max_new_tokens: int = _f(1024, "Tokens per rollout (explore and distill).")
    seed: int = _f(0, "Seed.")
    system_prompt: str | None = _f(None, "System prompt (None: STILL-2's).")
    use_system: bool = _f(True, "Send the system prompt.")
    filter_rules: list[str] = _f(lambda: ["repetition", "gibberish", "language_mix", "too_long"],
                                 "Filter rules run on each round's rollouts (and the distilled D_0).")
    exclude_flags: list[str] = _f(lambda: ["*"], "Flags that keep a trajectory out of D_t ('*' = any).")
    score: bool = _f(True, "Score perplexity with M_t (needed for perplexity selection and DPO pairs).")
    max_per_problem: int | None = _f(None, "New members of D_t per problem (highest perplexity first).")
    ppl_top_percent: float | None = _f(None, "Keep the top P% highest-perplexity new trajectories per domain.")
    pair_part: str | None = _f(None, "dpo: pairs of full responses or of thoughts (default: the DPO variant's part).")
    dpo_variant: str | None = _f(None, "dpo: a Table 4 row (full | full+sft | thought | thought+sft).")
    train_recipe: str | None = _f(None, "Trainer recipe (still2-paper | cpu-tiny).")
    train_overrides: dict[str, Any] = _f(dict, "Trainer fields overriding the recipe (KEY=VALUE).")
    benchmarks: list[str] = _f(list, "Benchmarks M_0 and every M_t are evaluated on.")
    eval_limit: int | None = _f(None, "At most N problems per benchmark.")
    eval_max_new_tokens: int = _f(32768, "Tokens per eval answer (report: 32k).")
    eval_batch_problems: int = _f(8, "Problems per eval generate call.")
    recipe: str | None = _f(None, "The loop recipe these values came from.")

    def validate(self) -> None:
        if self.rounds < 1:
            raise ValueError("rounds must be >= 1")
        if self.method not in ("sft", "dpo"):
            raise ValueError(f"method must be sft or dpo, got {self.method!r}")
        if self.pair_part not in (None, "full", "thought"):
            raise ValueError("pair_part must be full or thought")
        if self.dpo_variant is not None:
            from pipeline.training.config import DPO_VARIANTS

            if self.dpo_variant not in DPO_VARIANTS:
                raise ValueError(f"unknown DPO variant {self.dpo_variant!r}; known: {', '.join(DPO_VARIANTS)}")
        if self.distill_rollouts < 1:
            raise ValueError("distill_rollouts must be >= 1")

    def effective_pair_part(self) -> str:
        if self.pair_part:
            return self.pair_part
        if self.dpo_variant:
            from pipeline.training.config import DPO_VARIANTS

            return DPO_VARIANTS[self.dpo_variant].part
        return "full"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def loop_name(self) -> str:
        """Same settings (whatever the number of rounds), same name: that is what lets a rerun resume."""
        if self.name:
            return self.name
        fingerprint = {k: v for k, v in self.to_dict().items() if k not in ("rounds", "name")}
        return f"loop-{stable_id(json.dumps(fingerprint, sort_keys=True, default=str))[:8]}"

    def updated(self, **overrides: Any) -> "IterateConfig":
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown iterate field(s): {', '.join(unknown)}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


RECIPES: dict[str, dict[str, Any]] = {
    # The report's values and ours, each marked in pipeline/loop/paper.py (README's table comes from there).
    "still2-paper": loop_preset(),
    # The whole loop on CPU in minutes: SmolLM2-135M, generated arithmetic, short answers (all ours).
    "cpu-tiny": {"generate_kind": "arithmetic", "generate_difficulty": 1, "generate_train": 48,
                 "generate_test": 24, "max_rollouts": 4, "want_correct": 1, "per_round": 4,
                 "batch_problems": 16, "temperature": 0.8, "max_new_tokens": 96, "eval_max_new_tokens": 96,
                 "eval_batch_problems": 24, "use_system": False, "train_recipe": "cpu-tiny",
                 "filter_rules": ["repetition", "gibberish", "language_mix", "too_long"], "max_per_problem": 2,
                 "distill_rollouts": 2, "engine_args": {"batch_size": 32}},
}


def iterate_config(recipe: str | None, **overrides: Any) -> IterateConfig:
    preset: dict[str, Any] = {}
    if recipe:
        if recipe not in RECIPES:
            raise ValueError(f"unknown recipe {recipe!r}; known: {', '.join(RECIPES)}")
        preset = dict(RECIPES[recipe], recipe=recipe)
    config = IterateConfig().updated(**preset).updated(**overrides)
    config.validate()
    return config
