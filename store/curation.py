"""Curation actions with a persisted, undoable event log: status, pair swap, tags, notes, step labels,
accepted verdicts.

Every action writes one ``event`` row and one ``event_item`` per touched target with the value
before and after, inside the caller's write transaction, then makes its change by applying those items
forwards, with the same code redo runs (``_record``; one applier per action in ``_APPLY``). ``undo`` restores the newest ``done``
event's before-values; ``redo`` re-applies the newest ``undone`` one. A new action drops the
redo stack (its events become ``dropped``), as in any editor. Each event records its ``actor`` (the
curator); given an actor, undo and redo walk that curator's own actions only, and a new action drops
only that curator's redo stack, so two people curating one store never undo each other's work. Bulk actions over a filter are one
event, so one undo reverts the whole bulk change.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

STATUSES = ("pending", "approved", "rejected")
TARGETS = {"trajectory": "trajectory", "pair": "pair"}


@dataclass(frozen=True)
class Event:
    id: int
    action: str
    target_kind: str
    field: str
    n: int
    detail: str | None = None  # as in the event row: the new status, the tag, the note text, step/n_steps, the source


def _target_sql(ids: list[str] | None, where: str | None) -> tuple[str, dict]:
    clauses, params = [], {}
    if ids is not None:
        clauses.append("id IN (SELECT unnest($ids))")
        params["ids"] = list(ids)
    if where:
        clauses.append(f"({where})")
    if not clauses:
        raise ValueError("a curation action needs ids or a filter")
    return " AND ".join(clauses), params


def _record(
    conn: duckdb.DuckDBPyConnection,
    action: str,
    kind: str,
    field: str,
    detail: str | None,
    actor: str | None,
    items: str,
    params: dict,
) -> Event:
    """One curation action, the same way for all of them: drop ``actor``'s redo stack, write the ``event`` row,
    write its ``event_item`` rows from ``items`` (a SELECT of target_id, before, after over ``params``), make
    the change by applying those items forwards (the code redo runs, ``_APPLY``), and count them into ``n``."""
    conn.execute("UPDATE event SET state = 'dropped' WHERE state = 'undone' AND actor IS NOT DISTINCT FROM ?", [actor])
    event_id = conn.execute(
        "INSERT INTO event (id, action, target_kind, field, n, detail, actor) "
        "VALUES (nextval('event_seq'), ?, ?, ?, 0, ?, ?) RETURNING id",
        [action, kind, field, detail, actor],
    ).fetchone()[0]
    conn.execute(f"INSERT INTO event_item SELECT {event_id}, * FROM ({items})", params)
    _APPLY[action](conn, event_id, kind, detail, "after")
    n = conn.execute("SELECT count(*) FROM event_item WHERE event_id = ?", [event_id]).fetchone()[0]
    conn.execute("UPDATE event SET n = ? WHERE id = ?", [n, event_id])
    return Event(event_id, action, kind, field, n, detail)


def set_status(
    conn: duckdb.DuckDBPyConnection,
    status: str,
    *,
    ids: list[str] | None = None,
    where: str | None = None,
    kind: str = "trajectory",
    actor: str | None = None,
) -> Event:
    """Set status on trajectories (or pairs) chosen by ids and/or a SQL filter over the table."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    table = TARGETS[kind]
    clause, params = _target_sql(ids, where)
    items = f"SELECT id, status, $status FROM {table} WHERE {clause} AND status <> $status"
    return _record(conn, "set_status", kind, "status", status, actor, items, {**params, "status": status})


def swap_pair(conn: duckdb.DuckDBPyConnection, pair_id: str, actor: str | None = None) -> Event:
    """Exchange chosen and rejected of a pair."""
    row = conn.execute("SELECT chosen_id, rejected_id FROM pair WHERE id = ?", [pair_id]).fetchone()
    if row is None:
        raise ValueError(f"no pair {pair_id}")
    before, after = f"{row[0]}\t{row[1]}", f"{row[1]}\t{row[0]}"
    items, params = "SELECT $id, $before, $after", {"id": pair_id, "before": before, "after": after}
    return _record(conn, "swap", "pair", "chosen_id,rejected_id", None, actor, items, params)


def add_tag(
    conn: duckdb.DuckDBPyConnection,
    tag: str,
    *,
    ids: list[str] | None = None,
    where: str | None = None,
    kind: str = "trajectory",
    actor: str | None = None,
) -> Event:
    table = TARGETS[kind]
    clause, params = _target_sql(ids, where)
    items = f"""SELECT id, NULL, $tag FROM {table} t
                WHERE {clause} AND NOT EXISTS (SELECT 1 FROM tag g WHERE g.target_kind = $kind
                                               AND g.target_id = t.id AND g.tag = $tag)"""
    return _record(conn, "tag", kind, "tag", tag, actor, items, {**params, "tag": tag, "kind": kind})


