"""Team store benchmark (issue 16): PostgreSQL ingest with two concurrent ingesters, assessment over PostgreSQL,
Parquet export; each figure beside its baseline.

Needs a PostgreSQL server where SCKB_TEST_POSTGRES points (default postgresql://sckb:sckb@127.0.0.1:5432/postgres,
a role that may create databases: ``sudo tools/start-postgres.sh``); without one it says so and skips. It makes
databases of its own and drops them.

- ingest: 1,000,000 findings (``SCKB_BENCH_FINDINGS``) as SARIF files (benchmarks/bench_evidence.py's
  generator), half to each of two ingest processes started at once; findings/s from the first file either
  starts to the last commit (KB loading excluded, as in bench_evidence.py), against a bare ``COPY`` of the same
  observation rows into an empty table (the limit), and the peak RSS of each process. Goals: >= 50,000
  findings/s, peak RSS < 500 MB per process.
- export: ``export_parquet`` of that store (goal <= 5 s) against a bare pyarrow write (zstd) of the same columns
  already in memory, and a DuckDB count over it when DuckDB is installed (goal <= 0.5 s).
- assess: fedramp-high over benchmarks/bench_assess.py's finding mix (1,000,000 identities, 10% failing, every one
  mapped) moved into PostgreSQL with ``store copy``'s code, against the same assessment of the SQLite store it came
  from (bench_assess.py's figure). Goal <= 5 s.

``SCKB_BENCH_QUICK=1`` (``SCKB_BENCH_QUICK=1 python benchmarks/run.py team-store``) runs it on 100,000 findings: a
minute or two instead of ten, the same lines, the goals still stated for a million.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _util import ROOT, SHARED, report, sckb

ADMIN = os.environ.get("SCKB_TEST_POSTGRES", "postgresql://sckb:sckb@127.0.0.1:5432/postgres")
QUICK = os.environ.get("SCKB_BENCH_QUICK", "") not in ("", "0")
TOTAL = int(os.environ.get("SCKB_BENCH_FINDINGS", "100000" if QUICK else "1000000"))
NOW = datetime(2026, 11, 30, tzinfo=UTC)


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


@contextmanager
def _database(admin: Any) -> Iterator[str]:
    """A new database (its URL), dropped afterwards."""
    name = f"sckb_bench_{uuid.uuid4().hex[:10]}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield ADMIN.rpartition("/")[0] + "/" + name
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def bench_ingest_and_export(admin: Any, root: Path) -> None:
    import psycopg
    from bench_evidence import sarif_files

    with _database(admin) as url:
        (root / "sarif").mkdir(parents=True)
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
        bench_export(url, root / "locker", root / "pq", n)


def bench_export(url: str, locker: Path, out: Path, n: int) -> None:
    import pyarrow.parquet as pq

    from compliance.evidence.parquet import export_parquet
    from compliance.evidence.store.transfer import open_location

    with open_location(url, workspace=out.parent / "unused", locker=locker, read_only=True) as store:
        t0, c0 = time.perf_counter(), time.process_time()
        counts = export_parquet(store, out)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    # the baseline: the same columns, already in memory, written by pyarrow alone (zstd, as the export)
    bare = 0.0
    for name in counts:
        table = pq.read_table(out / f"{name}.parquet")
        t0 = time.perf_counter()
        pq.write_table(table, out / f"bare-{name}.parquet", compression="zstd")
        bare += time.perf_counter() - t0
        del table
    report(f"Parquet export from PostgreSQL ({n:,} observations and findings)", dt, "s", baseline=bare,
           baseline_name="bare pyarrow write of the same columns", goal="<= 5 s")  # fmt: skip
    report("  same, CPU time of this process (the server's not counted)", cpu, "s")
    try:
        import duckdb  # type: ignore[import-not-found]
    except ImportError:
        print("DuckDB count over the export: duckdb is not installed; skipped")
        return
    t0 = time.perf_counter()
    duckdb.sql(f"SELECT count(*) FROM '{out}/observations.parquet'").fetchall()
    report("DuckDB count over the export", time.perf_counter() - t0, "s", goal="<= 0.5 s")


def bench_assess(admin: Any, root: Path) -> None:
    """bench_assess.py's finding mix in SQLite, assessed; copied into PostgreSQL, assessed there."""
    import bench_assess as mix

    from compliance import kb as kbmod
    from compliance.assess import run
    from compliance.evidence.store import Store
    from compliance.evidence.store.transfer import copy_store, open_location

    kb = kbmod.load()
    mix.N_FINDINGS = TOTAL
    with Store.open(root / "mix") as sqlite:
        t0 = time.perf_counter()
        mix._fill(sqlite, kb)
        print(f"   (generated {TOTAL:,} findings of bench_assess.py's mix in {time.perf_counter() - t0:.1f} s)", flush=True)
        t0 = time.perf_counter()
        on_sqlite = run(kb, sqlite, scopes=["fedramp-high"], now=NOW)
        t_sqlite = time.perf_counter() - t0
        locker = root / "mix-locker"
        with _database(admin) as url, open_location(url, workspace=root / "unused", locker=locker, create=True) as pg:
            t0 = time.perf_counter()
            copy_store(sqlite, pg)
            print(f"   (copied into PostgreSQL in {time.perf_counter() - t0:.1f} s)", flush=True)
            pg.conn.execute("ANALYZE files, observations, identities")  # as autovacuum would soon after a bulk load
            t0, c0 = time.perf_counter(), time.process_time()
            on_pg = run(kb, pg, scopes=["fedramp-high"], now=NOW)
            t_pg, c_pg = time.perf_counter() - t0, time.process_time() - c0
    assert on_pg.counts() == on_sqlite.counts() and len(on_pg.findings) == len(on_sqlite.findings)
    print(f"   ({len(on_pg.controls)} controls: {on_pg.counts()}; {len(on_pg.findings):,} failing findings kept)", flush=True)
    report(f"assess fedramp-high over PostgreSQL ({TOTAL:,} findings, incl. save)", t_pg, "s", baseline=t_sqlite,
           baseline_name="the same over SQLite (bench_assess.py)", goal="<= 5 s")  # fmt: skip
    report("  same, CPU time of this process (the server's not counted)", c_pg, "s")


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
    if QUICK:
        print(f"   (quick: {TOTAL:,} findings; the goals are for 1,000,000)", flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="sckb-bench-team-") as tmp:
            bench_ingest_and_export(admin, Path(tmp) / "ingest")
        with tempfile.TemporaryDirectory(prefix="sckb-bench-team-") as tmp:
            bench_assess(admin, Path(tmp))
    finally:
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
