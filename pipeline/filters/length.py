"""Rule ``too_short``: thought or solution below a length in characters or lexical tokens (DuckDB SQL)."""

from __future__ import annotations

from pipeline.filters.base import Rule, register

# Lexical tokens: words and single punctuation marks (model tokens are not known before scoring).
_TOKENS = "len(regexp_extract_all({col}, '\\w+|[^\\w\\s]'))"


def _clauses(part: str, min_chars: int, min_tokens: int) -> list[str]:
    col = f"t.{part}"
    out = []
    if min_chars > 0:
        out.append(
            f"CASE WHEN {col} IS NOT NULL AND length({col}) < {min_chars} "
            f"THEN '{part} ' || length({col}) || ' chars < {min_chars}' END"
        )
    if min_tokens > 0:
        count = _TOKENS.format(col=col)
        out.append(
            f"CASE WHEN {col} IS NOT NULL AND {count} < {min_tokens} "
            f"THEN '{part} ' || {count} || ' tokens < {min_tokens}' END"
        )
    return out


def check_too_short(p: dict) -> str:
    """Too short: the thought or the solution is below a minimum length.

    Thought and solution are checked separately, in characters (``min_thought_chars``,
    ``min_solution_chars``) and lexical tokens - words and punctuation marks, not model tokens -
    (``min_thought_tokens``, ``min_solution_tokens``); 0 disables a check. A missing section is
    not checked here (rule ``format`` flags it). The STILL-2 report drops short examples: longer
    thoughts train better.
    """
    clauses = _clauses("thought", int(p["min_thought_chars"]), int(p["min_thought_tokens"])) + _clauses(
        "solution", int(p["min_solution_chars"]), int(p["min_solution_tokens"])
    )
    if not clauses:
        return "NULL"
    return f"nullif(concat_ws('; ', {', '.join(clauses)}), '')"


RULE = register(
    Rule(
        name="too_short",
        check=check_too_short,
        defaults={
            "min_thought_chars": 1000,
            "min_solution_chars": 50,
            "min_thought_tokens": 0,
            "min_solution_tokens": 0,
        },
        kind="sql",
        columns=(),
    )
)


def check_too_long(p: dict) -> str:
    """Too long: the response has more model tokens than training takes, or was cut by its token limit.

    ``max_tokens`` is compared with the response's model tokens (``trajectory.n_tokens``; 0 disables
    that check); a rollout whose generation stopped at its length limit (``finish_reason`` 'length')
    is flagged too, since its thought or solution is unfinished. Trainers cut sequences longer than
    their ``max_length`` without a word, and a cut trajectory loses its solution: flagged rows stay
    out of D_t. ``still2 iterate`` sets ``max_tokens`` to the rollout budget, which its training
    ``max_length`` covers.
    """
    max_tokens = int(p["max_tokens"])
    clauses = ["CASE WHEN t.finish_reason = 'length' THEN 'generation stopped at its token limit' END"]
    if max_tokens > 0:
        clauses.insert(
            0, f"CASE WHEN t.n_tokens > {max_tokens} THEN 'response ' || t.n_tokens || ' tokens > {max_tokens}' END"
        )
    return f"nullif(concat_ws('; ', {', '.join(clauses)}), '')"


TOO_LONG = register(
    Rule(
        name="too_long",
        check=check_too_long,
        defaults={"max_tokens": 32768},
        kind="sql",
        columns=(),
    )
)