def remove_tag(
    conn: duckdb.DuckDBPyConnection,
    tag: str,
    *,
    ids: list[str] | None = None,
    where: str | None = None,
    kind: str = "trajectory",
    actor: str | None = None,
) -> Event:
    table = TARGETS[kind]
    clause, params = _target_sql(ids, where)
    items = f"""SELECT g.target_id, $tag, NULL FROM tag g
                WHERE g.target_kind = $kind AND g.tag = $tag
                  AND g.target_id IN (SELECT id FROM {table} WHERE {clause})"""
    return _record(conn, "untag", kind, "tag", tag, actor, items, {**params, "tag": tag, "kind": kind})


def add_note(
    conn: duckdb.DuckDBPyConnection, target_id: str, text: str, *, kind: str = "trajectory", actor: str | None = None
) -> Event:
    # the item's after is the new note's id, drawn here; applying the item writes the note under it
    items = "SELECT $id, NULL, CAST(nextval('note_seq') AS VARCHAR)"
    return _record(conn, "note", kind, "note", text, actor, items, {"id": target_id})


def set_step_label(
    conn: duckdb.DuckDBPyConnection, trajectory_id: str, step: int | None, n_steps: int, actor: str | None = None
) -> Event:
    """Mark step ``step`` (0-based, of ``n_steps`` thought steps) as the trajectory's first wrong step, or
    clear its label with ``step=None``. Stored in ``step_label``; values in the event log are "step/n_steps"."""
    if step is not None and not 0 <= step < n_steps:
        raise ValueError(f"step {step} is not one of the {n_steps} steps")
    row = conn.execute(
        "SELECT first_wrong_step, n_steps FROM step_label WHERE trajectory_id = ?", [trajectory_id]
    ).fetchone()
    before = None if row is None else f"{row[0]}/{row[1]}"
    after = None if step is None else f"{step}/{n_steps}"
    if before == after:  # nothing changes: no event, so undo skips it
        return Event(0, "step_label", "trajectory", "first_wrong_step", 0)
    items, params = "SELECT $id, $before, $after", {"id": trajectory_id, "before": before, "after": after}
    return _record(conn, "step_label", "trajectory", "first_wrong_step", after, actor, items, params)


def _put_step_label(conn: duckdb.DuckDBPyConnection, trajectory_id: str, value: str | None, actor: str | None) -> None:
    conn.execute("DELETE FROM step_label WHERE trajectory_id = ?", [trajectory_id])
    if value is not None:
        step, n_steps = (int(v) for v in value.split("/"))
        conn.execute(
            "INSERT INTO step_label (trajectory_id, first_wrong_step, n_steps, actor) VALUES (?, ?, ?, ?)",
            [trajectory_id, step, n_steps, actor],
        )


# Whose verdict a curator can accept for a trajectory (the disagreements view): the verifier's own, the
# imported harness's (harness_correct), or the LLM judge's (judge_verdict). The event item keeps
# "verdict<TAB>verdict_by<TAB>verifier_verdict" before and after, so undo restores all three.
VERDICT_SOURCES = ("ours", "harness", "judge")
_OURS = "CASE WHEN verdict_by IS NULL THEN verdict ELSE verifier_verdict END"
_ACCEPTED = {
    "ours": (_OURS, "NULL", "NULL", f"{_OURS} IS NOT NULL"),
    "harness": (
        "CASE WHEN harness_correct THEN 'correct' ELSE 'incorrect' END",
        "'harness'",
        _OURS,
        "harness_correct IS NOT NULL",
    ),
    "judge": ("judge_verdict", "'judge'", _OURS, "judge_verdict IN ('correct', 'incorrect')"),
}
_VERDICT_STATE = "verdict || chr(9) || coalesce(verdict_by, '') || chr(9) || coalesce(verifier_verdict, '')"


def accept_verdict(
    conn: duckdb.DuckDBPyConnection,
    source: str,
    *,
    ids: list[str] | None = None,
    where: str | None = None,
    actor: str | None = None,
) -> Event:
    """Make `source`'s opinion (ours | harness | judge) the trajectory's verdict; rows where that source has
    no opinion are left alone. A later `still2 verify` keeps an accepted harness/judge verdict."""
    if source not in _ACCEPTED:
        raise ValueError(f"source must be one of {', '.join(VERDICT_SOURCES)}")
    verdict, by, kept, has = _ACCEPTED[source]
    clause, params = _target_sql(ids, where)
    after = f"{verdict} || chr(9) || coalesce({by}, '') || chr(9) || coalesce({kept}, '')"
    items = f"""SELECT id, {_VERDICT_STATE}, {after} FROM trajectory
                WHERE {clause} AND {has} AND {_VERDICT_STATE} <> {after}"""
    return _record(conn, "accept_verdict", "trajectory", "verdict", source, actor, items, params)


# How each action's items change the store, forwards (value "after": the action itself and redo) or
# backwards (value "before": undo). Each takes (conn, event_id, target kind, event detail, value).


