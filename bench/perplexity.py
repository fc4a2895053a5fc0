"""Perplexity scoring speed: the batched scorer (`TransformersEngine.score`, used by `still2 score`) against a
plain per-sample Hugging Face loop on the same 200 trajectories, in one run; prints the speed-up (goal >= 3x).
The legs take turns on slices of the trajectories, so a slow spell of a shared machine hits them all.

Trajectories are the real Sky-T1 responses (../shared/data/trajectories) cut to varied lengths, each scored
against its real question with the STILL-2 system prompt. `--rollouts K` gives each question K pieces
(explore's shape: several rollouts per problem); the default 1 gives every trajectory its own question
where there are enough of them. Model: the tiny random Llama (SmolLM2 tokenizer) by default, `--model
default` for SmolLM2-135M-Instruct, or any local folder. Also checks both give the same mean NLL, and prints
the ratio of multiply-add work of the two (what skipping prompt tokens and prompt logits saves, net of the
scorer's masked attention; beyond it, a speed-up has to come from running the arithmetic faster).
`--vllm-python` adds the vLLM engine's `prompt_logprobs` scorer as a third leg, served by a worker in that
interpreter and taking turns like the others (on a CPU box with VLLM_CPU_OMP_THREADS_BIND=0-1
VLLM_CPU_NUM_OF_RESERVED_CPU=0, see the README). On a GPU box: `--device cuda --batch-size 16`.

    .venv/bin/python bench/perplexity.py [--n 200] [--rollouts 1] [--model tiny|default|DIR]
                                         [--batch-size 16] [--threads 2] [--slices 10] [--device cpu]
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
        out.append((question, text[start : start + rng.randint(300, 2500)]))
    return out


def plain_loop(model_dir: str, device: str = "cpu"):
    """One unbatched forward per sample, full logits, the textbook way. Returns a function of samples."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from store.prompting import chat_prompt

    tok = AutoTokenizer.from_pretrained(model_dir)
    # float32 like the scorer (`batched`): the default dtype follows the checkpoint, which may be bf16.
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).to(device).eval()

    def run(samples) -> list[float]:
        out = []
        for question, response in samples:
            text = tok.apply_chat_template(chat_prompt(question), add_generation_prompt=True, tokenize=False)
            prompt = tok(text, add_special_tokens=False)["input_ids"]
            resp = tok(response, add_special_tokens=False)["input_ids"]
            with torch.inference_mode():
                logits = model(torch.tensor([prompt + resp], device=device)).logits[0, len(prompt) - 1 : -1]
            out.append(float(torch.nn.functional.cross_entropy(logits.float(), torch.tensor(resp, device=device))))
        return out

    return run


def batched(model_dir: str, batch_size: int, device: str = "cpu"):
    """The engine's scorer (what `still2 score` runs). Returns a function of samples."""
    from pipeline.engines.transformers_engine import TransformersEngine
    from store.prompting import chat_prompt

    engine = TransformersEngine(
        model_dir, device=device, dtype="float32", score_batch_size=batch_size, score_batch_tokens=batch_size * 1024
    )

    def run(samples) -> list[float]:
        scores = engine.score([chat_prompt(q) for q, _ in samples], [r for _, r in samples])
        return [s.mean_nll() for s in scores]

    return run


