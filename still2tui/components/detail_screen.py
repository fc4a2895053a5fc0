"""The detail view of one trajectory: verdict, flags, perplexities, problem, numbered thought steps, solution.

The app keeps one instance and reloads it for each trajectory it opens (``Still2App.open_detail``):
composing and styling the widgets again cost more than the rest of opening one, and Textual styles
every widget of a screen each time it is shown, so the screen has few: the facts, the rollouts list
and one widget for the problem, the steps and the solution (detail_body.py). The first frame shows
the facts, the problem and the steps; the solution (Markdown) and the rollouts list fill in right
after it. Flags and perplexities come from the in-memory index when it is current (the store would
scan the perplexity table for them); the row itself is usually read ahead (detail_rows.py).

Curation has the table's rhythm: ``a``/``r``/``c`` act and open the next trajectory of the list the
detail was opened from (``walker``: the trajectories table), ``]``/``[`` walk that list, ``}``/``{``
the rollouts of the same problem. ``/`` finds words in the trace (``n``/``N`` next and previous hit);
the words of the search that led here are highlighted and the first hit shown. ``L`` jumps to where a
repetition-flagged trace starts to loop (loops.py).

The facts are built from ``fact_lines`` (a list of functions ``row -> lines``), so another view can
add a line (a contamination span, a per-token summary) without rewriting this screen.
"""

from __future__ import annotations

from typing import Callable

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import ScreenResume
from textual.screen import Screen
from textual.widgets import Header, Input, Static

from still2tui.actions import bindings
from still2tui.components.detail_body import DetailBody
from still2tui.components.key_footer import KeyFooter
from still2tui.components.modals import CopyMenu, Prompt
from still2tui.components.surprise_view import StepHeat, SurpriseStrip
from still2tui.components.virtual_table import VirtualTable
from still2tui.formatting import (
    STATUS_GOOD_BAD,
    STATUS_STYLES,
    STATUS_VERBS,
    VERDICT_GOOD_BAD,
    VERDICT_STYLES,
    answer_text,
    length_text,
    scorer_name,
)
from still2tui.latex import to_unicode
from still2tui.loops import loop_start
from still2tui.messages import DataChanged
from still2tui.sources import Column, RowsSource
from store.trajectory_format import parse_response
from store.tui_queries import rollouts

ROLLOUT_COLUMNS = [
    Column("n", "#", 3, "", 1),
    Column("verdict", "verdict", 9, "", 1),
    Column("answer", "answer", 9, "", 2),
    Column("chars", "chars", 7, "", 2, numeric=True),
    Column("status", "status", 8, "", 1),
]
GOOD_BAD = {"verdict": VERDICT_GOOD_BAD, "status": STATUS_GOOD_BAD}

Walker = Callable[[str, int], "str | None"]


def span_line(detail: dict, row: dict, limit: int = 160) -> str:
    """A flag with a matched span (the contamination rule's): what it matches, and the span highlighted."""
    text = (row.get("question") if detail.get("field") == "question" else row.get("text")) or ""
    start, end = detail["span"]
    span = " ".join(text[start:end].split())
    span = span if len(span) <= limit else span[: limit - 1] + "…"
    score = detail.get("score")
    how = (
        f"ratio {score:.0f}"
        if detail.get("method") == "fuzzy"
        else f"{100 * score:.0f}% of its words"
        if isinstance(score, (int, float))
        else ""
    )
    return (
        f"{detail.get('field', '')} matches {escape(str(detail.get('benchmark', '')))} "
        f"{escape(str(detail.get('benchmark_key') or detail.get('benchmark_problem_id') or ''))} ({how}): "
        f"[reverse]{escape(span)}[/reverse]"
    )


def _identity(r: dict) -> list[str]:
    return [
        f"[b]{escape(r['id'])}[/b]  problem [b]{escape(r['problem_id'])}[/b] ({escape(str(r['domain']))}, "
        f"difficulty {r['difficulty'] if r['difficulty'] is not None else '–'})",
        f"{escape(str(r['model'] or 'model unknown'))} · {r['origin']} · iteration "
        f"{r['iteration'] if r['iteration'] is not None else '–'}"
        + (f" · sample {r['sample_index']}" if r.get("sample_index") is not None else "")
        + f" · run {escape(str(r['run_id'] or '–'))} · {length_text(r)}"
        + (f" · finish {escape(str(r['finish_reason']))}" if r.get("finish_reason") else ""),
    ]


