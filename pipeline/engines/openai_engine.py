"""Engine for any OpenAI-compatible chat endpoint (vllm serve, sglang, a hosted teacher).

Plain stdlib HTTP (urllib) in a thread pool: the `openai` package is not a dependency. Requests retry with
exponential backoff on 429, 5xx, timeouts and dropped connections; several base URLs are used round-robin
(one `vllm serve` replica each = data parallelism across servers).
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pipeline.engines.base import (
    ClosingMixin,
    Completion,
    EngineError,
    Messages,
    PromptResult,
    SamplingParams,
    TokenScores,
    cut_at_stop,
)
from store.trajectory_format import with_reasoning

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class HTTPStatusError(EngineError):
    def __init__(self, status: int, url: str, detail: str) -> None:
        super().__init__(f"HTTP {status} from {url}: {detail}")
        self.status = status
        self.detail = detail


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"


def split_tokens(total: int, weights: list[int]) -> list[int]:
    """Share a request's completion-token count among its choices in proportion to their text length."""
    if not weights:
        return []
    whole = sum(weights)
    if whole == 0:
        shares = [total // len(weights)] * len(weights)
    else:
        shares = [total * w // whole for w in weights]
    for k in range(total - sum(shares)):
        shares[k % len(shares)] += 1
    return shares


class OpenAIEngine(ClosingMixin):
    """Chat completions against an OpenAI-compatible server.

    base_url: one URL, a comma-separated list or a list (round-robin); default $OPENAI_BASE_URL or
    http://127.0.0.1:8000/v1. The API key comes from `api_key`, else the env variable `api_key_env`.
    `concurrency` bounds the requests in flight. `extra_body` is merged into every request (e.g. top_k,
    chat_template_kwargs). With n > 1 and usage reported per request, per-completion token counts are
    shared out by text length, so they are estimates.
    """

    name = "openai"

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | list[str] | None = None,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 8,
        timeout: float = 600.0,
        max_retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        extra_body: dict[str, Any] | None = None,
        max_tokens_field: str = "max_tokens",
    ) -> None:
        urls = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        if isinstance(urls, str):
            urls = [u.strip() for u in urls.split(",") if u.strip()]
        self.base_urls = [u.rstrip("/") for u in urls]
        self._urls = itertools.cycle(self.base_urls)
        # Loopback servers (a local `vllm serve`) must never be reached through an HTTP(S)_PROXY from the env.
        self._direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._via_env = urllib.request.build_opener()
        self._url_lock = threading.Lock()
        self.api_key = api_key if api_key is not None else os.environ.get(api_key_env)
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.extra_body = dict(extra_body or {})
        self.max_tokens_field = max_tokens_field
        self.n_supported: bool | None = None
        self.retries = 0
        self._in_flight = threading.BoundedSemaphore(self.concurrency)
        self._prompt_pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="openai-prompt")
        self._request_pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="openai-request")
        self.model_id = model or self.list_models()[0]

    # -- HTTP --------------------------------------------------------------------------------------
    def _next_url(self) -> str:
        with self._url_lock:
            return next(self._urls)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        delay = min(self.max_backoff, self.backoff * 2**attempt) * (0.5 + random.random() / 2)
        if retry_after:
            try:
                delay = max(delay, min(self.max_backoff, float(retry_after)))
            except ValueError:
                pass
        return delay

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One API call with retries; returns the decoded JSON body."""
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(self.max_retries + 1):
            url = self._next_url() + path
            req = urllib.request.Request(url, data=data, headers=self._headers(), method=method)
            retry_after = None
            try:
                opener = self._direct if is_loopback(url) else self._via_env
                with self._in_flight, opener.open(req, timeout=self.timeout) as resp:
                    return json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                detail = exc.read()[:2000].decode("utf-8", "replace")
                if exc.code not in RETRY_STATUS or attempt == self.max_retries:
                    raise HTTPStatusError(exc.code, url, detail) from exc
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                error: Exception = exc
            except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as exc:
                if attempt == self.max_retries:
                    raise EngineError(f"{method} {url} failed after {attempt + 1} attempts: {exc}") from exc
                error = exc
            except json.JSONDecodeError as exc:
                raise EngineError(f"{url} did not return JSON: {exc}") from exc
            with self._url_lock:
                self.retries += 1
            time.sleep(self._delay(attempt, retry_after))
        raise EngineError(f"{method} {path}: retries exhausted ({error})")  # pragma: no cover

    def list_models(self) -> list[str]:
        models = [m["id"] for m in self.request("GET", "/models").get("data", [])]
        if not models:
            raise EngineError(f"{self.base_urls[0]}/models lists no model; pass a model name")
        return models

    # -- generation --------------------------------------------------------------------------------
    def _body(self, messages: Messages, params: SamplingParams, n: int, seed: int | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model_id,
            "messages": messages,
            "temperature": params.temperature,
            "top_p": params.top_p,
            self.max_tokens_field: params.max_new_tokens,
        }
        if n > 1:
            body["n"] = n
        if params.stop:
            body["stop"] = params.stop
        if seed is not None:
            body["seed"] = seed
        if messages and messages[-1].get("role") == "assistant":
            # Continue the last (assistant) message instead of answering it: vLLM's / sglang's chat extension.
            body.update(continue_final_message=True, add_generation_prompt=False)
        return {**body, **self.extra_body}

    def _chat(self, messages: Messages, params: SamplingParams, n: int, seed: int | None):
        started = time.perf_counter()
        data = self.request("POST", "/chat/completions", self._body(messages, params, n, seed))
        elapsed = time.perf_counter() - started
        choices = sorted(data.get("choices") or [], key=lambda c: c.get("index", 0))
        contents, reasonings, reasons = [], [], []
        for choice in choices:
            message = choice.get("message") or {}
            content, stopped = cut_at_stop(message.get("content") or "", params.stop)
            contents.append(content)
            reasonings.append(message.get("reasoning_content") or message.get("reasoning"))
            reasons.append("length" if choice.get("finish_reason") == "length" and not stopped else "stop")
        usage = data.get("usage") or {}
        weights = [len(t) + len(r or "") for t, r in zip(contents, reasonings)]
        total = usage.get("completion_tokens")
        counts = split_tokens(total, weights) if total is not None else [max(1, w // 4) for w in weights]
        share = elapsed / max(1, len(choices))
        # The teacher's thought: a split-out reasoning field becomes the STILL thought, the content its solution.
        completions = [
            Completion(
                with_reasoning(t, r, truncated=f == "length"),
                c,
                f,
                reasoning=r,
                seconds=share,
                content=t if r is not None else None,
            )
            for t, c, f, r in zip(contents, counts, reasons, reasonings)
        ]
        return completions, int(usage.get("prompt_tokens") or 0)

    def _one_prompt(self, index: int, messages: Messages, params: SamplingParams) -> PromptResult:
        if params.n > 1 and self.n_supported is not False:
            try:
                completions, prompt_tokens = self._chat(messages, params, params.n, params.seed)
            except HTTPStatusError as exc:
                if exc.status not in (400, 422):
                    raise
                completions = []
            if len(completions) >= params.n:
                self.n_supported = True
                return PromptResult(index, completions[: params.n], prompt_tokens)
            self.n_supported = False
        # One request per completion (n == 1, or a server that rejects or ignores n).
        seeds = [None if params.seed is None else params.seed + k for k in range(params.n)]
        futures = [self._request_pool.submit(self._chat, messages, params, 1, s) for s in seeds]
        completions, prompt_tokens = [], 0
        for future in futures:
            got, prompt_tokens = future.result()
            if not got:
                raise EngineError(f"{self.base_urls[0]} returned no choice for prompt {index}")
            completions.append(got[0])
        return PromptResult(index, completions, prompt_tokens)

    def generate(self, messages_list: list[Messages], params: SamplingParams) -> list[PromptResult]:
        futures = [self._prompt_pool.submit(self._one_prompt, i, m, params) for i, m in enumerate(messages_list)]
        results = []
        for i, future in enumerate(futures):
            try:
                results.append(future.result())
            except EngineError as exc:
                for rest in futures[i + 1 :]:
                    rest.cancel()
                raise EngineError(f"prompt {i}: {exc}") from exc
        return results

    def score(self, prompts: list[Messages], responses: list[str]) -> list[TokenScores]:
        raise NotImplementedError(
            "the OpenAI-compatible chat API returns no prompt logprobs, so it cannot score responses; "
            "use --engine transformers or --engine vllm for perplexity"
        )

    def close(self) -> None:
        self._prompt_pool.shutdown(wait=False, cancel_futures=True)
        self._request_pool.shutdown(wait=False, cancel_futures=True)
