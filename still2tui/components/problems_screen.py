"""The problems screen: pass rate per problem over rollouts and iterations; enter shows its trajectories."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Header, Input

from still2tui.actions import bindings
from still2tui.components.filter_bar import FilterBar
from still2tui.components.key_footer import KeyFooter
from still2tui.components.virtual_table import VirtualTable
from still2tui.messages import DataChanged, ShowTrajectories
from still2tui.sources import Column, SqlSource, question_cell, short_problem_id
from store.tui_queries import PROBLEMS_SQL, problems_matching

COLUMNS = [
    Column(
        "problem_id", "problem", 13, "problem_id", 1, fmt=short_problem_id, help="problem id, shortened to source:hash"
    ),
    Column("question", "question", 20, "question", 2, flex=True, fmt=question_cell, help="the question (first words)"),
    Column("source", "source", 8, "source", 4),
    Column("domain", "domain", 7, "domain", 5),
    Column("difficulty", "diff", 4, "difficulty", 3, numeric=True),
    Column("rollouts", "rollouts", 8, "rollouts", 1, numeric=True, help="explore and distill rollouts"),
    Column("correct", "correct", 7, "correct", 2, numeric=True, help="correct rollouts"),
    Column("pass_rate", "pass", 5, "pass_rate", 1, numeric=True, help="correct / rollouts"),
    Column(
        "trajectories",
        "all",
        5,
        "trajectories",
        3,
        numeric=True,
        help="every trajectory of the problem, eval outputs and imports too",
    ),
    Column("correct_any", "all✓", 5, "correct_any", 3, numeric=True, help="correct among all of them"),
    Column("last_iteration", "it", 3, "last_iteration", 6, numeric=True),
]


class ProblemsScreen(Screen):
    BINDINGS = bindings("problems")

    def __init__(self):
        super().__init__()
        self.source = SqlSource(self.app.store, PROBLEMS_SQL, COLUMNS, key="problem_id", sort_key="problem_id")

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterBar("filter problems: words in id, source, domain or question (e.g. aime triangle)")
        yield VirtualTable(self.source, id="problems")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(VirtualTable).focus()
        self.reload()

    def reload(self) -> None:
        table = self.query_one(VirtualTable)
        table.reload()
        self.query_one(FilterBar).set_counts(
            f"{table.total:,} problems · sort {self.source.sort_key}{'▼' if self.source.descending else '▲'}"
        )

    def action_focus_filter(self) -> None:
        self.query_one(FilterBar).focus_input()

    @on(Input.Submitted, "#filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        self.source.where = problems_matching(event.value.split())
        self.reload()
        self.query_one(VirtualTable).focus()

    def action_sort(self) -> None:
        self.query_one(VirtualTable).sort_by_cursor_column()
        self.reload()

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        self.app.post_message(ShowTrajectories(f"problem:{event.key}"))

    def action_open_trajectories(self) -> None:
        self.query_one(VirtualTable).action_select()

    def on_data_changed(self, event: DataChanged) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()
