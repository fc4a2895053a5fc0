"""The default engine: Hugging Face transformers `generate` and teacher-forced scoring, on CPU or one GPU."""

from __future__ import annotations

import copy
import time
from typing import Any, Callable

from pipeline.engines.base import (
    ClosingMixin,
    Completion,
    EngineError,
    Messages,
    PromptResult,
    SamplingParams,
    TokenScores,
    check_score_inputs,
    cut_at_stop,
)
from pipeline.engines.default_model import hub_offline, resolve_model
from pipeline.engines.hf_scoring import PrefixScorer
from pipeline.engines.prompts import encode_pair, encode_prompt


def pick_device(device: str | None) -> str:
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(dtype: str | None, device: str):
    """fp32 on CPU; bf16 on a GPU that supports it, else fp32. An explicit name ("float16", ...) wins."""
    import torch

    if dtype and dtype != "auto":
        value = getattr(torch, dtype, None)
        if not isinstance(value, torch.dtype):
            raise ValueError(f"unknown dtype {dtype!r}")
        return value
    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def length_batches(
    lengths: dict[int, int],
    max_items: int,
    max_tokens: int,
    groups: dict[int, int] | None = None,
    bucket: int = 64,
    max_padding: float = 1.2,
) -> list[list[int]]:
    """Group item indices sorted by length so that each batch pads little and stays within budget.

    A batch holds at most `max_items` items and at most `max_tokens` padded tokens, and its padded size
    stays within `max_padding` x its real tokens (a single longer item still gets a batch of its own).
    With `groups` (e.g. one id per distinct prompt), items of a group whose lengths fall in the same
    `bucket` sit next to each other, so a batch often shares a whole prompt.
    """
    if groups:
        order = sorted(lengths, key=lambda i: (lengths[i] // bucket, groups[i], lengths[i]))
    else:
        order = sorted(lengths, key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    longest = real = 0
    for i in order:
        grown = max(longest, lengths[i])
        padded = grown * (len(current) + 1)
        if current and (len(current) >= max_items or padded > max_tokens or padded > max_padding * (real + lengths[i])):
            batches.append(current)
            current, grown, real = [], lengths[i], 0
        current.append(i)
        longest, real = grown, real + lengths[i]
    if current:
        batches.append(current)
    return batches


class TransformersEngine(ClosingMixin):
    """Generation and scoring with any causal LM loadable by transformers (Hub id or local folder).

    `batch_size` bounds the sequences (prompts x n) per `generate` call; `score_batch_tokens` bounds the
    padded tokens per scoring forward pass; a batch that runs out of device memory is retried in halves.
    Sampling settings not in SamplingParams (top_k, repetition_penalty) come from the model's
    generation_config, as in vLLM. `trust_remote_code` is off unless asked for.
    """

    name = "transformers"

    def __init__(
        self,
        model: str | None = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = 32,
        score_batch_size: int | None = None,
        score_batch_tokens: int = 4096,
        trust_remote_code: bool = False,
        num_threads: int | None = None,
        revision: str | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if num_threads:
            torch.set_num_threads(num_threads)
        self.model_id = resolve_model(model)
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.batch_size = max(1, batch_size)
        # On CPU, padding and the masked attention of a batch cost more than batching saves (measured with
        # SmolLM2: 1 sequence per pass 28.9 s, 4 per pass 43.7 s on the same 8 trajectories).
        self.score_batch_size = max(1, score_batch_size or (1 if self.device == "cpu" else 16))
        self.score_batch_tokens = max(1, score_batch_tokens)
        load: dict[str, Any] = {
            "trust_remote_code": trust_remote_code,
            "local_files_only": hub_offline(),
            "revision": revision,
        }
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the weight-loading bar is library noise between our own progress lines
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.model_id, **load)
            self.model = AutoModelForCausalLM.from_pretrained(self.model_id, dtype=self.dtype, **load)
        except OSError as exc:
            raise EngineError(f"cannot load model {self.model_id!r}: {exc}") from exc
        self.model.to(self.device).eval()
        tok = self.tokenizer
        if tok.pad_token_id is None:
            if tok.eos_token is None and tok.unk_token is None:
                raise EngineError(f"tokenizer of {self.model_id} has no pad, eos or unk token to pad with")
            tok.pad_token = tok.eos_token if tok.eos_token is not None else tok.unk_token
        gen = self.model.generation_config
        eos = gen.eos_token_id if gen.eos_token_id is not None else tok.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
        self._scorer = PrefixScorer(self.model, tok.pad_token_id, self.device)

    # -- generation ------------------------------------------------------------------------------
    def _generation_config(self, params: SamplingParams, n_return: int):
        gen = copy.deepcopy(self.model.generation_config)
        gen.max_new_tokens = params.max_new_tokens
        gen.max_length = None
        gen.pad_token_id = self.tokenizer.pad_token_id
        gen.num_return_sequences = n_return
        if params.greedy:
            gen.do_sample = False
            gen.temperature = gen.top_p = gen.top_k = None
        else:
            gen.do_sample = True
            gen.temperature = params.temperature
            gen.top_p = params.top_p
        gen.stop_strings = params.stop or None
        return gen

    def generate(self, messages_list: list[Messages], params: SamplingParams) -> list[PromptResult]:
        import torch

        prompts = {i: encode_prompt(self.tokenizer, m) for i, m in enumerate(messages_list)}
        # Greedy decoding gives one answer; it is copied n times instead of decoded n times.
        n_return = 1 if params.greedy else params.n
        per_call = max(1, self.batch_size // n_return)
        gen = self._generation_config(params, n_return)
        if params.seed is not None:
            torch.manual_seed(params.seed)
        results: dict[int, PromptResult] = {}
        for batch in length_batches(
            {i: len(p) for i, p in prompts.items()}, per_call, 1 << 62, max_padding=float("inf")
        ):
            started = time.perf_counter()
            rows = [prompts[i] for i in batch]
            sequences = self._split_on_oom(lambda part: self._generate_batch(part, gen), rows)
            share = (time.perf_counter() - started) / len(sequences)
            for row, index in enumerate(batch):
                mine = sequences[row * n_return : (row + 1) * n_return]
                completions = [self._completion(seq, params.stop, share) for seq in mine]
                if n_return < params.n:
                    completions = [copy.copy(completions[0]) for _ in range(params.n)]
                results[index] = PromptResult(index, completions, len(prompts[index]))
        return [results[i] for i in range(len(messages_list))]

    def _split_on_oom(self, run: Callable[[list], list], items: list) -> list:
        """run(items), retried on halves when the device runs out of memory (results stay in order)."""
        import torch

        try:
            return run(items)
        except torch.OutOfMemoryError:
            if len(items) == 1:
                raise
            if self.device.startswith("cuda"):
                torch.cuda.empty_cache()
            half = len(items) // 2
            return self._split_on_oom(run, items[:half]) + self._split_on_oom(run, items[half:])

    def context_limit(self) -> int | None:
        """The model's context window in tokens (None when its config does not say)."""
        return getattr(self.model.config, "max_position_embeddings", None)

    def _generate_batch(self, prompts: list[list[int]], gen) -> list[list[int]]:
        import torch

        pad = self.tokenizer.pad_token_id
        width = max(len(p) for p in prompts)
        limit = self.context_limit()
        if limit and width + gen.max_new_tokens > limit:
            # A long-thought budget (32k) on a small-context model: stop at the window, flagged "length".
            gen = copy.copy(gen)
            gen.max_new_tokens = max(1, limit - width)
        ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=self.device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=self.device)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=ids, attention_mask=mask, generation_config=gen, tokenizer=self.tokenizer
            )
        return out[:, width:].tolist()

    def _completion(self, tokens: list[int], stops: list[str], seconds: float) -> Completion:
        enders = self.eos_ids | {self.tokenizer.pad_token_id}
        end = next((k for k, t in enumerate(tokens) if t in enders), len(tokens))
        text = self.tokenizer.decode(tokens[:end], skip_special_tokens=True, clean_up_tokenization_spaces=False)
        text, stopped = cut_at_stop(text, stops)
        if stopped:
            return Completion(text, end, "stop", seconds=seconds)
        if end < len(tokens):
            return Completion(text, end + 1, "stop", seconds=seconds)
        return Completion(text, end, "length", seconds=seconds)

    # -- scoring ---------------------------------------------------------------------------------
    def score(self, prompts: list[Messages], responses: list[str]) -> list[TokenScores]:
        check_score_inputs(prompts, responses)
        pairs = [encode_pair(self.tokenizer, p, r) for p, r in zip(prompts, responses)]
        scores = [TokenScores([]) for _ in pairs]
        lengths = {i: len(p) + len(r) for i, (p, r) in enumerate(pairs) if r}
        self._scorer.prepare([pairs[i][0] for i in lengths])
        prompt_group: dict[tuple[int, ...], int] = {}
        groups = {i: prompt_group.setdefault(tuple(pairs[i][0]), len(prompt_group)) for i in lengths}
        for batch in length_batches(lengths, self.score_batch_size, self.score_batch_tokens, groups):
            values = self._split_on_oom(self._score_batch, [pairs[i] for i in batch])
            for i, logprobs in zip(batch, values):
                scores[i] = TokenScores(logprobs)
        return scores

    def _score_batch(self, pairs: list[tuple[list[int], list[int]]]) -> list[list[float]]:
        return self._scorer.score_batch(pairs)

    def close(self) -> None:
        self.model = None
        import gc

        gc.collect()
