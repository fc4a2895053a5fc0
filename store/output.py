"""Writing an output file the way a user expects, whatever OUT is (export, grade --out, ...).

* a new or regular file is replaced atomically: written to a temporary file beside it, then renamed
  over it, so a failed write leaves the old file and no temporary behind. A new file gets the mode the
  umask gives (not mkstemp's 0600); a replaced file keeps its mode;
* a symlink is followed: the file it points to is replaced, the link stays;
* a FIFO or a character device (``/dev/stdout``, ``/dev/null``, a named pipe a reader waits on) is
  written through, never replaced by a regular file;
* a directory, block device or socket is refused with a message.

Any OS error (disk full, permission denied) becomes one :class:`OutputError` naming the file.
"""

from __future__ import annotations

import os
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from store.connection import StoreError


class OutputError(StoreError):
    """The output file could not be written; nothing was left half-written."""


def _refusal(path: Path, mode: int) -> str | None:
    if stat.S_ISDIR(mode):
        return f"{path} is a directory; give a file name"
    if stat.S_ISBLK(mode):
        return f"{path} is a block device; refusing to write a file over it"
    if stat.S_ISSOCK(mode):
        return f"{path} is a socket; write to a file, a FIFO or a character device"
    return None


def is_stream(path: str | os.PathLike) -> bool:
    """True for an existing FIFO or character device (written through, never replaced)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def _failed(path: Path, error: OSError) -> OutputError:
    return OutputError(f"cannot write {path}: {error.strerror or error}")


@contextmanager
def open_output(path: str | os.PathLike, *, binary: bool = False) -> Iterator[IO]:
    """A file object to write OUT's content to; see the module docstring for what happens to OUT."""
    shown = Path(path)
    target = Path(os.path.realpath(shown))
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as e:
        raise _failed(shown, e) from None
    kwargs = {} if binary else {"encoding": "utf-8", "newline": ""}
    if existing is not None:
        refusal = _refusal(shown, existing.st_mode)
        if refusal:
            raise OutputError(refusal)
        if stat.S_ISFIFO(existing.st_mode) or stat.S_ISCHR(existing.st_mode):
            try:
                with open(target, "wb" if binary else "w", **kwargs) as f:
                    yield f
            except OSError as e:
                raise _failed(shown, e) from None
            return
    tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for any new file
    except OSError as e:
        raise _failed(shown, e) from None
    try:
        if existing is not None:
            os.fchmod(fd, stat.S_IMODE(existing.st_mode))
        with os.fdopen(fd, "wb" if binary else "w", **kwargs) as f:
            yield f
        os.replace(tmp, target)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise _failed(shown, e) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
