"""The body of the detail screen as one widget: the problem, the numbered thought steps, the solution.

Textual styles every widget of a screen again each time the screen is shown; a Collapsible per
section (four widgets each), a scrolling container and a widget per part cost more to style and lay
out than the rest of opening a trajectory. This is one line-API ScrollView whatever the text: it
renders only the lines on screen, draws the problem and the solution (Markdown, by Rich) once per
width and text, and wraps a step's text once per width.

Items, top to bottom: the problem's title (cursor ``PROBLEM``), the steps (cursor 0..n-1: one line
each while closed, their text under it when open), the solution's title (cursor n). Keys: up/down
(k/j) move between items, enter/space open or close the highlighted one; a click on an item's first
line does the same. Past the first or last item the keys scroll.
"""
from __future__ import annotations

from bisect import bisect_right

from rich.markdown import Markdown
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from still2tui.formatting import cell_text

INDENT = 4
PROBLEM = -1
PENDING = object()  # a section whose text comes later (set_solution): one "…" line meanwhile


class DetailBody(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"detail-body--marker", "detail-body--cursor", "detail-body--text",
                         "detail-body--title", "detail-body--dim", "detail-body--wrong"}
    DEFAULT_CSS = """
    DetailBody { height: 1fr; overflow-x: hidden; scrollbar-gutter: stable; }
    DetailBody > .detail-body--marker { color: $accent; text-style: bold; }
    DetailBody > .detail-body--cursor { background: $boost; }
    DetailBody:focus > .detail-body--cursor { background: $accent 40%; }
    DetailBody > .detail-body--text { color: $text; }
    DetailBody > .detail-body--title { text-style: bold; }
    DetailBody > .detail-body--dim { color: $text-muted; }
    DetailBody > .detail-body--wrong { color: $error; text-style: bold; }
    """
    BINDINGS = [
        Binding("up,k", "move(-1)", "Previous item", show=False),
        Binding("down,j", "move(1)", "Next item", show=False),
        Binding("enter,space", "toggle", "Open/close item", show=False),
    ]

    cursor: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.steps: list[str] = []
        self.expanded: set[int] = set()
        self.problem_open = self.solution_open = True
        self._sections: dict[str, object] = {"problem": None, "solution": None}  # Markdown source, None, PENDING
        self._titles: list[str] = []
        self._wrapped: dict[int, list[str]] = {}  # step -> its text wrapped at _wrap_width
        self._wrap_width = -1
        self._markdown_cache: dict[str, tuple[tuple, list[Strip]]] = {}  # section -> ((text, width), lines)
        self._layout_width = -1
        self._starts: list[int] = []  # first line of each block
        self._blocks: list[tuple[str, object]] = []  # (kind, key) of each block
        self._items: dict[int, tuple[int, int]] = {}  # item -> (first line, lines it spans)
        self._height = 0
        self._styles: tuple | None = None  # (focused, {name: Style})
        self.heat = None  # StepHeat (surprise_view.py): step numbers and, on demand, tokens in surprise colours
        self.first_wrong: int | None = None  # the step labelled as the first wrong one (marked ✗)

    # -- content ----------------------------------------------------------------------------------------
    def show(self, problem: str | None, steps: list[str], expanded: set[int] | None = None,
             solution: object = PENDING) -> None:
        """Show another trajectory, scrolled to the top with the cursor on the first step."""
        self._sections = {"problem": problem, "solution": solution}
        self.steps = steps
        self.heat, self.first_wrong = None, None
        self.expanded = set(expanded or ())
        self.problem_open = self.solution_open = True
        self._titles = [self._title_text(step) for step in steps]
        self._wrapped.clear()
        self._wrap_width = -1
        self.set_reactive(DetailBody.cursor, 0)
        self.scroll_to(y=0, animate=False, immediate=True)
        self._relayout()

    def set_solution(self, solution: str | None) -> None:
        self._sections["solution"] = solution
        self._relayout()

    @property
    def solution_item(self) -> int:
        return len(self.steps)

    @staticmethod
    def _title_text(step: str) -> str:
        stripped = step.strip()
        return stripped.splitlines()[0] if stripped else ""

    # -- layout -----------------------------------------------------------------------------------------
    @property
    def text_width(self) -> int:
        return self.scrollable_content_region.width

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

    def _markdown(self, section: str, width: int) -> list[Strip]:
        source = self._sections[section]
        key = (source, width)
        cached = self._markdown_cache.get(section)
        if cached is not None and cached[0] == key:
            return cached[1]
        if source is PENDING:
            lines = [Strip([Segment("…", self._style("dim"))])]
        else:
            text = source or ("_(no solution)_" if section == "solution" else "(no problem text)")
            inner = max(width - INDENT, 10)
            options = self.app.console_options.update(highlight=False, width=inner, height=None)
            segments = self.app.console.render(Markdown(text), options)
            lines = [Strip(line) for line in Segment.split_and_crop_lines(segments, inner, include_new_lines=False,
                                                                           pad=False)] or [Strip([])]
        self._markdown_cache[section] = (key, lines)
        return lines

    def _layout(self, width: int) -> None:
        if width == self._layout_width:
            return
        starts, blocks, items = [], [], {}
        line = 0
        blank_last = False

        def add(kind: str, key: object, height: int, blank_end: bool = False) -> None:
            nonlocal line, blank_last
            starts.append(line)
            blocks.append((kind, key))
            line += height
            blank_last = blank_end

        def blank() -> None:
            if not blank_last:
                add("blank", None, 1, True)

        items[PROBLEM] = (line, 1 + (len(self._markdown("problem", width)) if self.problem_open else 0))
        add("title", PROBLEM, 1)
        if self.problem_open:
            add("markdown", "problem", len(self._markdown("problem", width)))
        blank()
        for i in range(len(self.steps)):
            height = 1 + (len(self._text_lines(i, width)) + 1 if i in self.expanded else 0)
            items[i] = (line, height)
            add("step", i, height, i in self.expanded)
        if not self.steps:
            add("note", "(no thought)", 1)
        blank()
        solution = len(self._markdown("solution", width)) if self.solution_open else 0
        items[len(self.steps)] = (line, 1 + solution)
        add("title", len(self.steps), 1)
        if self.solution_open:
            add("markdown", "solution", solution)
        self._starts, self._blocks, self._items, self._height = starts, blocks, items, line
        self._layout_width = width

    def _relayout(self) -> None:
        self._layout_width = -1
        width = self.text_width
        if width > 0:
            self._layout(width)
            self.virtual_size = Size(width, self._height)
        self.refresh()

    def on_resize(self) -> None:
        self._relayout()

    def line_of(self, item: int) -> int:
        """The first content line of an item (the problem's title, a step, the solution's title)."""
        self._layout(self.text_width)
        return self._items[item][0]

    def item_at(self, y: int) -> tuple[int | None, int]:
        """(item, line within it: 0 is its title line) of content line ``y``; item None between items."""
        self._layout(self.text_width)
        block = max(0, bisect_right(self._starts, y) - 1)
        kind, key = self._blocks[block]
        if kind in ("title", "step"):
            return key, y - self._starts[block]
        if kind == "markdown":
            item = PROBLEM if key == "problem" else len(self.steps)
            return item, y - self._items[item][0]
        return None, 0

    # -- rendering --------------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        self._styles = None
        self._markdown_cache.clear()  # PENDING's line carries a style
        super().notify_style_update()

    def _style(self, name: str) -> Style:
        """The base style plus a component's ("" none; "cursor marker": the marker under the cursor)."""
        if self._styles is None or self._styles[0] != self.has_focus:
            base = self.rich_style
            part = {name: self.get_component_rich_style(f"detail-body--{name}")
                    for name in ("marker", "cursor", "text", "title", "dim", "wrong")}
            styles = {"": base, **{name: base + style for name, style in part.items()}}
            styles.update({f"cursor {name}": styles["cursor"] + part[name] for name in ("marker", "title", "wrong")})
            self._styles = (self.has_focus, styles)
        return self._styles[1][name]

    def render_line(self, y: int) -> Strip:
        return self.content_line(int(self.scroll_offset.y) + y)

    def content_line(self, line: int) -> Strip:
        """Line ``line`` of the whole content (render_line's ``y`` is relative to the scroll position)."""
        width = self.size.width
        base = self._style("")
        text_width = self.text_width
        self._layout(text_width)
        if line >= self._height or not self._starts:
            return Strip.blank(width, base)
        block = bisect_right(self._starts, line) - 1
        kind, key = self._blocks[block]
        offset = line - self._starts[block]
        pad = base
        if kind == "title" or (kind == "step" and offset == 0):
            segments = self._title_line(kind, key, text_width)
            if key == self.cursor:
                pad = self._style("cursor")
        elif kind == "step":
            heat = self.heat.step_lines(key, self.steps[key].strip(), max(text_width - INDENT, 10), self.app.console,
                                        self._style("text")) if self.heat is not None else None
            if heat is not None:
                segments = [Segment(" " * INDENT, base), *(heat[offset - 1] if offset <= len(heat) else [])]
            else:
                lines = self._text_lines(key, text_width)
                text = lines[offset - 1] if offset <= len(lines) else ""
                segments = [Segment(" " * INDENT + text, self._style("text"))]
        elif kind == "markdown":
            segments = [Segment(" " * INDENT, base), *self._markdown(key, text_width)[offset].apply_style(base)]
        elif kind == "note":
            segments = [Segment(" " * INDENT + key, self._style("dim"))]
        else:
            segments = []
        # One Strip of the exact width (extend + crop would build two more per line)
        used = sum(segment.cell_length for segment in segments)
        if used <= width:
            return Strip([*segments, Segment(" " * (width - used), pad)], width)
        return Strip(segments, used).crop(0, width)

    def _title_line(self, kind: str, item: int, width: int) -> list[Segment]:
        prefix = "cursor " if item == self.cursor else ""
        style, marker = self._style(prefix.strip()), self._style(prefix + "marker")
        if kind == "step":
            arrow = "▼" if item in self.expanded else "▶"
            title = cell_text(self._titles[item], max(width - 8, 1))
            heat = self.heat.number_style(item) if self.heat is not None else None
            number = marker + heat if heat is not None else marker
            if item == self.first_wrong:
                arrow, marker = "✗", self._style(prefix + "wrong")
            return [Segment(f" {arrow} ", marker), Segment(f"{item + 1:>3}. ", number), Segment(title, style)]
        is_open = self.problem_open if item == PROBLEM else self.solution_open
        name = "Problem" if item == PROBLEM else "Solution"
        return [Segment(f" {'▼' if is_open else '▶'} ", marker), Segment(name, self._style(prefix + "title"))]

    def watch_cursor(self) -> None:
        self.refresh()

    # -- actions ----------------------------------------------------------------------------------------
    def set_expanded(self, steps: set[int]) -> None:
        self.expanded = set(steps)
        self._relayout()

    def toggle(self, item: int) -> None:
        if item == PROBLEM:
            self.problem_open = not self.problem_open
        elif item == self.solution_item:
            self.solution_open = not self.solution_open
        else:
            self.expanded ^= {item}
        self._relayout()

    def action_toggle(self) -> None:
        self.toggle(self.cursor)
        self._show_cursor()

    def action_move(self, step: int) -> None:
        target = self.cursor + step
        if not PROBLEM <= target <= self.solution_item:
            (self.scroll_up if step < 0 else self.scroll_down)(animate=False, immediate=True)
            return
        self.cursor = target
        self._show_cursor()

    def _show_cursor(self) -> None:
        """Scroll so that the highlighted item's line shows, and as much of its text as fits."""
        self._layout(self.text_width)
        top, height = self._items[self.cursor]
        view = max(self.scrollable_content_region.height, 1)
        scroll = int(self.scroll_offset.y)
        if top < scroll:
            self.scroll_to(y=top, animate=False, immediate=True)
        elif top + min(height, view) > scroll + view:
            self.scroll_to(y=top + min(height, view) - view, animate=False, immediate=True)

    def go_to_step(self, step: int) -> None:
        """Open a step and put it under the cursor, near the top of the view."""
        self.expanded.add(step)
        self.cursor = step
        self._relayout()
        self.scroll_to(y=max(self.line_of(step) - 1, 0), animate=False, immediate=True)

    def on_click(self, event) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        item, line = self.item_at(int(self.scroll_offset.y) + offset.y)
        if item is None:
            return
        self.cursor = item
        if line == 0:
            self.toggle(item)
