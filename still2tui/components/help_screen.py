"""The help screen: every key of the actions registry (with user overrides applied) and the filter language."""
from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from still2tui import filter_lang
from still2tui.actions import ACTIONS


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "app.pop_screen", "Close")]

    def __init__(self, keymap: dict[str, str] | None = None):
        super().__init__()
        self.keymap = keymap or {}

    def compose(self) -> ComposeResult:
        table = Table(title="Keys (remap in $XDG_CONFIG_HOME/still2tui/keys.toml)", expand=True, box=None)
        table.add_column("where", style="bold")
        table.add_column("keys", style="bold")
        table.add_column("action")
        table.add_column("id", style="dim")
        for scope, actions in ACTIONS.items():
            for a in actions:
                keys = self.keymap.get(a.id, a.keys).replace("question_mark", "?").replace("slash", "/")
                keys = keys.replace("right_square_bracket", "]").replace("left_square_bracket", "[")
                table.add_row(scope, keys, a.description, a.id)
        table.add_row("app", "ctrl+p", "Command palette", "")
        with VerticalScroll(classes="dialog", id="help"):
            yield Static(table)
            yield Static("[b]Filter language[/b]\n" + (filter_lang.__doc__ or "").split("\n\n", 1)[1], markup=True)
