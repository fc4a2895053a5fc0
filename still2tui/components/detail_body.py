"""The body of the detail screen as one widget: the problem, the numbered thought steps, the solution.

Textual styles every widget of a screen again each time the screen is shown; a Collapsible per
section (four widgets each), a scrolling container and a widget per part cost more to style and lay
out than the rest of opening a trajectory. This is one line-API ScrollView whatever the text: it
renders only the lines on screen, draws the problem and the solution (Markdown, by Rich) once per
width and text, and wraps a step's text once per width.

Items, top to bottom: the problem's title (cursor ``PROBLEM``), the steps (cursor 0..n-1: one line
each while closed, their whole text from that line on when open, so no line shows twice), the
solution's title (cursor n). Keys: up/down (k/j) move between items, enter/space open or close the
highlighted one; a click on an item's first line does the same. Past the first or last item the keys
scroll. Opening or closing steps keeps the highlighted item where it is on the screen.

Reading aids: math shown as Unicode (latex.py; ``latex = False`` shows the text as written),
``find`` (every step holding a word, each opened on the way; its lines highlighted, the current hit
more strongly), ``highlight`` (the words of the search that brought the user here).

Decorations: a line's segments pass through ``self.decorators`` (callables ``(item, line_text,
segments) -> segments``) after the built-in highlighting, so another view (a per-token heatmap, a
contamination span) can colour the body without rewriting it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Callable

from rich.markdown import Markdown
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from still2tui.actions import bindings
from still2tui.formatting import cell_text
from still2tui.latex import markdown_source, to_unicode

INDENT = 4
TITLE = 8  # columns before a step's text on its first line (" ▶ 123. ")
TITLE_CHARS = 600  # characters of a step read for its closed line (wider than any terminal)
PROBLEM = -1
PENDING = object()  # a section whose text comes later (set_solution): one "…" line meanwhile

Decorator = Callable[[int | None, str, list[Segment]], list[Segment]]


class DetailBody(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {
        "detail-body--marker",
        "detail-body--cursor",
        "detail-body--text",
        "detail-body--title",
        "detail-body--dim",
        "detail-body--hit",
        "detail-body--current-hit",
        "detail-body--wrong",
    }
    DEFAULT_CSS = """
    DetailBody { height: 1fr; overflow-x: hidden; scrollbar-gutter: stable; }
    DetailBody > .detail-body--marker { color: $accent; text-style: bold; }
    DetailBody > .detail-body--cursor { background: $boost; }
    DetailBody:focus > .detail-body--cursor { background: $accent 40%; }
    DetailBody > .detail-body--text { color: $text; }
    DetailBody > .detail-body--title { text-style: bold; }
    DetailBody > .detail-body--dim { color: $text-muted; }
    DetailBody > .detail-body--hit { background: $warning 40%; }
    DetailBody > .detail-body--current-hit { background: $warning; color: $background; text-style: bold; }
    DetailBody > .detail-body--wrong { color: $error; text-style: bold; }
    """
    BINDINGS = bindings("steps")

    cursor: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.steps: list[str] = []
        self.expanded: set[int] = set()
        self.problem_open = self.solution_open = True
        self.latex = True  # math as Unicode (False: the text as written)
        self.decorators: list[Decorator] = []
        self.heat = None  # StepHeat (surprise_view.py): step numbers and, on demand, tokens in surprise colours
        self.first_wrong: int | None = None  # the step labelled as the first wrong one (marked ✗)
        self._sections: dict[str, object] = {"problem": None, "solution": None}  # Markdown source, None, PENDING
        self._titles: dict[int, str] = {}  # step -> its closed line (as shown), made when first drawn
        self._wrapped: dict[int, list[str]] = {}  # step -> its text wrapped at _wrap_width
        self._wrap_width = -1
        self._wrap_raw = False  # the wrapped lines are of the text as written (tokens coloured by surprise)
        self._markdown_cache: dict[str, tuple[tuple, list[Strip]]] = {}  # section -> ((text, width), lines)
        self._layout_width = -1
        self._starts: list[int] = []  # first line of each block
        self._blocks: list[tuple[str, object]] = []  # (kind, key) of each block
        self._items: dict[int, tuple[int, int]] = {}  # item -> (first line, lines it spans)
        self._height = 0
        self._styles: tuple | None = None  # (focused, {name: Style})
        self._highlight: re.Pattern | None = None  # words highlighted (find, or the search that led here)
        self.hits: list[int] = []  # items holding the find/highlight words, in order
        self.hit: int | None = None  # the item of the current hit
        self.hit_line: int | None = None  # the content line of the current hit

    # -- content ----------------------------------------------------------------------------------------
    def show(
        self, problem: str | None, steps: list[str], expanded: set[int] | None = None, solution: object = PENDING
    ) -> None:
        """Show another trajectory, scrolled to the top with the cursor on the first step."""
        self._sections = {"problem": problem, "solution": solution}
        self.steps = steps
        self.expanded = set(expanded or ())
        self.problem_open = self.solution_open = True
        self._titles.clear()
        self._wrapped.clear()
        self._wrap_width = -1
        self._highlight, self.hits, self.hit, self.hit_line = None, [], None, None
        self.heat, self.first_wrong = None, None
        self.set_reactive(DetailBody.cursor, 0)
        self.scroll_to(y=0, animate=False, immediate=True)
        self._relayout()

    def set_solution(self, solution: str | None) -> None:
        self._sections["solution"] = solution
        self._relayout()

    def set_latex(self, on: bool) -> None:
        """Math as Unicode, or the text exactly as written."""
        self.latex = on
        self._titles.clear()
        self._wrapped.clear()
        self._markdown_cache.clear()
        self._relayout(keep=self.cursor)

    @property
    def solution_item(self) -> int:
        return len(self.steps)

    @property
    def _tokens_on(self) -> bool:
        return self.heat is not None and getattr(self.heat, "tokens_on", False)

    def _shown(self, text: str) -> str:
        return to_unicode(text) if self.latex and not self._tokens_on else text  # token colours need the raw text

    def title_text(self, step: int) -> str:
        """A closed step's line: the start of its text on one line (a step that opens with ``\\[`` or a
        short lead-in shows the formula after it, not the delimiter alone)."""
        title = self._titles.get(step)
        if title is None:
            title = self._shown(" ".join(self.steps[step][:TITLE_CHARS].split()))
            self._titles[step] = title
        return title

    def step_text(self, step: int) -> str:
        """A step's text as shown (math converted unless raw)."""
        return self._shown(self.steps[step].strip())

    # -- layout -----------------------------------------------------------------------------------------
    @property
    def text_width(self) -> int:
        return self.scrollable_content_region.width

    def _text_lines(self, step: int, width: int) -> list[str]:
        """An open step's lines: its text wrapped to follow the step's number (the first on the title line)."""
        if width != self._wrap_width or self._wrap_raw != self._tokens_on:
            self._wrapped.clear()
            self._titles.clear()
            self._wrap_width, self._wrap_raw = width, self._tokens_on
        lines = self._wrapped.get(step)
        if lines is None:
            text = Text(self.step_text(step), no_wrap=False)
            lines = [line.plain for line in text.wrap(self.app.console, max(width - TITLE, 10))] or [""]
            self._wrapped[step] = lines
        return lines

    def _markdown(self, section: str, width: int) -> list[Strip]:
        source = self._sections[section]
        key = (source, width, self.latex)
        cached = self._markdown_cache.get(section)
        if cached is not None and cached[0] == key:
            return cached[1]
        if source is PENDING:
            lines = [Strip([Segment("…", self._style("dim"))])]
        else:
            text = (
                markdown_source(source, self.latex)
                if source
                else ("_(no solution)_" if section == "solution" else "(no problem text)")
            )
            inner = max(width - INDENT, 10)
            options = self.app.console_options.update(highlight=False, width=inner, height=None)
            segments = self.app.console.render(Markdown(text), options)
            lines = [
                Strip(line)
                for line in Segment.split_and_crop_lines(segments, inner, include_new_lines=False, pad=False)
            ] or [Strip([])]
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
            height = len(self._text_lines(i, width)) + 1 if i in self.expanded else 1
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

    def _relayout(self, keep: int | None = None) -> None:
        """Lay the content out again; ``keep``: an item whose line stays where it is on the screen."""
        before = None
        if keep is not None and self._items.get(keep) is not None and self._layout_width > 0:
            before = self._items[keep][0] - int(self.scroll_offset.y)
        self._layout_width = -1
        width = self.text_width
        if width > 0:
            self._layout(width)
            self.virtual_size = Size(width, self._height)
            if before is not None and keep in self._items:
                self.scroll_to(y=max(0, self._items[keep][0] - before), animate=False, immediate=True)
        self.refresh()

    def on_resize(self) -> None:
        self._relayout(keep=self.cursor)

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
            part = {
                name: self.get_component_rich_style(f"detail-body--{name}")
                for name in ("marker", "cursor", "text", "title", "dim", "hit", "current-hit", "wrong")
            }
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
        item: int | None = None
        if kind == "title" or (kind == "step" and offset == 0):
            item = key
            segments = self._title_line(kind, key, text_width)
            if key == self.cursor:
                pad = self._style("cursor")
        elif kind == "step":
            item = key
            heat = self._heat_lines(key, text_width)
            if heat is not None:
                segments = [Segment(" " * TITLE, base), *(heat[offset] if offset < len(heat) else [])]
            else:
                lines = self._text_lines(key, text_width)
                text = lines[offset] if offset < len(lines) else ""
                segments = [Segment(" " * TITLE + text, self._style("text"))] if text else []
        elif kind == "markdown":
            item = PROBLEM if key == "problem" else len(self.steps)
            segments = [Segment(" " * INDENT, base), *self._markdown(key, text_width)[offset].apply_style(base)]
        elif kind == "note":
            segments = [Segment(" " * INDENT + key, self._style("dim"))]
        else:
            segments = []
        if self._highlight is not None and segments:
            segments = self._highlighted(segments, "current-hit" if line == self.hit_line else "hit")
        for decorate in self.decorators:
            segments = decorate(item, "".join(s.text for s in segments), segments)
        # One Strip of the exact width (extend + crop would build two more per line)
        used = sum(segment.cell_length for segment in segments)
        if used <= width:
            return Strip([*segments, Segment(" " * (width - used), pad)], width)
        return Strip(segments, used).crop(0, width)

    def _highlighted(self, segments: list[Segment], kind: str) -> list[Segment]:
        plain = "".join(s.text for s in segments)
        spans = [m.span() for m in self._highlight.finditer(plain)]
        if not spans:
            return segments
        cuts = sorted({c for span in spans for c in span})
        style = self._style(kind)
        out, pos = [], 0
        for part in Segment.divide(segments, cuts + [len(plain)]):
            for segment in part:
                start = pos
                pos += len(segment.text)
                inside = any(a <= start < b for a, b in spans)
                out.append(Segment(segment.text, (segment.style or Style()) + style) if inside else segment)
        return out

    def _heat_lines(self, step: int, width: int) -> list[list[Segment]] | None:
        """An open step's lines with each token in its surprise colour (None: tokens not shown)."""
        if self.heat is None:
            return None
        self._text_lines(step, width)  # the same wrapping (and the caches reset when the mode changes)
        return self.heat.step_lines(
            step, self.steps[step].strip(), max(width - TITLE, 10), self.app.console, self._style("text")
        )

    def _title_line(self, kind: str, item: int, width: int) -> list[Segment]:
        prefix = "cursor " if item == self.cursor else ""
        style, marker = self._style(prefix.strip()), self._style(prefix + "marker")
        if kind == "step":
            heat = self.heat.number_style(item) if self.heat is not None else None
            number = marker + heat if heat is not None else marker
            arrow = "▼" if item in self.expanded else "▶"
            if item == self.first_wrong:
                arrow, marker = "✗", self._style(prefix + "wrong")
            if item in self.expanded:
                coloured = self._heat_lines(item, width)
                first = coloured[0] if coloured else [Segment(self._text_lines(item, width)[0], style)]
                return [Segment(f" {arrow} ", marker), Segment(f"{item + 1:>3}. ", number), *first]
            title = cell_text(self.title_text(item), max(width - TITLE, 1))
            return [Segment(f" {arrow} ", marker), Segment(f"{item + 1:>3}. ", number), Segment(title, style)]
        is_open = self.problem_open if item == PROBLEM else self.solution_open
        name = "Problem" if item == PROBLEM else "Solution"
        return [Segment(f" {'▼' if is_open else '▶'} ", marker), Segment(name, self._style(prefix + "title"))]

    def watch_cursor(self) -> None:
        self.refresh()

    # -- find and highlight -----------------------------------------------------------------------------
    def set_highlight(self, words: list[str]) -> list[int]:
        """Highlight these words (case-insensitive) wherever they show; returns the items holding one."""
        words = [w for w in words if w.strip()]
        self._highlight = re.compile("|".join(re.escape(w) for w in words), re.I) if words else None
        self.hits = self._items_with(self._highlight) if self._highlight else []
        self.hit = self.hit_line = None
        self.refresh()
        return self.hits

    def _items_with(self, pattern: re.Pattern) -> list[int]:
        items = []
        if isinstance(self._sections["problem"], str) and pattern.search(self._shown(self._sections["problem"])):
            items.append(PROBLEM)
        items += [i for i in range(len(self.steps)) if pattern.search(self.step_text(i))]
        if isinstance(self._sections["solution"], str) and pattern.search(self._shown(self._sections["solution"])):
            items.append(self.solution_item)
        return items

    def next_hit(self, direction: int = 1) -> int | None:
        """Move to the next (or previous) item holding a highlighted word after the cursor (wrapping), open it,
        scroll its first matching line into view; the item, or None when there is no hit."""
        if not self.hits:
            return None
        here = self.hit if self.hit is not None else (self.cursor - 1 if direction > 0 else self.cursor + 1)
        later = [h for h in self.hits if (h > here if direction > 0 else h < here)]
        target = (
            (later[0] if direction > 0 else later[-1]) if later else (self.hits[0] if direction > 0 else self.hits[-1])
        )
        self.go_to(target, open_it=True)
        self.hit = target
        self.hit_line = self._first_hit_line(target)
        if self.hit_line is not None:
            self._scroll_line_into_view(self.hit_line)
        self.refresh()
        return target

    def _first_hit_line(self, item: int) -> int | None:
        self._layout(self.text_width)
        top, height = self._items[item]
        for line in range(top, top + height):
            if self._highlight.search(self.content_line_text(line)):
                return line
        return top

    def content_line_text(self, line: int) -> str:
        pattern, self._highlight = self._highlight, None
        try:
            return self.content_line(line).text
        finally:
            self._highlight = pattern

    def go_to(self, item: int, open_it: bool = False) -> None:
        """Put the cursor on an item (opening it, keeping what is above in place) and show it."""
        if open_it:
            if item == PROBLEM and not self.problem_open:
                self.toggle(PROBLEM)
            elif item == self.solution_item and not self.solution_open:
                self.toggle(item)
            elif 0 <= item < len(self.steps) and item not in self.expanded:
                self.expanded.add(item)
                self._relayout(keep=self.cursor)
        self.cursor = item
        self._show_cursor(top=True)

    def go_to_step(self, step: int) -> None:
        """Open a step and put it under the cursor, near the top of the view."""
        self.go_to(step, open_it=True)
        self.scroll_to(y=max(self.line_of(step) - 1, 0), animate=False, immediate=True)

    def _scroll_line_into_view(self, line: int) -> None:
        view = max(self.scrollable_content_region.height, 1)
        scroll = int(self.scroll_offset.y)
        if not scroll <= line < scroll + view:
            self.scroll_to(y=max(0, line - view // 3), animate=False, immediate=True)

    # -- actions ----------------------------------------------------------------------------------------
    def set_expanded(self, steps: set[int]) -> None:
        """Open exactly these steps; the highlighted item stays where it is on the screen."""
        self.expanded = set(steps)
        self._relayout(keep=self.cursor)

    def toggle(self, item: int) -> None:
        if item == PROBLEM:
            self.problem_open = not self.problem_open
        elif item == self.solution_item:
            self.solution_open = not self.solution_open
        else:
            self.expanded ^= {item}
        self._relayout(keep=item)

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

    def _show_cursor(self, top: bool = False) -> None:
        """Scroll so that the highlighted item's line shows, and as much of its text as fits (``top``: its
        first line near the top of the view)."""
        self._layout(self.text_width)
        first, height = self._items[self.cursor]
        view = max(self.scrollable_content_region.height, 1)
        scroll = int(self.scroll_offset.y)
        if top and not scroll <= first < scroll + view // 2:
            self.scroll_to(y=max(0, first - 2), animate=False, immediate=True)
        elif first < scroll:
            self.scroll_to(y=first, animate=False, immediate=True)
        elif first + min(height, view) > scroll + view:
            self.scroll_to(y=first + min(height, view) - view, animate=False, immediate=True)

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
