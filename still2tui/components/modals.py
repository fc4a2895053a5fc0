"""Small modal screens: yes/no confirmation, a one-line text prompt, the column chooser, the copy menu.

Copying goes to the terminal's clipboard with OSC 52 (Textual's ``copy_to_clipboard``), which works
over SSH and inside tmux (``set -g set-clipboard on``).
"""

from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, SelectionList
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection


class Confirm(ModalScreen[bool]):
    """Dismisses with True on y/enter, False on n/escape."""

    BINDINGS = [Binding("y,enter", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, id="question")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="primary")
                yield Button("No (n)", id="no")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class Prompt(ModalScreen[str | None]):
    """Asks for one line of text; None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, label: str, value: str = ""):
        super().__init__()
        self.label, self.value = label, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.label)
            yield Input(self.value, id="prompt")
            yield Label("enter saves · escape cancels", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ColumnChooser(ModalScreen[set[str] | None]):
    """Tick the columns to show; dismisses with the keys to hide (None when cancelled)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("enter", "done", "Apply", priority=True)]

    def __init__(self, columns: list[tuple[str, str, str]], hidden: set[str]):
        super().__init__()
        self.columns, self.hidden = columns, set(hidden)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                "Columns to show (space ticks, enter applies, escape cancels; narrow terminals drop the "
                "least important ones first)"
            )
            yield SelectionList(
                *[
                    Selection(f"{title:10} {help_}" if help_ else title, key, key not in self.hidden)
                    for key, title, help_ in self.columns
                ],
                id="columns",
            )

    def action_done(self) -> None:
        shown = set(self.query_one(SelectionList).selected)
        self.dismiss({key for key, _, _ in self.columns if key not in shown})

    def action_cancel(self) -> None:
        self.dismiss(None)


class CopyMenu(ModalScreen[None]):
    """Copy a part of a trajectory to the clipboard (OSC 52): id, answer, question, a step, the whole text.

    ``row`` reads the trajectory (store.tui_queries.detail's fields); ``step``: the text of the step under
    the cursor, when there is one."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    CHOICES = [
        ("id", "trajectory id"),
        ("extracted", "extracted answer"),
        ("question", "question"),
        ("step", "the step under the cursor"),
        ("thought", "the thought"),
        ("solution", "the solution"),
        ("text", "the whole text"),
    ]

    def __init__(self, row: Callable[[], dict], step: str | None = None):
        super().__init__()
        self.row, self.step = row, step

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Copy to the clipboard (OSC 52; in tmux: set -g set-clipboard on)")
            yield OptionList(
                *[Option(label, id=key) for key, label in self.CHOICES if key != "step" or self.step is not None],
                id="copy-choices",
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        key = event.option.id
        text = self.step if key == "step" else self.row().get(key)
        text = "" if text is None else str(text)
        self.app.copy_to_clipboard(text)
        self.app.notify(f"copied {dict(self.CHOICES)[key]} ({len(text):,} characters)", timeout=2)
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
