"""Big files are parsed by a helper process (compliance/evidence/worker.py): the store it leads to is the
same, row for row, as an in-process parse gives, errors included, and a helper that dies costs nothing stored."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from _evidence import dump

from compliance.errors import StoreError
from compliance.evidence.ingest import Ingester
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.parent != CORPUS and not p.name.startswith("."))


def _ingest(ws: Path, files: list[Path], worker_bytes: int, threshold: int = 1 << 30) -> list[tuple[str | None, str | None]]:
    with Store.open(ws) as store:
        ing = Ingester(store, Mapper(None), NOW, worker_bytes=worker_bytes, stream_threshold=threshold)
        try:
            out = []
            for f in files:
                res = ing.ingest_file(f, display=f.name)
                out.append((res.error, res.skipped))
            assert store.verify() == []
            return out
        finally:
            ing.close()


@pytest.mark.parametrize("threshold", [1 << 30, 0], ids=["whole", "stream"])
def test_helper_parse_stores_the_same_rows(tmp_path: Path, threshold: int) -> None:
    files = _corpus_files()
    if not files:
        pytest.skip("../shared/corpus is not beside the checkout")
    here = _ingest(tmp_path / "here", files, 1 << 40, threshold)
    helper = _ingest(tmp_path / "helper", files, 0, threshold)
    assert helper == here
    assert sum(1 for e, _ in here if e is None) > 20
    a, b = dump(tmp_path / "here"), dump(tmp_path / "helper")
    assert len(a["observations"]) > 1000
    assert a == b


def _sarif(results: list[object]) -> bytes:
    run = {"tool": {"driver": {"name": "semgrep", "rules": [{"id": "r1"}]}}, "results": results}
    return orjson.dumps({"version": "2.1.0", "runs": [run]})


def test_helper_errors_are_the_in_process_errors(tmp_path: Path) -> None:
    good = {"ruleId": "r1", "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"}}}]}
    bad = tmp_path / "bad.sarif"
    bad.write_bytes(_sarif([good] * 3000 + [7]))  # a result that is not an object, after some batches
    odd = tmp_path / "odd.sarif"
    odd.write_bytes(_sarif([{**good, "locations": [{"physicalLocation": 5}]}]))  # a shape the parser trips over
    here = _ingest(tmp_path / "here", [bad, odd], 1 << 40)
    helper = _ingest(tmp_path / "helper", [bad, odd], 0)
    assert helper == here
    assert here[0][0] is not None and "/runs/0/results/3000" in here[0][0]
    assert here[1][0] is not None and "unexpected content" in here[1][0]
    assert dump(tmp_path / "helper")["observations"] == []


def test_a_dead_helper_stores_nothing(tmp_path: Path) -> None:
    good = {"ruleId": "r1", "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"}}}]}
    first, second = tmp_path / "one.sarif", tmp_path / "two.sarif"
    first.write_bytes(_sarif([good]))
    second.write_bytes(_sarif([{**good, "ruleId": "r2"}] * 5))
    with Store.open(tmp_path / "ws") as store:
        ing = Ingester(store, Mapper(None), NOW, worker_bytes=0)
        try:
            assert ing.ingest_file(first).error is None
            assert ing._worker is not None
            os.kill(ing._worker.pid, signal.SIGKILL)
            with pytest.raises(StoreError, match="helper process ended"):
                ing.ingest_file(second)
            assert store.counts()["observations"] == 1 and store.verify() == []
            assert ing.ingest_file(second).error is None  # a new helper takes over
            assert store.counts()["observations"] == 6
        finally:
            ing.close()


KILLED = """
import sys, threading, time
from datetime import datetime, UTC
from pathlib import Path
from compliance.evidence.ingest import Ingester
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

lock = threading.Lock()

def busy():  # a thread that holds a lock most of the time, as a progress bar's refresh thread may
    while True:
        with lock:
            time.sleep(0.001)

threading.Thread(target=busy, daemon=True).start()
with Store.open(Path(sys.argv[1])) as store:
    ing = Ingester(store, Mapper(None), datetime(2026, 11, 30, tzinfo=UTC), worker_bytes=0)
    def progress(n):
        print("batch", ing._worker.pid if ing._worker else 0, flush=True)
    ing.ingest_file(Path(sys.argv[2]), on_progress=progress)
print("done", flush=True)
"""


def _gone(pid: int) -> bool:
    """The process has ended (a zombie waiting for its new parent to reap it counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_killed_ingest_leaves_no_helper_alive(tmp_path: Path) -> None:
    """SIGKILL the ingesting process (which runs a thread) mid-file, many times: its helper is gone within a
    second every time, and it is a fresh interpreter, not a fork of a threaded process."""
    import random
    import subprocess
    import sys
    import time

    from _evidence import checkov_report

    big = tmp_path / "big.json"
    checkov_report(big, 20_000)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    rng = random.Random(25)
    survivors = 0
    for trial in range(8):
        child = subprocess.Popen(
            [sys.executable, "-c", KILLED, str(tmp_path / f"ws{trial}"), str(big)], stdout=subprocess.PIPE, env=env, text=True
        )
        assert child.stdout is not None
        helper = int(child.stdout.readline().split()[1])
        cmdline = Path(f"/proc/{helper}/cmdline").read_bytes().split(b"\0")
        assert b"compliance.evidence.worker" in cmdline, cmdline
        time.sleep(rng.uniform(0, 0.1))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        deadline = time.monotonic() + 1.0
        while not _gone(helper) and time.monotonic() < deadline:
            time.sleep(0.01)
        survivors += not _gone(helper)
    assert survivors == 0
