"""Fill the report model from a stored assessment (the one adapter between assessment and report).

Scale: the findings are read in one pass. Each control keeps a bounded buffer of its most severe
failing findings (``top_findings``); the per-control section shows those and cites counts, and
the complete list goes to the findings CSV (:func:`findings_csv`), which ``--attach`` embeds.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from compliance.assess.model import Assessment, ControlResult, FindingRecord, PoamItem, RuleEvidence, SafeguardResult
from compliance.errors import InputError
from compliance.evidence.system import System
from compliance.kb import status as arules
from compliance.kb.load import KB
from compliance.kb.model import Baseline, Control, EdgeKind, NodeKind, Risk, Safeguard
from compliance.kb.query import control_sort_key
from compliance.kb.scope import SERVERLESS
from compliance.report.model import (
    RESIDUAL,
    STATUS_ORDER,
    Bar,
    Chart,
    Citation,
    CompactControl,
    ConmonView,
    ControlSection,
    DeterminationRow,
    EvidenceRow,
    FrameworkRef,
    FrameworkView,
    Meta,
    MethodRule,
    MitigationPath,
    PoamRow,
    Report,
    RiskRow,
    RulePath,
    SafeguardRow,
    SignOff,
    SspSummary,
    SystemView,
)
from compliance.vocab import iso, poam_id, severity_order

#: The risk taxonomy of the risk register (the KB's records of the CSA serverless risks).
RISK_TAXONOMY = "csa-2019"
_NO_EVIDENCE = ("not-assessed", "inherited")


@dataclass(frozen=True, slots=True)
class Options:
    """What the user chose for the report (cover text, caps per section)."""

    title: str = "Serverless compliance assessment report"
    system_name: str | None = None
    organization: str | None = None
    assessor: str | None = None  # who assessed: cover, sign-off block
    author: str | None = None
    logo: str | None = None  # a data: URI made by compliance.report.assets.logo_data_uri
    top_findings: int = 5  # citations per control section
    top_rules: int = 4  # rules listed per mitigation on the explanation path
    top_subjects: int = 3  # subjects per POA&M row
    attention: int = 10  # controls listed as needing attention in the executive summary


#: Longest evidence text quoted in the PDF (characters); the findings CSV keeps the full text.
MAX_TEXT = 600


def clip(s: str | None, n: int = MAX_TEXT) -> str | None:
    """``s`` cut to ``n`` characters, saying how much was left out."""
    if s is None or len(s) <= n:
        return s
    return f"{s[:n]}… [{len(s) - n:,} more characters in the findings CSV]"


def _citation(f: FindingRecord) -> Citation:
    loc = f.file + (f":{f.line}" if f.line else "") if f.file else None
    return Citation(
        tool=f.tool,
        rule=f.rule,
        title=clip(f.title, 300),
        severity=f.severity,
        subject=clip(f.subject or f.resource or f.function, 300),
        location=clip(loc, 300),
        pointer=clip(f.pointer, 200) or "",
        sha256=f.file_sha256,
        message=clip(f.message),
        first_seen=f.first_seen,
    )


def _rule_path(r: RuleEvidence) -> RulePath:
    return RulePath(
        rule=r.rule,
        tool=r.tool,
        mapped_by=r.mapped_by,
        outcome=r.outcome,
        passed=r.passed,
        failed=r.failed,
        errors=r.errors,
        stale=r.stale,
        files=len(r.files),
        methods=tuple(r.methods),
    )


def _rule_key(r: RuleEvidence) -> tuple[int, int, int, str]:
    return (-r.failed, -r.errors, -r.passed, r.rule)


def _has_evidence(r: RuleEvidence) -> bool:
    return bool(r.passed or r.failed or r.errors or r.stale or r.closed or r.info)


def _top_citations(a: Assessment, wanted: set[str], n: int) -> tuple[dict[str, list[FindingRecord]], dict[str, int]]:
    """One pass over the failing findings: per control (reached through its mitigations, or named directly
    by an attestation), ``n`` findings to cite and the count.

    The citations favour variety: the most severe finding of each rule first (so five findings of one noisy
    rule do not hide the others), then the most severe of the rest; ties by rule, subject, identity. Each
    control's buffer of candidates is cut back to ``n`` whenever it reaches ``4 n``."""
    mit_controls: dict[str, set[str]] = {}
    for cid in wanted:
        for link in a.controls[cid].mitigations:
            mit_controls.setdefault(link.id, set()).add(cid)
    reach: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[str, ...]] = {}
    buf: dict[str, list[tuple[int, str, str, str, FindingRecord]]] = {}
    best: dict[str, dict[str, tuple[int, str, str, str, FindingRecord]]] = {}
    counts: dict[str, int] = {}
    cap = max(4 * n, 1)
    for f in a.findings.values():
        key = (tuple(f.mitigations), tuple(f.controls))
        ctrls = reach.get(key)
        if ctrls is None:
            found = {c for c in f.controls if c in wanted}
            for m in f.mitigations:
                found.update(mit_controls.get(m, ()))
            ctrls = reach[key] = tuple(sorted(found))
        item = (severity_order(f.severity), f.rule, f.subject or "", f.identity, f)
        k = item[:4]
        for c in ctrls:
            counts[c] = counts.get(c, 0) + 1
            per_rule = best.setdefault(c, {})
            cur = per_rule.get(f.rule)
            if cur is None or k < cur[:4]:
                per_rule[f.rule] = item
            lst = buf.setdefault(c, [])
            lst.append(item)
            if len(lst) >= cap:
                lst.sort(key=_item_key)
                del lst[n:]
    top: dict[str, list[FindingRecord]] = {}
    for c, lst in buf.items():
        picks = sorted(best[c].values(), key=_item_key)[:n]
        chosen = {x[3] for x in picks}
        picks += [x for x in sorted(lst, key=_item_key) if x[3] not in chosen][: n - len(picks)]
        top[c] = [x[4] for x in sorted(picks, key=_item_key)]
    return top, counts


