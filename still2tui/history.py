"""SQL console history: in memory, appended to a file under the user's state dir (one query per line)."""

from __future__ import annotations

import json
from pathlib import Path

from still2tui.actions import state_dir

LIMIT = 500


class History:
    def __init__(self, path: Path | None = None):
        self.path = path or state_dir() / "sql_history.jsonl"
        self.items: list[str] = []
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines()[-LIMIT:]:
                try:
                    self.items.append(json.loads(line))
                except ValueError:
                    continue
        self.pos = len(self.items)

    def add(self, query: str) -> None:
        if self.items and self.items[-1] == query:
            self.pos = len(self.items)
            return
        self.items.append(query)
        self.pos = len(self.items)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(query) + "\n")
        except OSError:
            pass  # history is a convenience; a read-only home must not break the console

    def step(self, delta: int) -> str | None:
        if not self.items:
            return None
        self.pos = max(0, min(len(self.items), self.pos + delta))
        return self.items[self.pos] if self.pos < len(self.items) else ""
