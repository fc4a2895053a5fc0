"""Who is curating, and the layout choices the TUI remembers between sessions.

The curator's name goes on every curation event (``event.actor``), so undo is per curator and the
event log says who did what. It comes from ``$STILL2_CURATOR``, else ``curator = "name"`` in
``$XDG_CONFIG_HOME/still2tui/settings.toml``, else the login name.

Layout choices (hidden columns per table, the preview pane) are written by the TUI itself to
``$XDG_STATE_HOME/still2tui/ui.json``; a missing or broken file means the defaults.
"""

from __future__ import annotations

import getpass
import json
import os
import tomllib
from pathlib import Path
from typing import Any

from still2tui.actions import config_dir, state_dir


def curator_name(settings_path: Path | None = None) -> str:
    name = os.environ.get("STILL2_CURATOR", "").strip()
    if name:
        return name
    path = settings_path or config_dir() / "settings.toml"
    if path.exists():
        try:
            name = str(tomllib.loads(path.read_text(encoding="utf-8")).get("curator", "")).strip()
        except (tomllib.TOMLDecodeError, OSError):
            name = ""
        if name:
            return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "curator"


class UiState:
    """A small JSON dict of layout choices; every ``set`` writes the file (failures are ignored)."""

    def __init__(self, path: Path | None = None):
        self.path = path or state_dir() / "ui.json"
        self.data: dict[str, Any] = {}
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self.data = loaded
        except (OSError, ValueError):
            pass

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.data, indent=1), encoding="utf-8")
        except OSError:
            pass  # a read-only home must not break the TUI
