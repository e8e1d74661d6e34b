"""Shared fixtures. Every test writes only below ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the checkout")
    return SHARED


@pytest.fixture(autouse=True)
def _isolate_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # no overlay or workspace from the developer's shell leaks into tests
    monkeypatch.delenv("SCKB_KB", raising=False)
    monkeypatch.delenv("SCKB_WORKSPACE", raising=False)
    monkeypatch.delenv("SCKB_STORE", raising=False)  # a team store (issue 16): only the tests that ask for one
    monkeypatch.delenv("SCKB_LOCKER", raising=False)
    monkeypatch.setenv("SCKB_CACHE_DIR", str(tmp_path / "_sckb_cache"))
