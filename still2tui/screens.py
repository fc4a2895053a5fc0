"""The screen registry: every screen of the app once, with its action scope, its mode key (for the
screens one switches to) and its help title. The app's modes, the mode-switch key bindings, the command
palette's scope and the help screen's sections all derive from it.

Where to add a screen: a module ``still2tui/components/<name>_screen.py`` with the Screen class, its
keys in ``still2tui/actions.py`` under a scope of its own (``BINDINGS = bindings("<scope>")``), and one
``register_screen(ScreenEntry(...))`` line below (with ``key`` for a mode reached from anywhere,
without one for a screen that is pushed, like the detail view).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ScreenEntry:
    scope: str  # the actions-registry scope of its keys; for a mode also the mode name
    class_name: str  # in still2tui/components/<module>.py
    module: str
    label: str  # what the mode-switch action and the help section are called
    key: str | None = None  # the key that switches to it from anywhere (a mode); None: a pushed screen
    show: bool = True  # in the footer
    reached_by: str | None = None  # how a pushed screen is reached, for its help title
    heading: str | None = None  # the help section's name when it is not the label in lower case

    @property
    def is_mode(self) -> bool:
        return self.key is not None

    @property
    def title(self) -> str:
        name = self.heading or self.label.lower()
        how = self.key or self.reached_by
        return f"{name} ({how})" if how else name


SCREENS: dict[str, ScreenEntry] = {}


def register_screen(entry: ScreenEntry) -> ScreenEntry:
    if entry.is_mode and any(e.key == entry.key for e in SCREENS.values() if e.scope != entry.scope):
        raise ValueError(f"screen {entry.scope!r}: key {entry.key!r} is taken")
    SCREENS[entry.scope] = entry
    return entry


for _entry in (
    ScreenEntry("trajectories", "TrajectoriesScreen", "trajectories_screen", "Trajectories", "1"),
    ScreenEntry("problems", "ProblemsScreen", "problems_screen", "Problems", "2"),
    ScreenEntry("pairs", "PairsScreen", "pairs_screen", "Pairs", "3"),
    ScreenEntry("overview", "OverviewScreen", "overview_screen", "Runs/data/evals", "4", heading="runs / data / evals"),
    ScreenEntry("jobs", "JobsScreen", "jobs_screen", "Jobs", "5"),
    ScreenEntry("sql", "SqlScreen", "sql_screen", "SQL", "6", heading="SQL"),
    ScreenEntry("disagreements", "DisagreementsScreen", "disagreements_screen", "Disagreements", "7", show=False),
    ScreenEntry("detail", "DetailScreen", "detail_screen", "Detail", reached_by="enter"),
    ScreenEntry("divergence", "DivergenceScreen", "divergence_screen", "First divergence"),
    ScreenEntry("plots", "PlotsScreen", "plots_screen", "Plots"),
):
    register_screen(_entry)


def modes() -> list[str]:
    return [scope for scope, entry in SCREENS.items() if entry.is_mode]


def make_screen(mode: str):
    """The screen of a mode, its module imported on first use (first paint only needs the trajectories one)."""
    entry = SCREENS[mode]
    module = importlib.import_module(f"still2tui.components.{entry.module}")
    return getattr(module, entry.class_name)()


def scope_of(screen) -> str | None:
    """The actions scope of a screen instance (None for screens outside the registry: modals)."""
    name = type(screen).__name__
    return next((scope for scope, entry in SCREENS.items() if entry.class_name == name), None)
