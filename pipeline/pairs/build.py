"""DPO pairs by the STILL-2 rule: chosen = correct with HIGHER perplexity, rejected = incorrect with LOWER.

Per problem with both outcomes, correct trajectories are ranked by perplexity (highest first) and
incorrect ones by perplexity (lowest first); the k-th of each are paired while chosen_ppl >
rejected_ppl, up to ``max_per_problem`` pairs, no trajectory used twice in one run. Pair ids hash
(chosen, rejected, part), so re-running adds nothing. Trajectories with status 'rejected' are never
used, nor rows a default exclusion removes (contaminated, evaluation outputs, test problems; see
pipeline.datasets.exclusions) unless ``allow`` names it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pipeline.datasets import exclusions
from pipeline.pairs.config import PairOptions
from store.ids import stable_id
from store.ingest import insert_new
from store.store import Store

RULE = "ppl_contrast"


@dataclass
class PairReport:
    scorer: str
    part: str
    problems: int
    problems_with_both: int
    candidates: int
    added: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def pair_id(chosen: str, rejected: str, part: str) -> str:
    return stable_id("pair", chosen, rejected, part)


def latest_scorer(conn, part: str) -> str | None:
    row = conn.execute("SELECT arg_max(scorer, created) FROM perplexity WHERE part = ?", [part]).fetchall()
    row = row[0] if row else None
    return row[0] if row else None


def _candidates(conn, opts: PairOptions, scorer: str) -> list[dict]:
    where = ["v.verdict IN ('correct', 'incorrect')", "v.status <> 'rejected'"]
    params: dict[str, Any] = {"scorer": scorer, "part": opts.part}
    if opts.approved_only:
        where.append("v.status = 'approved'")
    if opts.problem:
        where.append("v.problem_id = $problem")
        params["problem"] = opts.problem
    if "*" in opts.skip_flags:
        where.append("len(v.flags) = 0")
    elif opts.skip_flags:
        where.append("NOT list_has_any(v.flags, $flags)")
        params["flags"] = list(opts.skip_flags)
    if opts.where:
        where.append(f"({opts.where})")
    chosen = exclusions.active(opts.allow)
    columns = "".join(", " + c for c in exclusions.sql_columns(chosen))
    rows = (
        conn.sql(
            f"""
        SELECT v.id, v.problem_id, v.verdict, px.ppl{columns}
        FROM trajectories v
        JOIN perplexity px ON px.trajectory_id = v.id AND px.scorer = $scorer AND px.part = $part
        WHERE {" AND ".join(where)} AND isfinite(px.ppl)
        ORDER BY v.problem_id, v.id""",
            params=params,
        )
        .to_arrow_table()
        .to_pylist()
    )
    return exclusions.apply(conn, rows, chosen)[0]


def choose_pairs(rows: list[dict], max_per_problem: int) -> list[tuple[dict, dict]]:
    """Pairs for one problem's scored rows (see the module docstring)."""
    correct = sorted((r for r in rows if r["verdict"] == "correct"), key=lambda r: (-r["ppl"], r["id"]))
    wrong = sorted((r for r in rows if r["verdict"] == "incorrect"), key=lambda r: (r["ppl"], r["id"]))
    out = []
    for chosen, rejected in zip(correct, wrong):
        if len(out) >= max_per_problem or not chosen["ppl"] > rejected["ppl"]:
            break
        out.append((chosen, rejected))
    return out


def build_pairs(store: Store, opts: PairOptions) -> PairReport:
    if opts.part not in ("full", "thought"):
        raise ValueError(f"part must be full or thought, got {opts.part!r}")
    if opts.max_per_problem < 1:
        raise ValueError("max pairs per problem must be >= 1")
    with store.read() as conn:
        scorer = opts.scorer or latest_scorer(conn, opts.part)
        if not scorer:
            raise ValueError(f"no perplexity rows for part {opts.part!r}: run `still2 score` first")
        rows = _candidates(conn, opts, scorer)
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["problem_id"]].append(r)
    new = []
    both = 0
    for problem_id, group in sorted(groups.items()):
        if {r["verdict"] for r in group} == {"correct", "incorrect"}:
            both += 1
        for chosen, rejected in choose_pairs(group, opts.max_per_problem):
            new.append(
                {
                    "id": pair_id(chosen["id"], rejected["id"], opts.part),
                    "problem_id": problem_id,
                    "chosen_id": chosen["id"],
                    "rejected_id": rejected["id"],
                    "part": opts.part,
                    "rule": RULE,
                    "meta": {"scorer": scorer, "chosen_ppl": chosen["ppl"], "rejected_ppl": rejected["ppl"]},
                }
            )
    added = 0
    if new:
        with store.write() as conn:
            added = insert_new(conn, "pair", new)
    return PairReport(scorer, opts.part, len(groups), both, len(new), added)


def list_pairs(
    store: Store, *, problem: str | None = None, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    where, params = [], {}
    if problem:
        where.append("problem_id = $problem")
        params["problem"] = problem
    if status:
        where.append("status = $status")
        params["status"] = status
    sql = (
        "SELECT id, problem_id, part, status, rule, chosen_id, chosen_ppl, chosen_thought_ppl, rejected_id, "
        "rejected_ppl, rejected_thought_ppl FROM pairs"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY problem_id, id LIMIT {int(limit)}"
    )
    with store.read() as conn:
        return conn.sql(sql, params=params or None).to_arrow_table().to_pylist()