def _item_key(x: tuple[int, str, str, str, FindingRecord]) -> tuple[int, str, str, str]:
    return x[:4]


def _determination_row(item: ControlResult | SafeguardResult, anchor: str | None) -> DeterminationRow | None:
    d = item.determination
    if d is None:
        return None
    return DeterminationRow(
        target=item.id,
        title=item.title,
        anchor=anchor,
        status=item.status,
        derived_status=item.derived_status or arules.NOT_ASSESSED,
        by=d.by,
        role=d.role,
        date=d.date,
        methods=tuple(d.methods),
        rationale=clip(d.rationale) or "",
        source=d.source,
    )


def _baseline_index(kb: KB) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for n in sorted(kb.of_kind(NodeKind.BASELINE), key=lambda n: n.id):
        if isinstance(n.record, Baseline):
            for m in n.record.members:
                out.setdefault(m, []).append(n.id)
    return out


def _confidence(kb: KB, mitigation: str, cid: str) -> str | None:
    """The curated confidence of the mitigation -> control link (None when the link states none)."""
    edge = kb.edges.get((mitigation, cid, EdgeKind.MAPS_TO.value))
    return edge.confidence if edge is not None else None


def _family(kb: KB, cid: str) -> str:
    entry = kb.nodes.get(cid)
    if entry is not None and isinstance(entry.record, Control):
        return entry.record.family
    return cid.split("-", 1)[0]


def _status_counts(statuses: Iterable[str]) -> dict[str, int]:
    out = dict.fromkeys(STATUS_ORDER, 0)
    for s in statuses:
        out[s] = out.get(s, 0) + 1
    return out


