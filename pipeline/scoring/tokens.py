"""Per-token rows for ``score --tokens``: each token's NLL and where it ends in the scored response.

The engines tokenize a response on its own (``pipeline.engines.prompts.encode_pair``); the same call with
``return_offsets_mapping`` gives each token's character span, which is what lets the TUI colour the
thought's steps and tokens (store/token_nll.py describes the stored layout).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from store.token_nll import encode

TOKEN_NLL_SCHEMA = pa.schema(
    [
        ("trajectory_id", pa.string()),
        ("scorer", pa.string()),
        ("part", pa.string()),
        ("n_tokens", pa.int32()),
        ("text_chars", pa.int32()),
        ("nll", pa.binary()),
        ("token_chars", pa.binary()),
    ]
)


def token_ends(tokenizer: Any, response: str, n_tokens: int) -> list[int]:
    """The character where each of the response's ``n_tokens`` tokens ends.

    Raises ValueError when the tokenizer cannot give offsets (a slow tokenizer) or splits the response
    into another number of tokens than the scorer did.
    """
    try:
        enc = tokenizer(response, add_special_tokens=False, return_offsets_mapping=True)
    except NotImplementedError as exc:
        raise ValueError(f"--tokens needs a fast tokenizer (character offsets): {exc}") from None
    offsets = enc["offset_mapping"]
    if len(offsets) != n_tokens:
        raise ValueError(f"the tokenizer gave {len(offsets)} token offsets for {n_tokens} scored tokens")
    return [end for _, end in offsets]


def token_row(tokenizer: Any, trajectory_id: str, scorer: str, part: str, response: str, logprobs: list[float]) -> dict:
    ends = token_ends(tokenizer, response, len(logprobs))
    nll, chars = encode([-lp for lp in logprobs], ends)
    return {
        "trajectory_id": trajectory_id,
        "scorer": scorer,
        "part": part,
        "n_tokens": len(logprobs),
        "text_chars": len(response),
        "nll": nll,
        "token_chars": chars,
    }
