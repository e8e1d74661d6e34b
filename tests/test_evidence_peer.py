"""A batch shared with peer processes (compliance/evidence/peer.py) gives the store a one-process ingest gives,
row for row, in the same order, with the same per-file results; errors, duplicates, attachments, big files
streamed by the coordinator and ``--strict`` included. A coordinator killed mid-batch takes its peers with it
and leaves only whole files; a peer that dies is a clean store error."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from _evidence import checkov_report, dump
from click.testing import CliRunner

from compliance import kb
from compliance.cli import main as cli
from compliance.errors import StoreError
from compliance.evidence import peer
from compliance.evidence.ingest import Summary, ingest
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
EXAMPLE = ROOT / "examples" / "phi-app" / "evidence"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def mapper() -> Mapper:
    return Mapper(kb.load())


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    """A folder of evidence: the bundled example (an attestation with attachments), the corpus when it is
    beside the checkout, a file twice, bad files and a checkov report big enough for the parsing helper."""
    root = tmp_path / "batch"
    shutil.copytree(EXAMPLE, root / "example")
    if CORPUS.is_dir():
        shutil.copytree(CORPUS, root / "corpus", ignore=shutil.ignore_patterns("MANIFEST.tsv", "FORMATS.md", "*.md"))
    gen = root / "generated"
    gen.mkdir()
    for k in range(6):
        checkov_report(gen / f"scan-{k}.json", 400 + k, tag=str(k), checks=120, stacks=7)
    shutil.copy(gen / "scan-2.json", gen / "scan-2-again.json")  # the same bytes twice: the later in path order is skipped
    checkov_report(gen / "big.json", 6000, tag="big", checks=120, stacks=7)
    (gen / "truncated.json").write_bytes(b'{"check_type": "terraform", "results": {"failed_checks": [{"check_id": ')
    (gen / "junk.bin").write_bytes(bytes(range(256)) * 8)
    return root


def _run(ws: Path, batch: Path, mapper: Mapper, jobs: int, *, strict: bool = False) -> Summary:
    with Store.open(ws) as store:
        summary = ingest(store, [batch], mapper=mapper, now=NOW, jobs=jobs, peer_bytes=0, strict=strict, worker_bytes=1 << 20)
        assert store.verify() == []
    assert not any((ws / "locker" / "tmp").iterdir()), "tmp copies left behind"
    return summary


def test_peers_give_the_one_process_store(tmp_path: Path, batch: Path, mapper: Mapper) -> None:
    one = _run(tmp_path / "one", batch, mapper, 1)
    assert one.errors == 2
    assert [r.skipped for r in one.results if r.path.endswith("/scan-2.json")] == ["already ingested (same SHA-256)"]
    assert any(r.format == "attestation-yaml" for r in one.results)
    assert dump(tmp_path / "one")["attachments"]
    expected = dump(tmp_path / "one")
    for jobs in (2, 3):
        shared = _run(tmp_path / f"jobs{jobs}", batch, mapper, jobs)
        assert [r.as_dict() for r in shared.results] == [r.as_dict() for r in one.results], jobs
        assert dump(tmp_path / f"jobs{jobs}") == expected, jobs


def test_plan_shares_only_small_readable_files() -> None:
    plan = peer.Plan.make([10, 10, 10_000, None, 10, 10], jobs=2, small=1000, min_bytes=0)
    assert plan.owner == [0, -1, -1, -1, 0, -1]
    assert peer.Plan.make([10, 10], jobs=2, small=1000, min_bytes=100).peers == 0  # too little to pay for a peer
    assert peer.Plan.make([10, 10], jobs=1, small=1000, min_bytes=0).peers == 0
    three = peer.Plan.make([1] * 6, jobs=3, small=1000, min_bytes=0)
    assert three.owner == [0, 1, -1, 0, 1, -1]


def test_strict_stops_where_one_process_stops(tmp_path: Path, batch: Path, mapper: Mapper) -> None:
    one = _run(tmp_path / "one", batch, mapper, 1, strict=True)
    two = _run(tmp_path / "two", batch, mapper, 2, strict=True)
    assert one.results[-1].error is not None
    assert [r.as_dict() for r in two.results] == [r.as_dict() for r in one.results]
    assert dump(tmp_path / "two") == dump(tmp_path / "one")


def test_a_dead_peer_is_a_store_error(tmp_path: Path, mapper: Mapper, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(8):
        checkov_report(folder / f"scan-{k}.json", 300, tag=str(k), checks=120, stacks=7)
    done = peer.Peer.done
    calls = {"n": 0}

    def kill_then_wait(self: peer.Peer, index: int) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            self.proc.kill()
            self.proc.wait()
        return done(self, index)

    monkeypatch.setattr(peer.Peer, "done", kill_then_wait)
    with Store.open(tmp_path / "ws") as store:
        with pytest.raises(StoreError, match="peer process ended unexpectedly"):
            ingest(store, [folder], mapper=mapper, now=NOW, jobs=2, peer_bytes=0)
        files = store.files()
        assert 1 <= len(files) < 8 and all(f.findings == 300 for f in files)
        assert store.verify() == []


CHILD = """
import sys
from datetime import datetime, UTC
from pathlib import Path
from compliance.evidence.ingest import ingest
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

