"""Perplexity scoring speed: the batched scorer (`TransformersEngine.score`, used by `still2 score`) against a
plain per-sample Hugging Face loop on the same 200 trajectories, in one run; prints the speed-up (goal >= 3x).
The two legs take turns on slices of the trajectories, so a slow spell of a shared machine hits both.

Trajectories are the real Sky-T1 responses (../shared/data/trajectories) cut to varied lengths, each scored
against its real question with the STILL-2 system prompt. `--rollouts K` gives each question K pieces
(explore's shape: several rollouts per problem); the default 1 gives every trajectory its own question
where there are enough of them. Model: the tiny random Llama (SmolLM2 tokenizer) by default, `--model
default` for SmolLM2-135M-Instruct, or any local folder. Also checks both give the same mean NLL, and prints
the ratio of matrix-multiply work of the two (what skipping prompt tokens and prompt logits saves; beyond it,
a speed-up has to come from running the arithmetic faster). `--vllm-python` also times the vLLM engine's
`prompt_logprobs` scorer in that interpreter (on a CPU box with VLLM_CPU_OMP_THREADS_BIND=0-1
VLLM_CPU_NUM_OF_RESERVED_CPU=0, see the README).

    .venv/bin/python bench/perplexity.py [--n 200] [--rollouts 1] [--model tiny|default|DIR]
                                         [--batch-size 16] [--threads 2] [--slices 10]
                                         [--vllm-python .venv-vllm/bin/python]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data" / "trajectories"


def load_samples(n: int, seed: int = 0, rollouts: int = 1) -> list[tuple[str, str]]:
    rows = []
    for path in sorted(SHARED.glob("*.jsonl")):
        for line in open(path, encoding="utf-8"):
            r = json.loads(line)
            rows.append((r["question"], r["code"][0]))
    rng = random.Random(seed)
    out = []
    for i in range(n):
        question, text = rows[(i // rollouts) % len(rows)]
        start = rng.randrange(0, max(1, len(text) - 3000))
        out.append((question, text[start:start + rng.randint(300, 2500)]))
    return out


def plain_loop(model_dir: str, device: str = "cpu"):
    """One unbatched forward per sample, full logits, the textbook way. Returns a function of samples."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from store.prompting import chat_prompt

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).to(device).eval()

    def run(samples) -> list[float]:
        out = []
        for question, response in samples:
            text = tok.apply_chat_template(chat_prompt(question), add_generation_prompt=True, tokenize=False)
            prompt = tok(text, add_special_tokens=False)["input_ids"]
            resp = tok(response, add_special_tokens=False)["input_ids"]
            with torch.inference_mode():
                logits = model(torch.tensor([prompt + resp], device=device)).logits[0, len(prompt) - 1:-1]
            out.append(float(torch.nn.functional.cross_entropy(logits.float(), torch.tensor(resp, device=device))))
        return out

    return run


def batched(model_dir: str, batch_size: int, device: str = "cpu"):
    """The engine's scorer (what `still2 score` runs). Returns a function of samples."""
    from pipeline.engines.transformers_engine import TransformersEngine
    from store.prompting import chat_prompt

    engine = TransformersEngine(model_dir, device=device, dtype="float32", score_batch_size=batch_size,
                                score_batch_tokens=batch_size * 1024)

    def run(samples) -> list[float]:
        scores = engine.score([chat_prompt(q) for q, _ in samples], [r for _, r in samples])
        return [s.mean_nll() for s in scores]

    return run


