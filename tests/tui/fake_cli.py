"""A stand-in for `python -m pipeline` implementing the jobs contract the TUI relies on.

fake_cli.py jobs schema --json
fake_cli.py jobs start --db DB --json -- explore --max-rollouts 3 ...   (detached child writes rows)
fake_cli.py jobs cancel ID --db DB
fake_cli.py pairs ...   -> "No such command 'pairs'." (exit 2), like Typer
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SCHEMA = {
    "commands": [
        {
            "name": "explore",
            "help": "Sample rollouts on hard problems",
            "params": [
                {
                    "name": "max_rollouts",
                    "flag": "--max-rollouts",
                    "type": "int",
                    "choices": None,
                    "default": 20,
                    "help": "rollouts per problem",
                    "required": False,
                    "multiple": False,
                },
                {
                    "name": "temperature",
                    "flag": "--temperature",
                    "type": "float",
                    "choices": None,
                    "default": 0.7,
                    "help": "sampling temperature",
                    "required": False,
                    "multiple": False,
                },
                {
                    "name": "engine",
                    "flag": "--engine",
                    "type": "choice",
                    "choices": ["transformers", "vllm", "openai"],
                    "default": "transformers",
                    "help": "generation engine",
                    "required": False,
                    "multiple": False,
                },
                {
                    "name": "model",
                    "flag": "--model",
                    "type": "str",
                    "choices": None,
                    "default": None,
                    "help": "model path or id",
                    "required": True,
                    "multiple": False,
                },
                {
                    "name": "source",
                    "flag": "--source",
                    "type": "str",
                    "choices": None,
                    "default": None,
                    "help": "problem sources",
                    "required": False,
                    "multiple": True,
                },
                {
                    "name": "resume",
                    "flag": "--resume",
                    "type": "bool",
                    "choices": None,
                    "default": True,
                    "help": "skip finished problems",
                    "required": False,
                    "multiple": False,
                },
            ],
        },
        {
            "name": "sft",
            "help": "Supervised fine-tuning",
            "params": [
                {
                    "name": "dataset",
                    "flag": "--dataset",
                    "type": "str",
                    "choices": None,
                    "default": None,
                    "help": "dataset name",
                    "required": True,
                    "multiple": False,
                },
                {
                    "name": "out",
                    "flag": "--out",
                    "type": "path",
                    "choices": None,
                    "default": "models/m1",
                    "help": "output dir",
                    "required": False,
                    "multiple": False,
                },
            ],
        },
    ]
}


def worker(db: str, job_id: str, argv: list[str]) -> None:
    from store import Store
    from store.ingest import add_trajectories

    n = int(argv[argv.index("--max-rollouts") + 1]) if "--max-rollouts" in argv else 3
    store = Store(db)
    with store.write() as conn:
        conn.execute("UPDATE run SET state = 'running', pid = ? WHERE id = ?", [os.getpid(), job_id])
        problem = conn.execute("SELECT id FROM problem ORDER BY id LIMIT 1").fetchone()[0]
    for i in range(n):
        time.sleep(0.2)
        with store.write() as conn:
            add_trajectories(
                conn,
                [
                    {
                        "problem_id": problem,
                        "text": f"<|begin_of_thought|>\n\nfake {job_id} {i}\n\n"
                        "<|end_of_thought|>\n\n<|begin_of_solution|>\n\n\\boxed{0}\n\n"
                        "<|end_of_solution|>",
                        "origin": "explore",
                        "model": "fake",
                        "run_id": job_id,
                        "verdict": "incorrect",
                    }
                ],
            )
            conn.execute(
                "UPDATE run SET progress = ? WHERE id = ?",
                [json.dumps({"done": i + 1, "total": n, "desc": "rollouts"}), job_id],
            )
        print(f"rollout {i + 1}/{n}", flush=True)
    with store.write() as conn:
        conn.execute("UPDATE run SET state = 'done', ended = current_timestamp WHERE id = ?", [job_id])
    store.close()


def main(args: list[str]) -> int:
    if args[:2] == ["jobs", "schema"]:
        print(json.dumps(SCHEMA))
        return 0
    if args[:2] == ["jobs", "start"]:
        db = args[args.index("--db") + 1]
        argv = args[args.index("--") + 1 :]
        from store import Store

        store = Store(db)
        with store.write() as conn:
            job_id = f"job-{conn.execute('SELECT count(*) FROM run').fetchone()[0] + 1}"
            log = str(Path(db).parent / f"{job_id}.log")
            conn.execute(
                "INSERT INTO run (id, kind, args, state, log_path, progress, started) VALUES "
                "(?, ?, ?, 'queued', ?, ?, current_timestamp)",
                [job_id, argv[0], json.dumps(argv), log, json.dumps({"done": 0, "total": None})],
            )
        store.close()
        with open(log, "w") as fh:
            proc = subprocess.Popen(
                [sys.executable, __file__, "_worker", db, job_id, *argv],
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        print(json.dumps({"id": job_id, "pid": proc.pid, "log_path": log}))
        return 0
    if args[:1] == ["_worker"]:
        worker(args[1], args[2], args[3:])
        return 0
    if args[:2] == ["jobs", "cancel"]:
        print(f"cancelled {args[2]}")
        return 0
    print(f"Usage: pipeline [OPTIONS] COMMAND [ARGS]...\nError: No such command '{args[0]}'.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
