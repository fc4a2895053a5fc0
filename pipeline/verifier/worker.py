"""Entry point of one verifier worker process (`python -m pipeline.verifier.worker READ_FD WRITE_FD MEM`):
announces itself ready, then answers (task_id, gold, pred, soft_timeout) requests with compare() results."""
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
    # parser warm-up in idle time only: a real request interrupts it
    for g, p in WARMUP:
        if inbox.poll(0):
            break
        compare(g, p, 5.0)
    else:
        outbox.send("warm")
    while True:
        try:
            msg = inbox.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return 0
        if msg is None:
            return 0
        task_id, gold, pred, soft = msg
        try:
            res = compare(gold, pred, soft)
        except MemoryError:
            outbox.send((task_id, (False, "error", "error: memory limit exceeded")))
            return 3  # the heap may be in a bad state: exit, the parent starts a fresh worker
        outbox.send((task_id, res))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