def _charts(kb: KB, a: Assessment, baselines_of: dict[str, list[str]], risks: list[RiskRow]) -> list[Chart]:
    fam: dict[str, list[str]] = {}
    for c in a.controls.values():
        fam.setdefault(_family(kb, c.id), []).append(c.status)
    fam_bars = []
    for f in sorted(fam):
        entry = kb.nodes.get(f)
        fam_bars.append(Bar(label=f, title=entry.record.title if entry else f, counts=_status_counts(fam[f])))
    base_bars = []
    for n in sorted(kb.of_kind(NodeKind.BASELINE), key=lambda n: n.id):
        if not isinstance(n.record, Baseline):
            continue
        members = [m for m in n.record.members if m in a.controls]
        if not members:
            continue
        base_bars.append(
            Bar(
                label=f"{n.id} ({len(members)}/{len(n.record.members)})",
                title=f"{n.record.title}: {len(members)} of {len(n.record.members)} members assessed",
                counts=_status_counts(a.controls[m].status for m in members),
            )
        )
    risk_bars = [Bar(label=_short(f"{r.id} {r.title}", 44), title=r.title, counts=r.counts) for r in risks]
    return [
        Chart(
            "chart-family",
            "Control status by family",
            "Controls in scope per SP 800-53 family, by assessed status.",
            tuple(fam_bars),
        ),
        Chart(
            "chart-baseline",
            "Control status by baseline",
            "For every baseline that shares controls with this assessment: its members in this assessment"
            " (in brackets: of all its members), by status.",
            tuple(base_bars),
        ),
        Chart(
            "chart-risk",
            "Mitigation status by CSA serverless risk",
            "For each of the CSA serverless risks: the status of the mitigations that address it.",
            tuple(risk_bars),
        ),
    ]


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


def _risks(kb: KB, a: Assessment) -> list[RiskRow]:
    mits: dict[str, list[str]] = {}
    for e in kb.edges.values():
        if e.kind is EdgeKind.MITIGATED_BY:
            mits.setdefault(e.source, []).append(e.target)
    risks = [n for n in kb.of_kind(NodeKind.RISK) if isinstance(n.record, Risk) and n.record.taxonomy == RISK_TAXONOMY]
    out = []
    for n in sorted(risks, key=lambda n: control_sort_key(n.id)):
        pairs = []
        for mid in sorted(set(mits.get(n.id, []))):
            m = a.mitigations.get(mid)
            pairs.append((mid, m.status if m else arules.NOT_ASSESSED))
        residual = arules.combine(s for _, s in pairs)
        out.append(
            RiskRow(
                id=n.id,
                title=n.record.title,
                residual_status=residual,
                residual=RESIDUAL.get(residual, residual),
                mitigations=tuple(pairs),
                counts=_status_counts(s for _, s in pairs),
            )
        )
    return out


def _rating_basis(severity: str, rating: str, source: str) -> str:
    """How the report says where an item's original rating came from (nothing when the tool said it plainly)."""
    if source == "kb-rule":
        return "KB rule"
    if source == "unrated":
        return "unrated"
    return ""  # the tool's own rating, in the policy's words (medium reads moderate)


def _poam_row(number: int, p: PoamItem, opt: Options) -> PoamRow:
    """One POA&M item as the report's table shows it, with its triage when the assessment has any."""
    t = p.triage
    row = PoamRow(
        number=number,
        rule=p.rule,
        title=clip(p.title, 300) or "",
        severity=p.severity,
        first_seen=p.first_seen,
        due=p.due,
        overdue=p.overdue,
        findings=len(p.findings),
        subjects=tuple(clip(x, 200) or "" for x in p.subjects[: opt.top_subjects]),
        subjects_more=max(0, len(p.subjects) - opt.top_subjects),
        controls=tuple(p.controls),
        kev=p.kev,
        due_basis=p.due_basis,
        poam_id=poam_id(p.rule),
    )
    if t is None:
        return row
    return replace(
        row,
        original_rating=t.original_rating,
        rating_basis=_rating_basis(p.severity, t.original_rating, t.rating_source),
        adjusted_rating=t.adjusted_rating or "",
        status=t.status,
        deviations=tuple(f"{k.replace('-', ' ')} {v}" for k, v in sorted(t.deviations.items())),
        poc=clip(t.poc, 120) or "",
        milestones=tuple(clip(f"{m.date}: {m.description}", 200) or "" for m in t.milestones),
        vendor=f"{t.vendor_product} (last check-in {t.last_vendor_checkin or 'never'})" if t.vendor_product else "",
        overdue_waived=t.overdue_waived or "",
        closed=t.closed or "",
        closure=clip(t.closure, 300) or "",
    )


