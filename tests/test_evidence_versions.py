"""Older releases of each scanner, as CI archives still hold them: every shape here is either read (with its
findings where the tool put them) or refused in one line naming the version or the tool. The fixtures are
written for these tests (made-up values in each tool's field names), one per shape; the README's format table
lists the versions read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from compliance.evidence.ingest import Ingester
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def _ndjson(*rows: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in rows)


def _sarif(version: str, schema: str) -> bytes:
    rule = {"id": "DEMO001", "shortDescription": {"text": "demo rule"}}
    result = {
        "ruleIndex": 0,  # no ruleId: only the index names the rule
        "level": "warning",
        "message": {"text": "found it"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/app.py"}, "region": {"startLine": 7}}}],
    }
    run = {"tool": {"driver": {"name": "demo-scanner", "rules": [rule]}}, "results": [result]}
    return _json({"$schema": schema, "version": version, "runs": [run]})


SARIF_1 = _json(
    {
        "version": "1.0.0",
        "runs": [
            {
                "tool": {"name": "old-scanner"},
                "results": [{"ruleId": "X1", "locations": [{"resultFile": {"uri": "file:///a.c", "region": {"startLine": 3}}}]}],
            }
        ],
    }
)

CHECKOV_1X = _json(
    [
        {
            "check_type": "terraform",
            "results": {
                "passed_checks": [],
                "failed_checks": [
                    {
                        "check_id": "CKV_AWS_50",
                        "check_name": "tracing",
                        "check_result": {"result": "FAILED"},
                        "file_path": "/lambda.tf",
                        "file_line_range": [4, 9],
                        "resource": "aws_lambda_function.worker",
                    }
                ],
                "skipped_checks": [],
                "parsing_errors": [],
            },
            "summary": {"passed": 0, "failed": 1, "skipped": 0, "parsing_errors": 0},
        }
    ]
)
#: ``--quiet`` keeps only the failed list; the summary still counts the passes
CHECKOV_QUIET = _json(
    {
        "check_type": "cloudformation",
        "results": {
            "failed_checks": [
                {"check_id": "CKV_AWS_116", "check_name": "dlq", "resource": "AWS::Lambda::Function.Fn", "file_path": "/t.yaml"}
            ]
        },
        "summary": {"passed": 4, "failed": 1, "skipped": 0, "parsing_errors": 0, "checkov_version": "2.3.1"},
    }
)

TRIVY_LEGACY = _json(
    [
        {"Target": "app/requirements.txt", "Type": "pip", "Vulnerabilities": None},
        {
            "Target": "app/package-lock.json",
            "Type": "npm",
            "Vulnerabilities": [
                {"VulnerabilityID": "CVE-2020-0001", "PkgName": "leftpad", "InstalledVersion": "0.0.1", "Severity": "HIGH"}
            ],
        },
    ]
)
TRIVY_NULL_RESULTS = _json({"SchemaVersion": 2, "ArtifactName": "app", "ArtifactType": "filesystem", "Results": None})
TRIVY_NO_RESULTS = _json({"SchemaVersion": 2, "ArtifactName": "app", "ArtifactType": "filesystem"})

SEMGREP_0X = _json(
    {
        "results": [
            {
                "check_id": "rules.no-eval",
                "path": "src/handler.py",
                "start": {"line": 12, "col": 5},
                "end": {"line": 12, "col": 20},
                "extra": {"message": "eval of input", "severity": "ERROR", "metadata": {"cwe": "CWE-95: eval injection"}},
            }
        ],
        "errors": [{"message": "SemgrepCoreRuntimeErrors", "data": {"path": "src/broken.py"}}],
    }
)
SEMGREP_0X_CLEAN = _json({"results": [], "errors": []})
SEMGREP_1X_ERROR = _json(
    {
        "version": "1.40.0",
        "results": [],
        "errors": [
            {"code": 3, "level": "warn", "type": ["PartialParsing", [{"path": "a.js"}]], "message": "partial", "path": "a.js"}
        ],
        "paths": {"scanned": ["a.js"]},
    }
)

BANDIT_OLD = _json(
    {
        "errors": [],
        "generated_at": "2019-03-01T10:00:00Z",
        "metrics": {
            "_totals": {"SEVERITY.HIGH": 1, "CONFIDENCE.HIGH": 1, "loc": 20, "nosec": 0},
            "app/main.py": {"SEVERITY.HIGH": 1, "loc": 20},
        },
        "results": [
            {
                "filename": "app/main.py",
                "issue_confidence": "HIGH",
                "issue_severity": "HIGH",
                "issue_text": "shell=True",
                "line_number": 8,
                "test_id": "B602",
                "test_name": "subprocess_popen_with_shell_equals_true",
            }
        ],
    }
)

PROWLER_2_ONE_LINE = (
    _json(
        {
            "Profile": "ci",
            "Account Number": "111122223333",
            "Control": "[check21] Trail enabled in all regions",
            "Message": "no multi-region trail",
            "Severity": "High",
            "Status": "FAIL",
            "Control ID": "2.1",
            "Region": "us-east-1",
            "Timestamp": "2021-06-01T10:00:00Z",
            "Resource ID": "trail-none",
        }
    )
    + b"\n"
)
PROWLER_3_CSV = (
    b"ASSESSMENT_START_TIME;FINDING_UNIQUE_ID;PROVIDER;PROFILE;ACCOUNT_ID;REGION;CHECK_ID;CHECK_TITLE;STATUS;"
    b"STATUS_EXTENDED;SEVERITY;RESOURCE_ID;RESOURCE_ARN\r\n"
    b"2023-05-02T09:00:00;prowler-aws-x;aws;ci;111122223333;eu-west-1;awslambda_function_url_public;Public URL;FAIL;"
    b"url is public;high;fn1;arn:aws:lambda:eu-west-1:111122223333:function:fn1\r\n"
)
PROWLER_2_CSV = (
    b"PROFILE,ACCOUNT_NUM,REGION,TITLE_ID,CHECK_RESULT,ITEM_SCORED,ITEM_LEVEL,TITLE_TEXT,CHECK_RESULT_EXTENDED,"
    b"CHECK_SEVERITY,CHECK_RESOURCE_ID,PROWLER_START_TIME\n"
    b"ci,111122223333,eu-west-1,extra7180,FAIL,Not Scored,EXTRA,Lambda public,fn2 is public,High,fn2,2021-06-01T10:00:00Z"
)  # a 2.x export trimmed by hand: no line end after the last row
PROWLER_3_JSON_AZURE = _json(
    [
        {
            "AssessmentStartTime": "2023-05-02T09:00:00",
            "Provider": "azure",
            "CheckID": "storage_secure_transfer_required_is_enabled",
            "CheckTitle": "secure transfer",
            "Status": "FAIL",
            "StatusExtended": "off",
            "Severity": "medium",
            "Subscription": "sub-0001",
            "ResourceId": "acct1",
            "Location": "westeurope",
        }
    ]
)

TFSEC_0X = _json(
    {
        "results": [
            {
                "rule_id": "AWS002",
                "link": "https://example.invalid/AWS002",
                "location": {"filename": "/src/s3.tf", "start_line": 3, "end_line": 9},
                "description": "bucket has no logging",
                "severity": "ERROR",
            }
        ]
    }
)
CFN_LINT_V0 = _json(
    [
        {
            "Filename": "template.yaml",
            "Level": "Informational",
            "Location": {"Start": {"ColumnNumber": 3, "LineNumber": 10}, "End": {"ColumnNumber": 9, "LineNumber": 10}},
            "Message": "consider a newer runtime",
            "Rule": {"Id": "I2530", "Description": "d", "ShortDescription": "runtime", "Source": "x"},
        }
    ]
)
OSV_NO_GROUPS = _json(
    {
        "results": [
            {
                "source": {"path": "/repo/go.mod", "type": "lockfile"},
                "packages": [
                    {
                        "package": {"name": "example.org/lib", "version": "1.0.0", "ecosystem": "Go"},
                        "vulnerabilities": [{"id": "GO-2022-0001", "summary": "a flaw"}],
                    }
                ],
            }
        ]
    }
)
PIP_AUDIT_LIST = _json(
    [{"name": "oldlib", "version": "0.1", "vulns": [{"id": "PYSEC-2021-1", "fix_versions": ["0.2"], "description": "d"}]}]
)
OPENVEX_001 = _json(
    {
        "@context": "https://openvex.dev/ns",
        "@id": "https://example.invalid/vex-1",
        "author": "team",
        "timestamp": "2023-01-10T12:00:00Z",
        "version": "1",
        "statements": [
            {"vulnerability": "CVE-2022-0002", "products": ["pkg:pypi/lib@1.0"], "status": "not_affected",
             "justification": "vulnerable_code_not_present"},
        ],
    }
)  # fmt: skip
CYCLONEDX_14 = _json(
    {
        "bomFormat": "CycloneDX",
        "specVersion": "1.4",
        "version": 1,
        "components": [{"bom-ref": "pkg:npm/a@1.0.0", "type": "library", "name": "a", "version": "1.0.0"}],
        "vulnerabilities": [{"id": "CVE-2021-0003", "affects": [{"ref": "pkg:npm/a@1.0.0"}], "ratings": [{"severity": "low"}]}],
    }
)
CFN_GUARD_2 = _json(
    {
        "name": "template.yaml",
        "metadata": {},
        "status": "FAIL",
        "not_compliant": [{"Rule": {"name": "LAMBDA_INSIDE_VPC", "metadata": {}, "messages": {}, "checks": []}}],
        "not_applicable": [],
        "compliant": ["S3_ENCRYPTED"],
    }
)
CONFTEST_OLD = _json([{"filename": "deploy.yaml", "warnings": [], "failures": ["[no_root] containers must not run as root"]}])
JUNIT_BARE_SUITE = (
    b'<?xml version="1.0"?><testsuite name="pytest">'
    b'<testcase classname="tests.a" name="test_x"><failure message="boom"/></testcase></testsuite>'
)
KICS_OLD = _json(
    {
        "kics_version": "1.2.0",
        "files_scanned": 1,
        "queries_total": 1,
        "queries": [
            {
                "query_name": "S3 logging",
                "query_id": "f861041c-0000-0000-0000-000000000000",
                "severity": "MEDIUM",
                "platform": "Terraform",
                "files": [{"file_name": "s3.tf", "line": 4, "issue_type": "MissingAttribute", "search_key": "aws_s3_bucket[b]"}],
            }
        ],
    }
)

#: name -> (content, format, (failed, passed, other))
READ: dict[str, tuple[bytes, str, tuple[int, int, int]]] = {
    "sarif-2.1.0-schemastore.json": (
        _sarif("2.1.0", "https://json.schemastore.org/sarif-2.1.0.json"), "sarif", (1, 0, 0)),
    "sarif-2.1.0-rtm5.json": (
        _sarif("2.1.0", "https://schemastore.azurewebsites.net/schemas/json/sarif-2.1.0-rtm.5.json"), "sarif", (1, 0, 0)),
    "checkov-1x-list.json": (CHECKOV_1X, "checkov-json", (1, 0, 0)),
    "checkov-quiet.json": (CHECKOV_QUIET, "checkov-json", (1, 0, 0)),
    "checkov-bare-summary-old.json": (
        _json({"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0}), "checkov-json", (0, 0, 0)),
    "trivy-legacy-list.json": (TRIVY_LEGACY, "trivy-json", (1, 0, 0)),
    "trivy-results-null.json": (TRIVY_NULL_RESULTS, "trivy-json", (0, 0, 0)),
    "trivy-no-results.json": (TRIVY_NO_RESULTS, "trivy-json", (0, 0, 0)),
    "semgrep-0x.json": (SEMGREP_0X, "semgrep-json", (1, 0, 1)),
    "semgrep-0x-clean.json": (SEMGREP_0X_CLEAN, "semgrep-json", (0, 0, 0)),
    "semgrep-1x-error-kind.json": (SEMGREP_1X_ERROR, "semgrep-json", (0, 0, 1)),
    "bandit-old.json": (BANDIT_OLD, "bandit-json", (1, 0, 0)),
    "prowler-2-one-line.json": (PROWLER_2_ONE_LINE, "prowler-json", (1, 0, 0)),
    "prowler-3.csv": (PROWLER_3_CSV, "prowler-csv", (1, 0, 0)),
    "prowler-2.csv": (PROWLER_2_CSV, "prowler-csv", (1, 0, 0)),
    "prowler-3-azure.json": (PROWLER_3_JSON_AZURE, "prowler-json", (1, 0, 0)),
    "tfsec-0x.json": (TFSEC_0X, "tfsec-json", (1, 0, 0)),
    "cfn-lint-v0.json": (CFN_LINT_V0, "cfn-lint-json", (1, 0, 0)),
    "osv-no-groups.json": (OSV_NO_GROUPS, "osv-scanner-json", (1, 0, 0)),
    "pip-audit-list.json": (PIP_AUDIT_LIST, "pip-audit-json", (1, 0, 0)),
    "openvex-0.0.1.json": (OPENVEX_001, "openvex-json", (0, 1, 0)),
    "cyclonedx-1.4.json": (CYCLONEDX_14, "cyclonedx-json", (1, 0, 0)),
    "cfn-guard-2.json": (CFN_GUARD_2, "cfn-guard-json", (1, 1, 0)),
    "conftest-old.json": (CONFTEST_OLD, "conftest-json", (1, 0, 0)),
    "junit-bare-suite.xml": (JUNIT_BARE_SUITE, "junit-xml", (1, 0, 0)),
    "kics-old.json": (KICS_OLD, "kics-json", (1, 0, 0)),
}  # fmt: skip


def _ingest(tmp_path: Path, name: str, content: bytes) -> tuple[Any, list[Any]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / name
    path.write_bytes(content)
    with Store.open(tmp_path / "ws") as store:
        res = Ingester(store, Mapper(None), NOW).ingest_file(path)
        return res, list(store.findings())


@pytest.mark.parametrize("name", sorted(READ))
def test_older_shape_is_read(name: str, tmp_path: Path) -> None:
    content, fmt, (failed, passed, other) = READ[name]
    res, _ = _ingest(tmp_path, name, content)
    assert res.error is None, res.error
    assert (res.format, res.failed, res.passed, res.other) == (fmt, failed, passed, other)


def test_older_shapes_keep_where_the_finding_is(tmp_path: Path) -> None:
    """The fields older releases name differently still land in the record."""
    (f,) = _ingest(tmp_path / "a", "prowler-3.csv", PROWLER_3_CSV)[1]
    assert (f.account, f.region, f.rule_id, f.scan_time) == ("111122223333", "eu-west-1", "awslambda_function_url_public",
                                                             "2023-05-02T09:00:00Z")  # fmt: skip
    assert f.resource == "arn:aws:lambda:eu-west-1:111122223333:function:fn1"
    (f,) = _ingest(tmp_path / "b", "prowler-2.csv", PROWLER_2_CSV)[1]
    assert (f.account, f.resource, f.scan_time) == ("111122223333", "fn2", "2021-06-01T10:00:00Z")
    (f,) = _ingest(tmp_path / "c", "prowler-3-azure.json", PROWLER_3_JSON_AZURE)[1]
    assert (f.provider, f.account, f.region) == ("azure", "sub-0001", "westeurope")
    (f,) = _ingest(tmp_path / "d", "prowler-2-one-line.json", PROWLER_2_ONE_LINE)[1]
    assert (f.rule_id, f.resource, f.account) == ("check21", "trail-none", "111122223333")
    (f,) = _ingest(tmp_path / "e", "sarif.json", READ["sarif-2.1.0-rtm5.json"][0])[1]
    assert (f.rule_id, f.file, f.line, f.severity) == ("DEMO001", "src/app.py", 7, "medium")
    (f,) = _ingest(tmp_path / "f", "tfsec.json", TFSEC_0X)[1]
    assert (f.rule_id, f.severity, f.file, f.line) == ("AWS002", "high", "src/s3.tf", 3)
    found = _ingest(tmp_path / "g", "semgrep.json", SEMGREP_0X)[1]
    fail = next(x for x in found if x.result == "fail")
    assert (fail.cwes, fail.line, fail.severity) == (("CWE-95",), 12, "high")
    (f,) = _ingest(tmp_path / "h", "semgrep-1x.json", SEMGREP_1X_ERROR)[1]
    assert f.rule_title == "PartialParsing"
    (f,) = _ingest(tmp_path / "i", "conftest.json", CONFTEST_OLD)[1]
    assert (f.rule_id, f.file) == ("no_root", "deploy.yaml")
    (f,) = _ingest(tmp_path / "j", "openvex.json", OPENVEX_001)[1]
    assert (f.rule_id, f.resource) == ("CVE-2022-0002", "pkg:pypi/lib@1.0")


REFUSED = {
    "sarif-1.0.0.json": (SARIF_1, "SARIF version 1.0.0 is not read (only 2.1.0)"),
    "sarif-2.0.0.json": (_sarif("2.0.0", "http://json.schemastore.org/sarif-2.0.0"), "SARIF version 2.0.0 is not read"),
    "npm-audit-7.json": (_json({"auditReportVersion": 2, "vulnerabilities": {}, "metadata": {}}), "npm audit JSON (npm 7"),
    "npm-audit-6.json": (_json({"actions": [], "advisories": {}, "muted": [], "metadata": {}}), "npm audit JSON (npm 6)"),
    "grype.json": (_json({"matches": [], "source": {}, "distro": {}, "descriptor": {"name": "grype"}}), "grype JSON"),
    "syft.json": (_json({"artifacts": [], "artifactRelationships": [], "source": {}}), "syft JSON"),
    "snyk.json": (_json({"vulnerabilities": [], "ok": True, "dependencyCount": 3, "packageManager": "npm"}), "Snyk JSON"),
    "prowler-3-cut.csv": (PROWLER_3_CSV[:-9], "last row has no line end"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unread_shape_is_refused_in_one_line(name: str, tmp_path: Path) -> None:
    content, expected = REFUSED[name]
    res, found = _ingest(tmp_path, name, content)
    assert res.error is not None and expected in res.error and name in res.error, res.error
    assert "\n" not in res.error and found == []


def test_streamed_quiet_checkov_report_is_read(tmp_path: Path) -> None:
    """Streamed too, a summary counting passes that ``--quiet`` left out is not taken for a cut."""
    path = tmp_path / "quiet.json"
    path.write_bytes(CHECKOV_QUIET)
    with Store.open(tmp_path / "ws") as store:
        res = Ingester(store, Mapper(None), NOW, stream_threshold=0).ingest_file(path)
    assert res.error is None and (res.failed, res.passed) == (1, 0), res.error
