"""`IterateConfig`: everything the loop does, with the `still2-paper` and `cpu-tiny` presets.

CLI flags of `still2 iterate` mirror the fields; a recipe gives the base values, flags override them.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from store.ids import stable_id


@dataclass
class IterateConfig:
    rounds: int = 2
    # Loop name: prefixes the datasets (NAME-D1 ...) and models (NAME-M1 ...). None = derived from the config.
    name: str | None = None
    # M_0: every M_t is trained from it (the report's choice); round 1 explores with `explorer` or M_0.
    model: str = "default"
    explorer: str | None = None
    engine: str = "transformers"
    engine_args: dict[str, Any] = field(default_factory=dict)
    method: str = "sft"  # sft | dpo (round 1 trains M_1 by SFT; later rounds DPO from M_1 on pairs)
    seed_dataset: str | None = None  # D_0 (e.g. distilled data); D_1 = D_0 + new
    # Generated problems (train pool + disjoint test set) added first when generate_kind is set.
    generate_kind: str | None = None
    generate_difficulty: int = 1
    generate_train: int = 0
    generate_test: int = 0
    # The hard pool explored each round.
    pool_source: str | None = None
    pool_split: str | None = "train"
    pool_mode: str = "all"
    pool_where: str | None = None
    pool_limit: int | None = None
    max_rollouts: int = 20
    want_correct: int = 1
    per_round: int = 4
    batch_problems: int = 8
    temperature: float = 0.7
    top_p: float = 1.0
    max_new_tokens: int = 1024
    seed: int = 0
    system_prompt: str | None = None
    use_system: bool = True
    # Filters run on each round's rollouts; exclude_flags are those that keep a trajectory out of D_t.
    filter_rules: list[str] = field(default_factory=lambda: ["repetition", "gibberish", "language_mix"])
    exclude_flags: list[str] = field(default_factory=lambda: ["*"])
    score: bool = True
    max_per_problem: int | None = None
    ppl_top_percent: float | None = None
    pair_part: str = "full"
    train_recipe: str | None = None
    train_overrides: dict[str, Any] = field(default_factory=dict)
    # Evaluation of M_0 (round 0) and of every M_t.
    benchmarks: list[str] = field(default_factory=list)
    eval_limit: int | None = None
    eval_max_new_tokens: int = 32768
    eval_batch_problems: int = 8
    recipe: str | None = None

    def validate(self) -> None:
        if self.rounds < 1:
            raise ValueError("rounds must be >= 1")
        if self.method not in ("sft", "dpo"):
            raise ValueError(f"method must be sft or dpo, got {self.method!r}")
        if self.pair_part not in ("full", "thought"):
            raise ValueError("pair_part must be full or thought")

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
    # The report's constants: up to 20 rollouts per problem, M_t from M_0, greedy eval up to 32k tokens.
    "still2-paper": {"max_rollouts": 20, "want_correct": 1, "per_round": 4, "temperature": 0.7,
                     "max_new_tokens": 32768, "eval_max_new_tokens": 32768, "train_recipe": "still2-paper",
                     "pool_mode": "all", "filter_rules": ["repetition", "gibberish", "language_mix", "too_short",
                                                          "format", "duplicate", "no_answer"],
                     "benchmarks": ["math500", "aime24", "gpqa"]},
    # The whole loop on CPU in minutes: SmolLM2-135M, generated arithmetic, short answers.
    "cpu-tiny": {"generate_kind": "arithmetic", "generate_difficulty": 1, "generate_train": 48,
                 "generate_test": 24, "max_rollouts": 4, "want_correct": 1, "per_round": 4,
                 "batch_problems": 16, "temperature": 0.8, "max_new_tokens": 96, "eval_max_new_tokens": 96,
                 "eval_batch_problems": 24, "use_system": False, "train_recipe": "cpu-tiny",
                 "filter_rules": ["repetition", "gibberish", "language_mix"], "max_per_problem": 2,
                 "engine_args": {"batch_size": 32}},
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
