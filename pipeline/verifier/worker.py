"""Entry point of one verifier worker process (`python -m pipeline.verifier.worker READ_FD WRITE_FD MEM`):
announces itself ready, then answers (task_id, gold, pred, soft_timeout) requests with compare() results.
On a "warm" request it first runs the parser warm-up (WARMUP) and answers "warm": a pool asks for it only
when it expects many comparisons, since the warm-up costs about as much CPU as a handful of them."""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection


def main(argv: list[str]) -> int:
    rfd, wfd, mem = int(argv[0]), int(argv[1]), int(argv[2])
    inbox = Connection(rfd, readable=True, writable=False)
    outbox = Connection(wfd, readable=False, writable=True)
    from pipeline.verifier.symbolic import WARMUP, compare  # the slow import happens before "ready"

    if mem > 0:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        except (ImportError, ValueError, OSError):
            pass
    outbox.send("ready")
    while True:
        try:
            msg = inbox.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return 0
        if msg is None:
            return 0
        if msg == "warm":
            for g, p in WARMUP:
                compare(g, p, 5.0)
            outbox.send("warm")
            continue
        task_id, gold, pred, soft = msg
        try:
            res = compare(gold, pred, soft)
        except MemoryError:
            outbox.send((task_id, (False, "error", "error: memory limit exceeded")))
            return 3  # the heap may be in a bad state: exit, the parent starts a fresh worker
        outbox.send((task_id, res))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
