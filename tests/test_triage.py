"""Triage (issue 22): decisions about findings recorded as evidence, and what they change in the assessment and
its POA&M, through the command line.

The month test drives the bundled example (examples/phi-app) through two months of continuous monitoring: the
first month's scans are triaged (a false positive, a risk adjustment, an operational requirement, a vendor
dependency, a remediation plan) and assessed; the second month's checkov scan shows one weakness fixed, and the
operational requirement has expired.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from compliance.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "phi-app"
EVIDENCE = EXAMPLE / "evidence"
SCAN1, NOW1 = "2026-11-30T09:30:00Z", "2026-12-01T12:00:00Z"
SCAN2, NOW2 = "2026-12-30T09:30:00Z", "2026-12-31T12:00:00Z"

TRIAGE = """\
sckb-triage: 1
decisions:
  - rule: bandit:B404
    kind: false-positive
    rationale: Importing subprocess is not itself a weakness; the unsafe call is tracked as B602.
    by: Sam Ortiz
    approved_by: Dana Reyes
    documents: [fp-review.txt]
  - rule: checkov:CKV_AWS_116
    kind: risk-adjustment
    adjusted_rating: low
    rationale: Failed invocations are retried by the queue's redrive policy.
    by: Sam Ortiz
    approved_by: Dana Reyes
  - rule: checkov:CKV_AWS_117
    kind: operational-requirement
    rationale: The partner callback needs public egress until the NAT gateway is in.
    by: Sam Ortiz
    approved_by: Dana Reyes
    expires: 2026-12-20
  - rule: bandit:B403
    kind: vendor-dependency
    product: legacy-export-lib 1.x
    last_checkin: 2026-11-28
    rationale: The import lives in the vendor's export library; the fix ships in its 2.0.
    by: Sam Ortiz
  - rule: checkov:CKV_AWS_173
    kind: remediation-plan
    plan: Encrypt the functions' environment variables with the customer managed key.
    milestones:
      - {date: 2026-12-15, description: Key policy allows the functions}
      - {date: 2026-12-28, description: KmsKeyArn set on every function}
    poc: sam.ortiz@example.org
    rationale: Scheduled for the December release.
    by: Sam Ortiz
"""


def sckb(ws: Path, *args: str, now: str = NOW1) -> Any:
    return CliRunner().invoke(main, ["--workspace", str(ws), "--now", now, *args], catch_exceptions=False)


def ok(r: Any) -> Any:
    assert r.exit_code == 0, r.output
    return r


def assess(ws: Path, *extra: str, now: str = NOW1) -> dict[str, Any]:
    r = ok(sckb(ws, "assess", "--scope", "fedramp-moderate", "--system", "phi-app", "--format", "json", *extra, now=now))
    data: dict[str, Any] = orjson.loads(r.stdout)
    return data


def items(a: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["rule"]: p for p in a["poam"]}


@pytest.fixture(scope="module")
def month1_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("triage") / "ws"
    ok(sckb(ws, "evidence", "ingest", str(EVIDENCE), "--scan-time", SCAN1, now="2026-11-30T12:00:00Z"))
    ok(sckb(ws, "system", "add", str(EXAMPLE / "system.yaml"), now="2026-11-30T12:00:00Z"))
    return ws


@pytest.fixture
def ws(month1_store: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "ws"
    shutil.copytree(month1_store, dest)
    return dest


def triage_file(tmp_path: Path, text: str = TRIAGE) -> Path:
    (tmp_path / "fp-review.txt").write_text("Reviewed with the platform team on 2026-11-30.\n", encoding="utf-8")
    p = tmp_path / "triage.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def month2_checkov(tmp_path: Path, fixed: str = "CKV_AWS_173") -> Path:
    """The example's checkov report with every failure of ``fixed`` now passing (a later scan after the fix)."""
    runs = orjson.loads((EVIDENCE / "checkov.json").read_bytes())
    res = runs[0]["results"]
    moved = [c for c in res["failed_checks"] if c["check_id"] == fixed]
    assert moved
    for c in moved:
        c["check_result"] = {"result": "PASSED"}
    res["failed_checks"] = [c for c in res["failed_checks"] if c["check_id"] != fixed]
    res["passed_checks"] += moved
    summary = runs[0]["summary"]  # the totals checkov states (sckb checks them against the lists)
    summary["passed"] += len(moved)
    summary["failed"] -= len(moved)
    out = tmp_path / "month2" / "checkov.json"
    out.parent.mkdir()
    out.write_bytes(orjson.dumps(runs, option=orjson.OPT_INDENT_2))
    return out


