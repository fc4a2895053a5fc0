"""The local sandbox against hostile programs: each must fail with the right kind, within its limits, and
leave nothing running. Limits are tight here so that a broken limit shows up as a failure, not a crash."""

from __future__ import annotations

import os
import time

import pytest

from pipeline.sandbox import Limits, Run
from pipeline.sandbox.isolation import UID_SLOTS, probe
from pipeline.sandbox.local import LocalSandbox

TIGHT = Limits(test_seconds=2.0, total_seconds=20.0, memory_mb=512, processes=4, output_mb=1)
ISO = probe()


def io(program: str, expected: str = "", limits: Limits = TIGHT, stdin: str = "") -> Run:
    return Run(program, {"style": "io", "cases": [{"input": stdin, "output": expected}]}, limits)


@pytest.fixture(scope="module")
def sandbox():
    sb = LocalSandbox(workers=2)
    yield sb
    sb.close()


def run(sandbox, r: Run):
    return sandbox.run_many([r])[0]


def sandbox_processes() -> list[int]:
    """Pids of processes running under one of this test process's sandbox uids (none may outlive its run;
    other processes' sandboxes, e.g. a parallel test run, have other uids)."""
    ours = {ISO.uid_for(slot) for slot in range(UID_SLOTS)}
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid in ours:
                    found.append(int(pid))
            except FileNotFoundError:
                pass
    return found


def test_passing_and_wrong_output(sandbox):
    ok, wrong = sandbox.run_many(
        [io("print(int(input()) * 2)", "6\n", stdin="3\n"), io("print(int(input()) * 3)", "6\n", stdin="3\n")]
    )
    assert ok.ok and ok.passed == 1
    assert not wrong.ok and wrong.failure["kind"] == "wrong"
    assert wrong.failure["actual"].strip() == "9" and wrong.failure["expected"].strip() == "6"


def test_infinite_loop_is_killed_at_the_test_deadline(sandbox):
    t0 = time.monotonic()
    r = run(sandbox, io("while True:\n    pass"))
    assert r.failure["kind"] == "timeout"
    assert time.monotonic() - t0 < 60  # does not hang


def test_loop_that_catches_everything_is_still_killed(sandbox):
    prog = "import time\nwhile True:\n    try:\n        time.sleep(10)\n    except BaseException:\n        pass"
    assert run(sandbox, io(prog)).failure["kind"] == "timeout"


def test_memory_bomb(sandbox):
    slow_pages = Limits(test_seconds=15.0, total_seconds=20.0, memory_mb=512, processes=4, output_mb=1)
    r = run(sandbox, io("x = []\nwhile True:\n    x.append(bytearray(50 << 20))", limits=slow_pages))
    assert r.failure["kind"] in ("memory", "crash")
    assert "512" in r.failure["detail"]


def test_fork_bomb_hits_the_process_limit_and_leaves_nothing(sandbox):
    prog = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        raise"
    r = run(sandbox, io(prog))
    assert not r.ok
    assert r.failure["kind"] in ("processes", "timeout")
    if ISO.drop_uid:
        assert sandbox_processes() == []


def test_daemonized_grandchild_does_not_survive(sandbox):
    prog = (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(300)\n"
        "    os._exit(0)\nprint('parent done')"
    )
    r = run(sandbox, io(prog, "parent done\n"))
    assert r.ok
    if ISO.drop_uid:
        assert sandbox_processes() == []


def test_huge_output(sandbox):
    r = run(sandbox, io("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)"))
    assert r.failure["kind"] == "output"


def test_environment_has_no_secrets_of_the_caller(sandbox, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value")
    r = run(sandbox, io("import os\nprint(sorted(k for k in os.environ if 'TOKEN' in k or 'KEY' in k))", "[]\n"))
    assert r.ok, r.failure


@pytest.mark.skipif(not (ISO.landlock_abi or ISO.drop_uid), reason="no Landlock and no uid drop here")
def test_files_outside_the_work_directory_cannot_be_read(sandbox, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    secret.chmod(0o600)
    prog = f"print(open({str(secret)!r}).read())"
    r = run(sandbox, io(prog, "s3cret\n"))
    assert not r.ok and "PermissionError" in r.failure["detail"]


@pytest.mark.skipif(not ISO.landlock_abi, reason="no Landlock here")
def test_writes_only_in_the_work_directory(sandbox):
    prog = (
        "import os\nopen('mine.txt', 'w').write('ok')\ntry:\n    open('/tmp/still2-sandbox-escape', 'w')\n"
        "    print('escaped')\nexcept PermissionError:\n    print('blocked')"
    )
    r = run(sandbox, io(prog, "blocked\n"))
    assert r.ok, r.failure
    assert not os.path.exists("/tmp/still2-sandbox-escape")


@pytest.mark.skipif("net" not in ISO.namespaces and ISO.landlock_abi < 4, reason="no network isolation here")
def test_sockets_cannot_reach_the_network(sandbox):
    prog = (
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 80), timeout=1)\n    print('connected')\n"
        "except OSError as e:\n    print('blocked')"
    )
    r = run(sandbox, io(prog, "blocked\n"))
    assert r.ok, r.failure


