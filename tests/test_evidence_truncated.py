"""Truncated scanner output never passes as complete: where a format states its own totals (JUnit tests= /
failures=, checkov's summary) they are checked; a prowler CSV row cut short is refused. The store is unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from compliance.evidence.ingest import Ingester
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def _case(i: int, failed: bool) -> str:
    body = f'<failure message="bad {i}">x</failure>' if failed else ""
    return f'<testcase name="[HIGH][CKV_AWS_{i}] check {i}" classname="t.yaml.Fn{i}" file="t.yaml">{body}</testcase>'


def _junit(cases: int, failed: int, *, stated: tuple[int, int] | None = None) -> bytes:
    tests, failures = stated or (cases, failed)
    inner = "".join(_case(i, i < failed) for i in range(cases))
    return (
        f'<?xml version="1.0"?><testsuites><testsuite name="checkov" tests="{tests}" failures="{failures}">'
        f"{inner}</testsuite></testsuites>"
    ).encode()


def _checkov(failed: int, passed: int, *, stated: tuple[int, int] | None = None) -> bytes:
    rec = {"check_id": "CKV_AWS_1", "check_name": "c", "resource": "AWS::Lambda::Function.Fn", "file_path": "/t.yaml"}
    sp, sf = stated or (passed, failed)
    doc = {
        "check_type": "cloudformation",
        "results": {"failed_checks": [rec] * failed, "passed_checks": [rec] * passed},
        "summary": {"passed": sp, "failed": sf, "skipped": 0, "checkov_version": "3.2.0"},
    }
    return orjson.dumps(doc)


HEADER = "AUTH_METHOD;TIMESTAMP;ACCOUNT_UID;CHECK_ID;STATUS;SEVERITY;RESOURCE_UID;REGION\n"


def _row(i: int) -> str:
    return f"profile;2026-11-01 10:00:00;123456789012;s3_bucket_public_{i};FAIL;high;arn:aws:s3:::b{i};eu-west-1\n"


CASES = {
    "junit-tests.xml": (_junit(5, 2, stated=(6, 2)), "tests=6 stated but 5 found"),
    "junit-failures.xml": (_junit(5, 2, stated=(5, 3)), "failures=3 stated but 2 found"),
    "checkov-failed.json": (_checkov(3, 2, stated=(2, 4)), "summary.failed=4 but results.failed_checks holds 3"),
    "prowler-cut.csv": ((HEADER + _row(1) + _row(2) + _row(3)[:40]).encode(), "incomplete row: 3 fields where the header has 8"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_truncated_report_is_refused(name: str, tmp_path: Path) -> None:
    content, expected = CASES[name]
    path = tmp_path / name
    path.write_bytes(content)
    with Store.open(tmp_path / "ws") as store:
        ing = Ingester(store, Mapper(None), NOW)
        before = list(store.conn.iterdump())
        res = ing.ingest_file(path)
        assert res.error is not None and expected in res.error and str(path) in res.error, res.error
        assert list(store.conn.iterdump()) == before


@pytest.mark.parametrize(
    ("name", "content", "findings"),
    [
        ("junit.xml", _junit(5, 2), 5),
        ("checkov.json", _checkov(3, 2), 5),
        ("prowler.csv", (HEADER + _row(1) + _row(2)).encode(), 2),
    ],
)
def test_complete_report_is_read(name: str, content: bytes, findings: int, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with Store.open(tmp_path / "ws") as store:
        res = Ingester(store, Mapper(None), NOW).ingest_file(path)
        assert res.error is None and res.findings == findings


def test_format_recognised_past_the_head(tmp_path: Path) -> None:
    """A CycloneDX BOM whose bomFormat and vulnerabilities come after 64 KiB of components is still read."""
    components = [
        {"type": "library", "name": f"lib{i}", "version": "1.0.0", "purl": f"pkg:pypi/lib{i}@1.0.0"} for i in range(2000)
    ]
    doc = {
        "components": components,
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "vulnerabilities": [
            {"id": "CVE-2024-0001", "affects": [{"ref": "pkg:pypi/lib1@1.0.0"}], "ratings": [{"severity": "high"}]}
        ],
    }
    path = tmp_path / "bom.json"
    path.write_bytes(orjson.dumps(doc))
    assert path.stat().st_size > 64 * 1024
    with Store.open(tmp_path / "ws") as store:
        res = Ingester(store, Mapper(None), NOW).ingest_file(path)
        assert res.error is None and res.format == "cyclonedx-json" and res.findings == 1, res


def test_gitleaks_7_legacy_report_is_read(tmp_path: Path) -> None:
    leak = {
        "line": "aws_key = AKIA...", "lineNumber": 12, "offender": "AKIAXXXXXXXXXXXXXXXX", "offenderEntropy": -1,
        "commit": "0123456789abcdef0123", "repo": "app", "repoURL": "", "leakURL": "", "rule": "AWS Access Key",
        "commitMessage": "add config", "author": "dev", "email": "dev@example.com", "file": "config/app.py",
        "date": "2021-05-01T10:00:00Z", "tags": "key, AWS",
    }  # fmt: skip
    path = tmp_path / "gitleaks.json"
    path.write_bytes(orjson.dumps([leak]))
    with Store.open(tmp_path / "ws") as store:
        res = Ingester(store, Mapper(None), NOW).ingest_file(path)
        assert res.error is None and res.format == "gitleaks-json" and res.failed == 1, res
        (f,) = store.findings()
        assert (f.rule_id, f.file, f.line) == ("AWS Access Key", "config/app.py", 12)
        assert "AKIAXXXX" not in str(f.as_dict())


def test_streamed_checkov_summary_is_checked(tmp_path: Path) -> None:
    """The streaming parse (files over the streaming size) checks the summary too when it leads the file."""
    rec = {"check_id": "CKV_AWS_1", "check_name": "c", "resource": "AWS::Lambda::Function.Fn", "file_path": "/t.yaml"}
    doc = {
        "summary": {"passed": 0, "failed": 5, "skipped": 0},
        "check_type": "cloudformation",
        "results": {"failed_checks": [rec] * 4},
    }
    path = tmp_path / "checkov.json"
    path.write_bytes(orjson.dumps(doc))
    with Store.open(tmp_path / "ws") as store:
        res = Ingester(store, Mapper(None), NOW, stream_threshold=0).ingest_file(path)
        assert res.error is not None and "summary.failed=5 but results.failed_checks holds 4" in res.error, res.error


def test_evidence_files_shows_completeness(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from compliance.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-junit.xml").write_bytes(_junit(3, 1))
    (folder / "b-prowler.csv").write_bytes((HEADER + _row(1)).encode())
    (folder / "c-gitleaks.json").write_bytes(b"[]")
    ws = ["--workspace", str(tmp_path / "ws"), "--now", "2026-11-30"]
    runner = CliRunner()
    assert runner.invoke(main, [*ws, "evidence", "ingest", str(folder)]).exit_code == 0
    r = runner.invoke(main, [*ws, "evidence", "files", "--json"])
    got = {Path(f["name"]).name: f["completeness"] for f in orjson.loads(r.stdout)}
    assert got == {"a-junit.xml": "verified", "b-prowler.csv": "unverified-complete", "c-gitleaks.json": "whole-document"}
    r = runner.invoke(main, [*ws, "evidence", "files"])
    assert "unverified-complete" in r.stdout
