"""Bench: the TUI on a 1M-trajectory store — first paint, filter / sort / page / open-detail, full-text search.

    .venv/bin/python bench/tui.py                      # builds /tmp/still2-tui-bench/store.duckdb once
    .venv/bin/python bench/tui.py --db PATH --rows N   # reuse or build elsewhere
    .venv/bin/python bench/tui.py --no-search --preview off   # the table alone (the preview pane hidden)

Goals: first paint < 1 s; p50/p95 of filter, sort, page and open-detail < 100 ms each. First paint is
app start -> the first frame written with table rows in it (the time to import the app is printed
apart). Filter/sort/page are measured once the in-memory index has loaded (its load time is printed).
Open-detail is enter -> the detail screen's first frame (header, facts, problem, step list; the
solution and the rollouts list fill in right after it). Search is the store's token index
(store/search_index.py) for a common word, a rare word, a rare token and a phrase: the time to the
first page of matches and the time to the count (the same when the first page waits for the count).
The preview pane (issue 16) is shown at 160 columns unless ``--preview off``; "preview" is a cursor
move -> the pane drawn with that row (it reads the row after the cursor has rested 80 ms). The
machine's load average is printed before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa  # noqa: E402

from bench.ingest import synthetic  # noqa: E402
from store import (
    Store,  # noqa: E402
    search_index,  # noqa: E402
)
from store.ingest import add_problems, add_trajectories, insert_new  # noqa: E402

DOMAINS = ("math", "code", "science", "puzzle")
MODELS = ("smollm2-135m", "qwen2.5-32b-instruct", "still2-m1", "still2-m2")
ORIGINS = ("explore", "explore", "explore", "distill", "eval")
STATUSES = ("pending", "pending", "pending", "approved", "rejected")
FLAGS = ("repetition", "gibberish", "lang_mix", "short")


def build(path: Path, rows: int, thought_chars: int) -> None:
    """A fresh store with `rows` trajectories over 5000 problems, a ppl for each, flags on ~6%, pairs, evals."""
    for suffix in ("", ".wal", ".lock", ".want-write"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    store = Store(path)
    t0 = time.perf_counter()
    n_problems = 5000
    with store.write() as conn:
        add_problems(
            conn,
            [
                {
                    "id": f"gen:{i:06d}",
                    "source": "gen",
                    "domain": DOMAINS[i % 4],
                    "difficulty": 1 + i % 5,
                    "question": f"Problem {i}: compute {i} * 7 + {i % 13}.",
                    "question_hash": f"h{i}",
                    "answer": str(i % 997),
                }
                for i in range(n_problems)
            ],
        )
    batch = 200_000
    for start in range(0, rows, batch):
        n = min(batch, rows - start)
        table = synthetic(n, thought_chars, seed=start)
        idx = list(range(start, start + n))
        table = table.set_column(table.schema.get_field_index("id"), "id", pa.array([f"{i:016x}" for i in idx]))
        table = table.set_column(
            table.schema.get_field_index("problem_id"),
            "problem_id",
            pa.array([f"gen:{i % n_problems:06d}" for i in idx]),
        )
        table = table.set_column(
            table.schema.get_field_index("model"), "model", pa.array([MODELS[(i // 7) % 4] for i in idx])
        )
        table = table.set_column(
            table.schema.get_field_index("origin"), "origin", pa.array([ORIGINS[(i // 3) % 5] for i in idx])
        )
        tokens = [None if i % 10 == 0 else 200 + (i * 7919) % 3800 for i in idx]
        table = table.set_column(table.schema.get_field_index("n_tokens"), "n_tokens", pa.array(tokens, pa.int32()))
        table = table.append_column("status", pa.array([STATUSES[(i * 31) % 5] for i in idx]))
        with store.write() as conn:
            add_trajectories(conn, table)
            insert_new(
                conn,
                "perplexity",
                pa.table(
                    {
                        "trajectory_id": table["id"],
                        "scorer": pa.array(["smollm2-135m"] * n),
                        "part": pa.array(["full"] * n),
                        "mean_nll": pa.array([0.5 + (i * 37 % 1000) / 500 for i in idx]),
                        "ppl": pa.array([1.5 + (i * 37 % 1000) / 100 for i in idx]),
                    }
                ),
            )
            flagged = [i for i in idx if i % 17 == 0]
            insert_new(
                conn,
                "flag",
                pa.table(
                    {
                        "trajectory_id": pa.array([f"{i:016x}" for i in flagged]),
                        "rule": pa.array([FLAGS[i % 4] for i in flagged]),
                        "reason": pa.array([f"rule {FLAGS[i % 4]} fired" for i in flagged]),
                    }
                ),
            )
            insert_new(conn, "trajectory_metrics", metrics_rows(idx))
        print(f"  built {start + n:,} rows ({time.perf_counter() - t0:.0f}s)", flush=True)
    store.close()


def metrics_rows(idx: list[int]) -> pa.Table:
    """still2 metrics for 2 rows in 3 (the correct answer found in 2 of those), ~2,000 distinct values a column."""
    idx = [i for i in idx if i % 3]
    found = [i % 3 == 1 or i % 9 == 2 for i in idx]
    after = [(i * 7919) % 2000 if f else None for i, f in zip(idx, found)]
    return pa.table(
        {
            "trajectory_id": pa.array([f"{i:016x}" for i in idx]),
            "thought_chars": pa.array([2000 + (i * 31) % 2000 for i in idx], pa.int32()),
            "chars_after_correct": pa.array([a * 2 if a is not None else None for a in after], pa.int32()),
            "tokens_after_correct": pa.array(after, pa.int32()),
            "rechecks": pa.array([(i * 13) % 60 for i in idx], pa.int32()),
            "version": pa.array(["bench"] * len(idx)),
        }
    )


def with_metrics(db: Path) -> None:
    """A store built before the bench wrote metrics gets them once."""
    store = Store(db)
    try:
        with store.write() as conn:
            if conn.execute("SELECT count(*) FROM trajectory_metrics").fetchone()[0]:
                return
            n = conn.execute("SELECT count(*) FROM trajectory").fetchone()[0]
            for start in range(0, n, 200_000):
                insert_new(conn, "trajectory_metrics", metrics_rows(list(range(start, min(start + 200_000, n)))))
    finally:
        store.close()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


class FrameClock:
    """Times of the frames the app writes, with the screen each one shows (hooks ``App._display``)."""

    def __init__(self):
        from textual.app import App

        self.frames: list[tuple[float, object]] = []
        display = App._display

        def timed_display(app, screen, renderable):
            self.frames.append((time.perf_counter(), screen))
            return display(app, screen, renderable)

        App._display = timed_display

    def first(self, since: float, test) -> float | None:
        """Seconds from ``since`` to the first frame after it whose screen passes ``test``."""
        return next((t - since for t, screen in self.frames if t >= since and test(screen)), None)


async def measure(db: Path, repeats: int = 20, search: bool = True) -> None:
    t = time.perf_counter()
    from still2tui.app import Still2App
    from still2tui.components.detail_screen import DetailScreen
    from still2tui.components.virtual_table import VirtualTable

    print(f"import the app: {(time.perf_counter() - t) * 1000:.0f} ms")
    clock = FrameClock()

    def table_drawn(screen) -> bool:
        tables = screen.query(VirtualTable)
        return bool(tables) and tables.first().total > 0 and bool(tables.first()._blocks)

    with Store(db).write() as conn:  # a store from before the search index: index it once (timed)
        t = time.perf_counter()
        n = search_index.catch_up(conn, None)
        if n:
            print(f"search index catch-up: {n:,} trajectories in {time.perf_counter() - t:.0f}s")
    t0 = time.perf_counter()
    app = Still2App(db, keymap={})
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(VirtualTable)
        table.render_line(1)
        settled = time.perf_counter() - t0
        first_paint = clock.first(t0, table_drawn)
        print(
            f"first paint (app start -> first frame with rows of {table.total:,}): {first_paint * 1000:.0f} ms"
            f"  (Pilot idle: {settled * 1000:.0f} ms)"
        )
        while app.index_loading or not app.index.ready:
            await asyncio.sleep(0.05)
        ready = time.perf_counter() - t0
        await app.workers.wait_for_complete()
        print(f"in-memory index ready {ready:.1f}s after start; sort orders warm {time.perf_counter() - t0:.1f}s")
        await pilot.pause()

        async def timed(fn) -> float:
            t = time.perf_counter()
            fn()
            table.render_line(1)  # the first visible row forces the window fetch
            await app.workers.wait_for_complete()
            return time.perf_counter() - t

        figures = {}
        filters = [
            "verdict:correct",
            "origin:explore len<2000",
            "status:pending model:*m1*",
            "domain:code",
            "flag:repetition",
            "iter:1..2 -flag:any",
            "verdict:incorrect origin:distill",
        ]
        figures["filter"] = [await timed(lambda f=f: screen.apply_filter(f)) for f in filters * 3]
        screen.apply_filter("")
        sorts = ["verdict", "n_chars", "status", "model", "origin", "iteration", "ppl"]
        figures["sort"] = []
        for key in sorts * 3:
            table.cursor_column = [c.key for c in table.source.columns].index(key)
            figures["sort"].append(await timed(table.sort_by_cursor_column))
        figures["sort + filter"] = [await timed(lambda f=f: screen.apply_filter(f)) for f in filters]
        screen.apply_filter("")
        figures["page"] = [await timed(lambda: table.action_page(1)) for _ in range(repeats)]
        figures["jump"] = [
            await timed(lambda i=i: table.move_to(i * 61_231 % max(table.total, 1))) for i in range(repeats)
        ]

        def detail_drawn(screen) -> bool:
            return isinstance(screen, DetailScreen)

        async def open_detail() -> float:
            t = time.perf_counter()
            await pilot.press("enter")
            await pilot.pause()
            took = clock.first(t, detail_drawn)
            app.pop_screen()
            await pilot.pause()
            table.move_to(table.cursor_row + 7919)
            await pilot.pause()  # the move's own frame is drawn before the next enter (it is "jump")
            return took

        figures["open-detail (first frame)"] = [await open_detail() for _ in range(repeats)]
        preview = next(iter(screen.query("PreviewPane")), None)
        if preview is not None and preview.display:

            async def shown() -> float:
                t = time.perf_counter()
                table.move_to((table.cursor_row + 7919) % max(table.total, 1))
                target = table.current_key
                while preview.shown != target or preview.drawn != preview._generation:
                    await asyncio.sleep(0.002)
                return time.perf_counter() - t

            figures["preview (move -> pane drawn, 80 ms rest incl.)"] = [await shown() for _ in range(repeats)]
        figures["ppl>8 filter"] = [await timed(lambda: screen.apply_filter("ppl>8")) for _ in range(5)]
        # still2 metrics columns (issue 16): from the index as ppl is; rows without metrics match no comparison
        figures["metrics filter (rechecks, overthink)"] = [
            await timed(lambda f=f: screen.apply_filter(f))
            for f in ("rechecks>20", "overthink>0.5 verdict:correct", "after_tokens:100..200") * 3
        ]
        screen.apply_filter("")
        figures["sort by rechecks"] = []
        for _ in range(3):
            table.cursor_column = [c.key for c in table.source.columns].index("rechecks")
            figures["sort by rechecks"].append(await timed(table.sort_by_cursor_column))
        searches = {
            "search common word (gives)": "gives",
            "search rare word (zebra)": "zebra",
            "search rare token (step 123456)": "123456",
            'search phrase ("which gives")': '"which gives"',
            "search narrowed by filter": "verdict:correct domain:math iter:2 squared",
        }

        async def timed_search(text: str) -> tuple[float, float]:
            """(seconds to the first page of rows, seconds to the count) of one search."""
            t = time.perf_counter()
            screen.apply_filter(text)
            while table.is_running_count and not (table.total and table._blocks.get(0)):
                await asyncio.sleep(0.002)
            first = time.perf_counter() - t
            await app.workers.wait_for_complete()
            table.render_line(1)
            await app.workers.wait_for_complete()
            return first, time.perf_counter() - t

        for name, text in (searches if search else {}).items():
            runs = [await timed_search(text) for _ in range(3)]
            figures[name + ": first page"] = [first for first, _ in runs]
            figures[name] = [full for _, full in runs]
            print(f"  {name}: {table.total:,} matches", flush=True)
        for name, values in figures.items():
            print(
                f"{name:48} p50 {pct(values, 0.5) * 1000:7.0f} ms   p95 {pct(values, 0.95) * 1000:7.0f} ms"
                f"   (n={len(values)})"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="/tmp/still2-tui-bench/store.duckdb")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--thought-chars", type=int, default=1000)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--no-search", action="store_true", help="skip the full-text searches (minutes on 1M rows)")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument(
        "--preview",
        choices=("on", "off"),
        default="on",
        help="the preview pane beside the table (shown at 160 columns by default)",
    )
    args = ap.parse_args()
    # the TUI remembers the pane's state in $XDG_STATE_HOME/still2tui/ui.json: a private one for the bench
    state = Path(tempfile.mkdtemp(prefix="still2-bench-state-"))
    (state / "still2tui").mkdir()
    (state / "still2tui" / "ui.json").write_text(json.dumps({"preview": args.preview == "on"}))
    os.environ["XDG_STATE_HOME"] = str(state)
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} (1, 5 min); preview {args.preview}")
    db = Path(args.db)
    if args.rebuild or not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        print(f"building {args.rows:,} trajectories at {db} ...")
        build(db, args.rows, args.thought_chars)
    with_metrics(db)
    if args.build_only:
        return
    asyncio.run(measure(db, args.repeats, search=not args.no_search))
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} (1, 5 min) at the end")


if __name__ == "__main__":
    main()
