"""still2tui/table_index.py: rows, counts, detail facts and rollouts from memory equal the store, after appends
and curation."""

from __future__ import annotations

import numpy as np

from still2tui.curator import Curator
from still2tui.table_index import TrajectoryIndex
from store import Store
from store.ingest import add_trajectories, insert_new
from store.tui_queries import detail_scores, rollouts

STORE_ROWS = """
    SELECT t.id, t.problem_id, p.domain, t.model, t.origin, t.iteration, t.sample_index, t.verdict,
           left(t.extracted, 80), left(p.answer, 80), t.n_tokens, t.n_chars,
           (SELECT arg_max(ppl, created) FROM perplexity WHERE trajectory_id = t.id AND part = 'full'),
           (SELECT string_agg(rule, ',' ORDER BY rule) FROM flag WHERE trajectory_id = t.id), t.finish_reason,
           (SELECT tokens_after_correct FROM trajectory_metrics WHERE trajectory_id = t.id),
           (SELECT rechecks FROM trajectory_metrics WHERE trajectory_id = t.id),
           t.status
    FROM trajectory t LEFT JOIN problem p ON p.id = t.problem_id ORDER BY t.rowid"""
# the values kept apart from the Arrow columns (question per problem, tags and notes per row)
DERIVED_ROWS = """
    SELECT t.id, left(regexp_replace(p.question, '\\s+', ' ', 'g'), 240),
           nullif(concat_ws(' ', (SELECT string_agg(tag, ',' ORDER BY tag) FROM tag WHERE target_id = t.id),
                            (SELECT '✎' || count(*) FROM note WHERE target_id = t.id HAVING count(*) > 0)), '')
    FROM trajectory t LEFT JOIN problem p ON p.id = t.problem_id ORDER BY t.rowid"""


def _check(index: TrajectoryIndex, store: Store) -> None:
    with store.read() as conn:
        want = conn.execute(STORE_ROWS).fetchall()
        assert index.rows(np.arange(index.n)) == want
        assert index.rows(np.arange(index.n), ("id", "question", "tags")) == conn.execute(DERIVED_ROWS).fetchall()
        shuffled = np.random.default_rng(0).permutation(index.n)[:30]
        assert index.rows(shuffled) == [want[i] for i in shuffled]
        for tid, rid in conn.execute("SELECT id, rowid FROM trajectory").fetchall():
            assert index.detail_scores(rid) == detail_scores(conn, tid), tid
        for (problem,) in conn.execute("SELECT DISTINCT problem_id FROM trajectory").fetchall():
            assert index.rollouts(problem) == [
                (tid, verdict, answer if answer is None else answer[:80], length, status)
                for tid, verdict, answer, length, status in rollouts(conn, problem)
            ]
        assert index.rollouts("no such problem") == []


def test_index_rows_and_facts_equal_the_store_after_appends_and_curation(tui_db):
    store = Store(tui_db)
    index = TrajectoryIndex()
    index.load(store)
    _check(index, store)
    with store.write() as conn:
        new = conn.sql("""SELECT 'n' || id AS id, problem_id, text, origin, model, 'newstatus' AS status
                              FROM trajectory ORDER BY id LIMIT 5""").to_arrow_table()
        add_trajectories(conn, new)
        insert_new(
            conn,
            "perplexity",
            [
                {"trajectory_id": t, "scorer": s, "part": "full", "mean_nll": 1.0, "ppl": 2.5 + k}
                for k, t in enumerate(new["id"].to_pylist()[:3])
                for s in ("a-scorer", "b-scorer")
            ],
        )
        insert_new(conn, "flag", [{"trajectory_id": new["id"][0].as_py(), "rule": "short", "reason": "too short"}])
        insert_new(
            conn,
            "trajectory_metrics",
            [
                {"trajectory_id": t, "rechecks": k, "tokens_after_correct": 10 * k, "version": "t"}
                for k, t in enumerate(new["id"].to_pylist()[1:4])
            ],
        )
    assert index.sync(store) == "stale"  # new perplexities and metrics: a rebuild
    index.load(store)
    _check(index, store)
    with store.write() as conn:
        add_trajectories(
            conn,
            conn.sql("""SELECT 'm' || id AS id, problem_id, text, origin FROM trajectory
                                               ORDER BY id LIMIT 4""").to_arrow_table(),
        )
    assert index.sync(store) == "appended"
    ids = [r[0] for r in index.rows(np.arange(index.n))]
    Curator(store).status("approved", ids[:3] + ids[-2:])
    Curator(store).status("rejected", ids[5:7])
    assert index.sync(store) == "statuses"
    _check(index, store)
    Curator(store).tag("keep", ids[1:4])  # tags and notes follow the event log too
    Curator(store).note(ids[2], "looks fine")
    assert index.sync(store) == "statuses"
    _check(index, store)
    assert index.rows(np.array([2]), ("tags",)) == [("keep ✎1",)]
    total, correct, approved, rejected = index.counts(np.arange(index.n))
    assert (total, approved, rejected) == (index.n, 5, 2)
    index.close()
    store.close()