# ----------------------------------------------------------------------------- a month of continuous monitoring


def test_a_month_of_triage_and_the_next_month(ws: Path, tmp_path: Path) -> None:
    before = items(assess(ws, "--previous", "none"))
    ok(sckb(ws, "evidence", "triage", "--file", str(triage_file(tmp_path)), now="2026-12-01T10:00:00Z"))
    a1 = assess(ws)
    p1 = items(a1)
    # the false positive (approved) took bandit:B404 off the open POA&M and closed it
    assert "bandit:B404" in before and "bandit:B404" not in p1
    closed1 = {p["rule"]: p for p in a1["poam_closed"]}
    assert closed1["bandit:B404"]["closure"] == "false positive (approved)"
    assert closed1["bandit:B404"]["risk_status"] == "closed" and closed1["bandit:B404"]["false_positives"]
    # checkov states no severity and the KB rule has none: unrated, so the policy's unrated rating (high, 30 days)
    ra = p1["checkov:CKV_AWS_116"]
    assert before["checkov:CKV_AWS_116"]["original_rating"] == "high"
    assert before["checkov:CKV_AWS_116"]["rating_source"] == "unrated"
    assert before["checkov:CKV_AWS_116"]["due"][:10] == "2026-12-30"
    # the approved risk adjustment to low dates it by the low window (180 days from first detection)
    assert ra["adjusted_rating"] == "low" and ra["deviations"] == {"risk-adjustment": "approved"}
    assert ra["due"][:10] == "2027-05-29" and ra["risk_status"] == "deviation-approved"
    orq = p1["checkov:CKV_AWS_117"]
    assert orq["deviations"] == {"operational-requirement": "approved"} and orq["risk_status"] == "deviation-approved"
    vd = p1["bandit:B403"]
    assert vd["vendor_product"] == "legacy-export-lib 1.x" and vd["last_vendor_checkin"] == "2026-11-28"
    plan = p1["checkov:CKV_AWS_173"]
    assert plan["risk_status"] == "remediating" and plan["poc"] == "sam.ortiz@example.org"
    assert [m["date"] for m in plan["milestones"]] == ["2026-12-15", "2026-12-28"]
    # every decision is on its item, with who, when and why
    notes = {d["kind"]: d for p in p1.values() for d in p.get("decisions", [])}
    assert notes["operational-requirement"]["by"] == "Sam Ortiz"
    assert notes["operational-requirement"]["approved_by"] == "Dana Reyes"
    assert notes["operational-requirement"]["expires"] == "2026-12-20T00:00:00Z"
    assert "conmon" not in a1  # the first assessment of the system: nothing to compare with

    # the second month: a new checkov scan shows CKV_AWS_173 fixed; the operational requirement expired on 12-20
    ok(sckb(ws, "evidence", "ingest", str(month2_checkov(tmp_path)), "--scan-time", SCAN2, now="2026-12-30T12:00:00Z"))
    r = ok(sckb(ws, "assess", "--scope", "fedramp-moderate", "--system", "phi-app", "--max-age", "45", now=NOW2))
    assert "triage: operational-requirement decision on rule:checkov:CKV_AWS_117" in r.stderr
    assert "expired 2026-12-20" in r.stderr
    a2 = orjson.loads(ok(sckb(ws, "assess", "show", "--format", "json", now=NOW2)).stdout)
    p2 = items(a2)
    closed2 = {p["rule"]: p for p in a2["poam_closed"]}
    assert "checkov:CKV_AWS_173" not in p2
    assert closed2["checkov:CKV_AWS_173"]["closure"].startswith("no open finding")
    assert closed2["checkov:CKV_AWS_173"]["closed"] == NOW2
    # closed items are carried forward, with the date they were first closed
    assert closed2["bandit:B404"]["closed"] == closed1["bandit:B404"]["closed"] == NOW1
    # the expired operational requirement no longer waives the deadline: the item is overdue again
    assert p2["checkov:CKV_AWS_117"]["deviations"] == {} and p2["checkov:CKV_AWS_117"]["overdue"] is True
    conmon = a2["conmon"]
    assert conmon["previous"] == a1["assessment"]["id"] and conmon["previous_now"] == NOW1
    assert conmon["closed"] == ["checkov:CKV_AWS_173"]  # B404 was closed last month: not closed again
    assert conmon["new"] == []
    assert "checkov:CKV_AWS_117" in conmon["overdue"]
    assert "checkov:CKV_AWS_116" in conmon["deviated"]
    assert "deviations: none" in conmon["changed"]["checkov:CKV_AWS_117"]
    # the table says the same in a few lines
    assert "1 closed" in r.output and "changed checkov:CKV_AWS_117" in r.output
    # assess diff shows the same POA&M changes between any two assessments
    d = orjson.loads(ok(sckb(ws, "assess", "diff", a1["assessment"]["id"], "--json", now=NOW2)).stdout)
    assert d["poam"]["closed"] == ["checkov:CKV_AWS_173"] and "checkov:CKV_AWS_117" in d["poam"]["changed"]
    agree_item_by_item(ws, tmp_path, a2)


