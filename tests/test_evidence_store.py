"""The evidence store: idempotent re-ingest, tamper detection, first/last seen and closing across scans,
the mapping order (rule → tool fallback → CWE → unmapped), attestations, and the list/show/unmapped CLI."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.evidence.ingest import Ingester
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _shared_kb_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("SCKB_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "evidence-kb-cache"))


def bandit(when: str, results: list[tuple[str, int, str]], scanned: list[str]) -> bytes:
    """A bandit JSON report: results are (file, line, test_id)."""
    return orjson.dumps(
        {
            "errors": [],
            "generated_at": when,
            "metrics": {f"./{f}": {"loc": 10} for f in scanned},
            "results": [
                {
                    "filename": f"./{f}",
                    "line_number": line,
                    "test_id": tid,
                    "test_name": tid.lower(),
                    "issue_severity": "HIGH",
                    "issue_confidence": "HIGH",
                    "issue_cwe": {"id": 1 if tid == "B999" else 78},
                    "issue_text": f"{tid} at {f}:{line}",
                }
                for f, line, tid in results
            ],
        }
    )


def ingest(store: Store, path: Path, mapper: Mapper | None = None) -> Any:
    res = Ingester(store, mapper or Mapper(None), T0).ingest_file(path)
    assert res.error is None, res.error
    return res


def by_rule(store: Store) -> dict[tuple[str, str | None], Any]:
    return {(f.rule_id, f.file): f for f in store.findings()}


# ------------------------------------------------------------------ re-ingest, verify


def test_reingest_same_file_changes_nothing(tmp_path: Path) -> None:
    p = tmp_path / "scan.json"
    p.write_bytes(bandit("2026-11-01T10:00:00Z", [("app.py", 3, "B602")], ["app.py"]))
    with Store.open(tmp_path / "ws") as store:
        first = ingest(store, p)
        assert (first.failed, first.skipped) == (1, None)
        dump = list(store.conn.iterdump())
        locker = sorted(x.relative_to(tmp_path) for x in (tmp_path / "ws" / "locker").rglob("*") if x.is_file())
        copy = tmp_path / "copy-of-scan.json"  # same bytes under another name: the same evidence
        copy.write_bytes(p.read_bytes())
        for again in (p, copy):
            res = Ingester(store, Mapper(None), datetime(2027, 1, 1, tzinfo=UTC)).ingest_file(again)
            assert res.skipped == "already ingested (same SHA-256)" and res.findings == 0
        assert list(store.conn.iterdump()) == dump
        assert sorted(x.relative_to(tmp_path) for x in (tmp_path / "ws" / "locker").rglob("*") if x.is_file()) == locker
        assert store.locker_path(first.sha256).read_bytes() == p.read_bytes()


def test_verify_detects_flipped_locker_byte_and_edited_rows(tmp_path: Path, runner: CliRunner) -> None:
    ws = tmp_path / "ws"
    p1, p2 = tmp_path / "a.json", tmp_path / "b.json"
    p1.write_bytes(bandit("2026-11-01T10:00:00Z", [("app.py", 3, "B602"), ("app.py", 9, "B105")], ["app.py"]))
    p2.write_bytes(bandit("2026-11-02T10:00:00Z", [("app.py", 3, "B602")], ["app.py"]))
    with Store.open(ws) as store:
        r1, _ = ingest(store, p1), ingest(store, p2)
        assert store.verify() == []
    ok = runner.invoke(main, ["--workspace", str(ws), "evidence", "verify"])
    assert ok.exit_code == 0 and ok.stdout.startswith("ok: 2 files, 3 observations")

    # 1. a flipped byte in a locker file
    locked = ws / "locker" / r1.sha256[:2] / r1.sha256
    data = bytearray(locked.read_bytes())
    data[10] ^= 0x01
    locked.write_bytes(bytes(data))
    with Store.open(ws) as store:
        kinds = [(p.kind, p.where) for p in store.verify()]
    assert kinds == [("locker", f"file {p1} ({r1.sha256[:12]})")]
    res = runner.invoke(main, ["--workspace", str(ws), "evidence", "verify", "--json"])
    assert res.exit_code == 1 and orjson.loads(res.stdout)["problems"][0]["kind"] == "locker"
    data[10] ^= 0x01
    locked.write_bytes(bytes(data))

    # 2. an edited observation row (a failure turned into a pass, behind sckb's back)
    conn = sqlite3.connect(ws / "evidence.db")
    conn.execute("UPDATE observations SET result='pass' WHERE rule_id='B105'")
    conn.commit()
    with Store.open(ws) as store:
        problems = store.verify()
    assert [p.kind for p in problems] == ["row"] and "B105" in problems[0].where
    # ... even when the forger also recomputes that row's digest: the file's rows digest breaks
    from compliance.evidence.store import OBS_COLUMNS, row_digest

    row = conn.execute("SELECT id, file_id, " + ", ".join(OBS_COLUMNS) + " FROM observations WHERE rule_id='B105'").fetchone()
    conn.execute("UPDATE observations SET digest=? WHERE id=?", (row_digest(row[0], row[1], tuple(row[2:])), row[0]))
    conn.commit()
    with Store.open(ws) as store:
        assert [p.kind for p in store.verify()] == ["file"]
    # 3. an edited file row (a different scan time) breaks the hash chain
    conn.execute("UPDATE observations SET result='fail' WHERE rule_id='B105'")
    conn.execute("UPDATE files SET scan_time='2020-01-01T00:00:00Z' WHERE id=1")
    conn.commit()
    with Store.open(ws) as store:
        assert "chain" in [p.kind for p in store.verify()]
    # 4. a deleted observation row
    conn.execute("UPDATE files SET scan_time='2026-11-01T10:00:00Z' WHERE id=1")
    conn.execute("DELETE FROM observations WHERE rule_id='B105'")
    conn.commit()
    conn.close()
    with Store.open(ws) as store:
        kinds = {p.kind for p in store.verify()}
    assert "file" in kinds and "identity" in kinds
    res = runner.invoke(main, ["--workspace", str(ws), "evidence", "verify"])
    assert res.exit_code == 1 and "FAILED" in res.stderr


def test_verify_without_a_store_is_not_found(tmp_path: Path, runner: CliRunner) -> None:
    res = runner.invoke(main, ["--workspace", str(tmp_path / "nothing"), "evidence", "verify"])
    assert res.exit_code == 4 and "no evidence store" in res.stderr
    assert not (tmp_path / "nothing").exists()


# ------------------------------------------------------------------ history across scans


@pytest.mark.usefixtures("engine")  # on SQLite and on PostgreSQL
def test_first_last_seen_and_closing_across_two_scans(tmp_path: Path) -> None:
    s1, s2, other = tmp_path / "s1.json", tmp_path / "s2.json", tmp_path / "other.json"
    s1.write_bytes(
        bandit(
            "2026-11-01T10:00:00Z", [("app.py", 3, "B602"), ("app.py", 9, "B105"), ("util.py", 4, "B303")], ["app.py", "util.py"]
        )
    )
    # the second scan of the same code: B105 was fixed, util.py is now clean (scanned, nothing reported)
    s2.write_bytes(bandit("2026-11-08T10:00:00Z", [("app.py", 3, "B602")], ["app.py", "util.py"]))
    # a scan of another project by the same tool closes nothing here
    other.write_bytes(bandit("2026-11-09T10:00:00Z", [("lib/x.py", 1, "B101")], ["lib/x.py"]))
    with Store.open(tmp_path / "ws") as store:
        ingest(store, s1)
        assert {f.status for f in store.findings()} == {"open"}
        ingest(store, s2)
        ingest(store, other)
        f = by_rule(store)
    kept = f[("B602", "app.py")]
    assert (kept.status, kept.first_seen, kept.last_seen, kept.observations) == (
        "open",
        "2026-11-01T10:00:00Z",
        "2026-11-08T10:00:00Z",
        2,
    )
    fixed = f[("B105", "app.py")]
    assert (fixed.status, fixed.first_seen, fixed.last_seen) == ("closed", "2026-11-01T10:00:00Z", "2026-11-01T10:00:00Z")
    assert f[("B303", "util.py")].status == "closed"
    assert f[("B101", "lib/x.py")].status == "open"


@pytest.mark.usefixtures("engine")  # on SQLite and on PostgreSQL
def test_late_arrival_of_an_older_scan_does_not_reopen(tmp_path: Path) -> None:
    s1, s2 = tmp_path / "s1.json", tmp_path / "s2.json"
    s1.write_bytes(bandit("2026-11-01T10:00:00Z", [("app.py", 3, "B602"), ("app.py", 9, "B105")], ["app.py"]))
    s2.write_bytes(bandit("2026-11-08T10:00:00Z", [("app.py", 3, "B602")], ["app.py"]))
    with Store.open(tmp_path / "ws") as store:
        ingest(store, s2)
        ingest(store, s1)  # the older scan arrives last
        f = by_rule(store)
    assert f[("B105", "app.py")].status == "closed"
    assert (f[("B602", "app.py")].status, f[("B602", "app.py")].last_seen) == ("open", "2026-11-08T10:00:00Z")
    assert f[("B602", "app.py")].scan_time == "2026-11-08T10:00:00Z"  # the latest observation wins


@pytest.mark.usefixtures("engine")  # on SQLite and on PostgreSQL
def test_pass_after_fail_is_passing(tmp_path: Path) -> None:
    def checkov(result: str) -> bytes:
        rec = {
            "check_id": "CKV_AWS_116",
            "check_name": "DLQ",
            "check_result": {"result": result.upper()},
            "resource": "AWS::Serverless::Function.Worker",
            "file_path": "/template.yaml",
            "file_line_range": [10, 30],
        }
        key = "failed_checks" if result == "failed" else "passed_checks"
        return orjson.dumps({"check_type": "cloudformation", "results": {key: [rec]}, "summary": {"checkov_version": "3.3.30"}})

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_bytes(checkov("failed"))
    b.write_bytes(checkov("passed"))
    with Store.open(tmp_path / "ws") as store:
        Ingester(store, Mapper(None), T0).ingest_file(a)
        Ingester(store, Mapper(None), datetime(2026, 12, 1, tzinfo=UTC)).ingest_file(b)
        (f,) = list(store.findings())
    assert (f.status, f.result, f.function, f.first_seen, f.last_seen) == (
        "passing",
        "pass",
        "Worker",
        "2026-11-30T09:00:00Z",
        "2026-12-01T00:00:00Z",
    )


# ------------------------------------------------------------------ mapping


MINI_KB = """
families:
  - {id: AC, title: Access Control}
  - {id: SI, title: System and Information Integrity}
