"""How each evidence file is known to be complete is decided by its parse and stored with the file (store schema
3): a JUnit report or checkov report whose stated totals were checked is ``verified``, one that states none is
only ``whole-document``, a prowler CSV is ``unverified-complete`` (and refused when its last row has no line end).
A schema 2 workspace stays readable and is brought up to date in place; the assessment and the report count the
unverified-complete files among their limitations."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from compliance.cli import main
from compliance.evidence.ingest import Ingester
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import FILE_COLUMNS, GENESIS, Store, chain_digest

NOW = datetime(2026, 11, 30, tzinfo=UTC)
CLI_NOW = ["--now", "2026-11-30"]

HEADER = "AUTH_METHOD;TIMESTAMP;ACCOUNT_UID;CHECK_ID;STATUS;SEVERITY;RESOURCE_UID;REGION\n"


def _prowler_row(check: str = "awslambda_function_inside_vpc", n: int = 1) -> str:
    arn = f"arn:aws:lambda:eu-west-1:123456789012:function:fn{n}"
    return f"profile;2026-11-20 10:00:00;123456789012;{check};FAIL;medium;{arn};eu-west-1\n"


def _junit(*, tests: bool) -> bytes:
    cases = '<testcase name="[HIGH][CKV_AWS_1] one" classname="t.yaml.Fn" file="t.yaml"/>'
    stated = ' tests="1" failures="0"' if tests else ""
    return f'<?xml version="1.0"?><testsuites><testsuite name="checkov"{stated}>{cases}</testsuite></testsuites>'.encode()


def _checkov(*, summary: bool) -> bytes:
    rec = {"check_id": "CKV_AWS_45", "check_name": "c", "resource": "AWS::Lambda::Function.Fn", "file_path": "/t.yaml"}
    report: dict[str, object] = {"check_type": "cloudformation", "results": {"failed_checks": [rec], "passed_checks": []}}
    if summary:
        report["summary"] = {"passed": 0, "failed": 1, "skipped": 0, "parsing_errors": 0, "checkov_version": "2.0.1"}
    return orjson.dumps([report])


FILES = {
    "junit-totals.xml": (_junit(tests=True), "verified"),
    "junit-no-totals.xml": (_junit(tests=False), "whole-document"),
    "checkov-summary.json": (_checkov(summary=True), "verified"),
    "checkov-no-summary.json": (_checkov(summary=False), "whole-document"),
    "checkov-empty.json": (b'{"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "checkov_version": "3"}', "verified"),
    "prowler.csv": ((HEADER + _prowler_row()).encode(), "unverified-complete"),
    "gitleaks.json": (b"[]", "whole-document"),
}


def _folder(tmp_path: Path, names: list[str] | None = None) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name in names or sorted(FILES):
        (folder / name).write_bytes(FILES[name][0])
    return folder


def _files_json(runner: CliRunner, ws: Path) -> dict[str, str]:
    r = runner.invoke(main, ["--workspace", str(ws), *CLI_NOW, "evidence", "files", "--json"])
    assert r.exit_code == 0, r.output
    return {Path(f["name"]).name: f["completeness"] for f in orjson.loads(r.stdout)}


def test_completeness_is_decided_per_file_and_stored(tmp_path: Path, runner: CliRunner) -> None:
    folder = _folder(tmp_path)
    ws = tmp_path / "ws"
    r = runner.invoke(main, ["--workspace", str(ws), *CLI_NOW, "evidence", "ingest", str(folder)])
    assert r.exit_code == 0, r.output
    expected = {name: label for name, (_, label) in FILES.items()}
    assert _files_json(runner, ws) == expected
    with Store.open(ws, read_only=True) as store:  # stored with the file, not derived from its format
        assert {Path(f.name).name: f.completeness for f in store.files()} == expected
        assert store.verify() == []
    table = runner.invoke(main, ["--workspace", str(ws), *CLI_NOW, "evidence", "files"]).stdout
    assert "whole-document" in table and "unverified-complete" in table and "verified" in table


def test_a_changed_completeness_breaks_the_hash_chain(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ["prowler.csv"])
    with Store.open(tmp_path / "ws") as store:
        assert Ingester(store, Mapper(None), NOW).ingest_file(folder / "prowler.csv").error is None
    conn = sqlite3.connect(tmp_path / "ws" / "evidence.db")
    conn.execute("UPDATE files SET completeness = 'verified'")
    conn.commit()
    conn.close()
    with Store.open(tmp_path / "ws", read_only=True) as store:
        assert [p.kind for p in store.verify()] == ["chain"]


def test_prowler_csv_without_its_last_line_end_is_refused(tmp_path: Path) -> None:
    """A cut inside the last field leaves the right number of fields: only the missing line end shows it."""
    path = tmp_path / "cut.csv"
    path.write_bytes((HEADER + _prowler_row(n=1) + _prowler_row(n=2)).encode()[:-5])
    with Store.open(tmp_path / "ws") as store:
        before = list(store.conn.iterdump())
        res = Ingester(store, Mapper(None), NOW).ingest_file(path)
        assert res.error is not None and "last row has no line end" in res.error and str(path) in res.error, res.error
        assert f"{path}:3:" in res.error
        assert list(store.conn.iterdump()) == before


def _make_schema_2(ws: Path) -> None:
    """Turn a store into what sckb wrote at schema 2: no completeness column, chain digests without it."""
    conn = sqlite3.connect(ws / "evidence.db")
    prev = GENESIS
    for row in conn.execute("SELECT id, " + ", ".join(FILE_COLUMNS) + " FROM files ORDER BY id").fetchall():
        prev = chain_digest(prev, tuple(row[1:]))
        conn.execute("UPDATE files SET chain = ? WHERE id = ?", (prev, row[0]))
    conn.execute("ALTER TABLE files DROP COLUMN completeness")
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    conn.commit()
    conn.close()


def _schema(ws: Path) -> tuple[str, bool]:
    conn = sqlite3.connect(ws / "evidence.db")
    try:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0]
        has = any(r[1] == "completeness" for r in conn.execute("PRAGMA table_info(files)"))
        return version, has
    finally:
        conn.close()


def test_a_schema_2_workspace_is_read_and_brought_up_to_date(tmp_path: Path, runner: CliRunner) -> None:
    folder = _folder(tmp_path, ["junit-no-totals.xml", "prowler.csv"])
    ws = tmp_path / "ws"
    assert runner.invoke(main, ["--workspace", str(ws), *CLI_NOW, "evidence", "ingest", str(folder)]).exit_code == 0
    _make_schema_2(ws)
    assert _schema(ws) == ("2", False)
    # read-only: read as it is (the format's label for files that record none), nothing changed
    with Store.open(ws, read_only=True) as store:
        assert [f.completeness for f in store.files()] == [None, None]
        assert store.verify() == []
    assert _schema(ws) == ("2", False)
    # a writer brings it up to schema 3 in place; the old rows keep no label and their chain digests
    assert _files_json(runner, ws) == {"junit-no-totals.xml": "verified", "prowler.csv": "unverified-complete"}
    assert _schema(ws) == ("3", True)
    (folder / "junit-totals.xml").write_bytes(FILES["junit-totals.xml"][0])
    r = runner.invoke(main, ["--workspace", str(ws), *CLI_NOW, "evidence", "ingest", str(folder / "junit-totals.xml")])
    assert r.exit_code == 0, r.output
    with Store.open(ws, read_only=True) as store:
        assert [f.completeness for f in store.files()] == [None, None, "verified"]
        assert store.verify() == []
    r = runner.invoke(main, ["--workspace", str(ws), *CLI_NOW, "evidence", "verify"])
    assert r.exit_code == 0, r.output


@pytest.fixture(scope="module")
def assessed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("assessed")
    folder = tmp / "in"
    folder.mkdir()
    (folder / "prowler.csv").write_bytes((HEADER + _prowler_row(n=1) + _prowler_row(n=2)).encode())
    (folder / "checkov.json").write_bytes(_checkov(summary=True))
    ws = tmp / "ws"
    runner = CliRunner()
    assert runner.invoke(main, ["--workspace", str(ws), *CLI_NOW, "evidence", "ingest", str(folder)]).exit_code == 0
    args = ["assess", "--scope", "fedramp-moderate", "--max-age", "3650", "--format", "json"]
    r = runner.invoke(main, ["--workspace", str(ws), *CLI_NOW, *args])
    assert r.exit_code in (0, 1), r.output
    return ws


def test_the_assessment_and_report_count_unverified_files(assessed: Path) -> None:
    from compliance import kb as kbmod
    from compliance.assess import db
    from compliance.assess.render import as_markdown
    from compliance.report.build import limitations

    with Store.open(assessed, read_only=True) as store:
        a = db.load(store)
    assert {f.format: f.completeness for f in a.files} == {"prowler-csv": "unverified-complete", "checkov-json": "verified"}
    assert a.unverified_files() == 1
    found = limitations(kbmod.load(), a, catalog_imported=False)
    assert any(x.startswith("1 evidence files are unverified-complete") for x in found), found
    assert "Unverified-complete evidence files (no totals to check a cut against): 1." in as_markdown(a)
    a.files = [f for f in a.files if f.completeness != "unverified-complete"]
    assert not any("unverified-complete" in x for x in limitations(kbmod.load(), a, catalog_imported=False))


def test_a_schema_2_workspace_copies_into_a_new_one(tmp_path: Path, runner: CliRunner) -> None:
    folder = _folder(tmp_path, ["prowler.csv"])
    ws = tmp_path / "ws"
    assert runner.invoke(main, ["--workspace", str(ws), *CLI_NOW, "evidence", "ingest", str(folder)]).exit_code == 0
    _make_schema_2(ws)
    r = runner.invoke(main, [*CLI_NOW, "store", "copy", str(ws), str(tmp_path / "copy")])
    assert r.exit_code == 0, r.output
    assert _schema(ws) == ("2", False)  # the source is only read
    assert _files_json(runner, tmp_path / "copy") == {"prowler.csv": "unverified-complete"}
    with Store.open(tmp_path / "copy", read_only=True) as store:
        assert store.verify() == [] and [f.completeness for f in store.files()] == [None]


def test_store_migrate_says_what_it_upgraded(tmp_path: Path, runner: CliRunner) -> None:
    folder = _folder(tmp_path, ["prowler.csv"])
    ws = tmp_path / "ws"
    assert runner.invoke(main, ["--workspace", str(ws), *CLI_NOW, "evidence", "ingest", str(folder)]).exit_code == 0
    _make_schema_2(ws)
    r = runner.invoke(main, ["--workspace", str(ws), "store", "migrate", "--json"])
    assert r.exit_code == 0 and orjson.loads(r.stdout) | {"store": None} == {"store": None, "schema_before": "2", "schema": "3"}
    r = runner.invoke(main, ["--workspace", str(ws), "store", "migrate", "--json"])
    assert orjson.loads(r.stdout)["schema_before"] == "3"
    r = runner.invoke(main, ["--workspace", str(tmp_path / "new"), "store", "migrate", "--json"])
    assert r.exit_code == 0 and orjson.loads(r.stdout)["schema_before"] is None


@pytest.mark.parametrize("name", ["junit-no-totals.xml", "checkov-summary.json"])
def test_the_parsing_helper_hands_back_the_completeness(name: str, tmp_path: Path) -> None:
    """A file parsed by the helper process (big files) records what that parse decided, as in process."""
    folder = _folder(tmp_path, [name])
    with Store.open(tmp_path / "ws") as store:
        res = Ingester(store, Mapper(None), NOW, worker_bytes=0).ingest_file(folder / name)
        assert res.error is None, res.error
        assert [f.completeness for f in store.files()] == [FILES[name][1]]


def test_the_report_and_oscal_mark_unverified_files(assessed: Path) -> None:
    from compliance import kb as kbmod
    from compliance.assess import db
    from compliance.oscal.build import assessment_results
    from compliance.report.build import from_assessment

    with Store.open(assessed, read_only=True) as store:
        a = db.load(store)
        files = store.files()
    r = from_assessment(a, kbmod.load(), now=NOW, evidence_files=files)
    assert {e.format: e.completeness for e in r.files} == {"prowler-csv": "unverified-complete", "checkov-json": "verified"}
    resources = assessment_results(a)["assessment-results"]["back-matter"]["resources"]
    props = {r["title"]: {p["name"]: p["value"] for p in r.get("props", [])} for r in resources}
    assert {Path(t).name: p.get("completeness") for t, p in props.items() if "format" in p} == {
        "prowler.csv": "unverified-complete",
        "checkov.json": "verified",
    }