def agree_item_by_item(ws: Path, tmp_path: Path, a: dict[str, Any]) -> None:
    """The FedRAMP spreadsheet, the OSCAL POA&M and the PDF hold the same open and closed items as the assessment,
    by POAM ID, with the same due dates and deviations."""
    import subprocess

    from openpyxl import load_workbook

    from compliance.oscal import Validators, errors
    from compliance.report.poam_xlsx import CLOSED_SHEET, COLUMNS, OPEN_SHEET
    from compliance.vocab import poam_id

    want_open = {poam_id(p["rule"]): p for p in a["poam"]}
    want_closed = {poam_id(p["rule"]): p for p in a["poam_closed"]}
    out = tmp_path / "out"
    ok(sckb(ws, "export", "poam", "--system", "phi-app", "--out", str(out / "poam.xlsx"), now=NOW2))
    ok(sckb(ws, "export", "oscal", "--system", "phi-app", "--out", str(out / "oscal"), now=NOW2))
    ok(sckb(ws, "report", "pdf", "--system", "phi-app", "--out", str(out / "report.pdf"), now=NOW2))
    # the spreadsheet: the template's sheets and columns, one row per item
    wb = load_workbook(out / "poam.xlsx")
    assert wb.sheetnames[:2] == [OPEN_SHEET, CLOSED_SHEET]
    sheets: dict[str, dict[str, dict[str, Any]]] = {}
    for name in (OPEN_SHEET, CLOSED_SHEET):
        rows = [r for r in wb[name].iter_rows(values_only=True) if any(v is not None for v in r)]
        header = next(i for i, r in enumerate(rows) if r[0] == "POAM ID")
        assert tuple(rows[header][: len(COLUMNS)]) == COLUMNS
        sheets[name] = {str(r[0]): dict(zip(COLUMNS, r, strict=False)) for r in rows[header + 1 :]}
    assert set(sheets[OPEN_SHEET]) == set(want_open) and set(sheets[CLOSED_SHEET]) == set(want_closed)
    for pid, p in want_open.items():
        row = sheets[OPEN_SHEET][pid]
        assert str(row["Scheduled Completion Date"])[:10] == p["due"][:10]
        assert (row["Operational Requirement"] == "Yes") == (p["deviations"].get("operational-requirement") == "approved")
        assert (row["Risk Adjustment"] == "Yes") == (p["deviations"].get("risk-adjustment") == "approved")
    # the OSCAL POA&M: schema-valid, the same items, closed ones with closed risks
    doc = orjson.loads((out / "oscal" / "poam.json").read_bytes())
    schemas = ROOT.parent / "shared" / "oscal" / "schemas"
    if schemas.is_dir():
        assert errors(doc, Validators(schemas)) == []
    poam = doc["plan-of-action-and-milestones"]
    assert poam["system-id"]["id"]
    risk_status = {r["uuid"]: r["status"] for r in poam["risks"]}
    oscal_open: set[str] = set()
    oscal_closed: set[str] = set()
    for item in poam["poam-items"]:
        pid = next(p["value"] for p in item["props"] if p["name"] == "POAM-ID")
        statuses = {risk_status[r["risk-uuid"]] for r in item.get("related-risks", [])}
        (oscal_closed if statuses == {"closed"} else oscal_open).add(pid)
    assert oscal_open == set(want_open) and oscal_closed == set(want_closed)
    # the PDF's POA&M section (5, with 5.1 closed items) names every item by its POAM ID once; pdftotext drops the
    # hyphen where a cell wraps at one, and may interleave table columns, so each id is matched without hyphens
    # on its own last segment
    text = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    section = text[text.index("One item per failing rule") : text.rindex("5.2 Continuous monitoring")]
    assert section.count("SCKB-") == len(want_open) + len(want_closed)
    flat = "".join(section.split()).replace("-", "")
    missing = [pid for pid in [*want_open, *want_closed] if pid.rsplit(".", 1)[-1].replace("-", "") not in flat]
    assert missing == []


