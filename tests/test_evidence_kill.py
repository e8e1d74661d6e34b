"""Ingesting one file is atomic: SIGKILL an ingest subprocess mid-file, many times; the database stays sound
(PRAGMA integrity_check), every earlier ingest is intact, and verify passes. Then the same file ingests fully."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from _evidence import checkov_report

from compliance.evidence.ingest import Ingester
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

CHILD = """
import sys
from datetime import datetime, UTC
from pathlib import Path
from compliance.evidence.ingest import Ingester
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

def progress(n):
    print("batch", flush=True)

with Store.open(Path(sys.argv[1])) as store:
    res = Ingester(store, Mapper(None), datetime(2026, 11, 30, tzinfo=UTC)).ingest_file(Path(sys.argv[2]), on_progress=progress)
print("done", res.error, flush=True)
"""


def test_sigkill_mid_file_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    small = tmp_path / "earlier.json"
    checkov_report(small, 25)
    with Store.open(ws) as store:
        assert Ingester(store, Mapper(None), datetime(2026, 11, 29, tzinfo=UTC)).ingest_file(small).failed == 25
        before_files = [f.as_dict() for f in store.files()]
        before_rows = list(store.conn.execute("SELECT * FROM observations ORDER BY id"))
        before_ids = list(store.conn.execute("SELECT * FROM identities ORDER BY identity"))
    big = tmp_path / "big.json"
    checkov_report(big, 20_000)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    rng = random.Random(4)
    killed_mid_file = 0
    for _ in range(20):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(ws), str(big)], stdout=subprocess.PIPE, env=env, text=True)
        assert child.stdout is not None
        line = child.stdout.readline()  # the first batch of the file is in the open transaction
        if line.startswith("batch"):
            time.sleep(rng.uniform(0, 0.12))
            killed_mid_file += child.poll() is None
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        conn = sqlite3.connect(ws / "evidence.db")
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
        with Store.open(ws) as store:
            assert [f.as_dict() for f in store.files()] == before_files
            assert list(store.conn.execute("SELECT * FROM observations ORDER BY id")) == before_rows
            assert list(store.conn.execute("SELECT * FROM identities ORDER BY identity")) == before_ids
            assert store.verify() == []
    assert killed_mid_file >= 10  # most kills landed inside the file's transaction
    done = subprocess.run([sys.executable, "-c", CHILD, str(ws), str(big)], capture_output=True, env=env, text=True, check=True)
    assert done.stdout.strip().endswith("done None")
    with Store.open(ws) as store:
        assert [f.findings for f in store.files()] == [25, 20_000]
        assert store.verify() == []
        assert store.locker_orphans() == []