def side_by_side(legs: dict, samples, slices: int) -> tuple[dict, dict]:
    """Each leg scores the same slices of `samples` in turns (order rotating per slice), so a slow spell of a
    shared machine falls on every leg instead of on whichever ran during it. A leg is called with a slice's
    (start, end). Returns seconds and mean NLLs per leg."""
    seconds = {name: 0.0 for name in legs}
    values: dict[str, list[float]] = {name: [] for name in legs}
    names = list(legs)
    size = -(-len(samples) // slices)
    for k, at in enumerate(range(0, len(samples), size)):
        for name in names[k % len(names) :] + names[: k % len(names)]:
            started = time.perf_counter()
            values[name].extend(legs[name](at, min(at + size, len(samples))))
            seconds[name] += time.perf_counter() - started
    return seconds, values


def serve_vllm(model_dir: str, samples) -> None:
    """The vLLM engine's `prompt_logprobs` scorer, serving slices of `samples` (run in the vLLM interpreter
    by `--vllm-python`)."""
    from bench.worker import serve
    from pipeline.engines.vllm_engine import VLLMEngine
    from store.prompting import chat_prompt

    engine = VLLMEngine(model_dir)
    prompts, responses = [chat_prompt(q) for q, _ in samples], [r for _, r in samples]
    try:
        serve(lambda ask: [s.mean_nll() for s in engine.score(prompts[ask[0] : ask[1]], responses[ask[0] : ask[1]])])
    finally:
        engine.close()


def start_vllm_worker(python: str, model_dir: str, args):
    """The vLLM worker (`serve_vllm`), warmed up, and its start-up seconds (with the warm-up)."""
    from bench.worker import Worker

    started = time.perf_counter()
    worker = Worker(python, __file__, [model_dir, "--n", str(args.n), "--rollouts", str(args.rollouts)])
    worker.ask([0, 2])
    return worker, time.perf_counter() - started


def work_ratio(model_dir: str, samples) -> tuple[float, float]:
    """Multiply-add work of the plain loop / the scorer's, from token counts and the model's shapes.

    Plain: every prompt and response token through the body and the output layer, attention causal over
    the whole sequence. Scorer: the prefix all prompts share once, each distinct prompt's rest once (its
    queries attending to the shared prefix and causally to themselves), every response token through the
    body and the output layer, its queries attending to the whole prompt (a masked block, which the CPU
    kernel computes in full) and causally to the response. This is the speed-up at equal arithmetic
    speed. Also returns the body's share (linear layers) of the plain loop's work.
    """
    from transformers import AutoConfig, AutoTokenizer

    from pipeline.engines.hf_scoring import cacheable_length
    from pipeline.engines.prompts import encode_pair
    from store.prompting import chat_prompt

    tok = AutoTokenizer.from_pretrained(model_dir)
    cfg = AutoConfig.from_pretrained(model_dir)
    width, ffn, vocab, layers = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size, cfg.num_hidden_layers
    kv = width * cfg.num_key_value_heads // cfg.num_attention_heads
    body = layers * (2 * width * width + 2 * width * kv + 3 * width * ffn)  # linear MACs per token
    head = width * vocab
    pair = 2 * layers * width  # attention MACs per (query, key) pair: scores and weighted values

    def causal(n: int) -> float:
        return n * (n + 1) / 2

    pairs = [encode_pair(tok, chat_prompt(q), r) for q, r in samples]
    shared = cacheable_length([p for p, _ in pairs])
    distinct = {tuple(p) for p, _ in pairs}
    plain = sum((len(p) + len(r)) * (body + head) + causal(len(p) + len(r)) * pair for p, r in pairs)
    scorer = shared * body + causal(shared) * pair
    scorer += sum(
        (len(p) - shared) * body + ((len(p) - shared) * shared + causal(len(p) - shared)) * pair for p in distinct
    )
    scorer += sum(len(r) * (body + head) + (len(r) * len(p) + causal(len(r))) * pair for p, r in pairs)
    return plain / scorer, sum((len(p) + len(r)) * body for p, r in pairs) / plain


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rollouts", type=int, default=1)
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--slices", type=int, default=10, help="the legs take turns on this many slices")
    ap.add_argument("--device", default="cpu", help="torch device of the two transformers legs (cuda on a GPU box)")
    ap.add_argument("--vllm-python", help="add the vLLM engine's scorer as a leg, run by this interpreter")
    ap.add_argument("--vllm-worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    samples = load_samples(args.n, rollouts=args.rollouts)
    if args.vllm_worker:
        serve_vllm(args.vllm_worker, samples)
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
        local = {
            "scorer": batched(model_dir, args.batch_size, args.device),
            "plain": plain_loop(model_dir, args.device),
        }
        for run in local.values():
            run(samples[:2])  # warm-up: kernels
        legs = {name: (lambda start, end, run=run: run(samples[start:end])) for name, run in local.items()}
        worker = None
        if args.vllm_python:
            worker, startup = start_vllm_worker(args.vllm_python, model_dir, args)
            legs["vllm"] = lambda start, end: worker.ask([start, end])
        try:
            seconds, values = side_by_side(legs, samples, args.slices)
        finally:
            if worker:
                worker.close()
        ratio, body_share = work_ratio(model_dir, samples)
    t_slow, slow = seconds["plain"], values["plain"]

    def gap(name: str) -> float:
        return max(abs(a - b) / abs(b) for a, b in zip(values[name], slow))

    name = {"tiny": "tiny random Llama", "default": "SmolLM2-135M-Instruct"}.get(args.model, args.model)
    print(
        f"{args.n} trajectories ({args.rollouts} per question), model {name}, {args.device}, {args.threads} threads,"
        f" legs taking turns on {args.slices} slices"
    )
    print(f"plain per-sample HF loop : {t_slow:7.2f} s  ({args.n / t_slow:6.1f} traj/s)")
    print(
        f"batched scorer (bs {args.batch_size:>3}) : {seconds['scorer']:7.2f} s  ({args.n / seconds['scorer']:6.1f} traj/s)"
    )
    print(
        f"speed-up                 : {t_slow / seconds['scorer']:7.2f}x   (max relative mean-NLL difference {gap('scorer'):.1e})"
    )
    print(
        f"work ratio plain/scorer  : {ratio:7.2f}x   (multiply-adds incl. attention; the body's linear layers are"
        f" {body_share:.0%} of the plain loop's; the speed-up at equal arithmetic speed)"
    )
    if args.vllm_python:
        print(
            f"vLLM prompt_logprobs     : {seconds['vllm']:7.2f} s  ({args.n / seconds['vllm']:6.1f} traj/s), "
            f"{t_slow / seconds['vllm']:.2f}x the plain loop (start-up {startup:.0f} s; max relative"
            f" mean-NLL difference {gap('vllm'):.1e})"
        )


if __name__ == "__main__":
    main()
