"""Formats the corpus has no sample of (native GuardDuty, Google SCC, SARIF results of kind pass, generic JUnit),
field mapping details, detection from content only, and the one-module-per-format registry."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from compliance.evidence.formats import Format, registry
from compliance.evidence.ingest import Ingester
from compliance.evidence.mapping import Mapper
from compliance.evidence.parsing import cwes, iso_time, severity
from compliance.evidence.store import Store

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def ingest(tmp_path: Path, name: str, data: bytes, **kw: Any) -> tuple[Any, list[Any]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    p = tmp_path / name
    p.write_bytes(data)
    with Store.open(tmp_path / "ws") as store:
        res = Ingester(store, Mapper(None), NOW, **kw).ingest_file(p)
        found = list(store.findings())
    assert res.error is None, res.error
    return res, found


GUARDDUTY = {
    "Findings": [
        {
            "AccountId": "111122223333",
            "Arn": "arn:aws:guardduty:us-east-1:111122223333:detector/d1/finding/f1",
            "CreatedAt": "2026-10-01T12:00:00.000Z",
            "Id": "f1",
            "Region": "us-east-1",
            "Resource": {
                "ResourceType": "Lambda",
                "LambdaDetails": {
                    "FunctionArn": "arn:aws:lambda:us-east-1:111122223333:function:phi-api",
                    "FunctionName": "phi-api",
                },
            },
            "SchemaVersion": "2.0",
            "Service": {"Archived": False, "Count": 3, "ServiceName": "guardduty"},
            "Severity": 8,
            "Title": "Lambda function phi-api is querying a cryptocurrency-related domain.",
            "Description": "The function contacted a mining pool.",
            "Type": "CryptoCurrency:Lambda/BitcoinTool.B",
            "UpdatedAt": "2026-10-02T08:30:00.000Z",
        },
        {
            "AccountId": "111122223333",
            "Region": "us-east-1",
            "Resource": {"ResourceType": "AccessKey", "AccessKeyDetails": {"UserName": "ci", "AccessKeyId": "AKIAEXAMPLE"}},
            "Service": {"Archived": True},
            "Severity": 2,
            "Type": "Recon:IAMUser/MaliciousIPCaller",
            "UpdatedAt": "2026-10-03T08:30:00Z",
        },
    ]
}


def test_native_guardduty(tmp_path: Path) -> None:
    res, found = ingest(tmp_path, "gd.json", orjson.dumps(GUARDDUTY))
    assert (res.format, res.tool, res.failed, res.other) == ("guardduty-json", "guardduty", 1, 1)
    lam = next(f for f in found if f.function)
    assert lam.rule_id == "CryptoCurrency:Lambda/BitcoinTool.B" and lam.severity == "high"
    assert (lam.function, lam.account, lam.region, lam.provider) == ("phi-api", "111122223333", "us-east-1", "aws")
    assert lam.resource == "arn:aws:lambda:us-east-1:111122223333:function:phi-api"
    assert (lam.scan_time, lam.scan_time_source, lam.pointer) == ("2026-10-02T08:30:00Z", "file", "/Findings/0")
    archived = next(f for f in found if not f.function)
    assert (archived.result, archived.severity, archived.status) == ("info", "low", "info")


SCC = [
    {
        "finding": {
            "name": "organizations/1/sources/2/findings/abc",
            "parent": "organizations/1/sources/2",
            "resourceName": "//cloudfunctions.googleapis.com/projects/phi-prod/locations/us-central1/functions/intake",
            "state": "ACTIVE",
            "category": "PUBLIC_FUNCTION",
            "severity": "HIGH",
            "findingClass": "MISCONFIGURATION",
            "eventTime": "2026-11-20T10:00:00Z",
            "description": "The function allows unauthenticated invocation.",
        },
        "resource": {
            "name": "//cloudfunctions.googleapis.com/projects/phi-prod/locations/us-central1/functions/intake",
            "projectDisplayName": "phi-prod",
            "type": "google.cloudfunctions.CloudFunction",
        },
    },
    {
        "finding": {
            "name": "organizations/1/sources/2/findings/def",
            "resourceName": "//storage.googleapis.com/phi-bucket",
            "state": "INACTIVE",
            "category": "PUBLIC_BUCKET_ACL",
            "severity": "CRITICAL",
            "findingClass": "MISCONFIGURATION",
            "eventTime": "2026-11-21T10:00:00Z",
        },
        "resource": {"name": "//storage.googleapis.com/phi-bucket", "projectDisplayName": "phi-prod"},
    },
]


def test_google_scc(tmp_path: Path) -> None:
    res, found = ingest(tmp_path, "scc.json", orjson.dumps(SCC))
    assert (res.format, res.tool, res.failed, res.passed) == ("gcp-scc-json", "gcp-scc", 1, 1)
    fn = next(f for f in found if f.rule_id == "PUBLIC_FUNCTION")
    assert (fn.function, fn.account, fn.region, fn.provider, fn.severity) == ("intake", "phi-prod", "us-central1", "gcp", "high")
    bucket = next(f for f in found if f.rule_id == "PUBLIC_BUCKET_ACL")
    assert (bucket.result, bucket.status, bucket.severity) == ("pass", "passing", "critical")
    # the API shape wraps the same records
    _, again = ingest(tmp_path / "api", "scc-api.json", orjson.dumps({"listFindingsResults": SCC, "totalSize": 2}))
    assert sorted(f.rule_id for f in again) == ["PUBLIC_BUCKET_ACL", "PUBLIC_FUNCTION"]


def test_sarif_kinds_levels_and_cwe_taxonomy(tmp_path: Path) -> None:
    sarif = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "CodeQL",
                        "semanticVersion": "2.19.0",
                        "rules": [
                            {
                                "id": "py/command-line-injection",
                                "shortDescription": {"text": "Command injection"},
                                "defaultConfiguration": {"level": "error"},
                                "properties": {"tags": ["external/cwe/cwe-078"]},
                            },
                            {
                                "id": "py/clear-text-logging",
                                "relationships": [{"target": {"id": "312", "toolComponent": {"name": "CWE"}}}],
                            },
                        ],
                    }
                },
                "taxonomies": [{"name": "CWE", "taxa": [{"id": "312"}]}],
                "invocations": [{"endTimeUtc": "2026-11-29T23:00:00.123Z"}],
                "results": [
                    {
                        "ruleId": "py/command-line-injection",
                        "message": {"text": "shell"},
                        "locations": [
                            {"physicalLocation": {"artifactLocation": {"uri": "src/app.py"}, "region": {"startLine": 7}}}
                        ],
                    },
                    {
                        "ruleIndex": 1,
                        "kind": "pass",
                        "message": {"text": "checked"},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/log.py"}}}],
                    },
                    {"ruleId": "py/clear-text-logging", "kind": "review", "level": "note", "message": {"text": "maybe"}},
                ],
            }
        ],
    }
    res, found = ingest(tmp_path, "codeql.sarif", orjson.dumps(sarif))
    assert (res.tool, res.failed, res.passed, res.other) == ("codeql", 1, 1, 1)
    inj = next(f for f in found if f.result == "fail")
    assert (inj.severity, inj.cwes, inj.file, inj.line, inj.tool_version) == ("high", ("CWE-78",), "src/app.py", 7, "2.19.0")
    assert inj.scan_time == "2026-11-29T23:00:00Z"
    passed = next(f for f in found if f.result == "pass")
    assert passed.rule_id == "py/clear-text-logging" and passed.cwes == ("CWE-312",)


def test_generic_junit_and_asff_lambda(tmp_path: Path) -> None:
    junit = b"""<?xml version="1.0"?>
