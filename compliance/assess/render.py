"""Assessment summaries as text: table rows, JSON, CSV and Markdown (for a pull-request comment)."""

from __future__ import annotations

import csv
import io
from typing import Any

from compliance.assess.model import Assessment, SafeguardResult
from compliance.kb import status as rules
from compliance.kb.core import KB
from compliance.kb.model import Framework

FORMATS = ("table", "json", "csv", "markdown")


def control_rows(a: Assessment) -> list[dict[str, Any]]:
    rows = []
    for c in a.controls.values():
        failing = sorted(
            {f for ln in c.mitigations for r in (a.mitigations[ln.id].rules if ln.id in a.mitigations else []) for f in r.failing}
        )
        rows.append(
            {
                "control": c.id,
                "title": c.title,
                "status": c.status,
                "party": c.party or "",
                "mitigations": [ln.id for ln in c.mitigations],
                "failing_findings": len(failing),
                "reason": c.reason,
                "scopes": c.scopes,
            }
        )
    return rows


def framework_views(a: Assessment, kb: KB) -> list[tuple[Framework, list[SafeguardResult]]]:
    """The assessment's safeguard results per framework (frameworks in KB order, results in id order);
    results whose framework the KB no longer knows are left out."""
    groups: dict[str, list[SafeguardResult]] = {}
    for s in a.safeguards.values():
        fw = kb.framework_of(s.id)
        if fw is not None:
            groups.setdefault(fw.id, []).append(s)
    return [(fw, groups[fw.id]) for fw in kb.frameworks.values() if fw.id in groups]


def as_json(a: Assessment, gate: list[str] | None = None, *, paths: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"assessment": a.summary(), "controls": control_rows(a)}
    if a.safeguards:
        out["safeguards"] = [
            {"id": s.id, "title": s.title, "status": s.status, "reason": s.reason} for s in a.safeguards.values()
        ]
    out["poam"] = [
        {
            "rule": p.rule,
            "severity": p.severity,
            "first_seen": p.first_seen,
            "due": p.due,
            "overdue": p.overdue,
            "findings": len(p.findings),
        }
        for p in a.poam
    ]
    if a.unmapped:
        out["unmapped_failures"] = a.unmapped
    if gate is not None:
        out["gate"] = {"passed": not gate, "reasons": gate}
    if paths:
        out["paths"] = {cid: a.path(cid) for cid in a.controls}
    return out


def as_csv(a: Assessment, kb: KB) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["control", "title", "status", "party", "mitigations", "failing_findings", "scopes", "reason"])
    for r in control_rows(a):
        w.writerow(
            [
                r["control"],
                r["title"],
                r["status"],
                r["party"],
                " ".join(r["mitigations"]),
                r["failing_findings"],
                " ".join(r["scopes"]),
                r["reason"],
            ]
        )
    for s in a.safeguards.values():
        fw = kb.framework_of(s.id)
        view = f"{fw.id}-view" if fw is not None else "safeguard-view"  # the scopes column: which view holds it
        w.writerow([s.id, s.title, s.status, "", " ".join(m.id for m in s.mitigations), "", view, s.reason])
    return buf.getvalue()


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown(a: Assessment, gate: list[str] | None = None, *, limit: int = 50) -> str:
    counts = a.counts()
    lines = [f"### sckb assessment `{a.id}`", ""]
    lines.append(f"Scopes: {', '.join(a.scopes)} · evidence window {a.window_start[:10]} to {a.now[:10]} ({a.max_age_days} days)")
    if a.system is not None:  # only then: a workspace-wide summary stays as it was
        lines.append("")
        lines.append(f"System: {_md(a.system)} · {a.outside_findings} finding(s) outside its boundary not counted")
    lines.append("")
    if gate is not None:
        lines.append("**Gate: passed**" if not gate else "**Gate: FAILED** — " + "; ".join(gate))
        lines.append("")
    lines += ["| status | controls |", "|---|---:|"]
    lines += [f"| {s} | {counts[s]} |" for s in rules.STATUSES]
    lines.append(f"| **satisfied share** | {a.satisfied_percent():.1f}% |")
    lines.append("")
    bad = [c for c in a.controls.values() if c.status in (rules.NOT_SATISFIED, rules.PARTIAL)]
    if bad:
        lines += ["#### Controls needing work", "", "| control | status | why |", "|---|---|---|"]
        for c in bad[:limit]:
            lines.append(f"| {c.id} {_md(c.title)} | {c.status} | {_md(c.reason)} |")
        if len(bad) > limit:
            lines.append(f"| … | | {len(bad) - limit} more |")
        lines.append("")
    if a.poam:
        overdue = sum(1 for p in a.poam if p.overdue)
        lines.append(f"POA&M: {len(a.poam)} open item(s), {overdue} overdue.")
    if a.unmapped:
        lines.append(f"Unmapped failing findings: {len(a.unmapped)} ({a.unmapped_mode}).")
    stale = [f for f in a.files if not f.fresh]
    if stale:
        lines.append(f"Stale evidence files (older than {a.max_age_days} days): {len(stale)}.")
    return "\n".join(lines).rstrip() + "\n"
