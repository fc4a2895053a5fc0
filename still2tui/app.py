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
import os
import sys
from functools import partial
from pathlib import Path

from textual.app import App

from still2tui.actions import bindings, load_keymap
from still2tui.commands import ScreenCommands
from still2tui.curator import Curator, describe
from still2tui.detail_rows import DetailRows
from still2tui.jobs import PipelineCli
from still2tui.messages import DataChanged, IndexReady, ShowTrajectories
from still2tui.screens import make_screen, modes, scope_of
from still2tui.settings import UiState, curator_name
from still2tui.table_index import TrajectoryIndex
from store import Store, StoreError
from store.runs import repair_stale_runs
from store.tui_queries import trajectory_count

SYNC_INDEX_ROWS = 100_000  # stores up to this size build the index before the first paint
INDEX_START_DELAY = 0.05  # seconds between the first frame and the start of a background index load

CSS_PATH = Path(__file__).with_name("still2tui.tcss")
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

    def __init__(
        self,
        db: str | os.PathLike,
        *,
        cli: list[str] | None = None,
        keymap: dict[str, str] | None = None,
        live_interval: float = 1.5,
        history_path: Path | None = None,
        curator: str | None = None,
        ui_state: UiState | None = None,
    ):
        super().__init__()
        self.store = Store(db, sticky_reads=True)
        self.store.init()
        # Worker threads (index loads, searches) read through their own short-lived connections, so a
        # long read never blocks the UI thread's queries, and no connection stays open that would make
        # our own writes (Curator, on the UI thread) wait for it.
        self.bg_store = Store(db)
        self.db_path = str(db)
        self.cli = PipelineCli(cli or [sys.executable, "-m", "pipeline"], self.db_path)
        self.curator_name = curator or curator_name()
        self.curator = Curator(self.store, actor=self.curator_name)
        self.ui_state = ui_state or UiState()
        self.user_keymap = load_keymap() if keymap is None else keymap
        self.live_interval = live_interval
        self.history_path = history_path
        self.index = TrajectoryIndex()
        self._index_loading = False
        self._search_indexing = False
        self._data_changes = 0  # DataChanged messages seen (other processes' writes among them)
        self._gc_threshold = gc.get_threshold()
        self.detail_rows = DetailRows(
            self.store, self.index, lambda: not self._index_loading, lambda: (Curator.writes, self._data_changes)
        )

    DEFAULT_MODE = "trajectories"
    MODES = {mode: partial(make_screen, mode) for mode in modes()}

    def on_mount(self) -> None:
        gc.set_threshold(*GC_THRESHOLD)
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self.sub_title = f"{Path(self.db_path).name} · {self.curator_name}"
        self._last_stamp = self._file_stamp()
        self.set_interval(0.1, self._poll_store)
        self.set_interval(self.live_interval, self.watch_store)
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
            rows = trajectory_count(conn)
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

    def sync_index(self, deep: bool = False) -> str | None:
        """After DataChanged: catch the index up with the store (appends and curation in place); ``deep``
        after another process wrote (see TrajectoryIndex.sync). Returns what sync found (None: no index)."""
        if not self.index.ready or self._index_loading:
            return None
        result = self.index.sync(self.store, deep=deep)
        if result == "stale":
            self.ensure_index(rebuild=True)
        return result

    # -- live data ----------------------------------------------------------------------------------------
    # Other processes (jobs, the CLI, a second TUI) write the store while the TUI shows it. A writer has to
    # make our sticky read connection let go (store/connection.py), and its commit changes the file; either
    # tells the TUI, within one ``live_interval``, to re-read: the index catches up (appended rows, statuses,
    # or a rebuild in the background, shown as "catching up") and the shown screen reloads.
    _writer_seen = False
    _writes_seen = 0
    _last_stamp: tuple = ()

    def _poll_store(self) -> None:
        if self.store.poll():
            self._writer_seen = True

    def _file_stamp(self) -> tuple:
        stamp = []
        for path in (self.db_path, self.db_path + ".wal"):
            try:
                st = os.stat(path)
                stamp.append((st.st_mtime_ns, st.st_size))
            except OSError:
                stamp.append(None)
        return tuple(stamp)

    REPAIR_EVERY = 8  # ticks between checks for runs whose process died (store/runs.py)
    _ticks = 0

    def watch_store(self) -> None:
        """Notice what other processes wrote since the last tick, and show it."""
        self._ticks += 1
        if self._ticks % self.REPAIR_EVERY == 1 and repair_stale_runs(self.store):  # killed runs become `crashed`
            self._writer_seen = True
        released, self._writer_seen = self._writer_seen, False
        own = Curator.writes != self._writes_seen  # our own writes changed the file too (already shown)
        self._writes_seen = Curator.writes
        stamp = self._file_stamp()
        external = released or (stamp != self._last_stamp and not own)
        self._last_stamp = stamp
        if external:
            self.store.refresh()
            # Screens drawn from the index need no reload when the index saw nothing new (our own search-index
            # catch-up writes too); the others re-read their small tables.
            if self.sync_index(deep=True) != "same" or not getattr(self.screen, "LIVE_FROM_INDEX", False):
                self.screen.post_message(DataChanged())

    def on_data_changed(self, event: DataChanged) -> None:
        """Every DataChanged bubbles up here after the screen has handled it: rows read before are stale."""
        self._data_changes += 1

    @property
    def catching_up(self) -> bool:
        """The index is being rebuilt after other processes' writes (the table shows the store meanwhile)."""
        return self._index_loading and self.index.ready

    def action_refresh_data(self) -> None:
        """f5: read everything again (the index is rebuilt, whatever its signature says)."""
        self.store.refresh()
        if self.index.ready:
            self.ensure_index(rebuild=True)
        self.screen.post_message(DataChanged())
        self.notify("reloaded", timeout=1)

    # -- curation -----------------------------------------------------------------------------------------
    def action_undo(self) -> None:
        event = self.curator.undo()
        self.notify(describe(event, "undid") if event else f"nothing of {self.curator_name}'s to undo", timeout=2)
        self.screen.post_message(DataChanged())

    def action_redo(self) -> None:
        event = self.curator.redo()
        self.notify(describe(event, "redid") if event else f"nothing of {self.curator_name}'s to redo", timeout=2)
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

    def open_detail(self, trajectory_id: str, walker=None, highlight: list[str] | None = None) -> None:
        """Push the detail screen on a trajectory; one instance is installed and reused for every one.
        ``walker(id, step)``: the next/previous trajectory of the list it was opened from; ``highlight``: the
        words of the search that led there."""
        from still2tui.components.detail_screen import DetailScreen

        if not self.is_screen_installed("detail"):
            screen = DetailScreen(trajectory_id)
            screen.walker, screen.highlight = walker, list(highlight or [])
            self.install_screen(screen, "detail")
            self.push_screen("detail")
            return
        screen = self.get_screen("detail")
        screen.walker = walker
        screen.show(trajectory_id, highlight=list(highlight or []))
        if screen is not self.screen:
            self.push_screen(screen)

    def export_selection(self, selection, path: str) -> None:
        """Write the trajectories of a selection (every column) to a JSONL or Parquet file, in a worker."""
        self.notify(f"exporting {selection.n:,} trajectories to {path}…", timeout=3)
        self.run_worker(lambda: self._export(selection, path), thread=True, group="export")

    def _export(self, selection, path: str) -> None:
        from store.formats.export import export_trajectories

        try:
            ids = Curator(self.bg_store).ids(selection)
            fmt = "parquet" if path.endswith(".parquet") else "jsonl"
            n = export_trajectories(self.bg_store, path, fmt=fmt, shape="raw", ids=ids)
        except Exception as exc:  # a bad path, a full disk: say so, nothing else breaks
            self.call_from_thread(self.notify, f"export failed: {exc}", severity="error", timeout=8)
            return
        self.call_from_thread(self.notify, f"exported {n:,} trajectories to {path}", timeout=5)

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

        self.push_screen(HelpScreen(self.user_keymap, scope_of(self.screen)))

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
