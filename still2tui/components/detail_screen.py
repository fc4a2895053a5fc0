"""The detail view of one trajectory: verdict, flags, perplexities, problem, numbered thought steps, solution.

The first frame shows the facts, the rollouts (a virtual table), the problem and the first steps; the
Markdown of problem and solution is rendered, and the remaining steps are mounted, after that frame.
"""
from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Collapsible, Footer, Header, Markdown, Static

from store.trajectory_format import parse_response
from still2tui.actions import bindings
from still2tui.components.modals import Prompt
from still2tui.components.virtual_table import VirtualTable
from still2tui.curator import Curator
from still2tui.formatting import cell_text
from still2tui.messages import DataChanged
from still2tui.sources import Column, RowsSource
from store.tui_queries import detail, rollouts

ROLLOUT_COLUMNS = [Column("n", "#", 3, "", 1), Column("verdict", "verdict", 9, "", 1),
                   Column("answer", "answer", 9, "", 2), Column("len", "len", 6, "", 2, numeric=True),
                   Column("status", "status", 8, "", 1)]
FIRST_STEPS = 30  # steps mounted before the first frame; the rest right after it
GOOD_BAD = {"verdict": ({"correct"}, {"incorrect"}), "status": ({"approved"}, {"rejected"})}


class DetailScreen(Screen):
    BINDINGS = bindings("detail")
    HELP = "Detail: a/r/c curate, [ ] other rollouts, o rollouts list, e expand steps"

    def __init__(self, trajectory_id: str):
        super().__init__()
        self.trajectory_id = trajectory_id
        self.curator = Curator(self.app.store)
        self.row: dict = {}
        self.others: list[tuple] = []
        self.expanded = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="detail-top"):
            yield Static(id="facts")
            yield VirtualTable(RowsSource([], ROLLOUT_COLUMNS), id="rollouts", good_bad=GOOD_BAD)
        yield VerticalScroll(id="body")
        yield Footer()

    def on_mount(self) -> None:
        self.load(self.trajectory_id)
        self.query_one("#body").focus()

    @property
    def rollouts_table(self) -> VirtualTable:
        return self.query_one("#rollouts", VirtualTable)

    def load(self, trajectory_id: str) -> None:
        self.trajectory_id = trajectory_id
        with self.app.store.read() as conn:
            self.row = detail(conn, trajectory_id)
        self.sub_title = trajectory_id
        self.query_one("#facts", Static).update(self._facts())
        body = self.query_one("#body", VerticalScroll)
        body.remove_children()
        parsed = parse_response(self.row["text"] or "")
        steps = parsed.steps if hasattr(parsed, "steps") else []
        problem = Markdown(id="problem-text")
        widgets = [Collapsible(problem, title="Problem", collapsed=False, id="problem")]
        widgets += [self._step(n, step, len(steps)) for n, step in enumerate(steps[:FIRST_STEPS], 1)]
        if not steps:
            widgets.append(Static("(no thought)", classes="dim"))
        solution = Markdown(id="solution-text")
        widgets.append(Collapsible(solution, title="Solution", collapsed=False, id="solution"))
        body.mount_all(widgets)
        generation = self._generation = self._generation + 1

        def after_first_frame() -> None:
            if generation != self._generation:  # another rollout was loaded meanwhile
                return
            self._load_rollouts()
            problem.update(self.row["question"] or "(no problem text)")
            rest = [self._step(n, step, len(steps)) for n, step in enumerate(steps[FIRST_STEPS:], FIRST_STEPS + 1)]
            if rest:
                body.mount_all(rest, before=widgets[-1])
            solution.update(self.row["solution"] or "_(no solution)_")
        self.call_after_refresh(after_first_frame)

    _generation = 0

    def _load_rollouts(self) -> None:
        index, problem_id = self.app.index, self.row["problem_id"]
        if index.ready:
            self.others = index.rollouts(problem_id)
        else:
            with self.app.store.read() as conn:
                self.others = rollouts(conn, problem_id)
        table = self.rollouts_table
        table.source.rows = [(tid, "▶" if tid == self.trajectory_id else str(i + 1), verdict, answer, length, status)
                             for i, (tid, verdict, answer, length, status) in enumerate(self.others)]
        table.reload(keep_cursor=False)
        table.move_to(next((i for i, o in enumerate(self.others) if o[0] == self.trajectory_id), 0))

    def _step(self, n: int, step: str, total: int) -> Collapsible:
        first = step.strip().splitlines()[0] if step.strip() else ""
        return Collapsible(Static(escape(step), classes="step"), title=f"{n:>3}. {cell_text(first, 60)}",
                           collapsed=not (n == 1 or n == total), classes="step-box")

    def _facts(self) -> str:
        r = self.row
        verdict_style = {"correct": "green", "incorrect": "red"}.get(r["verdict"], "yellow")
        status_style = {"approved": "green", "rejected": "red"}.get(r["status"], "")
        length = f"{r['n_tokens']} tokens" if r["n_tokens"] is not None else f"{r['n_chars']} chars"
        lines = [
            f"[b]{escape(r['id'])}[/b]  problem [b]{escape(r['problem_id'])}[/b] ({escape(str(r['domain']))}, "
            f"difficulty {r['difficulty'] if r['difficulty'] is not None else '–'})",
            f"{escape(str(r['model']))} · {r['origin']} · iteration {r['iteration'] if r['iteration'] is not None else '–'}"
            f" · run {escape(str(r['run_id'] or '–'))} · {length}",
            f"verdict [{verdict_style}]{r['verdict']}[/]: extracted [b]{escape(str(r['extracted']))}[/b] "
            f"vs gold [b]{escape(str(r['gold']))}[/b]",
            f"  reason: {escape(str(r['verdict_reason'] or '–'))}",
            f"status [{status_style or 'b'}]{r['status']}[/]"
            + (f" · tags {escape(', '.join(r['tags']))}" if r["tags"] else ""),
        ]
        if r["flag_rows"]:
            lines.append("flags: " + "; ".join(f"[red]{escape(rule)}[/] {escape(reason or '')}"
                                              for rule, reason in r["flag_rows"]))
        else:
            lines.append("flags: none")
        if r["ppl_rows"]:
            lines.append("perplexity: " + "; ".join(f"{escape(scorer)} {part} {ppl:.3g}"
                                                    for scorer, part, ppl in r["ppl_rows"]))
        else:
            lines.append("perplexity: not scored")
        for text in r["notes"]:
            lines.append(f"note: {escape(text)}")
        return "\n".join(lines)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_status(self, status: str) -> None:
        self.curator.status(status, [self.trajectory_id])
        self.notify(f"{status}: {self.trajectory_id}", timeout=2)
        self.refresh_facts()

    def refresh_facts(self) -> None:
        with self.app.store.read() as conn:
            self.row = detail(conn, self.trajectory_id)
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

    def action_rollout(self, step: int) -> None:
        ids = [o[0] for o in self.others]
        if self.trajectory_id in ids and len(ids) > 1:
            self.load(ids[(ids.index(self.trajectory_id) + step) % len(ids)])

    def action_rollouts(self) -> None:
        self.rollouts_table.focus()

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        event.stop()
        self.load(event.key)

    def action_expand(self) -> None:
        self.expanded = not self.expanded
        for box in self.query(".step-box").results(Collapsible):
            box.collapsed = not self.expanded

    def action_build_pairs(self) -> None:
        self.app.build_pairs(self.row["problem_id"])

    def on_data_changed(self, event: DataChanged) -> None:
        self.refresh_facts()
