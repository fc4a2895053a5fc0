"""Word n-gram index of benchmark problems, and the vectorised lookup of many texts against it.

Both sides are normalised the same way: LaTeX commands (``\\frac``, ``\\dfrac``, ``\\left``)
dropped, ASCII letters lower-cased, then cut into runs of ``[0-9a-z]`` (punctuation, braces, ``$``
delimiters and whitespace differences vanish, so ``$\\frac{1}{2}$`` and ``1/2`` read alike; other
characters separate words). Each word of the benchmark vocabulary gets an id. A chunk of texts is
tokenised by pyarrow in one call, every window of ``n`` word ids gets a 64-bit polynomial hash with
numpy, and only windows made entirely of benchmark words are looked up (a sorted array and
``searchsorted``), so the cost grows with the texts' length, never with texts x benchmarks.
n-grams that occur in ``boilerplate`` or more distinct benchmark problems (shared instructions such
as "express your answer as a common fraction") are left out of the index.

Hits are confirmed word by word and turned into a ``Match``: the benchmark problem whose words are
best covered by shared n-grams, the coverage, and the longest contiguous matched span as character
offsets into the checked text (what the TUI highlights).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

SPLIT_PATTERN = "[^0-9a-z]+"
LATEX_COMMAND = r"\\[A-Za-z]+"
_WORD = re.compile("[0-9a-z]+")
_DIGITS = re.compile("[0-9]+")
_COMMAND = re.compile(LATEX_COMMAND)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def _prepared(text: str) -> str:
    """LaTeX commands blanked (same length, so offsets hold) and ASCII lower-cased."""
    return _COMMAND.sub(lambda m: " " * len(m.group()), text).translate(_ASCII_LOWER)


def words(text: str) -> list[str]:
    """The normalised words of a text (the same cut as the vectorised path)."""
    return _WORD.findall(_prepared(text))


def words_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) in the original text."""
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(_prepared(text))]


def numbers(ws: list[str]) -> Counter:
    """The digit runs among normalised words, counted (``x^{2}+10`` -> {"2": 1, "10": 1})."""
    return Counter(m for w in ws for m in _DIGITS.findall(w))


def normalized(text: str) -> str:
    """Words joined by single spaces: what the fuzzy ratio compares."""
    return " ".join(words(text))


@dataclass(frozen=True)
class BenchItem:
    """One benchmark (or test-split) problem the index holds."""

    problem_id: str
    benchmark: str
    source_key: str | None
    question: str

    @property
    def label(self) -> str:
        return f"{self.benchmark} {self.source_key or self.problem_id}"


@dataclass(frozen=True)
class Match:
    """The best benchmark match of one checked text."""

    item: BenchItem
    method: str  # "ngram8", "ngram13", "fuzzy"
    shared: int  # shared n-grams (fuzzy: 0)
    score: float  # fuzzy ratio (0-100), or coverage: share of the benchmark question's words
    # inside shared n-grams (0-1)
    start: int  # matched span in the checked text (characters)
    end: int
    bench_start: int  # the same span in the benchmark question
    bench_end: int


def _hash_windows(ids: np.ndarray, n: int) -> np.ndarray:
    """Hash of every window ids[i:i+n] (length len(ids) - n + 1; uint64 arithmetic wraps)."""
    count = len(ids) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    h = np.zeros(count, dtype=np.uint64)
    for k in range(n):
        h = h * _MULTIPLIER + ids[k : k + count]
    return h


