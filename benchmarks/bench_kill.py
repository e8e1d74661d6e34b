"""Crash safety at scale (issue 25): SIGKILL a large ``sckb evidence ingest`` at seeded random moments.

The batch is big enough to start every kind of process an ingest has: a parsing helper (one file over 8 MB,
compliance/evidence/worker.py) and peers (smaller files adding up to over 32 MB, compliance/evidence/peer.py).
Each trial ingests into a fresh workspace in a process group of its own and kills the ingesting process at a
moment drawn from a seeded generator between its start and the time a clean ingest takes. Then:

- survivors: a process of that ingest's group still alive one second later (the goal is none);
- ``evidence verify`` passes and ``PRAGMA integrity_check`` is ok;
- no partial file: every file in the store has exactly the findings the clean ingest gave it;
- a rerun completes to the same store, row for row, as the clean ingest.

``SCKB_BENCH_KILLS`` sets the number of trials (default 50), ``SCKB_BENCH_KILL_SEED`` the seed (default 25).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from _util import ROOT, report

KILLS = int(os.environ.get("SCKB_BENCH_KILLS", "50"))
SEED = int(os.environ.get("SCKB_BENCH_KILL_SEED", "25"))
NOW = "2026-11-30T09:00:00Z"


def checkov(path: Path, n: int, tag: str) -> None:
    recs = [
        {"check_id": f"CKV_AWS_{i % 300}", "check_name": "a generated check", "check_result": {"result": "FAILED"},
         "resource": f"AWS::Lambda::Function.Fn{tag}{i}", "file_path": f"/stack{i % 50}/template.yaml",
         "file_line_range": [i % 900 + 1, i % 900 + 20]}
        for i in range(n)
    ]  # fmt: skip
    doc = {"check_type": "cloudformation", "results": {"failed_checks": recs}, "summary": {"checkov_version": "3"}}
    path.write_bytes(orjson.dumps(doc))


def batch(folder: Path) -> None:
    from compliance.evidence.ingest import PEER_BYTES, WORKER_BYTES

    folder.mkdir()
    checkov(folder / "a-big.json", 50_000, "big")  # over WORKER_BYTES: the parsing helper
    for i in range(45):  # about 0.8 MB each, over PEER_BYTES together: peers share them
        checkov(folder / f"b-{i:02}.json", 4_000, f"s{i}")
    small = sum(p.stat().st_size for p in folder.glob("b-*.json"))
    assert (folder / "a-big.json").stat().st_size >= WORKER_BYTES and small >= PEER_BYTES, "the batch would not start them"


def start(ws: Path, folder: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "compliance.cli", "--workspace", str(ws), "--now", NOW, "evidence", "ingest", str(folder)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)


def group(pgid: int) -> list[int]:
    """Live processes (not zombies) of process group ``pgid``."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            out.append(int(d.name))
    return out


def state(ws: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(ws / "evidence.db")
    try:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall()
            for t in ("files", "observations", "identities", "coverage")
        }
    finally:
        conn.close()


def findings_per_file(ws: Path) -> dict[str, int]:
    from compliance.evidence.store import Store

    with Store.open(ws, create=False) as store:
        return {f.sha256: f.findings for f in store.files()}


def main() -> None:
    if not Path("/proc/self/stat").exists():
        print("bench_kill: needs Linux /proc; skipped")
        return
    from compliance.evidence.store import Store

    with tempfile.TemporaryDirectory(prefix="sckb-bench-kill-") as tmp:
        root = Path(tmp)
        batch(root / "in")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "SCKB_CACHE_DIR": str(root / "cache")}
        assert start(root / "warm", root / "in", env).wait() == 0  # fills the KB cache, as every later run finds it
        t0 = time.perf_counter()
        clean = start(root / "clean", root / "in", env)
        assert clean.wait() == 0
        took = time.perf_counter() - t0
        expected, expected_files = state(root / "clean"), findings_per_file(root / "clean")
        report("clean ingest of the batch", took, "s")
        rng = random.Random(SEED)
        clean_runs = survivors = mid = 0
        problems: list[str] = []
        for k in range(KILLS):
            print(f"   trial {k + 1}/{KILLS}", end="\r", flush=True)
            ws = root / f"ws{k}"
            proc = start(ws, root / "in", env)
            time.sleep(rng.uniform(0, took))
            finished = proc.poll() is not None
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            time.sleep(1.0)
            alive = group(proc.pid)
            survivors += len(alive)
            for pid in alive:  # ours: end them so the next trial starts clean
                os.kill(pid, signal.SIGKILL)
            ok = not alive
            if (ws / "evidence.db").exists():
                mid += not finished
                conn = sqlite3.connect(ws / "evidence.db")
                integrity = conn.execute("PRAGMA integrity_check").fetchone()
                conn.close()
                with Store.open(ws, create=False) as store:
                    verify = store.verify()
                partial = {s: n for s, n in findings_per_file(ws).items() if expected_files.get(s) != n}
                if integrity != ("ok",) or verify or partial:
                    ok = False
                    problems.append(f"trial {k}: integrity {integrity}, verify {verify[:2]}, partial files {partial}")
            rerun = start(ws, root / "in", env)
            if rerun.wait() != 0 or state(ws) != expected:
                ok = False
                problems.append(f"trial {k}: the rerun did not end in the clean ingest's store")
            clean_runs += ok
        for p in problems[:10]:
            print(f"   {p}")
        report(f"kill -9 trials clean ({mid} killed mid-ingest)", clean_runs, f"of {KILLS}", goal=f"{KILLS} of {KILLS}")
        report("processes alive 1 s after the kill", survivors, "survivors", goal="0")


if __name__ == "__main__":
    main()
