"""Bench: benchmark decontamination (filter rule ``contamination``) on the shared data and on 1M rows.

Three parts, each through the real rule (``pipeline.filters.run_filters`` over trajectories):

  shared   MATH-500, AIME 2024/2025, AMC 2023, GSM8K test and math_train_hard from ../shared/data in a
           fresh store; one trajectory per math_train_hard problem; prints what is flagged, per
           benchmark, with examples (and what open-r1's rule, any shared 8-gram, would flag).
  planted  1,000 generated problems (``problems generate``, all kinds, difficulties 1-5) plus 50
           benchmark problems copied verbatim, 50 others rephrased by ``rephrase`` below (math formatting,
           added instructions, one word swapped, sentence order; never numbers) and 50 paraphrased
           (three word swaps, sentence order and an instruction); one trajectory each. Prints recall
           per planted kind and false matches among the generated problems.
  store    (``--store PATH``, e.g. the 1M-row store of ``bench/ingest.py --keep``) a copy of the store
           gets the benchmark problems, and ``--plant`` trajectories whose text quotes a benchmark
           problem; the rule runs over every trajectory: time and rows/s. Side by side, in the same
           run, the all-pairs comparison the index avoids (every text's n-gram set against every
           benchmark problem's) on the first ``--pairs-rows`` rows: rows/s of both and the ratio.

    .venv/bin/python bench/decontamination.py                      # shared + planted
    .venv/bin/python bench/ingest.py --rows 1000000 --keep --dir /tmp/ing
    .venv/bin/python bench/decontamination.py --parts "" --store /tmp/ing/ours.duckdb   # store only
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.filters import run_filters  # noqa: E402
from pipeline.filters.ngram_index import words  # noqa: E402
from pipeline.problems.generators import KINDS, generate  # noqa: E402
from store import Store  # noqa: E402
from store.ids import problem_id, question_hash  # noqa: E402
from store.importer import import_problems  # noqa: E402
from store.ingest import add_problems, add_trajectories  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "benchmarks"
BENCHMARK_FILES = ("math500.jsonl", "aime24.jsonl", "aime25.jsonl", "amc23.jsonl", "gsm8k_test.jsonl")

# Rewordings a copy-editor or a dataset converter makes; meaning and numbers stay.
SYNONYMS = [
    (r"\bFind\b", "Determine"),
    (r"\bDetermine\b", "Find"),
    (r"\bCompute\b", "Calculate"),
    (r"\bcompute\b", "calculate"),
    (r"\bEvaluate\b", "Compute"),
    (r"\bWhat is\b", "Find"),
    (r"\bHow many\b", "What is the number of"),
    (r"\bsuch that\b", "so that"),
    (r"\bSuppose\b", "Assume"),
    (r"\bLet\b", "Consider"),
    (r"\bpositive integers\b", "positive whole numbers"),
    (r"\bsmallest\b", "least"),
    (r"\blargest\b", "greatest"),
    (r"\bExpress\b", "Write"),
    (r"\bSimplify\b", "Reduce"),
    (r"\bdistinct\b", "different"),
    (r"\bnumber of\b", "count of"),
    (r"\bIf\b", "Given that"),
    (r"\bequal to\b", "the same as"),
    (r"\bthe sum of\b", "the total of"),
]
PREFIXES = ["Solve the following problem. ", "Question: ", "Problem 7. ", "Answer the question below.\n\n"]
SUFFIXES = [
    " Give your answer in simplest form.",
    " Show your reasoning.",
    "\nPut your final answer in \\boxed{}.",
    " Justify your answer.",
]


def _synonyms(text: str, rng: random.Random) -> str:
    applicable = [(p, r) for p, r in SYNONYMS if re.search(p, text)]
    for pattern, repl in rng.sample(applicable, min(len(applicable), 3)):
        text = re.sub(pattern, repl, text, count=1)
    return text


def _formatting(text: str, rng: random.Random) -> str:
    text = re.sub(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", text)
    text = text.replace("\\cdot", "*").replace("\\times", "x").replace("\\le ", "<= ").replace("\\ge ", ">= ")
    return text.replace("$", "") if rng.random() < 0.7 else text.replace("$", "\\(", 1).replace("$", "\\)", 1)


def _frame(text: str, rng: random.Random) -> str:
    return rng.choice(PREFIXES) + text + (rng.choice(SUFFIXES) if rng.random() < 0.5 else "")


def _reorder(text: str, rng: random.Random) -> str:
    sentences = re.split(r"(?<=[.?!])\s+(?=[A-Z])", text.strip())
    if len(sentences) < 2:
        return text
    i = rng.randrange(len(sentences) - 1)
    sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    return " ".join(sentences)


def _one_synonym(text: str, rng: random.Random) -> str:
    applicable = [(p, r) for p, r in SYNONYMS if re.search(p, text)]
    if not applicable:
        return text
    pattern, repl = rng.choice(applicable)
    return re.sub(pattern, repl, text, count=1)


# What a scrape, a format converter or a copy-editor does to a problem (the "rephrased" plants) ...
REPHRASINGS = {"formatting": _formatting, "frame": _frame, "one_synonym": _one_synonym, "reorder": _reorder}
# ... and a paraphrase proper (several wording changes at once), reported apart: no lexical method
# separates it from problems that merely share phrasing (Yang et al. 2023, "Rethinking benchmark and
# contamination for language models with rephrased samples").
PARAPHRASE = ("frame", "synonyms", "reorder")
_ALL = {**REPHRASINGS, "synonyms": _synonyms}


def rephrase(text: str, rng: random.Random) -> tuple[str, list[str]]:
    """Two or three of REPHRASINGS, in a random order; returns the text and their names."""
    names = rng.sample(list(REPHRASINGS), rng.choice((2, 3)))
    for name in names:
        text = REPHRASINGS[name](text, rng)
    return text, names


def paraphrase(text: str, rng: random.Random) -> tuple[str, list[str]]:
    """Up to three synonym swaps, a sentence swap and a frame."""
    for name in PARAPHRASE:
        text = _ALL[name](text, rng)
    return text, list(PARAPHRASE)


def trajectory_rows(problems: list[tuple[str, str]], origin: str = "explore") -> list[dict]:
    """One plain response per (problem id, question): restates nothing, answers briefly."""
    return [
        {
            "id": "b" + hashlib.sha1(pid.encode()).hexdigest()[:15],
            "problem_id": pid,
            "text": f"<|begin_of_thought|>\n\nLet me work this out step by step.\n\n<|end_of_thought|>\n\n"
            f"<|begin_of_solution|>\n\nThe answer is \\boxed{{{i}}}.\n\n<|end_of_solution|>",
            "origin": origin,
            "model": "bench",
            "verdict": "correct",
        }
        for i, (pid, _) in enumerate(problems)
    ]


def fresh_store(path: Path) -> Store:
    for suffix in ("", ".wal", ".lock", ".want-write"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    store = Store(path)
    for name in BENCHMARK_FILES:
        import_problems(store, str(SHARED / name))
    return store


def flags(store: Store) -> dict[str, dict]:
    """problem id -> the contamination flag's detail (one per problem here)."""
    import json

    with store.read() as conn:
        rows = conn.execute("""SELECT t.problem_id, f.detail, f.reason FROM flag f JOIN trajectory t ON t.id = f.trajectory_id
                               WHERE f.rule = 'contamination'""").fetchall()
    return {pid: {**json.loads(detail), "reason": reason} for pid, detail, reason in rows}


