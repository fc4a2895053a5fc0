"""`ExploreConfig`: what an exploration (or distillation) run does, each option declared once on its field.

`still2 explore`/`distill` generate their sampling options from these fields (pipeline/cli/options.py),
`still2 jobs schema` hands the same help, bounds and choices to the TUI's job form, and the loop, eval
and iterate build the same dataclass in code. Kept free of heavy imports: the CLI reads it at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.options import Choice, opt

# The answer policies of pipeline/verifier/policy.POLICIES, by name (a unit test keeps the two equal;
# importing the verifier package here would slow every CLI start by its sympy/mpmath imports).
AnswerPolicyName = Choice("AnswerPolicyName", [(n, n) for n in ("strict", "default", "harness")])
ANSWER_POLICY_HELP = (
    "Where answers may be read: strict (boxes, anchors, bare answers), default (+ closing "
    "statements of finished responses, MC letters in prose), harness (+ the last number, cut-off "
    "responses too; reproduces Qwen-style harnesses). Recorded with every verdict."
)

# 32k tokens: the budget the report evaluates with (§3.1), capped by the engine at the model's context window.
LONG_THOUGHT_TOKENS = 32768


def read_prompt(path: Path) -> str:
    """The system prompt in a --prompt-file."""
    return Path(path).read_text(encoding="utf-8").strip()


def instruction_text(value: str | None) -> str | None:
    """'boxed' stands for Qwen2.5-Math's \\boxed{} instruction; any other text is taken as given."""
    from store.prompting import BOXED_INSTRUCTION

    return BOXED_INSTRUCTION if value == "boxed" else value


@dataclass
class ExploreConfig:
    """What an exploration (or distillation) run does. Fields with help are the commands' options."""

    max_rollouts: int = field(
        default=20, metadata=opt("Rollouts per problem at most (explore: the report's 20; distill: 4, ours).", min=1)
    )
    want_correct: int = field(
        default=1,
        metadata=opt(
            "Stop a problem after this many correct (explore: 1, the report's rule; distill: keep them all).", min=1
        ),
    )
    per_round: int = field(default=4, metadata=opt("Rollouts sampled per problem per round.", min=1))
    batch_problems: int = field(default=8, metadata=opt("Problems per generate call.", min=1))
    temperature: float = field(default=0.7, metadata=opt("0 = greedy.", min=0.0))
    top_p: float = field(default=1.0, metadata=opt("Nucleus sampling."))
    max_new_tokens: int = field(
        default=LONG_THOUGHT_TOKENS,
        metadata=opt(
            "Per rollout (32k, the report's evaluation budget; the engine stops at the model's context window).", min=1
        ),
    )
    seed: int = field(default=0, metadata=opt("Sampling seed (runs are reproducible per seed)."))
    system_prompt: str | None = field(
        default=None,
        metadata=opt("System prompt file (default: STILL-2's).", "--prompt-file", cli_type=Path, parse=read_prompt),
    )
    use_system: bool = field(default=True, metadata=opt("No system prompt.", "--no-system", negate=True))
    instruction: str | None = field(
        default=None,
        metadata=opt(
            "Text appended to each question; 'boxed' = Qwen2.5-Math's \\boxed{} instruction.", parse=instruction_text
        ),
    )
    iteration: int | None = field(default=None, metadata=opt("Self-improvement iteration t to record."))
    origin: str = "explore"
    verifier_timeout: float = field(
        default=5.0, metadata=opt("Seconds per verification at most (code: per test case).")
    )
    verifier_workers: int | None = None
    stop: list[str] = field(default_factory=list)
    # where answers may be read (pipeline.verifier.policy); recorded per verdict
    answer_policy: str = field(
        default="default", metadata=opt(ANSWER_POLICY_HELP, "--answer-policy", choices=AnswerPolicyName)
    )

    def sampling_fingerprint(self) -> dict:
        keys = ("temperature", "top_p", "max_new_tokens", "seed", "system_prompt", "use_system", "stop", "instruction")
        out = {k: getattr(self, k) for k in keys}
        if self.answer_policy != "default":  # kept out for the default so earlier runs keep their ids
            out["answer_policy"] = self.answer_policy
        return out
