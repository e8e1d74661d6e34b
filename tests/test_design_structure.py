"""The design stage's import rules: it reads only the KB, the evidence store and the shared basics, its modules
import one way (no cycle, lazy imports included), and nothing hides an import behind TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import compliance.design

DESIGN = Path(compliance.design.__file__).resolve().parent
ALLOWED = (
    "compliance.design",
    "compliance.kb",
    "compliance.evidence",
    "compliance.errors",
    "compliance.paths",
    "compliance.vocab",
)


def _imports(path: Path) -> list[str]:
    """Every ``compliance`` module a file imports, at any depth (in-function imports included)."""
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("compliance"):
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out.extend(a.name for a in node.names if a.name.startswith("compliance"))
    return out


def test_design_imports_only_allowed_stages() -> None:
    for path in sorted(DESIGN.glob("*.py")):
        for mod in _imports(path):
            # the package root only gives __version__ (for SARIF's driver)
            assert mod == "compliance" or mod.startswith(ALLOWED), f"{path.name} imports {mod}"


def test_design_modules_import_one_way() -> None:
    g = nx.DiGraph()
    for path in sorted(DESIGN.glob("*.py")):
        g.add_node(path.stem)
        for mod in _imports(path):
            if mod.startswith("compliance.design."):
                g.add_edge(path.stem, mod.rsplit(".", 1)[1])
    assert list(nx.simple_cycles(g)) == []
    assert not nx.has_path(g, "attack", "check")


def test_no_type_checking_imports_in_design() -> None:
    for path in sorted(DESIGN.glob("*.py")):
        assert "TYPE_CHECKING" not in path.read_text(encoding="utf-8"), path.name
