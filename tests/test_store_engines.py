"""The team store (issue 16): the same commands give the same answers on SQLite and on a real PostgreSQL server;
four ingesters at once lose and duplicate nothing; ``store copy`` is lossless both ways; Parquet export; one-line
errors for an unreachable server, wrong credentials, a missing database and a newer schema.

The PostgreSQL tests are marked ``postgres``. They need a server where SCKB_TEST_POSTGRES points (default
postgresql://sckb:sckb@127.0.0.1:5432/postgres, a role that may create databases: ``sudo tools/start-postgres.sh``
sets one up); without one they skip, saying so, except under SCKB_REQUIRE_POSTGRES=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from compliance.cli import main
from tests.conftest import PG_ADMIN as ADMIN
from tests.conftest import pg_url_of as _url

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpus"
NOW = "2026-12-01"
#: a few corpus folders: passing and failing findings of several tools (checkov's closing across projects too)
FOLDERS = ("checkov-json", "bandit-json", "semgrep-sarif", "prowler-ocsf-json")


def _corpus() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not beside the checkout")
    return [CORPUS / f for f in FOLDERS if (CORPUS / f).is_dir()]


def sckb(runner: CliRunner, ws: Path, *args: str) -> Any:
    return runner.invoke(main, ["--workspace", str(ws), "--now", NOW, *args], catch_exceptions=False)


def _answers(runner: CliRunner, ws: Path) -> dict[str, Any]:
    """What the read commands say about a store, after an ingest and an assessment."""
    out: dict[str, Any] = {}
    for name, args in {
        "list": ("evidence", "list", "--json"),
        "unmapped": ("evidence", "unmapped", "--json"),
        "files": ("evidence", "files", "--json"),
        "verify": ("evidence", "verify", "--json"),
        "assess": ("assess", "--scope", "fedramp-moderate", "--max-age", "3650", "--accept-ingest-time", "--format", "json"),
        "explain": ("assess", "explain", "AC-6", "--json"),
        "assess-list": ("assess", "list", "--json"),
    }.items():
        r = sckb(runner, ws, *args)
        assert r.exit_code in (0, 1), (name, r.output)
        out[name] = orjson.loads(r.stdout)
    first = out["list"][0]["identity"]
    out["show"] = orjson.loads(sckb(runner, ws, "evidence", "show", first, "--json").stdout)
    return out


@pytest.mark.postgres
def test_both_engines_give_the_same_answers(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    folders = _corpus()
    answers: dict[str, dict[str, Any]] = {}
    for name in ("sqlite", "postgres"):
        ws = tmp_path / name
        monkeypatch.delenv("SCKB_STORE", raising=False)
        if name == "postgres":
            monkeypatch.setenv("SCKB_STORE", pg_url)
            monkeypatch.setenv("SCKB_LOCKER", str(tmp_path / "team-locker"))
        r = sckb(runner, ws, "evidence", "ingest", *map(str, folders[:2]))
        assert r.exit_code == 0, r.output
        first = orjson.loads(sckb(runner, ws, "assess", "--scope", "fedramp-moderate", "--max-age", "3650",
                                  "--accept-ingest-time", "--format", "json").stdout)["assessment"]["id"]  # fmt: skip
        assert sckb(runner, ws, "evidence", "ingest", *map(str, folders[2:])).exit_code == 0
        answers[name] = _answers(runner, ws)
        diff = sckb(runner, ws, "assess", "diff", first, "--json")
        assert diff.exit_code == 0
        answers[name]["diff"] = orjson.loads(diff.stdout)
        out = tmp_path / f"{name}-parquet"
        assert sckb(runner, ws, "evidence", "export", "--format", "parquet", "--out", str(out)).exit_code == 0
        answers[name]["parquet"] = _parquet(out)
    sqlite, postgres = answers["sqlite"], answers["postgres"]
    assert sqlite["verify"]["ok"] and sqlite["list"] and sqlite["parquet"]["observations"]
    for key in sqlite:
        assert postgres[key] == sqlite[key], key


def _parquet(out: Path) -> dict[str, list[dict[str, Any]]]:
    import pyarrow.parquet as pq

    return {name: pq.read_table(out / f"{name}.parquet").to_pylist() for name in ("files", "observations", "findings")}


def test_parquet_export_schema(runner: CliRunner, tmp_path: Path, engine: str) -> None:
    import pyarrow.parquet as pq

    from compliance.evidence.parquet import SCHEMAS

    folders = _corpus()
    ws = tmp_path / "ws"
    assert sckb(runner, ws, "evidence", "ingest", str(folders[1])).exit_code == 0
    r = sckb(runner, ws, "evidence", "export", "--format", "parquet", "--out", str(tmp_path / "pq"), "--json")
    assert r.exit_code == 0, r.output
    rows = orjson.loads(r.stdout)["rows"]
    listed = orjson.loads(sckb(runner, ws, "evidence", "list", "--json").stdout)
    for name, schema in SCHEMAS.items():
        table = pq.read_table(tmp_path / "pq" / f"{name}.parquet")
        assert table.schema.equals(schema) and table.num_rows == rows[name]
    assert rows["findings"] == len(listed) and rows["files"] == len(
        orjson.loads(sckb(runner, ws, "evidence", "files", "--json").stdout)
    )
    findings = pq.read_table(tmp_path / "pq" / "findings.parquet").to_pylist()
    assert sorted(f["identity"] for f in findings) == sorted(f["identity"] for f in listed)
    assert all(isinstance(f["cwes"], list) for f in findings)



def test_the_readmes_duckdb_query_counts_what_the_store_counts(runner: CliRunner, tmp_path: Path, engine: str) -> None:
    """The DuckDB query the README shows (open failures per control) runs over the export as written there and gives
    the counts the store's own findings give."""
    import re
    from collections import Counter

    import duckdb

    folders = _corpus()
    ws = tmp_path / "ws"
    assert sckb(runner, ws, "evidence", "ingest", *map(str, folders)).exit_code == 0
    assert sckb(runner, ws, "evidence", "export", "--format", "parquet", "--out", str(tmp_path / "evidence-pq")).exit_code == 0
    readme = (HERE.parent / "README.md").read_text(encoding="utf-8")
    query = re.search(r"```sql\n(-- duckdb: open failures per control.*?)```", readme, re.S)
    assert query is not None, "the README's DuckDB query"
    old = os.getcwd()
    os.chdir(tmp_path)  # the query names the folder relative to where it runs, as a reader would run it
    try:
        got = duckdb.sql(query.group(1).replace("LIMIT 10", "")).fetchall()
    finally:
        os.chdir(old)
    listed = orjson.loads(sckb(runner, ws, "evidence", "list", "--json").stdout)
    want = Counter(c for f in listed if f["status"] == "open" and f["result"] == "fail" for c in f["controls"])
    assert got and dict(got) == dict(want)
    assert [n for _, n in got] == sorted((n for _, n in got), reverse=True)

