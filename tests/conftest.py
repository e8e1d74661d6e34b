"""Shared fixtures. Every test writes only below ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis (tests/test_fuzz.py): a few derandomised examples per target by default (make test); `make fuzz`
# picks the long profile with --hypothesis-profile=fuzz. No example database: nothing written beside the tests.
_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]
settings.register_profile("sckb", max_examples=6, deadline=None, database=None, derandomize=True, suppress_health_check=_QUIET)
settings.register_profile("fuzz", max_examples=200, deadline=None, database=None, suppress_health_check=_QUIET)
settings.load_profile("sckb")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True, scope="session")
def _hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Hypothesis caches what it learns from the source in its home folder (`.hypothesis/` in the working
    # folder by default): keep it below pytest's temporary folder like every other write
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))


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
    monkeypatch.setenv("SCKB_CACHE_DIR", str(tmp_path / "_sckb_cache"))
