"""``DatasetRecipe``: everything that decides which trajectories a dataset version D_t holds.

The recipe is stored as JSON in ``dataset.recipe``; building again from the same store and recipe
gives the same members. ``still2 dataset build``'s flags are generated from the fields' metadata
(``--min-thought-chars`` for ``min_thought_chars`` ...); a ``--recipe FILE.json`` gives the base.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from pipeline.options import Choice, opt

PARTS = ("full", "thought")
Part = Choice("Part", [(p, p) for p in PARTS])
ALLOW_HELP = (
    "Default exclusions to lift, comma-separated: contaminated (rows overlapping a benchmark), "
    "eval (evaluation outputs), test (rows on test/benchmark problems)."
)


def parse_list(value: str | None) -> list[str] | None:
    """``"a,b"`` -> ``["a", "b"]``; ``""`` -> ``[]``; None stays None (flag not given)."""
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_mix(value: str | None) -> dict[str, float] | None:
    """``"math=0.6,code=0.4"`` -> ``{"math": 0.6, "code": 0.4}``."""
    if value is None:
        return None
    out = {}
    for item in parse_list(value) or []:
        key, sep, ratio = item.partition("=")
        if not sep:
            raise ValueError(f"expected DOMAIN=RATIO, got {item!r}")
        out[key.strip()] = float(ratio)
    return out


def _names(help: str, *flags: str) -> dict[str, Any]:
    """A comma-separated list option."""
    return opt(help, *flags, parse=parse_list, cli_type=str)


@dataclass
class DatasetRecipe:
    """Selection of new members on top of ``parent`` (all of whose members are inherited)."""

    parent: str | None = field(default=None, metadata=opt("Parent dataset; all its members are inherited."))
    kind: str = field(default="sft", metadata=opt("sft or another label."))
    exclude_flags: list[str] = field(
        default_factory=lambda: ["*"],
        metadata=_names("Filter rules that exclude, comma-separated; '*' any flag (default), '' none."),
    )
    min_thought_chars: int = field(default=0, metadata=opt("Minimum thought length in characters."))
    min_thought_tokens: int = field(
        default=0,
        metadata=opt(
            "Minimum thought length in lexical tokens (words and punctuation marks, as in the too_short rule)."
        ),
    )
    min_tokens: int = field(
        default=0, metadata=opt("Minimum response model tokens (trajectory.n_tokens; unknown counts as too short).")
    )
    correct_only: bool = field(default=True, metadata=opt("Only verdict 'correct'.", "--correct-only/--any-verdict"))
    approved_only: bool = field(
        default=False, metadata=opt("Only approved trajectories.", "--approved-only/--any-status")
    )
    exclude_rejected: bool = field(
        default=True, metadata=opt("Leave out rejected ones.", "--exclude-rejected/--include-rejected")
    )
    origins: list[str] = field(default_factory=list, metadata=_names("Origins, comma-separated (distill,explore,...)."))
    models: list[str] = field(default_factory=list, metadata=_names("Models, comma-separated."))
    runs: list[str] = field(default_factory=list, metadata=_names("Run ids, comma-separated."))
    domains: list[str] = field(default_factory=list, metadata=_names("Domains, comma-separated."))
    iteration_min: int | None = field(default=None, metadata=opt("Lowest iteration."))
    iteration_max: int | None = field(default=None, metadata=opt("Highest iteration."))
    where: str | None = field(default=None, metadata=opt("SQL condition over the trajectories view."))
    ppl_scorer: str | None = field(default=None, metadata=opt("Scorer whose perplexity selects."))
    ppl_part: str = field(default="full", metadata=opt("Which perplexity selects: full or thought.", choices=Part))
    ppl_top_percent: float | None = field(default=None, metadata=opt("Keep the top P% highest-perplexity per domain."))
    max_per_problem: int | None = field(default=None, metadata=opt("At most N trajectories per problem."))
    domain_mix: dict[str, float] = field(
        default_factory=dict,
        metadata=opt(
            "Domain ratios, e.g. math=0.6,code=0.2,science=0.2; domains not listed are left out.",
            parse=parse_mix,
            cli_type=str,
        ),
    )
    hard_ratio: float | None = field(
        default=None,
        metadata=opt("Share of hard problems among new members (hard: see --hard-pass-rate, --hard-min-difficulty)."),
    )
    hard_pass_rate: float = field(default=0.5, metadata=opt("Hard = pass rate below this."))
    hard_min_difficulty: int | None = field(default=None, metadata=opt("Hard = difficulty at least this."))
    size: int | None = field(
        default=None, metadata=opt("At most N new members (default: as many as the ratios allow).")
    )
    seed: int = field(default=0, metadata=opt("Seed for sampling."))
    allow: list[str] = field(default_factory=list, metadata=_names(ALLOW_HELP))

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if self.ppl_part not in PARTS:
            raise ValueError(f"ppl_part must be one of {', '.join(PARTS)}, got {self.ppl_part!r}")
        if self.ppl_top_percent is not None:
            if not 0 < self.ppl_top_percent <= 100:
                raise ValueError("ppl_top_percent must be in (0, 100]")
            if not self.ppl_scorer:
                raise ValueError("ppl_top_percent needs ppl_scorer (the model whose perplexity is used)")
        if self.hard_ratio is not None and not 0 <= self.hard_ratio <= 1:
            raise ValueError("hard_ratio must be in [0, 1]")
        if any(v < 0 for v in self.domain_mix.values()) or (self.domain_mix and not sum(self.domain_mix.values())):
            raise ValueError("domain_mix ratios must be >= 0 with a positive sum")
        if self.max_per_problem is not None and self.max_per_problem < 1:
            raise ValueError("max_per_problem must be >= 1")
        if self.size is not None and self.size < 0:
            raise ValueError("size must be >= 0")
        from pipeline.datasets.exclusions import active

        active(self.allow)  # unknown names are an error
        if self.approved_only and not self.exclude_rejected:
            self.exclude_rejected = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DatasetRecipe":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown recipe field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**data)

    @classmethod
    def from_file(cls, path: str | Path) -> "DatasetRecipe":
        try:
            data = json.loads(Path(path).read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read recipe {path}: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"recipe {path}: expected a JSON object")
        return cls.from_dict(data)

    def updated(self, **overrides: Any) -> "DatasetRecipe":
        """A copy with the non-None overrides applied (how CLI flags override a recipe file)."""
        data = self.to_dict()
        data.update({k: v for k, v in overrides.items() if v is not None})
        return DatasetRecipe.from_dict(data)
