"""The model registry: resolve model specs to folders, register the base M_0 and trained models, walk lineage.

A spec is a model id from table `model`, 'default' (SmolLM2-135M-Instruct), a local folder, an HF id or an
OpenAI-served model name. A model not yet in the table is registered as method 'base' (a lineage root).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.ids import stable_id
from store.store import Store

BASE_METHOD = "base"


@dataclass(frozen=True)
class ModelRef:
    id: str
    path: str
    method: str
    base: str  # the lineage root (itself for a base model)
    parent: str | None = None


def models_dir(store: Store) -> Path:
    """`<db dir>/models`: where trained models go unless --output-dir says otherwise."""
    if store.path == ":memory:":
        return Path.cwd() / "models"
    return Path(store.path).resolve().parent / "models"


def _row(conn, model_id: str) -> ModelRef | None:
    row = conn.execute(
        "SELECT id, path, coalesce(method, ?), base, parent FROM model WHERE id = ?", [BASE_METHOD, model_id]
    ).fetchone()
    if not row:
        return None
    return ModelRef(id=row[0], path=row[1], method=row[2], base=row[3] or row[0], parent=row[4])


def get_model(store: Store, model_id: str) -> ModelRef | None:
    with store.read() as conn:
        return _row(conn, model_id)


def _spec_path(spec: str) -> tuple[str, str]:
    """(default id, path) for a spec that is not a model id in the store."""
    from pipeline.engines.default_model import DEFAULT_MODEL_NAME, is_default_spec

    if is_default_spec(spec):
        return DEFAULT_MODEL_NAME, "default"
    path = Path(spec).expanduser()
    if path.exists():
        return path.resolve().name, str(path.resolve())
    return spec, spec


def resolve(store: Store, spec: str | None, *, register: bool = True) -> ModelRef:
    """The ModelRef of a spec, registering an unknown one as a base model (root of its lineage)."""
    spec = spec or "default"
    with store.read() as conn:
        found = _row(conn, spec)
        if found:
            return found
        default_id, path = _spec_path(spec)
        same_path = conn.execute("SELECT id FROM model WHERE path = ? ORDER BY created LIMIT 1", [path]).fetchone()
        if same_path:
            return _row(conn, same_path[0])
        taken = _row(conn, default_id)
    model_id = default_id if taken is None else f"{default_id}-{stable_id(path)[:6]}"
    ref = ModelRef(id=model_id, path=path, method=BASE_METHOD, base=model_id)
    if register:
        with store.write() as conn:
            conn.execute(
                "INSERT INTO model (id, path, method) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [ref.id, ref.path, BASE_METHOD],
            )
    return ref


def load_path(ref: ModelRef) -> str:
    """A folder or hub id that from_pretrained / the engines can load."""
    from pipeline.engines.default_model import resolve_model

    return resolve_model(None if ref.path == "default" else ref.path)


def first_sft(store: Store, root: str | None) -> ModelRef | None:
    """M_1: the first SFT model trained in the lineage of `root` (None: of any lineage)."""
    with store.read() as conn:
        row = conn.execute(
            "SELECT id FROM model WHERE method = 'sft' AND (? IS NULL OR base = ?) ORDER BY created, id LIMIT 1",
            [root, root],
        ).fetchone()
        return _row(conn, row[0]) if row else None


def register(
    store: Store,
    *,
    model_id: str,
    path: str,
    base: str,
    parent: str,
    dataset: str | None,
    method: str,
    recipe: dict[str, Any],
    metrics: dict[str, Any],
    run_id: str | None,
) -> None:
    """Insert (or replace: a redone training step) the trained model's row."""
    with store.write() as conn:
        conn.execute("DELETE FROM model WHERE id = ?", [model_id])
        conn.execute(
            """INSERT INTO model (id, path, base, parent, dataset, method, recipe, metrics, run_id)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                model_id,
                path,
                base,
                parent,
                dataset,
                method,
                json.dumps(recipe, default=str),
                json.dumps(metrics, default=str),
                run_id,
            ],
        )


def model_exists(store: Store, model_id: str) -> bool:
    return get_model(store, model_id) is not None