controls:
  - {id: AC-6, title: Least Privilege, family: AC}
  - {id: SI-10, title: Information Input Validation, family: SI}
risks:
  - id: SAS-1
    title: Function event-data injection
    taxonomy: csa-2019
    description: Untrusted event data reaches an interpreter.
    source: test
mitigations:
  - id: least-privilege-role
    title: Least-privilege role
    phase: identity
    description: One role per function.
    guidance: {aws: a, gcp: g, azure: z}
    controls:
      - {to: AC-6, relationship: intersects-with, rationale: test, source: test}
  - id: validate-input
    title: Validate event input
    phase: event-input
    description: Validate input.
    guidance: {aws: a, gcp: g, azure: z}
    risks: [SAS-1]
    controls:
      - {to: SI-10, relationship: intersects-with, rationale: test, source: test}
  - id: dependency-scanning
    title: Scan dependencies
    phase: code
    description: Scan dependencies.
    guidance: {aws: a, gcp: g, azure: z}
rules:
  - id: checkov:CKV_AWS_111
    title: IAM write without constraints
    tool: checkov
    rule_id: CKV_AWS_111
    source: test
    mitigations:
      - {to: least-privilege-role, relationship: subset-of, rationale: test, source: test}
  - id: semgrep:python.lang.security.audit.subprocess-shell-true.subprocess-shell-true
    title: subprocess shell
    tool: semgrep
    rule_id: python.lang.security.audit.subprocess-shell-true.subprocess-shell-true
    source: test
    mitigations:
      - {to: validate-input, relationship: intersects-with, rationale: test, source: test}
  - id: pip-audit:*
    title: any pip-audit vulnerability
    tool: pip-audit
    rule_id: "*"
    source: test
    mitigations:
      - {to: dependency-scanning, relationship: subset-of, rationale: test, source: test}
