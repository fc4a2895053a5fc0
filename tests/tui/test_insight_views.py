"""Pilot tests of the views no other curation tool has: first divergence, per-token surprise, overthinking
columns and filters, step labels (on the store imported from the shared data files)."""

from __future__ import annotations

import pytest

from still2tui.components.detail_screen import DetailScreen
from still2tui.components.divergence_screen import AlignedSteps, DivergenceScreen
from still2tui.components.pairs_screen import PairsScreen
from still2tui.components.trajectories_screen import TrajectoriesScreen
from still2tui.components.virtual_table import VirtualTable
from store import Store
from tests.tui.test_app import q, until

pytestmark = pytest.mark.asyncio


def detail(app, condition=lambda screen: True) -> bool:
    """The detail screen is up (composed) and ``condition(screen)`` holds."""
    from textual.css.query import NoMatches

    try:
        return isinstance(app.screen, DetailScreen) and bool(condition(app.screen))
    except NoMatches:
        return False


async def filter_to(pilot, text: str) -> None:
    pilot.app.screen.apply_filter(text)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_pair_opens_the_first_divergence_with_the_correct_rollout_left(make_app, tui_db):
    pair_id, chosen, rejected = q(tui_db, "SELECT id, chosen_id, rejected_id FROM pair ORDER BY id LIMIT 1")[0]
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, PairsScreen) and app.screen.table.current_key == pair_id)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, DivergenceScreen))
        screen = app.screen
        view = screen.query_one(AlignedSteps)
        await until(pilot, lambda: view.alignment.rows)
        assert screen.ids == (chosen, rejected)  # the correct one on the left
        first = screen.alignment.first_divergence
        # The fixture's wrong rollout is the right one's text with its boxed answers replaced by 0: the shared
        # steps come first, and the first differing row is the first step with a boxed answer.
        left, right = view.left, view.right
        row = screen.alignment.rows[first]
        assert first == screen.alignment.shared_prefix and all(r.kind == "same" for r in screen.alignment.rows[:first])
        assert "\\boxed" in left[row.a] and left[row.a] != right[row.b]
        assert view.cursor == first
        title = str(screen.query_one("#divergence-title").render())
        assert (
            f"{first} shared steps, then they part ways at left step {row.a + 1}" in title
            and "1 place they differ" in title
        )
        lines = [view.render_line(y).text for y in range(view.size.height)]
        assert any(line.lstrip().startswith(f"▶{row.a + 1:>4}") for line in lines)  # marked, and on screen
        await pilot.press("up")
        assert view.cursor == first - 1
        await pilot.press("f")
        assert view.cursor == first
        await pilot.press("enter")  # opens the left (correct) rollout
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.trajectory_id == chosen


async def test_marking_two_rows_compares_them_and_detail_v_picks_the_other_verdict(make_app, tui_db):
    problem, correct, wrong = q(tui_db, """SELECT problem_id, chosen_id, rejected_id FROM pair ORDER BY id LIMIT 1""")[
        0
    ]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await filter_to(pilot, f"problem:{problem}")
        table = app.screen.query_one(VirtualTable)
        assert table.total == 2
        keys = []
        for _ in range(2):
            keys.append(table.current_key)
            await pilot.press("m")
            await pilot.pause()
            if not isinstance(app.screen, DivergenceScreen):
                await pilot.press("down")
        await until(pilot, lambda: isinstance(app.screen, DivergenceScreen))
        assert set(keys) == {correct, wrong} and app.screen.ids == (correct, wrong)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TrajectoriesScreen))
        app.open_detail(wrong)
        await until(pilot, lambda: detail(app, lambda s: s.others))
        await pilot.press("v")  # the incorrect rollout compared with the correct one of its problem
        await until(pilot, lambda: isinstance(app.screen, DivergenceScreen))
        assert app.screen.ids == (correct, wrong)


async def test_pair_panes_scroll_together(make_app, tui_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, PairsScreen) and app.screen.shown)
        chosen, rejected = app.screen.query_one("#chosen-side"), app.screen.query_one("#rejected-side")
        await until(pilot, lambda: chosen.max_scroll_y > 5 and rejected.max_scroll_y > 5)
        chosen.scroll_to(y=5, animate=False, immediate=True)
        await until(pilot, lambda: round(rejected.scroll_y) == 5)
        rejected.scroll_to(y=2, animate=False, immediate=True)
        await until(pilot, lambda: round(chosen.scroll_y) == 2)