def side_by_side(legs: dict, samples, slices: int) -> tuple[dict, dict]:
    """Each leg scores the same slices of `samples` in turns (order alternating per slice), so a slow spell
    of a shared machine falls on both legs instead of on whichever ran during it. Returns seconds and
    mean NLLs per leg."""
    seconds = {name: 0.0 for name in legs}
    values: dict[str, list[float]] = {name: [] for name in legs}
    size = -(-len(samples) // slices)
    for k, at in enumerate(range(0, len(samples), size)):
        part = samples[at : at + size]
        for name in (list(legs) if k % 2 == 0 else list(legs)[::-1]):
            started = time.perf_counter()
            values[name].extend(legs[name](part))
            seconds[name] += time.perf_counter() - started
    return seconds, values


def vllm_scores(model_dir: str, samples) -> dict:
    """The vLLM engine's `prompt_logprobs` scorer (run in the vLLM interpreter by `--vllm-python`)."""
    from pipeline.engines.vllm_engine import VLLMEngine
    from store.prompting import chat_prompt

    started = time.perf_counter()
    engine = VLLMEngine(model_dir)
    startup = time.perf_counter() - started
    prompts, responses = [chat_prompt(q) for q, _ in samples], [r for _, r in samples]
    engine.score(prompts[:2], responses[:2])  # warm-up
    started = time.perf_counter()
    scores = engine.score(prompts, responses)
    seconds = time.perf_counter() - started
    engine.close()
    return {"startup_s": round(startup, 1), "seconds": seconds, "nll": [s.mean_nll() for s in scores]}


def work_ratio(model_dir: str, samples) -> tuple[float, float]:
    """Matrix-multiply work of the plain loop / the scorer's, from token counts and the model's weights.

    Plain: every prompt and response token through the body and the output layer. Scorer: the prefix all
    prompts share once, each distinct prompt's rest once, every response token through both. Attention
    scores are left out (a few % at these lengths), so this is the speed-up at equal arithmetic speed.
    Also returns the body's share of the plain loop's work.
    """
    from transformers import AutoConfig, AutoTokenizer

    from pipeline.engines.hf_scoring import cacheable_length
    from pipeline.engines.prompts import encode_pair
    from store.prompting import chat_prompt

    tok = AutoTokenizer.from_pretrained(model_dir)
    cfg = AutoConfig.from_pretrained(model_dir)
    width, ffn, vocab = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size
    kv = width * cfg.num_key_value_heads // cfg.num_attention_heads
    body = cfg.num_hidden_layers * (2 * width * width + 2 * width * kv + 3 * width * ffn)  # MACs per token
    head = width * vocab
    pairs = [encode_pair(tok, chat_prompt(q), r) for q, r in samples]
    shared = cacheable_length([p for p, _ in pairs])
    distinct = {tuple(p) for p, _ in pairs}
    plain = sum((len(p) + len(r)) * (body + head) for p, r in pairs)
    scorer = shared * body + sum(len(p) - shared for p in distinct) * body
    scorer += sum(len(r) * (body + head) for _, r in pairs)
    return plain / scorer, sum((len(p) + len(r)) * body for p, r in pairs) / plain


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rollouts", type=int, default=1)
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--slices", type=int, default=10, help="the legs take turns on this many slices")
    ap.add_argument("--vllm-python", help="also time the vLLM engine's scorer, run by this interpreter")
    ap.add_argument("--vllm-worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    samples = load_samples(args.n, rollouts=args.rollouts)
    if args.vllm_worker:
        print(json.dumps(vllm_scores(args.vllm_worker, samples)))
        return
    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model
        if model_dir == "tiny":
            from pipeline.engines.tiny_model import make_tiny_model

            model_dir = str(make_tiny_model(tmp))
        elif model_dir == "default":
            from pipeline.engines.default_model import ensure_default_model

            model_dir = str(ensure_default_model())
        legs = {"scorer": batched(model_dir, args.batch_size), "plain": plain_loop(model_dir)}
        for leg in legs.values():
            leg(samples[:2])  # warm-up: kernels
        seconds, values = side_by_side(legs, samples, args.slices)
        t_fast, t_slow, fast, slow = seconds["scorer"], seconds["plain"], values["scorer"], values["plain"]
        ratio, body_share = work_ratio(model_dir, samples)
        if args.vllm_python:
            from bench.worker import run_worker

            vllm = run_worker(args.vllm_python, __file__, [model_dir, "--n", str(args.n),
                                                           "--rollouts", str(args.rollouts)])
    worst = max(abs(a - b) / abs(b) for a, b in zip(fast, slow))
    name = {"tiny": "tiny random Llama", "default": "SmolLM2-135M-Instruct"}.get(args.model, args.model)
    print(f"{args.n} trajectories ({args.rollouts} per question), model {name}, {args.threads} threads,"
          f" legs taking turns on {args.slices} slices")
    print(f"plain per-sample HF loop : {t_slow:7.2f} s  ({args.n / t_slow:6.1f} traj/s)")
    print(f"batched scorer (bs {args.batch_size:>3}) : {t_fast:7.2f} s  ({args.n / t_fast:6.1f} traj/s)")
    print(f"speed-up                 : {t_slow / t_fast:7.2f}x   (max relative mean-NLL difference {worst:.1e})")
    print(f"work ratio plain/scorer  : {ratio:7.2f}x   (matrix multiplies; the body is {body_share:.0%} of the plain"
          f" loop's; the speed-up at equal arithmetic speed)")
    if args.vllm_python:
        gap = max(abs(a - b) / abs(b) for a, b in zip(vllm["nll"], slow))
        print(f"vLLM prompt_logprobs     : {vllm['seconds']:7.2f} s  ({args.n / vllm['seconds']:6.1f} traj/s), "
              f"{t_slow / vllm['seconds']:.2f}x the plain loop (startup {vllm['startup_s']} s; max relative"
              f" mean-NLL difference {gap:.1e})")


if __name__ == "__main__":
    main()