def test_filters_from_value_codes_equal_the_sql_predicate(tui_db):
    from still2tui.filter_fields import to_index
    from still2tui.filter_lang import parse_filter

    store = Store(tui_db)
    index = TrajectoryIndex()
    index.load(store)
    for text in [
        "verdict:correct",
        "-verdict:correct",
        "verdict:correct,incorrect origin:explore",
        "model:*14B*",
        "status:pending",
        "status!=pending",
        "domain:math",
        "-domain:math",
        "source:*2*",
        "iter=1",
        "-iter=1",
        "len<300",
        "len:200..900",
        "tokens>100",
        "chars<2000",
        "ppl>3",
        "-ppl>3",
        "thought_ppl>1",
        "difficulty>=3",
        "flag:repetition",
        "-flag:repetition",
        "flag:any",
        "flag:none",
        "flag:*rep*,short",
        "sample=1",
        "id:*a*",
        "problem:*amc*",
        "verdict:correct ppl<5 -flag:any",
    ]:
        clauses = to_index(parse_filter(text))
        want = index.db.execute(
            f"SELECT pos FROM trajectory t WHERE {' AND '.join(c.sql for c in clauses)}",
            [p for c in clauses for p in c.params],
        ).fetchnumpy()["pos"]
        assert index.filter(clauses).tolist() == sorted(want.tolist()), text
    index.close()
    store.close()


def test_sorted_unique_and_intersection():
    from store.search_index import intersect_sorted, unique_sorted

    rng = np.random.default_rng(1)
    for _ in range(20):
        a, b = rng.integers(0, 50, rng.integers(0, 40)), rng.integers(0, 50, rng.integers(0, 40))
        assert unique_sorted(a).tolist() == sorted(set(a.tolist()))
        assert intersect_sorted(unique_sorted(a), unique_sorted(b)).tolist() == sorted(
            set(a.tolist()) & set(b.tolist())
        )


def test_first_page_of_a_search_is_the_prefix_of_the_exact_view(tui_db, monkeypatch):
    from still2tui import search
    from still2tui.trajectory_source import TrajectorySource
    from store import search_index

    monkeypatch.setattr(search, "FIRST_PAGE_ABOVE", 0)  # 74 rows: check the first page before the count anyway
    store = Store(tui_db, sticky_reads=True)
    partial_pages = 0
    for indexed in (False, True):  # rows not in the search index are read like candidates
        if indexed:
            with store.write() as conn:
                search_index.catch_up(conn)
        index = TrajectoryIndex()
        index.load(store)
        assert len(index.positions_without_doc()) == (0 if indexed else index.n)
        for text in ['"relative speed"', '"so the"', "Wait", 'the "\\frac"', 'origin:explore "the answer"', "zebra"]:
            for sort_key, descending in (("", False), ("ppl", True), ("verdict", True)):
                exact = TrajectorySource(store, index=index)
                exact.set_filter(text)
                exact.set_sort(sort_key, descending)
                want = exact.fetch(0, exact.count())
                for limit in (1, 5, 200):
                    source = TrajectorySource(store, index=index)
                    source.set_filter(text)
                    source.set_sort(sort_key, descending)
                    got = source.first_rows(limit)
                    if got is None:  # nothing to read (indexed words), or no match in the first chunks read
                        nothing_to_read = indexed and all(source.query.found[w].exact for w in source.filter.words)
                        assert nothing_to_read or limit < index.n or not want, (text, sort_key, limit)
                        continue
                    assert got == want[:limit], (text, sort_key, limit)
                    partial_pages += len(want) > limit
                    if limit >= index.n:  # every candidate read: the view is known without a count
                        assert source.query.view is not None
                    if source.query.view is not None:
                        assert source.count() == len(want) <= limit
        index.close()
    store.close()
    assert partial_pages > 10  # first pages found before the end of the candidates were checked


def test_a_count_still_running_for_an_old_filter_cannot_answer_for_the_new_one(tui_db, monkeypatch):
    """Thread workers cannot be stopped: a search of the previous filter that ends after the user typed a
    new one must fill only its own caches, not the new filter's view (rows and count of the old filter)."""
    import threading

    from still2tui import trajectory_source as sources

    store = Store(tui_db)
    index = TrajectoryIndex()
    index.load(store)
    source = sources.TrajectorySource(store, index=index)
    exact = sources.TrajectorySource(store, index=index)
    exact.set_filter("origin:distill")
    want = exact.fetch(0, exact.count())

    entered, release, search = threading.Event(), threading.Event(), sources.text_positions
    monkeypatch.setattr(
        sources, "text_positions", lambda *a, **k: (entered.set(), release.wait(20))[1] and search(*a, **k)
    )
    source.set_filter('"the answer"')
    phrase = source.query
    counted = []
    old = threading.Thread(target=lambda: counted.append(source.count(phrase)))  # held inside its search
    old.start()
    assert entered.wait(20)
    source.set_filter("origin:distill")  # the user's next filter: answered while the old worker waits
    assert source.count() == len(want)
    release.set()
    old.join(20)
    assert not old.is_alive() and counted == [len(phrase.view)]  # it finished, into its own Query
    exact.set_filter('"the answer"')
    assert len(phrase.view) == exact.count() > 0
    assert source.count() == len(want) and source.fetch(0, len(want) + 5) == want
    index.close()
    store.close()