def _fake_token_row(db, trajectory_id: str, hot_step: int) -> list[str]:
    """Store token NLLs for a trajectory: whitespace-separated tokens, 0.2 nats each, 5 nats in ``hot_step``.
    (The real scorer is tested in tests/unit/test_score.py; here only the view is.)"""
    import re

    from still2tui.surprise import locate_steps
    from store import token_nll
    from store.trajectory_format import parse_response

    store = Store(db)
    try:
        with store.read() as conn:
            text, style, thought, solution = conn.execute(
                "SELECT text, format_style, thought, solution FROM trajectory WHERE id = ?", [trajectory_id]
            ).fetchone()
        response = token_nll.scored_text(text, style, thought, solution)
        steps = parse_response(text).steps
        lo, hi = locate_steps(response, steps)[hot_step]
        tokens = list(re.finditer(r"\S+\s*", response))
        ends = [m.end() for m in tokens]
        nll = [5.0 if lo <= m.start() < hi else 0.2 for m in tokens]
        blob, chars = token_nll.encode(nll, ends)
        with store.write() as conn:
            conn.execute(
                "INSERT INTO token_nll (trajectory_id, scorer, part, n_tokens, text_chars, nll, token_chars) "
                "VALUES (?, 'smollm2', 'full', ?, ?, ?, ?)",
                [trajectory_id, len(ends), len(response), blob, chars],
            )
        return steps
    finally:
        store.close()


async def test_detail_colours_steps_by_surprise_tokens_on_demand_ranks_and_jumps_to_the_peak(
    make_app, tui_db, monkeypatch
):
    from still2tui.components.surprise_view import SurpriseRanking, SurpriseStrip, heat_style

    tid = q(tui_db, "SELECT id FROM trajectory WHERE verdict = 'incorrect' ORDER BY n_chars LIMIT 1")[0][0]
    steps = _fake_token_row(tui_db, tid, hot_step=4)
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        app.open_detail(tid)
        await until(pilot, lambda: detail(app, lambda s: s.body.heat is not None))
        screen, body = app.screen, app.screen.body
        assert len(body.steps) == len(steps)
        strip = str(screen.query_one(SurpriseStrip).render())
        assert "peak step 5 5.0" in strip and "nats/tok " in strip and "spike step 5" in strip
        hot = heat_style(5.0)
        number = [s for s in list(body.content_line(body.line_of(4))) if "5." in s.text][0]
        assert number.style.bgcolor == hot.bgcolor
        cold = [s for s in list(body.content_line(body.line_of(3))) if "4." in s.text][0]
        assert cold.style.bgcolor != hot.bgcolor
        await pilot.press("exclamation_mark")  # the peak: opened, under the cursor
        assert body.cursor == 4 and 4 in body.expanded
        await pilot.press("exclamation_mark")  # here peak and spike are one step: it stays
        assert body.cursor == 4
        # an open step's text starts on its title line (after the marker and the number)
        text_line = list(body.content_line(body.line_of(4)))[2:]
        assert not any(s.style and s.style.bgcolor == hot.bgcolor for s in text_line)  # tokens off
        await pilot.press("h")
        text_line = list(body.content_line(body.line_of(4)))[2:]
        assert any(s.style and s.style.bgcolor == hot.bgcolor and s.text.strip() for s in text_line)
        body.cursor = 0
        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, SurpriseRanking))
        ranking = app.screen.query_one(VirtualTable)
        assert ranking.current_key == "4"  # the hottest step first
        adds = [ranking.row(i)[4] for i in range(ranking.total)]  # +ppl: what each step adds to the perplexity
        assert adds[0] == max(adds) > 0 > min(adds)  # the hot step raises it, the cold ones lower it
        assert adds[0] == pytest.approx(screen.surprise.ppl - screen.surprise.ppl_without()[4])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert body.cursor == 4
        monkeypatch.setattr(type(screen.surprise), "spike", lambda self: 1)  # a spike elsewhere than the peak
        await pilot.press("exclamation_mark")
        assert body.cursor == 1  # from the peak, ! goes to the spike
        await pilot.press("exclamation_mark")
        assert body.cursor == 4  # and back to the peak


