"""store/search_index.py: search results equal a brute-force scan of real trajectory text, after appends too."""

from __future__ import annotations

import json

import pytest

from store import Store, search_index
from store.ingest import add_problems, add_trajectories

WORDS = [
    "relative speed",
    "relative",
    "speed",
    "Speed",
    "\\frac",
    "=",
    "x^2",
    "the",
    "boxed",
    "Wait,",
    "zebra",
    "2",
    "end_of_thought",
    "so the answer",
]


def _rows(path, start, stop):
    out = []
    with open(path) as f:
        for i, line in enumerate(f):
            if start <= i < stop:
                rec = json.loads(line)
                code = rec["code"]
                text = json.loads(code)[0] if isinstance(code, str) and code.startswith("[") else str(code)
                out.append({"id": f"t{i:05d}", "problem_id": "p1", "text": text, "origin": "import"})
    return out


def _scan(conn, word):
    pred, param = search_index.predicate(word)
    return {r[0] for r in conn.execute(f"SELECT id FROM trajectory WHERE {pred}", [param]).fetchall()}


@pytest.fixture
def source(shared_data):
    return shared_data / "trajectories" / "trajectories_skyt1_14b_amc23.jsonl"


def test_search_equals_scan_before_and_after_appends(db_path, source):
    store = Store(db_path)
    with store.write() as conn:
        add_problems(conn, [{"id": "p1", "source": "t", "question": "q", "question_hash": "p1"}])
        add_trajectories(conn, _rows(source, 0, 20))
    with store.read() as conn:  # ingest does not index: unindexed rows are scanned
        assert search_index.pending(conn) == 20
        for word in WORDS:
            assert search_index.search_ids(conn, word) == _scan(conn, word), word
    with store.write() as conn:
        assert search_index.catch_up(conn) == 20
    with store.write() as conn:  # a second batch: new docs, postings of their own
        add_trajectories(conn, _rows(source, 20, 40))
        add_trajectories(conn, _rows(source, 20, 40))  # duplicates add nothing
        assert search_index.catch_up(conn) == 20
        assert search_index.catch_up(conn) == 0
    with store.read() as conn:
        assert search_index.pending(conn) == 0
        assert conn.execute("SELECT count(DISTINCT doc) FROM search_doc").fetchone()[0] == 40
        for word in WORDS:
            assert search_index.search_ids(conn, word) == _scan(conn, word), word
    store.close()


def test_rows_written_around_the_index_are_scanned_then_caught_up(db_path, source):
    store = Store(db_path)
    with store.write() as conn:
        add_problems(conn, [{"id": "p1", "source": "t", "question": "q", "question_hash": "p1"}])
        add_trajectories(conn, _rows(source, 0, 10))
        search_index.catch_up(conn)
        # rows inserted later (a job, raw SQL) have no index entry until the next catch-up
        conn.execute(
            "INSERT INTO trajectory (id, problem_id, text, origin) SELECT 'x' || id, problem_id, text, origin "
            "FROM trajectory"
        )
    with store.read() as conn:
        assert search_index.pending(conn) == 10
        for word in WORDS:
            assert search_index.search_ids(conn, word) == _scan(conn, word), word
    with store.write() as conn:
        assert search_index.catch_up(conn) == 10
    with store.read() as conn:
        assert search_index.pending(conn) == 0
        for word in WORDS:
            assert search_index.search_ids(conn, word) == _scan(conn, word), word
    store.close()


def _filled(db_path, source, index: bool = True) -> Store:
    store = Store(db_path)
    with store.write() as conn:
        add_problems(conn, [{"id": "p1", "source": "t", "question": "q", "question_hash": "p1"}])
        add_trajectories(conn, _rows(source, 0, 40))
        if index:
            search_index.catch_up(conn)
    return store


