"""Unit tests of the TUI's UI-free modules: filter language, diff, keymap, job argv, history."""

from __future__ import annotations

import pytest

from still2tui.actions import ACTIONS, load_keymap
from still2tui.diffing import word_diff
from still2tui.filter_lang import FilterError, compile_filter
from still2tui.history import History
from still2tui.jobs import Command, Param, to_argv


def test_filter_compiles_to_parameters_only():
    c = compile_filter('verdict:correct ppl>3 len<2000 origin:explore flag:repetition "free text" model:*14b*')
    assert c.params == ["correct", 3, 2000, "explore", "repetition", "%14b%"]
    assert c.text == ["free text"]
    for value in ("correct", "explore", "repetition", "14b", "free"):
        assert value not in c.where


def test_filter_injection_stays_a_value():
    c = compile_filter("""model:"x'; DROP TABLE trajectory; --" """)
    assert "DROP" not in c.where and c.params == ["x'; DROP TABLE trajectory; --"]


@pytest.mark.parametrize("bad", ["bogus:1", "ppl>high", "verdict>3", "len:..", 'a "b'])
def test_filter_errors_name_the_term(bad):
    with pytest.raises(FilterError):
        compile_filter(bad)


def test_filter_ranges_negation_and_lists():
    c = compile_filter("-status:approved,rejected len:100..500 iter=2")
    assert c.where.startswith("NOT (") and c.params == ["approved", "rejected", 100, 500, 2]


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
