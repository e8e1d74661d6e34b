"""What triage decisions, risk ratings and the previous month change in an assessment (issue 22).

The rules (also in the README, "Triage and the POA&M"):

1. **False positive.** An *approved* false positive (``approved_by`` given) takes the finding out of the
   assessment: it is not a failure of any rule, mitigation or control, and leaves its POA&M item; an item left with
   no finding is closed ("false positive"). A false positive not yet approved changes nothing but is shown as
   requested (``pending``).
2. **Original risk rating** of an item: the policy's rating of its worst finding severity as the tool stated it;
   when the tool stated none, the KB rule's severity (``kb-rule``); when neither exists, the policy's ``unrated``
   rating (the shipped policy: high, so that nobody's weakness waits longer for lack of a rating).
3. **Risk adjustment.** An approved adjusted rating dates the item (the window of the adjusted rating from the
   first detection); a requested one is shown and changes nothing.
4. **Operational requirement and risk acceptance** (approved): the item stays open (it is still a weakness and
   the controls it decides stay as the evidence says) but is not counted overdue: its deviation was approved.
5. **Vendor dependency**: the item is not counted overdue while the last vendor check-in is no older than the
   policy's ``vendor_checkin_days``; a staler check-in is noted and the item counts overdue again.
6. **Remediation plan**: plan, milestones, resources and point of contact are carried to the item; milestones
   replaced by a newer plan are listed as milestone changes.
7. **Expiry**: a decision past its ``expires`` no longer counts, and the assessment says so (``triage_notes``).
8. **Closed items**: an item of the previous assessment of the same system that has no open failing finding now
   is closed when every one of its findings is closed in the store (fixed or no longer reported by a newer scan
   of the same scope) or is an approved false positive; an item whose findings merely went stale is not closed
   (nothing verified the fix) and is noted. Closed items are carried forward from month to month.

Nothing here changes a control's status except rule 1; every other effect is on the POA&M.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from compliance.assess.model import ConMon, FindingRecord, Milestone, PoamItem, PoamTriage, TriageNote
from compliance.assess.policy import RemediationPolicy
from compliance.evidence.triage import DEVIATIONS, Decision, InEffect
from compliance.evidence.triage import Milestone as EvMilestone
from compliance.vocab import iso, worst_severity

_TIME = "%Y-%m-%dT%H:%M:%SZ"
_SEGMENTS = re.compile(r"[.:/|\s]+")


@dataclass(frozen=True, slots=True)
class AttackNote:
    """An attack path of the design check, as a POA&M item mentions it: the element names it runs through."""

    names: frozenset[str]
    text: str


@dataclass(slots=True)
class TriageContext:
    """Everything the POA&M needs beyond the evidence: triage in effect, the previous assessment's items and the
    current store status of their findings, the design's attack paths."""

    effect: InEffect = field(default_factory=InEffect)
    #: the previous assessment of the same system (id, clock, open items, closed items)
    previous_id: str | None = None
    previous_now: str | None = None
    previous_open: list[PoamItem] = field(default_factory=list)
    previous_closed: list[PoamItem] = field(default_factory=list)
    #: identity -> store status now, for the previous open items' findings
    finding_status: dict[str, str] = field(default_factory=dict)
    attack_paths: list[AttackNote] = field(default_factory=list)


def _t(value: str) -> datetime:
    return datetime.strptime(value, _TIME).replace(tzinfo=UTC)


def drop_false_positives(kept: dict[str, FindingRecord], effect: InEffect) -> dict[str, FindingRecord]:
    """Rule 1: remove the findings with an approved false positive in effect from ``kept``; those removed."""
    dropped: dict[str, FindingRecord] = {}
    if not effect:
        return dropped
    for ident, f in list(kept.items()):
        fp = effect.for_finding(ident, f.rule).get("false-positive")
        if fp is not None and fp.approved:
            dropped[ident] = f
            del kept[ident]
    return dropped


def rating(policy: RemediationPolicy, severities: Sequence[str | None], kb_severity: str | None) -> tuple[str, str]:
    """Rule 2: (rating, source) of an item from its findings' severities and the KB rule's severity."""
    # distinct severities in order of first appearance (an item may hold thousands of findings of a few severities)
    stated = [s for s in dict.fromkeys(severities) if s and policy.rating(s) is not None]
    if stated:
        return str(policy.rating(worst_severity(stated))), "tool"
    if kb_severity and policy.rating(kb_severity) is not None:
        return str(policy.rating(kb_severity)), "kb-rule"
    return policy.unrated, "unrated"


def _note(d: Decision, findings: list[str]) -> TriageNote:
    return TriageNote(
        kind=d.kind,
        target=d.target,
        rationale=d.rationale,
        by=d.by,
        date=d.date,
        approved_by=d.approved_by,
        expires=d.expires,
        source=d.source,
        seq=d.seq,
        findings=findings,
    )


