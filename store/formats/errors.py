"""Errors that name the file and line of bad input."""

from __future__ import annotations

from dataclasses import dataclass

from store.connection import StoreError


@dataclass
class RowError(Exception):
    """A bad row at ``path:line``. ``fatal``: the file cannot be read past this point."""

    path: str
    line: int
    message: str
    fatal: bool = False

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ImportFailed(StoreError):
    """Bad rows found; nothing from the file was written."""

    def __init__(self, path: str, errors: list[RowError], total: int):
        self.path = path
        self.errors = errors
        self.total = total
        shown = "\n".join(f"  {e}" for e in errors[:10])
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        super().__init__(
            f"{len(errors)} bad row(s) of {total} in {path}; nothing imported "
            f"(fix them, or pass --skip-bad to import the rest):\n{shown}{more}"
        )
