"""Unit tests of the TUI's UI-free modules: filter language, diff, keymap, job argv, history."""

from __future__ import annotations

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
