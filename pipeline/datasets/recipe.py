"""``DatasetRecipe``: everything that decides which trajectories a dataset version D_t holds.

The recipe is stored as JSON in ``dataset.recipe``; building again from the same store and recipe
gives the same members. The CLI flags of ``still2 dataset build`` mirror the fields one to one
(``--min-thought-chars`` for ``min_thought_chars`` ...); a ``--recipe FILE.json`` gives the base.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

PARTS = ("full", "thought")


@dataclass
class DatasetRecipe:
    """Selection of new members on top of ``parent`` (all of whose members are inherited)."""

    parent: str | None = None
    kind: str = "sft"
    # Which filter flags exclude a trajectory: rule names, "*" = any flag, [] = none.
    exclude_flags: list[str] = field(default_factory=lambda: ["*"])
    min_thought_chars: int = 0
    # Lexical tokens (words and punctuation marks), as in the too_short rule.
    min_thought_tokens: int = 0
    # Model tokens of the whole response (trajectory.n_tokens; unknown counts as too short).
    min_tokens: int = 0
    correct_only: bool = True
    approved_only: bool = False
    exclude_rejected: bool = True
    origins: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    iteration_min: int | None = None
    iteration_max: int | None = None
    # Extra SQL condition over the trajectories view.
    where: str | None = None
    # Perplexity selection: keep the top percent highest-perplexity trajectories per domain.
    ppl_scorer: str | None = None
    ppl_part: str = "full"
    ppl_top_percent: float | None = None
    max_per_problem: int | None = None
    # Domain mixing ratios, e.g. {"math": 0.6, "code": 0.2, "science": 0.2}; domains not listed are left out.
    domain_mix: dict[str, float] = field(default_factory=dict)
    # Share of hard problems among the new members; hard = pass rate < hard_pass_rate or difficulty >= hard_min_difficulty.
    hard_ratio: float | None = None
    hard_pass_rate: float = 0.5
    hard_min_difficulty: int | None = None
    # Cap on new members (None = as many as the ratios allow).
    size: int | None = None
    seed: int = 0
    # Default exclusions lifted for this dataset, by name (pipeline/datasets/exclusions.py: contaminated, ...).
    allow: list[str] = field(default_factory=list)

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
