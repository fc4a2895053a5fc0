"""Terminal plots (plotext) rendered to Rich Text: histograms and accuracy per iteration."""

from __future__ import annotations

import plotext as plt
from rich.text import Text


def _render(width: int, height: int, title: str, draw) -> Text:
    plt.clf()
    plt.theme("clear")  # no background colour: readable on dark and light terminals
    plt.limitsize(False, False)  # plotext would clamp to its idea of the terminal size, not the widget's
    plt.plotsize(max(width, 30), max(height, 8))
    plt.title(title)
    draw()
    return Text.from_ansi(plt.build())


def tick(value: float) -> str:
    """A bin start as a tick label: 3,190 rather than 3.19e+03."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def histogram(bins: list[tuple[float, int]], title: str, width: int = 70, height: int = 14) -> Text:
    """Bars at positions 0..n-1 with every k-th bin start as a tick, k chosen so the labels fit. (Bars over
    string labels let plotext pick the ticks itself, differently in each process: it goes through a set.)"""
    if not bins:
        return Text(f"{title}: no values")
    labels = [tick(start) for start, _ in bins]
    counts = [n for _, n in bins]
    xs = list(range(len(bins)))
    fit = max(1, (max(width, 30) - 10) // (max(map(len, labels)) + 2))
    step = -(-len(bins) // fit)

    def draw() -> None:
        plt.bar(xs, counts, color="blue", width=0.8)
        plt.xticks(xs[::step], labels[::step])

    return _render(width, height, title, draw)


def accuracy(rows: list[tuple], title: str = "accuracy per iteration", width: int = 70, height: int = 12) -> Text:
    """``rows``: (iteration or None, accuracy, count)."""
    rows = [r for r in rows if r[0] is not None]
    if not rows:
        return Text(f"{title}: no iterations (imported rows have none)")
    xs = [int(r[0]) for r in rows]
    ys = [100 * float(r[1]) for r in rows]

    def draw() -> None:
        plt.plot(xs, ys, marker="dot", color="green")
        plt.xticks(xs)
        plt.ylim(0, 100)

    return _render(width, height, title, draw)
