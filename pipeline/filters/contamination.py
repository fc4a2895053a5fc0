"""Rule ``contamination``: a trajectory (or its problem) overlaps a benchmark / test-split problem.

Benchmark problems are every problem of a known benchmark source (MATH-500, AIME, AMC, GSM8K test,
GPQA) or of split ``test`` in the store (``pipeline.evaluation.benchmarks.benchmark_name_sql``), or
the ones named in ``benchmarks``. Texts are compared after normalisation (LaTeX commands dropped,
lower-cased, letters and digits only: ``pipeline.filters.ngram_index``). Three checks:

* the problem's question shares ``question_ngram``-word n-grams (5) with a benchmark question, and
  they cover at least ``min_coverage`` (60%) of that question's words;
* the question has a fuzzy ratio >= ``fuzzy_ratio`` (95, open-thoughts' rapidfuzz check) with a
  benchmark question: near-verbatim copies of items too short for n-grams (``fuzzy_max_words``
  limits it to short questions; 0 = all);
* the trajectory's own text shares ``text_ngram``-word n-grams (13, as NeMo Curator's task
  decontamination) covering ``min_coverage`` of a benchmark question (``check_text``).

With ``require_numbers`` a match counts only if every number of the benchmark question occurs in
the checked text: a copy, however reworded or reformatted, keeps the problem's numbers; a problem
with other numbers is a sibling that shares a template ("What is the remainder when $17^{47}$ is
divided by $43$?"). n-grams found in ``boilerplate`` (3) or more benchmark problems (shared
instructions) do not count.

How these values were chosen (BENCHMARKS.md, bench/decontamination.py): open-r1's rule, any one
shared 8-gram, flags 80 of the 408 MATH-train-hard problems against MATH-500/AIME/AMC, by inspection
all shared phrasing ("where $m$ and $n$ are relatively prime positive integers"); 8-grams with
coverage missed rephrased short problems (one synonym breaks every window of a 12-word question).
Shorter n-grams with coverage and the numbers condition found both, with no match on generated
problems or on GSM8K train.

Trajectories of benchmark problems themselves are not checked (they are the test set, not a leak).
Each flag's reason names the benchmark, the benchmark problem and the matched span; ``flag.detail``
holds the same as JSON with the span's character offsets (the TUI highlights it). Problems are
checked once per run however many rollouts they have.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.filters.base import Finding, Rule, register, snippet
from pipeline.filters.ngram_index import BenchItem, Match, NgramIndex, normalized, numbers, words


def load_benchmark_items(conn, specs: list[str] | None = None) -> list[BenchItem]:
    """Every benchmark problem in the store (or those of ``specs``), in a stable order."""
    from pipeline.evaluation.benchmarks import benchmark_name_sql

    name = benchmark_name_sql("p", specs or None)
    rows = conn.execute(f"""SELECT id, {name} AS bench, source_key, question FROM problem p
                            WHERE {name} IS NOT NULL ORDER BY bench, source_key, id""").fetchall()
    return [BenchItem(pid, bench, key, question or "") for pid, bench, key, question in rows]


@dataclass
class Detector:
    """The benchmark index plus the fuzzy check; one per run (``prepare``)."""

    items: list[BenchItem]
    question_ngram: int = 5
    text_ngram: int = 13
    fuzzy_ratio: float = 95.0
    fuzzy_max_words: int = 0
    boilerplate: int = 3
    min_coverage: float = 0.6
    require_numbers: bool = True
    index: NgramIndex = field(init=False)
    bench_ids: set[str] = field(init=False)
    _normalized: list[str] = field(init=False)
    question_cache: dict[str, Match | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        sizes = tuple(n for n in (self.question_ngram, self.text_ngram) if n > 0)
        self.index = NgramIndex(self.items, sizes, self.boilerplate)
        self.bench_ids = {it.problem_id for it in self.items}
        self._normalized = [normalized(it.question) for it in self.items]

    def fuzzy(self, questions: list[str]) -> dict[int, Match]:
        """question index -> best benchmark match with ratio >= fuzzy_ratio (rapidfuzz, all pairs in C++)."""
        if not self.items or not questions or self.fuzzy_ratio <= 0:
            return {}
        import numpy as np
        from rapidfuzz import fuzz, process

        norm = [normalized(q) for q in questions]
        todo = [
            i for i, q in enumerate(norm) if q and (not self.fuzzy_max_words or len(q.split()) <= self.fuzzy_max_words)
        ]
        if not todo:
            return {}
        scores = process.cdist(
            [norm[i] for i in todo],
            self._normalized,
            scorer=fuzz.ratio,
            score_cutoff=self.fuzzy_ratio,
            dtype=np.float32,
            workers=1,
        )
        out = {}
        for row, i in enumerate(todo):
            hits = np.flatnonzero(scores[row] >= self.fuzzy_ratio)
            if self.require_numbers and len(hits):
                have = numbers(norm[i].split())
                hits = [j for j in hits if self.index.keeps_numbers(int(j), have)]
            if len(hits):
                best = int(max(hits, key=lambda j: (scores[row][j], -j)))
                item = self.items[best]
                out[i] = Match(
                    item, "fuzzy", 0, round(float(scores[row][best]), 1), 0, len(questions[i]), 0, len(item.question)
                )
        return out

    def check_questions(self, questions: list[str]) -> list[Match | None]:
        """Each question's match: an n-gram overlap first (it has a precise span), else a fuzzy one."""
        found: dict[int, Match] = {}
        if self.question_ngram > 0:
            found = self._covering(self.index.matches(questions, self.question_ngram, self.require_numbers))
        for i, m in self.fuzzy([q for q in questions]).items():
            found.setdefault(i, m)
        return [found.get(i) for i in range(len(questions))]

    def check_texts(self, texts: list[str]) -> list[Match | None]:
        if self.text_ngram <= 0:
            return [None] * len(texts)
        found = self._covering(self.index.matches(texts, self.text_ngram, self.require_numbers))
        return [found.get(i) for i in range(len(texts))]

    def _covering(self, found: dict[int, Match]) -> dict[int, Match]:
        return {i: m for i, m in found.items() if m.score >= self.min_coverage}