def _conmon(a: Assessment) -> ConmonView | None:
    c = a.conmon
    if c is None:
        return None
    return ConmonView(
        previous=c.previous,
        previous_date=c.previous_now,
        new=tuple(poam_id(r) for r in c.new),
        closed=tuple(poam_id(r) for r in c.closed),
        overdue=tuple(poam_id(r) for r in c.overdue),
        deviated=tuple(poam_id(r) for r in c.deviated),
        changed=tuple((poam_id(r), "; ".join(what)) for r, what in sorted(c.changed.items())),
    )


def from_assessment(
    a: Assessment,
    kb: KB,
    *,
    now: datetime,
    options: Options | None = None,
    evidence_files: Iterable[Any] = (),
    statements: Mapping[str, str] | None = None,
    system: System | None = None,
    statement_profile: str | None = None,
    profiled: Collection[str] = (),
) -> Report:
    """Build the report model of assessment ``a``.

    ``evidence_files`` are the store's file records (``Store.files()``), used for tool versions and
    finding counts; ``statements`` maps control ids to catalog statement text (``sckb catalog import``);
    ``system`` is the assessed system's record (the front section); ``statement_profile`` names the tailored
    baseline whose parameter values the statements of the controls in ``profiled`` show.
    """
    opt = options or Options()
    statements = statements or {}
    baselines_of = _baseline_index(kb)

    def has_evidence(cid: str) -> bool:
        c = a.controls[cid]
        if c.direct:
            return True
        for link in c.mitigations:
            m = a.mitigations.get(link.id)
            if m and any(_has_evidence(r) for r in m.rules):
                return True
        return False

    order = sorted(a.controls, key=control_sort_key)
    detailed = [
        cid
        for cid in order
        if a.controls[cid].status not in _NO_EVIDENCE or a.controls[cid].determination is not None or has_evidence(cid)
    ]
    detailed_set = set(detailed)
    top, failing = _top_citations(a, detailed_set, opt.top_findings)

    sections: list[ControlSection] = []
    compact: list[CompactControl] = []
    for cid in order:
        c = a.controls[cid]
        resp = kb.party(cid)
        if cid not in detailed_set:
            compact.append(
                CompactControl(
                    id=cid,
                    title=c.title,
                    family=_family(kb, cid),
                    status=c.status,
                    party=c.party,
                    mitigations=len(c.mitigations),
                    scopes=tuple(c.scopes),
                )
            )
            continue
        mpaths = []
        files: set[str] = set()
        for link in c.mitigations:
            m = a.mitigations.get(link.id)
            rs = sorted((r for r in (m.rules if m else []) if _has_evidence(r)), key=_rule_key)
            for r in rs:
                files.update(r.files)
            mpaths.append(
                MitigationPath(
                    id=link.id,
                    title=m.title if m else link.id,
                    relationship=link.relationship,
                    status=link.status,
                    reason=m.reason if m else "",
                    rules=tuple(_rule_path(r) for r in rs[: opt.top_rules]),
                    rules_more=max(0, len(rs) - opt.top_rules),
                    more_failed=sum(r.failed for r in rs[opt.top_rules :]),
                    more_passed=sum(r.passed for r in rs[opt.top_rules :]),
                    confidence=_confidence(kb, link.id, cid),
                    determinative=link.determinative,
                    parts=tuple(link.parts),
                )
            )
        for r in c.direct:
            files.update(r.files)
        cites = tuple(_citation(f) for f in top.get(cid, []))
        n_fail = failing.get(cid, 0)
        anchor = "ctl-" + "".join(ch if ch.isalnum() else "-" for ch in cid.lower())
        sections.append(
            ControlSection(
                id=cid,
                anchor=anchor,
                title=c.title,
                family=_family(kb, cid),
                status=c.status,
                reason=c.reason,
                party=c.party,
                party_rationale=resp.rationale if resp else None,
                scopes=tuple(c.scopes),
                baselines=tuple(baselines_of.get(cid, ())),
                statement=statements.get(cid),
                statement_label=(
                    f"Statement with the parameter values of the tailored baseline {statement_profile}"
                    if statement_profile is not None and cid in profiled and cid in statements
                    else None
                ),
                mitigations=tuple(mpaths),
                attestations=tuple(_rule_path(r) for r in c.direct),
                failing=n_fail,
                evidence_files=len(files),
                citations=cites,
                citations_more=max(0, n_fail - len(cites)),
                parts=tuple(c.parts),
                covered=tuple(c.covered),
                review=tuple(c.review),
                determination=_determination_row(c, anchor),
            )
        )

    risks = _risks(kb, a)
    charts = _charts(kb, a, baselines_of, risks)

    poam = [_poam_row(i, p, opt) for i, p in enumerate(a.poam, 1)]
    closed_poam = [_poam_row(i, p, opt) for i, p in enumerate(a.closed_poam, 1)]

    frameworks = [
        FrameworkRef(fw.id, fw.label, fw.name, fw.item, fw.items, fw.group, fw.members or fw.items)
        for fw in kb.frameworks.values()
    ]
    safeguards = None
    views: list[FrameworkView] = []
    if a.safeguards:
        safeguards = []
        for s in a.safeguards.values():
            fw = kb.framework_of(s.id)
            safeguards.append(
                SafeguardRow(
                    id=s.id,
                    title=s.title,
                    status=s.status,
                    reason=s.reason,
                    controls=tuple(s.controls),
                    mitigations=tuple(m.id for m in s.mitigations),
                    framework=fw.id if fw is not None else "",
                    derived_status=(s.derived_status or arules.NOT_ASSESSED) if s.determination is not None else None,
                    requirement=_requirement(kb, s.id),
                )
            )
        for fref in frameworks:
            fw_rows = tuple(x for x in safeguards if x.framework == fref.id)
            if fw_rows:
                views.append(FrameworkView(fref, fw_rows))

    by_sha = {f.sha256: f for f in evidence_files}
    rows = []
    for ref in sorted(a.files, key=lambda f: (f.tool, f.name, f.sha256)):
        sf = by_sha.get(ref.sha256)
        rows.append(
            EvidenceRow(
                sha256=ref.sha256,
                name=ref.name,
                tool=ref.tool,
                version=getattr(sf, "tool_version", None),
                format=ref.format,
                scan_time=ref.scan_time,
                fresh=ref.fresh,
                findings=getattr(sf, "findings", None),
                completeness=ref.completeness,
            )
        )

    counts = a.counts()
    parties: dict[str, int] = {}
    for c in a.controls.values():
        key = c.party or "unassigned"
        parties[key] = parties.get(key, 0) + 1
    titles = tuple(scope_title(kb, a, x) for x in a.scopes)
    scopes = "; ".join(titles)
    system_label = opt.system_name or (system.name if system is not None else None)
    window = f"evidence window {a.window_start} to {a.now}"
    meta = Meta(
        title=opt.title,
        system_name=system_label,
        organization=opt.organization,
        author=opt.author or opt.organization or "sckb",
        subject=f"Assessment {a.id} of {system_label or 'the system'} against {scopes} ({window})",
        keywords=", ".join(["compliance", "assessment", *a.scopes]),
        generated=iso(now),
        assessment_id=a.id,
        assessed_at=a.now,
        scopes=tuple(a.scopes),
        window_start=a.window_start,
        window_end=a.now,
        max_age_days=a.max_age_days,
        unmapped_mode=a.unmapped_mode,
        catalog_imported=bool(statements),
        logo=opt.logo,
        remediation_policy=a.remediation_policy,
        assessor=opt.assessor,
        scope_titles=titles,
        statement_profile=statement_profile,
    )
    totals = {
        "controls": len(a.controls),
        "sections": len(sections),
        "compact": len(compact),
        "failing": len(a.findings),
        "files": len(a.files),
        "stale_files": sum(1 for f in a.files if not f.fresh),
        "poam": len(poam),
        "poam_overdue": sum(1 for p in poam if p.overdue),
        "poam_deviated": sum(1 for p in poam if p.deviated),
        "poam_closed": len(closed_poam),
        "stale_findings": a.stale_findings,
        "undated_findings": a.undated_findings,
        "accept_ingest_time": a.accept_ingest_time,
        "needs_review": sum(1 for c in a.controls.values() if c.review),
        "unmapped": len(a.unmapped),
        "safeguards": len(a.safeguards),
    }
    worst = [c for c in sections if c.status in ("not-satisfied", "partially-satisfied")]
    worst.sort(key=lambda c: (c.status != "not-satisfied", -c.failing, control_sort_key(c.id)))
    determinations = [c.determination for c in sections if c.determination is not None]
    determinations += [row for s in a.safeguards.values() if (row := _determination_row(s, None)) is not None]
    return Report(
        meta=meta,
        determinations=determinations,
        attention=worst[: opt.attention],
        counts={k: counts.get(k, 0) for k in STATUS_ORDER},
        satisfied_percent=a.satisfied_percent(),
        totals=totals,
        charts=charts,
        controls=sections,
        compact=compact,
        risks=risks,
        poam=poam,
        closed_poam=closed_poam,
        conmon=_conmon(a),
        safeguards=safeguards,
        views=views,
        frameworks=frameworks,
        files=rows,
        responsibility=dict(sorted(parties.items())),
        limits={"top_findings": opt.top_findings, "top_rules": opt.top_rules, "top_subjects": opt.top_subjects},
        system=system_view(system) if system is not None else None,
        method=method_rules(),
        limitations=limitations(kb, a, catalog_imported=bool(statements), profile_shown=statement_profile is not None),
        signoff=signoff(opt, system),
    )


