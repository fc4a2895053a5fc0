"""Option metadata for config dataclasses: each command-line option is declared once, on its config field.

A field's metadata carries its help text, its flag names, its bounds and how a command-line value
becomes the field's value. `pipeline/cli/options.py` turns a dataclass into Typer options from it,
and `still2 jobs schema` (hence the TUI's job forms) reads those options, so help text, choices and
defaults have a single source. Plain Python: no Typer import here.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Callable


class Choice(str, enum.Enum):
    """Base of option enums: members compare equal to their string values and serialise as them."""

    def __str__(self) -> str:
        return str(self.value)


def opt(
    help: str,
    *flags: str,
    min: float | None = None,
    max: float | None = None,
    parse: Callable[[Any], Any] | None = None,
    cli_type: Any = None,
    cli: bool = True,
    envvar: str | None = None,
    metavar: str | None = None,
    choices: type[enum.Enum] | None = None,
    negate: bool = False,
) -> dict[str, Any]:
    """Metadata for `dataclasses.field(metadata=opt(...))`.

    flags: the option's names (default `--field-name`; a bool gets `--name/--no-name`).
    parse: turns the command-line value into the field's value (e.g. a comma list into a list).
    cli_type: the type the command line takes when it differs from the field's (used with parse).
    cli: False keeps the field out of the command line (set by code, a recipe, --config or --set only).
    choices: a `Choice` enum the command line (and the TUI's form) offers for a plain-str field; the
      field receives the member's string value.
    negate: the flag turns the field off (`--no-system` sets use_system False; not given: the default).
    """
    return {
        "help": help,
        "flags": flags,
        "min": min,
        "max": max,
        "parse": parse,
        "cli_type": cli_type,
        "cli": cli,
        "envvar": envvar,
        "metavar": metavar,
        "choices": choices,
        "negate": negate,
    }


def comma_list(value: Any) -> list[str] | None:
    """A comma-separated string (or repeated values) as a list of stripped, non-empty items."""
    if value is None:
        return None
    items = value if isinstance(value, (list, tuple)) else [value]
    out = [part.strip() for item in items for part in str(item).split(",")]
    return [p for p in out if p]


def field_help(cls: type, name: str) -> str:
    """The help text declared on a config field ('' if none)."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.metadata.get("help", "")
    raise KeyError(name)