def describe(match: Match, field_name: str, text: str) -> Finding:
    """The flag for one match: a sentence naming benchmark, problem and span, and the JSON detail."""
    span = text[match.start : match.end]
    if match.method == "fuzzy":
        how = f"fuzzy ratio {match.score:.0f} on normalised text"
    else:
        n = match.method.removeprefix("ngram")
        how = (
            f"{match.shared} shared {n}-word n-gram{'s' if match.shared != 1 else ''} covering "
            f"{100 * match.score:.0f}% of its words, longest span {len(words(span))} words"
        )
    reason = f"{field_name} matches {match.item.label} ({how}): “{snippet(span, 120)}”"
    detail = {
        "benchmark": match.item.benchmark,
        "benchmark_problem_id": match.item.problem_id,
        "benchmark_key": match.item.source_key,
        "method": match.method,
        "field": field_name,
        "shared": match.shared,
        "score": match.score,
        "span": [match.start, match.end],
        "span_text": span,
        "benchmark_span": [match.bench_start, match.bench_end],
        "benchmark_span_text": match.item.question[match.bench_start : match.bench_end],
    }
    return Finding(reason, detail)


def prepare_contamination(conn, p: dict) -> Detector:
    specs = [s.strip() for s in str(p["benchmarks"]).split(",") if s.strip()]
    return Detector(
        load_benchmark_items(conn, specs),
        question_ngram=int(p["question_ngram"]),
        text_ngram=int(p["text_ngram"]),
        fuzzy_ratio=float(p["fuzzy_ratio"]),
        fuzzy_max_words=int(p["fuzzy_max_words"]),
        boilerplate=int(p["boilerplate"]),
        min_coverage=float(p["min_coverage"]),
        require_numbers=bool(p["require_numbers"]),
    )


def problem_findings(detector: Detector, problems: dict[str, str]) -> dict[str, Match]:
    """problem id -> match, for the given (id -> question) problems that are not benchmark problems."""
    todo = [pid for pid in problems if pid not in detector.bench_ids and pid not in detector.question_cache]
    if todo:
        for pid, m in zip(todo, detector.check_questions([problems[pid] or "" for pid in todo])):
            detector.question_cache[pid] = m
    return {pid: m for pid in problems if (m := detector.question_cache.get(pid)) is not None}


def check_contamination(rows: list[dict], p: dict, detector: Detector) -> dict[str, Finding]:
    """Contamination: the problem or the response overlaps a benchmark / test-split problem.

    Questions: 5-word n-grams shared with a benchmark question (after dropping LaTeX commands,
    lower-casing and keeping only letters and digits) that cover >= 60% of its words, or a fuzzy
    ratio >= 95; responses: 13-word n-grams, same coverage. The benchmark question's numbers must
    all occur (a copy keeps them). n-grams found in 3 or more benchmark problems (shared
    instructions) do not count. The reason names the benchmark, its problem and the matched span.
    Rows of benchmark problems themselves are skipped.
    """
    if not detector.items:
        return {}
    questions = {r["problem_id"]: r.get("question") or "" for r in rows}
    by_problem = problem_findings(detector, questions)
    out: dict[str, Finding] = {}
    rest = []
    for r in rows:
        if r["problem_id"] in detector.bench_ids:
            continue
        m = by_problem.get(r["problem_id"])
        if m is not None:
            out[r["id"]] = describe(m, "question", questions[r["problem_id"]])
        elif p["check_text"]:
            rest.append(r)
    if rest:
        texts = [r.get("text") or "" for r in rest]
        for r, text, m in zip(rest, texts, detector.check_texts(texts)):
            if m is not None:
                out[r["id"]] = describe(m, "text", text)
    return out


RULE = register(
    Rule(
        name="contamination",
        check=check_contamination,
        defaults={
            "benchmarks": "",
            "question_ngram": 5,
            "text_ngram": 13,
            "fuzzy_ratio": 95.0,
            "fuzzy_max_words": 0,
            "boilerplate": 3,
            "min_coverage": 0.6,
            "require_numbers": True,
            "check_text": True,
        },
        kind="batch",
        columns=("question", "text"),
        prepare=prepare_contamination,
    )
)


def new_problem_overlaps(conn, new_ids: set[str]) -> list[tuple[str, str, Match]]:
    """(problem id, question, match) for non-benchmark problems that match a benchmark problem, where
    the problem or the benchmark problem is among ``new_ids`` (what ``problems add`` warns about)."""
    if not new_ids:
        return []
    detector = prepare_contamination(conn, RULE.params())
    if not detector.items:
        return []
    new_bench = bool(new_ids & detector.bench_ids)
    rows = conn.execute("SELECT id, question FROM problem ORDER BY id").fetchall()
    todo = {pid: q for pid, q in rows if pid not in detector.bench_ids and (new_bench or pid in new_ids)}
    found = problem_findings(detector, todo)
    return [(pid, todo[pid], m) for pid, m in sorted(found.items()) if pid in new_ids or m.item.problem_id in new_ids]
