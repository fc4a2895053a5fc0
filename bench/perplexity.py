"""Perplexity scoring speed: the batched scorer (`TransformersEngine.score`, used by `still2 score`) against a
plain per-sample Hugging Face loop on the same 200 trajectories, in one run; prints the speed-up (goal >= 3x).

Trajectories are the real Sky-T1 responses (../shared/data/trajectories) cut to varied lengths, each scored
against its real question with the STILL-2 system prompt. Default model: the tiny random Llama (SmolLM2
tokenizer); pass --model for another one. Also checks both give the same mean NLL.

    .venv/bin/python bench/perplexity.py [--n 200] [--model DIR] [--batch-size 16] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "trajectories"


def load_samples(n: int, seed: int = 0) -> list[tuple[str, str]]:
    rows = []
    for path in sorted(SHARED.glob("*.jsonl")):
        for line in open(path, encoding="utf-8"):
            r = json.loads(line)
            rows.append((r["question"], r["code"][0]))
    rng = random.Random(seed)
    out = []
    for i in range(n):
        question, text = rows[i % len(rows)]
        start = rng.randrange(0, max(1, len(text) - 3000))
        out.append((question, text[start:start + rng.randint(300, 2500)]))
    return out


def plain_loop(model_dir: str, samples, device: str = "cpu") -> list[float]:
    """One unbatched forward per sample, full logits, the textbook way."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from store.prompting import chat_prompt

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).to(device).eval()
    out = []
    for question, response in samples:
        prompt = tok(tok.apply_chat_template(chat_prompt(question), add_generation_prompt=True, tokenize=False),
                     add_special_tokens=False)["input_ids"]
        resp = tok(response, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            logits = model(torch.tensor([prompt + resp], device=device)).logits[0, len(prompt) - 1:-1]
        out.append(float(torch.nn.functional.cross_entropy(logits.float(), torch.tensor(resp, device=device))))
    return out


def batched(model_dir: str, samples, batch_size: int, device: str = "cpu") -> list[float]:
    from pipeline.engines.transformers_engine import TransformersEngine
    from store.prompting import chat_prompt

    engine = TransformersEngine(model_dir, device=device, dtype="float32", score_batch_size=batch_size,
                                score_batch_tokens=batch_size * 1024)
    scores = engine.score([chat_prompt(q) for q, _ in samples], [r for _, r in samples])
    return [s.mean_nll() for s in scores]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--model", default=None)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    samples = load_samples(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model
        if model_dir is None:
            from pipeline.engines.tiny_model import make_tiny_model

            model_dir = str(make_tiny_model(tmp))
        batched(model_dir, samples[:4], args.batch_size)  # warm-up: model load, kernels
        t0 = time.perf_counter()
        fast = batched(model_dir, samples, args.batch_size)
        t_fast = time.perf_counter() - t0
        t0 = time.perf_counter()
        slow = plain_loop(model_dir, samples)
        t_slow = time.perf_counter() - t0
    worst = max(abs(a - b) for a, b in zip(fast, slow))
    print(f"{args.n} trajectories, model {args.model or 'tiny random Llama'}, {args.threads} threads")
    print(f"plain per-sample HF loop : {t_slow:7.2f} s  ({args.n / t_slow:6.1f} traj/s)")
    print(f"batched scorer (bs {args.batch_size:>3}) : {t_fast:7.2f} s  ({args.n / t_fast:6.1f} traj/s)")
    print(f"speed-up                 : {t_slow / t_fast:7.2f}x   (max |mean NLL difference| {worst:.2e})")


if __name__ == "__main__":
    main()