def test_the_same_inputs_give_the_same_assessment(ws: Path, tmp_path: Path) -> None:
    ok(sckb(ws, "evidence", "triage", "--file", str(triage_file(tmp_path)), now="2026-12-01T10:00:00Z"))
    first = assess(ws, "--previous", "none")["assessment"]["id"]
    assert assess(ws, "--previous", "none")["assessment"]["id"] == first
    # the same file again records nothing new
    r = ok(sckb(ws, "evidence", "triage", "--file", str(triage_file(tmp_path)), now="2026-12-01T10:00:00Z"))
    assert "0 new triage record(s); 5 already recorded" in r.output
    untriaged = assess(ws, "--previous", "none", "--no-triage")
    assert untriaged["assessment"]["id"] != first
    assert all(not p["deviations"] for p in untriaged["poam"])


# ----------------------------------------------------------------------------- decisions and their effects


def _identity(ws: Path, rule: str) -> str:
    found = orjson.loads(ok(sckb(ws, "evidence", "list", "--rule", rule, "--json")).stdout)
    assert found
    return str(found[0]["identity"])


def test_a_false_positive_counts_only_once_approved(ws: Path) -> None:
    ident = _identity(ws, "B404")
    args = ("evidence", "triage", ident[:10], "--kind", "false-positive", "--rationale", "a fixture", "--by", "Sam")
    ok(sckb(ws, *args, now="2026-12-01T09:00:00Z"))
    pending = items(assess(ws))
    assert pending["bandit:B404"]["deviations"] == {"false-positive": "pending"}
    assert pending["bandit:B404"]["risk_status"] == "deviation-requested"
    # approved: a newer record supersedes the pending one
    ok(sckb(ws, *args, "--approved-by", "Dana Reyes", now="2026-12-01T10:00:00Z"))
    a = assess(ws)
    assert "bandit:B404" not in items(a)
    paths = orjson.loads(ok(sckb(ws, "assess", "show", "--format", "json", "--paths")).stdout)["paths"]
    failing = {f["identity"] for p in paths.values() for m in p["mitigations"] for r in m["rules"] for f in r["failing_findings"]}
    assert ident not in failing  # no control's path names it as a failure any more
    # the finding itself shows its decision
    shown = orjson.loads(ok(sckb(ws, "evidence", "show", ident, "--json")).stdout)
    assert [(d["kind"], d["approved_by"]) for d in shown["triage"]] == [("false-positive", "Dana Reyes")]
    listed = orjson.loads(ok(sckb(ws, "evidence", "list", "--rule", "B404", "--json")).stdout)
    assert listed[0]["triage"][0]["kind"] == "false-positive"
    table = ok(sckb(ws, "evidence", "list", "--rule", "B404"))
    assert "false-positive" in table.output


