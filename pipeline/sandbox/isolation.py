"""What this machine lets the local sandbox do, found by trying it once per process.

- Namespaces through util-linux `unshare`: a network namespace (no interface but a down loopback: no
  network), a PID namespace (the runner is its init: when it ends, everything the program started
  dies) and a mount namespace (the work directory is a size-capped tmpfs: no disk filling). As root directly; otherwise inside a new user namespace when unprivileged ones are allowed.
- An unprivileged uid per sandbox slot when we are root, so that RLIMIT_NPROC binds (it never binds root)
  and the program holds no root capability (only CAP_DAC_READ_SEARCH when Landlock decides reads).
- Landlock (ABI version of the kernel): filesystem reads limited to Python and system libraries, writes to
  the work directory; TCP connect/bind refused from ABI 4; signals and abstract sockets scoped from ABI 6.
`describe()` says in words which of these hold and what protection remains where one is missing.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache

from pipeline.sandbox.runtime.sandbox_confine import landlock_abi

UID_BASE = 1_900_000_000  # far above any real account; one uid per (process, slot)
UID_SLOTS = 64


@dataclass(frozen=True)
class Isolation:
    prefix: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    drop_uid: bool = False
    landlock_abi: int = 0
    notes: tuple[str, ...] = field(default=())

    def uid_for(self, slot: int) -> int | None:
        if not self.drop_uid:
            return None
        return UID_BASE + (os.getpid() % 1_000_000) * UID_SLOTS + slot % UID_SLOTS

    def describe(self) -> dict[str, str]:
        net = (
            "none (new network namespace)"
            if "net" in self.namespaces
            else (
                "TCP refused by Landlock; UDP and unix sockets still open"
                if self.landlock_abi >= 4
                else "NOT isolated: the program can reach the network"
            )
        )
        procs = (
            "PID namespace: everything the program started is killed after each test"
            if "pid" in self.namespaces
            else "every process of the sandbox uid is killed after each test"
            if self.drop_uid
            else "process group killed after each test: a process that leaves its session may survive"
        )
        nproc = (
            "RLIMIT_NPROC under a per-slot unprivileged uid"
            if self.drop_uid
            else "RLIMIT_NPROC in a user namespace"
            if "user" in self.namespaces
            else "RLIMIT_NPROC counts all your processes: set --processes above their number"
        )
        files = (
            f"Landlock ABI {self.landlock_abi}: reads only Python and system libraries, writes only the work directory"
            if self.landlock_abi
            else "file permissions of the sandbox uid"
            if self.drop_uid
            else "NOT isolated: the program can read every file you can"
        )
        disk = (
            "a size-capped tmpfs as work directory (in a mount namespace)"
            if "mount" in self.namespaces
            else "files of at most the output limit each, in the work directory"
            + ("" if self.landlock_abi else " and any world-writable directory")
        )
        return {
            "network": net,
            "processes": procs,
            "process_count": nproc,
            "files": files,
            "disk": disk,
            "uid": "unprivileged per-slot uid" if self.drop_uid else f"your uid ({os.getuid()})",
            "notes": "; ".join(self.notes) or "-",
        }


def _try(prefix: list[str]) -> bool:
    try:
        out = subprocess.run(
            [*prefix, sys.executable, "-I", "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and (out.stdout.strip() == "1" or "--pid" not in prefix)


def _uid_drop_works() -> bool:
    if os.geteuid() != 0:
        return False
    uid = UID_BASE + UID_SLOTS - 1
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os._exit(0 if os.getuid() == uid else 1)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _world_traversable(path: str) -> bool:
    """Every directory on the way to `path` lets other users through (so a dropped uid can import from it)."""
    p = os.path.abspath(path)
    while True:
        try:
            if not os.stat(p).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
        parent = os.path.dirname(p)
        if parent == p:
            return True
        p = parent


@lru_cache(maxsize=1)
def probe() -> Isolation:
    notes = []
    prefix: list[str] = []
    namespaces: tuple[str, ...] = ()
    unshare = shutil.which("unshare")
    if os.environ.get("STILL2_SANDBOX_NO_NAMESPACES"):
        notes.append("namespaces turned off by STILL2_SANDBOX_NO_NAMESPACES")
    elif unshare is None:
        notes.append("no `unshare` (util-linux): no network or PID namespace")
    else:
        user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
        for flags, names in (
            (["--net", "--pid", "--mount", "--fork", "--kill-child"], ("net", "pid", "mount")),
            (["--net", "--pid", "--fork", "--kill-child"], ("net", "pid")),
            (["--net"], ("net",)),
            (["--pid", "--fork", "--kill-child"], ("pid",)),
        ):
            if _try([unshare, *user, *flags]):
                prefix = [unshare, *user, *flags]
                namespaces = (("user",) if user else ()) + names
                break
        else:
            notes.append("`unshare` is refused here (unprivileged user namespaces disabled?)")
    drop = _uid_drop_works()
    if os.geteuid() == 0 and not drop:
        notes.append(
            "running as root without an unprivileged uid: RLIMIT_NPROC does not bind root"
            + (
                "; the PID namespace still kills everything after each test"
                if "pid" in namespaces
                else ", so a fork bomb is NOT contained: do not run untrusted code like this"
            )
        )
    abi = landlock_abi()
    if not abi:
        notes.append("no Landlock in this kernel")
        if drop and not _world_traversable(sys.base_prefix):
            notes.append(
                f"Python ({sys.base_prefix}) is not readable by other users: sandboxed programs can "
                "import only the modules the runner preloads"
            )
    return Isolation(tuple(prefix), namespaces, drop, abi, tuple(notes))
