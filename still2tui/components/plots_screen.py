"""Plots of the current trajectory filter: length (characters, and tokens where known) and perplexity
histograms, accuracy per iteration. Each plot is a PlotView that draws itself again at its new width
when the terminal is resized (plotext renders to a fixed width)."""

from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header, Static

from still2tui import plots
from still2tui.actions import bindings
from still2tui.components.key_footer import KeyFooter
from store.tui_queries import Predicate, accuracy_by_iteration, histogram, trajectory_counts


def plot_makers(conn, where: Predicate) -> list[Callable[[int], Text]]:
    """One function per plot, width -> the plot as Text (the data is read now, once)."""
    chars = histogram(conn, "chars", where)
    tokens = histogram(conn, "tokens", where)
    counts = trajectory_counts(conn, where)
    with_tokens, rows = counts.with_tokens, counts.matching
    ppl = histogram(conn, "ppl", where)
    accuracy = accuracy_by_iteration(conn, where)
    makers = [lambda w: plots.histogram(chars, "length (characters)", width=w)]
    if with_tokens:
        title = f"length (tokens; {with_tokens:,} of {rows:,} rows have a token count)"
        makers.append(lambda w: plots.histogram(tokens, title, width=w))
    makers.append(lambda w: plots.histogram(ppl, "perplexity (latest, full response)", width=w))
    makers.append(lambda w: plots.accuracy(accuracy, width=w))
    return makers


class PlotView(Widget):
    """A plot drawn at the widget's width (again after a resize)."""

    DEFAULT_CSS = "PlotView { height: auto; width: 1fr; }"

    def __init__(self, make: Callable[[int], Text], classes: str = "plot"):
        super().__init__(classes=classes)
        self.make = make
        self._cache: tuple[int, Text] | None = None

    def render(self) -> Text:
        width = max(self.size.width, 40)
        if self._cache is None or self._cache[0] != width:
            self._cache = (width, self.make(width))
        return self._cache[1]

    def get_content_height(self, container, viewport, width: int) -> int:
        self._cache = (max(width, 40), self.make(max(width, 40)))
        return len(self._cache[1].plain.splitlines()) or 1

    def on_resize(self) -> None:
        self.refresh(layout=True)


class PlotsScreen(Screen):
    BINDINGS = bindings("plots")

    def __init__(self, where: Predicate, label: str = ""):
        super().__init__()
        self.where = where
        self.label = label

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"plots of: {self.label or 'every trajectory'}", id="plots-title")
        yield VerticalScroll(id="plots")
        yield KeyFooter()

    def on_mount(self) -> None:
        with self.app.store.read() as conn:
            makers = plot_makers(conn, self.where)
        self.query_one("#plots").mount_all([PlotView(make) for make in makers])
