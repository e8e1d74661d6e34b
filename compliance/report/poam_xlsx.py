"""An assessment's POA&M items as a spreadsheet in the layout of the FedRAMP POA&M template.

Layout source: the FedRAMP Plan of Action and Milestones (POA&M) Template for Rev. 5 (``FedRAMP-POAM-Template``,
the Excel workbook fedramp.gov lists as updated 2024-03-29), worksheets "Open POA&M Items" and "Closed POA&M
Items"; the meaning of each column is from the FedRAMP POA&M Template Completion Guide (its table of POA&M item
columns, A "POAM ID" through the columns added after version 2.2). :data:`COLUMNS` keeps the template's header
names and order exactly; nothing else of the template (its prose, its header block above the table) is reproduced.

Each :class:`~compliance.assess.model.PoamItem` (the same items the OSCAL POA&M of
:func:`compliance.oscal.build.poam` holds) becomes one row of the open sheet. sckb fills the columns it knows
(:func:`row`); the columns only a person can fill (point of contact, milestones, risk adjustment, deviations,
vendor dependency ...) stay empty until triage exists. sckb has no closed items yet, so the closed sheet holds only
its header row.

Same assessment -> byte-identical file: the workbook's created/modified properties and every zip entry's
timestamp are the assessment's clock (``now``), never the wall clock.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from compliance.assess.model import Assessment, PoamItem
from compliance.errors import InputError

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
#: critical rating, so critical is rated High; an informational or unknown severity is rated Low).
RISK_RATING: dict[str, str] = {"critical": "High", "high": "High", "medium": "Moderate", "low": "Low", "info": "Low"}
DEFAULT_RISK_RATING = "Low"

#: Prefix of the POAM ID (the template asks for a unique id per item; ours is derived from the rule).
POAM_ID_PREFIX = "SCKB-"


def poam_id(item: PoamItem) -> str:
    """A stable id: the same rule gets the same id in every assessment (one POA&M item per rule)."""
    return POAM_ID_PREFIX + item.rule


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


def row(a: Assessment, item: PoamItem) -> list[str]:
    """The template row of one POA&M item (empty strings where sckb does not know the value)."""
    tool, _, rule_id = item.rule.partition(":")
    description = (
        f"{len(item.findings)} open failing finding(s) of the {tool} rule {rule_id} "
        f"(worst severity {item.severity}), first seen {_date(item.first_seen)}; "
        f"remediation window {item.window_days} days"
        + (", overdue." if item.overdue else ".")
        + (f" Mitigations: {', '.join(item.mitigations)}." if item.mitigations else "")
    )
    values = {
        "POAM ID": poam_id(item),
        "Controls": ", ".join(item.controls),
        "Weakness Name": item.title,
        "Weakness Description": description,
        "Weakness Detector Source": tool,
        "Weakness Source Identifier": rule_id,
        "Asset Identifier": "\n".join(item.subjects),
        "Original Detection Date": _date(item.first_seen),
        "Scheduled Completion Date": _date(item.due),
        "Status Date": _date(a.now),
        "Original Risk Rating": RISK_RATING.get(item.severity.lower(), DEFAULT_RISK_RATING),
    }
    return [values.get(c, "") for c in COLUMNS]


def workbook(a: Assessment) -> Workbook:
    """The open and closed sheets with the template's header row; one open row per POA&M item."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = OPEN_SHEET
    ws.append(list(COLUMNS))
    for item in sorted(a.poam, key=poam_id):
        ws.append(row(a, item))
    closed = wb.create_sheet(CLOSED_SHEET)
    closed.append(list(COLUMNS))
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
        out.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write the POA&M workbook: {exc.strerror or exc}", path=out) from exc
    return out
