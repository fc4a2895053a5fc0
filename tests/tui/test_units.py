"""Unit tests of the TUI's UI-free modules: filter language, diff, keymap, job argv, history."""

from __future__ import annotations

import os
import re

import pytest

from still2tui.actions import ACTIONS, load_keymap
from still2tui.diffing import word_diff
from still2tui.filter_fields import FLAGS, slow_on_store, to_index, to_store
from still2tui.filter_lang import FilterError, parse_filter
from still2tui.history import History
from still2tui.jobs import Command, Param, to_argv


def test_filter_parses_to_typed_terms_and_compiles_to_parameters_only():
    flt = parse_filter('verdict:correct ppl>3 len<2000 origin:explore flag:repetition "free text" model:*14b*')
    assert [(t.field, t.op, t.values, t.bounds) for t in flt.terms] == [
        ("verdict", ":", ("correct",), ()),
        ("ppl", ">", (), ((">", 3),)),
        ("len", "<", (), (("<", 2000),)),
        ("origin", ":", ("explore",), ()),
        ("flag", ":", ("repetition",), ()),
        ("model", ":", ("*14b*",), ()),
    ]
    assert flt.words == ("free text",) and flt.flags == ["repetition"]
    where = to_store(flt)
    assert where.params == ("correct", 3, 2000, "explore", "repetition", "%14b%")
    for value in ("correct", "explore", "repetition", "14b", "free"):
        assert value not in where.sql
    clauses = to_index(flt)
    assert [c.reads for c in clauses] == ["verdict", "ppl", "n_chars", "origin", FLAGS, "model"]
    assert [c.params for c in clauses] == [("correct",), (3,), (2000,), ("explore",), ("repetition",), ("%14b%",)]


def test_filter_injection_stays_a_value():
    where = to_store(parse_filter("""model:"x'; DROP TABLE trajectory; --" """))
    assert "DROP" not in where.sql and where.params == ("x'; DROP TABLE trajectory; --",)


@pytest.mark.parametrize("bad", ["bogus:1", "ppl>high", "verdict>3", "len:..", 'a "b', "label:yes", "label>1"])
def test_filter_errors_name_the_term(bad):
    with pytest.raises(FilterError, match=re.escape(repr(bad.split()[0])) if ":" in bad or ">" in bad else "quote"):
        parse_filter(bad)


def test_filter_ranges_negation_and_lists():
    flt = parse_filter("-status:approved,rejected len:100..500 iter=2 tokens!=7")
    status, length, iteration, tokens = flt.terms
    assert status.negated and status.values == ("approved", "rejected")
    assert length.bounds == ((">=", 100), ("<=", 500)) and iteration.bounds == (("=", 2),)
    where = to_store(flt)
    assert where.sql.startswith("NOT (") and "t.n_tokens <> ?" in where.sql
    assert where.params == ("approved", "rejected", 100, 500, 2, 7)


def test_terms_without_an_index_form_send_the_filter_to_the_store():
    """Tags, step labels and verdict provenance are not in the in-memory index: the whole filter runs on
    the store; a perplexity or metric term makes the store path slow (it reads a derived table)."""
    for text in ("tag:keep", "verdict:correct label:any", "answer:statement", "-judge:incorrect"):
        assert to_index(parse_filter(text)) is None, text
    assert not slow_on_store(parse_filter("verdict:correct len>3"))
    assert slow_on_store(parse_filter("ppl>3")) and slow_on_store(parse_filter("rechecks>1"))
    assert to_index(parse_filter("gold:7"))[0].reads is None  # read from the index's problem table: a scan


def test_word_diff_marks_only_changed_words():
    a, b = word_diff("the answer is 27", "the answer is 30")
    assert [s.style for s in a.spans] == ["bold red"] and a.plain[a.spans[0].start : a.spans[0].end] == "27"
    assert b.plain[b.spans[0].start : b.spans[0].end] == "30"