def test_words_above_the_scan_threshold_are_one_scan_equal_to_the_brute_force_one(db_path, source, monkeypatch):
    store = _filled(db_path, source)
    monkeypatch.setattr(search_index, "VERIFY_SCAN_ABOVE", 0)  # every run is "common": no candidate is listed
    with store.read() as conn:
        for word in WORDS:
            found = search_index.candidates(conn, word)
            runs = [r for r in search_index._runs(conn, word) if r]
            assert (found.docs is None) == (not runs or not (len(runs) == 1 and runs[0] == word)), word
            hits = search_index.search(conn, word, found)
            assert (hits.rowids is not None) == (found.docs is None), word
            assert search_index.search_ids(conn, word) == _scan(conn, word), word
    store.close()


def test_matching_rowids_and_scan_equal_the_brute_force_check(db_path, source):
    import numpy as np

    store = _filled(db_path, source)
    rng = np.random.default_rng(3)
    with store.read() as conn:
        rowids = {tid: r for tid, r in conn.execute("SELECT id, rowid FROM trajectory").fetchall()}
        all_rowids = np.array(sorted(rowids.values()))
        for words in (["relative speed"], ["the", "Speed"], ["\\frac", "x^2"], ["so the answer"], ["zebra"]):
            want = set.intersection(*(_scan(conn, w) for w in words))
            assert {r for r in search_index.scan(conn, words).tolist()} == {rowids[t] for t in want}, words
            subset = rng.choice(all_rowids, 15, replace=False)
            got = search_index.matching_rowids(conn, subset, words)
            assert set(got.tolist()) == {rowids[t] for t in want} & set(subset.tolist()), words
        assert len(search_index.matching_rowids(conn, np.empty(0, np.int64), ["the"])) == 0
    store.close()


def test_candidates_read_before_a_catch_up_still_find_its_rows(db_path, source):
    """The TUI reads a word's candidates once per filter and searches with them later; a background
    catch-up that commits in between must not hide the rows it indexed (a CI failure: 0 rows for 1)."""
    store = Store(db_path)
    with store.write() as conn:
        add_problems(conn, [{"id": "p1", "source": "t", "question": "q", "question_hash": "p1"}])
        add_trajectories(conn, _rows(source, 0, 20))
        search_index.catch_up(conn)
        add_trajectories(conn, _rows(source, 20, 40))  # half the rows indexed, half not
    with store.read() as conn:
        found = {word: search_index.candidates(conn, word) for word in WORDS}
    with store.write() as conn:
        assert search_index.catch_up(conn) == 20
    with store.read() as conn:
        for word in WORDS:
            assert search_index.search_ids(conn, word, found[word]) == _scan(conn, word), word
    store.close()


def test_docs_committed_while_candidates_are_read_are_left_to_the_scan(db_path, source, monkeypatch):
    """A batch indexed between reading the highest doc and reading the postings has docs above it: they are
    cut from the candidates (their rows are searched as unindexed), so nothing is found twice or lost."""
    store = Store(db_path)
    with store.write() as conn:
        add_problems(conn, [{"id": "p1", "source": "t", "question": "q", "question_hash": "p1"}])
        add_trajectories(conn, _rows(source, 0, 20))
        search_index.catch_up(conn)
        first_batch = search_index.indexed_upto(conn)
        add_trajectories(conn, _rows(source, 20, 40))
        search_index.catch_up(conn)
    monkeypatch.setattr(search_index, "indexed_upto", lambda conn: first_batch)
    with store.read() as conn:
        cut = 0
        for word in WORDS:
            found = search_index.candidates(conn, word)
            assert found.upto == first_batch
            if found.docs is not None:
                assert not len(found.docs) or found.docs.max() <= first_batch, word
                cut += bool(search_index.search(conn, word, found).unindexed_ids)
            assert search_index.search_ids(conn, word, found) == _scan(conn, word), word
    assert cut  # some word had matches in the second batch, found by the scan of unindexed rows
    store.close()
