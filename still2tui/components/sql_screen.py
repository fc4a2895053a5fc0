"""The SQL console: read-only DuckDB SQL on a sandboxed connection, results in a table, persisted history."""
from __future__ import annotations

import time

import duckdb
from rich.markup import escape
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static

from store import StoreError
from store.sql_console import open_query
from still2tui.actions import bindings
from still2tui.components.key_footer import KeyFooter
from still2tui.formatting import cell_text
from still2tui.history import History

MAX_ROWS = 1000


class SqlScreen(Screen):
    BINDINGS = bindings("sql")

    def __init__(self):
        super().__init__()
        self.history = History(self.app.history_path)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="SQL (read-only), e.g. SELECT verdict, count(*) FROM trajectories GROUP BY 1",
                    id="sql-input")
        yield Static("tables: problem trajectory run flag perplexity pair dataset dataset_member model "
                     "eval_result note tag event · views: trajectories problem_stats curation_progress pairs",
                     id="sql-status")
        yield DataTable(id="sql-results", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def action_focus_query(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.run_sql(event.value)

    def action_run_sql(self) -> None:
        self.run_sql(self.query_one(Input).value)

    def run_sql(self, query: str) -> None:
        query = query.strip()
        if not query:
            return
        self.history.add(query)
        status = self.query_one("#sql-status", Static)
        table = self.query_one(DataTable)
        start = time.perf_counter()
        try:
            # Read statements only, on a sandbox that cannot reach other files (store/sql_console.py).
            with open_query(self.app.store, query) as cur:
                names = [d[0] for d in cur.description] if cur.description else []
                rows = cur.fetchmany(MAX_ROWS + 1) if names else []
        except (duckdb.Error, StoreError) as exc:
            status.update(f"[red]{type(exc).__name__}: {escape(str(exc).splitlines()[0])}[/]")
            return
        table.clear(columns=True)
        table.add_columns(*names)
        for row in rows[:MAX_ROWS]:
            table.add_row(*[cell_text(v, 40) for v in row])
        more = f" (first {MAX_ROWS})" if len(rows) > MAX_ROWS else ""
        status.update(f"{min(len(rows), MAX_ROWS):,} rows{more} in {1000 * (time.perf_counter() - start):.0f} ms")

    def action_history(self, delta: int) -> None:
        text = self.history.step(delta)
        if text is not None:
            box = self.query_one(Input)
            box.value = text
            box.cursor_position = len(text)