async def test_detail_marks_the_first_wrong_step_and_undo_redo_follow(make_app, tui_db):
    tid = q(tui_db, "SELECT id FROM trajectory WHERE verdict = 'incorrect' ORDER BY id LIMIT 1")[0][0]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_detail(tid)
        await until(pilot, lambda: detail(app, lambda s: s.body.steps))
        body = app.screen.body
        n = len(body.steps)
        await pilot.press("down", "down", "x")
        assert body.cursor == 2 and body.first_wrong == 2
        assert q(tui_db, "SELECT first_wrong_step, n_steps FROM step_label WHERE trajectory_id = ?", [tid]) == [(2, n)]
        assert body.content_line(body.line_of(2)).text.lstrip().startswith("✗")
        await pilot.press("u")
        await until(pilot, lambda: body.first_wrong is None)
        assert q(tui_db, "SELECT count(*) FROM step_label")[0][0] == 0
        await pilot.press("U")
        await until(pilot, lambda: body.first_wrong == 2)
        await pilot.press("x")  # again on the labelled step: cleared
        assert body.first_wrong is None and q(tui_db, "SELECT count(*) FROM step_label")[0][0] == 0
        app.open_detail(tid)  # reopened: the label (now none) is read back from the store
        await pilot.press("down", "x", "escape")
        await until(pilot, lambda: not isinstance(app.screen, DetailScreen))
        app.open_detail(tid)
        await until(pilot, lambda: detail(app, lambda s: s.body.first_wrong == 1))


def _fake_metrics(db) -> list[tuple]:
    """trajectory_metrics rows for every other trajectory (the real computation is tests/unit/test_metrics.py)."""
    store = Store(db)
    try:
        with store.write() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM trajectory ORDER BY id").fetchall()]
            rows = [
                (t, 1000, None if k % 4 == 0 else 1000 - 37 * k, None if k % 4 == 0 else 9 * k, k % 7)
                for k, t in enumerate(ids)
                if k % 2 == 0
            ]
            conn.executemany(
                """INSERT INTO trajectory_metrics (trajectory_id, thought_chars, chars_after_correct,
                                tokens_after_correct, rechecks, version) VALUES (?, ?, ?, ?, ?, 't')""",
                rows,
            )
            return rows
    finally:
        store.close()


async def test_overthinking_columns_filter_and_sort_from_the_index(make_app, tui_db):
    rows = _fake_metrics(tui_db)
    by_id = {r[0]: r for r in rows}
    app = make_app()
    async with app.run_test(size=(200, 40)) as pilot:
        table = app.screen.query_one(VirtualTable)
        await until(pilot, lambda: app.index.ready and table.total)
        await pilot.press("v")  # the preview pane hidden: the table has the width for every column
        await pilot.pause()
        titles = [col.title for _, col, _ in table.visible_columns()]
        assert "after✓" in titles and "rechk" in titles
        for text, want in (
            ("rechecks>=5", {t for t, *_, r in rows if r >= 5}),
            ("after_tokens:100..200", {t for t, _, _, tok, _ in rows if tok is not None and 100 <= tok <= 200}),
            ("overthink>0.5", {t for t, c, a, _, _ in rows if a is not None and a / c > 0.5}),
            ("after_chars<500 verdict:correct", None),
        ):
            await filter_to(pilot, text)
            assert app.screen.source.uses_index
            shown = {table.row(i)[0] for i in range(table.total)}
            if want is None:  # the store path gives the same rows as the index
                where, params = app.screen.source.where()
                want = {r[0] for r in q(tui_db, f"SELECT id FROM trajectory t WHERE {where}", params)}
            assert shown == want and want, text
        await filter_to(pilot, "rechecks>=0")
        assert table.total == len(rows)  # rows without metrics match no comparison
        rechk = [c.key for c in app.screen.source.columns].index("rechecks")
        table.cursor_column = rechk
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        values = [table.row(i)[1 + rechk] for i in range(table.total)]
        assert values == sorted(values, reverse=True) and values[0] == 6
        assert table.row(0)[1 + rechk] == by_id[table.row(0)[0]][4]


