"""The evidence store's seam: ``Store.open`` gives the SQLite engine, and the assessment's modules import no
private names of each other. (No SQL outside the store, and no import cycle anywhere: test_architecture.py.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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


def test_store_open_gives_the_sqlite_engine(tmp_path: Path) -> None:
    with Store.open(tmp_path / "ws") as store:
        assert isinstance(store, SQLiteStore) and isinstance(store, Store)


@pytest.mark.postgres
def test_a_store_url_gives_the_postgres_engine(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance.evidence.store.postgres import PostgresStore

    monkeypatch.setenv("SCKB_STORE", pg_url)
    monkeypatch.setenv("SCKB_LOCKER", str(tmp_path / "locker"))
    with Store.open(tmp_path / "ws") as store:
        assert isinstance(store, PostgresStore) and store.locker == tmp_path / "locker"
        assert store.counts()["files"] == 0 and not (tmp_path / "ws").exists()


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
