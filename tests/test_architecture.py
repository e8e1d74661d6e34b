"""The package's shape: stages import one way, no cycles, SQL only in the store, no framework in code."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import networkx as nx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import architecture  # noqa: E402

STORE = ROOT / "compliance" / "evidence" / "store"


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    return architecture.import_graph()


def test_stages_import_only_lower_stages(graph: nx.DiGraph) -> None:
    assert architecture.violations(graph) == []


def test_no_import_cycles_lazy_ones_included(graph: nx.DiGraph) -> None:
    assert architecture.cycles(graph) == []


def test_the_checker_sees_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    g = nx.DiGraph([("compliance.kb.load", "compliance.assess.engine"), ("compliance.assess.engine", "compliance.kb.load")])
    for a, b in g.edges:
        g.edges[a, b]["line"] = 1
    assert architecture.violations(g) == [
        "compliance.kb.load (line 1) imports compliance.assess.engine: stage kb may import only nothing"
    ]
    assert architecture.cycles(g) == [["compliance.assess.engine", "compliance.kb.load"]]
    src = "def f():\n    from compliance.assess import engine\nif TYPE_CHECKING:\n    import compliance.site.generate\n"
    tree = ast.parse(src)
    mods = {"compliance.kb.x": tmp_path, "compliance.assess": tmp_path, "compliance.assess.engine": tmp_path,
            "compliance.site.generate": tmp_path}  # fmt: skip
    found = [t for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)
             for t in architecture._targets("compliance.kb.x", tmp_path / "x.py", n, mods)]  # fmt: skip
    assert found == ["compliance.assess.engine", "compliance.site.generate"]


def test_architecture_doc_is_generated_from_the_code(graph: nx.DiGraph) -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert architecture.doc_with_section(text, graph) == text, "run: python tools/architecture.py --write"


def _python_files() -> list[Path]:
    return sorted((ROOT / "compliance").rglob("*.py"))


def _code_strings(tree: ast.AST) -> list[ast.Constant]:
    """String constants that are not docstrings."""
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    return [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


SQL = re.compile(
    r"\b(SELECT\b.+\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|CREATE\s+(TABLE|INDEX|VIEW)|DELETE\s+FROM|UPDATE\s+\w+\s+SET|PRAGMA)\b",
    re.S,
)


EXECUTE = {"execute", "executemany", "executescript"}


def test_no_sql_outside_the_store() -> None:
    problems = []
    for path in _python_files():
        if STORE in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(n.split(".")[0] == "sqlite3" for n in names):
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: imports sqlite3")
        problems += [f"{path.relative_to(ROOT)}:{s.lineno}: SQL" for s in _code_strings(tree) if SQL.search(s.value)]
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]
        problems += [f"{path.relative_to(ROOT)}:{c.lineno}: .{c.func.attr}()" for c in calls if c.func.attr in EXECUTE]
    assert problems == []


def test_no_framework_named_in_code() -> None:
    """Frameworks are data (controls/frameworks.yaml): no framework id in identifiers or strings."""
    ids = [
        f["id"].lower() for f in yaml.safe_load((ROOT / "controls" / "frameworks.yaml").read_text(encoding="utf-8"))["frameworks"]
    ]
    assert "hipaa" in ids
    problems = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        words = [(s.lineno, s.value) for s in _code_strings(tree)]
        words += [(n.lineno, n.id) for n in ast.walk(tree) if isinstance(n, ast.Name)]
        words += [(n.lineno, n.attr) for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
        words += [(n.lineno, n.name) for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        words += [(n.lineno, n.arg) for n in ast.walk(tree) if isinstance(n, ast.arg)]
        problems += [f"{path.relative_to(ROOT)}:{ln}: {w[:60]!r}" for ln, w in words if any(i in w.lower() for i in ids)]
    assert problems == []


def test_only_the_cli_knows_click() -> None:
    problems = []
    for path in _python_files():
        if path.name == "cli.py" and path.parent.name == "compliance":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            problems += [f"{path.relative_to(ROOT)}:{node.lineno}: {n}" for n in names if n.split(".")[0] in {"click", "rich"}]
    assert problems == []