def _awkward_sarif(path: Path) -> Path:
    """A real semgrep SARIF whose first messages hold what CSV and list columns must carry through: line breaks,
    quotes, commas, tabs, backslashes, non-ASCII, text that looks like a null or an empty CSV field; an empty message
    (stored as null)."""
    doc = orjson.loads((CORPUS / "semgrep-sarif" / "tf-aws-lambda__semgrep.sarif").read_bytes())
    texts = ['two\nlines, "quoted"\tand \\N back\\slash ünïcode ✓', "", "\\N", '""', " leading and trailing "]
    for result, text in zip(doc["runs"][0]["results"], texts, strict=False):
        result["message"]["text"] = text
    path.write_bytes(orjson.dumps(doc))
    return path


@pytest.mark.parametrize("csv_block", [1, None])
def test_parquet_export_holds_what_the_store_says(
    runner: CliRunner, tmp_path: Path, engine: str, monkeypatch: pytest.MonkeyPatch, csv_block: int | None
) -> None:
    """(With a block of one row, PostgreSQL's rows are parsed a row at a time: those without a line break in a value
    by the faster parser.)"""
    import pyarrow.parquet as pq

    from compliance.evidence import parquet
    from compliance.evidence.store import Store

    if csv_block is not None:
        monkeypatch.setattr(parquet, "_CSV_BLOCK", csv_block)

    folders = _corpus()
    ws = tmp_path / "ws"
    awkward = _awkward_sarif(tmp_path / "awkward.sarif")
    assert sckb(runner, ws, "evidence", "ingest", str(folders[0]), str(awkward)).exit_code == 0
    out = tmp_path / "pq"
    assert sckb(runner, ws, "evidence", "export", "--format", "parquet", "--out", str(out)).exit_code == 0
    got = {name: pq.read_table(out / f"{name}.parquet").to_pylist() for name in ("files", "observations", "findings")}

    def plain(name: str, value: Any) -> Any:
        if name in ("cwes", "targets", "mitigations", "controls"):
            return list(value) if isinstance(value, tuple) else value.split()
        return value

    with Store.open(ws, read_only=True) as store:
        files = [{"id": i, **f.as_dict()} for i, f in enumerate(store.files(), 1)]
        names = list(got["observations"][0])
        observations = [{n: plain(n, v) for n, v in zip(names, row, strict=True)} for row in store.observation_rows()]
        findings = sorted(({n: plain(n, getattr(f, n)) for n in got["findings"][0]} for f in store.findings()),
                          key=lambda f: f["identity"])  # fmt: skip
    assert got["files"] == files and got["observations"] == observations and got["findings"] == findings
    messages = {o["message"] for o in got["observations"]}
    assert {"\\N", '""'} <= messages and None in messages and any("\n" in (m or "") for m in messages)


