"""A form generated from the CLI's own job schema (`jobs schema --json`): one field per option."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from still2tui.jobs import Command, to_argv

INPUT_TYPES = {"int": "integer", "float": "number"}


class JobForm(ModalScreen[list[str] | None]):
    """Dismisses with the argv to launch (command name first), or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "launch", "Launch")]

    def __init__(self, command: Command):
        super().__init__()
        self.command = command

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"[b]{self.command.name}[/b] — {self.command.help}  (ctrl+s launches)", markup=True)
            with VerticalScroll(id="form-fields"):
                for p in self.command.params:
                    label = f"{p.flag or p.name.upper()}{' *' if p.required else ''}  {p.help}"
                    if p.type == "bool":
                        yield Checkbox(label, bool(p.default), id=f"f-{p.name}")
                        continue
                    yield Label(label)
                    if p.type == "choice" and p.choices:
                        yield Select([(c, c) for c in p.choices], value=p.default if p.default in p.choices
                                     else Select.NULL, allow_blank=not p.required, id=f"f-{p.name}")
                    else:
                        default = "" if p.default is None else (
                            " ".join(map(str, p.default)) if isinstance(p.default, list) else str(p.default))
                        yield Input(default, type=INPUT_TYPES.get(p.type, "text") if not p.multiple else "text",
                                    placeholder=p.type + (" (space-separated)" if p.multiple else ""),
                                    id=f"f-{p.name}")
            with Horizontal(classes="buttons"):
                yield Button("Launch (ctrl+s)", id="launch", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def values(self) -> dict:
        out = {}
        for p in self.command.params:
            widget = self.query_one(f"#f-{p.name}")
            value = widget.value
            if isinstance(widget, Select):
                value = None if value is Select.NULL else value
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
        missing = [p.flag or p.name for p in self.command.params if p.required and self.values().get(p.name) in (None, "", [])]
        if missing:
            self.notify(f"required: {', '.join(missing)}", severity="error")
            return
        try:
            self.dismiss(to_argv(self.command, self.values()))
        except ValueError as exc:
            self.notify(str(exc), severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_launch() if event.button.id == "launch" else self.action_cancel()
