"""Module layering: no import cycles in ``kb/`` and ``site/`` (in-function imports included), and the three
renderers (``oscal``, ``report``, ``site``) never import one another."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "compliance"


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module(p): p for p in PKG.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """Every compliance module ``path`` imports, at the top or inside a function (TYPE_CHECKING too)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in MODULES else node.module)
    return {m for m in out if m in MODULES}


def _graph(prefixes: tuple[str, ...]) -> nx.DiGraph:
    g: nx.DiGraph = nx.DiGraph()
    for mod, path in MODULES.items():
        if mod.startswith(prefixes):
            g.add_node(mod)
            g.add_edges_from((mod, m) for m in _imports(path) if m.startswith(prefixes) and m != mod)
    return g


@pytest.mark.parametrize("package", ["compliance.kb", "compliance.site"])
def test_no_import_cycles(package: str) -> None:
    # the package's __init__ re-exports its modules; a module importing a sibling through the package
    # (``from compliance.kb import query``) is resolved to the sibling, so the package node is left out
    g = _graph((package + ".",))
    cycles = list(nx.simple_cycles(g))
    assert not cycles, cycles


ALLOWED = {
    "site": {"kb", "evidence", "assess", "errors", "paths", "vocab", "site"},
    "oscal": {"kb", "evidence", "assess", "errors", "paths", "vocab", "oscal"},
    "report": {"kb", "evidence", "assess", "errors", "paths", "vocab", "report", ""},  # "": compliance.__version__
}


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_renderers_import_only_lower_stages(stage: str) -> None:
    for mod, path in MODULES.items():
        if mod == f"compliance.{stage}" or mod.startswith(f"compliance.{stage}."):
            stages = {m.removeprefix("compliance").lstrip(".").split(".")[0] for m in _imports(path)}
            assert stages <= ALLOWED[stage], f"{mod} imports {sorted(stages - ALLOWED[stage])}"
