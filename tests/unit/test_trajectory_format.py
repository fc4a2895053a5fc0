"""Tests for store.trajectory_format: crafted cases per flag, the real Sky-T1 files, properties."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store.trajectory_format import (
    BEGIN_SOLUTION,
    BEGIN_THOUGHT,
    END_SOLUTION,
    END_THOUGHT,
    FLAGS,
    ParsedResponse,
    convert_r1,
    parse_response,
    thought_prefix,
    to_still,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "trajectories"
AIME = DATA / "trajectories_skyt1_32b_aime24.jsonl"
AMC = DATA / "trajectories_skyt1_14b_amc23.jsonl"

BT, ET, BS, ES = BEGIN_THOUGHT, END_THOUGHT, BEGIN_SOLUTION, END_SOLUTION
GOOD = f"{BT}\n\nstep one\n\nstep two\n\n{ET}\n\n{BS}\n\nThe answer is $\\boxed{{4}}$.\n\n{ES}"


def parse(text: str) -> ParsedResponse:
    return parse_response(text)


# ---------------------------------------------------------------- crafted cases


def test_well_formed_has_no_flags_and_round_trips_exactly():
    p = parse(GOOD)
    assert p == ParsedResponse("step one\n\nstep two", "The answer is $\\boxed{4}$.", (), "still")
    assert p.steps == ["step one", "step two"]
    assert p.well_formed
    assert to_still(p.thought, p.solution) == GOOD


def test_steps_drop_empty_and_whitespace_only_lines():
    p = parse(f"{BT}\n\n a \n\n\n\n  \n\nb\n \nc\n{ET}{BS}s{ES}")
    assert p.steps == ["a", "b", "c"]
    assert parse("").steps == []


@pytest.mark.parametrize(
    ("text", "thought", "solution", "flags"),
    [
        ("plain monologue", "plain monologue", None, {"no_tags", "missing_solution"}),
        ("  \n", None, None, {"no_tags", "missing_thought", "missing_solution"}),
        (
            f"t{ET}{BS}s{ES}",
            "t",
            "s",
            {"missing_begin_thought"},
        ),
        (
            f"{BT}t{BS}s{ES}",
            "t",
            "s",
            {"missing_end_thought"},
        ),
        (
            f"{BT}t{ET}\n\nsolution text{ES}",
            "t",
            "solution text",
            {"missing_begin_solution"},
        ),
        (
            f"{BT}t{ET}{BS}s",
            "t",
            "s",
            {"missing_end_solution", "truncated"},
        ),
        (
            f"{BT}\n\nthinking and then cut",
            "thinking and then cut",
            None,
            {
                "missing_end_thought",
                "missing_begin_solution",
                "missing_end_solution",
                "missing_solution",
                "truncated",
            },
        ),
        (
            f"{BT}t{ET}",
            "t",
            None,
            {"missing_begin_solution", "missing_end_solution", "missing_solution"},
        ),
        (f"{BT} \n {ET}{BS}s{ES}", "", "s", {"empty_thought"}),
        (f"{BT}t{ET}{BS}\n\n{ES}", "t", "", {"empty_solution"}),
        (f"Sure!\n{BT}t{ET}{BS}s{ES}", "t", "s", {"text_before_thought"}),
        (f"{BT}t{ET}{BS}s{ES}\nP.S.", "t", "s", {"text_after_solution"}),
        (f"{BT}t{ET}stray{BS}s{ES}", "t", "s", {"text_between_sections"}),
        (f"{BT}t{ET}{BS}s{ES}{BS}again{ES}", "t", "s", {"repeated_tags", "text_after_solution"}),
        (
            f"{BS}s{ES}",
            None,
            "s",
            {"missing_begin_thought", "missing_end_thought", "missing_thought"},
        ),
        (
            f"{BT}t{BS}s{ET}{ES}",
            "t",
            f"s{ET}",
            {"tags_out_of_order"},
        ),
        ("<think>\nt\n</think>\n\nanswer 4", "t", "answer 4", {"r1_think"}),
        ("reasoning</think>\n\nanswer", "reasoning", "answer", {"r1_think", "missing_begin_thought"}),
        (
            "<think>cut off",
            "cut off",
            None,
            {"r1_think", "missing_end_thought", "missing_solution", "truncated"},
        ),
        ("<think>t</think>  ", "t", None, {"r1_think", "missing_solution"}),
        ("hi <think>t</think>a", "t", "a", {"r1_think", "text_before_thought"}),
        ("<think>a</think><think>b</think>c", "a", "<think>b</think>c", {"r1_think", "repeated_tags"}),
        (f"<think>x</think>{BT}t{ET}{BS}s{ES}", "t", "s", {"mixed_tags", "text_before_thought"}),
    ],
)
def test_crafted_flags(text, thought, solution, flags):
    p = parse(text)
    assert (p.thought, p.solution, set(p.flags)) == (thought, solution, flags)
    assert set(p.flags) <= set(FLAGS)
    assert list(p.flags) == [f for f in FLAGS if f in p.flags]  # documented order


def test_styles():
    assert parse(GOOD).style == "still"
    assert parse("<think>a</think>b").style == "r1"
    assert parse("nothing").style == "untagged"
    assert parse(f"<think>{BT}a{ET}</think>").style == "still"


def test_content_is_not_repaired():
    text = f"{BT}\n\n  keep  <b>inner</b> spacing\n\n\n{ET}{BS}x = 1 <|weird|>{ES}"
    p = parse(text)
    assert p.thought == "keep  <b>inner</b> spacing"
    assert p.solution == "x = 1 <|weird|>"


# ---------------------------------------------------------------- to_still / convert_r1 / prefix


def test_to_still_layout_and_none_sections():
    assert to_still("T", "S") == f"{BT}\n\nT\n\n{ET}\n\n{BS}\n\nS\n\n{ES}"
    assert to_still("T", None) == f"{BT}\n\nT\n\n{ET}"
    assert to_still(None, "S") == f"{BS}\n\nS\n\n{ES}"
    with pytest.raises(ValueError):
        to_still(None, None)


@pytest.mark.parametrize("thought", [None, "", "a\n\nb"])
@pytest.mark.parametrize("solution", [None, "", "s"])
def test_to_still_parse_round_trip_including_none(thought, solution):
    if thought is None and solution is None:
        return
    p = parse(to_still(thought, solution))
    assert (p.thought, p.solution) == (thought, solution)


def test_convert_r1_well_formed():
    text, p = convert_r1("<think>\nLet me think.\n\nOk.\n</think>\n\nThe answer is 4.")
    assert text == to_still("Let me think.\n\nOk.", "The answer is 4.")
    assert p.flags == ("r1_think",)
    assert parse(text).flags == ()


def test_convert_r1_qwen3_without_opening_think():
    text, p = convert_r1("Let me think.\n</think>\n\n**4**")
    assert "missing_begin_thought" in p.flags
    assert parse(text) == ParsedResponse("Let me think.", "**4**", (), "still")


def test_convert_r1_qwq_without_solution_yields_thought_prefix():
    text, p = convert_r1("<think>\nlong thought\n</think>\n")
    assert "missing_solution" in p.flags
    assert text == f"{BT}\n\nlong thought\n\n{ET}"
    assert thought_prefix(text) == text


def test_convert_r1_truncated_and_blank():
    text, p = convert_r1("<think>never finished")
    assert {"truncated", "missing_end_thought", "missing_solution"} <= set(p.flags)
    assert parse(text).thought == "never finished"
    with pytest.raises(ValueError):
        convert_r1("   ")


def test_thought_prefix():
    assert thought_prefix(GOOD) == GOOD[: GOOD.index(ET) + len(ET)]
    assert thought_prefix(f"{BT}no end") is None
    assert thought_prefix("a</think>b") == "a</think>"
    assert thought_prefix("") is None


# ---------------------------------------------------------------- real files


def _rows(path: Path) -> list[dict]:
    if not path.exists():
        pytest.skip(f"shared data not found: {path}")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


TRUNCATED_FLAGS = (
    "missing_end_thought",
    "missing_begin_solution",
    "missing_end_solution",
    "missing_solution",
    "truncated",
)


@pytest.mark.parametrize(
    ("path", "rows", "with_end", "truncated_idx"),
    [
        (AIME, 30, 19, {1, 5, 10, 16, 20, 21, 22, 23, 25, 27, 29}),
        (AMC, 40, 24, {4, 6, 7, 8, 10, 11, 12, 13, 15, 20, 27, 28, 31, 32, 37, 38}),
    ],
)
def test_real_trajectories(path, rows, with_end, truncated_idx):
    data = _rows(path)
    assert len(data) == rows
    parsed = {row["idx"]: (row["code"][0], parse(row["code"][0])) for row in data}

    # Independent counts with plain substring tests (SOURCES.md: 30/19 and 40/24).
    texts = [text for text, _ in parsed.values()]
    assert sum(BT in t for t in texts) == rows
    assert sum(ET in t for t in texts) == with_end
    assert sum(t.rstrip().endswith(ES) for t in texts) == with_end

    flag_sets = Counter(p.flags for _, p in parsed.values())
    assert flag_sets == {(): with_end, TRUNCATED_FLAGS: rows - with_end}
    assert {i for i, (_, p) in parsed.items() if "truncated" in p.flags} == truncated_idx
    assert all(p.style == "still" for _, p in parsed.values())

    for text, p in parsed.values():
        assert p.thought is not None and p.thought in text
        assert p.solution is None or p.solution in text
        assert len(p.steps) > 1
        if p.flags == ():
            # Not byte-identical in general (the model leaves trailing spaces before tags),
            # but the canonical re-rendering parses back to the same sections.
            again = parse(to_still(p.thought, p.solution))
            assert (again.thought, again.solution, again.flags) == (p.thought, p.solution, ())
            assert "\\boxed" in p.solution
            assert thought_prefix(text) == text[: text.index(ET) + len(ET)]
        else:
            assert thought_prefix(text) is None


def test_real_well_formed_texts_differ_from_canonical_layout_only_in_whitespace():
    # None of the 43 well-formed Sky-T1 texts is byte-identical to to_still(...): the
    # model writes e.g. " \n\n<|end_of_thought|>" or ". \n<|end_of_solution|>".
    squash = re.compile(r"\s+")
    checked = 0
    for path in (AIME, AMC):
        for row in _rows(path):
            text = row["code"][0]
            p = parse(text)
            if p.flags:
                continue
            canonical = to_still(p.thought, p.solution)
            assert canonical != text
            assert squash.sub("", canonical) == squash.sub("", text)
            checked += 1
    assert checked == 43


# ---------------------------------------------------------------- properties

_pieces = st.sampled_from([BT, ET, BS, ES, "<think>", "</think>", "\n\n", " ", "\n", "x", "step", "<|", "|>", "think>"])
_texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(_pieces, st.text(max_size=8)), max_size=20).map("".join),
)


@settings(max_examples=400, deadline=None)
@given(_texts)
def test_parse_never_raises_and_returns_substrings(text):
    p = parse(text)
    assert p.thought is None or p.thought in text
    assert p.solution is None or p.solution in text
    assert p.style in {"still", "r1", "untagged"}
    assert set(p.flags) <= set(FLAGS)
    assert (p.thought is None) == ("missing_thought" in p.flags)
    assert (p.solution is None) == ("missing_solution" in p.flags)
    prefix = thought_prefix(text)
    assert prefix is None or text.startswith(prefix)


_section_text = (
    st.text(max_size=60)
    .map(str.strip)
    .filter(lambda s: not any(tag in s for tag in (BT, ET, BS, ES, "<think>", "</think>")))
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), _section_text), st.one_of(st.none(), _section_text))
def test_to_still_round_trip_property(thought, solution):
    if thought is None and solution is None:
        return
    p = parse(to_still(thought, solution))
    assert (p.thought, p.solution) == (thought, solution)
    expected = {"missing_begin_thought", "missing_end_thought", "missing_thought"} if thought is None else set()
    if solution is None:
        expected |= {"missing_begin_solution", "missing_end_solution", "missing_solution"}
    if thought == "":
        expected.add("empty_thought")
    if solution == "":
        expected.add("empty_solution")
    assert set(p.flags) == expected