@pytest.mark.postgres
@pytest.mark.parametrize("buffer_rows", [9, 100_000])
def test_small_batches_streaming_and_repeated_findings_give_the_same_store(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str, buffer_rows: int
) -> None:
    """A file's rows in many batches, held until the file is parsed or (a small buffer) most of them written after
    the file took the ingest lock, and one finding stated several times in a file, in different batches: the same
    answers as SQLite."""
    from compliance.evidence import prepare
    from compliance.evidence.store import postgres

    corpus = _corpus()  # skips without ../shared
    doc = orjson.loads((CORPUS / "semgrep-sarif" / "tf-aws-lambda__semgrep.sarif").read_bytes())
    results = doc["runs"][0]["results"]
    again = [orjson.loads(orjson.dumps(results[0])) for _ in range(3)]
    for k, r in enumerate(again):
        r["message"]["text"] = f"stated again ({k})"
    doc["runs"][0]["results"] = [*results[:5], again[0], *results[5:20], again[1], *results[20:], again[2]]
    repeated = tmp_path / "in" / "repeated.sarif"
    repeated.parent.mkdir()
    repeated.write_bytes(orjson.dumps(doc))
    inputs = [str(f) for f in corpus[:2]] + [str(repeated)]
    monkeypatch.setattr(prepare, "BATCH", 4)
    monkeypatch.setattr(postgres, "BUFFER_ROWS", buffer_rows)
    answers = {}
    for name in ("sqlite", "postgres"):
        if name == "postgres":
            monkeypatch.setenv("SCKB_STORE", pg_url)
            monkeypatch.setenv("SCKB_LOCKER", str(tmp_path / "team-locker"))
        ws = tmp_path / name
        assert sckb(runner, ws, "evidence", "ingest", *inputs).exit_code == 0
        answers[name] = _answers(runner, ws)
        listed = answers[name]["list"]
        ident = next(f["identity"] for f in listed if f["message"] == "stated again (2)")
        answers[name]["again"] = orjson.loads(sckb(runner, ws, "evidence", "show", ident, "--json").stdout)
    assert answers["postgres"]["verify"]["ok"] and answers["postgres"] == answers["sqlite"]
    assert answers["postgres"]["again"]["observations"] == 4


