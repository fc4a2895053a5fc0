"""Program extraction: the last code block of the solution section, in the problem's language."""

from __future__ import annotations

from pipeline.verifier.code_extract import extract_program, fenced_blocks

BT, ET = "<|begin_of_thought|>", "<|end_of_thought|>"
BS, ES = "<|begin_of_solution|>", "<|end_of_solution|>"


def still(thought: str, solution: str) -> str:
    return f"{BT}\n\n{thought}\n\n{ET}\n\n{BS}\n\n{solution}\n\n{ES}"


def test_last_python_block_of_the_solution_not_the_thought():
    text = still(
        "Draft:\n```python\ndef f(x):\n    return 0\n```",
        "First idea:\n```python\ndef f(x):\n    return 1\n```\nFinal:\n```python\ndef f(x):\n    return 2\n```",
    )
    got = extract_program(text)
    assert got.program == "def f(x):\n    return 2"
    assert got.where == "block"


def test_tagged_python_preferred_over_a_later_untagged_output_block():
    text = still("t", "```python\nprint(input())\n```\nSample run:\n```\n5\n```")
    assert extract_program(text).program == "print(input())"


def test_block_in_another_language_is_not_taken():
    got = extract_program(still("t", "```cpp\nint main() { return 0; }\n```"))
    assert got.program is None
    assert "cpp" in got.note and "python" in got.note


def test_cut_off_in_the_thought_gives_nothing_even_with_code_there():
    text = f"{BT}\n\nLet me write it:\n```python\ndef f():\n    return 1\n```\nHmm, wait"
    got = extract_program(text)
    assert got.program is None
    assert "no solution section" in got.note


def test_unclosed_block_is_not_taken():
    got = extract_program(still("t", "```python\ndef f():\n    return 1\n"))
    assert got.program is None and "not closed" in got.note


def test_r1_layout_reads_after_think():
    text = "<think>\n```python\nx = 1\n```\n</think>\n\nAnswer:\n```py\ndef g():\n    return 3\n```"
    assert extract_program(text).program == "def g():\n    return 3"


def test_untagged_response_uses_the_whole_text_and_keeps_indentation():
    text = "Here is the body:\n```python\n    return a + b\n```"
    assert extract_program(text).program == "    return a + b"


def test_bare_program_without_fence_is_taken_only_if_it_parses():
    assert extract_program("def f(x):\n    return x * 2\n").where == "bare"
    prose = extract_program("The function should return the sum of the two numbers.")
    assert prose.program is None and "no ```python code block" in prose.note


def test_tilde_fences_and_longer_fences():
    blocks = fenced_blocks("~~~python\na = 1\n~~~\n````\nb = '```'\n````")
    assert [(b.lang, b.code, b.closed) for b in blocks] == [("python", "a = 1", True), ("", "b = '```'", True)]
