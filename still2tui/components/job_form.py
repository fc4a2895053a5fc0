"""A form generated from the CLI's own job schema (`jobs schema --json`): one line per option.

The first field has the focus when the form opens (typed text is never lost), an option with a fixed
set of values is a Select, the help of the focused option shows under the fields, and an empty field
says what it takes ("whole number", "optional", the default) instead of a type name.
"""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from still2tui.actions import bindings
from still2tui.jobs import Command, Param, to_argv

INPUT_TYPES = {"int": "integer", "float": "number"}
WHAT = {"int": "a whole number", "float": "a number", "path": "a file path", "str": "text"}
# A help text that is only a list of values ("transformers | vllm | openai"): the option's choices, until
# the schema carries them itself.
_CHOICES_HELP = re.compile(r"[\w.@/-]+(?: \| [\w.@/-]+)+")


def choices_of(p: Param) -> list[str] | None:
    if p.choices:
        return list(p.choices)
    if p.type in ("str", "choice") and not p.multiple and _CHOICES_HELP.fullmatch((p.help or "").strip()):
        return [c.strip() for c in p.help.split("|")]
    return None


def placeholder(p: Param) -> str:
    what = WHAT.get(p.type, p.type)
    if p.multiple:
        what += "s, separated by spaces"
    return f"{what} (required)" if p.required else f"{what} (optional)"


class JobForm(ModalScreen[list[str] | None]):
    """Dismisses with the argv to launch (command name first), or None."""

    BINDINGS = bindings("job_form")
    DEFAULT_CSS = """
    JobForm .field { height: 1; margin: 0; }
    JobForm .field Label { width: 26; padding: 0 1 0 0; }
    JobForm .field Input, JobForm .field Input:focus { border: none; height: 1; padding: 0 1; width: 1fr; }
    JobForm .field Input:focus { background: $boost; }
    JobForm .field Select { width: 1fr; height: 1; }
    JobForm .field SelectCurrent, JobForm .field Select:focus > SelectCurrent { border: none; height: 1; padding: 0 1; }
    JobForm .field Checkbox, JobForm .field Checkbox:focus { border: none; height: 1; padding: 0; width: 6; }
    JobForm .dialog { height: 90%; }
    JobForm .dialog > Label { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    JobForm #form-fields { height: 1fr; }
    JobForm #field-help { height: 2; color: $text-muted; margin-top: 1; }
    JobForm .buttons { height: 1; margin-top: 1; }
    JobForm .buttons Button, JobForm .buttons Button:focus, JobForm .buttons Button:hover, JobForm .buttons Button.-primary {
        height: 1; border-top: none; border-bottom: none; min-width: 12; margin-right: 2; }
    """

    def __init__(self, command: Command):
        super().__init__()
        self.command = command

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"[b]{self.command.name}[/b] (ctrl+s launches, esc cancels) — {self.command.help}", markup=True)
            with VerticalScroll(id="form-fields"):
                for p in self.command.params:
                    with Horizontal(classes="field"):
                        yield Label(f"{p.flag or p.name.upper()}{' *' if p.required else ''}")
                        yield self._widget(p)
            yield Static("", id="field-help")
            with Horizontal(classes="buttons"):
                yield Button("Launch (ctrl+s)", id="launch", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def _widget(self, p: Param) -> Widget:
        if p.type == "bool" and p.default is None:  # recipe-backed: on, off, or what the recipe says
            widget: Widget = Select(
                [(f"on ({p.flag})", "on"), (f"off ({p.off})", "off")],
                value=Select.NULL,
                prompt=f"default ({p.shown_default or 'recipe'})",
                id=f"f-{p.name}",
            )
        elif p.type == "bool":
            widget = Checkbox("", bool(p.default), id=f"f-{p.name}")
        elif (choices := choices_of(p)) is not None:
            widget = Select(
                [(c, c) for c in choices],
                value=p.default if p.default in choices else Select.NULL,
                allow_blank=not p.required or p.default not in choices,
                id=f"f-{p.name}",
            )
        else:
            default = (
                ""
                if p.default is None
                else (" ".join(map(str, p.default)) if isinstance(p.default, list) else str(p.default))
            )
            widget = Input(
                default,
                type=INPUT_TYPES.get(p.type, "text") if not p.multiple else "text",
                placeholder=placeholder(p),
                id=f"f-{p.name}",
            )
        widget.tooltip = p.help
        return widget

    def on_mount(self) -> None:
        first = self.query("#form-fields Input, #form-fields Select, #form-fields Checkbox").first()
        self.set_focus(first)  # now: what the user types right away goes into the form

    def on_descendant_focus(self, event) -> None:
        name = (event.widget.id or "").removeprefix("f-")
        p = next((p for p in self.command.params if p.name == name), None)
        if p is not None:
            default = "" if p.default in (None, "", []) else f"  (default: {p.default})"
            self.query_one("#field-help", Static).update(f"{p.flag or p.name.upper()}: {p.help}{default}")

    def values(self) -> dict:
        out = {}
        for p in self.command.params:
            widget = self.query_one(f"#f-{p.name}")
            value = widget.value
            if isinstance(widget, Select):
                value = None if value is Select.NULL else value
                if p.type == "bool" and value is not None:
                    value = value == "on"
            elif isinstance(widget, Input) and value != "" and not p.multiple:
                value = int(value) if p.type == "int" else float(value) if p.type == "float" else value
                if p.type == "float" and p.default is not None and float(p.default) == value:
                    value = p.default
            elif isinstance(widget, Input) and p.multiple:
                value = value.split()
                if value == (p.default or []):
                    value = p.default
            out[p.name] = value
        return out

    def action_launch(self) -> None:
        try:
            values = self.values()
        except ValueError as exc:
            self.notify(f"not a number: {exc}", severity="error")
            return
        missing = [p.flag or p.name for p in self.command.params if p.required and values.get(p.name) in (None, "", [])]
        if missing:
            self.notify(f"required: {', '.join(missing)}", severity="error")
            return
        try:
            self.dismiss(to_argv(self.command, values))
        except ValueError as exc:
            self.notify(str(exc), severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_launch() if event.button.id == "launch" else self.action_cancel()
