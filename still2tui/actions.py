"""The actions registry: every key binding of the app, by id, with default keys and a description.

Screens build their BINDINGS from here (``bindings(scope)``); the help screen lists the registry;
users remap keys in ``$XDG_CONFIG_HOME/still2tui/keys.toml``::

    [keys]
    "trajectories.approve" = "y"
    "app.quit" = "ctrl+q"

which the app applies with Textual's keymap (binding ids are the registry ids).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from textual.binding import Binding

from still2tui.screens import SCREENS


@dataclass(frozen=True)
class Action:
    id: str
    keys: str
    action: str
    description: str
    show: bool = True
    # Checked before the key reaches the focused widget: a key that moves the focus to a text box must, or
    # the keys typed right after it (a burst, a paste) are already queued for the old widget and run its
    # bindings (the r of "flag:repetition" rejected a row). Its action types the key when the box has focus.
    priority: bool = False


_A = Action
ACTIONS: dict[str, list[Action]] = {
    "app": [
        *(
            _A(f"app.{scope}", entry.key, f"app.switch_mode('{scope}')", entry.label, show=entry.show)
            for scope, entry in SCREENS.items()
            if entry.is_mode
        ),  # one per mode of the screen registry
        _A("app.undo", "u,ctrl+z", "app.undo", "Undo", show=False),
        _A("app.redo", "U,ctrl+y", "app.redo", "Redo", show=False),
        _A("app.refresh", "f5,ctrl+l", "app.refresh_data", "Reload from the store", show=False),
        _A("app.theme", "f2", "app.toggle_dark", "Dark/light theme", show=False),
        _A("app.help", "question_mark,f1", "app.help", "Help"),
        _A("app.quit", "q", "app.quit", "Quit", show=False),
    ],
    "table": [
        _A("table.down", "down,j", "move(1)", "Next row", show=False),
        _A("table.up", "up,k", "move(-1)", "Previous row", show=False),
        _A("table.pagedown", "pagedown", "page(1)", "Page down", show=False),
        _A("table.pageup", "pageup", "page(-1)", "Page up", show=False),
        _A("table.top", "home,g", "jump(0)", "First row", show=False),
        _A("table.bottom", "end,G", "jump(-1)", "Last row", show=False),
        _A("table.left", "left,h", "column(-1)", "Column left", show=False),
        _A("table.right", "right,l", "column(1)", "Column right", show=False),
        _A("table.open", "enter", "select", "Open row", show=False),
    ],
    "steps": [  # the detail view's body: problem, steps, solution
        _A("steps.up", "up,k", "move(-1)", "Previous step", show=False),
        _A("steps.down", "down,j", "move(1)", "Next step", show=False),
        _A("steps.toggle", "enter,space", "toggle", "Open/close step", show=False),
    ],
    "trajectories": [
        _A("trajectories.filter", "slash", "focus_filter", "Filter", priority=True),
        _A("trajectories.sort", "s", "sort", "Sort by column"),
        _A("trajectories.approve", "a", "status('approved')", "Approve"),
        _A("trajectories.reject", "r", "status('rejected')", "Reject"),
        _A("trajectories.reset", "c", "status('pending')", "Reset"),
        _A("trajectories.bulk_approve", "A", "bulk('approved')", "Approve filter", show=False),
        _A("trajectories.bulk_reject", "R", "bulk('rejected')", "Reject filter", show=False),
        _A("trajectories.bulk_reset", "C", "bulk('pending')", "Reset filter", show=False),
        _A("trajectories.preview", "v", "toggle_preview", "Preview"),
        _A("trajectories.note", "n", "note", "Note", show=False),
        _A("trajectories.tag", "t", "tag", "Tag", show=False),
        _A("trajectories.bulk_tag", "T", "bulk_tag", "Tag filter", show=False),
        _A("trajectories.same_problem", "o", "same_problem", "Same problem", show=False),
        _A("trajectories.plots", "p", "plots", "Plots", show=False),
        _A("trajectories.mark", "m", "mark", "Mark two to compare", show=False),
        _A("trajectories.columns", "vertical_line", "columns", "Choose columns", show=False),
        _A("trajectories.copy", "y", "copy", "Copy (id, answer, text…)", show=False),
        _A("trajectories.export", "E", "export", "Export filter to JSONL/Parquet", show=False),
    ],
    "detail": [
        _A("detail.back", "escape,backspace", "back", "Back"),
        _A("detail.approve", "a", "status('approved')", "Approve+next"),
        _A("detail.reject", "r", "status('rejected')", "Reject+next"),
        _A("detail.reset", "c", "status('pending')", "Reset+next", show=False),
        _A("detail.next", "right_square_bracket", "walk(1)", "Next in list"),
        _A("detail.prev", "left_square_bracket", "walk(-1)", "Prev in list", show=False),
        _A("detail.next_rollout", "right_curly_bracket", "rollout(1)", "Next rollout of the problem", show=False),
        _A("detail.prev_rollout", "left_curly_bracket", "rollout(-1)", "Prev rollout of the problem", show=False),
        _A("detail.find", "slash", "find", "Find", priority=True),
        _A("detail.find_next", "n", "find_next(1)", "Next hit", show=False),
        _A("detail.find_prev", "N", "find_next(-1)", "Previous hit", show=False),
        _A("detail.loop", "L", "loop_start", "Jump to where the loop starts", show=False),
        _A("detail.expand", "e", "expand", "Expand/collapse steps", show=False),
        _A("detail.latex", "backslash", "toggle_latex", "LaTeX as Unicode / raw", show=False),
        _A("detail.copy", "y", "copy", "Copy (id, answer, step, text…)", show=False),
        _A("detail.note", "i", "note", "Note (n is the next find hit here)", show=False),
        _A("detail.tag", "t", "tag", "Tag", show=False),
        _A("detail.rollouts", "o", "rollouts", "Rollouts list", show=False),
        _A("detail.build_pairs", "b", "build_pairs", "Build pairs", show=False),
        _A("detail.compare", "v", "compare", "First divergence"),
        _A("detail.mark", "m", "mark", "Mark to compare", show=False),
        _A("detail.label", "x", "label_step", "First wrong step"),
        _A("detail.tokens", "h", "tokens", "Token surprise", show=False),
        _A("detail.surprise", "S", "surprise_ranking", "Steps by surprise", show=False),
        _A("detail.peak", "exclamation_mark", "surprise_peak", "Surprise peak/spike", show=False),
        _A("detail.first_correct", "equals_sign", "first_correct", "First correct answer", show=False),
    ],
    "pairs": [
        _A("pairs.approve", "a", "status('approved')", "Approve"),
        _A("pairs.reject", "r", "status('rejected')", "Reject"),
        _A("pairs.reset", "c", "status('pending')", "Reset"),
        _A("pairs.swap", "w", "swap", "Swap"),
        _A("pairs.part", "d", "toggle_part", "Diff thought/full", show=False),
        _A("pairs.build", "b", "build_pairs", "Build pairs"),
        _A("pairs.sort", "s", "sort", "Sort", show=False),
        _A("pairs.divergence", "v", "divergence", "First divergence"),
        _A("pairs.note", "n", "note", "Note", show=False),
    ],
    "problems": [
        _A("problems.open", "enter", "open_trajectories", "Trajectories"),
        _A("problems.sort", "s", "sort", "Sort"),
        _A("problems.filter", "slash", "focus_filter", "Filter", priority=True),
    ],
    "overview": [
        _A("overview.backbone", "b", "backbone", "Backbone"),
        _A("overview.next_tab", "tab", "next_tab(1)", "Next tab", show=False),
        _A("overview.prev_tab", "shift+tab", "next_tab(-1)", "Previous tab", show=False),
    ],
    "jobs": [
        _A("jobs.new", "n", "new_job", "New job"),
        _A("jobs.cancel", "x", "cancel_job", "Cancel job"),
        _A("jobs.refresh", "f5", "refresh_jobs", "Refresh", show=False),
    ],
    "disagreements": [
        _A("disagreements.ours", "v", "accept('ours')", "Accept ours"),
        _A("disagreements.harness", "H", "accept('harness')", "Accept harness"),
        _A("disagreements.judge", "J", "accept('judge')", "Accept judge"),
        _A("disagreements.open", "d", "toggle_open", "Open/all", show=False),
        _A("disagreements.sort", "s", "sort", "Sort", show=False),
    ],
    "divergence": [
        _A("divergence.back", "escape,backspace", "back", "Back"),
        _A("divergence.first", "f", "first", "First divergence"),
        _A("divergence.next", "n", "block(1)", "Next difference"),
        _A("divergence.prev", "N", "block(-1)", "Prev difference"),
        _A("divergence.open_left", "enter", "open(0)", "Open left", show=False),
        _A("divergence.open_right", "shift+enter,o", "open(1)", "Open right", show=False),
    ],
    "aligned_steps": [  # the first-divergence view's two columns of steps
        _A("aligned_steps.up", "up,k", "move(-1)", "Previous row", show=False),
        _A("aligned_steps.down", "down,j", "move(1)", "Next row", show=False),
    ],
    "plots": [
        _A("plots.back", "escape,backspace,p", "app.pop_screen", "Back"),
    ],
    "job_form": [
        _A("job_form.launch", "ctrl+s", "launch", "Launch"),
        _A("job_form.cancel", "escape", "cancel", "Cancel"),
    ],
    "sql": [
        _A("sql.run", "ctrl+r,f9", "run_sql", "Run"),
        _A("sql.prev", "alt+up", "history(-1)", "Older query", show=False),
        _A("sql.next", "alt+down", "history(1)", "Newer query", show=False),
        _A("sql.focus", "slash", "focus_query", "Edit query", show=False),
        _A("sql.copy", "y", "copy_cell", "Copy cell", show=False),
        _A("sql.copy_all", "Y", "copy_results", "Copy results (TSV)", show=False),
        _A("sql.export", "E", "export_results", "Export results", show=False),
        _A("sql.results", "escape", "leave_editor", "To the results", show=False),
    ],
}


def bindings(scope: str) -> list[Binding]:
    return [Binding(a.keys, a.action, a.description, show=a.show, id=a.id, priority=a.priority) for a in ACTIONS[scope]]


def all_actions() -> list[Action]:
    return [a for scope in ACTIONS.values() for a in scope]


def config_dir() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "still2tui"


def state_dir() -> Path:
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "still2tui"


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """User overrides {action id: keys}; unknown ids are ignored, a broken file raises ValueError."""
    path = path or config_dir() / "keys.toml"
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    known = {a.id for a in all_actions()}
    return {k: str(v) for k, v in data.get("keys", {}).items() if k in known}
