"""TransformersEngine on a tiny random Llama with the SmolLM2 tokenizer (built once per session)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from pipeline.engines.base import SamplingParams  # noqa: E402
from pipeline.engines.prompts import encode_pair  # noqa: E402
from pipeline.engines.tiny_model import make_tiny_model  # noqa: E402
from pipeline.engines.transformers_engine import TransformersEngine  # noqa: E402

PROMPTS = [
    [{"role": "user", "content": "What is 2+3?"}],
    [
        {"role": "system", "content": "Think step by step and put the answer in a box."},
        {"role": "user", "content": "A train leaves at 9 and travels 120 km at 60 km/h. When does it arrive?"},
    ],
]
RESPONSES = [
    "5",
    "<|begin_of_thought|>\n\n120 / 60 = 2 hours.\n\n<|end_of_thought|>\n\n"
    "<|begin_of_solution|>11:00<|end_of_solution|>",
    "The answer is 11 o'clock, since the trip takes two hours.",
    "",
]


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-llama", seed=0)


@pytest.fixture(scope="module")
def engine(tiny_dir):
    eng = TransformersEngine(str(tiny_dir), batch_size=8)
    yield eng
    eng.close()


def texts(results):
    return [[c.text for c in r.completions] for r in results]


def test_tiny_model_is_deterministic(tmp_path, tiny_dir):
    from safetensors.torch import load_file

    again = make_tiny_model(tmp_path / "again", seed=0)
    a, b = load_file(tiny_dir / "model.safetensors"), load_file(again / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_generate_n_completions_for_two_prompts(engine):
    params = SamplingParams(n=3, temperature=0.9, max_new_tokens=10, seed=1)
    results = engine.generate(PROMPTS, params)
    assert [r.prompt_index for r in results] == [0, 1]
    assert results[0].prompt_tokens < results[1].prompt_tokens  # different lengths: left padding in play
    for r in results:
        assert len(r.completions) == 3
        for c in r.completions:
            assert 1 <= c.n_tokens <= 10
            assert c.finish_reason in ("stop", "length")
            assert c.seconds > 0
    assert len({c.text for c in results[0].completions}) > 1  # sampled, not copies


def test_left_padded_batch_matches_single_prompt_generation(engine, tiny_dir):
    params = SamplingParams(temperature=0, max_new_tokens=12)
    batched = engine.generate(PROMPTS, params)
    single = TransformersEngine(str(tiny_dir), batch_size=1)
    one_by_one = single.generate(PROMPTS, params)
    assert texts(batched) == texts(one_by_one)
    assert [c.n_tokens for r in batched for c in r.completions] == [
        c.n_tokens for r in one_by_one for c in r.completions
    ]


def test_seed_makes_sampling_reproducible(engine):
    params = SamplingParams(n=2, temperature=1.0, max_new_tokens=8, seed=123)
    first = texts(engine.generate(PROMPTS, params))
    assert texts(engine.generate(PROMPTS, params)) == first
    other = SamplingParams(n=2, temperature=1.0, max_new_tokens=8, seed=124)
    assert texts(engine.generate(PROMPTS, other)) != first


def test_greedy_gives_n_identical_copies(engine):
    result = engine.generate(PROMPTS[:1], SamplingParams(n=3, temperature=0, max_new_tokens=6))[0]
    assert len(result.completions) == 3 and len({c.text for c in result.completions}) == 1
    assert result.completions[0].finish_reason == "length" and result.completions[0].n_tokens == 6


def test_stop_string_ends_generation_and_is_cut(engine):
    full = engine.generate(PROMPTS[:1], SamplingParams(temperature=0, max_new_tokens=20))[0].completions[0]
    assert len(full.text) > 12
    stop = full.text[len(full.text) // 2 : len(full.text) // 2 + 3]
    cut = engine.generate(PROMPTS[:1], SamplingParams(temperature=0, max_new_tokens=20, stop=[stop]))
    got = cut[0].completions[0]
    assert got.text == full.text[: full.text.find(stop)]
    assert got.finish_reason == "stop"
    assert got.n_tokens < full.n_tokens


def reference_logprobs(model, tokenizer, prompt, response):
    """Plain per-sample computation: one unpadded forward pass, log_softmax, gather."""
    p, r = encode_pair(tokenizer, prompt, response)
    if not r:
        return []
    ids = torch.tensor([p + r])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0]
    rows = torch.log_softmax(logits[len(p) - 1 : len(p) + len(r) - 1].float(), dim=-1)
    return rows.gather(-1, torch.tensor(r).unsqueeze(-1)).squeeze(-1).tolist()


def pairs_for_scoring():
    prompts = [PROMPTS[k % 2] for k in range(8)]
    responses = [RESPONSES[k % 4] * (1 + k // 4) for k in range(8)]
    return prompts, responses


def test_score_matches_per_sample_computation(engine, tiny_dir):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=torch.float32).eval()
    prompts, responses = pairs_for_scoring()
    scores = engine.score(prompts, responses)
    assert len(scores) == len(responses)
    for prompt, response, got in zip(prompts, responses, scores):
        want = reference_logprobs(model, engine.tokenizer, prompt, response)
        assert len(got.logprobs) == len(want)
        for g, w in zip(got.logprobs, want):
            assert g == pytest.approx(w, rel=1e-4)
        if want:
            assert got.mean_nll() == pytest.approx(-sum(want) / len(want), rel=1e-4)


def test_score_batching_does_not_change_results(tiny_dir):
    prompts, responses = pairs_for_scoring()
    one = TransformersEngine(str(tiny_dir), score_batch_size=1).score(prompts, responses)
    many = TransformersEngine(str(tiny_dir), score_batch_size=16, score_batch_tokens=1 << 20).score(prompts, responses)
    for a, b in zip(one, many):
        assert a.logprobs == pytest.approx(b.logprobs, rel=1e-4)


def test_out_of_memory_batches_are_split(tiny_dir, monkeypatch):
    # Equal lengths, so the padding cap keeps all 8 in one batch until the fake OOM splits it.
    prompts, responses = [PROMPTS[1]] * 8, [f"{RESPONSES[2]} ({k})" for k in range(8)]
    eng = TransformersEngine(str(tiny_dir), score_batch_size=8, score_batch_tokens=1 << 20)
    want = eng.score(prompts, responses)
    real, sizes = eng._score_batch, []

    def small_device(pairs):
        sizes.append(len(pairs))
        if len(pairs) > 2:
            raise torch.OutOfMemoryError("fake")
        return real(pairs)

    monkeypatch.setattr(eng, "_score_batch", small_device)
    got = eng.score(prompts, responses)
    assert max(s for s in sizes if s <= 2) == 2 and sizes[0] > 2
    for g, w in zip(got, want):
        assert g.logprobs == pytest.approx(w.logprobs, rel=1e-4)


def test_score_empty_response_and_bad_input(engine):
    scores = engine.score(PROMPTS[:1], [""])
    assert scores[0].logprobs == [] and math.isnan(scores[0].perplexity())
    with pytest.raises(ValueError):
        engine.score(PROMPTS, ["only one"])


def test_make_engine_builds_transformers(tiny_dir):
    from pipeline.engines import Engine, make_engine

    with make_engine("transformers", str(tiny_dir), batch_size=2) as eng:
        assert isinstance(eng, Engine)
        assert eng.name == "transformers" and eng.model_id == str(tiny_dir)
        assert eng.generate(PROMPTS[:1], SamplingParams(max_new_tokens=2, seed=0))[0].completions


def test_shared_prefix_caches_equal_the_plain_computation(tiny_dir, monkeypatch):
    """Rollouts of two problems under one long system prompt: the shared prefix runs once, a batch of
    one problem's rollouts extends it with that problem's prompt, and every log-prob still matches."""
    from transformers import AutoModelForCausalLM

    from pipeline.engines.hf_scoring import PrefixScorer
    from store.prompting import chat_prompt

    eng = TransformersEngine(str(tiny_dir), score_batch_size=4, score_batch_tokens=1 << 20)
    assert eng._scorer.fast
    extended = []
    real_extend = PrefixScorer._extend

    def spy(self, base, ids):
        extended.append((len(base.ids) if base else 0, len(ids)))
        return real_extend(self, base, ids)

    monkeypatch.setattr(PrefixScorer, "_extend", spy)
    questions = [
        "Compute the product of seventeen and twenty-three, then add the sum of their digits.",
        "Solve for x: 3x + 5 = 26, and explain each step of the algebra in words.",
    ]
    prompts = [chat_prompt(questions[k % 2]) for k in range(8)]
    responses = [RESPONSES[1] + " try %d" % k for k in range(8)]
    scores = eng.score(prompts, responses)

    shared = extended[0]
    assert shared[0] == 0 and shared[1] > 100  # the STILL-2 system prompt, computed once
    assert any(base == shared[1] and length > base for base, length in extended[1:])  # one problem's batch
    model = AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=torch.float32).eval()
    for prompt, response, got in zip(prompts, responses, scores):
        want = reference_logprobs(model, eng.tokenizer, prompt, response)
        assert got.logprobs == pytest.approx(want, rel=1e-4, abs=1e-5)


def test_models_outside_the_fast_path_score_with_full_logits(tiny_dir):
    prompts, responses = pairs_for_scoring()
    eng = TransformersEngine(str(tiny_dir), score_batch_size=4)
    fast = eng.score(prompts, responses)
    eng._scorer.fast = False  # what a soft-capped or sliding-window model gets
    full = eng.score(prompts, responses)
    for a, b in zip(fast, full):
        assert a.logprobs == pytest.approx(b.logprobs, rel=1e-4, abs=1e-5)


def test_prefix_cache_is_refused_for_soft_capped_and_sliding_models(tiny_dir):
    from transformers import AutoModelForCausalLM

    from pipeline.engines.hf_scoring import prefix_cache_usable

    model = AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=torch.float32)
    assert prefix_cache_usable(model)
    model.config.final_logit_softcapping = 30.0
    assert not prefix_cache_usable(model)
    model.config.final_logit_softcapping = None
    model.config.layer_types = ["sliding_attention", "full_attention"]
    assert not prefix_cache_usable(model)


def test_one_problem_prompt_is_computed_once_across_its_batches(tiny_dir, monkeypatch):
    """One rollout per pass (the CPU default): a problem's prompt is extended once, not once per rollout."""
    from pipeline.engines.hf_scoring import PrefixScorer
    from store.prompting import chat_prompt

    eng = TransformersEngine(str(tiny_dir), score_batch_size=1)
    extended = []
    real_extend = PrefixScorer._extend
    monkeypatch.setattr(
        PrefixScorer, "_extend", lambda self, base, ids: extended.append(len(ids)) or real_extend(self, base, ids)
    )
    questions = [
        "Compute the product of seventeen and twenty-three, then add the sum of their digits.",
        "Solve for x: 3x + 5 = 26, and explain each step of the algebra in words.",
    ]
    prompts = [chat_prompt(questions[k % 2]) for k in range(6)]
    eng.score(prompts, [f"{RESPONSES[1]} try {k}" for k in range(6)])
    assert len(extended) == 3  # the shared system prompt, then each problem's prompt once (not 3 times)
