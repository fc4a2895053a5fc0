"""Linear-time LaTeX scanning helpers: brace matching and locating \\boxed{...} / \\fbox{...} groups."""

from __future__ import annotations

import re

# An answer longer than this inside one \boxed{...} is not an answer; scanning stops there so that
# many unclosed boxes in a huge text stay linear in practice.
MAX_GROUP_SCAN = 4000

_BOX_COMMANDS = ("\\boxed", "\\fbox")


def match_brace(s: str, open_idx: int, limit: int = MAX_GROUP_SCAN) -> int:
    """Index of the `}` closing the `{` at open_idx, or -1 (unclosed or longer than `limit`)."""
    depth = 0
    end = min(len(s), open_idx + limit)
    i = open_idx
    while i < end:
        c = s[i]
        if c == "\\":
            i += 2  # an escaped brace \{ or \} does not count
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


_BRACE_TOKENS = re.compile(r"\\.|[{}]", re.S)


def brace_pairs(s: str) -> dict[int, int]:
    """Index of every `{` that is closed -> index of its `}`, in one pass over `s` (escaped braces skipped)."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for m in _BRACE_TOKENS.finditer(s):
        c = m.group()
        if c == "{":
            stack.append(m.start())
        elif c == "}" and stack:
            pairs[stack.pop()] = m.start()
    return pairs


_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")


def find_boxes(s: str) -> list[tuple[str, int, int]]:
    """All complete \\boxed{...}/\\fbox{...} groups as (content, start, end), in text order.

    Linear in len(s): braces are matched once for the whole text, so thousands of unclosed boxes cost
    no more than one. A group longer than MAX_GROUP_SCAN is not an answer and is skipped.
    """
    if "\\boxed" not in s and "\\fbox" not in s:
        return []
    pairs: dict[int, int] | None = None
    out: list[tuple[str, int, int]] = []
    n = len(s)
    last_end = 0
    for m in _BOX_RE.finditer(s):
        k, after = m.start(), m.end()
        if k < last_end:
            continue  # a box inside a box belongs to the outer answer
        i = after
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == "{":
            if pairs is None:
                pairs = brace_pairs(s)
            j = pairs.get(i, -1)
            if j < 0 or j - i > MAX_GROUP_SCAN:
                continue
            out.append((s[i + 1 : j], k, j + 1))
            last_end = j + 1
        elif after < n and s[after] == " ":
            j = i
            while j < n and not s[j].isspace() and s[j] != "$":
                j += 1
            if j > i:
                out.append((s[i:j], k, j))
                last_end = j
    return out


def last_boxed(s: str) -> str | None:
    """Content of the last complete box; boxes separated only by commas/`and` are joined (`\\boxed{2}, \\boxed{3}`)."""
    boxes = find_boxes(s)
    if not boxes:
        return None
    return ", ".join(b[0] for b in last_box_group(s, boxes))


def last_box_group(s: str, boxes: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """The last box with the boxes right before it that only separators divide from it, in text order."""
    group = [boxes[-1]]
    for prev in reversed(boxes[:-1]):
        between = s[prev[2] : group[-1][1]]
        if _only_separators(between):
            group.append(prev)
        else:
            break
    group.reverse()
    return group


def _only_separators(between: str) -> bool:
    t = between.replace("$", "").replace("\\text{and}", "").replace("\\quad", "").replace("\\(", "").replace("\\)", "")
    t = t.replace("and", "").replace(",", "").replace(";", "")
    return t.strip() == "" and len(between) < 40


def strip_command_wrapper(s: str, commands: tuple[str, ...]) -> str:
    """Unwrap `\\cmd{...}` when it spans the whole string (repeatedly)."""
    changed = True
    while changed:
        changed = False
        t = s.strip()
        for cmd in commands:
            if t.startswith(cmd + "{"):
                j = match_brace(t, len(cmd))
                if j == len(t) - 1:
                    s = t[len(cmd) + 1 : j]
                    changed = True
                    break
    return s.strip()


def unwrap_commands(s: str, commands: tuple[str, ...]) -> str:
    """Replace every `\\cmd{X}` by `X` for the given commands (brace-matched, linear per occurrence)."""
    for cmd in commands:
        out = []
        i = 0
        while True:
            k = s.find(cmd, i)
            if k < 0:
                out.append(s[i:])
                break
            after = k + len(cmd)
            j_open = after
            while j_open < len(s) and s[j_open] == " ":
                j_open += 1
            if after < len(s) and s[after].isalpha() or j_open >= len(s) or s[j_open] != "{":
                out.append(s[i:after])
                i = after
                continue
            j = match_brace(s, j_open)
            if j < 0:
                out.append(s[i:after])
                i = after
                continue
            out.append(s[i:k])
            out.append(s[j_open + 1 : j])
            i = j + 1
        s = "".join(out)
    return s
