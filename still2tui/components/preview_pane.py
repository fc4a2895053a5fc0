"""The preview pane beside the trajectories table (lazygit / k9s style): what one judges a row by.

It follows the cursor: the question, the extracted answer against the gold one with the verifier's
reason, the flags with their reasons, and the first and last steps of the thought. The row is read in
a worker thread after the cursor has rested ``DELAY`` seconds (through app.detail_rows, so the read
also serves the detail view if the row is opened); a newer cursor move makes an older read's result
be dropped. Rendering is Rich Text built in the worker; the UI thread only swaps it in.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.widgets import Static

from still2tui.formatting import STATUS_STYLES, VERDICT_STYLES, answer_text, cell_text, length_text, scorer_name
from still2tui.latex import to_unicode
from store.trajectory_format import parse_response

DELAY = 0.08  # seconds the cursor rests before the row is read
STEPS_SHOWN = 2  # first and last steps shown
STEP_LINES = 4  # lines of a step's text at most (cut with …)


class PreviewPane(VerticalScroll, can_focus=False):
    DEFAULT_CSS = """
    PreviewPane { width: 38%; min-width: 34; max-width: 76; height: 1fr; border-left: vkey $panel;
                  padding: 0 1; scrollbar-size-vertical: 1; }
    PreviewPane > Static { width: 1fr; }
    """

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.shown: str | None = None  # the trajectory shown (or being read)
        self._generation = 0
        self._timer = None
        self.highlight: list[str] = []  # search words of the filter, highlighted in the text
        self.plain = ""  # the text shown, without styles
        self.drawn = 0  # the generation last shown (bench/tui.py waits for it)

    def compose(self):
        yield Static(Text("no trajectory", style="dim"), id="preview-text")

    def follow(self, trajectory_id: str | None, force: bool = False) -> None:
        """Show this trajectory once the cursor has rested on it (``force``: read it again)."""
        if trajectory_id == self.shown and not force:
            return
        self.shown = trajectory_id
        self._generation += 1
        if self._timer is not None:
            self._timer.stop()
        if trajectory_id is None:
            self.query_one("#preview-text", Static).update(Text("no trajectory", style="dim"))
            return
        generation = self._generation
        self._timer = self.set_timer(DELAY, lambda: self._read(trajectory_id, generation))

    @work(thread=True, exclusive=True, group="preview")
    def _read(self, trajectory_id: str, generation: int) -> None:
        if generation != self._generation:
            return
        try:
            row = self.app.detail_rows.get(trajectory_id)
        except KeyError:  # deleted meanwhile
            return
        text = render_preview(row, max(self.size.width - 2, 20), self.highlight)
        self.app.call_from_thread(self._show, text, generation)

    def _show(self, renderable: Group, generation: int) -> None:
        if generation == self._generation:
            self.drawn = generation
            self.plain = "\n".join(t.plain for t in renderable.renderables)
            self.query_one("#preview-text", Static).update(renderable)
            self.scroll_home(animate=False)


def _cut_lines(text: str, width: int, lines: int) -> str:
    """At most ``lines`` lines of ``width`` characters (the text flattened), cut with …."""
    flat = " ".join(text.split())
    room = width * lines
    return flat if len(flat) <= room else flat[: room - 1] + "…"


def render_preview(row: dict, width: int, highlight: list[str] | None = None) -> Group:
    verdict_style = VERDICT_STYLES.get(row.get("verdict"), "yellow")
    status_style = STATUS_STYLES.get(row.get("status"), "")
    head = Text()
    head.append(f"{row['verdict']}", style=f"bold {verdict_style}")
    head.append(" · ")
    head.append(f"{row['status']}", style=status_style or "bold")
    head.append(f" · {scorer_name(row.get('model')) if row.get('model') else 'model unknown'} · {length_text(row)}")
    answer = Text("answer ")
    answer.append(answer_text(row.get("extracted")), style="bold")
    answer.append(" vs gold ")
    answer.append(answer_text(row.get("gold")), style="bold")
    parts: list = [head, answer]
    if row.get("verdict_reason"):
        parts.append(Text(cell_text(row["verdict_reason"], width * 2), style="dim"))
    flags = row.get("flag_rows") or []
    if flags:
        for rule, reason in flags:
            line = Text("⚑ ", style="red")
            line.append(rule, style="bold red")
            line.append(" " + cell_text(reason or "", width * 2 - len(rule) - 3), style="dim")
            parts.append(line)
    else:
        parts.append(Text("no flags", style="dim"))
    if row.get("tags"):
        parts.append(Text("tags " + ", ".join(row["tags"]), style="italic"))
    for note in row.get("notes") or []:
        parts.append(Text("✎ " + cell_text(note, width * 2), style="italic"))
    parts.append(Text(""))
    parts.append(Text("Question", style="bold underline"))
    parts.append(Text(_cut_lines(to_unicode(row.get("question") or "(no question)"), width, 6)))
    parsed = parse_response(row.get("text") or "")
    steps = list(getattr(parsed, "steps", []) or [])
    parts.append(Text(""))
    parts.append(Text(f"Thought: {len(steps):,} steps", style="bold underline"))
    shown = list(range(min(STEPS_SHOWN, len(steps))))
    tail = [i for i in range(max(len(steps) - STEPS_SHOWN, STEPS_SHOWN), len(steps))]
    for n, i in enumerate(shown + tail):
        if n == len(shown) and tail and tail[0] > shown[-1] + 1:
            parts.append(Text(f"  … {tail[0] - shown[-1] - 1:,} steps …", style="dim"))
        step = Text(f"{i + 1:>3}. ", style="bold")
        step.append(_cut_lines(to_unicode(steps[i]), max(width - 5, 10), STEP_LINES))
        parts.append(step)
    if not steps:
        parts.append(Text("(no thought)", style="dim"))
    solution = row.get("solution")
    if solution:
        parts.append(Text(""))
        parts.append(Text("Solution (end)", style="bold underline"))
        flat = " ".join(to_unicode(solution).split())
        parts.append(Text(("…" + flat[-width * 3 :]) if len(flat) > width * 3 else flat))
    for text in parts:
        for word in highlight or []:
            if isinstance(text, Text):
                text.highlight_words([word], style="reverse", case_sensitive=word != word.lower())
    return Group(*parts)
