"""The layout keeps to the data flow: each stage imports only what is upstream of it."""

from __future__ import annotations

import ast
from pathlib import Path

import syncd

PACKAGE = Path(syncd.__file__).parent

# stage (a module or folder under syncd/) -> syncd modules it must never import
FORBIDDEN: dict[str, set[str]] = {
    "errors": {"*"},
    "org": {"*"},
    "objects": {"*"},
    "yamlsafe": {"*"},
    "dateformat": {"*"},
    "sampleorg": {"*"},
    "markers": {"config", "sources", "store", "mapping", "plan", "targets", "cli", "daemon",
                "cycle"},
    "yamlfile": {"config", "sources", "store", "mapping", "plan", "targets", "cli", "daemon"},
    "yamlmodel": {"config", "sources", "store", "mapping", "plan", "targets", "cli", "daemon"},
    "config": {"sources", "store", "mapping", "plan", "targets", "cli", "daemon", "cycle"},
    "sources": {"store", "mapping", "plan", "targets", "cli", "daemon", "cycle"},
    "store": {"sources", "mapping", "plan", "targets", "cli", "daemon", "cycle"},
    "mapping": {"targets", "plan", "daemon", "cli", "cycle", "sources", "metrics"},
    "plan": {"mapping", "store", "targets", "sources", "cli", "daemon", "cycle", "metrics"},
    "targets": {"mapping", "store", "sources", "cli", "daemon", "cycle"},
    "show": {"sources", "mapping", "plan", "targets", "cycle", "cli", "daemon"},
    "cycle": {"cli", "daemon"},
    "daemon": {"cli", "targets", "mapping", "sources", "plan"},
    "testing": {"*"},
}


def _imports(path: Path) -> set[str]:
    """The syncd stages a module imports (`from syncd import metrics` counts as metrics)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "syncd":
            names.update(f"syncd.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n.split(".")[1] for n in names if n.startswith("syncd.")}


def test_no_stage_imports_downstream():
    offences = []
    for path in PACKAGE.rglob("*.py"):
        stage = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        forbidden = FORBIDDEN.get(stage, set())
        for imported in _imports(path) - {stage}:
            if "*" in forbidden or imported in forbidden:
                offences.append(f"{path.relative_to(PACKAGE)} imports syncd.{imported}")
    assert offences == []


def test_only_tests_and_benchmarks_use_the_test_servers():
    importers = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if path.relative_to(PACKAGE).parts[0] != "testing"
                 and "testing" in _imports(path)]
    assert importers == []


def test_nothing_imports_the_cli():
    importers = [path.name for path in PACKAGE.rglob("*.py")
                 if path.name != "__main__.py" and "cli" in _imports(path)]
    assert importers == []


def test_public_names():
    for name in syncd.__all__:
        assert hasattr(syncd, name), name
