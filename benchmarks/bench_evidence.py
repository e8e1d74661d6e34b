"""Evidence ingest benchmark (issue 4).

Generates >= 1,000,000 findings from real corpus shapes into a temp folder (override with
``SCKB_BENCH_FINDINGS``):

- many SARIF files (the results of a real semgrep SARIF, repeated with distinct locations), parsed whole;
- one big checkov JSON (real failed/passed check records, distinct resources), larger than the streaming
  threshold, so it is streamed (runs of whole records parsed by orjson) and never held whole in memory.

Each part is ingested by ``sckb evidence ingest`` in a child process (KB mapping included, KB load excluded
by timing the ingest inside the child). Figures: findings/s against a bare ``orjson.loads`` of the same
bytes, and the child's peak RSS (``os.wait4``, which covers the processes the child waited for: the parsing
helper that prepares files of 8 MB and more, compliance/evidence/worker.py, and the peer processes that share
a batch of smaller files, compliance/evidence/peer.py; the figure is the largest of them). The ingest uses
every core it has (at most 4): figures taken while other work keeps a core busy are lower.
Goals: >= 50,000 findings/s, >= 33% of the bare-parse rate,
peak RSS < 500 MB however large the input.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from _util import ROOT, SHARED, report

CORPUS = SHARED / "corpus"
TOTAL = int(os.environ.get("SCKB_BENCH_FINDINGS", "1000000"))

CHILD = """
import sys, time
from datetime import datetime, UTC
from pathlib import Path
from compliance import kb
from compliance.evidence.ingest import ingest
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

mapper = Mapper(kb.load())
with Store.open(Path(sys.argv[1])) as store:
    t0 = time.perf_counter()
    summary = ingest(store, [Path(p) for p in sys.argv[2:]], mapper=mapper, now=datetime(2026, 11, 30, tzinfo=UTC))
    dt = time.perf_counter() - t0
assert summary.errors == 0, [r.error for r in summary.results if r.error]
print(summary.findings, dt, summary.mapped)
"""


def sarif_files(folder: Path, n_findings: int, per_file: int = 5000) -> list[Path]:
    src = orjson.loads((CORPUS / "semgrep-sarif" / "tf-aws-lambda__semgrep.sarif").read_bytes())
    run = src["runs"][0]
    results = run["results"]
    paths = []
    made = 0
    k = 0
    while made < n_findings:
        batch = []
        for i in range(min(per_file, n_findings - made)):
            r = copy.deepcopy(results[i % len(results)])
            loc = r["locations"][0]["physicalLocation"]
            # a scan of one service: its findings spread over a few dozen source files, as real scans do
            loc["artifactLocation"]["uri"] = f"svc{k}/mod{i % 40}/{loc['artifactLocation']['uri']}"
            loc["region"]["startLine"] = i + 1
            batch.append(r)
        doc = {**src, "runs": [{**run, "results": batch}]}
        p = folder / f"scan-{k:04d}.sarif"
        p.write_bytes(orjson.dumps(doc))
        paths.append(p)
        made += len(batch)
        k += 1
    return paths


def checkov_file(folder: Path, n_findings: int) -> Path:
    src = orjson.loads((CORPUS / "checkov-json" / "dvsa__results_json.json").read_bytes())
    failed, passed = src["results"]["failed_checks"], src["results"]["passed_checks"]
    p = folder / "big-checkov.json"
    with p.open("wb") as f:  # written record by record: the generator does not hold the file either
        f.write(b'{"check_type": "cloudformation", "results": {')
        for key, pool, share in (("failed_checks", failed, 0.6), ("passed_checks", passed, 0.4)):
            count = int(n_findings * share)
            f.write(orjson.dumps(key) + b": [")
            for i in range(count):
                rec = dict(pool[i % len(pool)])
                rec["resource"] = f"{rec['resource']}{i}"
                rec["file_path"] = f"/stack{i % 211}/template.yml"
                f.write((b"," if i else b"") + orjson.dumps(rec))
            f.write(b"], ")
        f.write(b'"skipped_checks": [], "parsing_errors": []}, "summary": ' + orjson.dumps(src["summary"]) + b"}")
    return p


def run_child(workspace: Path, paths: list[Path]) -> tuple[int, float, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(workspace), *map(str, paths)], stdout=subprocess.PIPE, env=env, cwd=ROOT
    )
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    if proc.returncode != 0:
        raise SystemExit(f"ingest child failed ({proc.returncode})")
    n, dt, _mapped = out.split()
    return int(n), float(dt), usage.ru_maxrss / 1024


def bare_parse(paths: list[Path]) -> float:
    t0 = time.perf_counter()
    for p in paths:
        orjson.loads(p.read_bytes())
    return time.perf_counter() - t0


def main() -> None:
    if not CORPUS.is_dir():
        print("bench_evidence: ../shared/corpus not found; skipped")
        return
    with tempfile.TemporaryDirectory(prefix="sckb-bench-evidence-") as tmp:
        root = Path(tmp)
        (root / "sarif").mkdir()
        half = TOTAL // 2
        sarifs = sarif_files(root / "sarif", half)
        big = checkov_file(root, TOTAL - half)
        size_mb = big.stat().st_size / 1e6
        figures = {}
        for label, paths in (("many SARIF files", sarifs), (f"one {size_mb:.0f} MB checkov JSON (streamed)", [big])):
            n, dt, rss = run_child(root / f"ws-{len(figures)}", paths)
            bare = bare_parse(paths)
            figures[label] = (n, dt, rss, bare)
            report(f"ingest {label}: {n:,} findings", n / dt, "findings/s", baseline=n / bare, baseline_name="bare orjson.loads")
            report(f"peak RSS, {label}", rss, "MB", goal="< 500 MB")
        n = sum(f[0] for f in figures.values())
        dt = sum(f[1] for f in figures.values())
        bare = sum(f[3] for f in figures.values())
        rss = max(f[2] for f in figures.values())
        report(f"ingest total: {n:,} findings", n / dt, "findings/s", goal=">= 50,000 findings/s")
        report("ingest rate / bare orjson.loads rate", (n / dt) / (n / bare), "ratio", goal=">= 0.33")
        report("peak RSS of any ingest", rss, "MB", goal="< 500 MB")


if __name__ == "__main__":
    main()