# --------------------------------------------------------------------------- front section


def _requirement(kb: KB, item: str) -> str | None:
    entry = kb.nodes.get(item)
    return entry.record.requirement if entry is not None and isinstance(entry.record, Safeguard) else None


def scope_title(kb: KB, a: Assessment, name: str) -> str:
    """A scope as a reader knows it: the baseline's or framework's title, the tailored profile's title."""
    entry = kb.nodes.get(name)
    if entry is not None and isinstance(entry.record, Baseline):
        return entry.record.title
    fw = kb.frameworks.get(name)
    if fw is not None:
        return f"{fw.label} {fw.name}"
    if a.profile is not None and name == a.profile.scope:
        return f"{a.profile.title} (tailored profile {a.profile.file})"
    if name == SERVERLESS:
        return "Every SP 800-53 control a serverless mitigation maps to"
    return name


_BOUNDARY = (
    ("Providers", "providers"),
    ("Accounts", "accounts"),
    ("Regions", "regions"),
    ("Code and IaC paths", "paths"),
    ("Resources", "resources"),
    ("Repositories", "repositories"),
    ("Tags", "tags"),
)


def system_view(system: System) -> SystemView:
    """The front section's facts of ``system`` (only what its file states)."""
    b = system.boundary
    boundary = tuple((label, ", ".join(getattr(b, key))) for label, key in _BOUNDARY if getattr(b, key))
    info = system.ssp
    if info is None:
        return SystemView(name=system.name, description=system.description, boundary=boundary)
    return SystemView(
        name=system.name,
        description=system.description,
        boundary=boundary,
        sensitivity=info.sensitivity,
        status=info.status.replace("-", " "),
        information_types=tuple(
            f"{t.title} ({t.id}): confidentiality {t.confidentiality}, integrity {t.integrity}, availability {t.availability}"
            for t in info.information_types
        ),
        authorizations=tuple(
            f"{x.title}, held by {x.party}, authorized {x.date_authorized.isoformat()}" for x in info.leveraged_authorizations
        ),
        contacts=tuple((c.role.replace("-", " "), c.name + (f" <{c.email}>" if c.email else "")) for c in info.contacts),
    )