@pytest.mark.postgres
def test_copy_sqlite_to_postgres_and_back_is_lossless(runner: CliRunner, tmp_path: Path, pg_url: str) -> None:
    folders = _corpus()
    ws = tmp_path / "ws"
    assert sckb(runner, ws, "evidence", "ingest", *map(str, folders)).exit_code == 0
    before = _answers(runner, ws)
    locker = tmp_path / "team-locker"
    r = sckb(runner, ws, "--locker", str(locker), "store", "copy", str(ws), pg_url, "--json")
    assert r.exit_code == 0, r.output
    copied = orjson.loads(r.stdout)
    assert copied["verify_problems"] == [] and copied["rows"]["files"] == len(before["files"]) and copied["rows"]["locker"] > 0
    on_pg = _answers(runner.__class__(env={"SCKB_STORE": pg_url, "SCKB_LOCKER": str(locker)}), tmp_path / "unused")
    assert on_pg["assess"]["assessment"]["id"] == before["assess"]["assessment"]["id"]
    assert on_pg["assess"] == before["assess"] and on_pg["list"] == before["list"]
    back = tmp_path / "back"
    r = sckb(runner, ws, "--locker", str(locker), "store", "copy", pg_url, str(back))
    assert r.exit_code == 0 and "verify: ok" in r.output
    assert sckb(runner, back, "evidence", "verify").exit_code == 0
    assert orjson.loads(sckb(runner, back, "evidence", "list", "--json").stdout) == before["list"]
    # a copy goes only into an empty store
    again = sckb(runner, ws, "--locker", str(locker), "store", "copy", str(ws), pg_url)
    assert again.exit_code == 5 and "not empty" in again.output


