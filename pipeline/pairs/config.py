"""`PairOptions`: what `pairs build` pairs, each option declared once on its field (help, choices).

The CLI generates `still2 pairs build`'s options from these fields and the TUI's job form reads the same
through `still2 jobs schema`; the loop builds the dataclass in code. Light: read at CLI start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.datasets.recipe import ALLOW_HELP, Part
from pipeline.options import comma_list, opt


@dataclass
class PairOptions:
    scorer: str | None = field(default=None, metadata=opt("Scorer whose perplexity is used (default: newest)."))
    part: str = field(
        default="full", metadata=opt("full | thought (perplexity and export cut at end of thought).", choices=Part)
    )
    max_per_problem: int = field(default=1, metadata=opt("At most N pairs per problem."))
    problem: str | None = field(default=None, metadata=opt("Build for this problem id only."))
    approved_only: bool = field(default=False, metadata=opt("Only approved trajectories.", "--approved-only"))
    skip_flags: list[str] = field(
        default_factory=list,
        metadata=opt("Skip trajectories flagged by these rules ('*' any).", parse=comma_list, cli_type=str),
    )
    where: str | None = field(default=None, metadata=opt("SQL condition over the trajectories view."))
    # Default exclusions lifted by name (pipeline.datasets.exclusions); by default no contaminated row, no
    # evaluation output and no trajectory on a test/benchmark problem is paired.
    allow: list[str] = field(default_factory=list, metadata=opt(ALLOW_HELP, parse=comma_list, cli_type=str))
