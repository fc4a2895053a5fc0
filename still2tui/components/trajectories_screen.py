"""The trajectories screen: filter bar, counts, the virtual table, single-row and bulk curation."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Header, Input

from still2tui.actions import bindings
from still2tui.components.filter_bar import FilterBar
from still2tui.components.key_footer import KeyFooter
from still2tui.components.modals import Confirm, Prompt
from still2tui.components.virtual_table import VirtualTable
from still2tui.curator import Curator
from still2tui.filter_lang import FilterError
from still2tui.messages import DataChanged, IndexReady
from still2tui.sources import TrajectorySource

VERDICT_COLOURS = ({"correct"}, {"incorrect"})
STATUS_COLOURS = ({"approved"}, {"rejected"})


class TrajectoriesScreen(Screen):
    BINDINGS = bindings("trajectories")
    HELP = "Trajectories: / filter, s sort, a/r/c approve/reject/reset, A/R/C on the whole filter"

    def __init__(self):
        super().__init__()
        self.source = TrajectorySource(self.app.store, index=self.app.index, search_store=self.app.bg_store)
        self.curator = Curator(self.app.store)
        self.filter_text = ""
        self._first_resume = True

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterBar('filter: verdict:correct ppl>3 len<2000 origin:explore flag:repetition "free text"')
        yield VirtualTable(self.source, id="table",
                           good_bad={"verdict": VERDICT_COLOURS, "status": STATUS_COLOURS})
        yield KeyFooter()

    @property
    def table(self) -> VirtualTable:
        return self.query_one(VirtualTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.app.ensure_index()
        self.reload(keep_cursor=False)

    def on_index_ready(self, event: IndexReady) -> None:
        self.reload()

    def reload(self, keep_cursor: bool = True) -> None:
        self.table.reload(keep_cursor=keep_cursor)
        self.update_counts()

    def update_counts(self) -> None:
        bar = self.query_one(FilterBar)
        if self.source.slow and self.table.is_running_count:
            total = self.table.total
            bar.set_counts(f"first {total:,} matches · counting…" if total else "searching…")
            return
        n = self.table.total
        sort = ""
        if self.source.sort_key:
            sort = f" · sort {self.source.sort_key}{'▼' if self.source.descending else '▲'}"
        parts = [f"{n:,} trajectories"]
        counts = self.source.counts() if not self.table.is_running_count else None
        if counts is not None:
            total, correct, approved, rejected = counts
            parts = [f"{n:,} of {total:,} trajectories", f"{correct:,} correct",
                     f"{approved:,} approved", f"{rejected:,} rejected", f"{n - approved - rejected:,} pending"]
        elif not self.source.uses_index and self.app.index_loading:
            parts.append("indexing…")
        elif not self.source.slow:
            where, params = self.source.where()
            with self.app.store.read() as conn:
                total, correct, approved, rejected = conn.execute(f"""
                    SELECT (SELECT count(*) FROM trajectory), count(*) FILTER (WHERE verdict = 'correct'),
                           count(*) FILTER (WHERE status = 'approved'), count(*) FILTER (WHERE status = 'rejected')
                    FROM trajectory t WHERE {where}""", params).fetchone()
            parts = [f"{n:,} of {total:,} trajectories", f"{correct:,} correct",
                     f"{approved:,} approved", f"{rejected:,} rejected", f"{n - approved - rejected:,} pending"]
        bar.set_counts(" · ".join(parts) + sort)

    def on_virtual_table_highlighted(self, event: VirtualTable.Highlighted) -> None:
        if self.source.slow:
            self.update_counts()
        # Read ahead only where the user moved the cursor: after a filter or sort the next action is
        # rarely enter, and the read would compete with that action's queries.
        if event.moved and event.key is not None and self.app.index.ready:
            self.app.detail_rows.prefetch(event.key)

    # -- filter -----------------------------------------------------------------------------------------
    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def apply_filter(self, text: str) -> None:
        try:
            self.source.set_filter(text)
        except FilterError as exc:
            self.notify(str(exc), severity="error", title="filter")
            return
        self.filter_text = text
        self.query_one(FilterBar).set_text(text)
        self.reload(keep_cursor=False)

    @on(Input.Submitted, "#filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        self.apply_filter(event.value)
        self.table.focus()

    def key_escape(self) -> None:
        if self.query_one("#filter", Input).has_focus:
            self.table.focus()

    def action_sort(self) -> None:
        self.table.sort_by_cursor_column()
        self.update_counts()

    def action_same_problem(self) -> None:
        row = self.table.current_row
        if row:
            self.apply_filter(f"problem:{row[1]}")

    def action_plots(self) -> None:
        from still2tui.components.plots_screen import PlotsScreen

        self.app.push_screen(PlotsScreen(self.source.where()))

    # -- curation ---------------------------------------------------------------------------------------
    def _current_id(self) -> str | None:
        key = self.table.current_key
        if key is None:
            self.notify("no row selected", severity="warning")
        return key

    def action_status(self, status: str) -> None:
        key = self._current_id()
        if key:
            event = self.curator.status(status, [key])
            self.notify(f"{status}: {key} ({event.n} changed)", timeout=2)
            self.post_message(DataChanged())
            self.table.action_move(1)

    def action_bulk(self, status: str) -> None:
        selection = self.curator.select(*self.source.where())
        verb = {"approved": "Approve", "rejected": "Reject", "pending": "Reset to pending"}[status]
        label = self.filter_text or "(no filter: every trajectory)"

        def done(yes: bool | None) -> None:
            if yes:
                event = self.curator.bulk_status(status, selection)
                self.notify(f"{verb}: {event.n:,} trajectories changed (u undoes)")
                self.post_message(DataChanged())

        self.app.push_screen(Confirm(f"{verb} {selection.n:,} trajectories matching {label}?"), done)

    def action_note(self) -> None:
        key = self._current_id()
        if key:
            def done(text: str | None) -> None:
                if text:
                    self.curator.note(key, text)
                    self.notify(f"note added to {key}", timeout=2)
            self.app.push_screen(Prompt(f"Note on {key}"), done)

    def action_tag(self) -> None:
        key = self._current_id()
        if key:
            def done(text: str | None) -> None:
                if text:
                    self.curator.tag(text, [key])
                    self.notify(f"tag {text} on {key}", timeout=2)
            self.app.push_screen(Prompt(f"Tag for {key}"), done)

    def action_bulk_tag(self) -> None:
        selection = self.curator.select(*self.source.where())

        def done(text: str | None) -> None:
            if text:
                event = self.curator.bulk_tag(text, selection)
                self.notify(f"tag {text} on {event.n:,} trajectories")
        self.app.push_screen(Prompt(f"Tag all {selection.n:,} trajectories of the filter with:"), done)

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        self.app.open_detail(event.key)

    def action_mark(self) -> None:
        from still2tui.compare import toggle_mark

        key = self._current_id()
        if key:
            toggle_mark(self.app, key)

    def on_data_changed(self, event: DataChanged) -> None:
        self.app.sync_index()
        self.reload()

    def on_screen_resume(self) -> None:
        if self._first_resume:  # on_mount has just loaded the first page
            self._first_resume = False
            return
        if self.is_mounted:
            self.app.sync_index()
            self.reload()
