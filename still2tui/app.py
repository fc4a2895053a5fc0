"""The Textual app (first version): browse the store's trajectories page by page and read one in full.

It reads through a sticky Store connection and hands it back every 100 ms when a pipeline job
waits to write, so jobs and the TUI share the file without lock errors (see store/connection.py).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Markdown, Static

from store import Store

PAGE = 200
COLUMNS = ("problem", "source", "model", "origin", "verdict", "answer", "gold", "chars", "ppl", "flags", "status")


class DetailScreen(Screen):
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back")]

    def __init__(self, row: dict):
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        r = self.row
        yield Header()
        with VerticalScroll():
            yield Static(f"[b]{r['id']}[/b]  problem {r['problem_id']}  verdict [b]{r['verdict']}[/b]  "
                         f"extracted {r['extracted']!s}  gold {r['gold']!s}  status {r['status']}", markup=True)
            yield Markdown(f"### Problem\n\n{r['question'] or ''}")
            yield Markdown(f"### Thought\n\n{r['thought'] or '(none)'}")
            yield Markdown(f"### Solution\n\n{r['solution'] or '(none)'}")
        yield Footer()


class Still2App(App):
    TITLE = "still2tui"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("r", "reload", "Reload"),
        Binding("n", "page(1)", "Next page"),
        Binding("p", "page(-1)", "Prev page"),
    ]

    def __init__(self, db: str | os.PathLike):
        super().__init__()
        self.store = Store(db, sticky_reads=True)
        self.offset = 0
        self.total = 0
        self.ids: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="summary")
        yield DataTable(id="trajectories", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = str(self.store.path)
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.load_page()
        self.set_interval(0.1, self.store.poll)

    def load_page(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        with self.store.read() as conn:
            self.total = conn.execute("SELECT count(*) FROM trajectory").fetchone()[0]
            n_problems = conn.execute("SELECT count(*) FROM problem").fetchone()[0]
            rows = conn.execute(f"""
                SELECT id, problem_id, source, model, origin, verdict, extracted, gold, n_chars, ppl, flags, status
                FROM trajectories ORDER BY created, id LIMIT {PAGE} OFFSET ?""", [self.offset]).fetchall()
        self.ids = [r[0] for r in rows]
        for r in rows:
            table.add_row(*[_cell(v) for v in r[1:]], key=r[0])
        last = min(self.offset + PAGE, self.total)
        self.query_one("#summary", Static).update(
            f"{n_problems} problems · {self.total} trajectories · rows {self.offset + 1 if rows else 0}-{last}")

    def action_reload(self) -> None:
        self.store.refresh()
        self.load_page()

    def action_page(self, step: int) -> None:
        new = self.offset + step * PAGE
        if 0 <= new < max(self.total, 1):
            self.offset = new
            self.load_page()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        with self.store.read() as conn:
            cur = conn.execute("SELECT * FROM trajectories WHERE id = ?", [event.row_key.value])
            names = [d[0] for d in cur.description]
            row = dict(zip(names, cur.fetchone()))
        self.push_screen(DetailScreen(row))

    def on_unmount(self) -> None:
        self.store.close()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list):
        return ",".join(value)
    text = str(value).replace("\n", " ")
    return text if len(text) <= 24 else text[:23] + "…"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="still2tui", description="Curation TUI over a still2 store.")
    ap.add_argument("--db", default=os.environ.get("STILL2_DB", "still2.duckdb"))
    args = ap.parse_args(argv)
    if not Path(args.db).exists():
        raise SystemExit(f"still2tui: no store at {args.db} (create one with `still2 init` or `make demo`)")
    Still2App(args.db).run()