def _set_verdict_state(conn: duckdb.DuckDBPyConnection, event_id: int, value: str) -> None:
    conn.execute(
        f"""UPDATE trajectory SET verdict = split_part(ei.{value}, chr(9), 1),
                                           verdict_by = nullif(split_part(ei.{value}, chr(9), 2), ''),
                                           verifier_verdict = nullif(split_part(ei.{value}, chr(9), 3), '')
                     FROM event_item ei WHERE ei.event_id = ? AND trajectory.id = ei.target_id""",
        [event_id],
    )


def _set_status(conn: duckdb.DuckDBPyConnection, event_id: int, kind: str, detail: str | None, value: str) -> None:
    table = TARGETS[kind]
    conn.execute(
        f"""UPDATE {table} SET status = ei.{value} FROM event_item ei
                     WHERE ei.event_id = ? AND {table}.id = ei.target_id""",
        [event_id],
    )


def _set_pair_sides(conn: duckdb.DuckDBPyConnection, event_id: int, kind: str, detail: str | None, value: str) -> None:
    conn.execute(
        f"""UPDATE pair SET chosen_id = split_part(ei.{value}, chr(9), 1),
                                     rejected_id = split_part(ei.{value}, chr(9), 2)
                     FROM event_item ei WHERE ei.event_id = ? AND pair.id = ei.target_id""",
        [event_id],
    )


def _put_tags(conn: duckdb.DuckDBPyConnection, event_id: int, kind: str, tag: str | None, present: bool) -> None:
    if present:
        conn.execute(
            """INSERT INTO tag (target_kind, target_id, tag)
                        SELECT ?, target_id, ? FROM event_item WHERE event_id = ?""",
            [kind, tag, event_id],
        )
    else:
        conn.execute(
            """DELETE FROM tag WHERE target_kind = ? AND tag = ?
                        AND target_id IN (SELECT target_id FROM event_item WHERE event_id = ?)""",
            [kind, tag, event_id],
        )


def _put_note(conn: duckdb.DuckDBPyConnection, event_id: int, kind: str, text: str | None, value: str) -> None:
    if value == "after":  # the item's after is the note's id
        conn.execute(
            """INSERT INTO note (id, target_kind, target_id, text)
                        SELECT after::BIGINT, ?, target_id, ? FROM event_item WHERE event_id = ?""",
            [kind, text or "", event_id],
        )
    else:
        conn.execute(
            """DELETE FROM note WHERE id IN (SELECT after::BIGINT FROM event_item WHERE event_id = ?)""", [event_id]
        )


def _put_step_labels(conn: duckdb.DuckDBPyConnection, event_id: int, kind: str, detail: str | None, value: str) -> None:
    actor = conn.execute("SELECT actor FROM event WHERE id = ?", [event_id]).fetchone()[0]
    for target, before, after in conn.execute(
        "SELECT target_id, before, after FROM event_item WHERE event_id = ?", [event_id]
    ).fetchall():
        _put_step_label(conn, target, after if value == "after" else before, actor)


_APPLY = {
    "set_status": _set_status,
    "accept_verdict": lambda conn, event_id, kind, detail, value: _set_verdict_state(conn, event_id, value),
    "swap": _set_pair_sides,
    "tag": lambda conn, event_id, kind, tag, value: _put_tags(conn, event_id, kind, tag, value == "after"),
    "untag": lambda conn, event_id, kind, tag, value: _put_tags(conn, event_id, kind, tag, value == "before"),
    "note": _put_note,
    "step_label": _put_step_labels,
}


def _apply(conn: duckdb.DuckDBPyConnection, event_id: int, backwards: bool) -> Event:
    action, kind, field, detail, n = conn.execute(
        "SELECT action, target_kind, field, detail, n FROM event WHERE id = ?", [event_id]
    ).fetchone()
    _APPLY[action](conn, event_id, kind, detail, "before" if backwards else "after")
    conn.execute("UPDATE event SET state = ? WHERE id = ?", ["undone" if backwards else "done", event_id])
    return Event(event_id, action, kind, field, n, detail)


def undo(conn: duckdb.DuckDBPyConnection, actor: str | None = None) -> Event | None:
    """Revert the newest action still in effect (of ``actor`` when given); None when there is none."""
    row = conn.execute(
        "SELECT max(id) FROM event WHERE state = 'done' AND ($actor IS NULL OR actor = $actor)", {"actor": actor}
    ).fetchone()
    return None if row[0] is None else _apply(conn, row[0], backwards=True)


def redo(conn: duckdb.DuckDBPyConnection, actor: str | None = None) -> Event | None:
    """Re-apply the oldest undone action of the redo stack (of ``actor`` when given)."""
    row = conn.execute(
        "SELECT min(id) FROM event WHERE state = 'undone' AND ($actor IS NULL OR actor = $actor)", {"actor": actor}
    ).fetchone()
    return None if row[0] is None else _apply(conn, row[0], backwards=False)
