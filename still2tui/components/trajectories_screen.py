"""The trajectories screen: filter bar, counts, the virtual table with a preview pane, curation, export.

The preview pane (preview_pane.py) follows the cursor; it is shown when the terminal is at least
PREVIEW_MIN_WIDTH wide unless the user chose otherwise with ``v`` (remembered in settings.UiState).
The column chooser hides and shows table columns (also remembered).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Header, Input

from still2tui.actions import bindings
from still2tui.components.filter_bar import FilterBar
from still2tui.components.key_footer import KeyFooter
from still2tui.components.modals import ColumnChooser, Confirm, CopyMenu, Prompt
from still2tui.components.preview_pane import PreviewPane
from still2tui.components.virtual_table import VirtualTable
from still2tui.filter_fields import shown_columns
from still2tui.filter_lang import FilterError
from still2tui.formatting import STATUS_GOOD_BAD, STATUS_VERBS, VERDICT_GOOD_BAD
from still2tui.latex import to_unicode
from still2tui.messages import DataChanged, IndexReady
from still2tui.sources import short_problem_id
from still2tui.trajectory_source import TRAJECTORY_COLUMNS, TrajectorySource
from store.tui_queries import trajectory_counts

PREVIEW_MIN_WIDTH = 120  # columns from which the preview pane is shown by default


FLAGS_WIDTH = next(c.width for c in TRAJECTORY_COLUMNS if c.key == "flags")


def compact_flags(flags: list[str], width: int) -> str:
    """Whole flag names that fit, then how many more: ``repetition +2``, not ``repetition,fo…``."""
    text = ",".join(flags)
    if len(text) <= width:
        return text
    shown: list[str] = []
    for flag in flags:
        more = len(flags) - len(shown) - 1
        if len(",".join(shown + [flag])) + (len(f" +{more}") if more else 0) > width:
            break
        shown.append(flag)
    shown = shown or flags[:1]
    more = len(flags) - len(shown)
    return ",".join(shown) + (f" +{more}" if more else "")


class TrajectoriesScreen(Screen):
    LIVE_FROM_INDEX = True  # what it shows comes from the in-memory index (app.watch_store)
    BINDINGS = bindings("trajectories")
    HELP = "Trajectories: / filter, s sort, a/r/c approve/reject/reset, A/R/C on the whole filter"

    def __init__(self):
        super().__init__()
        self.source = TrajectorySource(self.app.store, index=self.app.index, search_store=self.app.bg_store)
        self.preferred_flags: list[str] = []  # flags the filter asks for: shown first in the flags column
        shown = {"flags": self._flags_text, "question": to_unicode}
        self.source.columns = [
            dataclasses.replace(c, fmt=shown[c.key]) if c.key in shown else c for c in self.source.columns
        ]
        self.curator = self.app.curator
        self.filter_text = ""
        self._first_resume = True

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterBar('filter: verdict:correct ppl>3 chars<2000 origin:explore flag:repetition "free text"')
        with Horizontal(id="trajectories-main"):
            yield VirtualTable(
                self.source,
                id="table",
                good_bad={"verdict": VERDICT_GOOD_BAD, "status": STATUS_GOOD_BAD},
                empty_text="no trajectory matches the filter",
            )
            yield PreviewPane(id="preview")
        yield KeyFooter()

    @property
    def table(self) -> VirtualTable:
        return self.query_one(VirtualTable)

    @property
    def preview(self) -> PreviewPane:
        return self.query_one(PreviewPane)

    @property
    def bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    def on_mount(self) -> None:
        self.table.set_hidden(set(self.app.ui_state.get("columns.trajectories", [])))
        self._layout_preview()
        self.table.focus()
        self.app.ensure_index()
        self.reload(keep_cursor=False)

    def on_resize(self) -> None:
        self._layout_preview()

    def _layout_preview(self) -> None:
        choice = self.app.ui_state.get("preview")  # None: by width
        show = choice if choice is not None else self.app.size.width >= PREVIEW_MIN_WIDTH
        if self.preview.display != show:
            self.preview.display = show
            if show:
                self.preview.follow(self.table.current_key, force=True)

    def action_toggle_preview(self) -> None:
        self.app.ui_state.set("preview", not self.preview.display)
        self._layout_preview()

    def on_index_ready(self, event: IndexReady) -> None:
        self.reload()

    def reload(self, keep_cursor: bool = True) -> None:
        self.table.reload(keep_cursor=keep_cursor)
        self.update_counts()

    def update_counts(self) -> None:
        bar = self.bar
        live = "⟳ catching up with other writers · " if self.app.catching_up else ""
        if self.source.slow and self.table.is_running_count:
            total = self.table.total
            bar.set_counts(live + (f"first {total:,} matches · counting…" if total else "searching…"))
            return
        n = self.table.total
        sort = ""
        if self.source.sort_key:
            title = next((c.title for c in self.source.columns if c.key == self.source.sort_key), self.source.sort_key)
            sort = f" · sort {title}{'▼' if self.source.descending else '▲'}"
        parts = [f"{n:,} trajectories"]
        counts = self.source.counts() if not self.table.is_running_count else None
        if counts is None and not self.source.slow and not (not self.source.uses_index and self.app.index_loading):
            counts = self.store_counts()
        if counts is not None:
            total, correct, approved, rejected = counts
            parts = [
                f"{n:,} of {total:,} trajectories",
                f"{correct:,} correct",
                f"{approved:,} approved",
                f"{rejected:,} rejected",
                f"{n - approved - rejected:,} pending",
            ]
        elif not self.source.uses_index and self.app.index_loading:
            parts.append("indexing…")
        bar.set_counts(live + " · ".join(parts) + sort)

    def store_counts(self) -> tuple[int, int, int, int]:
        """(all trajectories, correct, approved, rejected) of the matches, from the store (as TrajectorySource.counts)."""
        with self.app.store.read() as conn:
            c = trajectory_counts(conn, self.source.where())
        return c.total, c.correct, c.approved, c.rejected

    def on_virtual_table_highlighted(self, event: VirtualTable.Highlighted) -> None:
        if event.table is not self.table:
            return
        if self.source.slow:
            self.update_counts()
        # Read ahead only where the user moved the cursor: after a filter or sort the next action is
        # rarely enter, and the read would compete with that action's queries.
        if event.moved and event.key is not None and self.app.index.ready:
            self.app.detail_rows.prefetch(event.key)
        if self.preview.display:
            self.preview.follow(event.key)

    # -- filter -----------------------------------------------------------------------------------------
    def action_focus_filter(self) -> None:
        self.bar.focus_input()

    def apply_filter(self, text: str) -> bool:
        """Show the trajectories matching ``text``; False (and the reason in the bar) if it does not compile."""
        try:
            self.source.set_filter(text)
        except FilterError as exc:
            self.bar.show_error(str(exc))
            return False
        self.filter_text = text
        self.preferred_flags = self.source.filter.flags
        self.table.wanted = shown_columns(self.source.filter)
        self.preview.highlight = list(self.source.filter.words)
        self.bar.set_text(text)
        self.reload(keep_cursor=False)
        return True

    def _flags_text(self, value) -> str:
        flags = str(value).split(",")
        first = [f for f in self.preferred_flags if f in flags]
        return compact_flags(first + [f for f in flags if f not in first], FLAGS_WIDTH)

    @on(Input.Submitted, "#filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        if self.apply_filter(event.value):
            self.set_focus(self.table)

    def key_escape(self) -> None:
        if self.query_one("#filter", Input).has_focus:
            self.bar.revert()
            self.set_focus(self.table)

    def action_sort(self) -> None:
        self.table.sort_by_cursor_column()
        self.update_counts()

    def action_same_problem(self) -> None:
        row = self.table.current_row
        if row:
            self.apply_filter(f"problem:{row[1]}")

    def action_plots(self) -> None:
        from still2tui.components.plots_screen import PlotsScreen

        self.app.push_screen(PlotsScreen(self.source.where(), self.filter_text))

    def action_columns(self) -> None:
        columns = [(c.key, c.title, c.help) for c in self.source.columns]

        def done(hidden: set[str] | None) -> None:
            if hidden is not None:
                self.table.set_hidden(hidden)
                self.app.ui_state.set("columns.trajectories", sorted(hidden))

        self.app.push_screen(ColumnChooser(columns, self.table.hidden), done)

    # -- walking the filtered list (the detail screen's ] and [) ----------------------------------------
    def step(self, trajectory_id: str, delta: int) -> str | None:
        """The trajectory ``delta`` rows from ``trajectory_id`` in the table (the cursor follows it), or None
        at either end."""
        table = self.table
        if table.current_key != trajectory_id:
            return None
        target = table.cursor_row + delta
        if not 0 <= target < table.total:
            return None
        table.move_to(target)
        return table.current_key

    # -- curation ---------------------------------------------------------------------------------------
    def _current_id(self) -> str | None:
        key = self.table.current_key
        if key is None:
            self.notify("no row selected", severity="warning")
        return key

    def row_label(self) -> str:
        row = self.table.current_row
        if not row:
            return ""
        values = dict(zip(["id", *(c.key for c in self.source.columns)], row))
        sample = f" #{values['sample_index']}" if values.get("sample_index") is not None else ""
        return f"{short_problem_id(values.get('problem_id'))}{sample} · {values.get('model') or '?'}"

    def action_status(self, status: str) -> None:
        key = self._current_id()
        if key:
            label = self.row_label()
            event = self.curator.status(status, [key])
            self.notify(f"{STATUS_VERBS[status]}: {label}" + ("" if event.n else " (unchanged)"), timeout=2)
            self.post_message(DataChanged())
            self.table.action_move(1)

    def action_bulk(self, status: str) -> None:
        selection = self.curator.select(self.source.where())
        verb = {"approved": "Approve", "rejected": "Reject", "pending": "Reset to pending"}[status]
        label = self.filter_text or "(no filter: every trajectory)"
        already = (selection.statuses or {}).get(status, 0)

        def done(yes: bool | None) -> None:
            if yes:
                event = self.curator.bulk_status(status, selection)
                self.notify(f"{verb}: {event.n:,} trajectories changed (u undoes)")
                self.post_message(DataChanged())

        change = selection.n - already
        note = f" ({already:,} of them already {status}: {change:,} will change)" if already else ""
        self.app.push_screen(Confirm(f"{verb} {selection.n:,} trajectories matching {label}?{note}"), done)

    def action_note(self) -> None:
        key = self._current_id()
        if key:
            label = self.row_label()

            def done(text: str | None) -> None:
                if text:
                    self.curator.note(key, text)
                    self.notify(f"note added to {label}", timeout=2)
                    self.post_message(DataChanged())

            self.app.push_screen(Prompt(f"Note on {label}"), done)

    def action_tag(self) -> None:
        key = self._current_id()
        if key:
            label = self.row_label()

            def done(text: str | None) -> None:
                if text:
                    self.curator.tag(text, [key])
                    self.notify(f"tag {text} on {label}", timeout=2)
                    self.post_message(DataChanged())

            self.app.push_screen(Prompt(f"Tag for {label}"), done)

    def action_bulk_tag(self) -> None:
        selection = self.curator.select(self.source.where())

        def done(text: str | None) -> None:
            if text:
                event = self.curator.bulk_tag(text, selection)
                self.notify(f"tag {text} on {event.n:,} trajectories")
                self.post_message(DataChanged())

        self.app.push_screen(Prompt(f"Tag all {selection.n:,} trajectories of the filter with:"), done)

    # -- copy and export --------------------------------------------------------------------------------
    def action_copy(self) -> None:
        key = self._current_id()
        if key:
            self.app.push_screen(CopyMenu(lambda: self.app.detail_rows.get(key)))

    def action_export(self) -> None:
        default = f"still2-export-{datetime.now():%Y%m%d-%H%M%S}.jsonl"
        selection = self.curator.select(self.source.where())

        def done(path: str | None) -> None:
            if path:
                self.app.export_selection(selection, path)

        self.app.push_screen(
            Prompt(
                f"Export the {selection.n:,} trajectories of the filter to (.jsonl or .parquet; every column):", default
            ),
            done,
        )

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        self.app.open_detail(event.key, walker=self.step, highlight=list(self.source.filter.words))

    def action_mark(self) -> None:
        from still2tui.compare import toggle_mark

        key = self._current_id()
        if key:
            toggle_mark(self.app, key)

    def on_data_changed(self, event: DataChanged) -> None:
        self.app.sync_index()
        self.reload()
        if self.preview.display:
            self.preview.follow(self.table.current_key, force=True)

    def on_screen_resume(self) -> None:
        if self._first_resume:  # on_mount has just loaded the first page
            self._first_resume = False
            return
        if self.is_mounted:
            self.app.sync_index()
            self.reload()
