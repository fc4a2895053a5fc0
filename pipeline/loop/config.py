"""`IterateConfig`: everything the loop does, with the `still2-paper` and `cpu-tiny` presets.

`still2 iterate`'s options (and the TUI's form) are generated from the fields; a recipe gives the base
values, then --config FILE / --set key=value, then flags.
still2-paper's values come from pipeline/loop/paper.py, where each is marked as the report's or ours.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from pipeline.engines.spec import EngineKind, EngineSpec, _value
from pipeline.loop.paper import loop_preset
from pipeline.options import Choice, comma_list, opt
from pipeline.training.config import DPOPart, DPOVariantName, RecipeName
from store.ids import stable_id

RECIPES: dict[str, dict[str, Any]] = {
    # The report's values and ours, each marked in pipeline/loop/paper.py (README's table comes from there).
    "still2-paper": loop_preset(),
    # The whole loop on CPU in minutes: SmolLM2-135M, generated arithmetic, short answers (all ours).
    "cpu-tiny": {
        "generate_kind": "arithmetic",
        "generate_difficulty": 1,
        "generate_train": 48,
        "generate_test": 24,
        "max_rollouts": 4,
        "want_correct": 1,
        "per_round": 4,
        "batch_problems": 16,
        "temperature": 0.8,
        "max_new_tokens": 96,
        "eval_max_new_tokens": 96,
        "eval_batch_problems": 24,
        "use_system": False,
        "train_recipe": "cpu-tiny",
        "filter_rules": ["repetition", "gibberish", "language_mix", "too_long"],
        "max_per_problem": 2,
        "distill_rollouts": 2,
        "engine_args": {"batch_size": 32},
    },
}
LoopRecipe = Choice("LoopRecipe", [(r, r) for r in RECIPES])
Method = Choice("Method", [("sft", "sft"), ("dpo", "dpo")])
PoolMode = Choice("PoolMode", [(m, m) for m in ("all", "unsolved", "hardest")])
# Dict fields a command line adds to (KEY=VALUE items) rather than replaces: see IterateConfig.merged.
MERGED = ("engine_args", "teacher_args", "train_overrides")
_ENGINE_FIELDS = {f.name for f in fields(EngineSpec)} - {"engine", "engine_opt"}


def engine_items(items: list[str] | None) -> dict[str, Any] | None:
    """KEY=VALUE items as engine options: EngineSpec's own fields (base_url, batch_size, ...) by name, any
    other key passed through to the engine constructor (EngineSpec.engine_opt)."""
    if not items:
        return None
    out: dict[str, Any] = {}
    for item in items:
        key, _, value = item.partition("=")
        key = key.strip()
        if key in _ENGINE_FIELDS:
            out[key] = _value(value)
        else:
            out["engine_opt"] = [*out.get("engine_opt", []), f"{key}={value}"]
    return out


def key_values(items: list[str] | None) -> dict[str, Any] | None:
    """KEY=VALUE items as a mapping (values read as JSON when they parse)."""
    return {k.strip(): _value(v) for k, _, v in (i.partition("=") for i in items)} if items else None


def _f(default: Any, help: str, *flags: str, **kw: Any) -> Any:
    """A dataclass field whose help, flags and choices are option metadata (the CLI is generated from it)."""
    meta = opt(help, *flags, **kw)
    if callable(default):
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class IterateConfig:
    """Everything `still2 iterate` does; its options are generated from these fields (cli=False: set by a
    recipe, --config or --set only)."""

    rounds: int = _f(
        2,
        "Rounds T: M_1 (imitation) ... M_T; M_t explores to build D_t for M_{t+1} (a larger T continues a loop).",
        min=1,
    )
    recipe: str | None = _f(
        None,
        "Preset: still2-paper | cpu-tiny (--config, --set and flags override it; see --recipe-table).",
        "--recipe",
        choices=LoopRecipe,
    )
    name: str | None = _f(
        None,
        "Loop name: prefixes datasets (NAME-D1 ...) and models (NAME-M1 ...); default: "
        "derived from the settings (same settings, same name: a rerun resumes).",
    )
    model: str = _f("default", "Base model M_0 every M_t is trained from (still2-paper: Qwen/Qwen2.5-32B-Instruct).")
    engine: str = _f("transformers", "Engine for M_t.", choices=EngineKind)
    engine_args: dict[str, Any] = _f(
        dict,
        "Engine option for M_t KEY=VALUE (repeatable), e.g. batch_size=16 or max_model_len=4096.",
        "--engine-opt",
        cli_type=list[str],
        parse=engine_items,
    )
    method: str = _f(
        "sft", "sft: M_t = SFT(M_0, D_{t-1}) | dpo: M_1 = SFT(M_0, D_0), then M_t = DPO(M_1, P_{t-1}).", choices=Method
    )
    seed_dataset: str | None = _f(None, "D_0 (distilled data) when it is already in the store.")
    # Imitation data built in the loop when there is no seed dataset: a teacher distils D_0.
    teacher: str | None = _f(
        None,
        "Teacher model distilling D_0 in round 0 when there is no --seed-dataset (served name, folder or 'default').",
    )
    teacher_engine: str = _f("openai", "Engine of the teacher (openai: an API such as R1's).", choices=EngineKind)
    teacher_args: dict[str, Any] = _f(
        dict,
        "Teacher engine option KEY=VALUE (repeatable), e.g. base_url=http://host:8000/v1.",
        "--teacher-opt",
        cli_type=list[str],
        parse=engine_items,
    )
    distill_source: str | None = _f(None, "Problems the teacher is asked (default: the pool's).")
    distill_where: str | None = _f(None, "SQL over problem (p.) / problem_stats (s.) for the distillation problems.")
    distill_limit: int | None = _f(None, "At most N distillation problems.")
    distill_rollouts: int = _f(4, "Teacher rollouts per problem, all kept and labelled.")
    distill_temperature: float = _f(0.7, "Teacher sampling temperature.", cli=False)
    # Generated problems (train pool + disjoint test set) added first when generate_kind is set.
    generate_kind: str | None = _f(None, "Generate train/test problems of this kind first.")
    generate_difficulty: int = _f(1, "Difficulty of generated problems (1..5).")
    generate_train: int = _f(0, "Generated pool size.")
    generate_test: int = _f(0, "Generated test set size.")
    # The pool explored each round (frozen per round in the ledger).
    pool_source: str | None = _f(None, "Problem source of the exploration pool.")
    pool_split: str | None = _f("train", "Split of the pool.")
    pool_mode: str = _f("all", "Which pool problems each round explores.", choices=PoolMode)
    pool_where: str | None = _f(None, "SQL over problem (p.) / problem_stats (s.).")
    pool_limit: int | None = _f(None, "At most N pool problems per round.")
    max_rollouts: int = _f(20, "Rollouts per problem at most (report: 20).")
    want_correct: int = _f(1, "Stop a problem after this many correct rollouts (report: 1).", cli=False)
    per_round: int = _f(4, "Rollouts per problem per sampling round.")
    batch_problems: int = _f(8, "Problems per generate call.", cli=False)
    temperature: float = _f(0.7, "Exploration temperature.")
    top_p: float = _f(1.0, "Exploration nucleus sampling.", cli=False)
    max_new_tokens: int = _f(1024, "Tokens per rollout (explore and distill).")
    seed: int = _f(0, "Seed.")
    system_prompt: str | None = _f(None, "System prompt (None: STILL-2's).", cli=False)
    use_system: bool = _f(True, "Leave out the system prompt (--system: send it).", "--no-system/--system", negate=True)
    filter_rules: list[str] = _f(
        lambda: ["repetition", "gibberish", "language_mix", "too_long"],
        "Filter rules run on each round's rollouts (and the distilled D_0), comma-separated.",
        parse=comma_list,
        cli_type=str,
    )
    exclude_flags: list[str] = _f(lambda: ["*"], "Flags that keep a trajectory out of D_t ('*' = any).", cli=False)
    score: bool = _f(
        True,
        "Skip perplexity scoring with M_t (needed for perplexity selection and DPO pairs).",
        "--no-score",
        negate=True,
    )
    max_per_problem: int | None = _f(None, "New members of D_t per problem per round (highest perplexity first).")
    ppl_top_percent: float | None = _f(None, "Keep the top P% highest-perplexity new trajectories per domain.")
    pair_part: str | None = _f(
        None, "dpo: pairs of full responses or of thoughts (default: the DPO variant's part).", choices=DPOPart
    )
    dpo_variant: str | None = _f(None, "dpo: a Table 4 row (thought = Table 2's STILL-2 row).", choices=DPOVariantName)
    train_recipe: str | None = _f(None, "Trainer recipe (default: the loop recipe's).", choices=RecipeName)
    train_overrides: dict[str, Any] = _f(
        dict,
        "Trainer field KEY=VALUE (repeatable), e.g. max_steps=20.",
        "--train-opt",
        cli_type=list[str],
        parse=key_values,
    )
    benchmarks: list[str] = _f(list, "Benchmarks M_0 and every M_t are evaluated on (repeatable).", "--benchmark", "-b")
    eval_limit: int | None = _f(None, "At most N problems per benchmark.")
    eval_max_new_tokens: int = _f(32768, "Tokens per eval answer (report: 32k).")
    eval_batch_problems: int = _f(8, "Problems per eval generate call.", cli=False)

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

    def merged(self, **items: dict[str, Any] | None) -> "IterateConfig":
        """A copy with mappings added to the dict fields (MERGED) instead of replacing them: how
        --engine-opt, --teacher-opt and --train-opt layer over a recipe's options (engine_opt lists add up)."""
        out = {}
        for name, new in items.items():
            if name not in MERGED:
                raise ValueError(f"{name} is not a mergeable field ({', '.join(MERGED)})")
            base = dict(getattr(self, name))
            opts = [*base.get("engine_opt", []), *(new or {}).get("engine_opt", [])]
            out[name] = {**base, **(new or {}), **({"engine_opt": opts} if opts else {})}
        return replace(self, **out)


def iterate_config(recipe: str | None, **overrides: Any) -> IterateConfig:
    preset: dict[str, Any] = {}
    if recipe:
        if recipe not in RECIPES:
            raise ValueError(f"unknown recipe {recipe!r}; known: {', '.join(RECIPES)}")
        preset = dict(RECIPES[recipe], recipe=recipe)
    config = IterateConfig().updated(**preset).updated(**overrides)
    config.validate()
    return config
