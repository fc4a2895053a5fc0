"""The pairs screen: DPO pairs, chosen and rejected side by side with a word-level diff; curate and swap."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from still2tui.actions import bindings
from still2tui.components.key_footer import KeyFooter
from still2tui.components.modals import Confirm, Prompt
from still2tui.components.virtual_table import VirtualTable
from still2tui.diffing import similarity, word_diff
from still2tui.formatting import STATUS_GOOD_BAD, VERDICT_GOOD_BAD, cell_text
from still2tui.messages import DataChanged
from still2tui.sources import Column, SqlSource
from store.tui_queries import (
    PAIRS_SQL,
    first_problem_with_mixed_verdicts,
    pair_readiness,
    pair_sides,
    pair_status_counts,
)

COLUMNS = [
    Column("problem_id", "problem", 16, "problem_id", 1, flex=True),
    Column("part", "part", 7, "part", 4),
    Column("status", "status", 8, "status", 1),
    Column("chosen_verdict", "chosen", 9, "chosen_verdict", 2),
    Column("chosen_ppl", "c.ppl", 6, "chosen_ppl", 2, numeric=True),
    Column("chosen_tokens", "c.len", 6, "chosen_tokens", 5, numeric=True),
    Column("rejected_verdict", "rejected", 9, "rejected_verdict", 2),
    Column("rejected_ppl", "r.ppl", 6, "rejected_ppl", 2, numeric=True),
    Column("rejected_tokens", "r.len", 6, "rejected_tokens", 5, numeric=True),
    Column("rule", "rule", 14, "rule", 6),
]
DIFF_LIMIT = 20_000  # characters per side; difflib is quadratic in the worst case


class PairsScreen(Screen):
    BINDINGS = bindings("pairs")

    def __init__(self):
        super().__init__()
        self.source = SqlSource(self.app.store, PAIRS_SQL, COLUMNS, sort_key="problem_id")
        self.curator = self.app.curator
        self.thought_only = False
        self.shown: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="pairs-counts")
        yield VirtualTable(
            self.source,
            id="pairs-table",
            good_bad={
                "status": STATUS_GOOD_BAD,
                "chosen_verdict": VERDICT_GOOD_BAD,
                "rejected_verdict": VERDICT_GOOD_BAD,
            },
        )
        yield Static(id="pair-title")
        with Horizontal(id="pair-sides"):
            with VerticalScroll(classes="side", id="chosen-side"):
                yield Static(id="chosen")
            with VerticalScroll(classes="side", id="rejected-side"):
                yield Static(id="rejected")
        yield KeyFooter()

    @property
    def table(self) -> VirtualTable:
        return self.query_one(VirtualTable)

    def on_mount(self) -> None:
        from still2tui.components.scroll_link import link_scroll

        self.table.focus()
        link_scroll(self, self.query_one("#chosen-side"), self.query_one("#rejected-side"))
        self.reload()

    def reload(self) -> None:
        self.table.reload()
        with self.app.store.read() as conn:
            counts = pair_status_counts(conn)
        self.query_one("#pairs-counts", Static).update(
            f"{sum(counts.values()):,} pairs · "
            + " · ".join(f"{counts.get(s, 0):,} {s}" for s in ("approved", "rejected", "pending"))
        )
        self.show_pair(self.table.current_key, force=True)

    def on_virtual_table_highlighted(self, event: VirtualTable.Highlighted) -> None:
        self.show_pair(event.key)

    def show_pair(self, pair_id: str | None, force: bool = False) -> None:
        if pair_id == self.shown and not force:
            return
        self.shown = pair_id
        if pair_id is None:
            self.query_one("#pair-title", Static).update(self._why_no_pairs())
            self.query_one("#chosen", Static).update("")
            self.query_one("#rejected", Static).update("")
            return
        with self.app.store.read() as conn:
            row = pair_sides(conn, pair_id)
        if row is None:
            return
        key = "thought" if self.thought_only else "text"
        left, right = (row[f"chosen_{key}"] or "")[:DIFF_LIMIT], (row[f"rejected_{key}"] or "")[:DIFF_LIMIT]
        a, b = word_diff(left, right)
        self.query_one("#pair-title", Static).update(
            f"pair {pair_id} · {row['status']} · diff of {'thought' if self.thought_only else 'full text'} "
            f"(d toggles) · {similarity(left, right):.0%} same words"
        )
        self.query_one("#chosen", Static).update(
            Text(
                f"CHOSEN {row['chosen_id']} · {row['chosen_verdict']} · ppl {cell_text(row['chosen_ppl'])}\n",
                style="bold",
            )
            + a
        )
        self.query_one("#rejected", Static).update(
            Text(
                f"REJECTED {row['rejected_id']} · {row['rejected_verdict']} · ppl {cell_text(row['rejected_ppl'])}\n",
                style="bold",
            )
            + b
        )

    def _why_no_pairs(self) -> str:
        """The empty screen says what is missing for pairs (not only that there are none)."""
        with self.app.store.read() as conn:
            counts = pair_readiness(conn)
        if counts["both"] == 0:
            return (
                f"no pairs: no problem has both a correct and an incorrect rollout ({counts['problems']:,} problems "
                f"have trajectories, {counts['single']:,} of them only one, as imported eval outputs do). "
                "Sample several rollouts per problem (still2 explore --max-rollouts 8), then b or still2 pairs build."
            )
        if counts["scored"] == 0:
            return (
                f"no pairs yet: {counts['both']:,} problems have correct and incorrect rollouts, but pairs are "
                "chosen by perplexity and none is scored: run still2 score, then b or still2 pairs build."
            )
        return (
            f"no pairs yet: {counts['both']:,} problems have correct and incorrect rollouts; "
            "b builds pairs for the first one (still2 pairs build for all)"
        )

    def action_status(self, status: str) -> None:
        key = self.table.current_key
        if key:
            self.curator.status(status, [key], kind="pair")
            self.notify(f"pair {status}", timeout=2)
            self.reload()
            self.table.action_move(1)  # as in the trajectories table: act, then the next pair

    def action_note(self) -> None:
        key = self.table.current_key
        if key:

            def done(text: str | None) -> None:
                if text:
                    self.curator.note(key, text, kind="pair")
                    self.notify(f"note added to pair {key}", timeout=2)

            self.app.push_screen(Prompt(f"Note on pair {key}"), done)

    def action_swap(self) -> None:
        key = self.table.current_key
        if not key:
            return
        with self.app.store.read() as conn:
            row = pair_sides(conn, key)
        if row is None:
            return

        def swap(yes: bool | None = True) -> None:
            if yes:
                self.curator.swap(key)
                self.notify("swapped chosen and rejected (u undoes)", timeout=2)
                self.reload()

        if row["rejected_verdict"] != "correct":  # the swap would make a wrong answer the preferred one
            status = f" of this {row['status']} pair" if row["status"] != "pending" else ""
            self.app.push_screen(
                Confirm(
                    f"Swapping makes the {row['rejected_verdict']} answer the chosen side{status}: "
                    "DPO would learn to prefer it. Swap anyway?"
                ),
                swap,
            )
            return
        swap()

    def action_divergence(self) -> None:
        from still2tui.compare import open_divergence

        key = self.table.current_key
        if key:
            with self.app.store.read() as conn:
                row = pair_sides(conn, key)
            if row:
                open_divergence(self.app, row["chosen_id"], row["rejected_id"])

    def action_toggle_part(self) -> None:
        self.thought_only = not self.thought_only
        self.show_pair(self.shown, force=True)

    def action_sort(self) -> None:
        self.table.sort_by_cursor_column()

    def action_build_pairs(self) -> None:
        row = self.table.current_row
        problem = row[1] if row else None
        if problem is None:
            with self.app.store.read() as conn:
                problem = first_problem_with_mixed_verdicts(conn)
        if problem is None:
            self.notify("no problem with both correct and incorrect rollouts", severity="warning")
            return
        self.app.build_pairs(problem)

    def on_data_changed(self, event: DataChanged) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()
