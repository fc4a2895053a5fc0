"""Per-token surprise mapped onto the thought steps the detail view shows (no Textual here).

``still2 score --tokens`` stores each token's NLL and where it ends in the scored response
(store/token_nll.py). The detail view shows ``parse_response(text).steps``; each step is a piece of the
scored response, found in order, and the tokens overlapping it give the step's surprise: its mean NLL
(what the colour shows) and its total NLL. STILL-2's selection ranks responses by perplexity, the exp of
the mean NLL over all tokens; the *spike* is the step whose tokens raise that perplexity most, i.e. the
step without which the response's perplexity would drop the most (``ppl_without``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from store.token_nll import TokenNll, scored_text
from store.trajectory_format import BEGIN_THINK, BEGIN_THOUGHT

MIN_PEAK_TOKENS = 3  # a step needs this many tokens to be the peak (one odd token is not a spike)


@dataclass
class StepSurprise:
    scorer: str
    part: str
    tokens: TokenNll
    ranges: list[tuple[int, int] | None]  # each step's [start, end) characters in the scored response
    token_ranges: list[tuple[int, int]]  # each step's [first, end) tokens
    mean: np.ndarray  # each step's mean NLL (nan: no token)
    total: np.ndarray  # each step's summed NLL

    @property
    def n_steps(self) -> int:
        return len(self.ranges)

    @property
    def mean_nll(self) -> float:
        return float(self.tokens.nll.mean()) if self.tokens.n_tokens else float("nan")

    @property
    def share(self) -> np.ndarray:
        """Each step's share of the whole response's summed NLL."""
        whole = float(self.tokens.nll.sum())
        return self.total / whole if whole > 0 else np.zeros_like(self.total)

    def peak(self) -> int | None:
        """The step with the highest mean NLL among steps of at least MIN_PEAK_TOKENS tokens."""
        sizes = np.array([e - f for f, e in self.token_ranges])
        eligible = np.where((sizes >= MIN_PEAK_TOKENS) & ~np.isnan(self.mean), self.mean, -np.inf)
        return int(np.argmax(eligible)) if len(eligible) and np.isfinite(eligible.max()) else None

    @property
    def ppl(self) -> float:
        return float(np.exp(self.mean_nll))

    def ppl_without(self) -> np.ndarray:
        """The response's perplexity with each step's tokens left out (exp of the mean NLL of the others)."""
        sizes = np.array([e - f for f, e in self.token_ranges], dtype=np.float64)
        rest = np.maximum(self.tokens.n_tokens - sizes, 1)
        return np.exp((float(self.tokens.nll.sum()) - self.total) / rest)

    def spike(self) -> int | None:
        """The step that raises the response's perplexity most (None: no step raises it)."""
        if not len(self.total):
            return None
        drop = self.ppl - self.ppl_without()
        return int(np.argmax(drop)) if drop.max() > 0 else None

    def ranking(self) -> list[int]:
        """Steps by mean NLL, highest first (steps without tokens last)."""
        keyed = np.where(np.isnan(self.mean), -np.inf, self.mean)
        return [int(i) for i in np.argsort(-keyed, kind="stable")]

    def token_spans(self, step: int) -> list[tuple[int, int, float]]:
        """(start, end, nll) of the tokens of a step, in characters of the step's text."""
        rng = self.ranges[step]
        if rng is None:
            return []
        lo, hi = rng
        first, end = self.token_ranges[step]
        starts, ends, nll = self.tokens.starts, self.tokens.ends, self.tokens.nll
        return [(max(int(starts[k]), lo) - lo, min(int(ends[k]), hi) - lo, float(nll[k])) for k in range(first, end)]


def locate_steps(response: str, steps: list[str]) -> list[tuple[int, int] | None]:
    """Each step's character range in ``response``, searched in order after the begin-of-thought tag."""
    at = max((response.find(tag) + len(tag) for tag in (BEGIN_THOUGHT, BEGIN_THINK) if tag in response), default=0)
    out: list[tuple[int, int] | None] = []
    for step in steps:
        found = response.find(step, at)
        if found < 0:
            out.append(None)
            continue
        out.append((found, found + len(step)))
        at = found + len(step)
    return out


def step_surprise(row: dict, steps: list[str], scorer: str, part: str, tokens: TokenNll) -> StepSurprise | None:
    """Map a stored token row onto ``steps`` of the trajectory ``row`` (None when the text changed since)."""
    response = scored_text(row["text"] or "", row.get("format_style"), row.get("thought"), row.get("solution"), part)
    if response is None or len(response) != tokens.text_chars:
        return None
    ranges = locate_steps(response, steps)
    token_ranges, mean, total = [], [], []
    for rng in ranges:
        first, end = tokens.tokens_in(*rng) if rng is not None else (0, 0)
        token_ranges.append((first, end))
        values = tokens.nll[first:end]
        mean.append(float(values.mean()) if len(values) else float("nan"))
        total.append(float(values.sum()))
    return StepSurprise(scorer, part, tokens, ranges, token_ranges, np.array(mean), np.array(total))
