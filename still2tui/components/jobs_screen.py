"""The jobs screen: runs with live progress, a log tail, launching from a schema-made form, cancelling."""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Header, Log, OptionList, Static

from still2tui.actions import bindings
from still2tui.components.job_form import JobForm
from still2tui.components.key_footer import KeyFooter
from still2tui.components.modals import Confirm
from still2tui.formatting import cell_text
from still2tui.jobs import CliError, tail
from still2tui.messages import DataChanged
from store.tui_queries import job_runs


class CommandPicker(OptionList):
    """Which pipeline command to launch (from the CLI schema)."""


class JobsScreen(Screen):
    BINDINGS = bindings("jobs")

    def __init__(self):
        super().__init__()
        self.commands = []
        self.selected: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("n new job · x cancel · the log of the highlighted job follows", id="jobs-help")
        yield DataTable(id="jobs-table", cursor_type="row", zebra_stripes=True)
        yield CommandPicker(id="picker")
        yield Log(id="job-log", max_lines=2000)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#picker").display = False
        self.query_one(DataTable).add_columns("id", "kind", "state", "progress", "started", "ended", "error")
        self.query_one(DataTable).focus()
        self.refresh_jobs()
        self.set_interval(1.0, self.follow)

    def refresh_jobs(self) -> None:
        table = self.query_one(DataTable)
        with self.app.store.read() as conn:
            rows = job_runs(conn)
        self.rows = {r.id: r for r in rows}
        current = self.selected
        table.clear()
        for r in rows:
            table.add_row(
                r.id,
                r.kind,
                r.state,
                _progress(r.progress),
                cell_text(r.started),
                cell_text(r.ended),
                cell_text(r.error, 40),
                key=r.id,
            )
        if current in self.rows:
            table.move_cursor(row=list(self.rows).index(current))
        elif rows:
            self.selected = rows[0].id
        self.show_log()

    def action_refresh_jobs(self) -> None:
        self.app.store.refresh()
        self.refresh_jobs()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key and event.row_key.value != self.selected:
            self.selected = event.row_key.value
            self.show_log()

    def show_log(self) -> None:
        log = self.query_one(Log)
        log.clear()
        row = self.rows.get(self.selected) if self.selected else None
        if row:
            log.write_lines(tail(row.log_path) or [log_placeholder(row.log_path, row.state)])

    def follow(self) -> None:
        row = self.rows.get(self.selected) if self.selected else None
        if row and row.state in ("queued", "running"):
            self.app.store.refresh()
            self.refresh_jobs()

    def action_new_job(self) -> None:
        try:
            self.commands = self.app.cli.schema()
        except (CliError, OSError, ValueError) as exc:
            self.notify(f"cannot read the pipeline's job schema: {exc}", severity="error", timeout=8)
            return
        picker = self.query_one(CommandPicker)
        picker.clear_options()
        picker.add_options([f"{c.name:10} {c.help}" for c in self.commands])
        picker.display = True
        picker.highlighted = 0
        picker.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        picker = self.query_one(CommandPicker)
        picker.display = False
        command = self.commands[event.option_index]
        self.app.push_screen(JobForm(command), self.launch)

    def key_escape(self) -> None:
        picker = self.query_one(CommandPicker)
        if picker.display:
            picker.display = False
            self.query_one(DataTable).focus()

    def launch(self, argv: list[str] | None) -> None:
        if not argv:
            return
        self.app.store.refresh()  # the CLI writes the run row: our read connection must not be held
        try:
            info = self.app.cli.start(argv)
        except (CliError, OSError, ValueError) as exc:
            self.notify(f"launch failed: {exc}", severity="error", timeout=8)
            return
        self.notify(f"started {argv[0]} as job {info.get('id')} (pid {info.get('pid')})", timeout=4)
        self.selected = info.get("id")
        self.app.store.refresh()
        self.refresh_jobs()
        self.query_one(DataTable).focus()

    def action_cancel_job(self) -> None:
        job = self.selected
        row = self.rows.get(job) if job else None
        if row is None:
            return
        if row.state not in ("queued", "running"):
            self.notify(f"{job} is {row.state}: nothing to cancel", timeout=3)
            return

        def cancel(yes: bool | None) -> None:
            if not yes:
                return
            self.app.store.refresh()
            try:
                self.notify(self.app.cli.cancel(job), timeout=4)
            except (CliError, OSError) as exc:
                self.notify(f"cancel failed: {exc}", severity="error")
            self.action_refresh_jobs()

        self.app.push_screen(
            Confirm(f"Cancel the {row.kind} job {job} ({row.state}; it resumes later with still2 jobs resume {job})?"),
            cancel,
        )

    def on_data_changed(self, event: DataChanged) -> None:
        self.refresh_jobs()


def log_placeholder(log_path: str | None, state: str) -> str:
    """What the log pane says when there is no log to show."""
    if not log_path:
        return (
            "(no log file: this run was started from the command line, so its output went to that "
            "terminal; state and progress above come from the store)"
        )
    return "(no log yet)" if state in ("queued", "running") else f"(the log file {log_path} is missing or empty)"


def _progress(value) -> str:
    if not value:
        return ""
    try:
        p = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)
    if not isinstance(p, dict):
        return str(p)
    done, total = p.get("done"), p.get("total")
    if done is None:
        return str(p.get("desc", ""))
    bar = ""
    if isinstance(done, (int, float)) and total:
        filled = int(10 * done / total)
        bar = "█" * filled + "░" * (10 - filled) + " "
    return f"{bar}{done}/{total if total is not None else '?'} {p.get('desc', '')}".strip()
