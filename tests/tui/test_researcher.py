"""Issue 16, "the TUI a researcher lives in": one Pilot test (or more) per problem a new user tripped over,
each failing on the code before the fix, plus the preview pane, live views and per-curator undo."""

from __future__ import annotations

import asyncio
import html
import json
import re
import threading

import pytest
from textual import events
from textual.binding import Binding

from still2tui.components.detail_body import DetailBody
from still2tui.components.job_form import JobForm
from still2tui.components.jobs_screen import JobsScreen
from still2tui.components.modals import ColumnChooser, Confirm, CopyMenu, Prompt
from still2tui.components.preview_pane import PreviewPane
from still2tui.components.virtual_table import VirtualTable
from still2tui.curator import Curator
from store import Store
from store.ingest import add_trajectories, insert_new
from store.trajectory_format import parse_response
from tests.tui.test_app import filter_to, q, until

pytestmark = pytest.mark.asyncio


def screen_text(app) -> str:
    """What the terminal shows (the text of a screenshot), one line per row."""
    svg = app.export_screenshot()
    lines = re.findall(r'<text class="[^"]*" x="[^"]*" y="([^"]*)"[^>]*>(.*?)</text>', svg)
    rows: dict[float, str] = {}
    for y, text in lines:
        rows[float(y)] = rows.get(float(y), "") + html.unescape(re.sub(r"<[^>]+>", "", text))
    return "\n".join(rows[y].replace("\xa0", " ") for y in sorted(rows))


def write(db, sql: str, params=None) -> None:
    """A write from another process's point of view: its own store and connection, no Curator of the app."""
    store = Store(db)
    try:
        with store.write() as conn:
            conn.execute(sql, params or [])
    finally:
        store.close()


async def elsewhere(fn, *args):
    """Run a write as another process would, while the app runs: in a thread (the app's event loop must go
    on polling, or the writer would wait for the app's read connection forever)."""
    return await asyncio.to_thread(fn, *args)


# -- 1. the filter box ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_filter_text_shows_while_it_is_typed(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("slash", *"verdict:correct")
        await pilot.pause()
        box = app.screen.query_one("#filter")
        assert box.has_focus and box.content_region.height >= 1
        assert "verdict:correct" in screen_text(app)


