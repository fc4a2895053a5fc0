"""Typer options generated from config dataclasses: a command declares `cfg: SomeConfig` and gets one
option per field, with the help, flags, bounds and choices written on the field (pipeline/options.py).

    @app.command("explore")
    @config_command
    def explore(sampling: ExploreConfig, engine: EngineSpec, db: DbOption = default_db()) -> None: ...

A parameter annotated `Annotated[Cfg, Fields(...)]` chooses which fields appear (`only`/`exclude`),
`defaults={...}` replaces some fields' defaults for this command, and `overrides=True` hands the
function a dict of only the values given on the command line (every option defaults to None; the
field's own default is shown in the help), for commands whose defaults come from a recipe. `config_file=True` adds `--config FILE` (JSON, YAML or TOML) and repeatable
`--set key=value` for that group; flags given on the command line win over both.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import json
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Optional

import typer


@dataclasses.dataclass(frozen=True)
class Fields:
    """How a config dataclass parameter is expanded into options."""

    only: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    overrides: bool = False
    config_file: bool = False
    # per-command defaults in place of the fields' own (e.g. distill's 4 rollouts against explore's 20)
    defaults: dict[str, Any] = dataclasses.field(default_factory=dict, hash=False)


_CONFIG_PARAM = "config_file__"
_SET_PARAM = "set_values__"


def cli_fields(cls: type, spec: Fields | None = None) -> list[dataclasses.Field]:
    spec = spec or Fields()
    out = []
    for f in dataclasses.fields(cls):
        # fields without option metadata are set by code or a recipe, not on the command line
        if "help" not in f.metadata or not f.metadata.get("cli", True) or f.name in spec.exclude:
            continue
        if spec.only is not None and f.name not in spec.only:
            continue
        out.append(f)
    return out


def field_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return dataclasses.MISSING


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _show(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, (list, tuple)):
        return ",".join(_show(v) for v in value) or "none"
    return str(value)


def _two_way(flags: tuple[str, ...]) -> bool:
    return any("/" in flag for flag in flags)


def _option(
    cls: type, f: dataclasses.Field, hints: dict[str, Any], overrides: bool, defaults: dict[str, Any] | None = None
) -> inspect.Parameter:
    meta = f.metadata
    annotation = meta.get("cli_type") or meta.get("choices") or _strip_optional(hints[f.name])
    default = (defaults or {}).get(f.name, field_default(f))
    flags = tuple(meta.get("flags") or ())
    if meta.get("negate"):
        # `--no-x` (given: the field is False) or `--no-x/--x`; not given: the field's default
        flags = flags or ("--no-" + f.name.replace("_", "-"),)
        two_way = _two_way(flags)
        return inspect.Parameter(
            f.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None if two_way else False,
            annotation=Annotated[Optional[bool] if two_way else bool, typer.Option(*flags, help=meta.get("help", ""))],
        )
    if not flags:
        flag = "--" + f.name.replace("_", "-")
        flags = (f"{flag}/--no-{flag[2:]}",) if annotation is bool else (flag,)
    kwargs: dict[str, Any] = {"help": meta.get("help", "")}
    if meta.get("min") is not None:
        kwargs["min"] = meta["min"]
    if meta.get("max") is not None:
        kwargs["max"] = meta["max"]
    if meta.get("envvar"):
        kwargs["envvar"] = meta["envvar"]
    if meta.get("metavar"):
        kwargs["metavar"] = meta["metavar"]
    required = default is dataclasses.MISSING and not overrides
    if overrides or default is None or required:
        cli_annotation: Any = Optional[annotation] if not required else annotation
        cli_default: Any = ... if required else None
        if default not in (dataclasses.MISSING, None) and not (
            isinstance(default, (list, tuple, dict)) and not default
        ):
            kwargs["show_default"] = _show(default)
    elif isinstance(default, (list, tuple, dict)):
        cli_annotation, cli_default = Optional[annotation], None
        if default:
            kwargs["show_default"] = _show(default)
    else:
        cli_annotation, cli_default = annotation, default
    return inspect.Parameter(
        f.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=cli_default,
        annotation=Annotated[cli_annotation, typer.Option(*flags, **kwargs)],
    )


def _given(f: dataclasses.Field, value: Any) -> Any:
    meta = f.metadata
    if meta.get("negate"):
        return None if value is None or (value is False and not _two_way(tuple(meta.get("flags") or ()))) else not value
    if isinstance(value, enum.Enum) and meta.get("choices") is not None:
        value = value.value
    parse = meta.get("parse")
    return parse(value) if parse is not None and value is not None else value


def _aliases(fields: list[dataclasses.Field]) -> dict[str, str]:
    """Flag names that differ from their field's (`lr` -> learning_rate), for --config and --set keys;
    only where the file value is the field's value (no parse, no negation)."""
    out = {}
    for f in fields:
        if f.metadata.get("parse") is None and not f.metadata.get("negate"):
            for flag in f.metadata.get("flags") or ():
                name = flag.split("/")[0].lstrip("-").replace("-", "_")
                if name and name != f.name:
                    out[name] = f.name
    return out


