"""Fixtures of the reliability suite: a small real store (AMC 2023 problems and Sky-T1 trajectories)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AMC = REPO.parent / "shared" / "data" / "benchmarks" / "amc23.jsonl"
SKYT1 = REPO.parent / "shared" / "data" / "trajectories" / "trajectories_skyt1_14b_amc23.jsonl"


@pytest.fixture(scope="session")
def base_store(tmp_path_factory) -> Path:
    """A store with 40 problems and 40 trajectories, built once; tests copy it."""
    from store import Store
    from store.importer import import_problems, import_trajectories

    if not AMC.exists() or not SKYT1.exists():
        pytest.skip("../shared/data is not present")
    path = tmp_path_factory.mktemp("base") / "base.duckdb"
    store = Store(path)
    import_problems(store, str(AMC))
    import_trajectories(store, str(SKYT1))
    store.close()
    return path


@pytest.fixture
def real_store(base_store, tmp_path) -> Path:
    """A private copy of the base store."""
    path = tmp_path / "store.duckdb"
    shutil.copy(base_store, path)
    return path


def counts(path: Path) -> tuple[int, int]:
    from store import Store

    store = Store(path)
    with store.read() as conn:
        return (
            conn.execute("SELECT count(*) FROM problem").fetchone()[0],
            conn.execute("SELECT count(*) FROM trajectory").fetchone()[0],
        )