with Store.open(Path(sys.argv[1])) as store:
    ingest(store, [Path(sys.argv[2])], mapper=Mapper(None), now=datetime(2026, 11, 30, tzinfo=UTC), jobs=2,
           peer_bytes=0, on_file=lambda r: print("file", flush=True))
print("done", flush=True)
"""


def _peers_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ", 1)[1][0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peers die with their coordinator on Linux")
def test_killing_the_coordinator_stops_its_peers_and_keeps_whole_files(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(40):
        checkov_report(folder / f"scan-{k:02d}.json", 1500, tag=str(k), checks=120, stacks=7)
    ws = tmp_path / "ws"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for attempt in range(3):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(ws), str(folder)], stdout=subprocess.PIPE, env=env, text=True)
        assert child.stdout is not None
        for _ in range(2 + 3 * attempt):
            assert child.stdout.readline().startswith("file")
        peers = _peers_of(child.pid)
        assert peers, "no peer process was started"
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in peers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(p) for p in peers), "a peer outlived its coordinator"
        conn = sqlite3.connect(ws / "evidence.db")
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
        with Store.open(ws) as store:
            assert all(f.findings == 1500 for f in store.files())
            assert store.verify() == []
    subprocess.run([sys.executable, "-c", CHILD, str(ws), str(folder)], check=True, env=env, capture_output=True)
    with Store.open(ws) as store:
        assert sorted(f.name for f in store.files()) == sorted(str(p) for p in folder.iterdir())
        assert store.verify() == [] and store.locker_orphans() == []


def test_cli_jobs_option(tmp_path: Path, runner: CliRunner) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(3):
        checkov_report(folder / f"scan-{k}.json", 50, tag=str(k), checks=120, stacks=7)
    one = runner.invoke(cli, ["--workspace", str(tmp_path / "a"), "evidence", "ingest", "--jobs", "1", "--json", str(folder)])
    two = runner.invoke(cli, ["--workspace", str(tmp_path / "b"), "evidence", "ingest", "--jobs", "2", "--json", str(folder)])
    assert one.exit_code == 0 and two.exit_code == 0, (one.output, two.output)
    assert orjson.loads(one.output) == orjson.loads(two.output)
    bad = runner.invoke(cli, ["--workspace", str(tmp_path / "c"), "evidence", "ingest", "--jobs", "0", str(folder)])
    assert bad.exit_code == 2


def test_no_peer_can_start_so_one_process_ingests(tmp_path: Path, mapper: Mapper, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(4):
        checkov_report(folder / f"scan-{k}.json", 20, tag=str(k), checks=120, stacks=7)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    with pytest.raises(OSError):
        peer.Peer(peer.Settings(str(tmp_path / "ws"), mapper, NOW, 1 << 30, None, os.getpid()))
    with Store.open(tmp_path / "ws") as store:
        summary = ingest(store, [folder], mapper=mapper, now=NOW, jobs=2, peer_bytes=0)
        assert summary.files == 4 and summary.findings == 80
        assert store.verify() == []