def _coerce(annotation: Any, value: Any) -> Any:
    """A value from a config file or --set as the field's enum member (other types are taken as given)."""
    annotation = _strip_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum) and value is not None:
        return annotation(value)
    return value


def read_config_file(path: Path) -> dict[str, Any]:
    """A JSON, YAML or TOML mapping of field name -> value."""
    text = Path(path).read_text(encoding="utf-8")
    suffix = Path(path).suffix.lower()
    if suffix == ".toml":
        import tomllib

        data = tomllib.loads(text)
    elif suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of option name to value")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def parse_set(items: list[str] | None) -> dict[str, Any]:
    """`--set key=value` items; values are read as JSON when they parse, else kept as strings."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects key=value, got {item!r}")
        try:
            out[key.strip().replace("-", "_")] = json.loads(value)
        except ValueError:
            out[key.strip().replace("-", "_")] = value
    return out


def config_command(func):
    """Expand the function's config-dataclass parameters into Typer options (see the module docstring)."""
    hints = typing.get_type_hints(func, include_extras=True)
    groups: dict[str, tuple[type, Fields, list[dataclasses.Field]]] = {}
    params: list[inspect.Parameter] = []
    seen: dict[str, str] = {}
    with_config: list[str] = []
    aliases: dict[str, str] = {}
    for p in inspect.signature(func).parameters.values():
        annotation = hints.get(p.name, p.annotation)
        spec = None
        if typing.get_origin(annotation) is Annotated:
            base, *extras = typing.get_args(annotation)
            spec = next((e for e in extras if isinstance(e, Fields)), None)
            if spec is not None:
                annotation = base
        if not (isinstance(annotation, type) and dataclasses.is_dataclass(annotation)):
            params.append(p.replace(annotation=annotation, kind=inspect.Parameter.KEYWORD_ONLY))
            continue
        spec = spec or Fields()
        fields = cli_fields(annotation, spec)
        field_hints = typing.get_type_hints(annotation)
        for f in fields:
            if f.name in seen:
                raise TypeError(
                    f"{func.__name__}: option {f.name!r} comes from both {seen[f.name]} and "
                    f"{annotation.__name__}; exclude it from one (Fields(exclude=...))"
                )
            seen[f.name] = annotation.__name__
            params.append(_option(annotation, f, field_hints, spec.overrides or spec.config_file, spec.defaults))
        groups[p.name] = (annotation, spec, fields)
        if spec.config_file:
            with_config.append(p.name)
            aliases.update(_aliases(fields))
    if with_config:
        params.append(
            inspect.Parameter(
                _CONFIG_PARAM,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[
                    Optional[Path],
                    typer.Option("--config", help="Options from a JSON, YAML or TOML file (flags given here win)."),
                ],
            )
        )
        params.append(
            inspect.Parameter(
                _SET_PARAM,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[
                    Optional[list[str]],
                    typer.Option(
                        "--set",
                        help="Set any field as key=value (repeatable; JSON values; field or flag names), "
                        "e.g. --set max_steps=20.",
                    ),
                ],
            )
        )
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise TypeError(f"{func.__name__}: duplicate parameter names {names}")

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        from_file: dict[str, Any] = {}
        if with_config:
            path = kwargs.pop(_CONFIG_PARAM, None)
            try:
                from_file = read_config_file(path) if path else {}
                from_file.update(parse_set(kwargs.pop(_SET_PARAM, None)))
                from_file = {aliases.get(k, k): v for k, v in from_file.items()}
            except (OSError, ValueError) as exc:
                raise typer.BadParameter(str(exc)) from None
        call: dict[str, Any] = {}
        for name, (cls, spec, fields) in groups.items():
            try:
                given = {f.name: _given(f, kwargs.pop(f.name)) for f in fields}
            except ValueError as exc:  # a parse function refused the value
                raise typer.BadParameter(str(exc)) from None
            given = {k: v for k, v in given.items() if v is not None}
            if spec.config_file:
                types_ = typing.get_type_hints(cls)
                mine = {k: _coerce(types_[k], v) for k, v in from_file.items() if k in types_}
                given = {**mine, **given}
            if spec.overrides:
                call[name] = given
            else:
                call[name] = cls(**given)
        if with_config:
            claimed = {f.name for cls, _, _ in groups.values() for f in dataclasses.fields(cls)}
            stray = sorted(set(from_file) - claimed)
            if stray:
                raise typer.BadParameter(f"--config/--set: unknown option(s) {', '.join(stray)}")
        call.update(kwargs)
        return func(**call)

    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    wrapper.__wrapped__ = None  # Typer must read the generated signature, not the original one
    del wrapper.__wrapped__
    return wrapper
