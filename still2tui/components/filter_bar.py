"""The filter bar: a one-line Input for the filter language plus the always-visible counts line.

The Input has no border, also while focused (Textual's focused Input draws a tall border, which in a
one-line box left only the border lines and hid the text being typed). A filter that does not compile
leaves its text in the box to be corrected, and the counts line says why and which filter the table
still shows, so the bar and the table never disagree silently.
"""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static


class FilterBar(Vertical):
    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar Input, FilterBar Input:focus { border: none; height: 1; padding: 0 1; }
    FilterBar Input:focus { background: $boost; }
    FilterBar Input.-bad { color: $error; }
    FilterBar #counts { height: auto; max-height: 7; padding: 0 1; background: $boost; }
    FilterBar #counts.-error { color: $error; }
    """

    def __init__(self, placeholder: str, id: str | None = None):
        super().__init__(id=id)
        self.placeholder = placeholder
        self.applied = ""  # the filter the table shows
        self._counts = ""

    def compose(self) -> ComposeResult:
        yield Input(placeholder=self.placeholder, id="filter")
        yield Static("", id="counts", markup=True)

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    def focus_input(self) -> None:
        """What / does: focus the box, or type a / when the box has the focus already."""
        if self.input.has_focus:  # a priority binding (actions.py): in the box, / is a character
            self.input.insert_text_at_cursor("/")
            return
        self.screen.set_focus(self.input)  # now, not after a refresh: the keys typed right after / go to the box

    @property
    def text(self) -> str:
        return self.input.value

    def set_text(self, text: str) -> None:
        """The filter now applied: shown in the box, errors cleared."""
        self.applied = text
        self.input.value = text
        self.input.remove_class("-bad")
        counts = self.query_one("#counts", Static)
        counts.remove_class("-error")
        counts.update(self._counts)

    def revert(self) -> None:
        """Put the applied filter back in the box (escape after a bad one)."""
        self.set_text(self.applied)

    def show_error(self, message: str) -> None:
        """A filter that does not compile: say why, and what the table still shows."""
        self.input.add_class("-bad")
        counts = self.query_one("#counts", Static)
        counts.add_class("-error")
        shown = f"the table still shows {escape(self.applied)!r}" if self.applied else "the table still shows every row"
        lines = [f"✗ {escape(line)}" for line in message.splitlines()]
        counts.update("\n".join(lines) + f"\n  ({shown}; fix the filter and press enter, escape restores it)")

    def set_counts(self, text: str) -> None:
        self._counts = text
        counts = self.query_one("#counts", Static)
        if not counts.has_class("-error"):
            counts.update(escape(text))

    @property
    def counts_text(self) -> str:
        return self._counts
