"""Output-layer chunk size for teacher-forced scoring: time of the output layer + cross-entropy over
2,048 response rows cut into chunks of 32..2,048 rows, side by side in one run (sizes take turns; each
keeps its best of the rounds), for a real model's width (SmolLM2: 576) and the tiny test model's (64).
Picks `HEAD_CHUNK_BYTES` in pipeline/engines/hf_scoring.py.

    .venv/bin/python bench/head_chunks.py [--vocab 49152] [--widths 576 64] [--threads 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time


def head_time(weight, hidden, targets, rows: int) -> float:
    import torch

    started = time.perf_counter()
    with torch.inference_mode():
        for at in range(0, hidden.shape[0], rows):
            logits = torch.nn.functional.linear(hidden[at : at + rows], weight)
            torch.nn.functional.cross_entropy(logits, targets[at : at + rows], reduction="none")
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vocab", type=int, default=49152)
    ap.add_argument("--widths", type=int, nargs="+", default=[576, 64])
    ap.add_argument("--rows", type=int, default=2048, help="response rows scored per measurement")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    sizes = [s for s in (32, 64, 128, 256, 512, 1024, 2048) if s <= args.rows]
    for width in args.widths:
        weight = torch.randn(args.vocab, width) * 0.05
        hidden = torch.randn(args.rows, width)
        targets = torch.randint(0, args.vocab, (args.rows,))
        head_time(weight, hidden, targets, 256)  # warm-up
        # Sizes take turns, and each keeps its best round: a neighbour's burst hits one round, not one size.
        times = {rows: float("inf") for rows in sizes}
        for _ in range(args.repeats):
            for rows in sizes:
                times[rows] = min(times[rows], head_time(weight, hidden, targets, rows))
        best = min(times, key=times.get)
        print(f"hidden {width}, vocab {args.vocab}, {args.rows} rows, {args.threads} threads")
        for rows, seconds in times.items():
            mb = rows * args.vocab * 4 / 2**20
            print(
                f"  {rows:>5}-row chunks ({mb:6.1f} MB of logits): {seconds * 1000:7.0f} ms"
                f"  {seconds / times[best]:5.2f}x the best"
            )


if __name__ == "__main__":
    main()
