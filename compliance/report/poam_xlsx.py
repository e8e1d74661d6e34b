"""An assessment's POA&M items as a spreadsheet in the layout of the FedRAMP POA&M template.

Layout source: the FedRAMP Plan of Action and Milestones (POA&M) Template for Rev. 5 (``FedRAMP-POAM-Template``,
the Excel workbook fedramp.gov lists as updated 2024-03-29), worksheets "Open POA&M Items" and "Closed POA&M
Items". :data:`COLUMNS` keeps the template's header names and order exactly; nothing else of the template (its
prose, its header block above the table) is reproduced.

What goes in each column follows the FedRAMP POA&M Template Completion Guide: section 2.1 ("Worksheet 1: Open
POA&M Items", the table of POA&M item columns, A "POAM ID" through the columns added after version 2.2) and
section 2.2 ("Worksheet 2: Closed POA&M Items": a closed item moves to the closed sheet with the same columns),
and the template's own example row for the spelling of lists (numbered milestones, "<kind>: <rationale>" lines
in Deviation Rationale). In short, with where sckb takes the value from (:class:`~compliance.assess.model.PoamTriage`
is the item's triage, :mod:`compliance.assess.triage` says how decisions become it):

=================================  ==================================================================================
Point of Contact                   who answers for the remediation: the decisions' ``poc``
Resources Required                 what the fix needs beyond normal operations: the remediation plan's ``resources``
Overall Remediation Plan           how the weakness will be fixed: the remediation plan's ``plan``
Scheduled Completion Date          the due date (remediation window of the rating, an approved adjusted rating, KEV)
Planned Milestones                 dated steps, numbered: "(1) YYYY-MM-DD: text"
Milestone Changes                  milestones replaced since they were first planned, numbered
Status Date                        when the row's status was last stated: the assessment clock; for a closed item,
                                   the date it was closed
Vendor Dependency / Last Vendor    Yes when the fix waits on a vendor (a vendor-dependency decision), with the last
Check-in Date / Vendor Dependent   check-in and the product
Product Name
Original / Adjusted Risk Rating    the rating before any adjustment (the policy's rating of the worst severity) and
                                   the adjusted one (Low / Moderate / High)
Risk Adjustment / False Positive   Yes (approved deviation), Pending (requested, not yet approved) or No
/ Operational Requirement
Deviation Rationale                why each deviation is asked for: one "<kind>: <rationale>" line per deviation
Supporting Documents               the decisions' documents, by name and short SHA-256 (they are in the locker)
Comments                           anything else a reviewer needs: a risk acceptance, why an overdue item is not
                                   counted overdue, attack paths through the item's subjects, triage notes, the
                                   rating's source when no tool rated it, a closed item's closure
CVE                                the CVE ids the item names (KEV matches, a rule id that is a CVE)
=================================  ==================================================================================

Each :class:`~compliance.assess.model.PoamItem` (the same items, with the same POAM ID, as the OSCAL POA&M of
:func:`compliance.oscal.build.poam`) becomes one row of the open sheet; each of ``Assessment.closed_poam`` one row of
the closed sheet. Auto-Approve and Service Name stay empty (only a person can say).

Same assessment -> byte-identical file: the workbook's created/modified properties and every zip entry's
timestamp are the assessment's clock (``now``), never the wall clock.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from compliance.assess.model import Assessment, PoamItem, PoamTriage
from compliance.errors import InputError
from compliance.vocab import poam_id as vocab_poam_id

OPEN_SHEET = "Open POA&M Items"
CLOSED_SHEET = "Closed POA&M Items"

#: The template's POA&M item columns (A .. AE), in its order and spelling.
COLUMNS: tuple[str, ...] = (
    "POAM ID",
    "Controls",
    "Weakness Name",
    "Weakness Description",
    "Weakness Detector Source",
    "Weakness Source Identifier",
    "Asset Identifier",
    "Point of Contact",
    "Resources Required",
    "Overall Remediation Plan",
    "Original Detection Date",
    "Scheduled Completion Date",
    "Planned Milestones",
    "Milestone Changes",
    "Status Date",
    "Vendor Dependency",
    "Last Vendor Check-in Date",
    "Vendor Dependent Product Name",
    "Original Risk Rating",
    "Adjusted Risk Rating",
    "Risk Adjustment",
    "False Positive",
    "Operational Requirement",
    "Deviation Rationale",
    "Supporting Documents",
    "Comments",
    "Auto-Approve",
    "Binding Operational Directive 22-01 tracking",
    "Binding Operational Directive 22-01 Due Date",
    "CVE",
    "Service Name",
)

#: sckb severity -> the template's risk rating vocabulary (Low / Moderate / High; FedRAMP has no separate
#: critical rating, so critical is rated High; an informational or unknown severity is rated Low). Used only for an
#: item without triage (an assessment stored before ratings existed); otherwise the item's policy rating is used.
RISK_RATING: dict[str, str] = {"critical": "High", "high": "High", "medium": "Moderate", "low": "Low", "info": "Low"}
DEFAULT_RISK_RATING = "Low"

#: A deviation's state on the item -> the template's Yes / Pending / No.
DEVIATION_ANSWER = {"approved": "Yes", "pending": "Pending"}
#: The template's deviation columns and the triage kind each one reports.
DEVIATION_COLUMNS = {
    "Risk Adjustment": "risk-adjustment",
    "False Positive": "false-positive",
    "Operational Requirement": "operational-requirement",
}
#: How much of a document's SHA-256 the Supporting Documents column shows (the locker names it in full).
SHORT_SHA = 12
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)


def poam_id(item: PoamItem) -> str:
    """A stable id: the same rule gets the same id in every assessment (one POA&M item per rule)."""
    return vocab_poam_id(item.rule)


def _date(stamp: str) -> str:
    return stamp[:10]


def _clock(now: str) -> datetime:
    """The assessment clock as a naive UTC datetime (what openpyxl's core properties expect)."""
    text = now.replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        dt = datetime.fromisoformat(text[:10])
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def _rating(value: str) -> str:
    """A policy rating in the template's spelling (``moderate`` -> ``Moderate``)."""
    return value[:1].upper() + value[1:]


def _label(kind: str) -> str:
    """``risk-adjustment`` -> ``Risk Adjustment`` (the template's own words for the deviation kinds)."""
    return kind.replace("-", " ").title()


def _numbered(lines: list[str]) -> str:
    return "\n".join(f"({i}) {line}" for i, line in enumerate(lines, 1))


def _description(item: PoamItem, closed: bool) -> str:
    tool, _, rule_id = item.rule.partition(":")
    n = len(item.findings) or len(item.triage.false_positives if item.triage else [])
    state = "failing finding(s)" if closed else "open failing finding(s)"
    return (
        f"{n} {state} of the {tool} rule {rule_id} "
        f"(worst severity {item.severity}), first seen {_date(item.first_seen)}; "
        f"remediation window {item.window_days} days"
        + (", overdue." if item.overdue else ".")
        + (f" Mitigations: {', '.join(item.mitigations)}." if item.mitigations else "")
    )


def _deviation_rationale(t: PoamTriage) -> str:
    lines = []
    for d in t.decisions:
        if d.kind not in t.deviations:
            continue
        state = f"approved by {d.approved_by}" if d.approved_by else "pending approval"
        lines.append(f"{_label(d.kind)}: {d.rationale} ({state}; {d.by}, {_date(d.date)})")
    return "\n".join(lines)


def _comments(a: Assessment, item: PoamItem, t: PoamTriage | None) -> str:
    out: list[str] = []
    if t is not None:
        if t.closed is not None:
            out.append(f"Closed {_date(t.closed)}: {t.closure or 'closed'}.")
        if t.rating_source != "tool":
            source = "the KB rule's severity" if t.rating_source == "kb-rule" else "the policy's rating of unrated weaknesses"
            out.append(f"Original rating from {source} (the tool stated no severity).")
        for d in t.decisions:
            if d.kind == "risk-acceptance":
                until = f", until {_date(d.expires)}" if d.expires else ""
                out.append(f"Risk accepted ({'approved by ' + d.approved_by if d.approved_by else 'pending'}{until}).")
        if t.overdue_waived:
            out.append(f"Past its scheduled date but not counted overdue: {t.overdue_waived}.")
        if t.false_positives:
            out.append(f"{len(t.false_positives)} finding(s) closed as approved false positives.")
        out += [f"Attack path: {path}" for path in t.attack_paths]
    prefix = item.rule + ":"
    out += [f"Note: {n[len(prefix) :].strip()}" for n in a.triage_notes if n.startswith(prefix)]
    return "\n".join(out)


def _cves(item: PoamItem) -> str:
    _, _, rule_id = item.rule.partition(":")
    ids = set(item.kev_cves) | ({rule_id.upper()} if _CVE.match(rule_id) else set())
    return "\n".join(sorted(ids))


def row(a: Assessment, item: PoamItem) -> list[str]:
    """The template row of one POA&M item, open or closed (empty strings where sckb does not know the value)."""
    tool, _, rule_id = item.rule.partition(":")
    t = item.triage
    closed = t is not None and t.closed is not None
    values = {
        "POAM ID": poam_id(item),
        "Controls": ", ".join(item.controls),
        "Weakness Name": item.title,
        "Weakness Description": _description(item, closed),
        "Weakness Detector Source": tool,
        "Weakness Source Identifier": rule_id,
        "Asset Identifier": "\n".join(item.subjects),
        "Original Detection Date": _date(item.first_seen),
        "Scheduled Completion Date": _date(item.due),
        "Status Date": _date(t.closed) if t is not None and t.closed else _date(a.now),
        "Original Risk Rating": _rating(t.original_rating)
        if t is not None
        else RISK_RATING.get(item.severity.lower(), DEFAULT_RISK_RATING),
        "Comments": _comments(a, item, t),
        "Binding Operational Directive 22-01 tracking": "Yes" if item.kev else "",
        "Binding Operational Directive 22-01 Due Date": item.kev_due or "",
        "CVE": _cves(item),
    }
    if t is not None:
        values |= {
            "Point of Contact": t.poc or "",
            "Resources Required": t.resources or "",
            "Overall Remediation Plan": t.plan or "",
            "Planned Milestones": _numbered([f"{m.date}: {m.description}" for m in t.milestones]),
            "Milestone Changes": _numbered(t.milestone_changes),
            "Vendor Dependency": "Yes" if t.vendor_product else "No",
            "Last Vendor Check-in Date": t.last_vendor_checkin or "",
            "Vendor Dependent Product Name": t.vendor_product or "",
            "Adjusted Risk Rating": _rating(t.adjusted_rating) if t.adjusted_rating else "",
            "Deviation Rationale": _deviation_rationale(t),
            "Supporting Documents": "\n".join(f"{name} (sha256:{sha[:SHORT_SHA]})" for name, sha in t.documents),
        }
        values |= {col: DEVIATION_ANSWER.get(t.deviations.get(kind, ""), "No") for col, kind in DEVIATION_COLUMNS.items()}
    return [values.get(c, "") for c in COLUMNS]


def workbook(a: Assessment) -> Workbook:
    """The open and closed sheets with the template's header row; one row per open and per closed POA&M item."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = OPEN_SHEET
    ws.append(list(COLUMNS))
    for item in sorted(a.poam, key=poam_id):
        ws.append(row(a, item))
    closed = wb.create_sheet(CLOSED_SHEET)
    closed.append(list(COLUMNS))
    for item in sorted(a.closed_poam, key=poam_id):
        closed.append(row(a, item))
    clock = _clock(a.now)
    wb.properties.created = clock
    wb.properties.modified = clock
    wb.properties.creator = "sckb"
    wb.properties.title = f"POA&M of assessment {a.id}"
    return wb


def to_bytes(a: Assessment) -> bytes:
    """The xlsx file; byte-identical for the same assessment."""
    wb = workbook(a)
    raw = io.BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook() would stamp the wall clock into the modified property
    ExcelWriter(wb, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    clock = _clock(a.now)
    stamp = (max(clock.year, 1980), clock.month, clock.day, clock.hour, clock.minute, clock.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def export_fedramp_xlsx(a: Assessment, out: Path) -> Path:
    """Write the FedRAMP-layout POA&M workbook of ``a`` to ``out``; an unwritable file is an :class:`InputError`."""
    data = to_bytes(a)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write the POA&M workbook: {exc.strerror or exc}", path=out) from exc
    return out
