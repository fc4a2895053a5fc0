"""The detail row of a trajectory (text, problem, verdict, flags, perplexities...), read ahead.

Opening a trajectory spends a few store queries on its row (``store.tui_queries.detail``); under CPU
load they take the longest part of the detail screen's first frame. While the cursor rests on a row of
the trajectories table, ``prefetch`` reads that row in a thread (one read at a time, the newest request
wins), and ``get`` hands it over when the store has not been written since the read began (``token``
changes with every write the TUI makes or is told about); otherwise ``get`` reads it itself.
"""

from __future__ import annotations

import threading
from typing import Callable

from still2tui.table_index import TrajectoryIndex
from store import Store
from store.tui_queries import detail, detail_scores


class DetailRows:
    def __init__(
        self, store: Store, index: TrajectoryIndex, index_current: Callable[[], bool], token: Callable[[], object]
    ):
        self.store, self.index = store, index
        self.index_current = index_current  # the index is loaded and not being rebuilt
        self.token = token
        self._lock = threading.Condition()
        self._wanted: str | None = None
        self._reading: str | None = None  # the id being read in the thread
        self._done: tuple[str, object, dict | None] | None = None  # (id, token when read began, row)

    def read(self, trajectory_id: str) -> dict:
        """The detail row; flags and perplexities from the index unless it is missing or being rebuilt."""
        from_index = self.index.ready and self.index_current()
        with self.store.read() as conn:
            row = detail(conn, trajectory_id, scores=not from_index)
            if from_index:
                row.update(self.index.detail_scores(row["rid"]) or detail_scores(conn, trajectory_id))
        return row

    def prefetch(self, trajectory_id: str) -> None:
        with self._lock:
            self._wanted = trajectory_id
            if self._reading is not None or self._fresh(trajectory_id):
                return
            self._reading = trajectory_id
        threading.Thread(target=self._read_ahead, name="detail-prefetch", daemon=True).start()

    def _fresh(self, trajectory_id: str) -> bool:
        return self._done is not None and self._done[0] == trajectory_id and self._done[1] == self.token()

    def _read_ahead(self) -> None:
        while True:
            with self._lock:
                trajectory_id, token = self._reading, self.token()
            try:
                row = self.read(trajectory_id)
            except Exception:  # the trajectory is gone, the store is closing: get() reads (and reports) itself
                row = None
            with self._lock:
                self._done = (trajectory_id, token, row)
                wanted = self._wanted
                self._reading = wanted if wanted is not None and not self._fresh(wanted) else None
                self._lock.notify_all()
                if self._reading is None:
                    return

    def get(self, trajectory_id: str) -> dict:
        """The row, read ahead if it still holds, else read now (a copy: the caller may change it)."""
        with self._lock:
            self._lock.wait_for(lambda: self._reading != trajectory_id, timeout=2.0)
            if self._fresh(trajectory_id) and self._done[2] is not None:
                return dict(self._done[2])
        return self.read(trajectory_id)
