"""The help screen: the keys of the screen it was opened from first, then every other screen's, with the
user's remaps applied, and the filter language (filter_lang.HELP)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from still2tui import filter_lang
from still2tui.actions import ACTIONS
from still2tui.screens import SCREENS

# the screens' sections are named by the screen registry; these scopes are parts of several screens
SCOPE_TITLES = {
    "app": "everywhere",
    "table": "tables",
    "aligned_steps": "first divergence: the steps",
    **{scope: entry.title for scope, entry in SCREENS.items()},
}
KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "right_square_bracket": "]",
    "left_square_bracket": "[",
    "right_curly_bracket": "}",
    "left_curly_bracket": "{",
    "vertical_line": "|",
    "backslash": "\\",
    "exclamation_mark": "!",
    "equals_sign": "=",
}


def shown_keys(keys: str) -> str:
    return ", ".join(KEY_NAMES.get(k, k) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "app.pop_screen", "Close")]

    def __init__(self, keymap: dict[str, str] | None = None, scope: str | None = None):
        super().__init__()
        self.keymap = keymap or {}
        self.scope = scope

    def compose(self) -> ComposeResult:
        order = ([self.scope] if self.scope in ACTIONS else []) + [s for s in ACTIONS if s != self.scope]
        parts = [Text("Keys (remap them in $XDG_CONFIG_HOME/still2tui/keys.toml by the id on the right)", style="bold")]
        for scope in order:
            table = Table(
                title=SCOPE_TITLES.get(scope, scope),
                title_justify="left",
                expand=True,
                box=None,
                show_header=False,
                title_style="bold underline",
            )
            table.add_column("keys", style="bold", width=18)
            table.add_column("action", ratio=3)
            table.add_column("id", style="dim", ratio=2)
            for a in ACTIONS[scope]:
                table.add_row(shown_keys(self.keymap.get(a.id, a.keys)), a.description, a.id)
            if scope == "app":
                table.add_row("ctrl+p", "Command palette (every action of the screen by name)", "")
            parts.append(table)
        self.parts = parts
        with VerticalScroll(classes="dialog", id="help"):
            yield Static(Group(*parts))
            yield Static(Text("\nFilter language\n", style="bold") + Text(filter_lang.HELP))
