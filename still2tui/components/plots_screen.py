"""Plots of the current trajectory filter: length and perplexity histograms, accuracy per iteration."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from store.tui_queries import accuracy_by_iteration, histogram
from still2tui import plots
from still2tui.components.key_footer import KeyFooter
from still2tui.filter_lang import LATEST_PPL

PPL_JOIN = f"JOIN {LATEST_PPL.format(part='full')} pp ON pp.trajectory_id = t.id"


def plot_texts(conn, where: str, params: list, width: int):
    yield plots.histogram(histogram(conn, "coalesce(t.n_tokens, t.n_chars)", where, params), "length (tokens)",
                          width=width)
    yield plots.histogram(histogram(conn, "pp.ppl", where, params, joins=PPL_JOIN), "perplexity", width=width)
    yield plots.accuracy(accuracy_by_iteration(conn, where, params), width=width)


class PlotsScreen(Screen):
    BINDINGS = [Binding("escape,backspace,p", "app.pop_screen", "Back")]

    def __init__(self, where: tuple[str, list]):
        super().__init__()
        self.where, self.params = where

    def compose(self) -> ComposeResult:
        yield Header()
        yield VerticalScroll(id="plots")
        yield KeyFooter()

    def on_mount(self) -> None:
        width = max(40, self.app.size.width - 4)
        with self.app.store.read() as conn:
            texts = list(plot_texts(conn, self.where, self.params, width))
        self.query_one("#plots").mount_all([Static(t, classes="plot") for t in texts])
