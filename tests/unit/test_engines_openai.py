"""OpenAIEngine against a stub OpenAI-compatible server on 127.0.0.1 (stdlib http.server in a thread)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.engines.base import EngineError, SamplingParams
from pipeline.engines.openai_engine import OpenAIEngine, split_tokens
from store.trajectory_format import parse_response, to_still


class StubServer:
    """Canned chat completions; `script` holds status codes to return (in order) before answering normally."""

    def __init__(self, script=(), reject_n=False, delay=0.0, reasoning_field="reasoning_content", reply=None):
        # reply(question, k) -> (content, reasoning or None): what choice k says (default: canned text).
        self.reply = reply
        self.script = list(script)
        self.reject_n = reject_n
        self.delay = delay
        self.reasoning_field = reasoning_field
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, payload, headers=()):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers:
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/v1/models":
                    self.reply(200, {"object": "list", "data": [{"id": "stub-model"}, {"id": "other"}]})
                else:
                    self.reply(404, {"error": {"message": "not found"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub.lock:
                    stub.requests.append(body)
                    stub.headers.append(dict(self.headers))
                    status = stub.script.pop(0) if stub.script else 200
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    time.sleep(stub.delay)
                finally:
                    # Counted until the reply is ready, not until it is written: the client releases its
                    # slot once it has read the reply, which can be before this thread returns.
                    with stub.lock:
                        stub.in_flight -= 1
                stub.answer(self, body, status)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def answer(self, handler, body, status):
        if status == 429:
            return handler.reply(429, {"error": {"message": "slow down"}}, [("Retry-After", "0")])
        if status != 200:
            return handler.reply(status, {"error": {"message": f"injected {status}"}})
        n = body.get("n", 1)
        if self.reject_n and n > 1:
            return handler.reply(400, {"error": {"message": "n > 1 is not supported"}})
        question = body["messages"][-1]["content"]

        def message(k):
            if self.reply is not None:
                content, reasoning = self.reply(question, k)
            else:
                content, reasoning = (
                    f"answer {k} (seed {body.get('seed')}) to {question}" + "!" * k,
                    f"thinking about {question}",
                )
            out = {"role": "assistant", "content": content}
            if reasoning is not None:
                out[self.reasoning_field] = reasoning
            return out

        choices = [
            {"index": k, "message": message(k), "finish_reason": "length" if "long" in question else "stop"}
            for k in range(n)
        ]
        usage = {"prompt_tokens": 7, "completion_tokens": 5 * n, "total_tokens": 7 + 5 * n}
        handler.reply(200, {"id": "x", "object": "chat.completion", "choices": choices, "usage": usage})

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def ask(question):
    return [{"role": "user", "content": question}]


def make(stub, **opts):
    opts.setdefault("backoff", 0.01)
    return OpenAIEngine("stub-model", base_url=stub.url, **opts)


def test_retries_500_and_429_then_succeeds():
    with StubServer(script=[500, 429]) as stub:
        engine = make(stub, concurrency=1, max_retries=3)
        result = engine.generate([ask("2+3?")], SamplingParams(max_new_tokens=5))
        engine.close()
    assert len(stub.requests) == 3 and engine.retries == 2
    completion = result[0].completions[0]
    assert completion.content == "answer 0 (seed None) to 2+3?"
    assert completion.reasoning == "thinking about 2+3?"
    assert completion.text == to_still("thinking about 2+3?", "answer 0 (seed None) to 2+3?")
    assert completion.n_tokens == 5 and completion.finish_reason == "stop"
    assert result[0].prompt_tokens == 7


def test_gives_up_after_max_retries():
    with StubServer(script=[503] * 10) as stub:
        engine = make(stub, max_retries=2)
        with pytest.raises(EngineError, match="HTTP 503"):
            engine.generate([ask("q")], SamplingParams())
        engine.close()
    assert len(stub.requests) == 3


def test_client_errors_are_not_retried():
    with StubServer(script=[400]) as stub:
        engine = make(stub, max_retries=5)
        with pytest.raises(EngineError, match="HTTP 400"):
            engine.generate([ask("q")], SamplingParams())
        engine.close()
    assert len(stub.requests) == 1


def test_timeout_is_retried_then_reported():
    with StubServer(delay=1.0) as stub:
        engine = make(stub, timeout=0.2, max_retries=1)
        with pytest.raises(EngineError, match="failed after 2 attempts"):
            engine.generate([ask("q")], SamplingParams())
        engine.close()
    assert len(stub.requests) == 2


def test_request_body_and_n_in_one_request():
    with StubServer() as stub:
        engine = make(stub)
        params = SamplingParams(n=3, temperature=0.6, top_p=0.9, max_new_tokens=64, seed=7, stop=["</s>"])
        result = engine.generate([ask("x")], params)[0]
        engine.close()
    assert len(stub.requests) == 1
    body = stub.requests[0]
    assert body["model"] == "stub-model" and body["n"] == 3 and body["max_tokens"] == 64
    assert body["temperature"] == 0.6 and body["top_p"] == 0.9 and body["seed"] == 7 and body["stop"] == ["</s>"]
    assert [c.content.split(" (")[0] for c in result.completions] == ["answer 0", "answer 1", "answer 2"]
    assert sum(c.n_tokens for c in result.completions) == 15
    assert engine.n_supported is True


def test_n_falls_back_to_repeated_requests_when_rejected():
    with StubServer(reject_n=True) as stub:
        engine = make(stub)
        result = engine.generate([ask("a"), ask("b")], SamplingParams(n=3, seed=10))
        engine.close()
    assert engine.n_supported is False
    assert [len(r.completions) for r in result] == [3, 3]
    assert {c.content for c in result[1].completions} == {f"answer 0 (seed {s}) to b" for s in (10, 11, 12)}
    single = [r for r in stub.requests if "n" not in r]
    assert len(single) == 6  # after the first rejection no more n>1 requests need be tried


def test_reasoning_field_and_length_finish():
    with StubServer(reasoning_field="reasoning") as stub:
        engine = make(stub)
        result = engine.generate([ask("a long one")], SamplingParams())[0].completions[0]
        engine.close()
    assert result.reasoning == "thinking about a long one" and result.finish_reason == "length"
    # "reasoning" (vLLM's newer field name) is the thought just as reasoning_content is
    assert parse_response(result.text).thought == "thinking about a long one"


def test_concurrency_is_bounded_and_order_kept():
    with StubServer(delay=0.15) as stub:
        engine = make(stub, concurrency=3)
        questions = [f"q{k}" for k in range(9)]
        results = engine.generate([ask(q) for q in questions], SamplingParams())
        engine.close()
    assert stub.max_in_flight == 3  # three requests overlapped: the concurrency bound, measured by the stub
    assert [r.prompt_index for r in results] == list(range(9))
    assert [r.completions[0].content.rsplit(" ", 1)[1] for r in results] == questions


def test_api_key_from_named_env_and_model_from_server(monkeypatch):
    monkeypatch.setenv("MY_TEACHER_KEY", "sk-test")
    with StubServer() as stub:
        engine = OpenAIEngine(None, base_url=stub.url + "/", api_key_env="MY_TEACHER_KEY")
        engine.generate([ask("q")], SamplingParams())
        engine.close()
    assert engine.model_id == "stub-model"
    assert stub.headers[0]["Authorization"] == "Bearer sk-test"


def test_round_robin_over_several_base_urls():
    with StubServer() as one, StubServer() as two:
        engine = OpenAIEngine("m", base_url=f"{one.url},{two.url}", concurrency=1)
        engine.generate([ask(f"q{k}") for k in range(4)], SamplingParams())
        engine.close()
    assert len(one.requests) == len(two.requests) == 2


def test_loopback_ignores_proxy_env(monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with StubServer() as stub:
        engine = make(stub, max_retries=0)
        assert engine.generate([ask("q")], SamplingParams())[0].completions[0].text
        engine.close()


def test_score_is_not_supported():
    with StubServer() as stub:
        engine = make(stub)
        with pytest.raises(NotImplementedError, match="transformers"):
            engine.score([ask("q")], ["a"])
        engine.close()


def test_split_tokens_keeps_the_total():
    assert split_tokens(10, [1, 1]) == [5, 5]
    assert sum(split_tokens(11, [3, 5, 0])) == 11
    assert split_tokens(3, [0, 0, 0]) == [1, 1, 1]
