"""The numbered thought steps as one widget: a line per step, the text of the expanded ones under it
(and a blank line after it).

A Collapsible per step cost several widgets to mount and style each, so a long thought took most of the
detail screen's first frame. This widget is one node whatever the number of steps; it renders only the
lines on screen (Textual's line API) and wraps the text of an expanded step once per width.

Keys: up/down (k/j) move between steps, enter/space expand or collapse the highlighted one; a click on
a step's line does the same. Past the first or last step the keys scroll the container instead.
"""
from __future__ import annotations

from bisect import bisect_right

from rich.segment import Segment
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from still2tui.formatting import cell_text

INDENT = 4


class StepList(Widget, can_focus=True):
    COMPONENT_CLASSES = {"step-list--marker", "step-list--cursor", "step-list--text"}
    DEFAULT_CSS = """
    StepList { height: auto; }
    StepList > .step-list--marker { color: $accent; text-style: bold; }
    StepList > .step-list--cursor { background: $boost; }
    StepList:focus > .step-list--cursor { background: $accent 40%; }
    StepList > .step-list--text { color: $text; }
    """
    BINDINGS = [
        Binding("up,k", "move(-1)", "Previous step", show=False),
        Binding("down,j", "move(1)", "Next step", show=False),
        Binding("enter,space", "toggle", "Expand/collapse step", show=False),
    ]

    cursor: reactive[int] = reactive(0)

    def __init__(self, steps: list[str], expanded: set[int] | None = None, *, id: str | None = None):
        super().__init__(id=id)
        self._wrapped: dict[int, list[str]] = {}  # step -> its text wrapped at _wrap_width
        self._starts: list[int] = []  # first line of each step at _layout_width
        self._set(steps, expanded)

    def _set(self, steps: list[str], expanded: set[int] | None) -> None:
        self.steps = steps
        self.expanded: set[int] = set(expanded or ())
        self._titles = [self._title_text(step) for step in steps]
        self._wrapped.clear()
        self._wrap_width = self._layout_width = -1
        self._starts = []

    def show(self, steps: list[str], expanded: set[int] | None = None) -> None:
        """Replace the steps (another trajectory); the cursor goes back to the first one."""
        self._set(steps, expanded)
        self.cursor = 0
        self.refresh(layout=True)

    @staticmethod
    def _title_text(step: str) -> str:
        stripped = step.strip()
        return stripped.splitlines()[0] if stripped else ""

    # -- layout -----------------------------------------------------------------------------------------
    def _text_lines(self, step: int, width: int) -> list[str]:
        if width != self._wrap_width:
            self._wrapped.clear()
            self._wrap_width = width
        lines = self._wrapped.get(step)
        if lines is None:
            text = Text(self.steps[step].strip(), no_wrap=False)
            lines = [line.plain for line in text.wrap(self.app.console, max(width - INDENT, 10))] or [""]
            self._wrapped[step] = lines
        return lines

    def _line_starts(self, width: int) -> list[int]:
        if width != self._layout_width:
            starts, line = [], 0
            for i in range(len(self.steps)):
                starts.append(line)
                line += 1 + (len(self._text_lines(i, width)) + 1 if i in self.expanded else 0)
            self._starts, self._layout_width = starts, width
            self._height = line
        return self._starts

    def _relayout(self) -> None:
        self._layout_width = -1
        self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._line_starts(width)
        return self._height if self.steps else 0

    _height = 0

    def step_at(self, y: int) -> tuple[int, int]:
        """(step, line within it: 0 is the step's own line) of content line ``y``."""
        starts = self._line_starts(self.size.width)
        step = max(0, bisect_right(starts, y) - 1)
        return step, y - starts[step]

    # -- rendering --------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        self._line_starts(width)
        if not self.steps or y >= self._height:
            return Strip.blank(width, base)
        step, line = self.step_at(y)
        if line == 0:
            style = base
            if step == self.cursor:
                style = base + self.get_component_rich_style("step-list--cursor")
            marker = self.get_component_rich_style("step-list--marker")
            arrow = "▼" if step in self.expanded else "▶"
            title = cell_text(self._titles[step], max(width - 8, 1))
            segments = [Segment(f" {arrow} ", style + marker), Segment(f"{step + 1:>3}. ", style + marker),
                        Segment(title, style)]
            return Strip(segments).extend_cell_length(width, style).crop(0, width)
        lines = self._text_lines(step, width)
        text = lines[line - 1] if line <= len(lines) else ""
        style = base + self.get_component_rich_style("step-list--text")
        return Strip([Segment(" " * INDENT + text, style)]).extend_cell_length(width, base).crop(0, width)

    def watch_cursor(self) -> None:
        self.refresh()

    # -- actions ----------------------------------------------------------------------------------------
    def set_expanded(self, steps: set[int]) -> None:
        self.expanded = set(steps)
        self._relayout()

    def toggle(self, step: int) -> None:
        self.expanded ^= {step}
        self._relayout()

    def action_toggle(self) -> None:
        if self.steps:
            self.toggle(self.cursor)
            self.call_after_refresh(self._show_cursor)

    def action_move(self, step: int) -> None:
        target = self.cursor + step
        if not self.steps or not 0 <= target < len(self.steps):
            container = self.parent
            if isinstance(container, Widget) and container.allow_vertical_scroll:
                (container.scroll_up if step < 0 else container.scroll_down)(animate=False)
            return
        self.cursor = target
        self._show_cursor()

    def _show_cursor(self) -> None:
        container = self.parent
        if not isinstance(container, Widget) or not self.steps:
            return
        starts = self._line_starts(self.size.width)
        top = self.virtual_region.y + starts[self.cursor]
        height = 1 + (len(self._text_lines(self.cursor, self.size.width)) + 1 if self.cursor in self.expanded else 0)
        height = min(height, max(container.scrollable_content_region.height, 1))
        container.scroll_to_region(Region(0, top, 1, height), animate=False, immediate=True)

    def on_click(self, event) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self.steps or offset.y >= self._height:
            return
        step, line = self.step_at(offset.y)
        self.cursor = step
        if line == 0:
            self.toggle(step)
