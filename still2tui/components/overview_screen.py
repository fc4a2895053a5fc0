"""Runs, curation progress, datasets, models, the Table-2 eval comparison, plots and the curation activity
(who did what: the event log), one tab each. ``tab`` / ``shift+tab`` switch tabs."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static, TabbedContent, TabPane

from still2tui.actions import bindings
from still2tui.components.key_footer import KeyFooter
from still2tui.components.plots_screen import PlotView, plot_makers
from still2tui.components.virtual_table import VirtualTable
from still2tui.messages import DataChanged
from still2tui.sources import Column, SqlSource
from store.tui_queries import (
    DATASETS_SQL,
    EVENTS_SQL,
    MODELS_SQL,
    PROGRESS_SQL,
    RUNS_SQL,
    Predicate,
    base_models,
    eval_trajectories,
    table2,
)

C = Column
RUN_COLUMNS = [
    C("id", "run", 14, "id", 1, flex=True),
    C("kind", "kind", 8, "kind", 1),
    C("state", "state", 9, "state", 1),
    C("progress", "progress", 9, "progress", 3),
    C("trajectories", "traj", 7, "trajectories", 1, True),
    C("correct", "correct", 7, "correct", 2, True),
    C("approved", "appr", 6, "approved", 4, True),
    C("rejected", "rej", 6, "rejected", 4, True),
    C("started", "started", 16, "started", 5),
    C("ended", "ended", 16, "ended", 6),
    C("error", "error", 20, "error", 7),
]
PROGRESS_COLUMNS = [
    C("run", "run", 14, "run", 1, flex=True),
    C("origin", "origin", 8, "origin", 2),
    C("trajectories", "traj", 8, "trajectories", 1, True),
    C("approved", "approved", 8, "approved", 1, True),
    C("rejected", "rejected", 8, "rejected", 1, True),
    C("pending", "pending", 8, "pending", 1, True),
]
DATASET_COLUMNS = [
    C("name", "dataset", 14, "name", 1, flex=True),
    C("kind", "kind", 5, "kind", 3),
    C("parent", "parent", 12, "parent", 4),
    C("members", "members", 7, "members", 1, True),
    C("inherited", "inher", 6, "inherited", 5, True),
    C("mix", "mix", 24, "mix", 2),
    C("avg_len", "avg chars", 9, "avg_len", 2, True),
    C("min_len", "min", 6, "min_len", 6, True),
    C("max_len", "max", 6, "max_len", 6, True),
    C("approved", "appr", 6, "approved", 5, True),
    C("created", "created", 16, "created", 7),
]
MODEL_COLUMNS = [
    C("id", "model", 16, "id", 1, flex=True),
    C("method", "method", 6, "method", 1),
    C("base", "base", 14, "base", 3),
    C("parent", "parent", 12, "parent", 2),
    C("dataset", "dataset", 12, "dataset", 2),
    C("path", "path", 20, "path", 6),
    C("run_id", "run", 10, "run_id", 5),
    C("created", "created", 16, "created", 7),
]
EVENT_COLUMNS = [
    C("ts", "when", 16, "ts", 2),
    C("actor", "curator", 12, "actor", 1),
    C("what", "action", 18, "what", 1, flex=True),
    C("target_kind", "on", 10, "target_kind", 4),
    C("n", "rows", 7, "n", 1, True),
    C("state", "state", 7, "state", 3),
    C("note", "note", 24, "note", 5),
]


class OverviewScreen(Screen):
    BINDINGS = bindings("overview")

    def __init__(self):
        super().__init__()
        store = self.app.store
        self.sources = {
            "runs": SqlSource(store, RUNS_SQL, RUN_COLUMNS, sort_key="started", descending=True),
            "progress": SqlSource(store, PROGRESS_SQL, PROGRESS_COLUMNS, key="run_origin", sort_key="run"),
            "datasets": SqlSource(store, DATASETS_SQL, DATASET_COLUMNS, key="name", sort_key="created"),
            "models": SqlSource(store, MODELS_SQL, MODEL_COLUMNS, sort_key="created"),
            "events": SqlSource(store, EVENTS_SQL, EVENT_COLUMNS, sort_key="ts", descending=True),
        }
        self.backbone: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs"):
            with TabPane("Runs", id="tab-runs"):
                yield VirtualTable(self.sources["runs"], id="vt-runs")
            with TabPane("Curation", id="tab-progress"):
                yield VirtualTable(self.sources["progress"], id="vt-progress")
            with TabPane("Datasets", id="tab-datasets"):
                yield VirtualTable(self.sources["datasets"], id="vt-datasets")
            with TabPane("Models", id="tab-models"):
                yield VirtualTable(self.sources["models"], id="vt-models")
            with TabPane("Evals", id="tab-evals"):
                yield Static(id="table2")
                yield Static("b: choose the backbone the relative gain is computed against", id="table2-note")
            with TabPane("Plots", id="tab-plots"):
                yield VerticalScroll(id="overview-plots")
            with TabPane("Activity", id="tab-events"):
                yield VirtualTable(self.sources["events"], id="vt-events", empty_text="no curation yet")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        for table in self.query(VirtualTable).results(VirtualTable):
            table.reload()
        self.render_table2()

    def render_table2(self) -> None:
        with self.app.store.read() as conn:
            models, benchmarks, values = table2(conn, self.backbone)
        if self.backbone is None and models:
            with self.app.store.read() as conn:
                bases = base_models(conn)
            self.backbone = next((m for m in models if m in bases), models[0])
            models = sorted(models, key=lambda m: (m != self.backbone, m))
        table = Table(title=f"Accuracy (%) and gain over {self.backbone or '–'}", expand=True)
        table.add_column("model", style="bold")
        for b in benchmarks:
            table.add_column(b, justify="right")
        for m in models:
            cells = []
            for b in benchmarks:
                v, base = values.get((m, b)), values.get((self.backbone, b))
                if v is None:
                    cells.append("–")
                    continue
                pct = 100 * v if v <= 1 else v
                text = f"{pct:.1f}"
                if base and m != self.backbone:
                    gain = 100 * (v - base) / base
                    text += f" [{'green' if gain >= 0 else 'red'}]({gain:+.1f}%)[/]"
                cells.append(text)
            table.add_row(m + (" (backbone)" if m == self.backbone else ""), *cells)
        if not models:
            table.add_row("no eval results yet (still2 eval writes them)")
        self.table2 = table
        parts = [table]
        with self.app.store.read() as conn:
            graded = eval_trajectories(conn)
        if graded:
            counts = Table(
                title="Graded eval trajectories in the store (imported or from still2 eval), by our verifier",
                expand=True,
            )
            for name in ("model", "benchmark", "graded", "correct", "accuracy", "unverified"):
                counts.add_column(name, justify="left" if name in ("model", "benchmark") else "right")
            for e in graded:
                counts.add_row(
                    e.model,
                    e.benchmark,
                    f"{e.graded:,}",
                    f"{e.correct:,}",
                    f"{100 * e.correct / e.graded:.1f}" if e.graded else "–",
                    f"{e.unverified:,}",
                )
            parts.append(counts)
        self.query_one("#table2", Static).update(Group(*parts))

    def action_backbone(self) -> None:
        with self.app.store.read() as conn:
            models, _, _ = table2(conn, None)
        if models:
            i = models.index(self.backbone) if self.backbone in models else -1
            self.backbone = models[(i + 1) % len(models)]
            self.render_table2()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-plots":
            box = self.query_one("#overview-plots", VerticalScroll)
            box.remove_children()
            with self.app.store.read() as conn:
                makers = plot_makers(conn, Predicate())
            box.mount_all([PlotView(make) for make in makers])
        else:
            for table in event.pane.query(VirtualTable).results(VirtualTable):
                table.focus()

    def action_next_tab(self, step: int = 1) -> None:
        tabs = self.query_one(TabbedContent)
        ids = [p.id for p in tabs.query(TabPane)]
        tabs.active = ids[(ids.index(tabs.active) + step) % len(ids)]

    def on_data_changed(self, event: DataChanged) -> None:
        self.reload()