def verdict_lines(r: dict) -> list[str]:
    """The verdict, what was compared (a program and its tests for code), the reason and its provenance."""
    style = VERDICT_STYLES.get(r["verdict"], "yellow")
    reason = escape(str(r["verdict_reason"] or "–"))
    if r.get("answer_kind") != "code":
        lines = [
            f"verdict [{style}]{r['verdict']}[/]: extracted [b]{escape(answer_text(r['extracted']))}[/b] "
            f"vs gold [b]{escape(answer_text(r['gold']))}[/b]",
            f"  reason: {reason}",
        ]
    else:  # code: the program is the solution's last code block (shown highlighted below); the tests decide
        program = r["extracted"]
        size = f"{program.count(chr(10)) + 1}-line program" if program else "no program"
        tests = escape(str(r.get("tests") or "tests"))
        failing = r["verdict"] == "incorrect" and not str(r["verdict_reason"] or "").startswith("no_answer")
        lines = [
            f"verdict [{style}]{r['verdict']}[/]: {size} vs [b]{tests}[/b]",
            f"  {'[red]failing test[/]' if failing else 'reason'}: {reason}",
        ]
    return lines + [f"  {_provenance(r)}"]


def _status(r: dict) -> list[str]:
    style = STATUS_STYLES.get(r["status"], "b")
    return [f"status [{style}]{r['status']}[/]" + (f" · tags {escape(', '.join(r['tags']))}" if r["tags"] else "")]


def _flags(r: dict) -> list[str]:
    if not r["flag_rows"]:
        return ["flags: none"]
    spans = {rule: d for rule, d in (r.get("flag_details") or {}).items() if d.get("span")}
    return [
        "flags: "
        + "; ".join(
            f"[red]{escape(rule)}[/] "
            + (span_line(spans[rule], r) if rule in spans else escape(to_unicode(reason or "")))
            for rule, reason in r["flag_rows"]
        )
    ]


def _perplexity(r: dict) -> list[str]:
    if not r["ppl_rows"]:
        return ["perplexity: not scored"]
    return [
        "perplexity: "
        + "; ".join(f"{escape(scorer_name(scorer))} {part} {ppl:.3g}" for scorer, part, ppl in r["ppl_rows"])
    ]


def _notes(r: dict) -> list[str]:
    return [f"note: {escape(text)}" for text in r["notes"]]


FACT_LINES: list[Callable[[dict], list[str]]] = [_identity, verdict_lines, _status, _flags, _perplexity, _notes]


