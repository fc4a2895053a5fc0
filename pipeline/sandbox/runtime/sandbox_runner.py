"""The trusted runner inside the sandbox (stdlib only).

`python -I sandbox_runner.py JOBDIR` runs the job in JOBDIR/job.json (program, tests, limits, confinement)
and prints one JSON report line: `{"n": tests, "passed": k, "ok": bool, "failure": {...} | null, ...}`.
`python -I sandbox_runner.py --serve BASEDIR` is a long-lived worker of the local sandbox: one job per
stdin line, one report per stdout line, each job in a fresh directory (and tmpfs) under BASEDIR. Either
way every test runs in a forked child that confines itself (sandbox_confine) before the program runs; the
runner itself never executes the program, so nothing of one job survives into the next.

The runner enforces each child's wall-clock deadline (SIGKILL), then kills every process the child left
behind: as init of a fresh PID namespace it kills the whole namespace but itself; otherwise the child's
process group, and every process of the sandbox uid when it ran under one. The runner is not dumpable, so
the program cannot read its memory or file descriptors through /proc.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sandbox_checks as checks  # noqa: E402
import sandbox_confine as confine  # noqa: E402

sys.path.remove(HERE)

# Imported once here so that forked children start with them (no file access, no import time per test).
PRELOAD = (
    "array",
    "bisect",
    "collections",
    "copy",
    "decimal",
    "fractions",
    "functools",
    "hashlib",
    "heapq",
    "itertools",
    "math",
    "operator",
    "random",
    "re",
    "statistics",
    "string",
    "typing",
    "dataclasses",
    "datetime",
    "io",
    "cmath",
    "enum",
    "numbers",
    "queue",
    "textwrap",
    "unicodedata",
    "struct",
)
MESSAGE_BYTES = 1 << 20  # what the runner reads from one child at most
REPORT_CHARS = 200


def _preload() -> None:
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass


def _open_for(path: str | None, write: bool) -> int:
    if path is None:
        return os.open(os.devnull, os.O_RDWR)
    if write:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.open(path, os.O_RDONLY)


def _child(job: dict, target, stdin_path, stdout_path, stderr_path, cpu_seconds: float, wfd: int) -> None:
    """In the forked child: wire stdio, drop every other descriptor, confine, run `target`, exit."""
    code = 0
    try:
        fds = [_open_for(stdin_path, False), _open_for(stdout_path, True), _open_for(stderr_path, True)]
        for target_fd, fd in enumerate(fds):
            os.dup2(fd, target_fd)
        keep = os.dup2(wfd, 3) if wfd != 3 else 3
        os.set_inheritable(keep, False)
        os.closerange(4, 1 << 16)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        confine.apply(job["limits"], cpu_seconds, job.get("confine") or {})
        os.chdir(job.get("workdir") or ".")
        os.environ["HOME"] = os.environ["TMPDIR"] = os.getcwd()

        def send(msg: dict) -> None:
            os.write(keep, (json.dumps(msg) + "\n").encode())

        target(send)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:
            pass
        send({"done": True})
    except BaseException as e:  # the confinement itself failed: nothing untrusted ran
        try:
            os.write(3, (json.dumps({"setup_error": f"{type(e).__name__}: {e}"}) + "\n").encode())
        except OSError:
            pass
        code = 70
    finally:
        os._exit(code)


def _kill_leftovers(pid: int, confinement: dict) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    uid = confinement.get("uid")
    if os.getpid() == 1 or uid:
        killer = os.fork()
        if killer == 0:
            try:
                if os.getpid() != 1 and uid:  # not in a namespace: become the sandbox uid, kill only its own
                    os.setgroups([])
                    os.setgid(confinement.get("gid") or uid)
                    os.setuid(uid)
                    if os.getuid() != uid or uid == 0:
                        os._exit(1)
                os.kill(-1, signal.SIGKILL)  # never the caller nor pid 1 (this runner, in a namespace)
            except BaseException:
                pass
            os._exit(0)
        os.waitpid(killer, 0)
    try:
        if os.getpid() == 1:  # init of the namespace: every leftover is our child by now, killed: reap all
            while True:
                os.waitpid(-1, 0)
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def run_child(job: dict, target, *, wall: float, stdin_path=None, stdout_path=None, stderr_path=None):
    """Fork a confined child for `target(send)`; its messages, its wait status and whether it was killed."""
    r, w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _child(job, target, stdin_path, stdout_path, stderr_path, wall, w)
    os.close(w)
    deadline = time.monotonic() + wall
    data = bytearray()
    killed = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            killed = True
            break
        ready, _, _ = select.select([r], [], [], left)
        if not ready:
            continue
        chunk = os.read(r, 65536)
        if not chunk:
            break
        if len(data) < MESSAGE_BYTES:
            data += chunk[: MESSAGE_BYTES - len(data)]
    if killed:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    os.close(r)
    _kill_leftovers(pid, job.get("confine") or {})
    messages = []
    for line in bytes(data).decode("utf-8", "replace").splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue  # the program wrote garbage into our pipe: ignore it
        if isinstance(msg, dict):
            messages.append(msg)
    return messages, status, killed


def _death(status: int, killed: bool, wall: float, limits: dict) -> dict:
    """A failure for a child that ended without reporting its test."""
    if killed:
        return {"kind": "timeout", "detail": f"took longer than {wall:g} s (killed)"}
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return {"kind": "timeout", "detail": f"CPU time limit ({wall:g} s) exceeded"}
        if sig == signal.SIGXFSZ:
            return {"kind": "output", "detail": f"output limit ({limits['output_mb']} MiB) exceeded"}
        if sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS):
            return {
                "kind": "crash",
                "detail": f"crashed with {signal.Signals(sig).name} (memory limit {limits['memory_mb']} MiB?)",
            }
        return {"kind": "crash", "detail": f"killed by {signal.Signals(sig).name}"}
    code = os.WEXITSTATUS(status)
    if code == 70:
        return {"kind": "sandbox", "detail": "the sandbox could not confine the program"}
    return {"kind": "exit", "detail": f"the program exited (status {code}) before its tests finished"}


def _read_head(path: str, limit: int) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(limit)
    except OSError:
        return b""


def _normalize(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _number(token: str):
    try:
        return float(token)
    except ValueError:
        return None


def outputs_match(actual: str, expected: str) -> bool:
    """Line by line with trailing spaces ignored; else token by token, numbers within 1e-6 (as APPS/LCB)."""
    if _normalize(actual) == _normalize(expected):
        return True
    a, e = actual.split(), expected.split()
    if len(a) != len(e):
        return False
    for x, y in zip(a, e):
        if x == y:
            continue
        fx, fy = _number(x), _number(y)
        if fx is None or fy is None or abs(fx - fy) > 1e-6 * max(1.0, abs(fy)):
            return False
    return True


def _run_io(job: dict, jobdir: str, started: float) -> dict:
    limits = job["limits"]
    cases = job["tests"].get("cases") or []
    wall = float(limits["test_seconds"])
    total = float(limits["total_seconds"])
    out_limit = int(limits["output_mb"]) * 1024 * 1024
    io_dir = os.path.join(jobdir, "io")
    os.makedirs(io_dir, exist_ok=True)
    for i, case in enumerate(cases, start=1):
        if time.monotonic() - started > total:  # the budget is spent before this test starts
            return _report(
                len(cases),
                i - 1,
                {"test": i, "kind": "timeout", "detail": f"total time limit ({total:g} s) reached"},
                started,
            )
        stdin_path = os.path.join(io_dir, "stdin")
        stdout_path = os.path.join(io_dir, "stdout")
        with open(stdin_path, "w", encoding="utf-8") as fh:
            fh.write(case.get("input") or "")
        messages, status, killed = run_child(
            job,
            lambda send, i=i: checks.run_io_case(job, i, send),
            wall=wall,
            stdin_path=stdin_path,
            stdout_path=stdout_path,
            stderr_path=os.path.join(io_dir, "stderr"),
        )
        setup = next((m for m in messages if "setup_error" in m), None)
        if setup:
            return _report(len(cases), i - 1, {"test": i, "kind": "sandbox", "detail": setup["setup_error"]}, started)
        failed = next((m for m in messages if m.get("ok") is False), None)
        ran = any(m.get("ran") for m in messages) and any(m.get("done") for m in messages)
        if failed is None and not ran:
            failed = _death(status, killed, wall, limits)
        actual = _read_head(stdout_path, out_limit).decode("utf-8", "replace")
        expected = case.get("output") or ""
        if failed is None and not outputs_match(actual, expected):
            failed = {"kind": "wrong"}
        if failed is not None:
            failed = {k: v for k, v in failed.items() if k not in ("i", "ok")}
            failed.update(
                {
                    "test": i,
                    "input": checks.cut(case.get("input") or "", REPORT_CHARS),
                    "expected": checks.cut(expected, REPORT_CHARS),
                }
            )
            if failed["kind"] == "wrong" or actual:
                failed["actual"] = checks.cut(actual, REPORT_CHARS)
            return _report(len(cases), i - 1, failed, started)
    return _report(len(cases), len(cases), None, started)


def _run_streamed(job: dict, harness, n: int, started: float) -> dict:
    limits = job["limits"]
    wall = min(float(limits["total_seconds"]), float(limits["test_seconds"]) * max(1, n) + 1.0)
    messages, status, killed = run_child(
        job,
        lambda send: harness(job, send),
        wall=wall,
        stdout_path=os.path.join(job["jobdir"], "stdout"),
        stderr_path=os.path.join(job["jobdir"], "stderr"),
    )
    setup = next((m for m in messages if "setup_error" in m), None)
    if setup:
        return _report(n, 0, {"test": 1, "kind": "sandbox", "detail": setup["setup_error"]}, started)
    passed = sum(1 for m in messages if m.get("ok") is True)
    failed = next((m for m in messages if m.get("ok") is False), None)
    if failed is not None:
        failed = {"test": failed.get("i", passed + 1), **{k: v for k, v in failed.items() if k not in ("i", "ok")}}
        return _report(n, passed, failed, started)
    if not any(m.get("done") for m in messages) or passed < n:
        return _report(n, passed, {"test": passed + 1, **_death(status, killed, wall, limits)}, started)
    return _report(n, passed, None, started)


def _report(n: int, passed: int, failure: dict | None, started: float) -> dict:
    return {
        "n": n,
        "passed": passed,
        "ok": failure is None and passed == n,
        "failure": failure,
        "seconds": round(time.monotonic() - started, 4),
    }


def _prepare_workdir(job: dict) -> None:
    """work/ for the program: owned by the sandbox uid, a size-capped tmpfs when the job asks for one."""
    confinement = job.get("confine") or {}
    workdir = job["workdir"]
    os.makedirs(workdir, mode=0o700, exist_ok=True)
    os.chmod(job["jobdir"], 0o711)  # the sandbox uid may pass through to work/, not list the rest
    if confinement.get("tmpfs_mb"):
        try:
            confine.mount_tmpfs(workdir, confinement["tmpfs_mb"], confinement.get("uid"))
            return
        except OSError:  # no mount rights after all: a plain directory (files still capped one by one)
            pass
    if confinement.get("uid"):
        os.chown(workdir, confinement["uid"], confinement.get("gid") or confinement["uid"])


def run_job(job: dict, jobdir: str) -> dict:
    """Run one program against its tests; the report."""
    started = time.monotonic()
    job["jobdir"] = jobdir
    job["workdir"] = os.path.join(jobdir, "work")
    confinement = job.setdefault("confine", {})
    if not confinement.get("write_paths"):
        confinement["write_paths"] = [job["workdir"]]
    _prepare_workdir(job)
    style = job["tests"]["style"]
    if style == "io":
        report = _run_io(job, jobdir, started)
    elif style == "call":
        report = _run_streamed(job, checks.run_call, len(job["tests"].get("cases") or []), started)
    elif style == "assert":
        spec = job["tests"]
        n = 1 if spec.get("test") else len(spec.get("asserts") or [])
        report = _run_streamed(job, checks.run_assert, n, started)
    else:
        report = _report(0, 0, {"test": 0, "kind": "sandbox", "detail": f"unknown test style {style!r}"}, started)
    report["pid1"] = os.getpid() == 1
    return report


def _cleanup(jobdir: str) -> None:
    workdir = os.path.join(jobdir, "work")
    if os.path.ismount(workdir):
        confine.unmount(workdir)
    shutil.rmtree(jobdir, ignore_errors=True)


def serve(basedir: str) -> int:
    """Worker mode: one job per stdin line, one report per stdout line, a fresh job directory each time."""
    print(json.dumps({"ready": True, "pid1": os.getpid() == 1}), flush=True)
    for n, line in enumerate(sys.stdin):
        if not line.strip():
            continue
        jobdir = os.path.join(basedir, f"job{n}")
        os.mkdir(jobdir, 0o700)
        try:
            report = run_job(json.loads(line), jobdir)
        except Exception as e:  # noqa: BLE001 - a job the runner cannot set up is reported, not fatal
            report = _report(
                0, 0, {"test": 0, "kind": "sandbox", "detail": f"{type(e).__name__}: {e}"}, time.monotonic()
            )
        finally:
            _cleanup(jobdir)
        sys.stdout.write(json.dumps(report) + "\n")
        sys.stdout.flush()
    return 0


def main(argv: list[str]) -> int:
    """`--serve BASEDIR` (the local sandbox's workers) or `JOBDIR` holding job.json (one job, e.g. remote)."""
    confine.not_dumpable()
    _preload()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if argv[0] == "--serve":
        return serve(os.path.abspath(argv[1]))
    jobdir = os.path.abspath(argv[0])
    with open(os.path.join(jobdir, "job.json"), encoding="utf-8") as fh:
        job = json.load(fh)
    sys.stdout.write(json.dumps(run_job(job, jobdir)) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
