"""Import direction is enforced: still2tui -> store; pipeline -> store; store -> neither; no Textual in pipeline."""

from __future__ import annotations

import ast
import subprocess
import sys
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


def _imports_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_pipeline_does_not_import_its_cli():
    """The CLI sits on top of pipeline/: engines, loops and jobs never reach up into pipeline/cli."""
    bad = []
    for path in sorted((REPO / "pipeline").rglob("*.py")):
        if path.is_relative_to(REPO / "pipeline" / "cli") or path.name == "__main__.py":
            continue
        for name in _imports_modules(path):
            if name == "pipeline.cli" or name.startswith("pipeline.cli."):
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
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    return {m.split(".")[0] for m in out.stdout.split()}


def test_cli_and_store_import_no_heavy_libraries():
    loaded = _loaded_after("import pipeline.cli, store, store.importer, store.formats.export")
    assert not loaded & {"torch", "transformers", "textual", "trl", "vllm", "datasets"}


def test_help_does_not_hang():
    """`still2 --help` answers (its speed is measured in bench/, not here: CI machines are loaded)."""
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert out.returncode == 0 and "import" in out.stdout