def test_keymap_file(tmp_path):
    path = tmp_path / "keys.toml"
    path.write_text('[keys]\n"trajectories.approve" = "y"\n"nope" = "z"\n')
    assert load_keymap(path) == {"trajectories.approve": "y"}
    path.write_text("[keys\n")
    with pytest.raises(ValueError, match="keys.toml"):
        load_keymap(path)
    ids = [a.id for scope in ACTIONS.values() for a in scope]
    assert len(ids) == len(set(ids))


def test_job_argv_from_schema_values():
    cmd = Command(
        "explore",
        params=[
            Param("n", "--n", "int", default=20),
            Param("flag", "--resume", "bool", default=True),
            Param("src", "--source", "str", multiple=True),
            Param("m", "--model", required=True),
        ],
    )
    assert to_argv(cmd, {"n": 20, "flag": False, "src": ["a", "b"], "m": "x"}) == [
        "explore",
        "--no-resume",
        "--source",
        "a",
        "--source",
        "b",
        "--model",
        "x",
    ]


def test_two_way_flag_left_to_the_recipe_or_turned_either_way():
    """A recipe-backed --bf16/--fp32 (CLI default None): blank leaves it to the recipe, off sends --fp32."""
    cmd = Command(
        "sft",
        params=[
            Param("bf16", "--bf16", "bool", default=None, off_flag="--fp32"),
            Param("correct", "--correct-only", "bool", default=True, off_flag="--any-verdict"),
        ],
    )
    assert to_argv(cmd, {"bf16": None, "correct": True}) == ["sft"]
    assert to_argv(cmd, {"bf16": False, "correct": False}) == ["sft", "--fp32", "--any-verdict"]
    assert to_argv(cmd, {"bf16": True}) == ["sft", "--bf16"]


def test_history_persists(tmp_path):
    h = History(tmp_path / "h.jsonl")
    h.add("SELECT 1")
    h.add("SELECT\n2")
    again = History(tmp_path / "h.jsonl")
    assert again.items == ["SELECT 1", "SELECT\n2"] and again.step(-1) == "SELECT\n2"


def test_source_contract_is_written_out_with_defaults():
    """still2tui.sources.Source: count/fetch are required, every other member the table uses has a default."""
    from still2tui.sources import Column, RowsSource, Source, SqlSource
    from still2tui.trajectory_source import TrajectorySource

    with pytest.raises(TypeError):
        Source()  # abstract: count and fetch

    class Two(Source):
        columns = [Column("x", "x", 3, "x", 1)]

        def count(self, query=None):
            return 2

        def fetch(self, offset, limit):
            return [("a", 1), ("b", 2)][offset : offset + limit]

    two = Two()
    assert (two.slow, two.query, two.first_rows(10)) == (False, None, None)
    two.set_sort("x", True)
    assert (two.sort_key, two.descending) == ("x", True)
    assert all(issubclass(cls, Source) for cls in (RowsSource, SqlSource, TrajectorySource))


def _plain_store(tmp_path):
    from store import Store

    store = Store(tmp_path / "s.duckdb")
    store.init()
    return store


def test_sql_source_reads_rows_by_column_name(tmp_path):
    """The query's column order does not matter: rows are (key, *values in Column order), picked by name."""
    from still2tui.sources import Column, SqlSource
    from store.tui_queries import Predicate

    sql = """SELECT * FROM (VALUES (3, 'b', 'k2'), (1, 'a', 'k1')) v(n, word, id) WHERE {where}"""
    cols = [Column("word", "word", 5, "word", 1), Column("n", "n", 3, "n", 1, numeric=True)]
    source = SqlSource(_plain_store(tmp_path), sql, cols, sort_key="n")
    assert source.fetch(0, 10) == [("k1", "a", 1), ("k2", "b", 3)]
    source.where = Predicate("v.n > ?", (2,))
    source.invalidate()
    assert source.fetch(0, 10) == [("k2", "b", 3)]
    named = SqlSource(_plain_store(tmp_path), sql, cols, key="word")  # the key may be a shown column
    assert sorted(named.fetch(0, 10)) == [("a", "a", 1), ("b", "b", 3)]