def test_signalling_everyone_hurts_nobody_outside(sandbox):
    prog = "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\nprint('still here')"
    r = run(sandbox, io(prog, "still here\n"))
    assert r.error is None
    assert os.getpid() > 0  # this test process is alive to see it
    assert run(sandbox, io("print(1)", "1\n")).ok


def test_killing_the_runner_is_refused_or_reported(sandbox):
    prog = "import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\nexcept OSError:\n    pass\nprint('x')"
    r = run(sandbox, io(prog, "x\n"))
    assert not (r.ok and r.error)  # never a pass from a sandbox failure
    if "pid" in ISO.namespaces or ISO.landlock_abi >= 6:  # init ignores it / Landlock scopes signals
        assert r.ok, r


def test_host_deadline_kills_a_runner_that_overruns():
    sb = LocalSandbox(workers=1)
    sb.startup_seconds = 0.5
    try:
        t0 = time.monotonic()
        r = sb.run_many([io("while True:\n    pass", limits=Limits(test_seconds=30, total_seconds=1.0))])[0]
        assert r.failure["kind"] == "timeout" and "hard deadline" in r.failure["detail"]
        assert time.monotonic() - t0 < 120  # does not hang
        assert sb.killed == 1
    finally:
        sb.close()
    if ISO.drop_uid:
        time.sleep(0.2)
        assert sandbox_processes() == []


def test_describe_says_what_protects_and_what_does_not(sandbox):
    d = sandbox.describe()
    assert {"network", "processes", "process_count", "files", "disk", "uid"} <= set(d)
    if "net" not in ISO.namespaces and ISO.landlock_abi < 4:
        assert "NOT isolated" in d["network"]


def test_parallel_runs_keep_order(sandbox):
    runs = [io(f"print({i})", f"{i}\n") for i in range(6)]
    seen = []
    reports = sandbox.run_many(runs, on_done=lambda i, r: seen.append(i))
    assert all(r.ok for r in reports)
    assert sorted(seen) == list(range(6))


def test_nothing_of_one_program_reaches_the_next_on_the_same_runner():
    sb = LocalSandbox(workers=1)
    try:
        first, second = sb.run_many(
            [
                io(
                    "import os\nopen('leak.txt', 'w').write('x')\nos.makedirs('d', exist_ok=True)\nprint(sorted(os.listdir()))",
                    "['d', 'leak.txt']\n",
                ),
                io("import os\nprint(sorted(os.listdir()))", "[]\n"),
            ]
        )
        assert first.ok, first.failure
        assert second.ok, second.failure
    finally:
        sb.close()


def test_a_runner_killed_from_outside_gives_an_error_then_is_replaced():
    import threading

    sb = LocalSandbox(workers=1)
    try:
        assert sb.run_many([io("print(1)", "1\n")])[0].ok  # runner started
        pid = sb._runners[0].proc.pid
        threading.Timer(1.0, lambda: os.killpg(pid, 9)).start()
        r = sb.run_many([io("import time\ntime.sleep(1.9)\nprint(1)", "1\n")])[0]
        assert not r.ok and r.error and "died" in r.error
        assert sb.respawns == 1
        assert sb.run_many([io("print(2)", "2\n")])[0].ok
    finally:
        sb.close()


def test_still2_sandbox_check_reports_every_probe_contained_here():
    import json

    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["sandbox", "--check", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert len(report["probes"]) == 8 and report["network"]
    escaped = [p for p in report["probes"] if not p["contained"]]
    if ISO.landlock_abi >= 4 and ISO.drop_uid:  # what this machine (and CI) has: nothing may escape
        assert escaped == []
    else:
        assert report["notes"] != "-" or "NOT" in json.dumps(report)


NONROOT_SCRIPT = """
import json, sys
sys.path.insert(0, {repo!r})
from pipeline.sandbox.local import LocalSandbox
from pipeline.sandbox.selfcheck import run_probes
sb = LocalSandbox(workers=1)
print(json.dumps({{"describe": sb.describe(), "probes": run_probes(sb)}}))
sb.close()
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists("/usr/bin/setpriv") or not os.path.exists("/usr/bin/python3"),
    reason="needs root (to become another user), setpriv and a system Python",
)
def test_unprivileged_user_path_contains_the_probes_too():
    """The path a researcher without root takes: a user namespace instead of the uid drop. Run as
    nobody with the system Python (ours may live where nobody cannot read), under an outer process cap."""
    import json
    import stat
    import subprocess
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    p = repo
    while p != p.parent:  # nobody must be able to reach the repo
        if not p.stat().st_mode & stat.S_IXOTH:
            pytest.skip(f"{p} is not reachable by other users")
        p = p.parent
    out = subprocess.run(
        [
            "prlimit",
            "--nproc=300",
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "env",
            "-i",
            "PATH=/usr/bin:/bin",
            "HOME=/tmp",
            "/usr/bin/python3",
            "-c",
            NONROOT_SCRIPT.format(repo=str(repo)),
        ],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["describe"]["uid"] == "your uid (65534)"
    if "user" in report["describe"]["process_count"] and "Landlock" in report["describe"]["files"]:
        assert [p for p in report["probes"] if not p[1]] == []