def part_shared(work: Path) -> None:
    store = fresh_store(work / "shared.duckdb")
    import_problems(store, str(SHARED / "math_train_hard.jsonl"), split="train", skip_bad=True)
    with store.read() as conn:
        train = conn.execute("SELECT id, question FROM problem WHERE source = 'math_train_hard' ORDER BY id").fetchall()
    with store.write() as conn:
        add_trajectories(conn, trajectory_rows(train))
    t = time.perf_counter()
    report = run_filters(store, ["contamination"])
    seconds = time.perf_counter() - t
    found = flags(store)
    print(
        f"\n## shared: math_train_hard ({len(train)} problems) vs MATH-500, AIME24/25, AMC23, GSM8K test "
        f"({seconds:.1f}s)"
    )
    by_bench = Counter(d["benchmark"] for d in found.values())
    print(
        f"flagged {len(found)} of {len(train)}: "
        + (", ".join(f"{b} {n}" for b, n in sorted(by_bench.items())) or "none")
    )
    questions = dict(train)
    for pid, d in sorted(found.items(), key=lambda kv: -kv[1]["score"]):
        print(f"- {d['reason']}\n    train: {' '.join(questions[pid].split())[:240]}")
    # open-r1's rule for comparison: any one shared 8-gram (no coverage threshold, no boilerplate list).
    from pipeline.filters.contamination import Detector, load_benchmark_items

    with store.read() as conn:
        items = load_benchmark_items(conn)
    loose = Detector(
        items, question_ngram=8, text_ngram=0, fuzzy_ratio=0, boilerplate=10**9, min_coverage=0.0, require_numbers=False
    )
    hits = loose.check_questions([q for _, q in train])
    print(
        f"open-r1's rule (any shared 8-gram, same normalisation) would flag {sum(h is not None for h in hits)} "
        f"of {len(train)}: "
        + ", ".join(f"{b} {n}" for b, n in sorted(Counter(h.item.benchmark for h in hits if h is not None).items()))
    )
    print(f"rule report: {report.to_dict()['rules']}")


