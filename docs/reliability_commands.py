"""Runs every command of docs/reliability.md's table (issue 19) against the files it names and prints what
each one answers: exit code, seconds and the lines that matter. The table is written from this output.

    PYTHONPATH=$PWD .venv/bin/python docs/reliability_commands.py [--keep DIR] [--only 1,7,9]

Needs ../shared/data (AMC 2023 problems, Sky-T1 trajectories). Items that mount a tmpfs (a read-only
directory; a full disk) need root and are skipped with a note when it cannot be mounted.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
AMC = DATA / "benchmarks" / "amc23.jsonl"
SKYT1 = DATA / "trajectories" / "trajectories_skyt1_14b_amc23.jsonl"
STILL = (
    "<|begin_of_thought|>\n\nstep one\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n{body}\n\n<|end_of_solution|>"
)


def problem_line(i: int) -> str:
    return json.dumps({"problem": f"What is {i} + {i}?", "answer": str(2 * i)}) + "\n"


def skyt1(question: str, codes: list, gt="1", score=None) -> str:
    return (
        json.dumps(
            {
                "idx": 0,
                "question": question,
                "gt": gt,
                "code": codes,
                "pred": ["1"] * len(codes),
                "score": score if score is not None else [True] * len(codes),
            }
        )
        + "\n"
    )


def make_files(w: Path) -> None:
    """The placeholder files of the table, in the work directory."""

    def s(*a):
        return subprocess.run([sys.executable, "-m", "pipeline", *a], cwd=w, check=True, capture_output=True)

    s("import", str(AMC), "--db", "base.duckdb")
    s("import", str(SKYT1), "--db", "base.duckdb")
    shutil.copy(w / "base.duckdb", w / "other.duckdb")
    # 1: nothing needed. 2, 3, 5: grade inputs
    (w / "huge.jsonl").write_text(
        "".join(
            json.dumps(r) + "\n"
            for r in [
                {"gold": "7", "pred": "\\boxed{10^{4301}}"},
                {"gold": "7", "pred": "\\boxed{1e4400}"},
                {"gold": "1", "pred": "\\boxed{0.3\\times10^{-8574}}"},
                {"gold": "1e9999", "pred": "\\boxed{10^{9999}}"},
            ]
        )
    )
    (w / "boxes.jsonl").write_text(
        "".join(
            json.dumps(r) + "\n"
            for r in [
                {"gold": "1", "pred": "\\boxed{" * 326_000},  # 2.28 MB of open boxes (173 s before)
                {"gold": "1", "pred": "\\boxed{1}" * 200_000},  # 200k closed boxes (9 s before)
                {"gold": "1", "pred": "<|begin_of_solution|>" + "\\boxed{" * 80_000},
            ]
        )
    )
    (w / "t_huge.jsonl").write_text(
        skyt1("What is the largest power of ten below 10^{4302}?", [STILL.format(body="\\boxed{10^{4301}}")], gt="7")
        + skyt1("Box spam", [STILL.format(body="\\boxed{" * 326_000)], gt="1")
    )
    (w / "g_latin1_first.jsonl").write_bytes(b'{"gold":"caf\xe9","pred":"1"}\n')
    (w / "g_bigint.jsonl").write_text('{"gold": 1, "pred": ' + "7" * 5000 + "}\n")
    (w / "g_deep.jsonl").write_text('{"gold":"1","pred":' + "[" * 100_000 + "]" * 100_000 + "}\n")
    (w / "g_line2001.jsonl").write_bytes(
        (json.dumps({"gold": "1", "pred": "1"}) + "\n").encode() * 2000 + b'{"gold":"\xff"}\n'
    )
    # 4, 6, 10, 11, 12: import inputs
    (w / "p_latin1_line250.jsonl").write_bytes(
        b"".join(
            ('{"problem": "caf\xe9 249", "answer": "1"}\n'.encode("latin-1") if i == 249 else problem_line(i).encode())
            for i in range(300)
        )
    )
    with open(w / "csv_bigfield.csv", "w", encoding="utf-8", newline="") as f:
        f.write('problem,answer\n"' + "x" * 200_000 + '",1\n"What is 2 + 2?",4\n')
    (w / "p_deep.jsonl").write_text(problem_line(1) + '{"problem": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    (w / "p_badgz.jsonl.gz").write_bytes(b"this is not gzip\n")
    with open(w / "csv_latin1.csv", "wb") as f:
        f.write(b"problem,answer\nWhat is 1 + 1?,2\nCaf\xe9 au lait?,3\n")
    (w / "p_surrogate.jsonl").write_text(problem_line(1) + '{"problem": "bad \\ud800", "answer": "1"}\n')
    (w / "p_bigint.jsonl").write_text('{"problem": "Big", "answer": ' + "7" * 5000 + "}\n")
    (w / "in").mkdir()
    (w / "p_answer_types.jsonl").write_text(
        problem_line(1) + '{"problem": "obj", "answer": {"a": 1}}\n{"problem": "bool", "answer": true}\n'
        '{"problem": "nan", "answer": NaN}\n{"problem": "", "answer": "1"}\n'
    )
    (w / "t_types.jsonl").write_text(
        skyt1("Q1", [STILL.format(body="\\boxed{1}")], score=["no"])
        + skyt1("Q2", [""])
        + skyt1("", ["x"])
        + json.dumps({"idx": 0, "question": "Q3", "gt": "1", "code": [], "pred": [], "score": []})
        + "\n"
    )
    (w / "excel.csv").write_bytes("\ufeffproblem,answer\nWhat is 1 + 1?,2\n".encode("utf-8"))
    # 7: special files
    os.mkfifo(w / "fifo")
    (w / "target.jsonl").write_text("old\n")
    os.symlink("target.jsonl", w / "link.jsonl")
    (w / "somedir").mkdir()
    (w / "rows.jsonl").write_text(json.dumps({"gold": "1", "pred": "\\boxed{1}"}) + "\n")
    # 8: a store in a read-only directory (a read-only tmpfs, set up in main: root writes anywhere else)
    (w / "ro").mkdir()
    # 9: damaged stores
    data = (w / "base.duckdb").read_bytes()
    (w / "half.duckdb").write_bytes(data[: len(data) // 2])
    (w / "zero.duckdb").touch()
    (w / "z.duckdb").touch()
    (w / "junk.duckdb").write_bytes(b"\x00junk" * 100)
    (w / "jsonl.duckdb").write_text(problem_line(1))
    sqlite3.connect(w / "lite.duckdb").execute("create table t(x)").connection.commit()
    for name, sql in (
        ("future", "UPDATE meta SET value = '99' WHERE key = 'schema_version'"),
        ("badmeta", "UPDATE meta SET value = 'abc' WHERE key = 'schema_version'"),
        ("nometa", "DROP TABLE meta"),
    ):
        shutil.copy(w / "base.duckdb", w / f"{name}.duckdb")
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import duckdb, sys; duckdb.connect(sys.argv[1]).execute(sys.argv[2])",
                str(w / f"{name}.duckdb"),
                sql,
            ],
            check=True,
        )


# (item, command as typed; `S` is still2) - the cases of the table, in its order
CASES: list[tuple[str, str]] = [
    (
        "1",
        "S sql \"copy (select 'x' as x) to 'base.duckdb' (format csv)\" --db base.duckdb; ls -l base.duckdb | cut -d' ' -f5; S stats --db base.duckdb --json | head -c 60",
    ),
    (
        "1",
        "S sql \"attach 'other.duckdb' as o (READ_WRITE); delete from o.trajectory\" --db base.duckdb; S sql 'select count(*) from trajectory' --db other.duckdb",
    ),
    (
        "1",
        "S sql \"export database 'dump'\" --db base.duckdb; S sql \"copy problem to 'x.parquet'\" --db base.duckdb; ls dump x.parquet",
    ),
    ("1", "S sql \"select * from read_csv('/etc/passwd')\" --db base.duckdb"),
    ("1", "S sql \"select * from read_text('/etc/passwd')\" --db base.duckdb"),
    (
        "1",
        "S sql 'set enable_external_access = true' --db base.duckdb; S sql 'install sqlite' --db base.duckdb; S sql 'pragma threads=1' --db base.duckdb",
    ),
    ("2", "S grade huge.jsonl --timeout 1 --json | cut -c1-150"),
    (
        "2",
        "S init --db v.duckdb >/dev/null; S import t_huge.jsonl --db v.duckdb | tail -1; S verify --db v.duckdb --timeout 1 2>&1 | tail -2; S verify --db v.duckdb --timeout 1 2>&1 | tail -1",
    ),
    ("3", "time S grade boxes.jsonl --timeout 1 --json | cut -c1-120"),
    ("4", "S import p_latin1_line250.jsonl --db i4.duckdb; S import p_latin1_line250.jsonl --skip-bad --db i4.duckdb"),
    ("4", "S import csv_bigfield.csv --db i4c.duckdb"),
    ("4", "S grade g_line2001.jsonl"),
    ("5", "S grade g_latin1_first.jsonl; S grade g_bigint.jsonl; S grade g_deep.jsonl"),
    (
        "6",
        "for f in p_deep.jsonl p_badgz.jsonl.gz csv_latin1.csv p_surrogate.jsonl; do S import $f --db i6.duckdb; done",
    ),
    ("6", "S import p_deep.jsonl --skip-bad --db i6.duckdb"),
    ("6", "S import p_bigint.jsonl --db i6b.duckdb; S sql 'select length(answer) from problem' --db i6b.duckdb"),
    (
        "7",
        "(cat fifo | wc -l > fifo.count &) ; S export fifo --format jsonl --allow eval,test --db base.duckdb; sleep 1; cat fifo.count; ls -l fifo | cut -c1",
    ),
    ("7", "S export link.jsonl --allow eval,test --db base.duckdb; ls -l link.jsonl | cut -c1,50-; wc -l target.jsonl"),
    (
        "7",
        "S export /dev/full --allow eval,test --db base.duckdb; ls -l /dev/full | cut -c1; S export /dev/null --allow eval,test --db base.duckdb; S export somedir --format jsonl --db base.duckdb",
    ),
    (
        "7",
        "umask 022; S export new.jsonl --db base.duckdb; S grade rows.jsonl --out graded.jsonl; stat -c '%a %n' new.jsonl graded.jsonl",
    ),
    (
        "7",
        "@DISKFULL echo old > $MNT/out.jsonl; dd if=/dev/zero of=$MNT/fill bs=64K 2>/dev/null; truncate -s -64K $MNT/fill; S export $MNT/out.jsonl --allow eval,test --db base.duckdb; cat $MNT/out.jsonl; ls -A $MNT",
    ),
    (
        "8",
        "@READONLY S sql 'select count(*) from trajectory' --db ro/store.duckdb; S stats --db ro/store.duckdb | head -1; S import rows.jsonl --db ro/store.duckdb",
    ),
    ("9", "for s in half zero junk jsonl lite future badmeta nometa; do S stats --db $s.duckdb; done"),
    (
        "9",
        "S init --db future.duckdb; S verify --db half.duckdb; S sql 'select 1' --db lite.duckdb; S export x.jsonl --db junk.duckdb",
    ),
    ("9", "S init --db z.duckdb"),
    (
        "9",
        "@DISKFULL cp base.duckdb $MNT/s.duckdb; dd if=/dev/zero of=$MNT/fill bs=64K 2>/dev/null; truncate -s -64K $MNT/fill; S import "
        + str(SKYT1)
        + " --db $MNT/s.duckdb --model other --origin explore; S sql 'select count(*) from trajectory' --db $MNT/s.duckdb",
    ),
    ("10", "time S import in/typo_no_ext --db i10.duckdb"),
    ("11", "S import p_answer_types.jsonl --db i11.duckdb; S import t_types.jsonl --db i11.duckdb"),
    ("12", "S import excel.csv --db i12.duckdb"),
    ("14", "@EXPLORE"),
]


def run(cmd: str, work: Path, env: dict) -> tuple[int, float, str]:
    prelude = f'S() {{ {shlex.quote(sys.executable)} -m pipeline "$@"; }}; cd {shlex.quote(str(work))}; '
    t0 = time.monotonic()
    done = subprocess.run(["bash", "-c", prelude + cmd], capture_output=True, text=True, env=env, timeout=900)
    return done.returncode, time.monotonic() - t0, (done.stdout + done.stderr).strip()


def explore_kill(work: Path, env: dict) -> str:
    """Item 14: kill -9 an explore (a tiny local model), then look with stats and jobs list."""
    sys.path.insert(0, str(ROOT))
    from pipeline.engines.tiny_model import make_tiny_model

    model = make_tiny_model(work / "tiny")
    db = str(work / "e.duckdb")
    base = [sys.executable, "-m", "pipeline"]
    subprocess.run(
        base + ["problems", "generate", "--kind", "arithmetic", "--difficulty", "1", "-n", "6", "--db", db],
        check=True,
        capture_output=True,
        env=env,
    )
    proc = subprocess.Popen(
        base
        + [
            "explore",
            "--db",
            db,
            "--model",
            str(model),
            "--max-rollouts",
            "40",
            "--per-round",
            "2",
            "--batch-problems",
            "1",
            "--max-new-tokens",
            "24",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    q = "select kind, state from run"
    for _ in range(600):
        out = subprocess.run(base + ["sql", q, "--db", db], capture_output=True, text=True, env=env).stdout
        if "running" in out:
            break
        time.sleep(0.5)
    os.killpg(proc.pid, 9)
    proc.wait()
    before = subprocess.run(base + ["sql", q, "--db", db], capture_output=True, text=True, env=env).stdout
    looked = subprocess.run(base + ["stats", "--db", db], capture_output=True, text=True, env=env).stdout
    after = subprocess.run(base + ["sql", q, "--db", db], capture_output=True, text=True, env=env).stdout
    return (
        f"$ kill -9 <explore pid>; S sql '{q}'\n{before}\n$ S stats (repairs)\n"
        + "\n".join(line for line in looked.splitlines() if "run" in line.lower())
        + f"\n$ S sql '{q}'\n{after}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", type=Path, help="work directory to keep (default: a temp dir, removed)")
    ap.add_argument("--only", help="comma-separated items, e.g. 1,7,9")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="still2-rel-"))
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "120", "TERM": "dumb"}
    env.pop("STILL2_DB", None)
    only = set(args.only.split(",")) if args.only else None
    mnt = work / "mnt"
    mounted = ro_mounted = False
    try:
        make_files(work)
        for item, cmd in CASES:
            if only and item not in only:
                continue
            if cmd == "@EXPLORE":
                print(f"### item {item}: kill -9 of an explore\n{explore_kill(work, env)}\n", flush=True)
                continue
            if cmd.startswith("@DISKFULL "):
                cmd = cmd.removeprefix("@DISKFULL ")
                if not mounted:
                    mnt.mkdir(exist_ok=True)
                    mounted = (
                        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)]).returncode == 0
                    )
                if not mounted:
                    print(f"### item {item}: skipped (no tmpfs can be mounted here): {cmd}\n")
                    continue
                for p in mnt.iterdir():
                    p.unlink()
                cmd = cmd.replace("$MNT", "mnt")
            shown = cmd
            if cmd.startswith("@READONLY "):
                cmd = shown = cmd.removeprefix("@READONLY ")
                ro = work / "ro"
                if not ro_mounted:
                    ro_mounted = (
                        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(ro)]).returncode == 0
                    )
                    if ro_mounted:
                        shutil.copy(work / "base.duckdb", ro / "store.duckdb")
                        (ro / "store.duckdb.lock").touch()
                        subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True)
                if not ro_mounted:
                    print(f"### item {item}: skipped (no tmpfs can be mounted here): {cmd}\n")
                    continue
                shown = f"(ro/ is a read-only file system) {cmd}"
            code, seconds, out = run(cmd, work, env)
            lines = out.splitlines()
            if len(lines) > 24:
                lines = lines[:12] + [f"... ({len(lines) - 24} lines)"] + lines[-12:]
            print(f"### item {item} (exit {code}, {seconds:.1f} s)\n$ {shown}\n" + "\n".join(lines) + "\n", flush=True)
    finally:
        if mounted:
            subprocess.run(["umount", str(mnt)])
        if ro_mounted:
            subprocess.run(["umount", str(work / "ro")])
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
