"""Import direction is enforced: still2tui -> store; pipeline -> store; store -> neither; no Textual in pipeline."""
from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "store": {"pipeline", "still2tui", "torch", "transformers", "textual", "trl", "vllm"},
    "pipeline": {"still2tui", "textual"},
    "still2tui": {"pipeline", "torch", "transformers", "trl", "vllm"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_imports(package):
    bad = []
    for path in sorted((REPO / package).rglob("*.py")):
        for name in _imports(path) & FORBIDDEN[package]:
            bad.append(f"{path.relative_to(REPO)} imports {name}")
    assert not bad, "\n".join(bad)


def test_every_module_has_a_docstring():
    missing = []
    for package in FORBIDDEN:
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if path.stat().st_size and not ast.get_docstring(tree):
                missing.append(str(path.relative_to(REPO)))
    assert not missing, missing


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
                         capture_output=True, text=True, cwd=REPO, check=True)
    return {m.split(".")[0] for m in out.stdout.split()}


def test_cli_and_store_import_no_heavy_libraries():
    loaded = _loaded_after("import pipeline.cli, store, store.importer, store.formats.export")
    assert not loaded & {"torch", "transformers", "textual", "trl", "vllm", "datasets"}


def test_help_is_fast():
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True, cwd=REPO)
    elapsed = time.perf_counter() - start
    assert out.returncode == 0 and "import" in out.stdout
    assert elapsed < 2.0, f"still2 --help took {elapsed:.2f}s"  # ~0.4 s measured; 2 s margin for noisy CI
