"""Team store benchmark (issue 16): PostgreSQL ingest with two concurrent ingesters, assessment over PostgreSQL,
Parquet export.

Needs a PostgreSQL server where SCKB_TEST_POSTGRES points (default postgresql://sckb:sckb@127.0.0.1:5432/postgres,
a role that may create databases: ``sudo tools/start-postgres.sh``); without one it says so and skips. It makes
a database of its own and drops it.

- ingest: >= 1,000,000 findings (``SCKB_BENCH_FINDINGS``) as SARIF files (benchmarks/bench_evidence.py's
  generator), half to each of two ingest processes started at once; findings/s from the first file either
  starts to the last commit (KB loading excluded, as in bench_evidence.py), against a bare ``COPY`` of the same
  observation rows into an empty table (the limit), and the peak RSS of each process. Goals: >= 50,000
  findings/s, peak RSS < 500 MB per process.
- assess: ``sckb assess --scope fedramp-high`` over the store (the whole command, KB load included), beside the
  same command on a SQLite copy of the store (``sckb store copy``). Goal <= 5 s.
- export: ``sckb evidence export --format parquet`` (goal <= 5 s) and a DuckDB count over it, when DuckDB is
  installed (goal <= 0.5 s).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _util import ROOT, SHARED, report, sckb
from bench_evidence import sarif_files

ADMIN = os.environ.get("SCKB_TEST_POSTGRES", "postgresql://sckb:sckb@127.0.0.1:5432/postgres")
TOTAL = int(os.environ.get("SCKB_BENCH_FINDINGS", "1000000"))
NOW = "2026-12-01"


#: One ingester: loads the KB, then ingests (timed from its first file to its commit: wall-clock times, so the two
#: ingesters' spans can be joined).
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
    t0 = time.time()
    summary = ingest(store, [Path(p) for p in sys.argv[2:]], mapper=mapper, now=datetime(2026, 11, 30, tzinfo=UTC), jobs=1)
    t1 = time.time()
assert summary.errors == 0, [r.error for r in summary.results if r.error]
print(summary.findings, t0, t1)
"""


def _child(env: dict[str, str], ws: Path, paths: list[Path]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", CHILD, str(ws), *map(str, paths)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)


def _wait(proc: subprocess.Popen[bytes]) -> tuple[float, float, float]:
    """Wait for a child: its peak RSS in MB and the wall-clock start and end of its ingest."""
    assert proc.stdout is not None
    out = proc.stdout.read().decode().split()
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"ingest child failed ({code}): {err[-500:]}")
    return float(usage.ru_maxrss) / 1024, float(out[1]), float(out[2])


def _bare_copy(url: str) -> float:
    """Seconds to COPY the store's observation rows (already in memory, as text) into an empty table."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        buf = io.BytesIO()
        with conn.cursor().copy("COPY observations TO STDOUT") as out:
            for data in out:
                buf.write(data)
        conn.execute("CREATE TABLE bare_copy (LIKE observations)")
        raw = buf.getvalue()
        t0 = time.perf_counter()
        with conn.cursor().copy("COPY bare_copy FROM STDIN") as into:
            for i in range(0, len(raw), 1 << 20):
                into.write(raw[i : i + (1 << 20)])
        dt = time.perf_counter() - t0
        conn.execute("DROP TABLE bare_copy")
    return dt


def main() -> None:
    import psycopg

    if not (SHARED / "corpus").is_dir():
        print("bench_team_store: ../shared/corpus not found; skipped")
        return
    try:
        admin = psycopg.connect(ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.Error:
        print(f"bench_team_store: no PostgreSQL server at {ADMIN.split('@')[-1]} (sudo tools/start-postgres.sh); skipped")
        return
    name = f"sckb_bench_{uuid.uuid4().hex[:10]}"
    admin.execute(f"CREATE DATABASE {name}")
    url = ADMIN.rpartition("/")[0] + "/" + name
    try:
        with tempfile.TemporaryDirectory(prefix="sckb-bench-team-") as tmp:
            root = Path(tmp)
            (root / "sarif").mkdir()
            paths = sarif_files(root / "sarif", TOTAL)
            env = {**os.environ, "PYTHONPATH": str(ROOT), "SCKB_STORE": url, "SCKB_LOCKER": str(root / "locker")}
            subprocess.run([sckb(), "store", "migrate"], check=True, env=env, stdout=subprocess.DEVNULL)
            procs = [_child(env, root / f"ws{i}", paths[i::2]) for i in range(2)]
            done = [_wait(p) for p in procs]
            rss = [d[0] for d in done]
            dt = max(d[2] for d in done) - min(d[1] for d in done)  # from the first file of either to the last commit
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT count(*) FROM observations").fetchone()
            n = int(row[0]) if row else 0
            bare = _bare_copy(url)
            report(f"PostgreSQL ingest, 2 ingesters: {n:,} findings", n / dt, "findings/s", baseline=n / bare,
                   baseline_name="bare COPY of the same rows", goal=">= 50,000 findings/s")  # fmt: skip
            report("peak RSS per ingester", max(rss), "MB", goal="< 500 MB")

            # the baseline: the same assessment of a SQLite copy of the store
            local = {k: v for k, v in env.items() if k not in ("SCKB_STORE", "SCKB_LOCKER")}
            subprocess.run([sckb(), "--locker", str(root / "locker"), "store", "copy", url, str(root / "copy")], check=True,
                           env=local, stdout=subprocess.DEVNULL)  # fmt: skip
            assess = [sckb(), "--now", NOW, "assess", "--scope", "fedramp-high", "--accept-ingest-time", "--format", "json"]
            t0 = time.perf_counter()
            subprocess.run([*assess[:1], "--workspace", str(root / "copy"), *assess[1:]], check=False, env=local,
                           stdout=subprocess.DEVNULL)  # fmt: skip
            on_sqlite = time.perf_counter() - t0
            t0 = time.perf_counter()
            subprocess.run(assess, check=False, env=env, stdout=subprocess.DEVNULL, cwd=root)
            report(f"assess fedramp-high over PostgreSQL ({n:,} findings)", time.perf_counter() - t0, "s",
                   baseline=on_sqlite, baseline_name="the same on a SQLite copy", goal="<= 5 s")  # fmt: skip

            out = root / "pq"
            t0 = time.perf_counter()
            subprocess.run([sckb(), "evidence", "export", "--format", "parquet", "--out", str(out)], check=True, env=env,
                           stdout=subprocess.DEVNULL)  # fmt: skip
            report(f"Parquet export ({n:,} observations)", time.perf_counter() - t0, "s", goal="<= 5 s")
            try:
                import duckdb  # type: ignore[import-not-found]
            except ImportError:
                print("DuckDB count over the export: duckdb is not installed; skipped")
            else:
                t0 = time.perf_counter()
                duckdb.sql(f"SELECT count(*) FROM '{out}/observations.parquet'").fetchall()
                report("DuckDB count over the export", time.perf_counter() - t0, "s", goal="<= 0.5 s")
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
