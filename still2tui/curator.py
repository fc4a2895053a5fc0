"""Curation from the TUI: each call is one short write transaction around store.curation.

Every action carries the curator's name (settings.curator_name) as the event's actor; undo and redo
walk that curator's own actions only.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from store import Store, curation
from store.tui_queries import Predicate, selected_ids, selection_table, trajectory_counts


@dataclass(frozen=True)
class Selection:
    """A filter's matches as counted when a bulk action was asked for. The action, confirmed later,
    leaves alone the rows added since (rowid above ``upto``); rows that existed then are taken as they are
    at the confirmation (a rescore or a status change in between counts)."""

    where: Predicate
    n: int
    upto: int
    statuses: dict[str, int] | None = None  # how many of them have each status (at the count)


class Curator:
    # Counts the start and the end of every write by any Curator: a read made while it was unchanged saw
    # no write of the TUI (still2tui/detail_rows.py).
    writes = 0

    def __init__(self, store: Store, actor: str | None = None):
        self.store = store
        self.actor = actor

    @contextmanager
    def _write(self):
        Curator.writes += 1
        try:
            with self.store.write() as conn:
                yield conn
        finally:
            Curator.writes += 1

    def status(self, status: str, ids: list[str], kind: str = "trajectory") -> curation.Event:
        with self._write() as conn:
            return curation.set_status(conn, status, ids=ids, kind=kind, actor=self.actor)

    def select(self, where: Predicate) -> Selection:
        """The trajectories matching a filter now, for a bulk action the user confirms later."""
        with self.store.read() as conn:
            c = trajectory_counts(conn, where)
        return Selection(
            where, c.matching, c.upto, {"approved": c.approved, "rejected": c.rejected, "pending": c.pending}
        )

    def ids(self, selection: Selection) -> list[str]:
        """The ids of a selection's trajectories (an export)."""
        with self.store.read() as conn:
            return selected_ids(conn, selection.where, selection.upto)

    def _bulk(self, selection: Selection, apply) -> curation.Event:
        # The user's filter is parameterised; curation takes a plain where-clause, so the matching ids are
        # materialised first (same transaction) and the clause only names that temp table.
        with self._write() as conn, selection_table(conn, selection.where, selection.upto) as where:
            return apply(conn, where)

    def bulk_status(self, status: str, selection: Selection) -> curation.Event:
        return self._bulk(selection, lambda conn, w: curation.set_status(conn, status, where=w, actor=self.actor))

    def bulk_tag(self, tag: str, selection: Selection) -> curation.Event:
        return self._bulk(selection, lambda conn, w: curation.add_tag(conn, tag, where=w, actor=self.actor))

    def note(self, target: str, text: str, kind: str = "trajectory") -> curation.Event:
        with self._write() as conn:
            return curation.add_note(conn, target, text, kind=kind, actor=self.actor)

    def tag(self, tag: str, ids: list[str], kind: str = "trajectory") -> curation.Event:
        with self._write() as conn:
            return curation.add_tag(conn, tag, ids=ids, kind=kind, actor=self.actor)

    def step_label(self, trajectory_id: str, step: int | None, n_steps: int) -> curation.Event:
        with self._write() as conn:
            return curation.set_step_label(conn, trajectory_id, step, n_steps, actor=self.actor)

    def accept(self, source: str, ids: list[str]) -> curation.Event:
        """Make ours / the harness's / the judge's opinion the verdict of these trajectories (undoable)."""
        with self._write() as conn:
            return curation.accept_verdict(conn, source, ids=ids, actor=self.actor)

    def swap(self, pair_id: str) -> curation.Event:
        with self._write() as conn:
            return curation.swap_pair(conn, pair_id, actor=self.actor)

    def undo(self) -> curation.Event | None:
        with self._write() as conn:
            return curation.undo(conn, self.actor)

    def redo(self) -> curation.Event | None:
        with self._write() as conn:
            return curation.redo(conn, self.actor)


VERBS = {
    ("set_status", "approved"): "approve",
    ("set_status", "rejected"): "reject",
    ("set_status", "pending"): "reset to pending",
}


def describe(event: curation.Event, verb: str = "") -> str:
    """``undid approve of 3 trajectories`` (what an undo or redo toast says)."""
    what = VERBS.get((event.action, event.detail)) or {
        "swap": "swap",
        "note": "note",
        "tag": f"tag {event.detail}",
        "untag": f"untag {event.detail}",
    }.get(event.action, event.action)
    kind = event.target_kind + ("s" if event.n != 1 else "")
    return f"{verb + ' ' if verb else ''}{what} of {event.n:,} {kind}"
