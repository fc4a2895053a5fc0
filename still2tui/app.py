"""The Textual app: modes (one per screen), undo/redo, live refresh while jobs run, palette, keymap, entry point.

Every read goes through a sticky Store connection that is handed back every 100 ms when a pipeline
job waits to write (store/connection.py); writes are short ``store.write()`` blocks in Curator.
Pipeline steps run only as subprocesses of the CLI (``cli``, default ``python -m pipeline``).
The in-memory TrajectoryIndex (table_index.py) is loaded on first use: at once for small stores,
in a worker thread for large ones (the first page is painted straight from the store meanwhile).
"""
from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from functools import partial
from pathlib import Path

from textual.app import App

from store import Store, StoreError
from store.runs import repair_stale_runs
from still2tui.actions import bindings, load_keymap
from still2tui.commands import ScreenCommands
from still2tui.curator import Curator
from still2tui.detail_rows import DetailRows
from still2tui.jobs import PipelineCli
from still2tui.messages import DataChanged, IndexReady, ShowTrajectories
from still2tui.table_index import TrajectoryIndex

SYNC_INDEX_ROWS = 100_000  # stores up to this size build the index before the first paint
INDEX_START_DELAY = 0.05  # seconds between the first frame and the start of a background index load

CSS_PATH = Path(__file__).with_name("still2tui.tcss")
SCREENS = ("trajectories", "problems", "pairs", "overview", "jobs", "sql", "disagreements")


SCREEN_CLASSES = {"trajectories": "TrajectoriesScreen", "problems": "ProblemsScreen", "pairs": "PairsScreen",
                  "overview": "OverviewScreen", "jobs": "JobsScreen", "sql": "SqlScreen",
                  "disagreements": "DisagreementsScreen"}


def make_screen(mode: str):
    """The screen of a mode, its module imported on first use (first paint only needs the trajectories one)."""
    module = importlib.import_module(f"still2tui.components.{mode}_screen")
    return getattr(module, SCREEN_CLASSES[mode])()


# Young-generation collections every 20k container allocations instead of Python's 700: drawing a frame
# allocates enough for several, and opening a trajectory ran ~7 of them (6-9 ms, up to 35 ms under CPU
# load). A middle generation collected every 5 young ones keeps each pause short (< 40 ms measured on
# 1M rows under load; 50k young objects took ~100 ms). Restored when the app exits.
GC_THRESHOLD = (20_000, 5, 10)

SEARCH_INDEX_INTERVAL = 5.0
SEARCH_INDEX_BATCH = 20_000
SEARCH_INDEX_FIRST = 1.0  # the first catch-up waits this long after the first frame


