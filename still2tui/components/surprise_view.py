"""How per-token surprise looks in the detail view: heat colours, the step strip, the steps ranking.

``StepHeat`` is what the detail body asks while drawing: the colour of a step's number (its mean NLL)
and, with tokens on (``h``), the step's text with every token on its own colour. ``SurpriseStrip`` is
one line above the body: each step's mean NLL as a coloured bar, the peak step (highest mean NLL) and the
spike: the step that raises the response's perplexity most, which is what STILL-2's perplexity selection
reacts to (the perplexity with and without it). ``SurpriseRanking``
lists the steps sorted by surprise; enter jumps to one.

The colour scale is absolute (nats per token), so two traces read alike: below 0.5 nats no colour,
then pale yellow to dark red from 6 nats up (ours).
"""

from __future__ import annotations

import math

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from still2tui.components.virtual_table import VirtualTable
from still2tui.sources import Column, RowsSource
from still2tui.surprise import StepSurprise

# (lowest NLL in nats, background, foreground)
HEAT = [
    (0.5, "#fff3b0", "#000000"),
    (1.0, "#ffd166", "#000000"),
    (2.0, "#f8961e", "#000000"),
    (3.0, "#f3722c", "#000000"),
    (4.0, "#e63946", "#ffffff"),
    (6.0, "#9d0208", "#ffffff"),
]
_STYLES = [Style(bgcolor=Color.parse(bg), color=Color.parse(fg)) for _, bg, fg in HEAT]
_BARS = " ▁▂▃▄▅▆▇█"
BAR_TOP = 4.0  # nats at which the strip's bar is full
MIN_BARS = 12  # cells the strip's bars keep at least


def heat_style(nll: float) -> Style | None:
    if nll is None or math.isnan(nll):
        return None
    level = next((i for i in range(len(HEAT) - 1, -1, -1) if nll >= HEAT[i][0]), None)
    return None if level is None else _STYLES[level]


def bar(nll: float) -> str:
    if math.isnan(nll):
        return " "
    return _BARS[min(len(_BARS) - 1, max(1, round(nll / BAR_TOP * (len(_BARS) - 1))))]


class StepHeat:
    """The surprise of one trajectory's steps, as the detail body draws it."""

    def __init__(self, surprise: StepSurprise):
        self.surprise = surprise
        self.tokens_on = False
        self._lines: dict[tuple[int, int], list[list[Segment]]] = {}

    def number_style(self, step: int) -> Style | None:
        return heat_style(self.surprise.mean[step]) if step < self.surprise.n_steps else None

    def step_lines(self, step: int, text: str, width: int, console, base: Style) -> list[list[Segment]] | None:
        """The step's text wrapped at ``width`` with each token on its heat colour (None: tokens off)."""
        if not self.tokens_on or step >= self.surprise.n_steps:
            return None
        key = (step, width)
        got = self._lines.get(key)
        if got is None:
            styled = Text(text, style=base)
            for start, end, nll in self.surprise.token_spans(step):
                style = heat_style(nll)
                if style is not None and end > start:
                    styled.stylize(style, start, end)
            got = [list(Segment.apply_style(line.render(console), base)) for line in styled.wrap(console, width)] or [
                []
            ]
            self._lines[key] = got
        return got


