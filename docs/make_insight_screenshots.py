"""Writes docs/screenshots/surprise-heatmap.svg and first-divergence.svg from stores scored and explored by
a real model (SmolLM2-135M-Instruct on CPU; minutes of work, so the stores are built beforehand):

    # a Sky-T1 trace scored token by token
    still2 init --db sky.duckdb
    still2 problems add ../shared/data/benchmarks/amc23.jsonl ../shared/data/benchmarks/aime24.jsonl --db sky.duckdb
    still2 import ../shared/data/trajectories/trajectories_skyt1_14b_amc23.jsonl --model Sky-T1-14B --db sky.duckdb
    still2 verify --db sky.duckdb && still2 metrics --db sky.duckdb
    still2 score --tokens --model default --scorer SmolLM2-135M-Instruct --where "n_chars < 4300" --db sky.duckdb
    # rollouts of one problem, some correct and some not
    still2 init --db smol.duckdb && still2 problems add examples/easy_arithmetic.jsonl --db smol.duckdb
    still2 explore --model default --limit 8 --max-rollouts 4 --want-correct 4 --max-new-tokens 200 \\
        --temperature 0.8 --instruction boxed --db smol.duckdb

    .venv/bin/python docs/make_insight_screenshots.py --heat-db sky.duckdb --heat-id 360b0d021463ac77 \\
        --pair-db smol.duckdb --pair-id INCORRECT_ID

(either pair of options alone writes only its screenshot). The heatmap opens the peak step and then the
spike with ``!`` twice, its tokens coloured (``h``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


async def screenshot(
    db: str, trajectory_id: str, keys: tuple[str, ...], out: Path, size: tuple[int, int], settle: float | None = None
) -> None:
    """Open the trajectory's detail, let its workers finish, press ``keys``, wait ``settle`` s and save."""
    from still2tui.app import Still2App

    app = Still2App(db, keymap={}, history_path=Path(tempfile.mkdtemp()) / "h")
    async with app.run_test(size=size) as pilot:
        app.open_detail(trajectory_id)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause(0.5)
        await pilot.press(*keys)
        await pilot.pause(settle)
        app.save_screenshot(str(out))


HEATMAP_KEYS = ("exclamation_mark", "exclamation_mark", "h")  # the peak, then the spike; tokens coloured
DIVERGENCE_KEYS = ("v",)  # compared with the first rollout of its problem with the other verdict


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--heat-db")
    ap.add_argument("--heat-id")
    ap.add_argument("--pair-db")
    ap.add_argument("--pair-id")
    args = ap.parse_args()
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    if args.heat_db and args.heat_id:
        asyncio.run(screenshot(args.heat_db, args.heat_id, HEATMAP_KEYS, out / "surprise-heatmap.svg", (160, 48)))
        print("wrote", out / "surprise-heatmap.svg")
    if args.pair_db and args.pair_id:
        asyncio.run(
            screenshot(args.pair_db, args.pair_id, DIVERGENCE_KEYS, out / "first-divergence.svg", (120, 36), 0.5)
        )
        print("wrote", out / "first-divergence.svg")


if __name__ == "__main__":
    main()
