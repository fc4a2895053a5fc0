"""Find the final program in a model response: the last fenced code block of the solution section in the
problem's language (a block tagged with another language is not taken), else an untagged block.

Where to look: the solution section of a STILL-2 or R1 response; the whole text only for an untagged
response (no thought/solution tags). A tagged response without a solution section (cut off in the thought)
gives nothing: code drafted in a thought is not the answer. A block left open at the end (output cut off)
is not taken. With no fence at all, a section that parses as a Python module defining something is taken
as a bare program.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from store.trajectory_format import parse_response

LANGUAGE_TAGS = {"python": ("python", "python3", "py", "py3", "python 3")}
MAX_PROGRAM_CHARS = 200_000
_FENCE = re.compile(r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")


@dataclass(frozen=True)
class Block:
    lang: str  # lower-cased first word of the info string, "" when untagged
    code: str
    closed: bool


@dataclass(frozen=True)
class Extracted:
    program: str | None
    where: str  # "block" | "bare" | "none"
    note: str  # why nothing was taken, or which block was


def fenced_blocks(text: str) -> list[Block]:
    """Every fenced block in order (CommonMark-style fences of ``` or ~~~, closed by a fence as long)."""
    blocks: list[Block] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group("fence"), m.group("info").strip()
        lang = info.split()[0].lower() if info else ""
        body: list[str] = []
        j = i + 1
        closed = False
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}:
                closed = True
                break
            body.append(lines[j])
            j += 1
        blocks.append(Block(lang, "\n".join(body), closed))
        i = j + 1
    return blocks


def _bare_program(section: str) -> str | None:
    src = section.strip()
    if not src or len(src) > MAX_PROGRAM_CHARS:
        return None
    try:
        tree = ast.parse(src)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    defines = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Assign)
    return src if any(isinstance(node, defines) for node in tree.body) else None


def where_to_look(text: str) -> tuple[str | None, str]:
    """The section holding the answer, or None and why not."""
    parsed = parse_response(text)
    if parsed.style == "untagged":
        return text, "response"
    if parsed.solution is None:
        return None, "no solution section (output cut off in the thought?)"
    return parsed.solution, "solution section"


def extract_program(text: str, language: str = "python") -> Extracted:
    if not isinstance(text, str) or not text.strip():
        return Extracted(None, "none", "empty response")
    section, where = where_to_look(text)
    if section is None:
        return Extracted(None, "none", where)
    tags = LANGUAGE_TAGS.get(language, (language,))
    blocks = fenced_blocks(section)
    closed = [b for b in blocks if b.closed and b.code.strip()]
    for wanted in (lambda b: b.lang in tags, lambda b: b.lang == ""):
        chosen = [b for b in closed if wanted(b)]
        if chosen:
            code = chosen[-1].code
            if len(code) > MAX_PROGRAM_CHARS:
                return Extracted(None, "none", f"the code block is longer than {MAX_PROGRAM_CHARS} characters")
            tag = chosen[-1].lang or "untagged"
            return Extracted(code, "block", f"last {tag} block of the {where}")
    if closed:
        others = sorted({b.lang for b in closed})
        return Extracted(None, "none", f"the {where} has code only in {', '.join(others)}, not {language}")
    if blocks:
        return Extracted(None, "none", f"the code block of the {where} is not closed (output cut off?)")
    if language == "python":
        bare = _bare_program(section)
        if bare is not None:
            return Extracted(bare, "bare", f"the whole {where} as a program (no code fence)")
    return Extracted(None, "none", f"no ```{language} code block in the {where}")
