"""Choosing two rollouts to compare (the first-divergence view): marks shared by every screen of the app.

``m`` marks the highlighted trajectory in the table or the detail view; marking a second one opens the
divergence view on the two. From the detail view, ``v`` compares with a marked rollout, else with the
first rollout of the same problem whose verdict differs (correct vs incorrect), else the next one.
"""

from __future__ import annotations


def marks(app) -> list[str]:
    if not hasattr(app, "_compare_marks"):
        app._compare_marks = []
    return app._compare_marks


def open_divergence(app, first: str, second: str) -> None:
    from still2tui.components.divergence_screen import DivergenceScreen

    app.push_screen(DivergenceScreen(first, second))


def toggle_mark(app, trajectory_id: str) -> None:
    """Mark or unmark a trajectory; the second mark opens the divergence view and clears the marks."""
    marked = marks(app)
    if trajectory_id in marked:
        marked.remove(trajectory_id)
        app.notify(f"unmarked {trajectory_id}", timeout=2)
        return
    marked.append(trajectory_id)
    if len(marked) < 2:
        app.notify(f"marked {trajectory_id}: m on another rollout compares them", timeout=3)
        return
    first, second = marked[-2:]
    marked.clear()
    open_divergence(app, first, second)


def partner(trajectory_id: str, verdict: str | None, rollouts: list[tuple], marked: list[str]) -> str | None:
    """Whom ``v`` compares a trajectory with; ``rollouts`` are (id, verdict, ...) of its problem, in order."""
    others = [r for r in rollouts if r[0] != trajectory_id]
    chosen = [m for m in marked if m != trajectory_id]
    if chosen:
        return chosen[-1]
    if verdict in ("correct", "incorrect"):
        opposite = "incorrect" if verdict == "correct" else "correct"
        hit = next((r[0] for r in others if r[1] == opposite), None)
        if hit:
            return hit
    ids = [r[0] for r in rollouts]
    if trajectory_id in ids and len(ids) > 1:
        return ids[(ids.index(trajectory_id) + 1) % len(ids)]
    return others[0][0] if others else None