cwes:
  - id: CWE-78
    title: OS command injection
    risks:
      - {to: SAS-1, relationship: intersects-with, rationale: test, source: test}
"""


@pytest.fixture
def mini_mapper(tmp_path: Path) -> Mapper:
    d = tmp_path / "kb"
    d.mkdir()
    (d / "mini.yaml").write_text(MINI_KB)
    base = kbmod.load(data_dirs=[d])
    assert [p for p in base.problems if p.severity == "error" and "orphan" not in p.message] == []
    return Mapper(base)


def test_mapping_order(mini_mapper: Mapper) -> None:
    m = mini_mapper.map("checkov", "CKV_AWS_111", ())
    assert (m.mitigations, m.controls, m.mapped_by) == (("least-privilege-role",), ("AC-6",), "rule")
    # semgrep reports ids with its rules-folder prefix: leading components are dropped to find the KB rule
    m = mini_mapper.map("semgrep", "semgrep-rules.python.lang.security.audit.subprocess-shell-true.subprocess-shell-true", ())
    assert m.mapped_by == "rule" and m.mitigations == ("validate-input",)
    assert mini_mapper.map("pip-audit", "PYSEC-2021-76", ()).mapped_by == "tool"
    m = mini_mapper.map("bandit", "B602", ("CWE-78",))  # no bandit rule in this KB: the CWE leads to SAS-1's mitigation
    assert (m.mitigations, m.controls, m.mapped_by) == (("validate-input",), ("SI-10",), "cwe")
    m = mini_mapper.map("checkov", "CKV_AWS_999", ("CWE-1",))
    assert (m.mitigations, m.mapped_by) == ((), "none")
    m = mini_mapper.attestation(("least-privilege-role", "SI-10", "NOPE-1"))
    assert (m.mitigations, m.controls, m.mapped_by) == (("least-privilege-role",), ("AC-6", "SI-10"), "attestation")


@pytest.mark.usefixtures("engine")  # on SQLite and on PostgreSQL
def test_store_filters_and_unmapped(tmp_path: Path, mini_mapper: Mapper) -> None:
    p = tmp_path / "checkov.json"
    recs = [
        {"check_id": cid, "check_name": cid, "check_result": {"result": "FAILED"}, "resource": f"AWS::IAM::Role.{cid}",
         "file_path": "/template.yaml", "file_line_range": [1, 2]}
        for cid in ("CKV_AWS_111", "CKV_AWS_999")
    ]  # fmt: skip
    p.write_bytes(orjson.dumps({"check_type": "cloudformation", "results": {"failed_checks": recs}, "summary": {}}))
    with Store.open(tmp_path / "ws") as store:
        res = ingest(store, p, mini_mapper)
        assert (res.failed, res.mapped) == (2, 1)
        assert [f.rule_id for f in store.findings(mitigation="least-privilege-role")] == ["CKV_AWS_111"]
        assert [f.rule_id for f in store.findings(control="AC-6")] == ["CKV_AWS_111"]
        assert [f.rule_id for f in store.findings(control="AC-")] == []  # whole ids only
        assert [f.rule_id for f in store.findings(mapped=False)] == ["CKV_AWS_999"]
        assert [f.mapped_by for f in store.findings(tool="checkov", status="open")] == ["rule", "none"]


# ------------------------------------------------------------------ attestations and the CLI


def test_attestation_with_attachments_and_cli_views(tmp_path: Path, runner: CliRunner) -> None:
    ev = tmp_path / "evidence"
    (ev / "attachments").mkdir(parents=True)
    (ev / "attachments" / "training-roster.pdf").write_bytes(b"%PDF-1.4 roster")
    (ev / "attest.yaml").write_text(
        "sckb-attestation: 1\n"
        "attestations:\n"
        "  - id: workforce-training-2026\n"
        "    control: AT-2\n"
        "    mitigation: least-privilege-execution-role\n"
        "    statement: Every engineer with production access completed security training.\n"
        "    who: Dana Reyes, Security Officer\n"
        "    when: 2026-11-02\n"
        "    method: INTERVIEW\n"
        "    attachments: [attachments/training-roster.pdf]\n"
    )
    (ev / "scan.json").write_bytes(bandit("2026-11-01T10:00:00Z", [("app.py", 3, "B602")], ["app.py"]))
    # a tool the KB has never heard of: its findings reach nothing, and are kept
    sarif = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "acme-scanner", "version": "0.1"}},
             "results": [{"ruleId": "ACME-1", "message": {"text": "odd"}, "locations": [{"physicalLocation": {
                 "artifactLocation": {"uri": "app.py"}, "region": {"startLine": 5}}}]}]}]}  # fmt: skip
    (ev / "unmapped.sarif").write_bytes(orjson.dumps(sarif))
    ws = str(tmp_path / "ws")
    res = runner.invoke(main, ["--workspace", ws, "--now", "2026-11-30", "evidence", "ingest", "--json", str(ev)])
    assert res.exit_code == 0, res.output
    rows = {Path(r["path"]).name: r for r in orjson.loads(res.stdout)}
    assert rows["attest.yaml"]["format"] == "attestation-yaml" and rows["attest.yaml"]["findings"]["passed"] == 1

    res = runner.invoke(main, ["--workspace", ws, "evidence", "list", "--tool", "sckb-attestation", "--json"])
    (att,) = orjson.loads(res.stdout)
    assert att["method"] == "INTERVIEW" and att["targets"] == ["AT-2", "least-privilege-execution-role"]
    assert att["mapped_by"] == "attestation" and att["scan_time"] == "2026-11-02T00:00:00Z" and att["status"] == "passing"
    assert "AT-2" in att["controls"] and "training-roster.pdf (sha256:" in att["message"]
    with Store.open(Path(ws)) as store:
        (sha,) = [r[0] for r in store.conn.execute("SELECT sha256 FROM attachments")]
        assert store.locker_path(sha).read_bytes() == b"%PDF-1.4 roster"
        assert store.verify() == []

    res = runner.invoke(main, ["--workspace", ws, "evidence", "unmapped", "--json"])
    assert [(f["tool"], f["rule_id"], f["mapped_by"]) for f in orjson.loads(res.stdout)] == [("acme-scanner", "ACME-1", "none")]
    res = runner.invoke(main, ["--workspace", ws, "evidence", "unmapped"])
    assert "ACME-1" in res.stdout and "1 unmapped findings" in res.stdout

    res = runner.invoke(main, ["--workspace", ws, "evidence", "list", "--rule", "B602", "--json"])
    (b602,) = orjson.loads(res.stdout)
    shown = runner.invoke(main, ["--workspace", ws, "evidence", "show", b602["identity"][:10], "--json"])
    data = orjson.loads(shown.stdout)
    assert data["identity"] == b602["identity"] and data["history"][0]["pointer"] == "/results/0"
    assert runner.invoke(main, ["--workspace", ws, "evidence", "show", "ffffffffff"]).exit_code == 4
    table = runner.invoke(main, ["--workspace", ws, "evidence", "list", "--status", "open"])
    assert "B602" in table.stdout and "ACME-1" in table.stdout and "workforce" not in table.stdout
    files = orjson.loads(runner.invoke(main, ["--workspace", ws, "evidence", "files", "--json"]).stdout)
    assert [f["format"] for f in files] == ["attestation-yaml", "bandit-json", "sarif"]
    fmts = orjson.loads(runner.invoke(main, ["evidence", "formats", "--json"]).stdout)
    assert {"sarif", "checkov-json", "asff-json", "guardduty-json", "gcp-scc-json", "attestation-yaml", "junit-xml"} <= {
        f["name"] for f in fmts
    }


def test_workspace_from_environment(tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "scan.json"
    p.write_bytes(bandit("2026-11-01T10:00:00Z", [("app.py", 3, "B602")], ["app.py"]))
    monkeypatch.setenv("SCKB_WORKSPACE", str(tmp_path / "envws"))
    assert runner.invoke(main, ["evidence", "ingest", str(p)]).exit_code == 0
    assert (tmp_path / "envws" / "evidence.db").is_file()
    assert len(list((tmp_path / "envws" / "locker").glob("*/*"))) == 1
