"""A workspace whose POA&M carries every kind of triage: shared by the POA&M output tests (spreadsheet, OSCAL,
PDF, site). Decisions are recorded through the CLI, as a user would."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.test_assess_cases import assess, ingest, sarif, sckb

#: rule -> what the workspace decided about it
PLANNED = "checkov:CKV_AWS_27"
ADJUSTED = "checkov:CKV_AWS_173"
VENDOR = "checkov:CKV_AWS_117"
FALSE_POSITIVE = "bandit:B105"


def _ok(ws: Path, *args: str) -> None:
    r = sckb(ws, *args)
    assert r.exit_code == 0, r.output


def triaged_workspace(tmp_path: Path) -> Path:
    """Ingest failures of four rules, record a remediation plan (replaced once), an approved risk adjustment with a
    pending operational requirement, a vendor dependency and an approved false positive, then assess."""
    ws = tmp_path / "ws"
    checkov = sarif(
        tmp_path / "checkov.sarif",
        "checkov",
        [
            ("CKV_AWS_27", "fail", "template.yaml"),
            ("CKV_AWS_27", "fail", "other.yaml"),
            ("CKV_AWS_173", "fail", "fn.yaml"),
            ("CKV_AWS_117", "fail", "fn.yaml"),
        ],
    )
    bandit = sarif(tmp_path / "bandit.sarif", "bandit", [("B105", "fail", "src/app.py")])
    ingest(ws, checkov, bandit)
    doc = tmp_path / "dr-27.txt"
    doc.write_text("deviation request evidence\n")
    common = ("--by", "Sam Ortiz")
    _ok(
        ws,
        "evidence",
        "triage",
        "--rule",
        PLANNED,
        "--kind",
        "remediation-plan",
        "--rationale",
        "first plan",
        *common,
        "--date",
        "2026-11-20",
        "--plan",
        "Encrypt the queues",
        "--milestone",
        "2026-12-10:Old step",
    )
    _ok(
        ws,
        "evidence",
        "triage",
        "--rule",
        PLANNED,
        "--kind",
        "remediation-plan",
        "--rationale",
        "Key policy first",
        *common,
        "--plan",
        "Encrypt the queues with the customer-managed key",
        "--resources",
        "2 engineer days",
        "--poc",
        "lee.park@example.org",
        "--milestone",
        "2026-12-15:Key policy in the template",
        "--milestone",
        "2027-01-10:Queues encrypted and verified",
        "--document",
        str(doc),
    )
    _ok(
        ws,
        "evidence",
        "triage",
        "--rule",
        ADJUSTED,
        "--kind",
        "risk-adjustment",
        "--adjusted-rating",
        "low",
        "--rationale",
        "Only reachable from the VPC",
        *common,
        "--approved-by",
        "Dana Reyes (AO)",
    )
    _ok(
        ws,
        "evidence",
        "triage",
        "--rule",
        ADJUSTED,
        "--kind",
        "operational-requirement",
        "--rationale",
        "The function must keep its current runtime",
        *common,
    )
    _ok(
        ws,
        "evidence",
        "triage",
        "--rule",
        VENDOR,
        "--kind",
        "vendor-dependency",
        "--product",
        "Lambda runtime 3.x",
        "--last-checkin",
        "2026-11-28",
        "--rationale",
        "Waiting on the vendor's fix",
        *common,
    )
    r = sckb(ws, "evidence", "list", "--json")
    fp = [f["identity"] for f in orjson.loads(r.output) if f["rule_id"] == "B105"]
    assert len(fp) == 1, r.output
    _ok(
        ws,
        "evidence",
        "triage",
        fp[0],
        "--kind",
        "false-positive",
        "--rationale",
        "A test placeholder",
        *common,
        "--approved-by",
        "Dana Reyes (AO)",
    )
    assess(ws, "fedramp-moderate")
    return ws