def _milestones(ms: Iterable[EvMilestone]) -> str:
    return "; ".join(f"{m.date} {m.description}" for m in ms)


def decorate(
    item: PoamItem,
    rule_findings: list[FindingRecord],
    ctx: TriageContext,
    policy: RemediationPolicy,
    now: datetime,
    kb_severity: str | None,
    false_positives: list[str],
    notes: list[str],
) -> None:
    """Rules 2 to 7 on one open item (its due date, overdue flag and :class:`PoamTriage`)."""
    orig, source = rating(policy, [f.severity for f in rule_findings], kb_severity)
    tri = PoamTriage(original_rating=orig, rating_source=source, false_positives=sorted(false_positives))
    effect = ctx.effect
    # the decisions that apply: the rule's, then each finding's own (the latest of a kind wins)
    chosen: dict[str, tuple[Decision, list[str]]] = {}
    if effect:
        rule_target = "rule:" + item.rule
        for kind, d in effect.by_target.get(rule_target, {}).items():
            chosen[kind] = (d, [])
        for f in rule_findings:
            for kind, d in effect.by_target.get(f.identity, {}).items():
                prev = chosen.get(kind)
                if prev is None or prev[0].target == rule_target or (d.date, d.seq) > (prev[0].date, prev[0].seq):
                    chosen[kind] = (d, [f.identity])
                elif prev[0].target == d.target:
                    prev[1].append(f.identity)
    for kind in sorted(chosen):
        d, idents = chosen[kind]
        tri.decisions.append(_note(d, sorted(idents)))
        if d.poc:
            tri.poc = d.poc
        tri.documents.extend([n, h] for n, h in d.documents)
        if kind in DEVIATIONS:
            tri.deviations[kind] = "approved" if d.approved else "pending"
        if kind == "risk-adjustment" and d.adjusted_rating:
            tri.adjusted_rating = policy.rating(d.adjusted_rating) or d.adjusted_rating
        elif kind == "vendor-dependency":
            tri.vendor_product, tri.last_vendor_checkin = d.product, d.last_checkin
        elif kind == "remediation-plan":
            tri.plan, tri.resources = d.plan, d.resources
            tri.milestones = [Milestone(m.date, m.description) for m in d.milestones]
            for old in effect.superseded.get((d.target, kind), ()):
                if old.milestones != d.milestones:
                    tri.milestone_changes.append(f"{old.date[:10]}: {_milestones(old.milestones) or 'no milestones'}")
    tri.documents.sort()
    # rule 3: an approved adjusted rating dates the item (a KEV date, when earlier, still wins)
    if tri.deviations.get("risk-adjustment") == "approved" and tri.adjusted_rating is not None:
        days = policy.days(tri.adjusted_rating)
        due = _t(item.first_seen) + timedelta(days=days)
        if item.kev_due is not None and item.kev_due + "T00:00:00Z" < iso(due):
            due = _t(item.kev_due + "T00:00:00Z")
        else:
            item.window_days = days
            item.due_basis = f"window {tri.adjusted_rating} {days} days (adjusted rating, approved)"
        item.due = iso(due)
        item.overdue = due < now
    # rules 4 and 5: deviations approved and vendor check-ins waive the overdue count
    approved = [k for k in ("operational-requirement", "risk-acceptance") if tri.deviations.get(k) == "approved"]
    if item.overdue and approved:
        item.overdue = False
        tri.overdue_waived = f"{approved[0]} approved"
    if item.overdue and tri.vendor_product is not None:
        limit = now - timedelta(days=policy.vendor_checkin_days)
        checkin = tri.last_vendor_checkin
        if checkin is not None and _t(checkin + "T00:00:00Z") >= limit:
            item.overdue = False
            tri.overdue_waived = f"vendor dependency, last check-in {checkin}"
        else:
            notes.append(
                f"{item.rule}: vendor dependency on {tri.vendor_product} has no check-in within "
                f"{policy.vendor_checkin_days} days (last: {checkin or 'never'}); the item counts overdue"
            )
    # the OSCAL risk status
    if any(v == "approved" for v in tri.deviations.values()):
        tri.status = "deviation-approved"
    elif any(v == "pending" for v in tri.deviations.values()):
        tri.status = "deviation-requested"
    elif tri.plan or tri.milestones or tri.vendor_product:
        tri.status = "remediating"
    tri.attack_paths = sorted({a.text for a in ctx.attack_paths if _touches(a, rule_findings)})
    item.triage = tri


def _touches(a: AttackNote, findings: Iterable[FindingRecord]) -> bool:
    for f in findings:
        for value in (f.function, f.resource):
            if value and (value in a.names or not a.names.isdisjoint(_SEGMENTS.split(value))):
                return True
    return False