class DetailScreen(Screen):
    LIVE_FROM_INDEX = True  # what it shows comes from the in-memory index (app.watch_store)
    BINDINGS = bindings("detail")
    HELP = (
        "Detail: a/r/c curate and go on, ] [ the list, } { other rollouts, / find, L loop start, "
        "x first wrong step, v first divergence, h/S/! token surprise"
    )

    def __init__(self, trajectory_id: str):
        super().__init__()
        self.trajectory_id = trajectory_id
        self.curator = self.app.curator
        self.row: dict = {}
        self.others: list[tuple] = []
        self.expanded = False
        self.walker: Walker | None = None  # next/previous trajectory of the list the detail was opened from
        self.highlight: list[str] = []  # the words of the search that led here
        self.fact_lines = list(FACT_LINES)
        self._problem_shown: str | None = None  # the problem whose rollouts are listed

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="detail-top"):
            yield Static(id="facts")
            yield VirtualTable(RowsSource([], ROLLOUT_COLUMNS), id="rollouts", good_bad=GOOD_BAD)
        yield SurpriseStrip(id="surprise")
        yield DetailBody(id="body")
        yield Input(placeholder="find in this trace (enter; n / N next and previous hit; escape closes)", id="find")
        yield KeyFooter()

    ROLLOUTS_MIN_WIDTH = 110  # narrower: the facts take the width, o shows the rollouts list

    def on_mount(self) -> None:
        self.query_one("#find", Input).display = False
        self.on_resize()
        self.show(self.trajectory_id)

    def on_resize(self) -> None:
        table = self.rollouts_table
        if not table.has_focus:
            table.display = self.app.size.width >= self.ROLLOUTS_MIN_WIDTH

    def on_screen_resume(self, event: ScreenResume) -> None:
        """Textual restyles every widget of a screen shown again; nothing this screen's widgets are styled
        by changes between two trajectories unless the theme did (focus changes restyle as they happen)."""
        theme = (self.app.theme, self.app.ansi_color)
        if theme == self._styled_theme:
            event.refresh_styles = False
        self._styled_theme = theme

    _styled_theme: tuple | None = None

    def show(self, trajectory_id: str, walker: Walker | None = None, highlight: list[str] | None = None) -> None:
        """Open a trajectory with the cursor on its first step (what the app calls; ``load`` keeps focus)."""
        if walker is not None:
            self.walker = walker
        if highlight is not None:
            self.highlight = highlight
        self.load(trajectory_id)
        self.set_focus(self.body, scroll_visible=False)

    @property
    def rollouts_table(self) -> VirtualTable:
        return self.query_one("#rollouts", VirtualTable)

    @property
    def body(self) -> DetailBody:
        return self.query_one(DetailBody)

    def load(self, trajectory_id: str) -> None:
        """Show another trajectory: the facts, problem and steps now, the rest after the next frame."""
        self.trajectory_id = trajectory_id
        self.row = self.app.detail_rows.get(trajectory_id)
        self.sub_title = trajectory_id
        self.query_one("#facts", Static).update(self._facts())
        parsed = parse_response(self.row["text"] or "")
        steps = parsed.steps if hasattr(parsed, "steps") else []
        self.expanded = False
        self.body.show(self.row["question"], steps, {0, len(steps) - 1} if steps else set())
        self.surprise = self.metrics = None
        self.query_one(SurpriseStrip).show_surprise(None)
        if self._problem_shown != self.row["problem_id"]:
            self.others = []
            self.rollouts_table.source.rows = []
            self.rollouts_table.reload(keep_cursor=False)
        generation = self._generation = self._generation + 1

        def after_first_frame() -> None:
            if generation != self._generation:  # another rollout was loaded meanwhile
                return
            self._load_rollouts()
            self._problem_shown = self.row["problem_id"]
            self.body.set_solution(self.row["solution"])
            self._load_label()
            self.run_worker(
                lambda: self._read_surprise(trajectory_id, generation), thread=True, group="surprise", exclusive=True
            )
            if self.highlight and self.body.set_highlight(self.highlight):
                self.body.next_hit(1)  # the search hit that brought the user here

        self.call_after_refresh(after_first_frame)

    _generation = 0

    def _load_rollouts(self, keep_cursor: bool = False) -> None:
        """The problem's rollouts, the cursor on this trajectory (``keep_cursor``: where the user left it)."""
        index, problem_id = self.app.index, self.row["problem_id"]
        if index.ready:
            self.others = index.rollouts(problem_id)
        else:
            with self.app.store.read() as conn:
                self.others = rollouts(conn, problem_id)
        table = self.rollouts_table
        table.source.rows = [
            (tid, "▶" if tid == self.trajectory_id else str(i + 1), verdict, answer, length, status)
            for i, (tid, verdict, answer, length, status) in enumerate(self.others)
        ]
        table.reload(keep_cursor=keep_cursor)
        if not keep_cursor:
            table.move_to(next((i for i, o in enumerate(self.others) if o[0] == self.trajectory_id), 0))

    def _facts(self) -> str:
        return "\n".join(line for lines in self.fact_lines for line in lines(self.row))

    def action_back(self) -> None:
        self.app.pop_screen()

    # -- curation: act, then go on --------------------------------------------------------------------------
    def action_status(self, status: str) -> None:
        event = self.curator.status(status, [self.trajectory_id])
        self.notify(f"{STATUS_VERBS[status]}" + ("" if event.n else " (unchanged)"), timeout=2)
        self.post_message(DataChanged())
        if not self._walk(1, quiet=True):
            self.on_data_changed(DataChanged())
            self.notify("that was the last trajectory of the list", timeout=2)

    def refresh_facts(self) -> None:
        self.row = self.app.detail_rows.read(self.trajectory_id)
        self.query_one("#facts", Static).update(self._facts())

    def action_note(self) -> None:
        def done(text: str | None) -> None:
            if text:
                self.curator.note(self.trajectory_id, text)
                self.refresh_facts()

        self.app.push_screen(Prompt(f"Note on {self.trajectory_id}"), done)

    def action_tag(self) -> None:
        def done(text: str | None) -> None:
            if text:
                self.curator.tag(text, [self.trajectory_id])
                self.refresh_facts()

        self.app.push_screen(Prompt(f"Tag for {self.trajectory_id}"), done)

    def _walk(self, step: int, quiet: bool = False) -> bool:
        target = self.walker(self.trajectory_id, step) if self.walker is not None else None
        if target is None:
            if not quiet:
                self.notify(
                    "no next trajectory in the list" if step > 0 else "at the first trajectory of the list", timeout=2
                )
            return False
        self.load(target)
        return True

    def action_walk(self, step: int) -> None:
        self._walk(step)

    def action_rollout(self, step: int) -> None:
        ids = [o[0] for o in self.others]
        if self.trajectory_id in ids and len(ids) > 1:
            self.load(ids[(ids.index(self.trajectory_id) + step) % len(ids)])
        else:
            self.notify("this problem has no other rollout", timeout=2)

    def action_rollouts(self) -> None:
        table = self.rollouts_table
        if table.has_focus:  # o again: back to the trace (and the list hides again where it is too narrow)
            self.set_focus(self.body)
            self.on_resize()
            return
        table.display = True
        self.set_focus(table)

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        event.stop()
        self.load(event.key)

    def action_expand(self) -> None:
        self.expanded = not self.expanded
        body = self.body
        body.set_expanded(set(range(len(body.steps))) if self.expanded else set())

    def action_toggle_latex(self) -> None:
        self.body.set_latex(not self.body.latex)
        self.notify("math as Unicode" if self.body.latex else "text as written (raw)", timeout=2)

    # -- reading ------------------------------------------------------------------------------------------
    def action_find(self) -> None:
        box = self.query_one("#find", Input)
        if box.has_focus:  # a priority binding (actions.py): in the box, / is a character
            box.insert_text_at_cursor("/")
            return
        box.display = True
        self.set_focus(box)  # now, not after a refresh: the keys typed right after / go to the box

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "find":
            return
        words = [event.value.strip()] if event.value.strip() else []
        hits = self.body.set_highlight(words)
        event.input.display = False
        self.body.focus()
        if not words:
            return
        if not hits:
            self.notify(f"{words[0]!r} is not in this trace", severity="warning", timeout=3)
            return
        self.action_find_next(1)

    def key_escape(self) -> bool | None:
        box = self.query_one("#find", Input)
        if box.has_focus:
            box.display = False
            self.body.focus()
            return True
        return None

    def action_find_next(self, direction: int) -> None:
        body = self.body
        item = body.next_hit(direction)
        if item is None:
            self.notify("nothing to find: / finds words in the trace", timeout=2)
            return
        where = "the problem" if item < 0 else "the solution" if item == body.solution_item else f"step {item + 1}"
        self.notify(f"{body.hits.index(item) + 1} of {len(body.hits)} parts with a hit: {where}", timeout=2)

    def action_loop_start(self) -> None:
        reasons = [reason or "" for rule, reason in self.row.get("flag_rows") or [] if rule == "repetition"]
        step = loop_start(self.body.steps, reasons[0] if reasons else None)
        if step is None:
            self.notify("no loop found in this trace", timeout=2)
            return
        self.body.go_to(step, open_it=True)
        self.notify(f"the loop starts at step {step + 1} of {len(self.body.steps):,}", timeout=3)

    def action_copy(self) -> None:
        body = self.body
        step = body.steps[body.cursor] if 0 <= body.cursor < len(body.steps) else None
        self.app.push_screen(CopyMenu(lambda: self.row, step))

    def action_mark(self) -> None:
        from still2tui.compare import toggle_mark

        toggle_mark(self.app, self.trajectory_id)

    def action_compare(self) -> None:
        from still2tui.compare import marks, open_divergence, partner

        other = partner(self.trajectory_id, self.row["verdict"], self.others, marks(self.app))
        if other is None:
            self.notify("no other rollout of this problem to compare with", severity="warning")
            return
        marks(self.app).clear()
        open_divergence(self.app, self.trajectory_id, other)

    def action_build_pairs(self) -> None:
        self.app.build_pairs(self.row["problem_id"])

    def on_data_changed(self, event: DataChanged) -> None:
        self.app.sync_index()  # the rollouts list reads statuses from the index
        self.refresh_facts()
        self._load_rollouts(keep_cursor=True)
        self._load_label()

    # -- per-token surprise (score --tokens) and step labels ------------------------------------------------
    surprise = None  # still2tui.surprise.StepSurprise of the shown trajectory
    metrics = None  # its still2 metrics row (store.tui_queries.trajectory_metrics)

    def action_first_correct(self) -> None:
        step = (self.metrics or {}).get("first_correct_step")
        if step is None or step >= len(self.body.steps):
            self.notify("no correct answer found in this thought (still2 metrics)", severity="warning", timeout=3)
            return
        self.body.go_to_step(step)

    def _read_surprise(self, trajectory_id: str, generation: int) -> None:
        from still2tui.surprise import step_surprise
        from store import token_nll
        from store.tui_queries import trajectory_metrics

        with self.app.bg_store.read() as conn:
            found = token_nll.read(conn, trajectory_id)
            metrics = trajectory_metrics(conn, trajectory_id)
        surprise, message = None, ""
        if found is not None:
            scorer, part, tokens = found
            row, steps = self.row, self.body.steps
            surprise = step_surprise(row, steps, scorer, part, tokens) if row.get("id") == trajectory_id else None
            message = (
                "" if surprise else "token surprise: the text changed since it was scored (score --tokens --rescore)"
            )
        if found is not None or metrics is not None:
            self.app.call_from_thread(self._show_surprise, surprise, message, metrics, generation)

    def _show_surprise(self, surprise, message: str, metrics: dict | None, generation: int) -> None:
        if generation != self._generation:
            return
        self.surprise, self.metrics = surprise, metrics
        self.query_one(SurpriseStrip).show_surprise(surprise, message, metrics)
        if surprise is not None and surprise.n_steps == len(self.body.steps):
            self.body.heat = StepHeat(surprise)
            self.body.refresh()

    def _need_surprise(self) -> bool:
        if self.body.heat is None:
            self.notify("no token surprise for this trajectory: still2 score --tokens", severity="warning", timeout=3)
            return False
        return True

    def action_tokens(self) -> None:
        if self._need_surprise():
            heat = self.body.heat
            heat.tokens_on = not heat.tokens_on
            self.body.refresh()
            if heat.tokens_on and not self.body.expanded:
                self.notify("tokens coloured by surprise: open a step to see them", timeout=2)

    def action_surprise_peak(self) -> None:
        """To the peak step (highest mean NLL); from the peak, to the spike (what raises the perplexity most)."""
        if self._need_surprise():
            peak, spike = self.surprise.peak(), self.surprise.spike()
            step = spike if self.body.cursor == peak and spike is not None else peak
            if step is not None:
                self.body.go_to_step(step)

    def action_surprise_ranking(self) -> None:
        from still2tui.components.surprise_view import SurpriseRanking

        if self._need_surprise():

            def done(step: int | None) -> None:
                if step is not None:
                    self.body.go_to_step(step)

            self.app.push_screen(SurpriseRanking(self.surprise, self.body.steps), done)

    def _load_label(self) -> None:
        from store.tui_queries import step_label

        with self.app.store.read() as conn:
            label = step_label(conn, self.trajectory_id)
        first = label.first_wrong_step if label and label.n_steps == len(self.body.steps) else None
        if first != self.body.first_wrong:
            self.body.first_wrong = first
            self.body.refresh()

    def action_label_step(self) -> None:
        """Mark the highlighted step as the first wrong one (again on the same step: clear the label)."""
        body = self.body
        step = body.cursor
        if not 0 <= step < len(body.steps):
            self.notify("put the cursor on a thought step to mark it as the first wrong one", severity="warning")
            return
        clear = body.first_wrong == step
        event = self.curator.step_label(self.trajectory_id, None if clear else step, len(body.steps))
        body.first_wrong = None if clear else step
        body.refresh()
        note = "" if clear or self.row["verdict"] != "correct" else " (this rollout is verified correct)"
        self.notify(
            f"step {step + 1}: label cleared"
            if clear
            else f"step {step + 1} marked as the first wrong step{note} (u undoes)",
            severity="warning" if note else "information",
            timeout=3,
        )
        if event.n:
            self.post_message(DataChanged())


def _provenance(r: dict) -> str:
    """Where the answer was read and under which policy; the harness's and the judge's opinions; who decided."""
    parts = [
        f"read from [b]{escape(str(r.get('answer_source') or '–'))}[/b] "
        f"(answer policy {escape(str(r.get('answer_policy') or '–'))})"
    ]
    if r.get("harness_correct") is not None:
        parts.append(f"harness {'correct' if r['harness_correct'] else 'incorrect'}")
    if r.get("judge_verdict"):
        parts.append(
            f"judge {escape(r['judge_verdict'])} ({escape(str(r.get('judge_model')))}: "
            f"{escape(str(r.get('judge_reason') or ''))[:80]})"
        )
    if r.get("verdict_by"):
        parts.append(
            f"[b]verdict accepted from the {escape(r['verdict_by'])}[/b] (ours: "
            f"{escape(str(r.get('verifier_verdict')))})"
        )
    return " · ".join(parts)
