"""Assessment summaries as text: table rows, JSON, CSV and Markdown (for a pull-request comment)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Any

from compliance.assess.model import Assessment, ControlResult, PoamItem, SafeguardResult
from compliance.kb import status as rules
from compliance.kb.core import KB
from compliance.kb.model import Framework

FORMATS = ("table", "json", "csv", "markdown")


def status_label(item: ControlResult | SafeguardResult) -> str:
    """The status as tables show it: a determined item says so, with the status the evidence gave beside it
    (``satisfied (determined; derived: partially-satisfied)``)."""
    if item.determination is None:
        return item.status
    return f"{item.status} (determined; derived: {item.derived_status or 'not-assessed'})"


def determination_fields(item: ControlResult | SafeguardResult) -> dict[str, Any]:
    """What ``assess explain`` and the JSON rows add about an assessor's determination: the status the evidence
    gave, and the determination (who, role, when, why, methods, where recorded), None when there is none."""
    d = item.determination
    return {
        "derived_status": item.derived_status or item.status,
        "determination": None
        if d is None
        else {
            "status": d.status,
            "rationale": d.rationale,
            "by": d.by,
            "role": d.role,
            "date": d.date,
            "methods": list(d.methods),
            "source": d.source,
        },
    }


def determination_line(item: ControlResult | SafeguardResult) -> str | None:
    """One line saying who determined the item's status, when and why (None: not determined)."""
    d = item.determination
    if d is None:
        return None
    methods = f" [{', '.join(d.methods)}]" if d.methods else ""
    return f"determined {d.status} by {d.by} ({d.role}) on {d.date}{methods}, recorded via {d.source}: {d.rationale}"


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
                "derived_status": c.derived_status or c.status,
                "party": c.party or "",
                "parts_covered": f"{len(c.covered)}/{len(c.parts)}",
                "needs_review": c.review,
                "mitigations": [ln.id for ln in c.mitigations],
                "failing_findings": len(failing),
                "reason": c.reason,
                "scopes": c.scopes,
                **determination_fields(c),
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
            {
                "id": s.id,
                "title": s.title,
                "status": s.status,
                "reason": s.reason,
                "needs_review": s.review,
                **determination_fields(s),
            }
            for s in a.safeguards.values()
        ]
    out["poam"] = [
        {
            "rule": p.rule,
            "severity": p.severity,
            "first_seen": p.first_seen,
            "due": p.due,
            "overdue": p.overdue,
            "findings": len(p.findings),
            **({"due_basis": p.due_basis, "kev": p.kev, "kev_due": p.kev_due} if a.remediation_policy is not None else {}),
            **poam_triage_fields(p),
        }
        for p in a.poam
    ]
    if a.closed_poam:
        out["poam_closed"] = [
            {"rule": p.rule, "severity": p.severity, "first_seen": p.first_seen, "due": p.due, **poam_triage_fields(p)}
            for p in a.closed_poam
        ]
    if a.conmon is not None:
        out["conmon"] = asdict(a.conmon)
    if a.triage_notes:
        out["triage_notes"] = a.triage_notes
    if a.unmapped:
        out["unmapped_failures"] = a.unmapped
    if a.profile is not None:  # the tailored baseline in full: its parameter settings and alterations
        out["profile"] = asdict(a.profile)
    if gate is not None:
        out["gate"] = {"passed": not gate, "reasons": gate}
    if paths:
        out["paths"] = {cid: a.path(cid) for cid in a.controls}
    return out


def poam_triage_fields(p: PoamItem) -> dict[str, Any]:
    """A POA&M item's rating, triage and closure fields (as ``assess --format json`` prints them)."""
    t = p.triage
    if t is None:
        return {}
    out: dict[str, Any] = {
        "original_rating": t.original_rating,
        "rating_source": t.rating_source,
        "adjusted_rating": t.adjusted_rating,
        "risk_status": t.status,
        "deviations": t.deviations,
    }
    if t.decisions:
        out["decisions"] = [asdict(d) for d in t.decisions]
    for key in ("vendor_product", "last_vendor_checkin", "plan", "resources", "poc", "overdue_waived", "closed", "closure"):
        value = getattr(t, key)
        if value is not None:
            out[key] = value
    if t.milestones:
        out["milestones"] = [asdict(m) for m in t.milestones]
    if t.false_positives:
        out["false_positives"] = t.false_positives
    if t.attack_paths:
        out["attack_paths"] = t.attack_paths
    return out


