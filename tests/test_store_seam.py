"""The evidence store is the one owner of the workspace database: no SQL outside its package, no import cycles
in the evidence and assessment stages, no private names imported across modules of the assessment."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from compliance.evidence.store import SQLiteStore, Store

PACKAGE = Path(__file__).resolve().parents[1] / "compliance"
STORE = PACKAGE / "evidence" / "store"


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every absolute import in the file, in-function imports included."""
    out: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out.extend((a.name, []) for a in node.names)
    return out


def test_no_sql_outside_the_store_package() -> None:
    pattern = re.compile(r"sqlite3|\.execute(many|script)?\(|\bPRAGMA\b")
    hits = [
        f"{p.relative_to(PACKAGE)}:{n}"
        for p in PACKAGE.rglob("*.py")
        if not p.is_relative_to(STORE)
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert hits == []


def test_store_open_gives_the_sqlite_engine(tmp_path: Path) -> None:
    with Store.open(tmp_path / "ws") as store:
        assert isinstance(store, SQLiteStore) and isinstance(store, Store)


def test_no_import_cycles_in_evidence_and_assess() -> None:
    files = {_module(p): p for sub in ("evidence", "assess") for p in (PACKAGE / sub).rglob("*.py")}
    edges: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        for target, names in _imports(path):
            edges[mod].update(t for t in (target, *(f"{target}.{n}" for n in names)) if t in files and t != mod)
    seen: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(m: str, trail: list[str]) -> None:
        seen[m] = 1
        for n in sorted(edges[m]):
            assert seen.get(n) != 1, "import cycle: " + " -> ".join([*trail, m, n])
            if n not in seen:
                visit(n, [*trail, m])
        seen[m] = 2

    for m in sorted(files):
        if m not in seen:
            visit(m, [])


def test_assess_modules_import_no_private_names_of_each_other() -> None:
    private = [
        f"{path.name}: {target}.{name}"
        for path in (PACKAGE / "assess").glob("*.py")
        for target, names in _imports(path)
        if target.startswith("compliance.")
        for name in names
        if name.startswith("_")
    ]
    assert private == []
