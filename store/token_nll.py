"""Per-token surprise of a scored response, stored compactly in table ``token_nll``.

``still2 score --tokens`` writes one row per (trajectory, scorer, part):

- ``nll``: ``n_tokens`` little-endian IEEE float16 values, the negative log-probability (nats) of each
  response token given the prompt and the tokens before it (float16 keeps 3 significant digits, plenty
  for colouring and sorting; values are clipped to ``MAX_NLL``);
- ``token_chars``: ``n_tokens`` little-endian uint16 values, how many characters of the scored response
  each token ends after the previous token's end. Their running sum is each token's end; the first token
  starts at character 0, so the tokens partition ``response[:ends[-1]]``;
- ``text_chars``: the length of the scored response, which is ``store.formats.export.training_text`` of
  the trajectory (cut after the end-of-thought tag for part ``thought``): ``scored_text`` rebuilds it, and
  a reader whose rebuilt text has another length knows the text changed since it was scored.

Four bytes per token: a 12k-token Sky-T1 trace takes 48 KB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from store.formats.export import training_text
from store.trajectory_format import thought_prefix

MAX_NLL = 60_000.0  # below float16's largest finite value; a token of probability 0 stays visible
MAX_TOKEN_CHARS = 65_535


@dataclass(frozen=True)
class TokenNll:
    """Decoded row: each token's NLL and the character where it ends in the scored response."""

    nll: np.ndarray  # float32, one per token
    ends: np.ndarray  # int64, non-decreasing
    text_chars: int

    @property
    def n_tokens(self) -> int:
        return len(self.nll)

    @property
    def starts(self) -> np.ndarray:
        return np.concatenate([[0], self.ends[:-1]]) if len(self.ends) else self.ends

    def tokens_in(self, lo: int, hi: int) -> tuple[int, int]:
        """(first, end) token indexes of the tokens overlapping characters [lo, hi)."""
        first = int(np.searchsorted(self.ends, lo, side="right"))
        end = int(np.searchsorted(self.ends, hi, side="left")) + 1
        return first, max(first, min(end, self.n_tokens))

    def token_at(self, char: int) -> int:
        """Index of the token covering character ``char`` (n_tokens past the end)."""
        return int(np.searchsorted(self.ends, char, side="right"))


def encode(nll: Sequence[float], ends: Sequence[int]) -> tuple[bytes, bytes]:
    """(nll blob, token_chars blob) of per-token NLLs and token end offsets."""
    values = np.clip(np.nan_to_num(np.asarray(nll, np.float64), nan=MAX_NLL, posinf=MAX_NLL), 0.0, MAX_NLL)
    ends = np.maximum.accumulate(np.asarray(ends, np.int64)) if len(ends) else np.empty(0, np.int64)
    deltas = np.diff(ends, prepend=0).clip(0, MAX_TOKEN_CHARS)
    return values.astype("<f2").tobytes(), deltas.astype("<u2").tobytes()


def decode(nll: bytes, token_chars: bytes, text_chars: int) -> TokenNll:
    values = np.frombuffer(nll, "<f2").astype(np.float32)
    ends = np.cumsum(np.frombuffer(token_chars, "<u2").astype(np.int64))
    if len(values) != len(ends):
        raise ValueError(f"token_nll row is damaged: {len(values)} NLLs for {len(ends)} token offsets")
    return TokenNll(values, ends, int(text_chars))


def scored_text(
    text: str, format_style: str | None, thought: str | None, solution: str | None, part: str = "full"
) -> str | None:
    """The response text a scorer saw for ``part`` (what ``token_nll`` offsets refer to)."""
    full = training_text(text, format_style, thought, solution)
    return full if part == "full" else thought_prefix(full)


def read(conn: Any, trajectory_id: str, scorer: str | None = None) -> tuple[str, str, TokenNll] | None:
    """(scorer, part, tokens) of a trajectory: the given scorer's (else the newest), part ``full`` first."""
    rows = conn.execute(
        """
        SELECT scorer, part, nll, token_chars, text_chars FROM token_nll
        WHERE trajectory_id = ? AND (? IS NULL OR scorer = ?)
        ORDER BY part = 'full' DESC, created DESC LIMIT 1""",
        [trajectory_id, scorer, scorer],
    ).fetchall()
    if not rows:
        return None
    scorer, part, nll, chars, text_chars = rows[0]
    return scorer, part, decode(nll, chars, text_chars)