def expired_notes(effect: InEffect) -> list[str]:
    """Rule 7: one line per expired decision."""
    return [
        f"{d.kind} decision on {d.target} (by {d.by}, {d.date[:10]}) expired {d.expires[:10] if d.expires else ''}; "
        "it no longer counts"
        for d in effect.expired
    ]


def closed_item(item: PoamItem, now_s: str, closure: str, false_positives: list[str] | None = None) -> PoamItem:
    """A copy of ``item`` marked closed at ``now_s``."""
    tri = item.triage or PoamTriage(original_rating=item.severity, rating_source="tool")
    tri = replace(tri, status="closed", closed=now_s, closure=closure)
    if false_positives:
        tri.false_positives = sorted(set(tri.false_positives) | set(false_positives))
    return replace(item, overdue=False, triage=tri)


def close_and_compare(
    items: list[PoamItem],
    fp_items: list[PoamItem],
    ctx: TriageContext,
    now_s: str,
    notes: list[str],
) -> tuple[list[PoamItem], ConMon | None]:
    """Rule 8: the closed items (previous closed ones carried, plus those closed now) and the comparison with the
    previous assessment. ``fp_items`` are items whose findings all turned out approved false positives."""
    open_rules = {p.rule for p in items}
    closed: dict[str, PoamItem] = {p.rule: p for p in ctx.previous_closed if p.rule not in open_rules}
    prev_closed = {p.rule: p for p in ctx.previous_closed}
    for p in fp_items:
        old = prev_closed.get(p.rule)
        if old is not None and old.triage is not None and p.triage is not None:
            p.triage.closed = old.triage.closed  # closed when first found false, not again every month
        closed[p.rule] = p
    was_closed = {p.rule for p in ctx.previous_closed}
    closed_now: list[str] = [p.rule for p in fp_items if p.rule not in was_closed]
    for prev in ctx.previous_open:
        if prev.rule in open_rules or prev.rule in closed:
            continue
        statuses = [ctx.finding_status.get(i, "missing") for i in prev.findings]
        if all(s in ("closed", "passing", "false-positive") for s in statuses):
            closed[prev.rule] = closed_item(prev, now_s, "no open finding: the last scans report it fixed")
            closed_now.append(prev.rule)
        else:
            notes.append(
                f"{prev.rule}: open in the previous assessment and without fresh evidence now; not closed "
                "(re-scan to verify the fix)"
            )
    closed_list = [closed[k] for k in sorted(closed)]
    if ctx.previous_id is None:
        return closed_list, None
    prev_by_rule = {p.rule: p for p in ctx.previous_open}
    conmon = ConMon(previous=ctx.previous_id, previous_now=ctx.previous_now or "")
    for p in items:
        old = prev_by_rule.get(p.rule)
        if old is None:
            conmon.new.append(p.rule)
        else:
            changes = item_changes(old, p)
            if changes:
                conmon.changed[p.rule] = changes
        if p.overdue:
            conmon.overdue.append(p.rule)
        if p.triage is not None and p.triage.deviated:
            conmon.deviated.append(p.rule)
    conmon.closed = sorted(closed_now)
    return closed_list, conmon


def item_changes(old: PoamItem, new: PoamItem) -> list[str]:
    """What changed on an item open in two assessments (findings, due date, overdue, deviations, milestones,
    adjusted rating), one phrase each."""
    out: list[str] = []
    added = len(set(new.findings) - set(old.findings))
    gone = len(set(old.findings) - set(new.findings))
    if added:
        out.append(f"{added} finding(s) added")
    if gone:
        out.append(f"{gone} finding(s) no longer open")
    if old.due != new.due:
        out.append(f"due {old.due[:10]} -> {new.due[:10]}")
    if old.overdue != new.overdue:
        out.append("now overdue" if new.overdue else "no longer overdue")
    ot, nt = old.triage, new.triage
    o_dev = ot.deviations if ot is not None else {}
    n_dev = nt.deviations if nt is not None else {}
    if o_dev != n_dev:
        out.append("deviations: " + (", ".join(f"{k} {v}" for k, v in sorted(n_dev.items())) or "none"))
    o_ms = [(m.date, m.description) for m in ot.milestones] if ot is not None else []
    n_ms = [(m.date, m.description) for m in nt.milestones] if nt is not None else []
    if o_ms != n_ms:
        out.append("milestones changed")
    o_rating = ot.adjusted_rating if ot is not None else None
    n_rating = nt.adjusted_rating if nt is not None else None
    if o_rating != n_rating:
        out.append(f"adjusted rating {o_rating or 'none'} -> {n_rating or 'none'}")
    return out