def conmon_lines(a: Assessment) -> list[str]:
    """The month-to-month POA&M changes in a few lines (empty without a previous assessment)."""
    c = a.conmon
    if c is None:
        return []
    lines = [
        f"Since {c.previous[:14]} ({c.previous_now[:10]}): {len(c.new)} new, {len(c.closed)} closed, "
        f"{len(c.changed)} changed, {len(c.overdue)} overdue, {len(c.deviated)} deviated POA&M item(s)."
    ]
    for label, rules_ in (("new", c.new), ("closed", c.closed), ("overdue", c.overdue), ("deviated", c.deviated)):
        if rules_:
            lines.append(f"  {label}: {', '.join(rules_)}")
    for rule, what in c.changed.items():
        rest = [w for w in what if w != "now overdue"]  # the overdue line above already names it
        if rest:
            lines.append(f"  changed {rule}: {'; '.join(rest)}")
    return lines


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


def determined_items(a: Assessment) -> list[ControlResult | SafeguardResult]:
    """The controls, then the framework items, whose status an assessor determined (in assessment order)."""
    out: list[ControlResult | SafeguardResult] = [c for c in a.controls.values() if c.determination is not None]
    out += [s for s in a.safeguards.values() if s.determination is not None]
    return out


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown(a: Assessment, gate: list[str] | None = None, *, limit: int = 50) -> str:
    counts = a.counts()
    lines = [f"### sckb assessment `{a.id}`", ""]
    lines.append(f"Scopes: {', '.join(a.scopes)} · evidence window {a.window_start[:10]} to {a.now[:10]} ({a.max_age_days} days)")
    if a.system is not None:  # only then: a workspace-wide summary stays as it was
        lines.append("")
        lines.append(f"System: {_md(a.system)} · {a.outside_findings} finding(s) outside its boundary not counted")
    if a.profile is not None:  # likewise: only with --profile
        p = a.profile
        lines.append("")
        lines.append(f"Tailored baseline: {_md(p.title)} (`{_md(p.file)}`, SHA-256 `{p.sha256[:12]}`) · {p.controls} controls")
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
            lines.append(f"| {c.id} {_md(c.title)} | {status_label(c)} | {_md(c.reason)} |")
        if len(bad) > limit:
            lines.append(f"| … | | {len(bad) - limit} more |")
        lines.append("")
    determined = determined_items(a)
    if determined:
        lines += ["#### Assessor determinations", "", "| item | status | by | date | rationale |", "|---|---|---|---|---|"]
        for x in determined:
            d = x.determination
            assert d is not None
            lines.append(f"| {x.id} | {status_label(x)} | {_md(d.by)} ({_md(d.role)}) | {d.date[:10]} | {_md(d.rationale)} |")
        lines.append("")
    if a.poam:
        overdue = sum(1 for p in a.poam if p.overdue)
        lines.append(f"POA&M: {len(a.poam)} open item(s), {overdue} overdue.")
        if a.remediation_policy is not None:
            kev = sum(1 for p in a.poam if p.kev)
            lines.append(f"POA&M due dates by remediation policy {a.remediation_policy}; {kev} item(s) on the CISA KEV list.")
    if a.closed_poam:
        lines.append(f"POA&M: {len(a.closed_poam)} closed item(s).")
    conmon = conmon_lines(a)
    if conmon:
        lines += ["", "#### Continuous monitoring: POA&M changes", "", *[f"- {x.strip()}" for x in conmon]]
        lines.append("")
    for note in a.triage_notes:
        lines.append(f"Triage: {_md(note)}")
    if a.unmapped:
        lines.append(f"Unmapped failing findings: {len(a.unmapped)} ({a.unmapped_mode}).")
    stale = [f for f in a.files if not f.fresh]
    if stale:
        lines.append(f"Stale evidence files (older than {a.max_age_days} days): {len(stale)}.")
    unverified = a.unverified_files()
    if unverified:
        lines.append(f"Unverified-complete evidence files (no totals to check a cut against): {unverified}.")
    if a.undated_findings:
        lines.append(f"Undated findings left out (no scan time stated; see --accept-ingest-time): {a.undated_findings}.")
    review = sum(1 for c in a.controls.values() if c.review)
    if review:
        lines.append(f"Controls needing review (related evidence fails): {review}.")
    return "\n".join(lines).rstrip() + "\n"
