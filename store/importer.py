"""Import problems and trajectories from files into the store: all-or-nothing per file, idempotent.

Every row is read and mapped before anything is written. With bad rows the import stops with an
error naming file and line (``ImportFailed``) unless ``skip_bad`` is set, in which case the good rows
go in and the report lists what was skipped. Ids are content hashes, so importing a file twice adds
nothing. Each import is recorded in ``import_log``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from store.formats import problems as problem_formats
from store.formats import trajectories as trajectory_formats
from store.formats.errors import ImportFailed, RowError
from store.formats.readers import read_source
from store.ids import imported_id, problem_id, question_hash
from store.ingest import add_problems, add_trajectories, insert_new
from store.store import Store
from store.trajectory_format import parse_response

DEFAULT_ORIGIN = {"still2": "distill", "skyt1": "eval"}


@dataclass
class ImportReport:
    path: str
    kind: str
    format: str
    layout: str
    rows_read: int
    added: int
    problems_added: int = 0
    problems_matched: int = 0
    skipped: list[RowError] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "kind": self.kind, "format": self.format, "layout": self.layout,
            "rows_read": self.rows_read, "added": self.added, "problems_added": self.problems_added,
            "problems_matched": self.problems_matched,
            "skipped": [{"line": e.line, "error": e.message} for e in self.skipped],
        }


def _check(path: str, errors: list[RowError], total: int, skip_bad: bool) -> None:
    if errors and not skip_bad:
        raise ImportFailed(path, errors, total)


def _log(conn, path: str, sha: str, kind: str, fmt: str, read: int, added: int, skipped: int) -> None:
    insert_new(conn, "import_log", [{"path": path, "sha256": sha, "kind": kind, "format": fmt,
                                     "rows_read": read, "rows_added": added, "rows_skipped": skipped}])


def detect_kind(path: str, fmt: str | None = None, split: str | None = None) -> str:
    source = read_source(path, fmt, split)
    if not source.rows:
        return "problems"
    return "trajectories" if trajectory_formats.is_trajectory_file(set(source.rows[0].data)) else "problems"


def import_problems(store: Store, path: str, *, source: str | None = None, fmt: str | None = None,
                    layout: str | None = None, field_map: dict[str, str] | None = None,
                    split: str | None = None, domain: str | None = None, answer_kind: str | None = None,
                    difficulty: int | None = None, seed: int = 0, skip_bad: bool = False) -> ImportReport:
    src = read_source(path, fmt, split)
    guessed_name, guessed_split = problem_formats.source_name_for(path)
    records, errors, used_layout = problem_formats.map_problem_rows(
        src, source_name=source or guessed_name, layout=layout, field_map=field_map,
        split=split or guessed_split, domain=domain, answer_kind=answer_kind, difficulty=difficulty, seed=seed)
    total = len(src.rows) + len(src.errors)
    _check(src.path, errors, total, skip_bad)
    with store.write() as conn:
        added = add_problems(conn, records)
        _log(conn, src.path, src.sha256, "problems", src.format, total, added, len(errors))
    return ImportReport(src.path, "problems", src.format, used_layout, total, added, skipped=errors)


def _match_problems(conn, hashes: list[str], prefer_source: str | None) -> dict[str, str]:
    """question_hash -> problem id for hashes already in the store (preferred source first, then oldest)."""
    if not hashes:
        return {}
    rows = conn.execute(
        """SELECT question_hash, arg_min(id, (CASE WHEN source = ? THEN 0 ELSE 1 END, created, id))
           FROM problem WHERE question_hash IN (SELECT unnest(?)) GROUP BY question_hash""",
        [prefer_source or "", hashes],
    ).fetchall()
    return dict(rows)


def import_trajectories(store: Store, path: str, *, source: str | None = None, fmt: str | None = None,
                        layout: str | None = None, field_map: dict[str, str] | None = None,
                        split: str | None = None, model: str | None = None, origin: str | None = None,
                        run_id: str | None = None, iteration: int | None = None,
                        problem_source: str | None = None, skip_bad: bool = False) -> ImportReport:
    src = read_source(path, fmt, split)
    raws, errors, used_layout = trajectory_formats.map_trajectory_rows(src, layout=layout, field_map=field_map)
    total = len(src.rows) + len(src.errors)
    _check(src.path, errors, total, skip_bad)
    origin = origin or DEFAULT_ORIGIN.get(used_layout, "import")
    source_name = source or problem_formats.source_name_for(path)[0]

    with store.write() as conn:
        hashes = sorted({question_hash(r.question) for r in raws})
        known = _match_problems(conn, hashes, problem_source)
        new_problems: dict[str, dict] = {}
        for raw in raws:
            h = question_hash(raw.question)
            if h in known or h in new_problems:
                continue
            question = raw.question.strip()
            new_problems[h] = {
                "id": problem_id(source_name, question), "source": source_name,
                "source_key": str(raw.extras.get("source_idx", raw.line)), "domain": raw.domain or "math",
                "question": question, "question_hash": h, "answer": raw.gold,
                "answer_kind": "int" if "aime" in source_name.lower() else "math", "split": split,
                "meta": {"created_by_import": src.path},
            }
        problems_added = add_problems(conn, list(new_problems.values()))
        pid_of = {**{h: p["id"] for h, p in new_problems.items()}, **known}

        rows = []
        for raw in raws:
            parsed = parse_response(raw.text)
            pid = pid_of[question_hash(raw.question)]
            the_model = model or raw.model
            meta = {"layout": used_layout}
            if raw.reasoning:
                meta["reasoning_content"] = raw.reasoning
            if raw.extras.get("source_idx") is not None:
                meta["source_idx"] = raw.extras["source_idx"]
            rows.append({
                "id": imported_id(pid, the_model, origin, raw.text) if raw.sample_index == 0
                else imported_id(pid, the_model, origin, f"{raw.sample_index}\x00{raw.text}"),
                "problem_id": pid, "text": raw.text, "thought": parsed.thought, "solution": parsed.solution,
                "format_style": parsed.style, "format_flags": list(parsed.flags),
                "harness_pred": raw.extras.get("harness_pred"),
                "harness_correct": raw.extras.get("harness_correct"),
                "origin": origin, "model": the_model, "run_id": run_id, "iteration": iteration,
                "sample_index": raw.sample_index, "source_file": src.path, "source_line": raw.line,
                "meta": meta,
            })
        added = add_trajectories(conn, rows)
        _log(conn, src.path, src.sha256, "trajectories", src.format, total, added, len(errors))
    return ImportReport(src.path, "trajectories", src.format, used_layout, total, added,
                        problems_added=problems_added, problems_matched=len(known), skipped=errors)