<testsuite name="policy-tests" timestamp="2026-11-30T08:00:00">
  <testcase classname="policies.iam" name="no_wildcards"><failure message="wildcard in role">details</failure></testcase>
  <testcase classname="policies.iam" name="mfa"/>
  <testcase classname="policies.net" name="vpc"><skipped/></testcase>
  <testcase classname="policies.net" name="tls"><error message="crashed"/></testcase>
</testsuite>"""
    res, found = ingest(tmp_path, "results.xml", junit)
    assert (res.tool, res.failed, res.passed, res.other) == ("junit", 1, 1, 2)
    assert {f.rule_id for f in found} == {"policies.iam.no_wildcards", "policies.iam.mfa", "policies.net.vpc", "policies.net.tls"}
    assert next(f for f in found if f.result == "fail").pointer == "/testsuite[1]/testcase[1]/failure[1]"
    asff = [
        {"SchemaVersion": "2018-10-08", "Id": "x", "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/inspector",
         "GeneratorId": "AWSInspector", "AwsAccountId": "111122223333",
         "Types": ["Software and Configuration Checks/Vulnerabilities/CVE"],
         "UpdatedAt": "2026-11-01T00:00:00Z", "Severity": {"Label": "CRITICAL"}, "Title": "CVE-2026-0001 - requests",
         "Resources": [{"Type": "AwsLambdaFunction", "Id": "arn:aws:lambda:us-east-1:111122223333:function:phi-worker",
                        "Region": "us-east-1", "Details": {"AwsLambdaFunction": {"FunctionName": "phi-worker"}}}],
         "Vulnerabilities": [{"Id": "CVE-2026-0001", "VulnerablePackages": [{"Name": "requests"}]}]}
    ]  # fmt: skip
    res, found = ingest(tmp_path / "b", "inspector.json", orjson.dumps(asff))
    (f,) = [x for x in found if x.tool == "inspector"]
    assert (f.rule_id, f.function, f.severity, f.result) == ("CVE-2026-0001", "phi-worker", "critical", "fail")


def test_guardduty_type_is_the_same_in_asff_and_native(tmp_path: Path) -> None:
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": "g",
        "GeneratorId": "arn:aws:guardduty:us-east-1:1:detector/d",
        "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/guardduty",
        "AwsAccountId": "1",
        "Types": ["TTPs/Command and Control/Backdoor:EC2-C&CActivity.B"],
        "Severity": {"Label": "HIGH"},
        "UpdatedAt": "2026-11-01T00:00:00Z",
        "Resources": [{"Type": "AwsEc2Instance", "Id": "i-1"}],
    }
    asff = {"Findings": [finding]}
    res, found = ingest(tmp_path, "gd-asff.json", orjson.dumps(asff))
    assert (res.format, found[0].tool, found[0].rule_id) == ("asff-json", "guardduty", "Backdoor:EC2/C&CActivity.B")


def test_detection_is_by_content_not_name(tmp_path: Path) -> None:
    res, _ = ingest(tmp_path, "report.txt", orjson.dumps(GUARDDUTY))
    assert res.format == "guardduty-json"
    res, _ = ingest(tmp_path / "b", "findings.sarif", orjson.dumps(SCC))  # the name says SARIF; the content does not
    assert res.format == "gcp-scc-json"


def test_registry_is_one_module_per_format() -> None:
    formats = registry()
    names = [f.name for f in formats]
    assert len(names) == len(set(names)) >= 23
    for f in formats:
        assert isinstance(f, Format)
        assert f.title and f.__class__.__module__.startswith("compliance.evidence.formats.")
    assert names[0] == "attestation-yaml"  # the most specific detector runs first


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-02-14 14:27:03.913874", "2025-02-14T14:27:03Z"),
        ("2023-04-25T23:49:42.744599", "2023-04-25T23:49:42Z"),
        (1739539640, "2025-02-14T13:27:20Z"),
        ("2021-08-25T12:20:30.000000005Z", "2021-08-25T12:20:30Z"),
        ("2026-11-30T10:00:00+01:00", "2026-11-30T09:00:00Z"),
        ("not a time", None),
    ],
)
def test_time_forms(value: object, expected: str | None) -> None:
    assert iso_time(value) == expected


def test_cwe_and_severity_forms() -> None:
    assert cwes({"id": 377}, [184, 502], "CWE-798: Use of Hard-coded Credentials", "external/cwe/cwe-078", "798") == (
        "CWE-377", "CWE-184", "CWE-502", "CWE-798", "CWE-78"
    )  # fmt: skip
    assert [severity(x) for x in ("CRITICAL", "Warning", "note", 7.5, "unknown", None)] == [
        "critical",
        "medium",
        "low",
        "high",
        None,
        None,
    ]
