"""What a filter rule is (a named check with default parameters) and the registry of all rules.

Three kinds of rule:

* ``row``   - ``check(row, params) -> reason | None`` on one trajectory (a dict of ``columns``);
* ``group`` - ``check(rows, params) -> {id: reason}`` on all covered trajectories of one problem;
* ``sql``   - ``check(params) -> SQL expression`` over the ``trajectory`` table (alias ``t``) that
  yields the reason or NULL; evaluated by DuckDB, so it is vectorised;
* ``batch`` - ``check(rows, params, context) -> {id: reason}`` on a whole chunk at once (vectorised in
  Python), where ``context`` is what the rule's ``prepare(conn, params)`` built once per run from the
  store (e.g. an index of benchmark n-grams).

A reason is a human-readable sentence saying what was found, with the numbers and a snippet; a rule
may return a ``Finding`` instead, whose ``detail`` (JSON) is stored beside the reason in ``flag.detail``.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

KINDS = ("row", "group", "sql", "batch")


@dataclass(frozen=True)
class Finding:
    """A flag's reason plus structured detail (e.g. the matched span a viewer highlights)."""

    reason: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.reason)


@dataclass(frozen=True)
class Rule:
    """A filter rule; its documentation is the docstring of ``check``."""

    name: str
    check: Callable[..., Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "row"
    columns: tuple[str, ...] = ("text",)
    # Called once per run with a read connection and the merged params; its result is the
    # ``context`` argument of a batch rule's check.
    prepare: Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"rule {self.name}: unknown kind {self.kind!r}")

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.check) or ""

    @property
    def summary(self) -> str:
        return self.doc.split("\n\n", 1)[0].replace("\n", " ")

    def params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults updated with overrides; unknown keys are an error naming the known ones."""
        merged = dict(self.defaults)
        for key, value in (overrides or {}).items():
            if key not in merged:
                known = ", ".join(sorted(merged)) or "none"
                raise ValueError(f"rule {self.name} has no parameter {key!r} (known: {known})")
            merged[key] = value
        return merged


RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    if rule.name in RULES:
        raise ValueError(f"rule {rule.name} registered twice")
    RULES[rule.name] = rule
    return rule


def get_rules(names: list[str] | None) -> list[Rule]:
    """The named rules in registry order (all rules for None); unknown names are an error."""
    if not names:
        return list(RULES.values())
    unknown = [n for n in names if n not in RULES]
    if unknown:
        raise ValueError(f"unknown rule(s): {', '.join(unknown)}; known: {', '.join(RULES)}")
    return [r for r in RULES.values() if r.name in names]


def coerce(value: str, default: Any) -> Any:
    """Parse a --param value to the type of the rule's default."""
    if isinstance(default, bool):
        low = value.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected a boolean, got {value!r}")
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    if isinstance(default, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def parse_params(items: list[str] | None) -> dict[str, dict[str, Any]]:
    """``["repetition.max_ratio=0.5", ...]`` -> ``{"repetition": {"max_ratio": 0.5}}`` (typed by defaults)."""
    out: dict[str, dict[str, Any]] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        rule_name, dot, param = key.strip().partition(".")
        if not sep or not dot or not param:
            raise ValueError(f"--param expects RULE.KEY=VALUE, got {item!r}")
        rule = get_rules([rule_name])[0]
        if param not in rule.defaults:
            rule.params({param: None})  # raises with the known keys
        try:
            out.setdefault(rule_name, {})[param] = coerce(value, rule.defaults[param])
        except ValueError as exc:
            raise ValueError(f"--param {item}: {exc}") from None
    return out


def snippet(text: str, limit: int = 80) -> str:
    """One line of at most ``limit`` characters, for reasons."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