def test_sql_source_names_a_column_the_query_does_not_give(tmp_path):
    from still2tui.sources import Column, SqlSource

    cols = [Column("word", "word", 5, "word", 1), Column("pass_rate", "pass", 5, "pass_rate", 1)]
    source = SqlSource(_plain_store(tmp_path), "SELECT 'k' AS id, 'a' AS word, 0.5 AS rate WHERE {where}", cols)
    with pytest.raises(ValueError, match="no column named pass_rate") as err:
        source.count()
    assert "id, word, rate" in str(err.value)  # and says what the query does select
    keyless = SqlSource(_plain_store(tmp_path), "SELECT 'a' AS word, 0.5 AS pass_rate WHERE {where}", cols)
    with pytest.raises(ValueError, match="no column named id"):
        keyless.count()
    twice = SqlSource(_plain_store(tmp_path), "SELECT 'k' AS id, 'a' AS word, 1 AS word, 2 AS pass_rate", cols)
    with pytest.raises(ValueError, match="selects word more than once"):
        twice.count()


def test_listing_queries_name_every_column_once(tui_db):
    """Every listing a screen shows gives each of its Column keys by name, none twice; the problems' rows
    line up with problem_stats by name."""
    from still2tui.components import disagreements_screen, overview_screen, pairs_screen, problems_screen
    from still2tui.sources import SqlSource
    from store import Store
    from store import tui_queries as q

    store = Store(tui_db)
    listings = [
        (q.PROBLEMS_SQL, problems_screen.COLUMNS, "problem_id"),
        (q.PAIRS_SQL, pairs_screen.COLUMNS, "id"),
        (q.RUNS_SQL, overview_screen.RUN_COLUMNS, "id"),
        (q.PROGRESS_SQL, overview_screen.PROGRESS_COLUMNS, "run_origin"),
        (q.DATASETS_SQL, overview_screen.DATASET_COLUMNS, "name"),
        (q.MODELS_SQL, overview_screen.MODEL_COLUMNS, "id"),
        (q.EVENTS_SQL, overview_screen.EVENT_COLUMNS, "id"),
        (q.DISAGREEMENTS_SQL, disagreements_screen.COLUMNS, "id"),
    ]
    for sql, cols, key in listings:
        SqlSource(store, sql, cols, key=key).count()  # raises on a missing or doubled name
    source = SqlSource(store, q.PROBLEMS_SQL, problems_screen.COLUMNS, key="problem_id", sort_key="problem_id")
    keys = ["key", *(c.key for c in problems_screen.COLUMNS)]
    rows = [dict(zip(keys, r)) for r in source.fetch(0, 1000)]
    with store.read() as conn:
        cur = conn.execute("SELECT s.*, p.question FROM problem_stats s JOIN problem p ON p.id = s.problem_id")
        names = [d[0] for d in cur.description]
        stats = {r[0]: dict(zip(names, r)) for r in cur.fetchall()}
    assert rows and len(rows) == len(stats)
    for row in rows:
        want = stats[row["key"]]
        assert row["problem_id"] == row["key"]
        assert row["question"] == want["question"].replace("\n", " ")[:200]
        for k in (
            "source",
            "domain",
            "difficulty",
            "rollouts",
            "correct",
            "pass_rate",
            "trajectories",
            "last_iteration",
        ):
            assert row[k] == want[k], k
    source.where = q.problems_matching(["AMC"])
    source.invalidate()
    assert 0 < source.count() < len(rows) and all("amc" in " ".join(map(str, r)).lower() for r in source.rows())
    store.close()


