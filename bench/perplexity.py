"""Perplexity scoring speed: the batched scorer (`TransformersEngine.score`, used by `still2 score`) against a
plain per-sample Hugging Face loop on the same 200 trajectories, in one run; prints the speed-up (goal >= 3x).

Trajectories are the real Sky-T1 responses (../shared/data/trajectories) cut to varied lengths, each scored
against its real question with the STILL-2 system prompt. `--rollouts K` gives each question K pieces
(explore's shape: several rollouts per problem); the default 1 gives every trajectory its own question
where there are enough of them. Model: the tiny random Llama (SmolLM2 tokenizer) by default, `--model
default` for SmolLM2-135M-Instruct, or any local folder. Also checks both give the same mean NLL.

    .venv/bin/python bench/perplexity.py [--n 200] [--rollouts 1] [--model tiny|default|DIR]
                                         [--batch-size 16] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "trajectories"


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
    ap.add_argument("--rollouts", type=int, default=1)
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    samples = load_samples(args.n, rollouts=args.rollouts)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model
        if model_dir == "tiny":
            from pipeline.engines.tiny_model import make_tiny_model

            model_dir = str(make_tiny_model(tmp))
        elif model_dir == "default":
            from pipeline.engines.default_model import ensure_default_model

            model_dir = str(ensure_default_model())
        batched(model_dir, samples[:4], args.batch_size)  # warm-up: model load, kernels
        t0 = time.perf_counter()
        fast = batched(model_dir, samples, args.batch_size)
        t_fast = time.perf_counter() - t0
        t0 = time.perf_counter()
        slow = plain_loop(model_dir, samples)
        t_slow = time.perf_counter() - t0
    worst = max(abs(a - b) / abs(b) for a, b in zip(fast, slow))
    name = {"tiny": "tiny random Llama", "default": "SmolLM2-135M-Instruct"}.get(args.model, args.model)
    print(f"{args.n} trajectories ({args.rollouts} per question), model {name}, {args.threads} threads")
    print(f"plain per-sample HF loop : {t_slow:7.2f} s  ({args.n / t_slow:6.1f} traj/s)")
    print(f"batched scorer (bs {args.batch_size:>3}) : {t_fast:7.2f} s  ({args.n / t_fast:6.1f} traj/s)")
    print(f"speed-up                 : {t_slow / t_fast:7.2f}x   (max relative mean-NLL difference {worst:.1e})")


if __name__ == "__main__":
    main()