class Still2App(App):
    TITLE = "still2tui"
    CSS_PATH = CSS_PATH
    BINDINGS = bindings("app")
    COMMANDS = App.COMMANDS | {ScreenCommands}

    def __init__(self, db: str | os.PathLike, *, cli: list[str] | None = None, keymap: dict[str, str] | None = None,
                 live_interval: float = 1.5, history_path: Path | None = None):
        super().__init__()
        self.store = Store(db, sticky_reads=True)
        self.store.init()
        # Worker threads (index loads, searches) read through their own short-lived connections, so a
        # long read never blocks the UI thread's queries, and no connection stays open that would make
        # our own writes (Curator, on the UI thread) wait for it.
        self.bg_store = Store(db)
        self.db_path = str(db)
        self.cli = PipelineCli(cli or [sys.executable, "-m", "pipeline"], self.db_path)
        self.curator = Curator(self.store)
        self.user_keymap = load_keymap() if keymap is None else keymap
        self.live_interval = live_interval
        self.history_path = history_path
        self.index = TrajectoryIndex()
        self._index_loading = False
        self._search_indexing = False
        self._data_changes = 0  # DataChanged messages seen (other processes' writes among them)
        self._gc_threshold = gc.get_threshold()
        self.detail_rows = DetailRows(self.store, self.index, lambda: not self._index_loading,
                                      lambda: (Curator.writes, self._data_changes))

    DEFAULT_MODE = "trajectories"
    MODES = {mode: partial(make_screen, mode) for mode in SCREENS}

    def on_mount(self) -> None:
        gc.set_threshold(*GC_THRESHOLD)
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self.sub_title = Path(self.db_path).name
        self.set_interval(0.1, self.store.poll)
        self.set_interval(self.live_interval, self.watch_jobs)
        self.set_interval(SEARCH_INDEX_INTERVAL, self.catch_up_search_index)
        self.call_after_refresh(self.set_timer, SEARCH_INDEX_FIRST, self.catch_up_search_index)

    # -- the store's full-text search index --------------------------------------------------------------
    def catch_up_search_index(self) -> None:
        """Index trajectories that have no search entries yet (new imports, rows jobs wrote), in a worker."""
        if not self._search_indexing:
            self._search_indexing = True
            self.run_worker(self._index_search, thread=True, group="search-index", exclusive=True)

    def _index_search(self) -> None:
        from store import search_index

        try:
            while True:
                with self.bg_store.read() as conn:
                    if not search_index.pending(conn):
                        return
                with self.bg_store.write() as conn:
                    search_index.catch_up(conn, SEARCH_INDEX_BATCH)
        finally:
            self._search_indexing = False

    # -- the in-memory index ------------------------------------------------------------------------------
    def ensure_index(self, rebuild: bool = False) -> None:
        """Load (or rebuild) the trajectory index: inline when the store is small, else in a worker."""
        if self._index_loading or (self.index.ready and not rebuild):
            return
        with self.store.read() as conn:
            rows = conn.execute("SELECT count(*) FROM trajectory").fetchone()[0]
        if rows <= SYNC_INDEX_ROWS:
            self.index.load(self.store)
            return
        self._index_loading = True
        # Start after the first frame: the load holds the GIL for long stretches and would delay it.
        self.call_after_refresh(self.set_timer, INDEX_START_DELAY, self._start_index_worker)

    def _start_index_worker(self) -> None:
        self.run_worker(self._load_index, thread=True, group="index", exclusive=True)

    @property
    def index_loading(self) -> bool:
        return self._index_loading

    def _load_index(self) -> None:
        try:
            self.index.load(self.bg_store)
        finally:
            self._index_loading = False
        self.call_from_thread(self._index_loaded)
        self.index.warm()  # every column's sort order, so a first sort costs no sort
        self.call_from_thread(self._freeze_heap)

    def _index_loaded(self) -> None:
        self.sync_index()  # writes committed while it loaded: their DataChanged found the index busy
        self.screen.post_message(IndexReady())

    @staticmethod
    def _freeze_heap() -> None:
        """Exempt what exists now (app, screens, loaded modules) from later garbage collections: a full
        collection over it took 100-300 ms, often in the middle of opening a trajectory."""
        gc.collect()
        gc.freeze()

    def sync_index(self) -> None:
        """After DataChanged: catch the index up with the store (appends and curation in place)."""
        if self.index.ready and not self._index_loading and self.index.sync(self.store) == "stale":
            self.ensure_index(rebuild=True)

    # -- live data ----------------------------------------------------------------------------------------
    def running_jobs(self) -> int:
        repair_stale_runs(self.store)  # rows of killed processes become `crashed` (store/runs.py)
        with self.store.read() as conn:
            return conn.execute("SELECT count(*) FROM run WHERE state IN ('queued', 'running')").fetchone()[0]

    def watch_jobs(self) -> None:
        """While a job runs, re-open the read connection so rows other processes wrote show up."""
        if self._was_running or self.running_jobs():
            self.store.refresh()
            self._was_running = bool(self.running_jobs())
            self.screen.post_message(DataChanged())

    _was_running = False

    def on_data_changed(self, event: DataChanged) -> None:
        """Every DataChanged bubbles up here after the screen has handled it: rows read before are stale."""
        self._data_changes += 1

    def action_refresh_data(self) -> None:
        self.store.refresh()
        self.screen.post_message(DataChanged())
        self.notify("reloaded", timeout=1)

    # -- curation -----------------------------------------------------------------------------------------
    def action_undo(self) -> None:
        event = self.curator.undo()
        self.notify(f"undid {event.action} on {event.n} {event.target_kind}(s)" if event else "nothing to undo",
                    timeout=2)
        self.screen.post_message(DataChanged())

    def action_redo(self) -> None:
        event = self.curator.redo()
        self.notify(f"redid {event.action} on {event.n} {event.target_kind}(s)" if event else "nothing to redo",
                    timeout=2)
        self.screen.post_message(DataChanged())

    def on_show_trajectories(self, message: ShowTrajectories) -> None:
        self.switch_mode("trajectories")
        self.call_after_refresh(self._apply_filter, message.filter_text)

    def _apply_filter(self, text: str) -> None:
        from still2tui.components.trajectories_screen import TrajectoriesScreen

        while not isinstance(self.screen, TrajectoriesScreen) and len(self.screen_stack) > 1:
            self.pop_screen()
        if isinstance(self.screen, TrajectoriesScreen):
            self.screen.apply_filter(text)

    def open_detail(self, trajectory_id: str) -> None:
        """Push the detail screen on a trajectory; one instance is installed and reused for every one."""
        from still2tui.components.detail_screen import DetailScreen

        if not self.is_screen_installed("detail"):
            self.install_screen(DetailScreen(trajectory_id), "detail")
            self.push_screen("detail")
            return
        screen = self.get_screen("detail")
        screen.show(trajectory_id)
        if screen is not self.screen:
            self.push_screen(screen)

    def build_pairs(self, problem_id: str) -> None:
        """Run `pairs build --problem ID` through the CLI as a job; report what the CLI says."""
        self.notify(f"building pairs for {problem_id}…", timeout=2)
        self.run_worker(lambda: self._build_pairs(problem_id), thread=True, group="pairs-build")

    def _build_pairs(self, problem_id: str) -> None:
        self.call_from_thread(self.store.refresh)  # the step writes: hand our read connection back first
        ok, message = self.cli.run_step(["pairs", "build", "--problem", problem_id])
        self.call_from_thread(self.notify, message, severity="information" if ok else "error", timeout=6)
        if ok:
            self.call_from_thread(self.action_refresh_data)

    def action_help(self) -> None:
        from still2tui.components.help_screen import HelpScreen

        self.push_screen(HelpScreen(self.user_keymap))

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def on_unmount(self) -> None:
        gc.unfreeze()  # let the interpreter free it all at exit
        gc.set_threshold(*self._gc_threshold)
        self.store.close()
        self.bg_store.close()
        self.index.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="still2tui", description="Curation TUI over a still2 store.")
    ap.add_argument("--db", default=os.environ.get("STILL2_DB", "still2.duckdb"))
    args = ap.parse_args(argv)
    if not Path(args.db).exists():
        raise SystemExit(f"still2tui: no store at {args.db} (create one with `still2 init` or `make demo`)")
    try:  # a damaged, foreign or newer store ends here in one line
        Store(args.db).schema_version()
    except StoreError as e:
        raise SystemExit(f"still2tui: {e}") from None
    Still2App(args.db).run()