def test_a_status_change_during_a_sort_is_not_lost_from_the_cached_order(tui_db, monkeypatch):
    """warm() sorts every column in a worker; an approval synced while the status column is being sorted
    must not leave that sort's (older) order in the cache."""
    from still2tui import table_index

    store = Store(tui_db)
    index = TrajectoryIndex()
    index.load(store)
    last = index.rows(np.arange(index.n))[-1][0]  # sorts last among equal statuses
    sort, synced = table_index.order, []

    def order_with_a_sync_meanwhile(keys, descending):
        if not synced:
            Curator(store).status("approved", [last])
            synced.append(index.sync(store))
        return sort(keys, descending)

    monkeypatch.setattr(table_index, "order", order_with_a_sync_meanwhile)
    index.order("status", False)
    assert synced == ["statuses"]
    shown = [row[0] for row in index.rows(index.view(np.arange(index.n), "status", False), ("status",))]
    assert shown == sorted(shown) and shown.count("approved") == 1
    index.close()
    store.close()


def test_metric_filters_from_value_codes_equal_the_sql_predicate(tui_db):
    """still2 metrics columns (some NULL, overthink a ratio rounded to 3 decimals) are coded like ppl."""
    from still2tui.filter_fields import to_index, to_store
    from still2tui.filter_lang import parse_filter
    from still2tui.table_index import CODED_COLUMNS

    assert {"rechecks", "after_tokens", "after_chars", "overthink"} <= set(CODED_COLUMNS)
    store = Store(tui_db)
    with store.write() as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM trajectory ORDER BY id").fetchall()]
        insert_new(
            conn,
            "trajectory_metrics",
            [
                {
                    "trajectory_id": t,
                    "thought_chars": 997 + k,
                    "chars_after_correct": None if k % 5 == 0 else 31 * k,
                    "tokens_after_correct": None if k % 3 == 0 else 7 * k,
                    "rechecks": k % 6,
                    "version": "t",
                }
                for k, t in enumerate(ids)
                if k % 4
            ],
        )
    index = TrajectoryIndex()
    index.load(store)
    for text in [
        "rechecks>=3",
        "-rechecks>3",
        "rechecks=0",
        "overthink>0.5",
        "overthink<=0.25",
        "-overthink>0.5",
        "after_tokens:10..50",
        "after_chars<500",
        "after_tokens>0 rechecks<2 verdict:correct",
    ]:
        flt = parse_filter(text)
        clauses = to_index(flt)
        want = index.db.execute(
            f"SELECT pos FROM trajectory t WHERE {' AND '.join(c.sql for c in clauses)}",
            [p for c in clauses for p in c.params],
        ).fetchnumpy()["pos"]
        got = index.filter(clauses).tolist()
        assert got == sorted(want.tolist()) and got, text
        assert all(index._clause_mask(clause) is not None for clause in clauses), text
        with store.read() as conn:  # the store's predicate (the path without the index) gives the same rows
            stored = {
                r[0]
                for r in conn.execute(
                    f"SELECT id FROM trajectory t WHERE {to_store(flt).sql}", to_store(flt).params
                ).fetchall()
            }
        assert {row[0] for row in index.rows(np.array(got))} == stored, text
    index.close()
    store.close()


def test_each_query_is_answered_by_the_strategy_planned_for_it(tui_db):
    """One class per strategy, chosen when the filter or sort changes: the plain store path for the
    unfiltered unsorted table, the store for filters the index cannot express (or before it is loaded), the
    index otherwise. A query keeps its strategy when the index loads under it; the next plan uses the index.
    Every strategy gives the same rows."""
    from still2tui.trajectory_source import IndexQuery, PlainQuery, StoreQuery, TrajectorySource

    store = Store(tui_db)
    index = TrajectoryIndex()
    source = TrajectorySource(store, index=index)
    assert type(source.query) is PlainQuery and not source.slow
    plain = source.fetch(0, 500)
    source.set_filter("verdict:correct")
    before_load = source.query
    assert type(before_load) is StoreQuery and not source.uses_index
    from_store = source.fetch(0, 500)
    index.load(store)
    assert source.query is before_load and source.fetch(0, 500) == from_store  # kept until the next plan
    source.invalidate()
    assert type(source.query) is IndexQuery and source.uses_index
    assert source.fetch(0, 500) == from_store and source.count() == len(from_store) > 0
    source.set_filter("")
    assert type(source.query) is IndexQuery and source.fetch(0, 500) == plain
    source.set_filter("tag:keep")  # tags are not in the index
    assert type(source.query) is StoreQuery and not source.slow
    source.set_filter("verdict:correct")
    source.set_sort("ppl", True)
    by_index = source.fetch(0, 500)
    source.set_filter("verdict:correct label:none")  # no index form: the store sorts through its ppl join
    assert type(source.query) is StoreQuery and source.slow
    assert [r[0] for r in source.fetch(0, 500)] == [r[0] for r in by_index]
    index.close()
    store.close()
