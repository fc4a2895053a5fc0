"""The disagreements view: trajectories on which our verifier, the imported harness and the LLM judge
(`still2 judge`) do not agree, side by side, with keys to accept one opinion as the verdict. Every
acceptance is a curation event (store/curation.accept_verdict): u undoes it, U redoes it."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from still2tui.actions import bindings
from still2tui.components.key_footer import KeyFooter
from still2tui.components.virtual_table import VirtualTable
from still2tui.formatting import VERDICT_GOOD_BAD, VERDICT_STYLES
from still2tui.messages import DataChanged
from still2tui.sources import Column, SqlSource
from store.tui_queries import DISAGREEMENTS_OPEN, DISAGREEMENTS_SQL, Predicate, disagreement

COLUMNS = [
    Column("problem_id", "problem", 16, "problem_id", 1, flex=True),
    Column("ours", "ours", 9, "ours", 1),
    Column("harness", "harness", 9, "harness", 1),
    Column("judge", "judge", 9, "judge", 1),
    Column("verdict", "verdict", 9, "verdict", 1),
    Column("by", "by", 7, "by", 2),
    Column("source", "read from", 9, "source", 3),
    Column("answer", "answer", 10, "answer", 4),
    Column("gold", "gold", 8, "gold", 4),
]
GOOD_BAD = {k: VERDICT_GOOD_BAD for k in ("ours", "harness", "judge", "verdict")}
WHO = {"ours": "our verifier", "harness": "the harness", "judge": "the judge"}


class DisagreementsScreen(Screen):
    BINDINGS = bindings("disagreements")

    def __init__(self):
        super().__init__()
        self.source = SqlSource(
            self.app.store, DISAGREEMENTS_SQL, COLUMNS, sort_key="problem_id", where=DISAGREEMENTS_OPEN
        )
        self.curator = self.app.curator  # the curator's name on every action (per-curator undo)
        self.shown: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="disagreements-counts")
        yield VirtualTable(self.source, id="disagreements-table", good_bad=GOOD_BAD)
        with VerticalScroll(id="disagreement-side"):
            yield Static(id="disagreement")
        yield KeyFooter()

    @property
    def table(self) -> VirtualTable:
        return self.query_one(VirtualTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.reload()

    def reload(self) -> None:
        self.table.reload()
        which = "open (not accepted yet)" if self.source.where == DISAGREEMENTS_OPEN else "all, accepted ones included"
        self.query_one("#disagreements-counts", Static).update(
            f"{self.source.count():,} disagreements · {which} · d toggles · v ours, H harness, J judge, u undo"
        )
        self.show_row(self.table.current_key, force=True)

    def on_virtual_table_highlighted(self, event: VirtualTable.Highlighted) -> None:
        self.show_row(event.key)

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        self.app.open_detail(event.key)

    def show_row(self, trajectory_id: str | None, force: bool = False) -> None:
        if trajectory_id == self.shown and not force:
            return
        self.shown = trajectory_id
        panel = self.query_one("#disagreement", Static)
        if trajectory_id is None:
            panel.update("no disagreements: import harness verdicts (Sky-T1 score fields) or run `still2 judge`")
            return
        with self.app.store.read() as conn:
            r = disagreement(conn, trajectory_id)
        if r is None:
            panel.update("")
            return

        def v(x):
            style = VERDICT_STYLES.get(x or "", "yellow")
            return f"[{style}]{escape(str(x or '-'))}[/]"

        lines = [
            f"[b]{escape(r['id'])}[/b] · problem {escape(r['problem_id'])} · verdict {v(r['verdict'])} "
            f"decided by {escape(WHO.get(r['verdict_by'] or 'ours', str(r['verdict_by'])))}",
            f"[b]question[/b] {escape((r.get('question') or '')[:300])}",
            f"[b]gold[/b] {escape(str(r['gold']))}",
            f"[b]ours[/b] {v(r['ours'])}: extracted [b]{escape(str(r['extracted']))}[/b] read from "
            f"[b]{escape(str(r['answer_source'] or '-'))}[/b] (policy {escape(str(r['answer_policy'] or '-'))}) · "
            f"{escape(str(r['verdict_reason'] or ''))}",
            f"[b]harness[/b] {v(r['harness'])}: predicted {escape(str(r['harness_pred'] or '-'))}",
            f"[b]judge[/b] {v(r['judge'])} ({escape(str(r['judge_model'] or 'not judged'))}): "
            f"{escape(str(r['judge_reason'] or '-'))}",
            *(
                f"[b]judge[/b] {v(o.verdict)} ({escape(o.judge_model)}, earlier): {escape(o.reason or '-')}"
                for o in r["other_judges"]
            ),
            f"[b]end of the response[/b] ({r.get('n_chars') or 0:,} chars, finish reason "
            f"{escape(str(r.get('finish_reason') or '-'))}):",
            escape(r.get("tail") or ""),
        ]
        panel.update("\n".join(lines))

    def action_accept(self, source: str) -> None:
        key = self.table.current_key
        if not key:
            return
        event = self.curator.accept(source, [key])
        if event.n:
            self.notify(f"verdict of {key}: accepted {WHO[source]}'s (u undoes)", timeout=3)
        else:
            self.notify(f"{WHO[source]} has no opinion on {key}, or it is already the verdict", timeout=3)
        self.post_message(DataChanged())

    def action_toggle_open(self) -> None:
        self.source.where = Predicate() if self.source.where == DISAGREEMENTS_OPEN else DISAGREEMENTS_OPEN
        self.reload()

    def action_sort(self) -> None:
        self.table.sort_by_cursor_column()

    def on_data_changed(self, event: DataChanged) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()