def part_planted(work: Path, seed: int) -> None:
    store = fresh_store(work / "planted.duckdb")
    generated = [g for k in KINDS for d in range(1, 6) for g in generate(k, d, 29, seed)][:1000]
    rows = [
        {
            "id": problem_id("gen-bench", g.question),
            "source": "gen-bench",
            "question": g.question,
            "question_hash": question_hash(g.question),
            "answer": g.answer,
            "answer_kind": g.answer_kind,
            "split": "train",
            "difficulty": g.difficulty,
            "subject": g.kind,
        }
        for g in generated
    ]
    with store.read() as conn:
        bench = conn.execute("""SELECT id, source, source_key, question FROM problem
                                WHERE source IN ('math500', 'aime24', 'aime25', 'amc23') ORDER BY id""").fetchall()
    rng = random.Random(seed)
    chosen = rng.sample(bench, 150)
    planted: dict[str, tuple[str, str, list[str]]] = {}  # planted id -> (kind, benchmark id, rephrasings)
    for i, (bid, _source, _key, question) in enumerate(chosen):
        if i < 50:
            text, names, kind = question, [], "verbatim"
        elif i < 100:
            text, names = rephrase(question, rng)
            kind = "rephrased"
        else:
            text, names = paraphrase(question, rng)
            kind = "paraphrased"
        pid = problem_id("planted", text)
        planted[pid] = (kind, bid, names)
        rows.append(
            {
                "id": pid,
                "source": "planted",
                "question": text,
                "question_hash": question_hash(text),
                "answer": "0",
                "answer_kind": "int",
                "split": "train",
                "difficulty": None,
                "subject": None,
            }
        )
    with store.write() as conn:
        add_problems(conn, rows)
        add_trajectories(conn, trajectory_rows([(r["id"], r["question"]) for r in rows]))
    t = time.perf_counter()
    run_filters(store, ["contamination"])
    seconds = time.perf_counter() - t
    found = flags(store)
    print(
        f"\n## planted (seed {seed}): 1,000 generated + 50 verbatim + 50 rephrased + 50 paraphrased benchmark "
        f"problems ({seconds:.1f}s)"
    )
    for kind in ("verbatim", "rephrased", "paraphrased"):
        ids = [pid for pid, (k, _, _) in planted.items() if k == kind]
        hit = [pid for pid in ids if pid in found]
        right = [pid for pid in hit if found[pid]["benchmark_problem_id"] == planted[pid][1]]
        print(
            f"{kind}: found {len(hit)}/{len(ids)} ({100 * len(hit) / len(ids):.0f}%), "
            f"matched to the right benchmark problem {len(right)}/{len(hit)}"
        )
        methods = Counter(found[pid]["method"] for pid in hit)
        print(f"  by method: {dict(methods)}")
        questions = {r["id"]: r["question"] for r in rows}
        for pid in ids:
            if pid not in found:
                print(f"  MISSED ({', '.join(planted[pid][2])}): {' '.join(questions[pid].split())[:160]}")
    by_rephrasing = Counter()
    found_by = Counter()
    for pid, (kind, _, names) in planted.items():
        if kind != "rephrased":
            continue
        for n in names:
            by_rephrasing[n] += 1
            found_by[n] += pid in found
    print(
        "  rephrased, found per rephrasing used: "
        + ", ".join(f"{n} {found_by[n]}/{by_rephrasing[n]}" for n in sorted(by_rephrasing))
    )
    example = next((pid for pid, (k, _, _) in planted.items() if k == "rephrased" and pid in found), None)
    if example:
        print(f"  example: {found[example]['reason']}")
    generated_ids = {r["id"] for r in rows if r["source"] == "gen-bench"}
    false = [pid for pid in found if pid in generated_ids]
    print(f"false matches among the {len(generated_ids)} generated problems: {len(false)}")
    for pid in false[:10]:
        print(f"  - {found[pid]['reason']}")


def _all_pairs(texts: list[str], bench: list[set], n: int) -> int:
    hits = 0
    for text in texts:
        ws = words(text)
        grams = {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}
        hits += any(grams & b for b in bench)
    return hits


