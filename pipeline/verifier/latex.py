"""Linear-time LaTeX scanning helpers: brace matching and locating \\boxed{...} / \\fbox{...} groups."""
from __future__ import annotations

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


def _group_after(s: str, cmd_end: int) -> tuple[str, int, int] | None:
    """Argument of a box command ending at cmd_end: `{...}` or a bare token (`\\boxed 5`)."""
    i = cmd_end
    n = len(s)
    while i < n and s[i] in " \t":
        i += 1
    if i < n and s[i] == "{":
        j = match_brace(s, i)
        if j < 0:
            return None
        return s[i + 1 : j], i, j + 1
    if cmd_end < n and s[cmd_end] == " ":
        j = i
        while j < n and not s[j].isspace() and s[j] not in "$":
            j += 1
        if j > i:
            return s[i:j], i, j
    return None


def find_boxes(s: str) -> list[tuple[str, int, int]]:
    """All complete \\boxed{...}/\\fbox{...} groups as (content, start, end), in text order."""
    out: list[tuple[str, int, int]] = []
    for cmd in _BOX_COMMANDS:
        start = 0
        while True:
            k = s.find(cmd, start)
            if k < 0:
                break
            after = k + len(cmd)
            if after < len(s) and s[after].isalpha():  # \boxedsomething is another macro
                start = after
                continue
            g = _group_after(s, after)
            if g is not None:
                out.append((g[0], k, g[2]))
                start = g[2]
            else:
                start = after
    out.sort(key=lambda t: t[1])
    return out


def last_boxed(s: str) -> str | None:
    """Content of the last complete box; boxes separated only by commas/`and` are joined (`\\boxed{2}, \\boxed{3}`)."""
    boxes = find_boxes(s)
    if not boxes:
        return None
    group = [boxes[-1]]
    for prev in reversed(boxes[:-1]):
        between = s[prev[2] : group[0][1]]
        if _only_separators(between):
            group.insert(0, prev)
        else:
            break
    return ", ".join(b[0] for b in group)


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
