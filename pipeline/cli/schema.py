"""The CLI's own options as JSON (`still2 jobs schema`), so the TUI builds its job forms from them.

The TUI may not import the pipeline (layering), so it runs this command and reads the result:
no second definition of any option exists to drift.
"""

from __future__ import annotations

import enum
import types
import typing
from pathlib import PurePath
from typing import Any

# Commands a user launches as jobs, in the order the TUI offers them (missing ones are skipped).
JOB_COMMANDS = (
    "explore",
    "distill",
    "verify",
    "filter",
    "score",
    "metrics",
    "dataset build",
    "pairs build",
    "sft",
    "dpo",
    "eval",
    "iterate",
    "import",
    "problems generate",
    "report",
)
HIDDEN_PARAMS = {"db", "as_json", "json_out", "help"}


def _type_name(param: Any) -> tuple[str, list[str] | None, bool]:
    """(type, choices, multiple) from the parameter's Python annotation (Typer >= 0.29 keeps it there)."""
    annotation = param.type_descriptor.annotation
    multiple = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        multiple = True
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "choice", [str(m.value) for m in annotation], multiple
    if annotation is bool:
        return "bool", None, multiple
    if annotation is int:
        return "int", None, multiple
    if annotation is float:
        return "float", None, multiple
    if isinstance(annotation, type) and issubclass(annotation, PurePath):
        return "path", None, multiple
    return "str", None, multiple


def _param(param: Any) -> dict[str, Any]:
    kind, choices, multiple = _type_name(param)
    is_option = param.param_type_name == "option"
    flag = max(param.opts, key=len) if is_option else None
    default = param.default if not callable(param.default) else None
    if hasattr(default, "__fspath__"):
        default = str(default)
    if kind == "choice" and default is not None and not isinstance(default, (list, tuple)):
        default = str(default.value if isinstance(default, enum.Enum) else default)  # as the form offers it
    return {
        "name": param.name,
        "flag": flag,
        "argument": not is_option,
        "type": kind,
        "choices": choices,
        "default": default if isinstance(default, (str, int, float, bool, list, type(None))) else str(default),
        "help": getattr(param, "help", None) or "",
        "required": bool(param.required),
        "multiple": multiple or bool(param.multiple) or param.nargs == -1,
        "min": param.min,
        "max": param.max,
        # a two-way flag (--bf16/--fp32, --correct-only/--any-verdict): the flag that turns it off
        "off_flag": (param.secondary_opts[0] if kind == "bool" and getattr(param, "secondary_opts", None) else None),
        # a recipe-backed option defaults to None on the command line; its effective default is shown instead
        "shown_default": param.show_default if isinstance(param.show_default, str) else None,
    }


def _find(group: Any, words: list[str]) -> Any:
    cmd = group
    for word in words:
        cmd = getattr(cmd, "commands", {}).get(word)
        if cmd is None:
            return None
    return cmd


def cli_schema() -> dict[str, Any]:
    import typer

    from pipeline.cli import app

    root = typer.main.get_command(app)
    commands = []
    for name in JOB_COMMANDS:
        cmd = _find(root, name.split())
        if cmd is None:
            continue
        params = [_param(p) for p in cmd.params if p.name not in HIDDEN_PARAMS]
        commands.append({"name": name, "help": (cmd.help or "").strip().split("\n")[0], "params": params})
    return {"commands": commands}