def test_an_approved_false_positive_changes_a_control_status(tmp_path: Path) -> None:
    """One failing least-privilege check decides AC-6; once it is an approved false positive, AC-6 is no longer
    not-satisfied and the rule's failure is counted as closed."""
    ws = tmp_path / "ws"
    report = tmp_path / "checkov.json"
    checks = [
        {
            "check_id": "CKV_AWS_1",
            "check_name": "Ensure IAM policies that allow full administrative privileges are not created",
            "check_result": {"result": result},
            "resource": f"AWS::IAM::Policy.{name}",
            "file_path": "/template.yaml",
            "file_line_range": [line, line + 5],
        }
        for result, name, line in (("FAILED", "AdminPolicy", 10), ("PASSED", "ReaderPolicy", 40))
    ]
    doc = {
        "check_type": "cloudformation",
        "results": {"failed_checks": checks[:1], "passed_checks": checks[1:]},
        "summary": {"checkov_version": "3.2.0"},
    }
    report.write_bytes(orjson.dumps(doc))
    ok(sckb(ws, "evidence", "ingest", str(report), "--scan-time", SCAN1))

    def ac6() -> dict[str, Any]:
        r = ok(sckb(ws, "assess", "--scope", "fedramp-moderate", "--format", "json", "--paths"))
        return dict(orjson.loads(r.stdout)["paths"]["AC-6"])

    before = ac6()
    assert before["status"] == "not-satisfied"
    found = orjson.loads(ok(sckb(ws, "evidence", "list", "--json")).stdout)
    (failing,) = [f["identity"] for f in found if f["result"] == "fail"]
    ok(
        sckb(
            ws,
            "evidence",
            "triage",
            failing,
            "--kind",
            "false-positive",
            "--rationale",
            "the policy is a deny-all guard",
            "--by",
            "Sam",
            "--approved-by",
            "Dana",
        )
    )
    after = ac6()
    assert after["status"] != "not-satisfied"
    rules_ = [r for m in after["mitigations"] for r in m["rules"] if r["rule"] == "checkov:CKV_AWS_1"]
    assert rules_ and all(r["failed"] == 0 and r["outcome"] == "pass" for r in rules_)


def test_history_supersede_withdraw_and_expiry(ws: Path) -> None:
    args = ("evidence", "triage", "--rule", "checkov:CKV_AWS_117", "--kind", "risk-acceptance", "--by", "Sam")
    ok(sckb(ws, *args, "--rationale", "accepted for the pilot", "--expires", "2026-12-10", now="2026-12-01T09:00:00Z"))
    ok(sckb(ws, *args, "--rationale", "accepted for the pilot, extended", "--expires", "2027-01-31", now="2026-12-02T09:00:00Z"))
    ok(sckb(ws, *args, "--rationale", "pilot over", "--withdraw", now="2026-12-05T09:00:00Z"))
    states = [e["state"] for e in orjson.loads(ok(sckb(ws, "evidence", "triaged", "--json", now="2026-12-06")).stdout)]
    assert states == ["superseded", "superseded", "withdrawal"]
    # at 2026-12-03 the extension is in effect; the withdrawal is in the future
    states = [e["state"] for e in orjson.loads(ok(sckb(ws, "evidence", "triaged", "--json", now="2026-12-03")).stdout)]
    assert states == ["superseded", "in-effect", "future"]
    # nothing is ever deleted
    assert len(orjson.loads(ok(sckb(ws, "evidence", "triaged", "--json")).stdout)) == 3
    # an expired decision stops counting, with a warning
    ok(sckb(ws, *args, "--rationale", "short acceptance", "--expires", "2026-12-08", now="2026-12-06T09:00:00Z"))
    r = ok(sckb(ws, "assess", "--scope", "fedramp-moderate", "--system", "phi-app", "--max-age", "45", now="2026-12-09"))
    assert "risk-acceptance decision on rule:checkov:CKV_AWS_117" in r.stderr and "expired 2026-12-08" in r.stderr


