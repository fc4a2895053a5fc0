"""First divergence: two rollouts of a problem, their thought steps aligned side by side in one scroll.

The left side is the correct rollout when exactly one of the two is correct (its differing words in
green, the other's in red). Steps both share show as one dimmed line each; from the first step where
they part ways, each differing row shows both steps in full with a word diff. Both sides live in one
line-API widget, so they scroll together by construction. The screen opens on the first divergence.
Keys: up/down move between rows, f first divergence, n/N next/previous differing block, enter opens
the highlighted row's left rollout in the detail view (shift+enter: the right one), escape back.
"""

from __future__ import annotations

from bisect import bisect_right

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.geometry import Size
from textual.reactive import reactive
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Header, Static

from still2tui.actions import bindings
from still2tui.components.key_footer import KeyFooter
from still2tui.diffing import word_diff
from still2tui.divergence import Alignment, align
from still2tui.formatting import VERDICT_STYLES, cell_text, scorer_name
from store.trajectory_format import parse_response
from store.tui_queries import rollout_texts

GUTTER = 6  # "▶ 123 " before each side's text
MARK = {"same": "=", "changed": "≠", "left": "−", "right": "+"}


class AlignedSteps(ScrollView, can_focus=True):
    """The aligned rows of two step lists; one cursor row; renders only the lines on screen."""

    COMPONENT_CLASSES = {
        "aligned-steps--dim",
        "aligned-steps--cursor",
        "aligned-steps--first",
        "aligned-steps--good",
        "aligned-steps--bad",
        "aligned-steps--rule",
    }
    DEFAULT_CSS = """
    AlignedSteps { height: 1fr; overflow-x: hidden; scrollbar-gutter: stable; }
    AlignedSteps > .aligned-steps--dim { color: $text-muted; }
    AlignedSteps > .aligned-steps--cursor { background: $accent 30%; }
    AlignedSteps:focus > .aligned-steps--cursor { background: $accent 50%; }
    AlignedSteps > .aligned-steps--first { color: $warning; text-style: bold; }
    AlignedSteps > .aligned-steps--good { color: $success; text-style: bold; }
    AlignedSteps > .aligned-steps--bad { color: $error; text-style: bold; }
    AlignedSteps > .aligned-steps--rule { color: $panel-lighten-2; }
    """
    BINDINGS = bindings("aligned_steps")

    cursor: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.left: list[str] = []
        self.right: list[str] = []
        self.alignment = Alignment([])
        self.left_good = True  # colour the left side's own words as the good side's
        self._width = -1
        self._starts: list[int] = []  # first line of each row
        self._lines: dict[int, list[tuple[list[Segment], list[Segment]]]] = {}  # row -> (left, right) per line

    def set_rows(self, left: list[str], right: list[str], alignment: Alignment, left_good: bool) -> None:
        self.left, self.right, self.alignment, self.left_good = left, right, alignment, left_good
        self._width = -1
        self._relayout()

    # -- layout -----------------------------------------------------------------------------------------
    @property
    def side_width(self) -> int:
        return max((self.scrollable_content_region.width - 1) // 2, 12)

    def _height(self, i: int) -> int:
        row = self.alignment.rows[i]
        if row.kind == "same":
            return 1
        return len(self._row_lines(i)) + 1  # a blank line after a differing row

    def _layout(self) -> None:
        width = self.scrollable_content_region.width
        if width == self._width:
            return
        self._width = width
        self._lines.clear()
        starts, line = [], 0
        for i in range(len(self.alignment.rows)):
            starts.append(line)
            line += self._height(i)
        self._starts = starts
        self.virtual_size = Size(width, line)

    def _relayout(self) -> None:
        self._width = -1
        if self.scrollable_content_region.width > 0:
            self._layout()
        self.refresh()

    def on_resize(self) -> None:
        self._relayout()

    def line_of(self, row: int) -> int:
        self._layout()
        return self._starts[row] if self._starts else 0

    def _style(self, name: str) -> Style:
        return self.rich_style + self.get_component_rich_style(f"aligned-steps--{name}")

    def _fg(self, name: str) -> Style:
        """A component's colour and weight without its background (drawn over the row's background)."""
        style = self.get_component_rich_style(f"aligned-steps--{name}")
        return Style(color=style.color, bold=style.bold, italic=style.italic)

    def _row_lines(self, i: int) -> list[tuple[list[Segment], list[Segment]]]:
        """The wrapped (left, right) text lines of a differing row, word-diffed (cached per width)."""
        got = self._lines.get(i)
        if got is not None:
            return got
        row = self.alignment.rows[i]
        text_a = self.left[row.a] if row.a is not None else ""
        text_b = self.right[row.b] if row.b is not None else ""
        good, bad = self._fg("good"), self._fg("bad")
        left_style, right_style = (good, bad) if self.left_good else (bad, good)
        if row.kind == "changed":
            a, b = word_diff(text_a, text_b, removed=left_style, added=right_style)
        else:  # a step on one side only: its colour, not bold (whole paragraphs)
            a = Text(text_a, style=Style(color=left_style.color) if text_a else "")
            b = Text(text_b, style=Style(color=right_style.color) if text_b else "")
        inner = max(self.side_width - GUTTER, 6)
        console = self.app.console
        wrap_a = [_segments(line, console) for line in a.wrap(console, inner)] if text_a else []
        wrap_b = [_segments(line, console) for line in b.wrap(console, inner)] if text_b else []
        height = max(len(wrap_a), len(wrap_b), 1)
        lines = [
            (list(wrap_a[k]) if k < len(wrap_a) else [], list(wrap_b[k]) if k < len(wrap_b) else [])
            for k in range(height)
        ]
        self._lines[i] = lines
        return lines

    # -- rendering --------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        self._layout()
        width = self.size.width
        base = self.rich_style
        line = int(self.scroll_offset.y) + y
        rows = self.alignment.rows
        if not rows or line >= self.virtual_size.height:
            return Strip.blank(width, base)
        i = bisect_right(self._starts, line) - 1
        offset = line - self._starts[i]
        row = rows[i]
        side = self.side_width
        # the cursor row is marked in its gutters only: the text keeps its colours on the plain background
        pad, mark = base, self._style("cursor") if i == self.cursor else base
        if row.kind == "same":
            dim = self._fg("dim")
            left = [Segment(cell_text(normal_space(self.left[row.a]), side - GUTTER), dim)]
            right = [Segment(cell_text(normal_space(self.right[row.b]), side - GUTTER), dim)]
        else:
            lines = self._row_lines(i)
            if offset >= len(lines):
                return Strip.blank(width, base)
            left, right = lines[offset]
        left, right = list(Segment.apply_style(left, pad)), list(Segment.apply_style(right, pad))
        first = i == self.alignment.first_divergence
        segments = [*self._gutter(row, row.a, offset, first, mark), *left]
        segments = _fit(segments, side, pad)
        segments += [Segment("│", self._style("rule"))]
        segments += _fit([*self._gutter(row, row.b, offset, first, mark), *right], width - side - 1, pad)
        return Strip(segments, width)

    def _gutter(self, row, step: int | None, offset: int, first: bool, pad: Style) -> list[Segment]:
        if offset or step is None:
            return [Segment(" " * GUTTER, pad)]
        marker = "▶" if first else MARK[row.kind] if row.kind != "same" else " "
        style = self._style("first") + pad if first else pad
        return [Segment(f"{marker}{step + 1:>4} ", style)]

    def watch_cursor(self) -> None:
        self.refresh()

    # -- moving -----------------------------------------------------------------------------------------
    def go(self, row: int, top: bool = False) -> None:
        if not self.alignment.rows:
            return
        self.cursor = max(0, min(row, len(self.alignment.rows) - 1))
        self._layout()
        start = self._starts[self.cursor]
        height = self._height(self.cursor)
        view = max(self.scrollable_content_region.height, 1)
        scroll = int(self.scroll_offset.y)
        if top or start < scroll:
            self.scroll_to(y=max(start - (2 if top else 0), 0), animate=False, immediate=True)
        elif start + min(height, view) > scroll + view:
            self.scroll_to(y=start + min(height, view) - view, animate=False, immediate=True)

    def action_move(self, step: int) -> None:
        self.go(self.cursor + step)


def _segments(line: Text, console) -> list[Segment]:
    """A rendered line of Text with its own base style under its spans (Text.render leaves it out)."""
    return list(Segment.apply_style(line.render(console), console.get_style(line.style) if line.style else None))


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def model_name(model: str | None) -> str:
    """A model's name for a title line (models are often cache folders: formatting.scorer_name)."""
    return scorer_name(model) if model else "model unknown"


def normal_space(text: str) -> str:
    return " ".join(text.split())


def _fit(segments: list[Segment], width: int, pad: Style) -> list[Segment]:
    used = sum(s.cell_length for s in segments)
    if used < width:
        return [*segments, Segment(" " * (width - used), pad)]
    return list(Segment.adjust_line_length(segments, width, pad))


class DivergenceScreen(Screen):
    BINDINGS = bindings("divergence")
    HELP = "Divergence: f first divergence, n/N next/previous difference, enter open left, o open right"

    def __init__(self, first_id: str, second_id: str):
        super().__init__()
        self.ids = (first_id, second_id)
        self.alignment = Alignment([])

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="divergence-title")
        yield AlignedSteps(id="aligned")
        yield KeyFooter()

    @property
    def steps_view(self) -> AlignedSteps:
        return self.query_one(AlignedSteps)

    def on_mount(self) -> None:
        with self.app.store.read() as conn:
            rows = {r["id"]: r for r in rollout_texts(conn, list(self.ids))}
        missing = [i for i in self.ids if i not in rows]
        if missing:
            self.query_one("#divergence-title", Static).update(f"not found: {', '.join(missing)}")
            return
        a, b = rows[self.ids[0]], rows[self.ids[1]]
        if a["verdict"] != "correct" and b["verdict"] == "correct":
            a, b = b, a  # the correct rollout on the left
        self.ids = (a["id"], b["id"])
        self.sub_title = f"{a['id']} vs {b['id']}"
        left, right = parse_response(a["text"] or "").steps, parse_response(b["text"] or "").steps
        self.alignment = align(left, right)
        self.steps_view.set_rows(left, right, self.alignment, left_good=a["verdict"] == "correct")
        self.query_one("#divergence-title", Static).update(self._title(a, b, left, right))
        self.steps_view.focus()
        self.call_after_refresh(self.action_first)

    def _title(self, a: dict, b: dict, left: list[str], right: list[str]) -> Text:
        def side(r: dict, steps: list[str]) -> Text:
            colour = VERDICT_STYLES.get(r["verdict"], "yellow")
            return Text.assemble(
                (r["id"], "bold"),
                " ",
                (r["verdict"], colour),
                f" · {_count(len(steps), 'step')} · {model_name(r['model'])}",
            )

        first = self.alignment.first_divergence
        rows = self.alignment.rows
        if a["problem_id"] != b["problem_id"]:
            where = Text("different problems: the alignment compares unrelated traces", style="yellow")
        elif first is None:
            where = Text(f"the thoughts are the same step for step ({_count(len(rows), 'step')})")
        else:
            row = rows[first]
            at = " / ".join(f"{name} step {s + 1}" for name, s in (("left", row.a), ("right", row.b)) if s is not None)
            same = sum(r.kind == "same" for r in rows)
            shared = self.alignment.shared_prefix
            lead = (
                f"{_count(shared, 'shared step')}, then they part ways at "
                if shared
                else "they differ from the start: "
            )
            where = Text.assemble(
                lead,
                (at, "bold"),
                f" · {same} of {len(rows)} rows the same step · "
                f"{_count(len(self.alignment.blocks()), 'place')} they differ (n/N)",
            )
        return Text("left  ") + side(a, left) + Text("\nright ") + side(b, right) + Text("\n") + where

    def action_first(self) -> None:
        first = self.alignment.first_divergence
        self.steps_view.go(first if first is not None else 0, top=True)

    def action_block(self, direction: int) -> None:
        blocks = self.alignment.blocks()
        at = self.steps_view.cursor
        later = [b for b in blocks if (b > at if direction > 0 else b < at)]
        if later:
            self.steps_view.go(later[0] if direction > 0 else later[-1], top=True)
        else:
            self.notify("no further difference" if direction > 0 else "no earlier difference", timeout=2)

    def action_open(self, side: int) -> None:
        self.app.open_detail(self.ids[side])

    def action_back(self) -> None:
        self.app.pop_screen()
