"""Write pairs as prompt/chosen/rejected (DPOTrainer conversational form); thought pairs are cut at end-of-thought."""
from __future__ import annotations

from pathlib import Path

from store.formats.export import format_for, pair_rows, write_rows
from store.store import Store


def export_pairs(store: Store, out: str | Path, *, part: str | None = None, include_pending: bool = True,
                 problem: str | None = None, fmt: str | None = None, system_prompt: str | None = None,
                 use_system: bool = True, with_meta: bool = False) -> int:
    """Export pairs (never 'rejected' ones; only 'approved' unless ``include_pending``); returns rows written."""
    clauses = ["pr.status = 'approved'" if not include_pending else "pr.status <> 'rejected'"]
    if problem:
        clauses.append("pr.problem_id = '" + problem.replace("'", "''") + "'")
    rows = pair_rows(store, where=" AND ".join(clauses), part=part, system_prompt=system_prompt,
                     use_system=use_system, with_meta=with_meta)
    write_rows(rows, out, format_for(out, fmt))
    return len(rows)