class SurpriseStrip(Static):
    """Above the steps: per-step mean NLL bars (bucketed to the width), the peak and spike steps, keys;
    and, after ``still2 metrics``, where the correct answer first appears and what follows it."""

    DEFAULT_CSS = "SurpriseStrip { height: auto; padding: 0 1; }"

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.surprise: StepSurprise | None = None
        self.message = ""
        self.metrics: dict | None = None

    def show_surprise(self, surprise: StepSurprise | None, message: str = "", metrics: dict | None = None) -> None:
        self.surprise, self.message, self.metrics = surprise, message, metrics
        self.display = surprise is not None or bool(message) or metrics is not None
        self.refresh(layout=True)

    def render(self) -> Text:
        lines = [line for line in (self._surprise_line(), self._metrics_line()) if line is not None]
        return Text("\n").join(lines)

    def _metrics_line(self) -> Text | None:
        m = self.metrics
        if m is None:
            return None
        width = max(self.size.width, 20)  # size: the content, inside the padding
        counts = ", ".join(f"{k} {n}" for k, n in sorted(m["recheck_counts"].items(), key=lambda kv: -kv[1]))
        head = Text("overthinking ", style="bold")
        if m["first_correct_step"] is None:
            variants = [
                Text("the correct answer never appears in the thought · ") + self._rechecks(m, counts),
                Text("correct answer not in the thought · ") + self._rechecks(m, ""),
            ]
        else:
            after = (
                f"{m['tokens_after_correct']:,} tokens"
                if m["tokens_after_correct"] is not None
                else f"{m['chars_after_correct']:,} chars"
                if m["chars_after_correct"] is not None
                else "? chars"
            )
            step = (f"step {m['first_correct_step'] + 1}", "bold")
            how = f" ({m['first_correct_how']})" if m["first_correct_how"] else ""
            variants = [
                Text.assemble(
                    "correct answer first at ",
                    step,
                    f"{how} · ",
                    (after, "bold"),
                    " of thought after it · ",
                    self._rechecks(m, counts),
                    (" · = jumps there", "dim"),
                ),
                Text.assemble(
                    "correct answer at ",
                    step,
                    f"{how} · ",
                    (after, "bold"),
                    " after it · ",
                    self._rechecks(m, counts),
                    (" · =", "dim"),
                ),
                Text.assemble(
                    "correct answer at ",
                    step,
                    " · ",
                    (after, "bold"),
                    " after it · ",
                    self._rechecks(m, ""),
                    (" · =", "dim"),
                ),
            ]
        fitting = next((v for v in variants if head.cell_len + v.cell_len <= width), variants[-1])
        return head + fitting

    @staticmethod
    def _rechecks(m: dict, counts: str) -> Text:
        return Text(f"{m['rechecks']} re-checks" + (f" ({counts})" if counts else ""))

    def _surprise_line(self) -> Text | None:
        s = self.surprise
        if s is None:
            return Text(self.message, style="dim") if self.message else None
        peak, spike = s.peak(), s.spike()
        width = max(self.size.width, 20)  # size: the content, inside the padding
        head = Text.assemble(("surprise ", "bold"), f"{s.mean_nll:.2f} nats/tok ")
        # what follows the bars, most wanted first, each as its longest form that leaves the bars MIN_BARS cells
        parts = []
        if peak is not None:
            parts.append([Text(f" peak step {peak + 1} {s.mean[peak]:.1f}", style="bold")])
        if spike is not None:
            parts.append(
                [
                    Text(f" · spike step {spike + 1}: ppl {s.ppl:.2f}, {s.ppl_without()[spike]:.2f} without it"),
                    Text(f" · spike step {spike + 1}"),
                ]
            )
        parts.append([Text(f" · {s.tokens.n_tokens:,} tokens ({s.part})", style="dim")])
        parts.append([Text(" · ! peak, spike · h tokens · S ranking", style="dim")])
        tail = Text()
        for forms in parts:
            part = next((f for f in forms if head.cell_len + tail.cell_len + f.cell_len + MIN_BARS <= width), None)
            if part is not None:
                tail.append_text(part)
        return head + self._bars(width - head.cell_len - tail.cell_len) + tail

    def _bars(self, width: int) -> Text:
        means = self.surprise.mean
        n = len(means)
        if n == 0:
            return Text("(no steps)", style="dim")
        buckets = min(n, width)
        out = Text()
        for b in range(buckets):
            lo, hi = b * n // buckets, max((b + 1) * n // buckets, b * n // buckets + 1)
            chunk = means[lo:hi]
            value = float(max((v for v in chunk if not math.isnan(v)), default=float("nan")))
            style = heat_style(value)
            out.append(bar(value), style=Style(color=style.bgcolor) if style else "dim")
        return out


RANKING_COLUMNS = [
    Column("step", "step", 5, "", 1, numeric=True),
    Column("mean", "nats/tok", 8, "", 1, numeric=True),
    Column("share", "NLL share", 9, "", 2, numeric=True),
    Column("adds", "+ppl", 7, "", 2, numeric=True),
    Column("tokens", "tokens", 6, "", 3, numeric=True),
    Column("text", "text", 20, "", 1, flex=True),
]


class SurpriseRanking(ModalScreen[int | None]):
    """The steps sorted by mean surprise; enter returns the chosen step, escape nothing."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]
    DEFAULT_CSS = """
    SurpriseRanking { align: center middle; }
    SurpriseRanking > #ranking-box { width: 90%; height: 80%; border: thick $accent; background: $surface; }
    """

    def __init__(self, surprise: StepSurprise, steps: list[str]):
        super().__init__()
        rows = []
        without = surprise.ppl_without()
        for i in surprise.ranking():
            first, end = surprise.token_ranges[i]
            rows.append(
                (
                    str(i),
                    i + 1,
                    round(float(surprise.mean[i]), 2) if not math.isnan(surprise.mean[i]) else None,
                    f"{surprise.share[i]:.1%}",
                    float(surprise.ppl - without[i]),
                    end - first,
                    " ".join(steps[i].split())[:300],
                )
            )
        self.source = RowsSource(rows, RANKING_COLUMNS)
        self.ppl = surprise.ppl

    def compose(self) -> ComposeResult:
        from textual.containers import Vertical

        with Vertical(id="ranking-box"):
            yield Static(
                f"steps by mean NLL per token · +ppl: what the step adds to the response's perplexity "
                f"({self.ppl:.3f}) · enter jumps · escape"
            )
            yield VirtualTable(self.source, id="ranking")

    def on_mount(self) -> None:
        table = self.query_one(VirtualTable)
        table.reload()
        table.focus()

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        event.stop()
        self.dismiss(int(event.key))
