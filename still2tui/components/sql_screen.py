"""The SQL console: a multi-line editor, results in a table, a cell viewer, copy and export, history.

``ctrl+r`` (or f9) runs the editor's text; ``alt+up``/``alt+down`` walk the history (persisted);
``escape`` leaves the editor for the results, ``/`` returns to it. On the results, ``enter`` opens the
highlighted cell in full, ``y`` copies it (OSC 52), ``Y`` copies the shown results as TSV, ``E``
exports the whole result (not only the rows shown) to CSV, JSONL or Parquet. Statements run through
store/sql_console.py: read statements only, on a sandboxed connection that cannot reach other files
(the export is written by the TUI, not by DuckDB).
"""

from __future__ import annotations

import csv
import json
import time
from datetime import datetime
from pathlib import Path

import duckdb
from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Header, Label, Static, TextArea

from still2tui.actions import bindings
from still2tui.components.key_footer import KeyFooter
from still2tui.components.modals import Prompt
from still2tui.formatting import cell_text
from still2tui.history import History
from store import StoreError
from store.output import open_output
from store.sql_console import run_query

MAX_ROWS = 1000


def write_result(names: list[str], rows: list[tuple], path: str) -> None:
    """A result to .csv, .parquet or (anything else) JSONL, written as store.output writes (atomically)."""
    out = Path(path)
    if out.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        with open_output(out, binary=True) as fh:
            pq.write_table(pa.Table.from_pylist([dict(zip(names, r)) for r in rows]), fh)
    elif out.suffix == ".csv":
        with open_output(out) as fh:
            writer = csv.writer(fh)
            writer.writerow(names)
            writer.writerows(rows)
    else:
        with open_output(out) as fh:
            for r in rows:
                fh.write(json.dumps(dict(zip(names, r)), ensure_ascii=False, default=str) + "\n")


class CellViewer(ModalScreen[None]):
    """One result cell in full (scrollable); y copies it."""

    BINDINGS = [Binding("escape,q,enter", "app.pop_screen", "Close"), Binding("y", "copy", "Copy")]

    def __init__(self, column: str, value):
        super().__init__()
        self.column, self.value = column, value

    def compose(self) -> ComposeResult:
        text = self.value if isinstance(self.value, str) else json.dumps(self.value, default=str, indent=1)
        with Vertical(classes="dialog"):
            yield Label(f"[b]{self.column}[/b] · {len(text):,} characters · y copies · escape closes", markup=True)
            with VerticalScroll(id="cell-scroll"):
                yield Static(text, markup=False, id="cell-text")

    def action_copy(self) -> None:
        text = self.value if isinstance(self.value, str) else json.dumps(self.value, default=str)
        self.app.copy_to_clipboard("" if text is None else str(text))
        self.notify(f"copied {self.column}", timeout=2)


class SqlScreen(Screen):
    BINDINGS = bindings("sql")

    def __init__(self):
        super().__init__()
        self.history = History(self.app.history_path)
        self.names: list[str] = []
        self.rows: list[tuple] = []
        self.query_text = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield TextArea("", id="sql-input", soft_wrap=True, show_line_numbers=False, tab_behavior="indent")
        yield Static(
            "ctrl+r runs · alt+up/down history · escape to the results (enter views a cell, y copies it, "
            "Y copies all, E exports) · tables: problem trajectory run flag perplexity pair dataset "
            "dataset_member model eval_result note tag event · views: trajectories problem_stats "
            "curation_progress pairs",
            id="sql-status",
        )
        yield DataTable(id="sql-results", zebra_stripes=True)
        yield KeyFooter()

    @property
    def editor(self) -> TextArea:
        return self.query_one("#sql-input", TextArea)

    def on_mount(self) -> None:
        self.editor.text = ""
        self.set_focus(self.editor)

    def action_focus_query(self) -> None:
        self.set_focus(self.editor)

    def action_leave_editor(self) -> None:
        self.set_focus(self.query_one(DataTable))

    def action_run_sql(self) -> None:
        self.run_sql(self.editor.text)

    def run_sql(self, query: str) -> None:
        query = query.strip()
        if not query:
            return
        self.history.add(query)
        status = self.query_one("#sql-status", Static)
        table = self.query_one(DataTable)
        start = time.perf_counter()
        try:
            result = run_query(self.app.store, query, limit=MAX_ROWS)
        except (duckdb.Error, StoreError) as exc:
            status.update(f"[red]{type(exc).__name__}: {escape(str(exc).splitlines()[0])}[/]")
            return
        self.names, self.rows, self.query_text = result.names, result.rows, query
        table.clear(columns=True)
        table.add_columns(*result.names)
        for row in self.rows:
            table.add_row(*[cell_text(v, 40) for v in row])
        # DataTable sizes its columns when its own message queue next goes idle; with the editor focused
        # nothing may reach the table (once in tmux the columns kept their headers' widths: "Sky-T")
        table.call_later(table.refresh)
        more = f" (first {MAX_ROWS}; E exports them all)" if result.more else ""
        status.update(
            f"{len(self.rows):,} rows{more} in {1000 * (time.perf_counter() - start):.0f} ms · "
            "enter views a cell · y copies it · Y copies all · E exports"
        )

    def action_history(self, delta: int) -> None:
        text = self.history.step(delta)
        if text is not None:
            self.editor.text = text
            self.editor.move_cursor(self.editor.document.end)

    # -- results ----------------------------------------------------------------------------------------
    def _cell(self) -> tuple[str, object] | None:
        table = self.query_one(DataTable)
        if not self.rows or not table.row_count:
            return None
        row, column = table.cursor_coordinate
        return self.names[column], self.rows[row][column]

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        cell = self._cell()
        if cell is not None:
            self.app.push_screen(CellViewer(*cell))

    def action_copy_cell(self) -> None:
        cell = self._cell()
        if cell is not None:
            name, value = cell
            self.app.copy_to_clipboard("" if value is None else str(value))
            self.notify(f"copied {name}", timeout=2)

    def action_copy_results(self) -> None:
        lines = ["\t".join(self.names)] + [
            "\t".join("" if v is None else str(v).replace("\t", " ").replace("\n", " ") for v in r) for r in self.rows
        ]
        self.app.copy_to_clipboard("\n".join(lines))
        self.notify(f"copied {len(self.rows):,} rows as TSV", timeout=2)

    def action_export_results(self) -> None:
        if not self.query_text:
            self.notify("run a query first", severity="warning")
            return
        query = self.query_text

        def done(path: str | None) -> None:
            if not path:
                return
            try:
                result = run_query(self.app.store, query, limit=None)
                write_result(result.names, result.rows, path)
            except (duckdb.Error, StoreError, OSError, ValueError) as exc:
                self.notify(f"export failed: {exc}", severity="error", timeout=8)
                return
            self.notify(f"exported {len(result.rows):,} rows to {path}", timeout=4)

        self.app.push_screen(
            Prompt(
                "Export the whole result to (.csv, .jsonl or .parquet):",
                f"still2-sql-{datetime.now():%Y%m%d-%H%M%S}.csv",
            ),
            done,
        )
