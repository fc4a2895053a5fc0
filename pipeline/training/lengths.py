"""Training sequences longer than `max_length`: measured before training and never truncated silently.

TRL truncates every sequence to `max_length` without a word, and a long-form thought cut there loses
its solution (and, in DPO, the tokens that decide the preference). Here every row is tokenized with
the chat template first; what happens to the long ones is the config's `overlength` choice:
"error" (the default: stop and name them), "drop" (train without them), or "truncate" (TRL's cut,
chosen knowingly). The count is recorded with the model either way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OVERLENGTH = ("error", "drop", "truncate")
# Keys of a training row that hold the assistant turn(s) following its prompt.
COMPLETION_KEYS = ("completion", "chosen", "rejected", "sft_chosen")


@dataclass
class LengthReport:
    max_length: int
    rows: int
    longest: int
    over: list[str] = field(default_factory=list)  # ids of the rows longer than max_length
    policy: str = "error"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "over": len(self.over), "over_ids": self.over[:20]}


def _tokens(tokenizer, messages: list[dict]) -> int:
    out = tokenizer.apply_chat_template(messages, tokenize=True)
    ids = out["input_ids"] if hasattr(out, "keys") else out
    return len(ids)


def row_length(tokenizer, row: dict[str, Any]) -> int:
    """Tokens of the longest prompt + completion sequence the row trains on."""
    return max(_tokens(tokenizer, row["prompt"] + row[key]) for key in COMPLETION_KEYS if key in row)


def check_lengths(
    tokenizer, rows: list[dict[str, Any]], ids: list[str], max_length: int, policy: str
) -> tuple[list[dict[str, Any]], LengthReport]:
    """The rows to train on under `policy`, and what was found; raises ValueError for "error"."""
    if policy not in OVERLENGTH:
        raise ValueError(f"overlength must be one of {', '.join(OVERLENGTH)}, got {policy!r}")
    lengths = [row_length(tokenizer, r) for r in rows]
    over = [i for i, n in zip(ids, lengths) if n > max_length]
    report = LengthReport(max_length, len(rows), max(lengths, default=0), over, policy)
    if over and policy == "error":
        raise ValueError(
            f"{len(over)} of {len(rows)} training sequence(s) are longer than max_length {max_length} "
            f"(longest {report.longest} tokens; first: {', '.join(over[:5])}). TRL would cut them and their "
            "solutions would be lost: raise --max-length, flag them with `still2 filter --rules too_long` and "
            "rebuild the dataset, or pass --overlength drop | truncate"
        )
    if over and policy == "drop":
        keep = {i for i, n in enumerate(lengths) if n <= max_length}
        rows = [r for i, r in enumerate(rows) if i in keep]
    return rows, report