def test_screen_queries_answer_by_name(tui_db):
    """The counts, selections, runs and plot data the screens read come back named, over a Predicate."""
    from store import Store
    from store import tui_queries as q

    store = Store(tui_db)
    with store.read() as conn:
        everything = q.trajectory_counts(conn, q.Predicate())
        explore = q.Predicate("t.origin = ?", ("explore",))
        some = q.trajectory_counts(conn, explore)
        facts = conn.execute("""SELECT count(*), count(*) FILTER (WHERE origin = 'explore'),
                                       count(*) FILTER (WHERE origin = 'explore' AND verdict = 'correct'),
                                       count(n_tokens) FILTER (WHERE origin = 'explore'), max(rowid)
                                FROM trajectory""").fetchall()[0]
        assert everything.total == everything.matching == q.trajectory_count(conn) == facts[0]
        assert (some.total, some.matching, some.correct, some.with_tokens, some.upto) == facts
        assert some.pending == some.matching - some.approved - some.rejected == some.matching  # nothing curated
        ids = q.selected_ids(conn, explore, some.upto)
        assert len(ids) == some.matching and q.selected_ids(conn, explore, -1) == []
        # An OR at the top of a predicate stays one condition next to the rowid bound.
        either = q.Predicate("t.origin = ? OR t.origin = ?", ("explore", "distill"))
        assert len(q.selected_ids(conn, either, -1)) == 0
        chars = q.histogram(conn, "chars", explore)
        assert sum(n for _, n in chars) == some.matching and len(chars) == 30  # empty bins too: an even axis
        steps = {round(b[0] - a[0], 6) for a, b in zip(chars, chars[1:])}
        assert len(steps) == 1 and any(n == 0 for _, n in chars)
        assert q.histogram(conn, "ppl", explore.also("FALSE")) == []
        runs = q.job_runs(conn)
        assert runs and {r.id for r in runs} == {"run-explore-1", "run-distill-1"} and all(r.state for r in runs)
        assert q.pair_status_counts(conn) and q.first_problem_with_mixed_verdicts(conn)
    with store.write() as conn:
        with q.selection_table(conn, explore, some.upto) as where:
            assert conn.execute(f"SELECT count(*) FROM trajectory WHERE {where}").fetchall()[0][0] == some.matching
        assert not conn.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'tui_bulk'").fetchall()[0][0]
    store.close()


def test_curator_selection_carries_a_predicate(tui_db):
    """A bulk action over a Predicate changes the rows matching it when asked, not rows added since."""
    from still2tui.curator import Curator
    from store import Store
    from store.tui_queries import Predicate

    store = Store(tui_db)
    curator = Curator(store, actor="tester")
    with store.read() as conn:
        first = conn.execute("SELECT id FROM trajectory ORDER BY rowid LIMIT 3").fetchall()
    where = Predicate("t.id IN (SELECT unnest(?))", ([r[0] for r in first],))
    selection = curator.select(where.also("t.verdict IS NOT NULL"))
    assert selection.where.params[0] == [r[0] for r in first] and selection.n == 3
    assert selection.statuses == {"approved": 0, "rejected": 0, "pending": 3}
    assert curator.ids(selection) == [r[0] for r in first]
    event = curator.bulk_status("approved", selection)
    assert event.n == 3 and curator.select(where).statuses["approved"] == 3
    store.close()


def test_histogram_ticks_are_the_same_in_every_process_and_evenly_spaced():
    """plotext picked the ticks of bars over string labels through a set, differently per hash seed."""
    import subprocess
    import sys

    code = (
        "from still2tui.plots import histogram\n"
        "print(histogram([(i * 137.5, (i * 7) % 11 + 1) for i in range(30)], 'chars', width=70).plain)"
    )
    shown = {
        subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(shown) == 1
    labels = shown.pop().splitlines()[-2].split()
    assert labels == ["0", "550", "1,100", "1,650", "2,200", "2,750", "3,300", "3,850"]  # every 4th bin start