def test_a_stale_vendor_checkin_stops_waiving_the_deadline(ws: Path) -> None:
    args = ("evidence", "triage", "--rule", "checkov:CKV_AWS_117", "--kind", "vendor-dependency", "--by", "Sam")
    ok(sckb(ws, *args, "--product", "NAT appliance", "--last-checkin", "2026-12-20", "--rationale", "waiting", now="2026-12-20"))
    fresh = items(assess(ws, "--max-age", "45", now="2027-01-05T00:00:00Z"))["checkov:CKV_AWS_117"]
    assert fresh["overdue"] is False and fresh["overdue_waived"] == "vendor dependency, last check-in 2026-12-20"
    stale = assess(ws, "--max-age", "60", now="2027-01-25T00:00:00Z")
    item = items(stale)["checkov:CKV_AWS_117"]
    assert item["overdue"] is True
    assert any("no check-in within 30 days" in n for n in stale["triage_notes"])


def test_attack_paths_of_the_design_are_context_on_the_item(ws: Path) -> None:
    plain = items(assess(ws, "--previous", "none"))
    with_design = items(assess(ws, "--previous", "none", "--design", str(EXAMPLE / "template.yaml")))
    noted = {rule for rule, p in with_design.items() if p.get("attack_paths")}
    assert noted, "no POA&M item of the example runs through an attack path"
    for rule in noted:
        assert all("->" in t for t in with_design[rule]["attack_paths"])
        # context only: never a silent change of rating or date
        assert with_design[rule]["due"] == plain[rule]["due"]
        assert with_design[rule]["original_rating"] == plain[rule]["original_rating"]


def test_supporting_documents_are_in_the_locker_and_verified(ws: Path, tmp_path: Path) -> None:
    ok(sckb(ws, "evidence", "triage", "--file", str(triage_file(tmp_path)), now="2026-12-01T10:00:00Z"))
    entry = orjson.loads(ok(sckb(ws, "evidence", "triaged", "--json")).stdout)[0]
    (doc,) = entry["documents"]
    assert doc["name"] == "fp-review.txt"
    copy = ws / "locker" / doc["sha256"][:2] / doc["sha256"]
    assert copy.read_bytes() == (tmp_path / "fp-review.txt").read_bytes()
    ok(sckb(ws, "evidence", "verify"))
    copy.write_bytes(b"tampered")
    r = sckb(ws, "evidence", "verify")
    assert r.exit_code != 0 and "fp-review.txt" in r.output


# ----------------------------------------------------------------------------- bad input: one line, nothing stored


RULE117 = ("--rule", "checkov:CKV_AWS_117")
WHO = ("--rationale", "x", "--by", "S")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((*RULE117, "--kind", "false-positive", "--by", "Sam"), "--rationale"),
        ((*RULE117, "--kind", "false-positive", "--rationale", "x"), "--by"),
        (("--rule", "checkov:NOPE", "--kind", "false-positive", *WHO), "no finding of rule"),
        (("ffffffffff", "--kind", "false-positive", *WHO), "ffffffffff"),
        ((*RULE117, "--kind", "risk-acceptance", *WHO), "needs an expiry"),
        ((*RULE117, "--kind", "risk-adjustment", *WHO), "adjusted_rating"),
        (
            (*RULE117, "--kind", "risk-adjustment", "--adjusted-rating", "meh", *WHO),
            "--adjusted-rating",
        ),
        ((*RULE117, "--kind", "false-positive", "--product", "x", *WHO), "product"),
        (
            (*RULE117, "--kind", "remediation-plan", "--plan", "p", "--milestone", "soon", *WHO),
            "--milestone",
        ),
    ],
)
def test_a_bad_decision_is_one_line_and_nothing_is_stored(ws: Path, args: tuple[str, ...], needle: str) -> None:
    r = sckb(ws, "evidence", "triage", *args)
    assert r.exit_code == 3, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.output
    assert orjson.loads(ok(sckb(ws, "evidence", "triaged", "--json")).stdout) == []


