"""The detail view's verdict lines for code: program size and tests instead of the raw JSON, the failing test."""

from __future__ import annotations

from still2tui.components.detail_screen import verdict_lines


def row(**kw):
    base = {
        "verdict": "incorrect",
        "verdict_reason": "tests: assert 2/7 failed: assert f(1) == 2 (got 3)",
        "extracted": "def f(x):\n    return x + 2",
        "gold": '{"style":"assert","test":"..."}',
        "answer_kind": "code",
        "tests": "check(f)",
    }
    return {**base, **kw}


def test_code_verdict_shows_program_tests_and_failing_test():
    lines = verdict_lines(row())
    assert lines[0] == "verdict [red]incorrect[/]: 2-line program vs [b]check(f)[/b]"
    assert lines[1] == "  [red]failing test[/]: tests: assert 2/7 failed: assert f(1) == 2 (got 3)"
    assert '{"style"' not in "".join(lines)


def test_no_program_is_a_reason_not_a_failing_test():
    lines = verdict_lines(row(extracted=None, verdict_reason="no_answer: no ```python code block"))
    assert lines[0].endswith("no program vs [b]check(f)[/b]")
    assert lines[1].startswith("  reason: no_answer")


def test_math_rows_unchanged():
    lines = verdict_lines(
        row(answer_kind="math", extracted="7", gold="7", verdict="correct", verdict_reason="exact: 7 == 7")
    )
    assert lines[:2] == ["verdict [green]correct[/]: extracted [b]7[/b] vs gold [b]7[/b]", "  reason: exact: 7 == 7"]
