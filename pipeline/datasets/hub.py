"""A dataset version as a Hub-ready folder (Parquet data + generated card), and ``dataset push`` to the Hub.

The folder is what ``load_dataset`` expects: ``data/train-00000-of-00001.parquet`` and a ``README.md``
whose YAML ``configs`` points at it. ``push_dataset`` uploads that folder with ``huggingface_hub``:
the repo is created if missing (``private`` as asked), each dataset version goes to its own branch
(the revision; default: the version's name), and ``main`` gets the same commit unless told not to.
The endpoint comes from ``HF_ENDPOINT`` as for any huggingface_hub client, the token from an
environment variable (``HF_TOKEN`` by default).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from pipeline.datasets.card import DATA_FILE, write_card
from pipeline.datasets.export import export_dataset
from store.store import Store


def export_folder(
    store: Store,
    name: str,
    out_dir: str | Path,
    *,
    shape: str = "messages",
    use_system: bool = True,
    with_meta: bool = False,
    license: str = "other",
    repo_id: str | None = None,
    revision: str | None = None,
) -> dict[str, Any]:
    """Write DIR/data/train-00000-of-00001.parquet and DIR/README.md (the card); returns rows and files."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a folder: --card writes a folder (data/ and README.md)")
    (out / DATA_FILE).parent.mkdir(parents=True, exist_ok=True)
    rows = export_dataset(
        store, name, out / DATA_FILE, shape=shape, fmt="parquet", use_system=use_system, with_meta=with_meta
    )
    write_card(store, name, out / "README.md", license=license, shape=shape, repo_id=repo_id, revision=revision)
    return {"dataset": name, "dir": str(out), "rows": rows, "files": [DATA_FILE, "README.md"], "shape": shape}


def branch_name(name: str) -> str:
    """A git branch name for a dataset version (characters git refuses become '-')."""
    cleaned = re.sub(r"[^A-Za-z0-9._/-]+", "-", name).strip("-./") or "version"
    return re.sub(r"\.\.+|/+", "-", cleaned)


def push_dataset(
    store: Store,
    name: str,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    update_main: bool = True,
    token_env: str = "HF_TOKEN",
    shape: str = "messages",
    use_system: bool = True,
    with_meta: bool = False,
    license: str = "other",
    commit_message: str | None = None,
) -> dict[str, Any]:
    """Upload the dataset's folder to ``repo_id`` (a dataset repo): the version's branch, and main."""
    from huggingface_hub import HfApi

    token = os.environ.get(token_env)
    if not token:
        raise ValueError(f"no Hub token: set ${token_env} (a write token), or name another variable with --token-env")
    branch = revision or branch_name(name)
    api = HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="still2-push-") as tmp:
        info = export_folder(
            store,
            name,
            tmp,
            shape=shape,
            use_system=use_system,
            with_meta=with_meta,
            license=license,
            repo_id=repo_id,
            revision=branch,
        )
        message = commit_message or f"still2 dataset {name}: {info['rows']:,} rows ({shape})"
        url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        commits = {}
        if branch != "main":
            api.create_branch(repo_id, branch=branch, repo_type="dataset", exist_ok=True)
        targets = [branch] + (["main"] if update_main and branch != "main" else [])
        for target in targets:
            commit = api.upload_folder(
                folder_path=tmp, repo_id=repo_id, repo_type="dataset", revision=target, commit_message=message
            )
            commits[target] = commit.oid
    return {
        **info,
        "dir": None,
        "repo_id": repo_id,
        "url": str(url),
        "revision": branch,
        "commits": commits,
        "private": private,
        "endpoint": api.endpoint,
    }