@pytest.mark.parametrize(
    ("edit", "line", "needle"),
    [
        (lambda t: t.replace("sckb-triage: 1", "sckb-triage: 2"), 1, "starts with 'sckb-triage: 1'"),
        (lambda t: t.replace("kind: vendor-dependency", "kind: vendor-thing"), 22, "kind 'vendor-thing'"),
        (lambda t: t.replace("{date: 2026-12-15,", "{date: someday,"), 31, "milestone 1"),
        (lambda t: t.replace("    expires: 2026-12-20\n", "    expires: 2026-11-01\n"), 20, "not after"),
        (lambda t: t.replace("    poc: sam", "    owner: sam"), 33, "unknown field(s): owner"),
        (lambda t: t.replace("documents: [fp-review.txt]", "documents: [missing.pdf]"), 8, "missing.pdf"),
    ],
)
def test_a_bad_triage_file_names_file_and_line(ws: Path, tmp_path: Path, edit: Any, line: int, needle: str) -> None:
    path = triage_file(tmp_path, edit(TRIAGE))
    r = sckb(ws, "evidence", "triage", "--file", str(path))
    assert r.exit_code == 3, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and f"{path}:{line}:" in lines[0] and needle in lines[0], lines
    assert orjson.loads(ok(sckb(ws, "evidence", "triaged", "--json")).stdout) == []


# ----------------------------------------------------------------------------- the original risk rating


def test_the_original_rating_comes_from_the_tool_else_the_kb_rule_else_unrated(tmp_path: Path) -> None:
    """trivy's JSON states a severity; a SARIF result without a level states none, so the KB rule's own severity
    (trivy AVD-AWS-0003 is LOW in trivy-checks) rates it; checkov JSON states none and its KB rule has none."""
    from datetime import UTC, datetime

    from compliance import kb as kbmod
    from compliance.assess import assess
    from compliance.evidence.model import StoredFinding

    def rec(ident: str, tool: str, rule_id: str, severity: str | None, mitigation: str) -> StoredFinding:
        return StoredFinding(
            identity=ident, tool=tool, tool_version="1", scan_time=SCAN1, scan_time_source="file", rule_id=rule_id,
            rule_title=None, severity=severity, result="fail", resource=f"res-{ident}", function=None,
            file="template.yaml", line=1, provider="aws", account=None, region=None, cwes=(), pointer="/0",
            message=None, method="TEST", targets=(), first_seen=SCAN1, last_seen=SCAN1, status="open",
            file_sha256="a" * 64, mitigations=(mitigation,), controls=(), mapped_by="rule", observations=1,
        )  # fmt: skip

    kb = kbmod.load()
    records = [
        rec("01", "trivy", "AVD-AWS-0003", None, "distributed-tracing"),
        rec("02", "checkov", "CKV_AWS_1", None, "least-privilege-execution-role"),
        rec("03", "checkov", "CKV_AWS_7", "medium", "key-management-and-rotation"),
    ]
    a = assess(kb, records, [], scopes=["fedramp-moderate"], now=datetime(2026, 12, 1, tzinfo=UTC))
    got = {p.rule: (p.triage.original_rating, p.triage.rating_source, p.window_days) for p in a.poam if p.triage}
    assert got["trivy:AVD-AWS-0003"] == ("low", "kb-rule", 180)
    assert got["checkov:CKV_AWS_1"] == ("high", "unrated", 30)
    assert got["checkov:CKV_AWS_7"] == ("moderate", "tool", 90)
