"""Shared fixtures. Every test writes only below ``tmp_path``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    monkeypatch.delenv("SCKB_STORE", raising=False)  # a team store (issue 16): only the tests that ask for one
    monkeypatch.delenv("SCKB_LOCKER", raising=False)
    # pytest-xdist workers run with COLUMNS=80 LINES=24 set: output is laid out as when piped, whatever the runner
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    monkeypatch.setenv("SCKB_CACHE_DIR", str(tmp_path / "_sckb_cache"))


# ------------------------------------------------------------------ the team store (issue 16)
#: The PostgreSQL server the ``postgres`` tests use: a role that may create databases (``sudo tools/start-postgres.sh``
#: makes this one); each test makes its own database and drops it.
PG_ADMIN = os.environ.get("SCKB_TEST_POSTGRES", "postgresql://sckb:sckb@127.0.0.1:5432/postgres")


def pg_url_of(dbname: str) -> str:
    return PG_ADMIN.rpartition("/")[0] + "/" + dbname


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Any]:
    """A connection to the test server; without one the test skips saying how to start it (under
    SCKB_REQUIRE_POSTGRES=1, as in CI, it fails instead)."""
    import psycopg

    try:
        conn = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        why = " ".join(str(exc).split())[:120]
        where = PG_ADMIN.split("@")[-1]
        reason = f"no PostgreSQL server at {where} ({why}): run 'sudo tools/start-postgres.sh' or set SCKB_TEST_POSTGRES"
        if os.environ.get("SCKB_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    yield conn
    conn.close()


@pytest.fixture
def pg_url(pg_admin: Any) -> Iterator[str]:
    """A fresh, empty database for one test, dropped after it."""
    name = f"sckb_test_{uuid.uuid4().hex[:12]}"
    pg_admin.execute(f"CREATE DATABASE {name}")
    yield pg_url_of(name)
    drop_database(pg_admin, name)


def drop_database(admin: Any, name: str) -> None:
    """Drop a test database, ending the sessions still in it (a few tries: a new autovacuum worker may come in)."""
    import time

    import psycopg

    for attempt in range(5):
        try:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            return
        except psycopg.errors.ObjectInUse:
            time.sleep(0.2 * (attempt + 1))
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test on both store engines: the store is configured by the environment, as ``--store`` does
    (``Store.open`` then opens a fresh PostgreSQL database, with its locker in ``tmp_path``)."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        monkeypatch.setenv("SCKB_STORE", url)
        monkeypatch.setenv("SCKB_LOCKER", str(tmp_path / "team-locker"))
    return str(request.param)