@pytest.mark.postgres
def test_four_concurrent_ingesters_lose_and_duplicate_nothing(tmp_path: Path, pg_url: str) -> None:
    folders = _corpus()
    files = sorted(p for f in folders for p in f.rglob("*") if p.is_file())
    assert len(files) >= 8
    # every ingester gets half the files, so every file is offered to two of them at once
    shares = [files[i::2] for i in range(2)] * 2
    env = {**os.environ, "SCKB_STORE": pg_url, "SCKB_LOCKER": str(tmp_path / "locker")}
    procs = [
        subprocess.Popen(
            [
                str(Path(sys.executable).parent / "sckb"),
                "--workspace",
                str(tmp_path / f"ws{i}"),
                "--now",
                NOW,
                "evidence",
                "ingest",
                "--json",
                *map(str, share),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i, share in enumerate(shares)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode in (0, 3), err.decode()
        results.extend(orjson.loads(out))
    written = [r for r in results if r["error"] is None and not r["skipped"]]
    skipped = [r for r in results if r["skipped"]]
    errors = [r for r in results if r["error"] is not None]
    import hashlib

    distinct = {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    from compliance.evidence.store import Store

    os.environ["SCKB_STORE"], os.environ["SCKB_LOCKER"] = pg_url, str(tmp_path / "locker")
    try:
        with Store.open(tmp_path / "ws0", create=False) as store:
            stored = store.files()
            problems = store.verify()
            counts = store.counts()
    finally:
        del os.environ["SCKB_STORE"], os.environ["SCKB_LOCKER"]
    bad = {r["path"] for r in errors}
    good = {hashlib.sha256(f.read_bytes()).hexdigest() for f in files if str(f) not in bad}
    assert problems == []
    assert sorted(f.sha256 for f in stored) == sorted(good)  # each file once: none lost, none twice
    assert len(written) == len(good) and len(skipped) + len(written) + len(errors) == 2 * len(files)
    assert len(distinct) >= len(good)
    assert counts["observations"] == sum(f.findings for f in stored)


@pytest.mark.postgres
def test_schema_version_is_checked(runner: CliRunner, tmp_path: Path, pg_url: str) -> None:
    import psycopg

    r = runner.invoke(main, ["--store", pg_url, "store", "migrate"])
    assert r.exit_code == 0 and "schema 3 (created)" in r.output and "sckb:" not in r.output.split("@")[0]
    assert "up to date" in runner.invoke(main, ["--store", pg_url, "store", "migrate"]).output
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    r = runner.invoke(main, ["--store", pg_url, "evidence", "files"])
    assert r.exit_code == 5 and len(r.output.strip().splitlines()) == 1 and "newer" in r.output
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    r = runner.invoke(main, ["--store", pg_url, "evidence", "files"])
    assert r.exit_code == 5 and "older" in r.output and "store migrate" in r.output


@pytest.mark.postgres
@pytest.mark.postgres
def test_connection_errors_are_one_line_naming_the_host(runner: CliRunner, pg_admin: Any) -> None:
    host = ADMIN.split("@")[-1].split("/")[0]
    cases = {
        "postgresql://sckb:sckb@127.0.0.1:1/postgres": ("127.0.0.1:1", "reachable"),
        ADMIN.replace("sckb:sckb@", "sckb:wrong-password@"): (host, "password"),
        _url("sckb_no_such_database"): (host, "createdb"),
    }
    for url, (where, hint) in cases.items():
        r = runner.invoke(main, ["--store", url, "evidence", "files"])
        assert r.exit_code == 5, (url, r.output)
        lines = r.output.strip().splitlines()
        assert len(lines) == 1 and where in lines[0] and hint in lines[0] and "wrong-password" not in lines[0], lines


@pytest.mark.postgres
def test_a_connection_lost_mid_file_rolls_that_file_back(
    tmp_path: Path, pg_url: str, pg_admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from compliance.errors import StoreError
    from compliance.evidence.ingest import Ingester
    from compliance.evidence.mapping import Mapper
    from compliance.evidence.store import Store
    from compliance.evidence.store.postgres import describe

    folders = _corpus()
    first, second = sorted(folders[0].glob("*.json"))[:2]
    monkeypatch.setenv("SCKB_STORE", pg_url)
    monkeypatch.setenv("SCKB_LOCKER", str(tmp_path / "locker"))
    dbname = pg_url.rsplit("/", 1)[1]

    def cut(_rows: int) -> None:  # the server ends this session while the file's rows are being written
        pg_admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND application_name = 'sckb'", (dbname,)
        )

    with Store.open(tmp_path / "ws") as store:
        assert Ingester(store, Mapper(None), datetime(2026, 11, 30, tzinfo=UTC)).ingest_file(first).error is None
    with Store.open(tmp_path / "ws") as store, pytest.raises(StoreError) as lost:
        Ingester(store, Mapper(None), datetime(2026, 11, 30, tzinfo=UTC)).ingest_file(second, on_progress=cut)
    assert "evidence store error while ingesting" in str(lost.value) and describe(pg_url) in str(lost.value)
    with Store.open(tmp_path / "ws") as store:
        assert [f.name for f in store.files()] == [str(first)]  # the second file is not there, not even in part
        assert store.verify() == [] and store.counts()["observations"] == store.files()[0].findings
        again = Ingester(store, Mapper(None), datetime(2026, 11, 30, tzinfo=UTC)).ingest_file(second)
        assert again.error is None and not again.skipped and store.verify() == []


@pytest.mark.usefixtures("engine")
def test_records_systems_and_statements_on_both_engines(tmp_path: Path) -> None:
    from compliance.errors import InputError, NotFoundError
    from compliance.evidence.store import DeterminationRecord, Store, SystemRow, TriageRecord

    det = DeterminationRecord(
        "AC-6", "satisfied", "checked by hand", "A. Assessor", "assessor", "2026-11-30T00:00:00Z", ("examine",), "cli"
    )
    tri = TriageRecord(
        target="rule:checkov:CKV_AWS_1", kind="false-positive", withdrawn=False, rationale="test fixture", by="Dev",
        date="2026-11-30T00:00:00Z", expires=None, approved_by=None, details="{}", documents=(), source="cli",
    )  # fmt: skip
    with Store.open(tmp_path / "ws") as store:
        assert store.determinations() == [] and store.triage() == [] and store.systems() == [] and store.statements() == {}
        assert store.add_determinations([det, det]) == 1 and store.add_determinations([det]) == 0  # equal rows once
        assert store.add_triage([tri]) == 1 and store.add_triage([tri]) == 0  # a null expiry is equal to a null expiry
        assert store.add_determinations([DeterminationRecord(**{**_fields(det), "status": "withdrawn"})]) == 1
        assert [d.seq for d in store.determinations()] == list(range(1, len(store.determinations()) + 1))
        assert store.determinations()[0] == DeterminationRecord(**{**_fields(det), "seq": 1})
        assert store.triage()[0].target == tri.target and store.triage()[0].seq == 1
        row = SystemRow("payments", b'{"name": "payments"}', "systems/payments.yaml", "2026-11-30T00:00:00Z")
        assert store.put_system(row) is False
        with pytest.raises(InputError, match="already"):
            store.put_system(row)
        assert store.put_system(row, replace=True) is True and store.systems() == [row]
        store.remove_system("payments")
        with pytest.raises(NotFoundError):
            store.remove_system("payments")
        assert store.put_statements({"AC-6": ("Least Privilege", "Employ least privilege.")}, "catalog.json") == 1
        assert store.statements() == {"AC-6": "Employ least privilege."}
        with pytest.raises(NotFoundError, match="no assessment"):
            store.resolve_assessment(None)


def _fields(record: Any) -> dict[str, Any]:
    from dataclasses import fields

    return {f.name: getattr(record, f.name) for f in fields(record)}


@pytest.mark.postgres
def test_a_schema_2_team_store_is_migrated_in_place(runner: CliRunner, tmp_path: Path, pg_url: str) -> None:
    """Schema 3 adds ``files.completeness``: ``store migrate`` adds it to a schema 2 store holding evidence, whose
    rows and hash chain stay as they were; files ingested then record their completeness."""
    import psycopg

    from compliance.evidence.store import FILE_COLUMNS, GENESIS, chain_digest

    env = ["--store", pg_url, "--locker", str(tmp_path / "locker"), "--now", NOW]
    first = tmp_path / "a.csv"
    first.write_text("CHECK_ID;STATUS;ACCOUNT_UID;REGION\ns3_bucket_public;FAIL;123456789012;eu-west-1\n")
    assert runner.invoke(main, [*env, "evidence", "ingest", str(first)]).exit_code == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:  # what a schema 2 sckb wrote
        prev = GENESIS
        for row in conn.execute("SELECT id, " + ", ".join(FILE_COLUMNS) + " FROM files ORDER BY id").fetchall():
            prev = chain_digest(prev, tuple(row[1:]))
            conn.execute("UPDATE files SET chain = %s WHERE id = %s", (prev, row[0]))
        conn.execute("ALTER TABLE files DROP COLUMN completeness")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    r = runner.invoke(main, [*env, "evidence", "files"])
    assert r.exit_code == 5 and "store migrate" in r.output
    r = runner.invoke(main, [*env, "store", "migrate"])
    assert r.exit_code == 0, r.output
    second = tmp_path / "b.xml"
    second.write_text('<testsuites><testsuite name="x" tests="1"><testcase classname="c" name="t"/></testsuite></testsuites>')
    assert runner.invoke(main, [*env, "evidence", "ingest", str(second)]).exit_code == 0
    files = orjson.loads(runner.invoke(main, [*env, "evidence", "files", "--json"]).stdout)
    assert [(Path(f["name"]).name, f["completeness"]) for f in files] == [("a.csv", "unverified-complete"), ("b.xml", "verified")]
    assert orjson.loads(runner.invoke(main, [*env, "evidence", "verify", "--json"]).stdout)["ok"]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT completeness FROM files ORDER BY id").fetchall() == [(None,), ("verified",)]
