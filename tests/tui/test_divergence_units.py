"""The step alignment behind the first-divergence view (still2tui/divergence.py)."""

from __future__ import annotations

from still2tui.compare import partner
from still2tui.divergence import align

COMMON = ["Let x be the number of apples.", "Then 3x + 2 = 14.", "So 3x = 12."]


def kinds(alignment):
    return [(r.kind, r.a, r.b) for r in alignment.rows]


def test_identical_thoughts_have_no_divergence_and_rewording_is_the_same_step():
    same = align(COMMON, ["let x be the number of apples .", "Then  $3x + 2 = 14$.", "So 3x = 12."])
    assert same.first_divergence is None and same.shared_prefix == 3 and same.blocks() == []


def test_a_changed_number_is_where_they_part_ways():
    got = align([*COMMON, "So x = 4.", "The answer is 4."], [*COMMON, "So x = 5.", "The answer is 5."])
    assert got.first_divergence == 3 and kinds(got)[3:] == [("changed", 3, 3), ("changed", 4, 4)]


def test_inserted_and_dropped_steps_show_on_one_side_and_the_order_is_kept():
    got = align([*COMMON, "Check: 3*4+2 = 14.", "So x = 4."], [*COMMON, "Hmm, wait.", "So x = 4."])
    assert kinds(got)[3:] == [("changed", 3, 3), ("same", 4, 4)]
    got = align(COMMON, [COMMON[0], "An aside about pears.", *COMMON[1:]])
    assert kinds(got) == [("same", 0, 0), ("right", None, 1), ("same", 1, 2), ("same", 2, 3)]
    assert got.first_divergence == 1 and got.blocks() == [1]


def test_repeated_steps_pair_in_order():
    a = ["- ...", "- (1, 2)", "- ...", "- (2, 3)", "So 2 intervals.", "- ...", "Done: 2."]
    b = a[:-1] + ["Done: 3."]
    got = align(a, b)
    assert got.first_divergence == 6 and all(r.a == r.b for r in got.rows)


def test_v_compares_with_a_marked_rollout_else_the_opposite_verdict_else_the_next():
    rollouts = [("a", "correct"), ("b", "correct"), ("c", "incorrect")]
    assert partner("a", "correct", rollouts, []) == "c"
    assert partner("c", "incorrect", rollouts, []) == "a"
    assert partner("a", "correct", rollouts, ["b"]) == "b"
    assert partner("b", "unverified", rollouts, []) == "c"
    assert partner("a", "correct", [("a", "correct")], []) is None
