"""`--recipe still2-paper`: every value the STILL-2 report gives, and ours where it gives none, one object each.

Each `Setting` says which config field it sets, its value, and either where the report gives it
(`report`: section or table, with the words) or that it is ours (`report=None`, with `why`). The
trainer presets (pipeline.training.config.RECIPES) and the loop preset (pipeline.loop.config.RECIPES)
are built from these objects, and README's table is generated from them (`still2 iterate
--recipe-table`; a test compares the two), so the table cannot drift from what the code does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RECIPE = "still2-paper"
# The report evaluates with "maximum tokens set to 32k" (§3.1). Ours: generation (explore, distill)
# gets the same budget, and training takes every such response plus its prompt, so nothing generated
# is ever cut by the trainer.
RESPONSE_TOKENS = 32768
PROMPT_ALLOWANCE = 2048
TRAIN_MAX_LENGTH = RESPONSE_TOKENS + PROMPT_ALLOWANCE

SCOPES = {
    "model": "Model",
    "distill": "Imitate: distill D_0",
    "explore": "Explore",
    "select": "Select D_t",
    "sft": "SFT (M_t)",
    "dpo": "DPO",
    "eval": "Evaluate",
}


@dataclass(frozen=True)
class Setting:
    scope: str  # a key of SCOPES; "sft" / "dpo" go to the trainer configs, the rest to IterateConfig
    field: str
    value: Any
    report: str | None = None  # where the report gives the value; None = ours
    why: str = ""  # for ours: why this value

    @property
    def ours(self) -> bool:
        return self.report is None


STILL2_PAPER: tuple[Setting, ...] = (
    Setting(
        "model",
        "model",
        "Qwen/Qwen2.5-32B-Instruct",
        '§2.2.2, §2.3.3, §3.1: "we adopt the capable model Qwen2.5-32B-Instruct as the base model, M_0"',
    ),
    Setting(
        "model",
        "use_system",
        True,
        '§2.2.2: "we utilize the following prompt for instruction tuning" (the STILL-2 prompt; we send it '
        "as the system turn, as the release does)",
    ),
    Setting(
        "model",
        "rounds",
        2,
        None,
        'M_1 (imitation) and M_2 (imitation + exploration); the report iterates "until our problem pool is '
        'exhausted or the maximum number of iterations is reached" without a number',
    ),
    Setting(
        "distill",
        "distill_rollouts",
        4,
        None,
        'the report performs "multiple rollouts" per problem (§2.2.1) without a number',
    ),
    Setting(
        "distill",
        "distill_keep",
        "all, labelled",
        '§2.2.1: "perform multiple rollouts to generate a diverse set of responses. We then automatically '
        'label each solution"',
    ),
    Setting("distill", "distill_temperature", 0.7, None, "a common sampling temperature"),
    Setting(
        "explore", "max_rollouts", 20, '§3.2: "the constrained number of rollouts (at most 20 in our experiments)"'
    ),
    Setting(
        "explore",
        "want_correct",
        1,
        '§2.3.1: rollouts continue "until a solution containing the correct answer is produced"',
    ),
    Setting(
        "explore",
        "pool_mode",
        "unsolved",
        None,
        '§2.3.1 explores "challenging problems", whose solutions are "difficult for the fine-tuned model to '
        'obtain"; we take the problems without a correct trajectory yet, which also exhausts the pool after '
        "a few iterations as §2.3.2 describes",
    ),
    Setting(
        "explore",
        "per_round",
        4,
        None,
        "rollouts are sampled 4 at a time (batching); `--per-round 1` is the report's one-by-one rule",
    ),
    Setting("explore", "temperature", 0.7, None, "a common sampling temperature"),
    Setting("explore", "top_p", 1.0, None),
    Setting(
        "explore",
        "max_new_tokens",
        RESPONSE_TOKENS,
        None,
        "the report gives 32k for evaluation only (§3.1); exploration gets the same budget",
    ),
    Setting(
        "select",
        "filter_rules",
        ["repetition", "gibberish", "language_mix", "too_short", "duplicate", "near_duplicate"],
        '§2.2.1: deduplication, "repetitions, gibberish, or mixtures of English and Chinese", "remove '
        'relatively short examples"; §2.3.2: "at each refinement step, we also perform strict '
        'pre-processing"',
    ),
    Setting(
        "select",
        "extra_filter_rules",
        ["format", "no_answer", "too_long"],
        None,
        "a trajectory without the STILL sections or without an answer, or longer than the training "
        "max_length, is not a usable demonstration",
    ),
    Setting(
        "select",
        "ppl_top_percent",
        50.0,
        None,
        '§2.3.2 uses perplexity "to identify and retain more challenging trajectories as recognized by '
        'the current reasoning model" without a threshold; we keep the higher-perplexity half',
    ),
    Setting(
        "select",
        "max_per_problem",
        1,
        None,
        "one explored trajectory per problem per round (the highest-perplexity one), so easy problems with "
        "many correct rollouts do not dominate",
    ),
    Setting(
        "select",
        "parent",
        "D_t = D_{t-1} + selected",
        '§2.3.2: "these new trajectories are then added to D_0, resulting in a new dataset D_1"',
    ),
    Setting("sft", "learning_rate", 1e-5, '§2.2.2: "learning rate=1e-5"'),
    Setting("sft", "batch_size", 96, '§2.2.2: "batch size=96"'),
    Setting(
        "sft",
        "from",
        "M_0",
        '§2.3.3: "M_0 is firstly trained on the previous dataset D_{t-1}, resulting in the improved model M_t"',
    ),
    Setting("sft", "epochs", 3.0, None),
    Setting(
        "sft",
        "max_length",
        TRAIN_MAX_LENGTH,
        None,
        f"{RESPONSE_TOKENS} response tokens (as generated) + {PROMPT_ALLOWANCE} for the prompt: nothing "
        "generated is cut",
    ),
    Setting("sft", "overlength", "error", None, "a longer row stops training and is named, never cut silently"),
    Setting("sft", "warmup_ratio", 0.03, None),
    Setting("sft", "lr_scheduler", "cosine", None),
    Setting("sft", "per_device_batch_size", 1, None, "the batch of 96 is reached by gradient accumulation"),
    Setting("sft", "lora_r", 0, None, "the report does not say; full fine-tuning"),
    Setting(
        "dpo",
        "from",
        "M_1",
        '§2.3.3: "we take the checkpoint M_1 (with the first-round training) as the base model for DPO training"',
    ),
    Setting(
        "dpo",
        "pairs",
        "chosen: correct, higher perplexity; rejected: incorrect, lower perplexity",
        '§2.3.3: "we select the correct responses with a higher perplexity score as positive instances and '
        'the incorrect responses with a lower perplexity score as negative instances"',
    ),
    Setting(
        "dpo",
        "variant",
        "thought",
        "Table 2's \"w/ SFT & DPO (STILL-2)\" row (85.4 / 46.7 / 51.0) has Table 4's scores for DPO on the "
        "thought without the SFT loss, to the decimal (§2.3.3's prose adds an SFT loss: variant thought+sft, "
        "whose SFT term covers thought and solution per Table 4's caption)",
    ),
    Setting("dpo", "learning_rate", 5e-7, None),
    Setting("dpo", "beta", 0.1, None),
    Setting("dpo", "epochs", 1.0, None),
    Setting("dpo", "batch_size", 96, None, "SFT's 96 carried over"),
    Setting("dpo", "per_device_batch_size", 1, None, "the batch is reached by gradient accumulation"),
    Setting("dpo", "max_length", TRAIN_MAX_LENGTH, None, "as SFT"),
    Setting("dpo", "overlength", "error", None, "as SFT"),
    Setting("dpo", "warmup_ratio", 0.03, None),
    Setting("eval", "benchmarks", ["math500", "aime24", "gpqa"], "§3.1: MATH-OAI (500), AIME2024 (30), GPQA (198)"),
    Setting("eval", "eval_max_new_tokens", RESPONSE_TOKENS, '§3.1: "greedy search ... maximum tokens set to 32k"'),
    Setting("eval", "eval_greedy", True, '§3.1: "we use greedy search to evaluate"'),
)

# Settings that describe what the loop does rather than a config field it sets.
DESCRIPTIVE = {"distill_keep", "parent", "from", "pairs", "eval_greedy"}


def trainer_preset(kind: str) -> dict[str, Any]:
    """The SFT or DPO config fields of still2-paper."""
    return {s.field: s.value for s in STILL2_PAPER if s.scope == kind and s.field not in DESCRIPTIVE}


def loop_preset() -> dict[str, Any]:
    """The IterateConfig fields of still2-paper."""
    out = {s.field: s.value for s in STILL2_PAPER if s.scope not in ("sft", "dpo") and s.field not in DESCRIPTIVE}
    out["filter_rules"] = [*out["filter_rules"], *out.pop("extra_filter_rules")]
    out["dpo_variant"] = next(s.value for s in STILL2_PAPER if s.scope == "dpo" and s.field == "variant")
    out["train_recipe"] = RECIPE
    return out


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def recipe_table() -> str:
    """The markdown table README shows: every still2-paper value, from the report or ours."""
    lines = ["| stage | setting | value | source |", "|---|---|---|---|"]
    for s in STILL2_PAPER:
        source = f"report: {s.report}" if s.report else "**not in the report (ours)**" + (f": {s.why}" if s.why else "")
        cell = _cell(s.value).replace("|", "\\|")
        lines.append(f"| {SCOPES[s.scope]} | `{s.field}` | {cell} | {source.replace('|', '/')} |")
    return "\n".join(lines) + "\n"