async def test_detail_shows_where_the_correct_answer_first_appears_and_jumps_there(make_app, tui_db):
    from still2tui.components.surprise_view import SurpriseStrip

    tid, other = [r[0] for r in q(tui_db, "SELECT id FROM trajectory WHERE verdict = 'correct' ORDER BY id LIMIT 2")]
    store = Store(tui_db)
    try:
        with store.write() as conn:
            conn.execute(
                """INSERT INTO trajectory_metrics (trajectory_id, thought_chars, first_correct_char,
                            first_correct_step, first_correct_how, chars_after_correct, tokens_after_correct,
                            rechecks, recheck_counts, version) VALUES
                            (?, 900, 300, 3, 'conclusion', 600, 150, 4, '{"wait": 3, "verify": 1}', 't'),
                            (?, 900, NULL, NULL, NULL, NULL, NULL, 0, '{}', 't')""",
                [tid, other],
            )
    finally:
        store.close()
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        app.open_detail(tid)
        await until(pilot, lambda: detail(app, lambda s: s.metrics is not None))
        strip = str(app.screen.query_one(SurpriseStrip).render())
        assert "correct answer first at step 4 (conclusion) · 150 tokens of thought after it" in strip
        assert "4 re-checks (wait 3, verify 1)" in strip
        await pilot.press("equals_sign")
        assert app.screen.body.cursor == 3 and 3 in app.screen.body.expanded
        app.open_detail(other)
        await until(pilot, lambda: detail(app, lambda s: s.trajectory_id == other and s.metrics is not None))
        assert "never appears in the thought" in str(app.screen.query_one(SurpriseStrip).render())
        await pilot.press("equals_sign")
        assert app.screen.body.cursor == 0
    async with make_app().run_test(size=(80, 24)) as pilot:  # at 80 columns each part keeps to one line
        app = pilot.app
        app.open_detail(tid)
        await until(pilot, lambda: detail(app, lambda s: s.metrics is not None))
        strip = app.screen.query_one(SurpriseStrip)
        lines = str(strip.render()).splitlines()
        assert lines == ["overthinking correct answer at step 4 · 150 tokens after it · 4 re-checks · ="]
        assert all(len(line) <= strip.size.width for line in lines)


async def test_label_filter_finds_the_labelled_rollouts(make_app, tui_db):
    from still2tui.filter_lang import FilterError, parse_filter

    tid = q(tui_db, "SELECT id FROM trajectory WHERE verdict = 'incorrect' ORDER BY id LIMIT 1")[0][0]
    with pytest.raises(FilterError):
        parse_filter("label:yes")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_detail(tid)
        await until(pilot, lambda: detail(app, lambda s: s.body.steps))
        await pilot.press("down", "x", "escape")
        await until(pilot, lambda: isinstance(app.screen, TrajectoriesScreen))
        await filter_to(pilot, "label:any")
        table = app.screen.query_one(VirtualTable)
        await until(pilot, lambda: not table.is_running_count)
        assert table.total == 1 and table.current_key == tid
        await filter_to(pilot, "label:none verdict:incorrect")
        await until(pilot, lambda: not table.is_running_count)
        assert table.total == q(tui_db, "SELECT count(*) FROM trajectory WHERE verdict = 'incorrect'")[0][0] - 1


async def test_two_rollouts_different_from_the_first_step_say_so(make_app, tui_db):
    from store.ingest import add_trajectories
    from store.trajectory_format import parse_response, to_still

    problem, correct = q(tui_db, "SELECT problem_id, chosen_id FROM pair ORDER BY id LIMIT 1")[0]
    text = to_still("Guess 3.\n\nNo reason to check.", "$\\boxed{3}$")
    store = Store(tui_db)
    try:
        with store.write() as conn:
            parsed = parse_response(text)
            add_trajectories(
                conn,
                [
                    {
                        "id": "other-start",
                        "problem_id": problem,
                        "text": text,
                        "origin": "explore",
                        "verdict": "incorrect",
                        "thought": parsed.thought,
                        "solution": parsed.solution,
                        "format_style": "still",
                    }
                ],
            )
    finally:
        store.close()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(DivergenceScreen(correct, "other-start"))
        await until(pilot, lambda: isinstance(app.screen, DivergenceScreen) and app.screen.alignment.rows)
        title = str(app.screen.query_one("#divergence-title").render())
        assert "they differ from the start: left step 1 / right step 1" in title and "shared" not in title
