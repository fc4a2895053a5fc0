"""Bench: the trajectories filter compiled as typed terms (now) against SQL text read back by a regex (before).

    PYTHONPATH=$PWD .venv/bin/python bench/filter_compile.py                  # old = 10b3f4f, 60 repeats
    PYTHONPATH=$PWD .venv/bin/python bench/filter_compile.py --old REF --repeats 10 --db PATH

Before (``--old``, default 10b3f4f): ``filter_lang.compile_filter(text)`` gave SQL text (store and index
forms) and ``TrajectoryIndex.filter`` took ``(sql, params)`` pairs, finding the column a clause reads with a
regex over the SQL. Now: ``filter_lang.parse_filter`` gives typed Terms, ``filter_fields.to_index`` gives
IndexClauses naming the column they read, and TrajectorySource plans one query class per filter. The old
modules are loaded from ``git show`` into a temp dir as old_filter_lang / old_sources / old_table_index /
old_trajectory_source, their imports pointed at each other, beside the current ones.

On the 1M-row store bench/tui.py builds (opened read-only through store.Store at the file's own schema
version, so it is never migrated or written), each version's in-memory index is loaded once; then, for 28
representative filters (value, wildcard, numeric, range, negated, flag any/none, metric, ppl, multi-term,
columns the index scans), old and new legs alternate (the order flips every repeat) and time:

(a) parse+compile: old ``compile_filter``; new ``parse_filter`` + ``to_index`` + ``to_store`` (the same two
    forms the old call produced), with a fixed ``known`` lookup so values are checked; ``--inner`` calls per
    sample;
(b) ``index.filter`` on the precompiled clauses;
(c) end to end with the index ready: ``TrajectorySource.set_filter`` + ``count`` + ``fetch(0, 100)``.

It prints p50 / p95 of each leg, the ratios new/old of the p50s and of the p95s, and the median of the
per-repeat ratios ("paired": the two legs of a repeat run back to back; a REGRESSION line is a paired ratio
above 1.2x on index.filter or end to end), plus ``uptime`` before and after (the machine is shared: only
the side-by-side ratios mean anything). It checks that both versions give the same positions (b) and the
same count and page ids (c) for every filter and prints MISMATCH loudly otherwise (exit status 1).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from still2tui import filter_fields, filter_lang, table_index, trajectory_source  # noqa: E402
from store import Store  # noqa: E402
from store.schema import current_version  # noqa: E402

FILTERS = [
    ("value", "verdict:correct"),
    ("value", "model:still2-m1"),
    ("value, list", "origin:explore,distill"),
    ("value, problem", "domain:math"),
    ("wildcard", "model:*m1*"),
    ("wildcard, case", "model:*QWEN*"),
    ("numeric", "len>1125"),
    ("numeric", "tokens<=1000"),
    ("numeric", "iter=1"),
    ("range", "len:1121..1124"),
    ("range, open", "ppl:..4"),
    ("negated", "-origin:eval"),
    ("negated !=", "verdict!=correct"),
    ("negated numeric", "-ppl>8"),
    ("flag any", "flag:any"),
    ("flag none", "flag:none"),
    ("flag rules", "flag:repetition,short"),
    ("flag negated", "-flag:gibberish"),
    ("metric", "rechecks>20"),
    ("metric", "overthink>0.5"),
    ("metric range", "after_tokens:100..200"),
    ("ppl", "ppl>8"),
    ("thought ppl", "thought_ppl<3"),
    ("scan: problem", "problem:gen:00001*"),
    ("scan: gold", "gold:42"),
    ("multi", "verdict:correct model:still2-m1 ppl>8"),
    ("multi", "domain:math difficulty>=3 -flag:any len<1124"),
    ("multi", "source:gen sample:0..4 status:pending -origin:eval"),
]
PARSE_ONLY = [("no index form", "tag:keep model:still2-m1")]  # (a) only: the index cannot answer it
OLD_FILES = ("filter_lang", "sources", "table_index", "trajectory_source")


def load_old(ref: str, tmp: Path) -> dict:
    """The old modules from git (``ref``) as old_<name>, importing each other; registered in sys.modules."""
    mods = {}
    for name in OLD_FILES:
        text = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{ref}:still2tui/{name}.py"], check=True, capture_output=True, text=True
        ).stdout
        for other in OLD_FILES:
            text = text.replace(f"from still2tui.{other} import", f"from old_{other} import")
        path = tmp / f"old_{name}.py"
        path.write_text(text)
        spec = importlib.util.spec_from_file_location(f"old_{name}", path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod  # before exec: dataclasses look their module up
        spec.loader.exec_module(mod)
        mods[name] = mod
    return mods


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/still2-tui-bench/store.duckdb")
    ap.add_argument("--old", default="10b3f4f", help="git ref of the old filter code")
    ap.add_argument("--repeats", type=int, default=60)
    ap.add_argument("--inner", type=int, default=50, help="parse+compile calls per timed sample")
    args = ap.parse_args()
    if not Path(args.db).exists():
        sys.exit(f"{args.db}: no store (build it with bench/tui.py)")
    print("before:", uptime())
    tmp = tempfile.TemporaryDirectory()
    old = load_old(args.old, Path(tmp.name))
    with Store(args.db).connector.connect(write=False) as conn:  # read-only: the store's schema version
        version = current_version(conn)
    store = Store(args.db, upto=version)  # never migrates an older store (reads only: the index loads)

    indexes = {"old": old["table_index"].TrajectoryIndex(), "new": table_index.TrajectoryIndex()}
    for label, index in indexes.items():
        seconds, _ = timed(lambda index=index: index.load(store))
        print(f"{label} index loaded: {index.n:,} rows in {seconds:.1f}s")
    known_values = {f: indexes["new"].known_values(f) for f in ("verdict", "origin", "model", "domain", "source")}
    known_values["flag"] = indexes["new"].known_values("flag")
    known = known_values.get

    def compile_old(text):
        return old["filter_lang"].compile_filter(text, known=known)

    def compile_new(text):
        flt = filter_lang.parse_filter(text, known=known)
        return filter_fields.to_index(flt), filter_fields.to_store(flt)

    sources = {
        "old": old["trajectory_source"].TrajectorySource(store, index=indexes["old"]),
        "new": trajectory_source.TrajectorySource(store, index=indexes["new"]),
    }

    def end_to_end(label, text):
        src = sources[label]
        src.set_filter(text)
        assert src.uses_index, (label, text)
        return src.count(), [r[0] for r in src.fetch(0, 100)]

    clauses = {}
    mismatches = []
    for _, text in FILTERS:
        clauses[text] = {"old": compile_old(text).index_clauses, "new": compile_new(text)[0]}
        got = {label: indexes[label].filter(clauses[text][label]) for label in ("old", "new")}  # also warms caches
        if not np.array_equal(got["old"], got["new"]):
            mismatches.append(f"index.filter {text!r}: old {len(got['old']):,} rows, new {len(got['new']):,} rows")
        ends = {label: end_to_end(label, text) for label in ("old", "new")}
        if ends["old"] != ends["new"]:
            mismatches.append(f"end to end {text!r}: old count {ends['old'][0]:,}, new {ends['new'][0]:,}")
        print(f"  {text:52} {len(got['new']):>9,} matches")
    for _, text in PARSE_ONLY:
        if compile_old(text).index_where is not None or compile_new(text)[0] is not None:
            mismatches.append(f"{text!r}: expected no index form from both")

    legs = {
        "parse+compile": {
            "old": lambda text: [compile_old(text) for _ in range(args.inner)],
            "new": lambda text: [compile_new(text) for _ in range(args.inner)],
        },
        "index.filter": {
            "old": lambda text: indexes["old"].filter(clauses[text]["old"]),
            "new": lambda text: indexes["new"].filter(clauses[text]["new"]),
        },
        "end to end": {
            "old": lambda text: end_to_end("old", text),
            "new": lambda text: end_to_end("new", text),
        },
    }
    times = {(leg, text, label): [] for leg in legs for _, text in FILTERS + PARSE_ONLY for label in ("old", "new")}
    t0 = time.perf_counter()
    for r in range(args.repeats):
        order = ("old", "new") if r % 2 == 0 else ("new", "old")
        for leg, fns in legs.items():
            for _, text in FILTERS + (PARSE_ONLY if leg == "parse+compile" else []):
                for label in order:
                    seconds, _ = timed(lambda fn=fns[label], text=text: fn(text))
                    per = args.inner if leg == "parse+compile" else 1
                    times[(leg, text, label)].append(seconds / per)
    print(f"{args.repeats} repeats in {time.perf_counter() - t0:.0f}s")

    regressions, noisy = [], []
    for leg in legs:
        unit, scale = ("µs", 1e6) if leg == "parse+compile" else ("ms", 1e3)
        print(f"\n{leg} ({unit}; p50 / p95; ratio new/old of the p50s, of the p95s, median of the paired ratios)")
        print(f"  {'filter':52} {'kind':17} {'old':>15} {'new':>15} {'p50':>6} {'p95':>6} {'paired':>6}")
        ratios = []
        for kind, text in FILTERS + (PARSE_ONLY if leg == "parse+compile" else []):
            o, n = times[(leg, text, "old")], times[(leg, text, "new")]
            r50, r95 = pct(n, 0.5) / pct(o, 0.5), pct(n, 0.95) / pct(o, 0.95)
            paired = statistics.median(b / a for a, b in zip(o, n))  # the two legs of one repeat ran back to back
            ratios.append(paired)
            if leg != "parse+compile" and max(r50, paired) > 1.2:
                (regressions if paired > 1.2 else noisy).append(
                    f"{leg} {text!r}: p50s {r50:.2f}x, paired {paired:.2f}x"
                )
            print(
                f"  {text:52} {kind:17} {pct(o, 0.5) * scale:6.1f} / {pct(o, 0.95) * scale:6.1f}"
                f" {pct(n, 0.5) * scale:6.1f} / {pct(n, 0.95) * scale:6.1f} {r50:6.2f} {r95:6.2f} {paired:6.2f}"
            )
        print(f"  geometric mean of the paired ratios: {statistics.geometric_mean(ratios):.2f}")

    print("\nafter:", uptime())
    for line in regressions:
        print("REGRESSION (paired ratio > 1.2):", line)
    for line in noisy:
        print("noise? (the p50s differ by > 1.2x, the paired ratio does not):", line)
    for line in mismatches:
        print("MISMATCH:", line, file=sys.stderr)
        print("MISMATCH:", line)
    if not mismatches:
        print("old and new give the same positions, counts and first pages for every filter")
    for index in indexes.values():
        index.close()
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
