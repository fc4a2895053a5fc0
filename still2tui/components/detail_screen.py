"""The detail view of one trajectory: verdict, flags, perplexities, problem, numbered thought steps, solution."""
from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Collapsible, DataTable, Footer, Header, Markdown, Static

from store.trajectory_format import parse_response
from still2tui.actions import bindings
from still2tui.components.modals import Prompt
from still2tui.curator import Curator
from still2tui.formatting import cell_text
from still2tui.messages import DataChanged
from store.tui_queries import detail, rollouts


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
            yield DataTable(id="rollouts", cursor_type="row", zebra_stripes=True)
        yield VerticalScroll(id="body")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#rollouts", DataTable)
        table.add_columns("#", "verdict", "answer", "len", "status")
        self.load(self.trajectory_id)
        self.query_one("#body").focus()

    def load(self, trajectory_id: str) -> None:
        self.trajectory_id = trajectory_id
        with self.app.store.read() as conn:
            self.row = detail(conn, trajectory_id)
            index = self.app.index
            self.others = index.rollouts(self.row["problem_id"]) if index.ready else rollouts(conn, self.row["problem_id"])
        self.sub_title = trajectory_id
        self.query_one("#facts", Static).update(self._facts())
        table = self.query_one("#rollouts", DataTable)
        table.clear()
        for i, (tid, verdict, answer, length, status) in enumerate(self.others):
            marker = "▶" if tid == trajectory_id else str(i + 1)
            table.add_row(marker, verdict, cell_text(answer, 10), length, status, key=tid)
        body = self.query_one("#body", VerticalScroll)
        body.remove_children()
        parsed = parse_response(self.row["text"] or "")
        steps = parsed.steps if hasattr(parsed, "steps") else []
        widgets = [Collapsible(Markdown(self.row["question"] or "(no problem text)"), title="Problem",
                               collapsed=False, id="problem")]
        for n, step in enumerate(steps, 1):
            first = step.strip().splitlines()[0] if step.strip() else ""
            widgets.append(Collapsible(Static(escape(step), classes="step"),
                                       title=f"{n:>3}. {cell_text(first, 60)}",
                                       collapsed=not (n == 1 or n == len(steps)), classes="step-box"))
        if not steps:
            widgets.append(Static("(no thought)", classes="dim"))
        widgets.append(Collapsible(Markdown(self.row["solution"] or "_(no solution)_"), title="Solution",
                                   collapsed=False, id="solution"))
        body.mount_all(widgets)

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
        self.query_one("#rollouts", DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.load(event.row_key.value)

    def action_expand(self) -> None:
        self.expanded = not self.expanded
        for box in self.query(".step-box").results(Collapsible):
            box.collapsed = not self.expanded

    def action_build_pairs(self) -> None:
        self.app.build_pairs(self.row["problem_id"])

    def on_data_changed(self, event: DataChanged) -> None:
        self.refresh_facts()
