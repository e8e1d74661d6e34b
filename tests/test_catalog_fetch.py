"""``sckb catalog fetch`` and ``catalog import --profile`` (issue 23): the official catalog and a FedRAMP
profile, checked against pinned SHA-256 values, served here by a local HTTP server in a thread from the
copies in ../shared/oscal (the same bytes as published; the network is never used)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from compliance.assess.catalog import statements
from compliance.cli import main
from compliance.oscal.catalog import sources

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "oscal"
CATALOG = SHARED / "nist" / "NIST_SP-800-53_rev5_catalog.json"
MODERATE = SHARED / "fedramp" / "FedRAMP_rev5_MODERATE-baseline_profile.json"
LOW = SHARED / "fedramp" / "FedRAMP_rev5_LOW-baseline_profile.json"

pytestmark = pytest.mark.skipif(not CATALOG.is_file(), reason="../shared/oscal is not beside the checkout")


def sckb(ws: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--workspace", str(ws), "--now", "2026-12-01T00:00:00Z", *args])


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
        pass


@pytest.fixture
def serve() -> Iterator[Any]:
    """serve(folder) -> the base URL of an HTTP server on 127.0.0.1 serving that folder (stopped after the test)."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(folder: Path) -> str:
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def _mirror(tmp_path: Path, *files: Path) -> Path:
    folder = tmp_path / "mirror"
    folder.mkdir()
    for f in files:
        (folder / f.name).symlink_to(f)
    return folder


def test_the_pinned_hashes_are_those_of_the_official_copies() -> None:
    src = sources()
    assert src.catalog.url.startswith("https://raw.githubusercontent.com/usnistgov/oscal-content/")
    assert hashlib.sha256(CATALOG.read_bytes()).hexdigest() == src.catalog.sha256
    assert CATALOG.stat().st_size == src.catalog.size
    assert set(src.profiles) == {"low", "moderate", "high", "li-saas"}
    for item in src.profiles.values():
        assert item.url.startswith("https://raw.githubusercontent.com/GSA/fedramp-automation/")
        assert item.url.endswith("/" + item.name)
        copy = SHARED / "fedramp" / item.name
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == item.sha256


def test_fetch_checks_and_imports_with_the_fedramp_values(tmp_path: Path, serve: Any) -> None:
    url = serve(_mirror(tmp_path, CATALOG, MODERATE))
    ws, keep = tmp_path / "ws", tmp_path / "keep"
    r = sckb(ws, "catalog", "fetch", "--mirror", url, "--save", str(keep), "--json")
    assert r.exit_code == 0, r.output
    info = orjson.loads(r.stdout)
    assert info["controls"] == 1196 and info["parameters"] == 236
    assert info["catalog"] == sources().catalog.url  # reports the official location it stands for
    got = statements(ws)
    # AC-2 h.1: NIST leaves the time open; FedRAMP Moderate sets it, marked as the profile's value
    assert "[FedRAMP Rev 5 Moderate Baseline: twenty-four (24) hours] when accounts are no longer required" in got["AC-2"]
    assert "[Assignment: prerequisites and criteria]" in got["AC-2"]  # a parameter FedRAMP leaves open stays NIST's
    # a selection FedRAMP makes replaces NIST's choices; the assignment beside it stays open
    assert got["SC-28"].startswith("Protect the [FedRAMP Rev 5 Moderate Baseline: confidentiality AND integrity] of")
    assert got["SC-28"].endswith("[Assignment: information at rest].")
    # --save keeps the downloads under their official names, byte for byte
    assert (keep / CATALOG.name).read_bytes() == CATALOG.read_bytes()
    assert (keep / MODERATE.name).read_bytes() == MODERATE.read_bytes()


def test_fetch_without_a_profile_keeps_nist_text(tmp_path: Path, serve: Any) -> None:
    url = serve(_mirror(tmp_path, CATALOG))
    r = sckb(tmp_path / "ws", "catalog", "fetch", "--mirror", url, "--baseline", "none")
    assert r.exit_code == 0, r.output
    assert "[Assignment: time period]" in statements(tmp_path / "ws")["AC-2"]
    assert not any("FedRAMP" in s for s in statements(tmp_path / "ws").values())


def test_a_download_with_another_hash_is_refused_and_nothing_is_lost(tmp_path: Path, serve: Any) -> None:
    ws = tmp_path / "ws"
    assert sckb(ws, "catalog", "import", str(CATALOG)).exit_code == 0
    before = statements(ws)
    folder = tmp_path / "tampered"
    folder.mkdir()
    (folder / CATALOG.name).write_bytes(CATALOG.read_bytes().replace(b"Account Management", b"Account Mismanagement", 1))
    r = sckb(ws, "catalog", "fetch", "--mirror", serve(folder), "--baseline", "none")
    assert r.exit_code == 3
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.output
    assert CATALOG.name in lines[0] and f"is not the pinned {sources().catalog.sha256}" in lines[0]
    assert "refused, nothing imported" in lines[0]
    assert statements(ws) == before


def test_offline_fails_in_one_line_naming_the_url_and_the_way_out(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on: the connection is refused, as offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = sckb(tmp_path / "ws", "catalog", "fetch", "--mirror", f"http://127.0.0.1:{port}", "--timeout", "5")
    assert r.exit_code == 6
    lines = r.output.strip().splitlines()
    assert len(lines) == 1
    assert f"http://127.0.0.1:{port}/{CATALOG.name}" in lines[0] and "sckb catalog import FILE" in lines[0]
    assert not (tmp_path / "ws" / "evidence.db").exists() or statements(tmp_path / "ws") == {}


def test_import_with_a_profile_marks_that_profiles_values(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    r = sckb(ws, "catalog", "import", str(CATALOG), "--profile", str(LOW), "--json")
    assert r.exit_code == 0, r.output
    assert orjson.loads(r.stdout)["parameters"] > 0
    ac1 = statements(ws)["AC-1"]
    assert "[FedRAMP Rev 5 Low Baseline: at least every 3 years]" in ac1
    assert "Moderate" not in ac1
    bad = tmp_path / "not-a-profile.json"
    bad.write_text("[1, 2]")
    r = sckb(ws, "catalog", "import", str(CATALOG), "--profile", str(bad))
    assert r.exit_code == 3 and "not-a-profile.json" in r.output and "Traceback" not in r.output
    assert statements(ws)["AC-1"] == ac1  # the refused import changed nothing
