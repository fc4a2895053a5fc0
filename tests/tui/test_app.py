"""Functional tests of every screen with Pilot, on a store imported from the shared data files."""

from __future__ import annotations

import time

import pytest
from textual.widgets import OptionList

from still2tui.components.detail_body import PROBLEM, DetailBody
from still2tui.components.detail_screen import DetailScreen
from still2tui.components.help_screen import HelpScreen
from still2tui.components.job_form import JobForm
from still2tui.components.jobs_screen import JobsScreen
from still2tui.components.modals import Confirm, Prompt
from still2tui.components.pairs_screen import PairsScreen
from still2tui.components.problems_screen import ProblemsScreen
from still2tui.components.sql_screen import SqlScreen
from still2tui.components.trajectories_screen import TrajectoriesScreen
from still2tui.components.virtual_table import VirtualTable
from still2tui.messages import DataChanged
from store import Store
from store.ingest import add_trajectories

pytestmark = pytest.mark.asyncio


def q(db, sql, params=None):
    store = Store(db)
    try:
        with store.read() as conn:
            return conn.execute(sql, params or []).fetchall()
    finally:
        store.close()


async def until(pilot, condition, timeout: float = 30.0) -> None:
    """Let the app run until ``condition()`` holds (a loaded CI machine can be many times slower than ours)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still false after {timeout} s"
        await pilot.pause(0.02)
    await pilot.pause()  # and the messages posted by what made it true


async def filter_to(pilot, text: str) -> None:
    await pilot.press("slash")
    inp = pilot.app.screen.query_one("#filter")
    inp.value = text
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_browse_counts_and_detail(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, TrajectoriesScreen)
        table = app.screen.query_one(VirtualTable)
        assert table.total == 74
        counts = str(app.screen.query_one("#counts").render())
        assert "74 of 74 trajectories" in counts and "31 correct" in counts
        first = table.current_key
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        detail = app.screen
        facts = str(detail.query_one("#facts").render())
        assert "verdict" in facts and "gold" in facts and "reason:" in facts and "smollm2-135m full" in facts
        assert len(detail.query_one(DetailBody).steps) > 3  # the thought split into numbered steps
        assert detail.query_one("#rollouts").total >= 1
        await pilot.press("right_square_bracket")  # ] walks the table's list, as the cursor there does
        await pilot.pause()
        second = detail.trajectory_id
        assert second != first and table.current_key == second == table.row(1)[0]
        await pilot.press("e")
        await pilot.press("a")  # approve, and go on to the next trajectory of the list (the table's rhythm)
        await pilot.pause()
        assert q(tui_db, "SELECT status FROM trajectory WHERE id = ?", [second]) == [("approved",)]
        assert detail.trajectory_id == table.current_key == table.row(2)[0]
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert detail.trajectory_id == second and "approved" in str(detail.query_one("#facts").render())
        rollouts = detail.query_one("#rollouts")
        assert rollouts.row(rollouts.cursor_row)[-1] == "approved"
        await pilot.press("u")  # undone from the detail too
        await pilot.pause()
        assert rollouts.row(rollouts.cursor_row)[-1] == "pending"
        assert "status pending" in str(detail.query_one("#facts").render())
        await pilot.press("escape")
        assert isinstance(app.screen, TrajectoriesScreen)


async def test_approve_undo_redo_reach_the_store(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        tid = app.screen.query_one(VirtualTable).current_key
        await pilot.press("a")
        await pilot.pause()
        assert q(tui_db, "SELECT status FROM trajectory WHERE id = ?", [tid]) == [("approved",)]
        await pilot.press("u")
        await pilot.pause()
        assert q(tui_db, "SELECT status FROM trajectory WHERE id = ?", [tid]) == [("pending",)]
        await pilot.press("U")
        await pilot.pause()
        assert q(tui_db, "SELECT status FROM trajectory WHERE id = ?", [tid]) == [("approved",)]
        table = app.screen.query_one(VirtualTable)
        table.move_to(0)
        await pilot.press("r")
        await pilot.pause()
        assert q(tui_db, "SELECT status FROM trajectory WHERE id = ?", [tid]) == [("rejected",)]
        assert "1 rejected" in str(app.screen.query_one("#counts").render())


async def test_bulk_on_filter_asks_with_the_count_and_undoes_in_one_step(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await filter_to(pilot, "verdict:correct -flag:repetition")
        expected = q(
            tui_db,
            """SELECT count(*) FROM trajectory WHERE verdict = 'correct'
                                AND id NOT IN (SELECT trajectory_id FROM flag WHERE rule = 'repetition')""",
        )[0][0]
        assert app.screen.query_one(VirtualTable).total == expected
        await pilot.press("A")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert f"Approve {expected} trajectories" in app.screen.question
        with app.store.write() as conn:  # a job appends matching rows while the question is open
            add_trajectories(
                conn,
                conn.sql("""SELECT 'late' || id AS id, problem_id, text, origin, verdict
                                                FROM trajectory WHERE verdict = 'correct' LIMIT 3""").to_arrow_table(),
            )
        await pilot.press("y")
        await pilot.pause()
        assert q(tui_db, "SELECT count(*) FROM trajectory WHERE status = 'approved'")[0][0] == expected
        assert q(tui_db, "SELECT count(*) FROM trajectory WHERE id LIKE 'late%' AND status = 'pending'")[0][0] == 3
        await pilot.press("u")
        await pilot.pause()
        assert q(tui_db, "SELECT count(*) FROM trajectory WHERE status = 'approved'")[0][0] == 0
        await pilot.press("R")
        await pilot.press("n")  # declined: nothing changes
        await pilot.pause()
        assert q(tui_db, "SELECT count(*) FROM trajectory WHERE status = 'rejected'")[0][0] == 0


async def test_notes_tags_and_bulk_tag(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        tid = app.screen.query_one(VirtualTable).current_key
        await pilot.press("n")
        assert isinstance(app.screen, Prompt)
        await pilot.press(*"looks fine", "enter")
        await pilot.press("t", *"keep", "enter")
        await filter_to(pilot, "origin:distill")
        await pilot.press("T", *"aime", "enter")
        await pilot.pause()
        assert q(tui_db, "SELECT text FROM note WHERE target_id = ?", [tid]) == [("looks fine",)]
        assert q(tui_db, "SELECT tag FROM tag WHERE target_id = ? AND tag = 'keep'", [tid]) == [("keep",)]
        assert q(tui_db, "SELECT count(*) FROM tag WHERE tag = 'aime'")[0][0] == 30
        await filter_to(pilot, "tag:aime")
        assert app.screen.query_one(VirtualTable).total == 30


async def test_filter_sort_search_and_errors(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(VirtualTable)
        await filter_to(pilot, "ppl>5 len<3000")  # len is characters, whether or not a row has a token count
        expected = q(tui_db, """SELECT count(*) FROM trajectories WHERE ppl > 5 AND n_chars < 3000""")[0][0]
        assert table.total == expected
        await filter_to(pilot, "origin:explore")
        assert table.total == 44
        # sort by the chars column, descending, and check the order against SQL
        keys = [c.key for c in table.source.columns]
        table.cursor_column = keys.index("n_chars")
        at = keys.index("n_chars") + 1
        await pilot.press("s")  # numbers sort descending first
        await pilot.pause()
        lens = [table.row(i)[at] for i in range(table.total)]
        assert lens == sorted(lens, reverse=True) and table.source.descending
        await pilot.press("s")
        lens = [table.row(i)[at] for i in range(table.total)]
        assert lens == sorted(lens)
        # full-text search, case-insensitive, combined with a field filter
        await filter_to(pilot, 'origin:explore "relative speed"')
        expected = q(
            tui_db, "SELECT count(*) FROM trajectory WHERE origin = 'explore' AND text ILIKE '%relative speed%'"
        )
        assert table.total == expected[0][0] > 0
        await filter_to(pilot, "bogus:1")
        assert table.total == expected[0][0]  # a bad filter keeps the previous one and says why
        await pilot.press("escape")
        await pilot.press("o")  # same problem
        await pilot.pause()
        assert app.screen.filter_text.startswith("problem:")


async def test_a_long_search_shows_its_first_rows_while_it_counts(make_app, tui_db, monkeypatch):
    import threading

    from still2tui import search
    from still2tui.components import virtual_table

    monkeypatch.setattr(search, "FIRST_PAGE_ABOVE", 0)  # 74 rows: find the first page before the count anyway
    monkeypatch.setattr(virtual_table, "BLOCK", 5)  # a first page smaller than the matches
    release, exact_search = threading.Event(), search.search
    monkeypatch.setattr(search, "search", lambda *a, **k: release.wait(20) and exact_search(*a, **k))
    want = [r[0] for r in q(tui_db, "SELECT id FROM trajectory WHERE text ILIKE '%so the%' ORDER BY rowid")]
    assert len(want) > 5
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(VirtualTable)
        app.screen.apply_filter('"so the"')
        await until(pilot, lambda: table.total)
        assert table.is_running_count and table.total == 5
        assert [table.row(i)[0] for i in range(5)] == want[:5]
        counts = app.screen.query_one("#counts")
        await until(pilot, lambda: "first 5 matches · counting…" in str(counts.render()))
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not table.is_running_count and table.total == len(want)
        for i in range(table.total):  # the other blocks are fetched in workers
            table.row(i)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [table.row(i)[0] for i in range(table.total)] == want
        await until(pilot, lambda: f"{len(want)} of 74 trajectories" in str(counts.render()))


async def test_problems_screen_jumps_to_trajectories(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen)
        table = app.screen.query_one(VirtualTable)
        assert table.total == 70  # amc23 40 + aime24 30 problems
        table.cursor_column = [c.key for c in table.source.columns].index("pass_rate")
        await pilot.press("s")
        await pilot.pause()
        key = table.current_key
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, TrajectoriesScreen)
        assert app.screen.filter_text == f"problem:{key}"
        n = q(tui_db, "SELECT count(*) FROM trajectory WHERE problem_id = ?", [key])[0][0]
        assert app.screen.query_one(VirtualTable).total == n


async def test_pairs_screen_curate_swap_and_build(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        assert isinstance(app.screen, PairsScreen)
        table = app.screen.query_one(VirtualTable)
        assert table.total == q(tui_db, "SELECT count(*) FROM pair")[0][0] > 0
        pid = table.current_key
        assert "CHOSEN" in str(app.screen.query_one("#chosen").render())
        before = q(tui_db, "SELECT chosen_id, rejected_id FROM pair WHERE id = ?", [pid])[0]
        await pilot.press("w")  # the rejected side is incorrect: the swap asks first
        await pilot.pause()
        assert isinstance(app.screen, Confirm) and "makes the incorrect answer the chosen side" in app.screen.question
        await pilot.press("n")
        await pilot.pause()
        assert q(tui_db, "SELECT chosen_id, rejected_id FROM pair WHERE id = ?", [pid])[0] == before
        await pilot.press("w", "y")
        await pilot.pause()
        assert q(tui_db, "SELECT chosen_id, rejected_id FROM pair WHERE id = ?", [pid])[0] == before[::-1]
        await pilot.press("u")
        await pilot.pause()
        assert q(tui_db, "SELECT chosen_id, rejected_id FROM pair WHERE id = ?", [pid])[0] == before
        await pilot.press("a")
        await pilot.pause()
        assert q(tui_db, "SELECT status FROM pair WHERE id = ?", [pid]) == [("approved",)]
        await pilot.press("d")
        assert "thought" in str(app.screen.query_one("#pair-title").render())
        await pilot.press("b")
        await app.workers.wait_for_complete()
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("no `pairs build` command" in m for m in messages), messages


async def test_overview_runs_datasets_table2_plots(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        screen = app.screen
        runs = screen.query_one("#vt-runs", VirtualTable)
        assert runs.total == 2 and {runs.row(i)[0] for i in range(2)} == {"run-explore-1", "run-distill-1"}
        assert screen.query_one("#vt-datasets", VirtualTable).row(0)[4] == 20
        assert screen.query_one("#vt-progress", VirtualTable).total == 2
        table2 = screen.table2
        assert screen.backbone == "qwen2.5-32b-instruct"
        from rich.console import Console

        console = Console(width=140, record=True)
        console.print(table2)
        text = console.export_text()
        assert "90.2" in text and "+12.7%" in text  # (90.2 - 80.0) / 80.0
        await pilot.press("b")
        assert screen.backbone == "still2-m1"
        screen.query_one("TabbedContent").active = "tab-plots"
        await pilot.pause()
        assert len(screen.query(".plot")) == 4  # characters, tokens (some rows have them), perplexity, accuracy


async def test_plots_of_the_filtered_set(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await filter_to(pilot, "origin:explore")
        await pilot.press("p")
        await pilot.pause()
        plots = app.screen.query(".plot")
        assert len(plots) == 4


async def test_jobs_form_from_schema_launches_and_rows_arrive(make_app, tui_db):
    app = make_app(live_interval=0.3)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen)
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("enter")  # explore
        await pilot.pause()
        form = app.screen
        assert isinstance(form, JobForm)
        assert [p.name for p in form.command.params][:2] == ["max_rollouts", "temperature"]
        await pilot.press("ctrl+s")  # --model is required
        assert isinstance(app.screen, JobForm)
        form.query_one("#f-max_rollouts").value = "4"
        form.query_one("#f-model").value = "smollm2"
        form.query_one("#f-source").value = "amc23 aime24"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen)
        job = app.screen.selected
        args = q(tui_db, "SELECT args FROM run WHERE id = ?", [job])[0][0]
        assert args == (
            '["explore", "--max-rollouts", "4", "--model", "smollm2", "--source", "amc23", "--source", "aime24"]'
        )
        jobs = app.screen
        await until(pilot, lambda: (jobs.rows.get(job) or (None,) * 3)[2] == "done", timeout=60)
        await pilot.press("1")
        table = app.screen.query_one(VirtualTable)
        await until(pilot, lambda: table.total == 78)  # the job's 4 rows arrived while the TUI was open
        await pilot.press("5")
        log = app.screen.query_one("#job-log")
        assert any("rollout 4/4" in line for line in log.lines)
        await pilot.press("x")
        await pilot.pause()


async def test_sql_console_reads_and_cannot_write(make_app, tui_db, tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        assert isinstance(app.screen, SqlScreen)
        box = app.screen.query_one("#sql-input")
        box.text = "SELECT verdict, count(*) AS n\nFROM trajectories\nGROUP BY 1 ORDER BY 1"  # several lines
        await pilot.press("ctrl+r")
        assert app.screen.query_one("#sql-results").row_count == 2
        escape = tmp_path / "escaped.csv"
        for sql in (
            "UPDATE trajectory SET status = 'approved'",
            "DELETE FROM trajectory",
            "DROP TABLE trajectory",
            "CREATE TABLE x (a INT)",
            "ATTACH ':memory:' AS m; ",
            f"COPY trajectory TO '{escape}'",
            "SELECT * FROM read_csv('/etc/passwd')",
            "INSERT INTO note (target_kind, target_id, text) VALUES ('t', 'x', 'y')",
        ):
            box.text = sql
            await pilot.press("ctrl+r")
            status = str(app.screen.query_one("#sql-status").render())
            assert "not a read" in status or "Permission Error" in status, (sql, status)
        assert not escape.exists()
        box.text = ""
        await pilot.press("alt+up")
        assert box.text.startswith("INSERT INTO note")
    assert q(tui_db, "SELECT count(*) FROM trajectory WHERE status = 'approved'")[0][0] == 0
    assert q(tui_db, "SELECT count(*) FROM trajectory")[0][0] == 74
    assert q(tui_db, "SELECT count(*) FROM note")[0][0] == 0
    assert (tmp_path / "history.jsonl").read_text().count("\n") == 9


async def test_help_lists_keys_and_user_keymap_applies(make_app, tui_db):
    app = make_app(keymap={"trajectories.approve": "y"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        tid = app.screen.query_one(VirtualTable).current_key
        await pilot.press("y")
        await pilot.pause()
        assert q(tui_db, "SELECT status FROM trajectory WHERE id = ?", [tid]) == [("approved",)]


async def test_command_palette_offers_screen_actions(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"approve filter")
        results = app.screen.query_one(OptionList)
        await until(pilot, lambda: results.option_count and results.highlighted is not None)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, Confirm) and "Approve 74 trajectories" in app.screen.question


def body_text(body: DetailBody) -> list[str]:
    """Every content line of the detail body, as shown (not only the lines on screen)."""
    return [body.content_line(y).text.rstrip() for y in range(body.virtual_size.height)]


async def test_detail_body_steps_open_and_close_with_keys_and_clicks(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        body = app.screen.query_one(DetailBody)
        n = len(body.steps)
        assert body.has_focus and body.cursor == 0 and body.expanded == {0, n - 1}  # first and last open
        assert "▼   1." in body.content_line(body.line_of(0)).text
        assert "▶   2." in body.content_line(body.line_of(1)).text
        assert body.line_of(2) == body.line_of(1) + 1  # a closed step is one line
        height = body.virtual_size.height
        await pilot.press("down", "enter")
        await pilot.pause()
        assert body.cursor == 1 and body.expanded == {0, 1, n - 1}
        first_line = body.line_of(1)
        assert body.content_line(first_line).text.lstrip().startswith("▼   2.")
        assert body.item_at(first_line + 1) == (1, 1)  # its text follows its line
        assert body.virtual_size.height > height
        await pilot.press("space")
        await pilot.pause()
        assert body.expanded == {0, n - 1}
        # a click on a step's line opens it and moves the cursor there
        line = body.line_of(3)
        body.scroll_to(y=line, animate=False, immediate=True)
        await pilot.pause()
        await pilot.click(DetailBody, offset=(5, line - int(body.scroll_offset.y)))
        await pilot.pause()
        assert body.cursor == 3 and 3 in body.expanded
        await pilot.press("e")  # every step
        assert body.expanded == set(range(n))
        await pilot.press("e")
        assert body.expanded == set()
        # past the last step: the solution's title; past it, the keys scroll
        body.cursor = n - 1
        await pilot.press("down")
        assert body.cursor == body.solution_item == n
        assert body.content_line(body.line_of(n)).text.strip() == "▼ Solution"
        await pilot.press("down")
        assert body.cursor == n


async def test_detail_body_shows_problem_and_solution_and_closes_them(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(VirtualTable)
        tid = table.current_key
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        body = app.screen.query_one(DetailBody)
        question, solution = q(
            tui_db,
            """SELECT p.question, t.solution FROM trajectory t JOIN problem p
                                           ON p.id = t.problem_id WHERE t.id = ?""",
            [tid],
        )[0]
        text = body_text(body)
        assert text[0].strip() == "▼ Problem"

        def words(s):  # Markdown reflows the text
            return [w for w in s.split() if w.isalpha() and len(w) > 3]

        shown = " ".join(text)
        assert all(w in shown for w in words(question)[:8])
        solution_at = body.line_of(body.solution_item)
        assert all(w in " ".join(text[solution_at:]) for w in words(solution)[:8])
        assert not any("**" in line for line in text[solution_at:]) or "**" not in solution  # Markdown, not source
        # up from the first step: the problem's title; enter closes it (one line), again opens it
        await pilot.press("up")
        assert body.cursor == PROBLEM
        await pilot.press("enter")
        await pilot.pause()
        assert body.line_of(0) <= 2 and not body.problem_open
        await pilot.press("enter")
        assert body.problem_open and body.line_of(0) > 2
        await pilot.press("up")  # already at the top item: scrolls (nothing to scroll) and stays
        assert body.cursor == PROBLEM


async def test_detail_screen_is_reused_and_shows_the_new_trajectory(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(VirtualTable)
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        first = detail.trajectory_id
        detail.query_one(DetailBody).toggle(2)
        await pilot.press("escape")
        await pilot.pause()
        table.move_to(40)
        second = table.current_key
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert app.screen is detail and detail.trajectory_id == second != first
        assert second in str(detail.query_one("#facts").render())
        problem = q(tui_db, "SELECT problem_id FROM trajectory WHERE id = ?", [second])[0][0]
        assert detail.row["problem_id"] == problem
        assert {o[0] for o in detail.others} == {
            r[0] for r in q(tui_db, "SELECT id FROM trajectory WHERE problem_id = ?", [problem])
        }
        body = detail.query_one(DetailBody)
        assert body.cursor == 0 and body.expanded == {0, len(body.steps) - 1}
        assert body.scroll_offset.y == 0
        solution = q(tui_db, "SELECT solution FROM trajectory WHERE id = ?", [second])[0][0]
        words = [w for w in solution.split() if w.isalpha() and len(w) > 3][:5]
        assert all(w in " ".join(body_text(body)[body.line_of(body.solution_item) :]) for w in words)


async def test_detail_flags_and_perplexities_from_the_index_equal_the_store(make_app, tui_db):
    from store.tui_queries import detail_scores

    app = make_app()
    async with app.run_test(size=(120, 40)):
        assert app.index.ready
        store = Store(tui_db)
        with store.read() as conn:
            rows = conn.execute("SELECT id, rowid FROM trajectory ORDER BY rowid").fetchall()
            for tid, rid in rows:
                assert app.index.detail_scores(rid) == detail_scores(conn, tid), tid
        store.close()
        assert any(app.index.detail_scores(rid)["flag_rows"] for _, rid in rows)


async def test_footer_lists_the_screen_keys_and_a_click_presses_one(make_app):
    from still2tui.components.key_footer import KeyFooter

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        footer = app.screen.query_one(KeyFooter)
        text = footer.render_line(0).text
        assert "/ Filter" in text and "s Sort by column" in text and text.rstrip().endswith("^p palette")
        x = text.index("2 Problems")
        await pilot.click(KeyFooter, offset=(x + 1, 0))
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen)


async def test_detail_rows_read_ahead_are_used_only_while_nothing_was_written(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(VirtualTable)
        rows = app.detail_rows
        reads: list[str] = []
        read = rows.read
        rows.read = lambda tid: reads.append(tid) or read(tid)
        table.move_to(3)
        await pilot.pause()
        tid = table.current_key
        rows.get(tid)  # waits for the read begun when the row was highlighted
        assert reads == [tid]
        assert rows.get(tid) == read(tid) and reads == [tid]  # handed over, not read again
        await pilot.press("a")  # approve: the cursor moves down, the store was written
        await pilot.press("k")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen) and app.screen.trajectory_id == tid
        assert app.screen.row["status"] == "approved" and "status [green]approved" in app.screen._facts()
        rows.prefetch(tid)
        rows.get(tid)
        n = len(reads)
        assert rows.get(tid) and len(reads) == n  # read ahead and still current
        app.screen.post_message(DataChanged())  # e.g. a job wrote: what was read ahead is stale
        await pilot.pause()
        n = len(reads)
        rows.get(tid)
        assert len(reads) == n + 1


async def test_gc_thresholds_are_raised_while_the_app_runs_and_restored_after(make_app):
    import gc

    from still2tui.app import GC_THRESHOLD

    before = gc.get_threshold()
    app = make_app()
    async with app.run_test(size=(120, 40)):
        assert gc.get_threshold() == GC_THRESHOLD != before
    assert gc.get_threshold() == before


async def test_rows_written_while_the_index_loads_in_the_background_show_up(make_app, tui_db, monkeypatch):
    """A large store's index loads in a worker, and a DataChanged that arrives meanwhile cannot sync it; the
    rows a job committed during the load must still appear once the load is done."""
    from still2tui import app as app_module
    from still2tui.table_index import TrajectoryIndex

    monkeypatch.setattr(app_module, "SYNC_INDEX_ROWS", 0)  # 74 rows: load in the background anyway
    app = make_app()
    load = TrajectoryIndex.load

    def load_then_a_job_writes(index, store):
        load(index, store)
        with app.bg_store.write() as conn:
            add_trajectories(
                conn,
                conn.sql("""SELECT 'late' || id AS id, problem_id, text, origin
                                               FROM trajectory LIMIT 3""").to_arrow_table(),
            )
        app.call_from_thread(app.sync_index)  # the job's DataChanged, while the index is still loading

    monkeypatch.setattr(TrajectoryIndex, "load", load_then_a_job_writes)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.index.ready and not app.index_loading)
        table = app.screen.query_one(VirtualTable)
        await until(pilot, lambda: table.total == 77)