async def test_keys_typed_right_after_slash_go_to_the_filter_box(make_app, tui_db):
    """A burst of keys (fast typing, a paste over SSH) reaches the app before / has moved the focus: the
    keys must not run the table's bindings (the r of flag:repetition rejected a row)."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for key, char in [
            ("slash", "/"),
            *((c if c.isalnum() else {":": "colon"}[c], c) for c in "flag:repetition"),
            ("enter", None),
        ]:
            app.post_message(events.Key(key, char))  # as the driver does, all before the first is handled
        await until(pilot, lambda: app.screen.filter_text == "flag:repetition")
        assert q(tui_db, "SELECT count(*) FROM trajectory WHERE status <> 'pending'")[0][0] == 0


async def test_a_bad_filter_says_why_and_what_the_table_still_shows(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(VirtualTable)
        await filter_to(pilot, "origin:explore")
        shown = table.total
        await filter_to(pilot, "foo:bar ppl>abc")
        counts = str(app.screen.query_one("#counts").render())
        assert "unknown field 'foo'" in counts and "'abc' is not a number" in counts  # every bad term
        assert "still shows 'origin:explore'" in counts and table.total == shown
        assert app.screen.query_one("#filter").has_focus  # to be corrected
        await pilot.press("escape")
        assert app.screen.query_one("#filter").value == "origin:explore"
        assert "unknown field" not in str(app.screen.query_one("#counts").render())


async def test_a_misspelled_value_is_an_error_with_suggestions_not_zero_rows(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(VirtualTable)
        await filter_to(pilot, "verdict:corect")
        counts = str(app.screen.query_one("#counts").render())
        assert "no trajectory has verdict 'corect'" in counts and "did you mean correct" in counts
        assert table.total == 74 and app.screen.filter_text == ""
        await filter_to(pilot, "flag:repetiton")
        assert "did you mean repetition" in str(app.screen.query_one("#counts").render())
        await filter_to(pilot, "model:*14b* flag:repetition,any origin:explore")  # wildcards and real values pass
        assert app.screen.filter_text.startswith("model:")


async def test_a_narrow_table_keeps_the_columns_the_filter_tests(make_app):
    """At 80 columns low-priority columns are dropped; a filter on one (origin, iteration) brings it back
    (the filter's typed terms say which columns they test), and clearing the filter drops it again."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(VirtualTable)

        def shown() -> set[str]:
            return {c.key for _, c, _ in table.visible_columns()}

        before = shown()
        assert {"origin", "iteration"}.isdisjoint(before) and "verdict" in before
        await filter_to(pilot, "origin:explore -iter=7")
        assert app.screen.filter_text == "origin:explore -iter=7"
        assert {"origin", "iteration", "verdict"} <= shown()
        await filter_to(pilot, "")
        assert shown() == before


# -- 2. the cursor row stays visible ---------------------------------------------------------------------------
def cursor_visible(table: VirtualTable) -> bool:
    top = int(table.scroll_offset.y)
    rows_shown = table.scrollable_content_region.height - 1  # under the header
    return not table.show_horizontal_scrollbar and top <= table.cursor_row < top + rows_shown


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_cursor_row_is_never_under_a_scrollbar(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        table = app.screen.query_one(VirtualTable)
        for keys in (["pagedown"], ["down"] * 30, ["end"], ["pageup"], ["home"], ["pagedown", "pagedown"]):
            await pilot.press(*keys)
            await pilot.pause()
            assert cursor_visible(table), (keys, table.cursor_row, table.scroll_offset.y)
        await pilot.press("2")  # Problems
        await pilot.pause()
        problems = app.screen.query_one(VirtualTable)
        for keys in (["end"], ["pagedown"], ["up"] * 3):
            await pilot.press(*keys)
            await pilot.pause()
            assert cursor_visible(problems), keys


# -- 3. what one judges by -------------------------------------------------------------------------------------
async def test_the_table_shows_question_short_id_whole_flags_and_status(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("v")  # the preview pane off: the table alone
        await filter_to(pilot, "flag:repetition")
        table = app.screen.query_one(VirtualTable)
        tid = table.current_key
        question, pid = q(
            tui_db,
            """SELECT p.question, p.id FROM trajectory t JOIN problem p ON p.id = t.problem_id
                                     WHERE t.id = ?""",
            [tid],
        )[0]
        await pilot.press("r")
        await pilot.pause()
        text = screen_text(app)
        first_words = " ".join(question.split()[:2])
        assert first_words.replace("$", "") in text.replace("$", "")
        short = pid[: len(pid.split(":")[0]) + 7]
        assert pid not in text and short in text  # source:hash cut to 6
        line = next(ln for ln in text.splitlines() if short in ln)
        assert line.rstrip().endswith("rejected")  # never cut to "rejecte"
        assert "repetition" in line  # the flag the filter asked for is shown first
        assert re.search(r"repetition( \+\d)? ", line)  # whole names, then how many more: never "repetition,fo…"
        titles = [c.title for c in table.source.columns]
        assert {"question", "tokens", "chars", "finish", "#", "tags/notes"} <= set(titles)


async def test_tags_and_notes_show_in_the_table(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.screen.query_one(VirtualTable)
        at = ["id", *(c.key for c in table.source.columns)].index("tags")
        await pilot.press("t", *"keep", "enter")
        await pilot.press("up", "n", *"looks fine", "enter")
        await pilot.pause()
        assert table.row(0)[at] == "keep ✎1"


async def test_the_column_chooser_hides_columns_and_remembers(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("vertical_line")
        await pilot.pause()
        assert isinstance(app.screen, ColumnChooser)
        chooser = app.screen.query_one("SelectionList")
        chooser.deselect("model")
        chooser.deselect("question")
        await pilot.press("enter")
        await pilot.pause()
        table = app.screen.query_one(VirtualTable)
        assert {"model", "question"} <= table.hidden
        assert "model" not in {c.key for _, c, _ in table.visible_columns()}
    state = json.loads((tmp_path / "state" / "still2tui" / "ui.json").read_text())
    assert set(state["columns.trajectories"]) == {"model", "question"}
    app = make_app()
    async with app.run_test(size=(160, 48)):
        assert {"model", "question"} <= app.screen.query_one(VirtualTable).hidden


# -- 4. one unit per column ------------------------------------------------------------------------------------
async def test_len_is_characters_before_and_after_scoring(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(VirtualTable)
        await filter_to(pilot, "len:3000..6000")
        want = q(tui_db, "SELECT count(*) FROM trajectory WHERE n_chars BETWEEN 3000 AND 6000")[0][0]
        before = table.total
        assert before == want
        await elsewhere(write, tui_db, "UPDATE trajectory SET n_tokens = n_chars // 4")  # a score run: tokens
        app.action_refresh_data()
        await until(pilot, lambda: app.index.ready and not app.index_loading)
        await filter_to(pilot, "len:3000..6000")
        assert table.total == before  # tokens arriving change nothing about len
        await filter_to(pilot, "tokens:750..1500")
        assert table.total == q(tui_db, "SELECT count(*) FROM trajectory WHERE n_tokens BETWEEN 750 AND 1500")[0][0]


async def test_plots_say_their_unit(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("p")
        await pilot.pause()
        text = screen_text(app)
        assert "length (characters)" in text and "length (tokens;" in text and "rows have a token count" in text
        assert "e+0" not in text  # tick labels as numbers, not 3.19e+03


# -- 5. live views and per-curator undo ------------------------------------------------------------------------
async def test_rows_and_statuses_written_elsewhere_appear_without_f5(make_app, tui_db):
    app = make_app(live_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(VirtualTable)
        first = table.current_key

        def another_process() -> None:  # a CLI import, then another TUI's approval
            store = Store(tui_db)
            with store.write() as conn:
                add_trajectories(
                    conn,
                    conn.sql("""SELECT 'cli' || id AS id, problem_id, text, origin, model
                                                   FROM trajectory LIMIT 3""").to_arrow_table(),
                )
            Curator(store, actor="bob").status("approved", [first])
            store.close()

        await elsewhere(another_process)
        await until(pilot, lambda: table.total == 77)
        await until(pilot, lambda: table.row(0)[-1] == "approved")
        assert "1 approved" in str(app.screen.query_one("#counts").render())


async def test_appends_elsewhere_extend_the_index_and_raw_status_writes_show(make_app, tui_db, monkeypatch):
    from still2tui.table_index import TrajectoryIndex

    loads, load = [], TrajectoryIndex.load

    def counted(index, store):
        loads.append(1)
        load(index, store)

    monkeypatch.setattr(TrajectoryIndex, "load", counted)
    app = make_app(live_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(VirtualTable)
        await until(pilot, lambda: app.index.ready and not app.index_loading)
        assert len(loads) == 1

        def import_elsewhere() -> None:
            store = Store(tui_db)
            with store.write() as conn:
                add_trajectories(
                    conn,
                    conn.sql("""SELECT 'cli' || id AS id, problem_id, text, origin, model
                                                   FROM trajectory LIMIT 2""").to_arrow_table(),
                )
            store.close()

        await elsewhere(import_elsewhere)
        await until(pilot, lambda: table.total == 76)
        assert len(loads) == 1  # appended to the index in place, not rebuilt
        first = table.current_key
        # a status set by hand (still2 sql --write), no curation event: the index cannot patch it, it reloads
        await elsewhere(write, tui_db, "UPDATE trajectory SET status = 'rejected' WHERE id = ?", [first])
        await until(pilot, lambda: table.row(0)[-1] == "rejected")
        assert "1 rejected" in str(app.screen.query_one("#counts").render())


async def test_a_rebuild_after_other_writes_shows_that_it_is_catching_up(make_app, tui_db, monkeypatch):
    from still2tui import app as app_module
    from still2tui.table_index import TrajectoryIndex

    monkeypatch.setattr(app_module, "SYNC_INDEX_ROWS", 0)  # 74 rows: rebuild in the background anyway
    release, load = threading.Event(), TrajectoryIndex.load
    app = make_app(live_interval=0.2)

    def slow_second_load(index, store):
        if index.ready:
            release.wait(20)
        load(index, store)

    monkeypatch.setattr(TrajectoryIndex, "load", slow_second_load)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.index.ready and not app.index_loading)
        await elsewhere(
            write,
            tui_db,
            """INSERT INTO perplexity (trajectory_id, scorer, part, mean_nll, ppl)
                                          SELECT id, 'another-scorer', 'full', 1.0, 2.7 FROM trajectory""",
        )
        counts = app.screen.query_one("#counts")
        await until(pilot, lambda: "catching up" in str(counts.render()))
        release.set()
        await until(pilot, lambda: not app.index_loading and "catching up" not in str(counts.render()))


async def test_undo_is_per_curator_and_the_log_says_who(make_app, tui_db):
    app = make_app(curator="alice", live_interval=0.2)
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.screen.query_one(VirtualTable)
        mine = table.current_key
        await pilot.press("a")
        other = table.row(5)[0]

        def bob_rejects() -> None:  # a second TUI, another curator, acts later
            store = Store(tui_db)
            Curator(store, actor="bob").status("rejected", [other])
            store.close()

        await elsewhere(bob_rejects)
        await pilot.pause(0.5)
        await pilot.press("u")
        # read the notification first: it lives 2 s, and the store reads below may wait for the app's connection
        await until(pilot, lambda: any("undid" in n.message for n in app._notifications))
        said = [n.message for n in app._notifications]
        assert said and "undid approve of 1 trajectory" in said[-1], said
        assert q(tui_db, "SELECT status FROM trajectory WHERE id = ?", [mine]) == [("pending",)]
        assert q(tui_db, "SELECT status FROM trajectory WHERE id = ?", [other]) == [("rejected",)]
        assert q(tui_db, "SELECT actor, state FROM event ORDER BY id") == [("alice", "undone"), ("bob", "done")]
        await pilot.press("4")
        await pilot.pause()
        app.screen.query_one("TabbedContent").active = "tab-events"
        await pilot.pause()
        text = screen_text(app)
        assert "alice" in text and "bob" in text and "status → rejected" in text


# -- 6. reading a long trace -----------------------------------------------------------------------------------
async def open_detail(pilot, row: int = 0):
    table = pilot.app.screen.query_one(VirtualTable)
    table.move_to(row)
    await pilot.press("enter")
    await pilot.pause()
    await pilot.pause()
    return pilot.app.screen.query_one(DetailBody)


async def test_an_open_step_shows_each_line_once(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        body = await open_detail(pilot)
        first = body.line_of(0)
        opened = [body.content_line(y).text.strip() for y in range(first, body.line_of(1))]
        title = opened[0].split(".", 1)[1].strip()
        words = body.steps[0].split()
        assert title.startswith(" ".join(words[:3]))
        assert sum(line.count(" ".join(words[:4])) for line in opened) == 1


async def test_expanding_every_step_keeps_the_cursor_where_it_was(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        body = await open_detail(pilot)
        body.go_to(len(body.steps) // 2)
        await pilot.pause()
        before = body.line_of(body.cursor) - int(body.scroll_offset.y)
        await pilot.press("e")
        await pilot.pause()
        assert body.line_of(body.cursor) - int(body.scroll_offset.y) == before
        await pilot.press("e")
        await pilot.pause()
        assert body.line_of(body.cursor) - int(body.scroll_offset.y) == before


async def test_find_in_the_trace_and_next_previous_hit(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        body = await open_detail(pilot)
        word = next(w for w in ("wait", "so", "we", "the") if 2 <= sum(w in s.lower() for s in body.steps) < 20)
        expected = [i for i, s in enumerate(body.steps) if word in s.lower()]
        await pilot.press("slash", *word, "enter")
        await pilot.pause()
        assert body.cursor == expected[0] and expected[0] in body.expanded
        top = int(body.scroll_offset.y)
        assert top <= body.hit_line < top + body.scrollable_content_region.height
        hit_style = body._style("current-hit")
        assert any(
            s.style == hit_style or (s.style and s.style.bgcolor == hit_style.bgcolor)
            for s in body.content_line(body.hit_line)
        )
        await pilot.press("n")
        assert body.cursor == expected[1]
        await pilot.press("N")
        assert body.cursor == expected[0]
        await pilot.press("N")  # wraps to the last
        assert body.cursor == body.hits[-1]


async def test_the_search_hit_that_led_here_is_shown(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await filter_to(pilot, '"relative speed"')
        body = await open_detail(pilot)
        hit = next(i for i, s in enumerate(body.steps) if "relative speed" in s.lower())
        assert body.cursor == hit and body.hit_line is not None
        top = int(body.scroll_offset.y)
        assert top <= body.hit_line < top + body.scrollable_content_region.height


LATEX_TEXT = (
    "<|begin_of_thought|>\n\nThe area is \\( \\pi r^2 \\) and $\\frac{a+b}{2}$.\n\nSo 50% of it.\n\n"
    "<|end_of_thought|>\n\n<|begin_of_solution|>\n\nThe area is \\( r^2 \\), so \\boxed{4}.\n\n"
    "<|end_of_solution|>"
)


async def test_latex_as_unicode_with_a_raw_toggle_and_markdown_keeping_backslashes(make_app, tui_db):
    with Store(tui_db).write() as conn:
        pid = conn.execute("SELECT id FROM problem ORDER BY id LIMIT 1").fetchone()[0]
        parsed = parse_response(LATEX_TEXT)
        add_trajectories(
            conn,
            [
                {
                    "id": "0latex",
                    "problem_id": pid,
                    "text": LATEX_TEXT,
                    "origin": "explore",
                    "thought": parsed.thought,
                    "solution": parsed.solution,
                }
            ],
        )
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await filter_to(pilot, "id:0latex")
        body = await open_detail(pilot)
        shown = "\n".join(body.content_line(y).text for y in range(body.virtual_size.height))
        assert "πr²" in shown and "(a+b)/2" in shown and "50% of it" in shown and "r²" in shown
        assert "\\(" not in shown
        await pilot.press("backslash")  # raw: the text as written, backslashes kept (Markdown ate \( before)
        await pilot.pause()
        raw = "\n".join(body.content_line(y).text for y in range(body.virtual_size.height))
        assert "\\( \\pi r^2 \\)" in raw and "\\( r^2 \\)" in raw


LOOP = "Let me check the sum again: 1 + 2 + 3 = 6, so the total is 6."


async def test_jump_to_where_the_loop_starts(make_app, tui_db):
    steps = ["First I read the problem.", "Then I set up the sum.", LOOP, "Hmm.", LOOP, LOOP, LOOP, LOOP]
    text = "<|begin_of_thought|>\n\n" + "\n\n".join(steps) + "\n\n<|end_of_thought|>"
    with Store(tui_db).write() as conn:
        pid = conn.execute("SELECT id FROM problem ORDER BY id LIMIT 1").fetchone()[0]
        add_trajectories(conn, [{"id": "0loop", "problem_id": pid, "text": text, "origin": "explore"}])
        insert_new(
            conn,
            "flag",
            [
                {
                    "trajectory_id": "0loop",
                    "rule": "repetition",
                    "reason": f'60% of 90 words ...; most repeated line ×5: "{LOOP}"',
                }
            ],
        )
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await filter_to(pilot, "id:0loop")
        body = await open_detail(pilot)
        await pilot.press("L")
        await pilot.pause()
        assert body.cursor == 2 and 2 in body.expanded


async def test_copy_id_answer_step_and_text(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        tid = app.screen.query_one(VirtualTable).current_key
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, CopyMenu)
        await pilot.press("enter")  # the first choice: the id
        await pilot.pause()
        assert app.clipboard == tid
        body = await open_detail(pilot)
        body.go_to(1)
        await pilot.press("y")
        await pilot.pause()
        menu = app.screen.query_one("#copy-choices")
        menu.highlighted = [o.id for o in menu._options].index("step")
        await pilot.press("enter")
        assert app.clipboard == body.steps[1]
        await pilot.press("y")
        await pilot.pause()
        menu = app.screen.query_one("#copy-choices")
        menu.highlighted = [o.id for o in menu._options].index("text")
        await pilot.press("enter")
        assert app.clipboard == q(tui_db, "SELECT text FROM trajectory WHERE id = ?", [body.screen.trajectory_id])[0][0]


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
async def test_export_the_filter_from_the_palette(make_app, tui_db, tmp_path, suffix):
    out = tmp_path / f"out.{suffix}"
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await filter_to(pilot, "origin:explore verdict:correct")
        await pilot.press("ctrl+p", *"export filter")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, Prompt))
        app.screen.query_one("#prompt").value = str(out)
        await pilot.press("enter")
        await until(pilot, lambda: out.exists())
        await app.workers.wait_for_complete()
    want = q(tui_db, "SELECT id FROM trajectory WHERE origin = 'explore' AND verdict = 'correct' ORDER BY 1")
    if suffix == "jsonl":
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    else:
        import pyarrow.parquet as pq

        rows = pq.read_table(out).to_pylist()
    assert sorted(r["id"] for r in rows) == [r[0] for r in want] and "text" in rows[0]


# -- 7. the same rhythm on every screen ------------------------------------------------------------------------
async def test_rollouts_of_the_problem_with_braces_and_pairs_advance(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await filter_to(pilot, "problem:" + q(tui_db, "SELECT problem_id FROM pair ORDER BY id LIMIT 1")[0][0])
        await open_detail(pilot)
        detail = app.screen
        first = detail.trajectory_id
        await pilot.press("right_curly_bracket")
        await pilot.pause()
        assert detail.trajectory_id != first and detail.trajectory_id in {o[0] for o in detail.others}
        await pilot.press("escape", "3")
        await pilot.pause()
        table = app.screen.query_one(VirtualTable)
        pid = table.current_key
        await pilot.press("r")
        await pilot.pause()
        assert q(tui_db, "SELECT status FROM pair WHERE id = ?", [pid]) == [("rejected",)]
        assert table.cursor_row == 1


async def test_curating_in_the_detail_goes_on_through_the_filtered_list(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await filter_to(pilot, "verdict:incorrect")
        table = app.screen.query_one(VirtualTable)
        listed = [table.row(i)[0] for i in range(4)]
        await open_detail(pilot)
        detail = app.screen
        assert detail.trajectory_id == listed[0]
        await pilot.press("a")  # approve and go on: the next row of the list, not another rollout
        await pilot.pause()
        assert q(tui_db, "SELECT status FROM trajectory WHERE id = ?", [listed[0]]) == [("approved",)]
        assert detail.trajectory_id == listed[1]
        await pilot.press("r")
        await pilot.pause()
        assert q(tui_db, "SELECT status FROM trajectory WHERE id = ?", [listed[1]]) == [("rejected",)]
        assert detail.trajectory_id == listed[2]
        await pilot.press("right_square_bracket")  # ] walks the list without acting
        await pilot.pause()
        assert detail.trajectory_id == listed[3]
        await pilot.press("left_square_bracket", "left_square_bracket")
        await pilot.pause()
        assert detail.trajectory_id == listed[1]
        assert q(tui_db, "SELECT count(*) FROM trajectory WHERE status != 'pending'")[0][0] == 2
        await pilot.press("escape")
        await pilot.pause()
        assert table.current_key == listed[1]  # the table follows where the detail walked to


# -- 8. the job form -------------------------------------------------------------------------------------------
async def test_the_job_form_focuses_its_first_field_and_offers_choices(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5", "n")
        await pilot.pause()
        await pilot.press("enter")  # explore
        await pilot.pause()
        form = app.screen
        assert isinstance(form, JobForm)
        await pilot.press(*"7")  # typed at once: lands in the first field (replacing its default), not nowhere
        assert form.query_one("#f-max_rollouts").value == "7"
        assert type(form.query_one("#f-engine")).__name__ == "Select"
        assert form.query_one("#f-model").placeholder == "text (required)"
        assert "str" not in [w.placeholder for w in form.query("Input")]


async def test_cancelling_a_job_asks_first_and_cli_runs_show_properly(make_app, tui_db):
    write(
        tui_db,
        """INSERT INTO run (id, kind, args, state, progress, started) VALUES
                     ('cli-run', 'explore', '[]', 'running', '{"done": null}', TIMESTAMP '2030-01-01 00:00:00')""",
    )
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen) and app.screen.selected == "cli-run"
        text = screen_text(app)
        assert "None" not in text and "(no log yet)" not in text and "started from the command line" in text
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, Confirm) and "cli-run" in app.screen.question
        await pilot.press("n")


# -- 9. the SQL console ----------------------------------------------------------------------------------------
async def test_sql_cell_viewer_copy_and_export(make_app, tui_db, tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        app.screen.query_one("#sql-input").text = "SELECT id, text\nFROM trajectory\nORDER BY id"
        await pilot.press("ctrl+r", "escape")
        await pilot.pause()
        first_text = q(tui_db, "SELECT text FROM trajectory ORDER BY id LIMIT 1")[0][0]
        await pilot.press("right", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "CellViewer" and app.screen.value == first_text
        await pilot.press("y")
        assert app.clipboard == first_text
        await pilot.press("escape", "Y")
        assert app.clipboard.splitlines()[0] == "id\ttext" and len(app.clipboard.splitlines()) == 75
        out = tmp_path / "result.csv"
        await pilot.press("E")
        await pilot.pause()
        app.screen.query_one("#prompt").value = str(out)
        await pilot.press("enter")
        await pilot.pause()
    import csv
    import sys

    csv.field_size_limit(sys.maxsize)
    with open(out, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["id", "text"] and len(rows) == 75 and rows[1][1] == first_text


ESCAPES = {  # every way out of the store we tried: statement -> the file it would have written (or None)
    "copy to a file": ("COPY trajectory TO '{dir}/copied.csv'", "copied.csv"),
    "copy a query to a file": ("COPY (SELECT id FROM trajectory) TO '{dir}/q.parquet' (FORMAT parquet)", "q.parquet"),
    "export the database": ("EXPORT DATABASE '{dir}/exported'", "exported"),
    "attach another database read-write": ("ATTACH '{dir}/x.duckdb' (READ_WRITE)", "x.duckdb"),
    "attach it read-only": ("ATTACH '{dir}/y.duckdb' AS y (READ_ONLY)", "y.duckdb"),
    "read a file": ("SELECT * FROM read_csv('/etc/passwd')", None),
    "read a file as text": ("SELECT * FROM read_text('/etc/hostname')", None),
    "list files": ("SELECT * FROM glob('/etc/*')", None),
    "a file as a table": ("SELECT * FROM '/etc/passwd'", None),
    "turn the sandbox off": ("SET enable_external_access = true", None),
    "unlock the configuration": ("RESET lock_configuration", None),
    "load an extension": ("LOAD httpfs", None),
    "install an extension": ("INSTALL httpfs", None),
    "write the store": ("UPDATE trajectory SET status = 'approved'", None),
    "hide a write after a read": ("SELECT 1; DELETE FROM trajectory", None),
    "a write in a CTE": ("WITH x AS (DELETE FROM note RETURNING *) SELECT * FROM x", None),
}


async def test_the_sql_console_cannot_touch_any_file_or_database_but_the_store(make_app, tui_db, tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        box = app.screen.query_one("#sql-input")
        for name, (sql, leaves) in ESCAPES.items():
            box.text = sql.format(dir=tmp_path)
            await pilot.press("ctrl+r")
            await pilot.pause()
            status = str(app.screen.query_one("#sql-status").render())
            assert "rows" not in status and ("not a read" in status or "Error" in status or "refused" in status), (
                name,
                status,
            )
            if leaves:
                assert not (tmp_path / leaves).exists(), name
        box.text = "SELECT count(*) AS n FROM trajectory"  # and the store itself still reads
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.screen.query_one("#sql-results").row_count == 1
    assert q(tui_db, "SELECT count(*) FROM trajectory WHERE status = 'approved'")[0][0] == 0
    assert q(tui_db, "SELECT count(*) FROM trajectory")[0][0] == 74


# -- 10. pairs and evals on imported data ----------------------------------------------------------------------
async def test_pairs_screen_says_why_there_are_none(make_app, tui_db):
    write(tui_db, "DELETE FROM pair")
    write(tui_db, "DELETE FROM trajectory WHERE id LIKE 'w%'")  # one rollout per problem, as imported evals
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        title = str(app.screen.query_one("#pair-title").render())
        assert "no problem has both a correct and an incorrect rollout" in title and "70 of them only one" in title


async def test_evals_count_the_graded_eval_trajectories(make_app, tui_db):
    write(tui_db, "DELETE FROM eval_result")
    write(tui_db, "UPDATE trajectory SET origin = 'eval', model = 'Sky-T1-32B' WHERE run_id = 'run-distill-1'")
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        app.screen.query_one("TabbedContent").active = "tab-evals"
        await pilot.pause()
        text = screen_text(app)
        correct = q(tui_db, "SELECT count(*) FROM trajectory WHERE origin = 'eval' AND verdict = 'correct'")[0][0]
        assert "Graded eval trajectories" in text and "Sky-T1-32B" in text
        line = next(ln for ln in text.splitlines() if "Sky-T1-32B" in ln and "aime24" in ln)
        assert re.search(rf"\b30\b.*\b{correct}\b", line)


# -- also: plots follow resizes, help has no internals, names not paths, no None --------------------------------
async def test_plots_redraw_at_the_new_width(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("p")
        await pilot.pause()
        width = max(len(line) for line in str(app.screen.query(".plot").first().render()).splitlines())
        await pilot.resize_terminal(90, 30)
        await pilot.pause()
        narrow = max(len(line) for line in str(app.screen.query(".plot").first().render()).splitlines())
        assert narrow < width and narrow <= 90


async def test_help_has_no_developer_internals_and_starts_with_this_screen(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        from rich.console import Console

        console = Console(width=120, record=True, file=open("/dev/null", "w"))
        for part in app.screen.parts:
            console.print(part)
        console.print(filter_lang_help())
        text = console.export_text()
        for internal in ("search.py", "index_where", "table_index", "still2tui/table", ".py"):
            assert internal not in text
        assert text.index("detail (enter)") < text.index("trajectories (1)")


async def test_scorers_show_by_name_and_a_missing_answer_is_not_none(make_app, tui_db):
    write(tui_db, "UPDATE perplexity SET scorer = '/root/.cache/still2tui/models/SmolLM2-135M-Instruct'")
    write(tui_db, "UPDATE trajectory SET extracted = NULL")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_detail(pilot)
        facts = str(app.screen.query_one("#facts").render())
        assert "SmolLM2-135M-Instruct full" in facts and "/root/" not in facts
        assert "None" not in facts and "extracted (none)" in facts


def filter_lang_help() -> str:
    from still2tui.filter_lang import HELP

    return HELP


# -- the preview pane ------------------------------------------------------------------------------------------
async def test_the_preview_follows_the_cursor_and_hides(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.screen.query_one(PreviewPane)
        table = app.screen.query_one(VirtualTable)
        assert pane.display
        await pilot.press("down", "down")
        tid = table.current_key
        # drawn for this row (not the text of the row the first "down" stopped on)
        await until(pilot, lambda: pane.shown == tid and pane.drawn == pane._generation and "Question" in pane.plain)
        question, extracted, gold = q(
            tui_db,
            """SELECT p.question, t.extracted, p.answer FROM trajectory t
                                                 JOIN problem p ON p.id = t.problem_id WHERE t.id = ?""",
            [tid],
        )[0]
        assert f"answer {extracted if extracted is not None else '(none)'} vs gold {gold}" in pane.plain
        assert "Thought:" in pane.plain and "  1. " in pane.plain
        assert " ".join(question.split()[:3]).replace("$", "") in pane.plain.replace("$", "")
        await pilot.press("v")
        await pilot.pause()
        assert not pane.display and app.ui_state.get("preview") is False
    app = make_app()
    async with app.run_test(size=(80, 24)):
        assert not app.screen.query_one(PreviewPane).display  # hidden at 80x24 by default (and here by choice)


async def test_the_preview_is_hidden_by_default_at_80x24(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert not app.screen.query_one(PreviewPane).display
        await pilot.press("v")
        await pilot.pause()
        assert app.screen.query_one(PreviewPane).display


# -- keys: every advertised action id can be remapped ----------------------------------------------------------
@pytest.mark.filterwarnings("ignore::pytest.PytestWarning")
def test_every_advertised_action_is_a_binding_with_its_id():
    import importlib

    from still2tui.actions import ACTIONS
    from still2tui.app import Still2App
    from still2tui.components.divergence_screen import AlignedSteps
    from still2tui.screens import SCREENS

    # the screens from the screen registry; the other scopes are widgets used on several screens, and the app
    owners = {
        scope: getattr(importlib.import_module(f"still2tui.components.{entry.module}"), entry.class_name)
        for scope, entry in SCREENS.items()
    }
    owners |= {
        "app": Still2App,
        "table": VirtualTable,
        "steps": DetailBody,
        "job_form": JobForm,
        "aligned_steps": AlignedSteps,
    }
    assert set(owners) == set(ACTIONS)
    for scope, owner in owners.items():
        ids = {b.id for b in owner.BINDINGS if isinstance(b, Binding)}
        missing = {a.id for a in ACTIONS[scope]} - ids
        assert not missing, (owner.__name__, missing)
        keys_without_id = [
            b.key
            for b in owner.BINDINGS
            if isinstance(b, Binding) and b.id is None and b.action in {a.action for a in ACTIONS[scope]}
        ]
        assert not keys_without_id, (owner.__name__, keys_without_id)


async def test_a_remapped_table_key_works(make_app):
    app = make_app(keymap={"table.down": "J", "detail.find": "F", "app.problems": "P"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("P")  # a mode key from the screen registry, remapped
        await pilot.pause()
        assert type(app.screen).__name__ == "ProblemsScreen"
        await pilot.press("1")
        await pilot.pause()
        table = app.screen.query_one(VirtualTable)
        await pilot.press("J", "J")
        assert table.cursor_row == 2
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("F")
        assert app.screen.query_one("#find").has_focus