class NgramIndex:
    """The n-grams (of each size in ``sizes``) of the benchmark problems' questions."""

    def __init__(self, items: list[BenchItem], sizes: tuple[int, ...] = (8, 13), boilerplate: int = 3):
        self.items = items
        self.sizes = tuple(sorted(set(sizes)))
        self.item_words = [words(it.question) for it in items]
        self.item_numbers = [numbers(ws) for ws in self.item_words]
        vocab = sorted({w for ws in self.item_words for w in ws})
        self.vocab = {w: i + 1 for i, w in enumerate(vocab)}  # 0 = not a benchmark word
        self._vocab_array = None
        self.hashes: dict[int, np.ndarray] = {}
        # hash -> [(item index, word position)] for confirmation and spans
        self.where: dict[int, dict[int, list[tuple[int, int]]]] = {}
        self.dropped: dict[int, int] = {}
        for n in self.sizes:
            table: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for idx, ws in enumerate(self.item_words):
                ids = np.array([self.vocab[w] for w in ws], dtype=np.uint64)
                for pos, h in enumerate(_hash_windows(ids, n).tolist()):
                    table[h].append((idx, pos))
            kept = {h: occ for h, occ in table.items() if len({i for i, _ in occ}) < boilerplate}
            self.dropped[n] = len(table) - len(kept)
            self.where[n] = kept
            self.hashes[n] = np.array(sorted(kept), dtype=np.uint64)

    # -- vectorised tokenisation ------------------------------------------------------------------
    def _ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Word ids of all texts concatenated, and the offsets where each text starts (len+1)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self._vocab_array is None:
            self._vocab_array = pa.array(list(self.vocab), pa.large_string())
        arr = pc.replace_substring_regex(pa.array(texts, pa.large_string()), LATEX_COMMAND, " ")
        arr = pc.ascii_lower(arr)
        split = pc.split_pattern_regex(arr, SPLIT_PATTERN)
        flat = pc.list_flatten(split)
        parent = pc.list_parent_indices(split)
        nonempty = pc.not_equal(pc.utf8_length(flat), 0)
        flat = pc.filter(flat, nonempty)
        parent = pc.filter(parent, nonempty).to_numpy()
        found = pc.index_in(flat, value_set=self._vocab_array)
        ids = pc.fill_null(pc.add(found, 1), 0).to_numpy().astype(np.uint64)
        lengths = np.bincount(parent, minlength=len(texts)) if len(parent) else np.zeros(len(texts), dtype=np.int64)
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return ids, offsets

    def candidates(self, texts: list[str], n: int) -> dict[int, list[int]]:
        """text index -> word positions of its windows whose hash is in the index (before confirmation)."""
        if not texts or not len(self.hashes[n]):
            return {}
        ids, offsets = self._ids(texts)
        h = _hash_windows(ids, n)
        if not len(h):
            return {}
        starts = np.arange(len(h))
        unknown = np.concatenate([[0], np.cumsum(ids == 0)])
        whole = (unknown[starts + n] - unknown[starts]) == 0
        text_of = np.searchsorted(offsets, starts, side="right") - 1
        inside = starts + n <= offsets[text_of + 1]
        keep = whole & inside
        if not keep.any():
            return {}
        starts, h, text_of = starts[keep], h[keep], text_of[keep]
        pos = np.searchsorted(self.hashes[n], h)
        pos[pos >= len(self.hashes[n])] = 0
        hit = self.hashes[n][pos] == h
        out: dict[int, list[int]] = defaultdict(list)
        for t, s in zip(text_of[hit].tolist(), starts[hit].tolist()):
            out[t].append(s - int(offsets[t]))
        return out

    # -- confirmation and spans --------------------------------------------------------------------
    def keeps_numbers(self, idx: int, text_numbers: Counter) -> bool:
        """Every number of benchmark problem ``idx`` occurs in the text (as often): a copy keeps them."""
        return not (self.item_numbers[idx] - text_numbers)

    def best_match(
        self, text: str, n: int, positions: list[int] | None = None, require_numbers: bool = False
    ) -> Match | None:
        """The benchmark problem best covered by confirmed shared n-grams with ``text``, with its longest span.

        ``require_numbers``: only problems whose numbers all occur in ``text`` count (a problem with
        other numbers is a different problem that shares a template or phrasing).
        """
        tokens = words_with_offsets(text)
        ws = [t[0] for t in tokens]
        text_numbers = numbers(ws) if require_numbers else None
        if positions is None:
            positions = range(len(ws) - n + 1)
        shared: dict[int, list[tuple[int, int]]] = defaultdict(list)  # item -> [(text pos, bench pos)]
        for p in positions:
            window = ws[p : p + n]
            if len(window) < n or any(w not in self.vocab for w in window):
                continue
            ids = np.array([self.vocab[w] for w in window], dtype=np.uint64)
            h = int(_hash_windows(ids, n)[0])
            for idx, bpos in self.where[n].get(h, ()):
                if self.item_words[idx][bpos : bpos + n] == window:
                    shared[idx].append((p, bpos))
        if require_numbers:
            shared = {i: hits for i, hits in shared.items() if self.keeps_numbers(i, text_numbers)}
        if not shared:
            return None
        covered = {i: {b + k for _, b in hits for k in range(n)} for i, hits in shared.items()}
        best = max(shared, key=lambda i: (len(covered[i]) / len(self.item_words[i]), -i))
        hits = sorted(set(shared[best]))
        first, last, bfirst, blast = _longest_run(hits, n)
        bench_tokens = words_with_offsets(self.items[best].question)
        return Match(
            self.items[best],
            f"ngram{n}",
            len({p for p, _ in hits}),
            round(len(covered[best]) / len(self.item_words[best]), 3),
            tokens[first][1],
            tokens[last][2],
            bench_tokens[bfirst][1],
            bench_tokens[blast][2],
        )

    def matches(self, texts: list[str], n: int, require_numbers: bool = False) -> dict[int, Match]:
        """text index -> best match, for every text sharing at least one indexed n-gram."""
        out = {}
        for t, positions in self.candidates(texts, n).items():
            m = self.best_match(texts[t], n, positions, require_numbers)
            if m is not None:
                out[t] = m
        return out


def _longest_run(hits: list[tuple[int, int]], n: int) -> tuple[int, int, int, int]:
    """Merge windows (text pos, bench pos) that continue each other; the longest (first, last words, both sides)."""
    best = None
    run_start = prev = None
    for p, b in hits:
        if prev is not None and p - prev[0] == b - prev[1] and 0 < p - prev[0] <= n:
            prev = (p, b)
        else:
            if run_start is not None:
                best = _longer(best, run_start, prev, n)
            run_start = prev = (p, b)
    best = _longer(best, run_start, prev, n)
    return best


def _longer(best, start, end, n):
    cand = (start[0], end[0] + n - 1, start[1], end[1] + n - 1)
    if best is None or cand[1] - cand[0] > best[1] - best[0]:
        return cand
    return best
