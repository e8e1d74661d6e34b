"""Compare two assessments: controls whose status changed, findings opened and closed."""

from __future__ import annotations

from typing import TypedDict

from compliance.assess.model import Assessment
from compliance.assess.triage import item_changes
from compliance.kb import status as rules
from compliance.kb.query import control_sort_key

#: A change toward a worse status is a regression (higher rank = worse).
_RANK = {rules.SATISFIED: 0, rules.INHERITED: 0, rules.PARTIAL: 1, rules.NOT_ASSESSED: 2, rules.NOT_SATISFIED: 3}


class StatusChange(TypedDict):
    control: str
    title: str
    old: str
    new: str
    regression: bool


class FindingChange(TypedDict):
    identity: str
    rule: str
    severity: str | None
    subject: str | None
    first_seen: str


class PoamDiff(TypedDict):
    """The POA&M part of a diff (the continuous-monitoring view): item ids (rules) per change."""

    new: list[str]
    closed: list[str]
    #: open in the old assessment, not open in the new one, yet not closed: its evidence went stale
    unverified: list[str]
    overdue: list[str]
    deviated: list[str]
    changed: dict[str, list[str]]


class AssessmentDiff(TypedDict):
    """What :func:`diff` returns (``sckb assess diff --json``)."""

    old: str
    new: str
    changed: list[StatusChange]
    added: list[str]
    removed: list[str]
    opened: list[FindingChange]
    closed: list[FindingChange]
    regressions: int
    poam: PoamDiff


def poam_diff(old: Assessment, new: Assessment) -> PoamDiff:
    """POA&M items new in ``new``, closed since ``old`` (open there, closed now), gone unverified (open there,
    neither open nor closed now: no fresh evidence), overdue and deviated in ``new``, and what changed on items
    open in both."""
    before = {p.rule: p for p in old.poam}
    now_open = {p.rule for p in new.poam}
    now_closed = {p.rule for p in new.closed_poam}
    changed: dict[str, list[str]] = {}
    for p in new.poam:
        if p.rule in before:
            what = item_changes(before[p.rule], p)
            if what:
                changed[p.rule] = what
    return {
        "new": sorted(now_open - set(before)),
        "closed": sorted((set(before) - now_open) & now_closed),
        "unverified": sorted(set(before) - now_open - now_closed),
        "overdue": sorted(p.rule for p in new.poam if p.overdue),
        "deviated": sorted(p.rule for p in new.poam if p.triage is not None and p.triage.deviated),
        "changed": changed,
    }


def diff(old: Assessment, new: Assessment) -> AssessmentDiff:
    """What changed from ``old`` to ``new``.

    ``changed`` lists controls present in both whose status differs (``regression`` is true when the new
    status is worse: satisfied/inherited < partially-satisfied < not-assessed < not-satisfied);
    ``added``/``removed`` list controls only in one scope; ``opened`` are failing findings in ``new``
    but not in ``old``, ``closed`` the reverse.
    """
    changed: list[StatusChange] = []
    for cid in sorted(set(old.controls) & set(new.controls), key=control_sort_key):
        a, b = old.controls[cid].status, new.controls[cid].status
        if a != b:
            changed.append(
                {"control": cid, "title": new.controls[cid].title, "old": a, "new": b, "regression": _RANK[b] > _RANK[a]}
            )
    opened = sorted(set(new.findings) - set(old.findings))
    closed = sorted(set(old.findings) - set(new.findings))

    def row(a: Assessment, ident: str) -> FindingChange:
        f = a.findings[ident]
        return {"identity": ident, "rule": f.rule, "severity": f.severity, "subject": f.subject, "first_seen": f.first_seen}

    return {
        "old": old.id,
        "new": new.id,
        "changed": changed,
        "added": sorted(set(new.controls) - set(old.controls), key=control_sort_key),
        "removed": sorted(set(old.controls) - set(new.controls), key=control_sort_key),
        "opened": [row(new, i) for i in opened],
        "closed": [row(old, i) for i in closed],
        "regressions": sum(1 for c in changed if c["regression"]),
        "poam": poam_diff(old, new),
    }
