"""A virtual table: renders only the visible lines and pages rows from a Source in blocks.

Textual's DataTable holds every row in memory (100k rows take ~15 s to paint). This widget knows
only the row count; ``render_line`` asks its block cache for the row under each screen line and the
cache fetches a block of ``BLOCK`` rows from the source when it is missing. Slow sources (full-text
search) are counted and fetched in a worker thread while the lines show a placeholder; one that can
give its first block before its count (``first_rows``) shows that block meanwhile.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from still2tui.actions import bindings
from still2tui.formatting import cell_text
from still2tui.sources import Column, Source

BLOCK = 100


class VirtualTable(ScrollView, can_focus=True):
    """Rows are tuples ``(key, *values)`` in the order of ``source.columns``."""

    COMPONENT_CLASSES = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--sorted",
        "virtual-table--good",
        "virtual-table--bad",
        "virtual-table--dim",
    }
    DEFAULT_CSS = """
    VirtualTable { height: 1fr; overflow-x: hidden; }
    VirtualTable > .virtual-table--header { text-style: bold; background: $panel; }
    VirtualTable > .virtual-table--cursor { background: $accent 40%; }
    VirtualTable:focus > .virtual-table--cursor { background: $accent 70%; }
    VirtualTable > .virtual-table--sorted { text-style: bold underline; }
    VirtualTable > .virtual-table--good { color: $success; }
    VirtualTable > .virtual-table--bad { color: $error; }
    VirtualTable > .virtual-table--dim { color: $text-muted; }
    """
    BINDINGS = bindings("table")  # with the registry's ids, so keys.toml remaps them

    cursor_row: reactive[int] = reactive(0)
    cursor_column: reactive[int] = reactive(0)

    class Highlighted(Message):
        def __init__(self, table: "VirtualTable", index: int, key: str | None, moved: bool = False):
            super().__init__()
            self.table, self.index, self.key = table, index, key
            self.moved = moved  # the cursor was moved to the row (not a reload or rows arriving)

    class Selected(Message):
        def __init__(self, table: "VirtualTable", index: int, key: str):
            super().__init__()
            self.table, self.index, self.key = table, index, key

    def __init__(
        self,
        source: Source,
        *,
        id: str | None = None,
        good_bad: dict[str, tuple[set, set]] | None = None,
        empty_text: str = "no rows",
    ):
        super().__init__(id=id)
        self.source = source
        self.empty_text = empty_text  # shown on the first line when there are no rows
        self.total = 0
        self._blocks: dict[int, list[tuple]] = {}
        self._pending: set[int] = set()
        self._generation = 0
        self.is_running_count = False
        # column key -> (values shown in the "good" colour, values shown in the "bad" colour)
        self.good_bad = good_bad or {}
        self.hidden: set[str] = set()  # column keys the user chose not to see (the column chooser)
        # column keys kept ahead of the others when the width is short (the ones the filter tests); the
        # sorted column is always among them
        self.wanted: frozenset[str] = frozenset()
        self._columns_cache: tuple | None = None  # (width, columns, hidden, wanted, sort) -> visible_columns()
        self._line_styles_cache: tuple | None = None  # (focused, styles) -> _line_styles()

    # -- data -------------------------------------------------------------------------------------------
    def reload(self, keep_cursor: bool = True) -> None:
        """Forget cached rows and the count (after a filter/sort change or new data)."""
        self._generation += 1
        self._blocks.clear()
        self._pending.clear()
        self.source.invalidate()
        if self.source.slow:
            self.total = 0
            self.is_running_count = True
            self._count_in_thread(self._generation, self.source.query)
        else:
            self.is_running_count = False
            self._set_total(self.source.count())
        if not keep_cursor:
            self.cursor_row = 0
            self.scroll_to(y=0, animate=False)
        self.refresh()

    def _set_total(self, total: int) -> None:
        self.total = total
        self.virtual_size = Size(self.row_width, total + 1)
        if self.cursor_row >= total:
            self.cursor_row = max(0, total - 1)
        self.post_message(self.Highlighted(self, self.cursor_row, self.current_key))

    @work(thread=True, exclusive=True, group="vt-count")
    def _count_in_thread(self, generation: int, query) -> None:
        """``query``: the source's Query (sources.py) when it has one, so the worker counts the filter it
        was started for even if the user has typed another meanwhile."""
        rows = self.source.first_rows(BLOCK, query)
        if generation != self._generation:
            return
        if rows is not None:
            self.app.call_from_thread(self._show_first_rows, rows, generation)
        total = self.source.count(query)
        if generation == self._generation:
            self.app.call_from_thread(self._count_done, total, generation)

    def _count_done(self, total: int, generation: int) -> None:
        # checked again on the UI thread: a reload may have come after the worker's check
        if generation == self._generation:
            self.is_running_count = False
            self._set_total(total)
            self.refresh()

    def _show_first_rows(self, rows: list[tuple], generation: int) -> None:
        """The first block of a slow source while its count runs: the table holds just these meanwhile."""
        if generation == self._generation and self.is_running_count:
            self._blocks[0] = rows
            self._set_total(len(rows))
            self.refresh()

    def row(self, index: int) -> tuple | None:
        block, pos = divmod(index, BLOCK)
        rows = self._blocks.get(block)
        if rows is None:
            self._request(block)
            rows = self._blocks.get(block)
        if rows is None or pos >= len(rows):
            return None
        return rows[pos]

    def _request(self, block: int) -> None:
        if block in self._pending:
            return
        if self.source.slow:
            self._pending.add(block)
            self._fetch_in_thread(block, self._generation)
        else:
            self._blocks[block] = self.source.fetch(block * BLOCK, BLOCK)

    @work(thread=True, group="vt-fetch")
    def _fetch_in_thread(self, block: int, generation: int) -> None:
        rows = self.source.fetch(block * BLOCK, BLOCK)

        def done() -> None:
            if generation == self._generation:
                self._blocks[block] = rows
                self._pending.discard(block)
                self.refresh()
                self.post_message(self.Highlighted(self, self.cursor_row, self.current_key))

        self.app.call_from_thread(done)

    @property
    def current_key(self) -> str | None:
        if not self.total:
            return None
        row = self._blocks.get(self.cursor_row // BLOCK)
        if row is None:
            if self.source.slow:
                return None
            row = self.row(self.cursor_row) and self._blocks.get(self.cursor_row // BLOCK)
        pos = self.cursor_row % BLOCK
        return row[pos][0] if row and pos < len(row) else None

    @property
    def current_row(self) -> tuple | None:
        return self.row(self.cursor_row) if self.total else None

    # -- layout -----------------------------------------------------------------------------------------
    def visible_columns(self) -> list[tuple[int, Column, int]]:
        """(index in source.columns, column, width) that fit the widget's width, by priority."""
        key = (self.row_width, self.source.columns, frozenset(self.hidden), self.wanted, self.source.sort_key)
        if self._columns_cache is None or self._columns_cache[0] != key:
            self._columns_cache = (key, self._fit_columns())
        return self._columns_cache[1]

    @property
    def row_width(self) -> int:
        """The width rows are drawn in: the widget's, less the vertical scrollbar."""
        return self.scrollable_content_region.width

    def _fit_columns(self) -> list[tuple[int, Column, int]]:
        width = max(self.row_width, 10)
        cols = [(i, c) for i, c in enumerate(self.source.columns) if c.key not in self.hidden]
        wanted = self.wanted | {self.source.sort_key}
        chosen: list[tuple[int, Column]] = []
        used = 0
        for i, col in sorted(cols, key=lambda ic: (ic[1].key not in wanted, ic[1].priority, ic[0])):
            need = col.width + (1 if chosen else 0)
            if used + need <= width:
                chosen.append((i, col))
                used += need
        chosen.sort()
        spare = width - used
        out = []
        for i, col in chosen:
            w = col.width
            if col.flex and spare > 0:
                w, spare = w + spare, 0
            out.append((i, col, w))
        return out

    @property
    def page_rows(self) -> int:
        """Rows that fit under the header (the cursor row is kept among them)."""
        return max(1, self.scrollable_content_region.height - 1)

    # -- rendering --------------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        self._line_styles_cache = None
        super().notify_style_update()

    def _line_styles(self) -> dict[str, Style]:
        """The styles of a row line (plain and under the cursor, each plain / good / bad), computed once."""
        if self._line_styles_cache is None or self._line_styles_cache[0] != self.has_focus:
            base = self.rich_style
            cursor = base + self.get_component_rich_style("virtual-table--cursor")
            good = self.get_component_rich_style("virtual-table--good")
            bad = self.get_component_rich_style("virtual-table--bad")
            self._line_styles_cache = (
                self.has_focus,
                {
                    "": base,
                    "good": base + good,
                    "bad": base + bad,
                    "cursor": cursor,
                    "cursor good": cursor + good,
                    "cursor bad": cursor + bad,
                },
            )
        return self._line_styles_cache[1]

    def render_line(self, y: int) -> Strip:
        width = self.row_width
        cols = self.visible_columns()
        if y == 0:
            return self._header(cols, width)
        index = int(self.scroll_offset.y) + y - 1
        styles = self._line_styles()
        if index >= self.total:
            if index == 0 and not self.is_running_count:
                dim = styles[""] + self.get_component_rich_style("virtual-table--dim")
                return Strip([Segment(f" {self.empty_text}"[:width].ljust(width), dim)], width)
            return Strip.blank(width, styles[""])
        row = self.row(index)
        prefix = "cursor " if index == self.cursor_row else ""
        base = styles[prefix.strip()]
        if row is None:
            return Strip([Segment("…".ljust(width), base)], width)
        segments = []
        for n, (i, col, w) in enumerate(cols):
            value = row[i + 1]
            if col.fmt is not None and value is not None:
                value = col.fmt(value)
            elif col.numeric and type(value) is int:
                value = f"{value:,}"  # one style for every count in a column
            text = cell_text(value, w)
            text = text.rjust(w) if col.numeric else text.ljust(w)
            style = base
            good_bad = self.good_bad.get(col.key)
            if good_bad and value in good_bad[0]:
                style = styles[prefix + "good"]
            elif good_bad and value in good_bad[1]:
                style = styles[prefix + "bad"]
            segments.append(Segment(("" if n == 0 else " ") + text[:w], style))
        strip = Strip(segments)
        return strip.extend_cell_length(width, base).crop(0, width)

    def set_hidden(self, keys: set[str]) -> None:
        """Hide these columns (the column chooser); the cursor column moves to a shown one."""
        self.hidden = set(keys)
        shown = [i for i, _, _ in self.visible_columns()]
        if shown and self.cursor_column not in shown:
            self.cursor_column = shown[0]
        self.refresh()

    def _header(self, cols, width: int) -> Strip:
        style = self.rich_style + self.get_component_rich_style("virtual-table--header")
        segments = []
        for n, (i, col, w) in enumerate(cols):
            title = col.title
            if col.key == self.source.sort_key:
                title += "▼" if self.source.descending else "▲"
            s = style
            if i == self.cursor_column:
                s = style + self.get_component_rich_style("virtual-table--sorted")
            text = title.rjust(w) if col.numeric else title.ljust(w)
            segments.append(Segment(("" if n == 0 else " ") + text[:w], s))
        return Strip(segments).extend_cell_length(width, style).crop(0, width)

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh()
        self.post_message(self.Highlighted(self, new, self.current_key, moved=self._moving))

    _moving = False

    def watch_cursor_column(self) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.row_width, self.total + 1)
        self._scroll_to_cursor()

    # -- actions ----------------------------------------------------------------------------------------
    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_offset.y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + self.page_rows:
            self.scroll_to(y=self.cursor_row - self.page_rows + 1, animate=False, immediate=True)

    def move_to(self, index: int) -> None:
        if not self.total:
            return
        self._moving = True
        try:
            self.cursor_row = max(0, min(self.total - 1, index))
        finally:
            self._moving = False
        self._scroll_to_cursor()

    def action_move(self, step: int) -> None:
        self.move_to(self.cursor_row + step)

    def action_page(self, step: int) -> None:
        self.move_to(self.cursor_row + step * self.page_rows)
        self.scroll_to(
            y=max(0, self.cursor_row - (self.page_rows - 1 if step > 0 else 0)), animate=False, immediate=True
        )

    def action_jump(self, where: int) -> None:
        self.move_to(0 if where == 0 else self.total - 1)

    def action_column(self, step: int) -> None:
        shown = [i for i, _, _ in self.visible_columns()]
        if not shown:
            return
        pos = shown.index(self.cursor_column) if self.cursor_column in shown else 0
        self.cursor_column = shown[max(0, min(len(shown) - 1, pos + step))]

    def action_select(self) -> None:
        key = self.current_key
        if key is not None:
            self.post_message(self.Selected(self, self.cursor_row, key))

    def sort_by_cursor_column(self) -> None:
        col = self.source.columns[self.cursor_column]
        if not col.sort:
            self.notify(f"the {col.title} column cannot be sorted", severity="warning", timeout=3)
            return
        descending = not self.source.descending if self.source.sort_key == col.key else col.numeric
        self.source.set_sort(col.key, descending)
        self.reload(keep_cursor=False)

    def on_click(self, event) -> None:
        if event.y == 0:
            x = 0
            for i, _col, w in self.visible_columns():
                if x <= event.x < x + w + 1:
                    self.cursor_column = i
                    self.sort_by_cursor_column()
                    return
                x += w + 1
        else:
            self.move_to(int(self.scroll_offset.y) + event.y - 1)
