"""Ingests at once on one workspace: one at a time holds the workspace lock, the others wait and then find
the files already in; the store ends as one ingest of the same files leaves it. Temp copies are cleaned only
by their owner or once their owner has ended."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _evidence import checkov_report, dump
from click.testing import CliRunner

from compliance.cli import main
from compliance.errors import StoreError
from compliance.evidence.ingest import workspace_lock
from compliance.evidence.store import Store

ROOT = Path(__file__).resolve().parents[1]
NOW = ["--now", "2026-11-30T09:00:00Z"]


def _evidence(folder: Path) -> Path:
    folder.mkdir()
    for i in range(6):
        checkov_report(folder / f"scan-{i}.json", 400, tag=f"t{i}")
    for name in ("bandit.json", "semgrep.json", "cfn-lint.sarif"):
        (folder / name).write_bytes((ROOT / "examples" / "phi-app" / "evidence" / name).read_bytes())
    return folder


def _sckb(ws: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "compliance.cli", "--workspace", str(ws), *NOW, "evidence", "ingest", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip


def test_four_ingests_at_once_end_as_one(tmp_path: Path, runner: CliRunner) -> None:
    folder = _evidence(tmp_path / "evidence")
    alone = tmp_path / "alone"
    r = runner.invoke(main, ["--workspace", str(alone), *NOW, "evidence", "ingest", str(folder)])
    assert r.exit_code == 0, r.output
    expected = dump(alone)
    for trial in range(3):
        ws = tmp_path / f"ws{trial}"
        procs = [_sckb(ws, str(folder), "--jobs", "1") for _ in range(4)]
        outs = [p.communicate(timeout=300) for p in procs]
        for p, (_out, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err
            assert "internal error" not in err and "Traceback" not in err
            assert all(ln.startswith("sckb: ") and "waiting up to 60 s" in ln for ln in err.splitlines()), err
        assert dump(ws) == expected
        assert sum("9 files" in out for out, _ in outs) == 1  # one run ingested them, the others skipped them
        with Store.open(ws) as store:
            assert store.verify() == []
            assert store.locker_orphans() == []
        assert list((ws / "locker" / "tmp").iterdir()) == []


def test_wait_bound_then_exit_5(tmp_path: Path, runner: CliRunner) -> None:
    folder = _evidence(tmp_path / "evidence")
    ws = tmp_path / "ws"
    with workspace_lock(ws):
        start = time.monotonic()
        r = runner.invoke(main, ["--workspace", str(ws), *NOW, "evidence", "ingest", str(folder), "--wait", "0.5"])
        took = time.monotonic() - start
    assert r.exit_code == 5, r.output
    lines = r.stderr.strip().splitlines()
    assert "another ingest is running on this workspace; waiting up to 0.5 s" in lines[0]
    assert lines[-1].startswith("sckb: error:") and "another ingest is still running" in lines[-1] and "--wait" in lines[-1]
    assert took < 30
    with Store.open(ws) as store:
        assert store.files() == []


def test_lock_is_released_when_the_holder_dies(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    code = "import sys, time; from pathlib import Path; from compliance.evidence.ingest import workspace_lock\n"
    code += "with workspace_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)\n"
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(ws)], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(StoreError), workspace_lock(ws, wait=0.2):
        pass
    holder.kill()
    holder.wait()
    holder.stdout.close()
    with workspace_lock(ws, wait=5):
        pass


def test_stale_tmp_copies_go_live_ones_stay(tmp_path: Path) -> None:
    """Only copies whose owning process has ended are removed (it used to remove every copy, a running
    ingest's included)."""
    ws = tmp_path / "ws"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    with Store.open(ws) as store:
        tmp = store.tmp_dir()
        live = [tmp / f"{os.getpid()}-1", tmp / f"triage-{os.getpid()}-x.yaml", tmp / "no-owner"]
        stale = [tmp / f"{dead_pid}-3", tmp / f"{dead_pid}-4-abc", tmp / f"triage-{dead_pid}-y.yaml"]
        for p in live + stale:
            p.write_bytes(b"x")
        assert sorted(store.clean_stale_tmp()) == sorted(stale)
        assert sorted(tmp.iterdir()) == sorted(live)
