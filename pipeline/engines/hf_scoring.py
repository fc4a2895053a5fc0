"""Teacher-forced token log-probs with a transformers causal LM, computing only what the scores need.

A plain per-sample loop runs every prompt token through the model for every trajectory and builds the
full vocabulary logits at every position. Here:

- the token prefix shared by the prompts of a call (the system prompt and chat header) runs once; its
  key/value cache is reused by every batch, and a batch whose prompts share more than that (rollouts
  of the same problem) extends it once for the batch;
- batches are right-padded after the shared prefix, so padding never shifts positions and needs no mask;
- the output layer runs on exactly the response positions (no prompt, no padding), in row chunks
  small enough to stay in cache, each reduced at once to the target tokens' log-probs.

Models whose output layer does more than a linear map (logit soft-capping or scaling) and caches that
are not plain per-layer key/value tensors (sliding windows, hybrids) fall back to one full forward
per batch with `logits_to_keep`, which is always correct.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

Pair = tuple[list[int], list[int]]

# Output-layer chunks of ~24 MB of fp32 logits (128 rows of a 49k vocabulary). bench/head_chunks.py on
# this 2-core CPU: within 7% of the best chunk for both a 576-wide (SmolLM2) and a 64-wide model, where
# 64-row chunks cost 1.27x for the wide one (its matrix product is too thin to run at full speed) and
# 256-row chunks 1.57x for the narrow one (its logits leave the cache).
HEAD_CHUNK_BYTES = 24 << 20
# Below this many shared tokens a prefix cache costs more bookkeeping than it saves.
MIN_PREFIX = 16


def common_prefix_length(seqs: list[list[int]]) -> int:
    if not seqs:
        return 0
    first, n = seqs[0], min(len(s) for s in seqs)
    for s in seqs[1:]:
        k = 0
        while k < n and s[k] == first[k]:
            k += 1
        n = k
    return n


def cacheable_length(prompts: list[list[int]]) -> int:
    """Tokens of the shared prefix worth caching: each prompt keeps its last token to predict the response."""
    return min(common_prefix_length(prompts), min(len(p) for p in prompts) - 1)


def prefix_cache_usable(model: Any) -> bool:
    """True when the decoder + linear head split and plain key/value caches are exact for `model`."""
    config = getattr(model, "config", None)
    if config is None or not hasattr(model, "get_decoder") or model.get_output_embeddings() is None:
        return False
    if model.get_decoder() is model:  # no separate body to take hidden states from
        return False
    text = config.get_text_config(decoder=True) if hasattr(config, "get_text_config") else config
    if getattr(text, "final_logit_softcapping", None) or getattr(text, "logit_scale", None):
        return False
    if getattr(text, "logits_scaling", 1) not in (None, 1, 1.0):
        return False
    if getattr(text, "sliding_window", None) and getattr(text, "use_sliding_window", True):
        return False
    layer_types = getattr(text, "layer_types", None)
    return not layer_types or set(layer_types) <= {"full_attention"}


@dataclass
class PrefixCache:
    """Key/value tensors of a token prefix computed with batch size 1."""

    ids: list[int]
    layers: list[tuple[Any, Any]]

    def for_batch(self, size: int):
        from transformers import DynamicCache

        # Views, not copies: the model concatenates new states onto them, which allocates anyway.
        return DynamicCache(
            ddp_cache_data=[(k.expand(size, -1, -1, -1), v.expand(size, -1, -1, -1)) for k, v in self.layers]
        )


class PrefixScorer:
    """Scores (prompt ids, response ids) pairs for one model; see the module docstring."""

    def __init__(self, model: Any, pad_id: int, device: str, head_chunk_rows: int | None = None) -> None:
        self.model = model
        self.pad_id = pad_id
        self.device = device
        vocab = model.get_output_embeddings().weight.shape[0] if model.get_output_embeddings() is not None else 1
        self.head_chunk_rows = head_chunk_rows or max(8, HEAD_CHUNK_BYTES // (4 * vocab))
        self.fast = prefix_cache_usable(model)
        self._keeps_logits = "logits_to_keep" in inspect.signature(model.forward).parameters
        # transformers 5.2x renamed the decoder's past_key_values argument to cache (the old name warns)
        decoder_params = inspect.signature(model.get_decoder().forward).parameters
        self._cache_arg = "cache" if "cache" in decoder_params else "past_key_values"
        self.shared: PrefixCache | None = None
        self._last: PrefixCache | None = None  # the latest batch prefix: a problem's next batch reuses it

    # -- prefix caches -------------------------------------------------------------------------
    def prepare(self, prompts: list[list[int]]) -> None:
        """Compute the cache of the prefix all `prompts` share (kept below each prompt's last token)."""
        self.shared = self._last = None
        if not self.fast or not prompts:
            return
        length = cacheable_length(prompts)
        if length >= MIN_PREFIX:
            self.shared = self._extend(None, prompts[0][:length])

    def _extend(self, base: PrefixCache | None, ids: list[int]) -> PrefixCache:
        import torch

        start = len(base.ids) if base else 0
        new = ids[start:]
        past = base.for_batch(1) if base else None
        with torch.inference_mode():
            out = self.model.get_decoder()(
                input_ids=torch.tensor([new], device=self.device),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long, device=self.device),
                use_cache=True,
                **{self._cache_arg: past},
            )
        cache = getattr(out, "cache", None)
        if cache is None:
            cache = out.past_key_values
        layers = [(layer.keys, layer.values) for layer in cache.layers]
        return PrefixCache(list(ids), layers)

    def _prefix_for(self, pairs: list[Pair]) -> PrefixCache | None:
        if not self.fast:
            return None
        prompts = [p for p, _ in pairs]
        length = cacheable_length(prompts)
        shared = self.shared if self.shared and len(self.shared.ids) <= length else None
        if length - (len(shared.ids) if shared else 0) < MIN_PREFIX:
            return shared
        ids = prompts[0][:length]
        if self._last is None or self._last.ids != ids:
            self._last = self._extend(shared, ids)
        return self._last

    # -- scoring ----------------------------------------------------------------------------------
    def score_batch(self, pairs: list[Pair]) -> list[list[float]]:
        if not self.fast:
            return self._score_full(pairs)
        import torch

        prefix = self._prefix_for(pairs)
        skip = len(prefix.ids) if prefix else 0
        suffixes = [(p + r)[skip:] for p, r in pairs]
        width = max(len(s) for s in suffixes)
        ids = torch.tensor([s + [self.pad_id] * (width - len(s)) for s in suffixes], device=self.device)
        with torch.inference_mode():
            # No attention mask: padding comes after every real token, and causal attention never looks
            # ahead, so only padded positions (never read) see it.
            hidden = self.model.get_decoder()(
                input_ids=ids,
                use_cache=prefix is not None,
                **{self._cache_arg: prefix.for_batch(len(pairs)) if prefix else None},
            ).last_hidden_state
            # Hidden state at suffix position t predicts suffix token t + 1.
            rows = torch.cat(
                [hidden[b, len(p) - 1 - skip : len(p) - 1 - skip + len(r)] for b, (p, r) in enumerate(pairs)]
            )
            targets = torch.tensor([t for _, r in pairs for t in r], device=self.device)
            values = self._head_logprobs(rows, targets).tolist()
        out, at = [], 0
        for _, r in pairs:
            out.append(values[at : at + len(r)])
            at += len(r)
        return out

    def _head_logprobs(self, rows, targets):
        import torch

        head = self.model.get_output_embeddings()
        parts = []
        for at in range(0, rows.shape[0], self.head_chunk_rows):
            logits = head(rows[at : at + self.head_chunk_rows]).float()
            parts.append(
                -torch.nn.functional.cross_entropy(logits, targets[at : at + self.head_chunk_rows], reduction="none")
            )
        return torch.cat(parts)

    def _score_full(self, pairs: list[Pair]) -> list[list[float]]:
        """One forward with full logits from the first response position on; for any causal LM."""
        import torch

        seqs = [p + r for p, r in pairs]
        width = max(len(s) for s in seqs)
        ids = torch.tensor([s + [self.pad_id] * (width - len(s)) for s in seqs], device=self.device)
        mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=self.device)
        keep = width - min(len(p) for p, _ in pairs) + 1
        extra = {"logits_to_keep": keep} if self._keeps_logits else {}
        with torch.inference_mode():
            logits = self.model(input_ids=ids, attention_mask=mask, **extra).logits
        offset = width - logits.shape[1]
        out: list[list[float]] = []
        for row, (p, r) in enumerate(pairs):
            start = len(p) - 1 - offset
            rows = logits[row, start : start + len(r)].float()
            targets = torch.tensor(r, device=self.device).unsqueeze(-1)
            out.append(torch.log_softmax(rows, dim=-1).gather(-1, targets).squeeze(-1).tolist())
        return out
