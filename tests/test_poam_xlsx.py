"""``sckb export poam --format fedramp-xlsx``: the assessment's POA&M items in the FedRAMP POA&M template layout
(sheets, header row, one row per item), byte-identical across exports, one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compliance.cli import main
from compliance.report.poam_xlsx import CLOSED_SHEET, COLUMNS, OPEN_SHEET
from tests import poam_triage as tri
from tests.test_assess_cases import NOW, assess, ingest, sarif, sckb

openpyxl = pytest.importorskip("openpyxl")

#: The FedRAMP Rev. 5 POA&M template's item columns, spelled out independently of the module's constant.
TEMPLATE_HEADER = [
    "POAM ID", "Controls", "Weakness Name", "Weakness Description", "Weakness Detector Source",
    "Weakness Source Identifier", "Asset Identifier", "Point of Contact", "Resources Required",
    "Overall Remediation Plan", "Original Detection Date", "Scheduled Completion Date", "Planned Milestones",
    "Milestone Changes", "Status Date", "Vendor Dependency", "Last Vendor Check-in Date",
    "Vendor Dependent Product Name", "Original Risk Rating", "Adjusted Risk Rating", "Risk Adjustment",
    "False Positive", "Operational Requirement", "Deviation Rationale", "Supporting Documents", "Comments",
    "Auto-Approve", "Binding Operational Directive 22-01 tracking", "Binding Operational Directive 22-01 Due Date",
    "CVE", "Service Name",
]  # fmt: skip


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ingest(
        ws,
        sarif(
            tmp_path / "checkov.sarif",
            "checkov",
            [("CKV_AWS_27", "fail", "template.yaml"), ("CKV_AWS_27", "fail", "other.yaml"), ("CKV_AWS_173", "fail", "fn.yaml")],
        ),
    )
    assess(ws, "fedramp-moderate")
    return ws


def export(ws: Path, out: Path, *extra: str) -> Any:
    return sckb(ws, "export", "poam", "--format", "fedramp-xlsx", "--out", str(out), *extra)


def rows(path: Path, sheet: str) -> list[list[Any]]:
    wb = openpyxl.load_workbook(path)
    return [["" if v is None else v for v in r] for r in wb[sheet].iter_rows(values_only=True)]


def test_sheets_and_header_follow_the_template(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "poam.xlsx"
    r = export(ws, out)
    assert r.exit_code == 0, r.output
    assert list(COLUMNS) == TEMPLATE_HEADER
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [OPEN_SHEET, CLOSED_SHEET] == ["Open POA&M Items", "Closed POA&M Items"]
    assert rows(out, OPEN_SHEET)[0] == TEMPLATE_HEADER
    closed = rows(out, CLOSED_SHEET)
    assert closed == [TEMPLATE_HEADER]


def test_one_row_per_poam_item_with_known_values(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "poam.xlsx"
    assert export(ws, out).exit_code == 0
    items = {p["rule"]: p for p in orjson_poam(ws)}
    body = [dict(zip(TEMPLATE_HEADER, r, strict=True)) for r in rows(out, OPEN_SHEET)[1:]]
    assert len(body) == len(items) == 2
    by_id = {b["POAM ID"]: b for b in body}
    assert set(by_id) == {"SCKB-checkov:CKV_AWS_27", "SCKB-checkov:CKV_AWS_173"}
    q = by_id["SCKB-checkov:CKV_AWS_27"]
    p = items["checkov:CKV_AWS_27"]
    assert q["Weakness Detector Source"] == "checkov"
    assert q["Weakness Source Identifier"] == "CKV_AWS_27"
    assert q["Weakness Name"] == p["title"]
    assert "2 open failing finding(s)" in q["Weakness Description"]
    assert q["Asset Identifier"].split("\n") == p["subjects"]
    assert "SC-28" in q["Controls"].split(", ")
    assert q["Controls"].split(", ") == p["controls"]
    assert q["Original Detection Date"] == p["first_seen"][:10]
    assert q["Scheduled Completion Date"] == p["due"][:10]
    assert q["Status Date"] == NOW
    expected_rating = {"critical": "High", "high": "High", "medium": "Moderate", "low": "Low", "info": "Low"}
    assert q["Original Risk Rating"] == expected_rating[p["severity"]]
    # nothing triaged: the triage columns say so (No) or stay empty
    for col in ("Point of Contact", "Planned Milestones", "Adjusted Risk Rating", "Deviation Rationale", "Comments"):
        assert q[col] == ""
    for col in ("Vendor Dependency", "Risk Adjustment", "False Positive", "Operational Requirement"):
        assert q[col] == "No"


def orjson_poam(ws: Path) -> list[dict[str, Any]]:
    from compliance.assess import load_assessment
    from compliance.evidence.store import Store

    with Store.open(ws) as store:
        a = load_assessment(store, None)
    return [
        {"rule": p.rule, "title": p.title, "subjects": p.subjects, "controls": p.controls, "first_seen": p.first_seen,
         "due": p.due, "severity": p.severity}
        for p in a.poam
    ]  # fmt: skip


def test_two_exports_are_byte_identical(ws: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    assert export(ws, a).exit_code == 0
    assert export(ws, b).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    props = openpyxl.load_workbook(a).properties
    assert props.created.isoformat()[:10] == NOW
    assert props.modified.isoformat()[:10] == NOW


def test_unwritable_output_is_one_line_exit_3(ws: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"  # a missing folder is made; one that is a file cannot be
    blocker.write_text("not a folder\n", encoding="utf-8")
    out = blocker / "poam.xlsx"
    r = CliRunner().invoke(main, ["--workspace", str(ws), "export", "poam", "--out", str(out)])
    assert r.exit_code == 3, r.output
    assert "Traceback" not in r.output
    assert str(out) in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert not out.exists()


def test_no_assessment_is_not_found(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ingest(ws, sarif(tmp_path / "c.sarif", "checkov", [("CKV_AWS_27", "fail", "template.yaml")]))
    r = export(ws, tmp_path / "p.xlsx", "--assessment", "nope")
    assert r.exit_code == 4, r.output


# ---- columns filled from triage (issue 22)


@pytest.fixture
def triaged(tmp_path: Path) -> Path:
    return tri.triaged_workspace(tmp_path)


def by_poam_id(path: Path, sheet: str) -> dict[str, dict[str, Any]]:
    body = rows(path, sheet)
    assert body[0] == TEMPLATE_HEADER
    return {r[0]: dict(zip(TEMPLATE_HEADER, r, strict=True)) for r in body[1:]}


def test_triage_fills_the_template_columns(triaged: Path, tmp_path: Path) -> None:
    out = tmp_path / "poam.xlsx"
    assert export(triaged, out).exit_code == 0
    open_ = by_poam_id(out, OPEN_SHEET)
    assert set(open_) == {f"SCKB-{r}" for r in (tri.PLANNED, tri.ADJUSTED, tri.VENDOR)}

    plan = open_["SCKB-" + tri.PLANNED]
    assert plan["Point of Contact"] == "lee.park@example.org"
    assert plan["Resources Required"] == "2 engineer days"
    assert plan["Overall Remediation Plan"] == "Encrypt the queues with the customer-managed key"
    assert plan["Planned Milestones"].split("\n") == [
        "(1) 2026-12-15: Key policy in the template",
        "(2) 2027-01-10: Queues encrypted and verified",
    ]
    # the first plan's milestone, replaced by the second plan, is a milestone change
    assert plan["Milestone Changes"].startswith("(1) 2026-11-20: ")
    assert "Old step" in plan["Milestone Changes"]
    [doc] = plan["Supporting Documents"].split("\n")
    assert doc.startswith("dr-27.txt (sha256:") and len(doc) == len("dr-27.txt (sha256:)") + 12
    assert plan["Status Date"] == NOW
    assert (plan["Vendor Dependency"], plan["Risk Adjustment"], plan["False Positive"]) == ("No", "No", "No")

    adj = open_["SCKB-" + tri.ADJUSTED]
    assert adj["Original Risk Rating"] in ("High", "Moderate", "Low")
    assert adj["Adjusted Risk Rating"] == "Low"
    assert adj["Risk Adjustment"] == "Yes"  # approved
    assert adj["Operational Requirement"] == "Pending"  # requested, not approved
    rationale = adj["Deviation Rationale"].split("\n")
    assert len(rationale) == 2
    assert any(r.startswith("Risk Adjustment: Only reachable from the VPC") and "Dana Reyes (AO)" in r for r in rationale)
    assert any(r.startswith("Operational Requirement: The function must keep") and "pending" in r for r in rationale)

    vendor = open_["SCKB-" + tri.VENDOR]
    assert vendor["Vendor Dependency"] == "Yes"
    assert vendor["Last Vendor Check-in Date"] == "2026-11-28"
    assert vendor["Vendor Dependent Product Name"] == "Lambda runtime 3.x"
    assert vendor["Adjusted Risk Rating"] == ""


def test_closed_items_fill_the_closed_sheet(triaged: Path, tmp_path: Path) -> None:
    out = tmp_path / "poam.xlsx"
    assert export(triaged, out).exit_code == 0
    closed = by_poam_id(out, CLOSED_SHEET)
    assert list(closed) == ["SCKB-" + tri.FALSE_POSITIVE]
    fp = closed["SCKB-" + tri.FALSE_POSITIVE]
    assert fp["False Positive"] == "Yes"
    assert fp["Status Date"] == NOW  # the day it was closed
    assert fp["Weakness Source Identifier"] == "B105"
    assert fp["Deviation Rationale"].startswith("False Positive: A test placeholder")
    assert "Closed 2026-12-01" in fp["Comments"]
    # the same id never appears on both sheets
    assert not set(closed) & set(by_poam_id(out, OPEN_SHEET))


def test_triaged_exports_are_byte_identical(triaged: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    assert export(triaged, a).exit_code == 0
    assert export(triaged, b).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
