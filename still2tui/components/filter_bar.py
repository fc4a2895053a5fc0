"""The filter bar: an Input for the filter language plus the always-visible counts line."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static


class FilterBar(Vertical):
    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar Input { border: none; height: 1; padding: 0 1; }
    FilterBar #counts { height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self, placeholder: str, id: str | None = None):
        super().__init__(id=id)
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        yield Input(placeholder=self.placeholder, id="filter")
        yield Static("", id="counts")

    @property
    def text(self) -> str:
        return self.query_one(Input).value

    def set_text(self, text: str) -> None:
        self.query_one(Input).value = text

    def set_counts(self, text: str) -> None:
        self.query_one("#counts", Static).update(text)