_RULE = re.compile(r"^(\d+)\. \*\*(.+?)\*\*\s*", re.MULTILINE)


def method_rules() -> list[MethodRule]:
    """The status rules of :mod:`compliance.kb.status`, one entry each (generated: the report cannot drift from
    the rules the code applies). Bullets inside a rule become lines starting with "• "."""
    text = arules.rules_markdown()
    heads = list(_RULE.finditer(text))
    out = []
    for i, m in enumerate(heads):
        body = text[m.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        items: list[list[str]] = [[]]
        for line in body.splitlines():
            line = line.strip()
            if line.startswith("- "):  # a bullet of the rule: its own line
                items.append(["•", line[2:]])
            elif line:
                items[-1].append(line)
        lines = [" ".join(" ".join(words).split()) for words in items if words]
        out.append(MethodRule(number=int(m[1]), title=m[2].rstrip("."), text="\n".join(lines)))
    return out


def limitations(kb: KB, a: Assessment, *, catalog_imported: bool, profile_shown: bool = False) -> list[str]:
    """What this assessment could not see or decide, each in one sentence with its count."""
    out: list[str] = []
    counts = a.counts()
    total = len(a.controls)
    if a.system is not None and a.outside_findings:
        out.append(
            f"{a.outside_findings} findings lie outside the boundary of {a.system} and were not counted"
            " (sckb evidence list --system NAME --outside lists them)."
        )
    stale_files = sum(1 for f in a.files if not f.fresh)
    if stale_files:
        out.append(f"{stale_files} evidence files were scanned before the evidence window; their results count for nothing.")
    if a.stale_findings:
        out.append(f"{a.stale_findings} findings were last seen before the evidence window and count for nothing.")
    if a.accept_ingest_time:
        out.append("Evidence whose files state no scan time was counted as scanned when it was ingested (--accept-ingest-time).")
    elif a.undated_findings:
        out.append(f"{a.undated_findings} findings come from files that state no scan time; they count for nothing.")
    if counts.get(arules.NOT_ASSESSED):
        out.append(
            f"{counts[arules.NOT_ASSESSED]} of {total} controls are not assessed: no fresh evidence that can decide them"
            " was available to this assessment."
        )
    person = [c for c in a.controls if (m := kb.methods_required(c)) is not None and "TEST" not in m]
    if person:
        open_ = sum(1 for c in person if a.controls[c].status == arules.NOT_ASSESSED)
        out.append(
            f"{len(person)} controls (policies, procedures, agreements, oversight) can only be shown by a person"
            f" (EXAMINE or INTERVIEW); scanner results cannot satisfy them, and {open_} still await an attestation"
            " or an assessor's determination."
        )
    if counts.get(arules.INHERITED):
        out.append(
            f"{counts[arules.INHERITED]} controls are inherited from the cloud provider and were not tested here;"
            " the provider's own authorization is their evidence."
        )
    if a.unmapped:
        out.append(f"{len(a.unmapped)} failing findings reach no mitigation and change no status (policy: {a.unmapped_mode}).")
    unverified = a.unverified_files()
    if unverified:
        out.append(
            f"{unverified} evidence files are unverified-complete (a CSV states no totals): a report cut at a row"
            " boundary cannot be told from a shorter scan, so a finding missing from one may have been closed wrongly."
        )
    if not catalog_imported:
        out.append("Control statements are not quoted: no SP 800-53 catalog was imported (sckb catalog fetch).")
    elif a.profile is not None and a.profile.parameters and not profile_shown:
        out.append(
            f"The tailored baseline {a.profile.title} sets {len(a.profile.parameters)} parameter values that the"
            " statements do not show: the catalog was imported before sckb marked parameters (import it again)."
        )
    out.append(
        "Scanner evidence shows what each scanner saw when it ran; it does not show the system between scans,"
        " nor anything the scanners do not check."
    )
    return out


#: The sign-off roles and the ssp contact role that names each one's person.
_SIGNERS = (("Assessor", None), ("System owner", "system-owner"), ("Authorizing official", "authorizing-official"))


def signoff(opt: Options, system: System | None) -> list[SignOff]:
    names = {c.role: c.name for c in (system.ssp.contacts if system is not None and system.ssp is not None else ())}
    return [SignOff(role, (opt.assessor or "") if contact is None else names.get(contact, "")) for role, contact in _SIGNERS]


# --------------------------------------------------------------------------- CSV

CSV_COLUMNS = (
    "identity",
    "tool",
    "rule",
    "severity",
    "title",
    "subject",
    "resource",
    "function",
    "file",
    "line",
    "pointer",
    "evidence_sha256",
    "first_seen",
    "last_seen",
    "method",
    "mapped_by",
    "mitigations",
    "controls",
    "message",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(v: object) -> str:
    if v is None:
        return ""
    s = str(v)
    # a spreadsheet would run a cell that starts like a formula: keep evidence text inert
    return "'" + s if s.startswith(_FORMULA) else s


def findings_csv(a: Assessment) -> bytes:
    """Every fresh open failing finding of the assessment, one row each, sorted by identity."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for ident in sorted(a.findings):
        f = a.findings[ident]
        w.writerow(
            [
                _cell(x)
                for x in (
                    f.identity,
                    f.tool,
                    f.rule,
                    f.severity,
                    f.title,
                    f.subject,
                    f.resource,
                    f.function,
                    f.file,
                    f.line,
                    f.pointer,
                    f.file_sha256,
                    f.first_seen,
                    f.last_seen,
                    f.method,
                    f.mapped_by,
                    ";".join(f.mitigations),
                    ";".join(f.controls),
                    f.message,
                )
            ]
        )
    return buf.getvalue().encode("utf-8")


#: OSCAL's implementation states, in the order the SSP summary lists them ("not-stated": a person states it).
SSP_STATES = ("implemented", "partial", "planned", "alternative", "not-applicable", "not-stated")
SSP_PARTIES = ("provider", "shared", "customer")


def ssp_summary(path: Path) -> SspSummary:
    """Controls by implementation status and responsibility of a system security plan ``sckb export ssp`` wrote (read
    from each implemented requirement's ``implementation-status`` and ``responsibility`` props)."""
    try:
        doc = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc}", path=path) from exc
    ssp = doc.get("system-security-plan") if isinstance(doc, dict) else None
    if not isinstance(ssp, dict):
        raise InputError("not an OSCAL system security plan (no system-security-plan object)", path=path, pointer="")
    counts: dict[tuple[str, str], int] = {}
    reqs = ssp.get("control-implementation", {}).get("implemented-requirements", [])
    for req in reqs:
        props = {p.get("name"): p.get("value") for p in req.get("props", [])}
        key = (str(props.get("implementation-status", "not-stated")), str(props.get("responsibility", "unknown")))
        counts[key] = counts.get(key, 0) + 1
    parties = [p for p in SSP_PARTIES if any(k[1] == p for k in counts)] + sorted({k[1] for k in counts} - set(SSP_PARTIES))
    states = [s for s in SSP_STATES if any(k[0] == s for k in counts)] + sorted({k[0] for k in counts} - set(SSP_STATES))
    rows = [(st, [counts.get((st, p), 0) for p in parties], sum(counts.get((st, p), 0) for p in parties)) for st in states]
    meta = {p.get("name"): p.get("value") for p in ssp.get("metadata", {}).get("props", [])}
    return SspSummary(
        file=path.name,
        system=str(ssp.get("system-characteristics", {}).get("system-name", "")),
        profile=str(ssp.get("import-profile", {}).get("href", "")),
        rows=rows,
        parties=parties,
        placeholders=int(meta.get("placeholders", 0) or 0),
        controls=len(reqs),
    )
