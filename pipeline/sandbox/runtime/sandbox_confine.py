"""Confinement of one untrusted child process, applied by the child itself right after fork and before any
untrusted code runs (stdlib only: this file runs inside the sandbox).

Layers, each applied when the job asks for it and the OS allows it:
- a new session (so the runner can kill the child's process group);
- resource limits: CPU seconds, address space, file size (= output size), open files, processes, no core;
- an unprivileged uid/gid when the runner is root (RLIMIT_NPROC does not bind root), without any
  capability except CAP_DAC_READ_SEARCH when Landlock is on (Landlock then decides what may be read);
- no_new_privs: no setuid binary can give privileges back;
- Landlock (Linux >= 5.13): reads only below the given paths, writes only below the work directory, no TCP
  connect/bind (ABI >= 4), no signals or abstract unix sockets outside the sandbox (ABI >= 6).
"""

from __future__ import annotations

import ctypes
import os
import resource

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # same numbers on x86_64 and arm64
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_DUMPABLE = 4
_PR_SET_KEEPCAPS = 8
_CAP_VERSION_3 = 0x20080522
_CAP_DAC_READ_SEARCH = 2
_RULE_PATH_BENEATH = 1

_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_WRITE_DIR = sum(1 << i for i in range(4, 13))  # remove dir/file, make char/dir/reg/sock/fifo/block/sym
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1, 2


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is unavailable."""
    try:
        r = _libc().syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except (OSError, AttributeError):
        return 0
    return max(0, int(r))


def not_dumpable() -> None:
    """No ptrace, no /proc/PID/{mem,fd} access by other processes of the same uid (protects the runner)."""
    try:
        _libc().prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def apply_landlock(read_paths: list[str], write_paths: list[str], abi: int) -> None:
    """Restrict this process and its future children. Raises OSError when the kernel refuses."""
    libc = _libc()
    fs = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_READ_DIR | _FS_WRITE_DIR
    if abi >= 2:
        fs |= _FS_REFER
    if abi >= 3:
        fs |= _FS_TRUNCATE
    if abi >= 5:
        fs |= _FS_IOCTL_DEV
    attr = _RulesetAttr(
        fs,
        (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
        (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0,
    )
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        read = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
        for paths, rights in ((read_paths, read), (write_paths, fs)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # a path that does not exist here grants nothing
                try:
                    allowed = rights if os.path.isdir(path) else rights & _FILE_RIGHTS
                    rule = _PathBeneath(allowed & fs, fd)
                    if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) < 0:
                        raise OSError(ctypes.get_errno(), f"landlock_add_rule {path} failed")
                finally:
                    os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_to(uid: int, gid: int, keep_read_search: bool) -> None:
    """Become uid/gid with no capability, or only CAP_DAC_READ_SEARCH (read any file: Landlock then decides
    what may be read; needed when Python itself lives where the sandbox uid may not go, e.g. /root)."""
    libc = _libc()
    if keep_read_search and libc.prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0:
        raise OSError(ctypes.get_errno(), "PR_SET_KEEPCAPS failed")
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("could not drop to the sandbox uid")
    if keep_read_search:
        data = (_CapData * 2)()
        data[0].effective = data[0].permitted = 1 << _CAP_DAC_READ_SEARCH
        if libc.capset(ctypes.byref(_CapHeader(_CAP_VERSION_3, 0)), data) < 0:
            raise OSError(ctypes.get_errno(), "capset failed")


def mount_tmpfs(path: str, size_mb: int, uid: int | None) -> None:
    """A size-capped tmpfs on the work directory (runner only, inside its own mount namespace): the
    program's files live in memory and cannot fill the disk."""
    owner = f",uid={uid},gid={uid}" if uid else ""
    opts = f"size={int(size_mb)}m,mode=0700{owner}".encode()
    ms_nosuid, ms_nodev = 2, 4
    if _libc().mount(b"tmpfs", path.encode(), b"tmpfs", ms_nosuid | ms_nodev, opts) < 0:
        raise OSError(ctypes.get_errno(), f"mounting a tmpfs on {path} failed")


def unmount(path: str) -> None:
    _libc().umount2(path.encode(), 2)  # MNT_DETACH: gone even if a killed process still held a file


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else value + 1))


def apply(limits: dict, cpu_seconds: float, confine: dict) -> None:
    """Everything above, in the order that works: session, limits, uid, Landlock (which needs no privilege)."""
    os.setsid()
    _limit(resource.RLIMIT_CPU, max(1, int(cpu_seconds + 0.999)))
    _limit(resource.RLIMIT_AS, int(limits["memory_mb"]) * 1024 * 1024)
    _limit(resource.RLIMIT_FSIZE, int(limits["output_mb"]) * 1024 * 1024)
    _limit(resource.RLIMIT_NOFILE, int(limits["open_files"]))
    _limit(resource.RLIMIT_CORE, 0)
    uid = confine.get("uid")
    # + the runner and the reaper, which count too when they share the uid (user namespace)
    _limit(resource.RLIMIT_NPROC, int(limits["processes"]) + (0 if uid else 2))
    abi = int(confine.get("landlock_abi") or 0)
    if uid:
        drop_to(uid, confine.get("gid") or uid, keep_read_search=abi > 0)
    if _libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0:  # no setuid binary can give privileges back
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
    if abi:
        apply_landlock(confine.get("read_paths") or [], confine.get("write_paths") or [], abi)
