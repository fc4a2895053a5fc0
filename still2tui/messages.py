"""Messages the app's screens send each other (posted to the app, which routes them)."""

from __future__ import annotations

from textual.message import Message


class ShowTrajectories(Message):
    """Switch to the trajectories screen with this filter."""

    def __init__(self, filter_text: str):
        super().__init__()
        self.filter_text = filter_text


class DataChanged(Message):
    """Rows in the store changed (curation here, or a job elsewhere): visible screens reload."""


class IndexReady(Message):
    """The in-memory trajectory index finished (re)loading: the trajectories screen re-queries it."""