def part_store(work: Path, source: Path, plant: int, pairs_rows: int) -> None:
    import shutil as sh

    db = work / "store.duckdb"
    t = time.perf_counter()
    sh.copy(source, db)
    print(f"\n## store: copied {source} ({source.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - t:.1f}s")
    store = Store(db)
    for name in BENCHMARK_FILES:
        import_problems(store, str(SHARED / name))
    with store.read() as conn:
        total = conn.execute("SELECT count(*) FROM trajectory").fetchone()[0]
        bench = conn.execute("SELECT id, question FROM problem WHERE source = 'math500' ORDER BY id").fetchall()
        some = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM problem WHERE source NOT IN ('math500', 'aime24', "
                "'aime25', 'amc23', 'gsm8k') ORDER BY id LIMIT ?",
                [plant],
            ).fetchall()
        ]
    rng = random.Random(0)
    planted = [
        {
            "id": f"plant{i:08d}",
            "problem_id": pid,
            "text": f"<|begin_of_thought|>\n\nThis looks like a known problem: {rng.choice(bench)[1]}\n\n"
            "So we proceed.\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n\\boxed{1}\n\n"
            "<|end_of_solution|>",
            "origin": "explore",
            "model": "bench",
            "verdict": "correct",
        }
        for i, pid in enumerate(some)
    ]
    with store.write() as conn:
        add_trajectories(conn, planted)
    print(f"{total + len(planted):,} trajectories ({len(planted)} planted quoting a MATH-500 problem)")
    t = time.perf_counter()
    report = run_filters(store, ["contamination"])
    seconds = time.perf_counter() - t
    flagged = report.counts[0].flagged
    with store.read() as conn:
        planted_found = conn.execute(
            "SELECT count(*) FROM flag WHERE rule = 'contamination' AND trajectory_id LIKE 'plant%'"
        ).fetchone()[0]
    print(
        f"contamination over {report.covered:,} rows: {seconds:.1f}s = {report.covered / seconds:,.0f} rows/s; "
        f"flagged {flagged} (planted found {planted_found}/{len(planted)})"
    )
    # Side by side on a slice: the rule's own path vs all pairs (index-free) over the same texts.
    with store.read() as conn:
        items = conn.execute(
            "SELECT question FROM problem WHERE source IN ('math500', 'aime24', 'aime25', "
            "'amc23') OR (source = 'gsm8k' AND split = 'test')"
        ).fetchall()
        texts = [r[0] for r in conn.execute("SELECT text FROM trajectory ORDER BY id LIMIT ?", [pairs_rows]).fetchall()]
    from pipeline.filters.contamination import Detector, load_benchmark_items

    with store.read() as conn:
        detector = Detector(load_benchmark_items(conn))
    bench_sets = []
    for (q,) in items:
        ws = words(q)
        bench_sets.append({tuple(ws[i : i + 13]) for i in range(len(ws) - 12)})
    legs = {"index": 0.0, "all pairs": 0.0}
    for start in range(0, len(texts), max(1, len(texts) // 4)):
        part = texts[start : start + max(1, len(texts) // 4)]
        t = time.perf_counter()
        detector.check_texts(part)
        legs["index"] += time.perf_counter() - t
        t = time.perf_counter()
        _all_pairs(part, bench_sets, 13)
        legs["all pairs"] += time.perf_counter() - t
    rates = {k: len(texts) / v for k, v in legs.items()}
    print(
        f"text check on {len(texts):,} rows, legs interleaved: index {rates['index']:,.0f} rows/s, all pairs "
        f"{rates['all pairs']:,.0f} rows/s: index {rates['index'] / rates['all pairs']:.1f}x"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="shared,planted", help="comma-separated: shared, planted (store: --store)")
    ap.add_argument("--store", type=Path, default=None, help="a store to copy and check (e.g. bench/ingest.py's)")
    ap.add_argument("--plant", type=int, default=100, help="trajectories quoting a benchmark problem (store part)")
    ap.add_argument("--pairs-rows", type=int, default=2000, help="rows for the side-by-side all-pairs comparison")
    ap.add_argument(
        "--seed",
        type=int,
        default=7,
        help="planted set (seeds 2 and 3 were used to choose the rule's parameters; 7 is the held-out one reported)",
    )
    ap.add_argument("--dir", default=None, help="work directory (default: a temp dir, removed after)")
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="still2-decontam-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        parts = [p.strip() for p in args.parts.split(",") if p.strip()]
        if "shared" in parts:
            part_shared(work)
        if "planted" in parts:
            part_planted(work, args.seed)
        if args.store:
            part_store(work, args.store, args.plant, args.pairs_rows)
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
