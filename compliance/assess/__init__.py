"""Assessment: control status through the KB graph, from the evidence store.

Stable API (used by the PDF report, the site and the OSCAL export)::

    from compliance.assess import load_assessment, run
    a = load_assessment(store)              # the latest assessment; or load_assessment(store, "A-1f2e...")
    a.id, a.now, a.scopes                   # content-derived id, the clock used, the scope names
    a.window_start, a.max_age_days          # the freshness window [window_start, now]
    a.controls["AC-6"].status               # satisfied | not-satisfied | partially-satisfied | not-assessed | inherited
    a.controls["AC-6"].reason, .party, .mitigations (MitigationLink: id, relationship, status), .direct
    a.path("AC-6")                          # control <- mitigations <- rules <- failing findings (with evidence sha256)
    a.mitigations[mid].rules                # RuleEvidence: rule, outcome, passed/failed/errors/stale, files, failing
    a.safeguards                            # the HIPAA view (when the hipaa scope is in)
    a.findings                              # identity -> FindingRecord (fresh open failures)
    a.poam                                  # PoamItem: rule, severity, first_seen, due, overdue, findings, controls
    a.files                                 # EvidenceFileRef: sha256, name, tool, format, scan_time, fresh
    a.observations                          # (evidence file, rule) groups, the unit of OSCAL observations
    a.counts(), a.summary(), a.gate(fail_on, min_satisfied)

``store`` is the evidence store (:class:`compliance.evidence.store.Store`); ``kb`` a loaded
:class:`compliance.kb.load.KB`. The status rules are in :mod:`compliance.kb.status`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from compliance.assess import db
from compliance.assess.diff import AssessmentDiff, diff
from compliance.assess.engine import DEFAULT_MAX_AGE_DAYS, REMEDIATION_DAYS, assess
from compliance.assess.model import (
    Assessment,
    AssessmentInfo,
    AssessmentSummary,
    ControlResult,
    Determination,
    EvidenceFileRef,
    FindingRecord,
    MitigationResult,
    Observation,
    PoamItem,
    SafeguardResult,
)
from compliance.assess.policy import KevCatalog, RemediationPolicy
from compliance.assess.storeread import assess_store
from compliance.assess.triage import AttackNote, TriageContext
from compliance.errors import InputError
from compliance.evidence.store import Store
from compliance.evidence.system import System
from compliance.evidence.triage import in_effect as triage_in_effect
from compliance.kb import status as rules
from compliance.kb.load import KB
from compliance.kb.profile import ResolvedProfile
from compliance.vocab import iso


def load_assessment(store: Store, id: str | None = None) -> Assessment:
    """The assessment ``id`` (an id, a unique prefix, or None/"latest" for the latest)."""
    return db.load(store, id)


def resolve_assessment(
    store: Store, id: str | None = None, *, system: str | None = None, profile: ResolvedProfile | None = None
) -> str:
    """The full id of an assessment (an id, a unique prefix, or None/"latest"). With ``system``: None/"latest" is
    the latest assessment of that system, and a named one must be of it (else :class:`NotFoundError`). With
    ``profile`` likewise: the assessment must have been made with that profile (same content)."""
    if profile is not None:
        return db.resolve_for_profile(store, id, system, profile.info)
    return db.resolve_for_system(store, id, system)


def list_assessments(store: Store) -> list[AssessmentInfo]:
    """Every stored assessment, latest first."""
    return db.listing(store)


def run(
    kb: KB,
    store: Store,
    *,
    scopes: list[str],
    now: datetime,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    unmapped: str = "warn",
    progress: Callable[[int], None] | None = None,
    determinations: Iterable[Determination] = (),
    accept_ingest_time: bool = False,
    system: System | None = None,
    policy: RemediationPolicy | None = None,
    kev: KevCatalog | None = None,
    previous: str | None = "auto",
    attack_paths: Iterable[AttackNote] = (),
    use_triage: bool = True,
    profile: ResolvedProfile | None = None,
) -> Assessment:
    """Assess the store's findings and save the result in the workspace database. ``determinations`` are the
    assessors' (see :func:`compliance.assess.tally.apply_determinations`); with ``system`` only the findings
    inside its boundary count. The store's triage decisions apply (unless ``use_triage`` is false), and the POA&M
    is compared with ``previous``: ``auto`` (the latest earlier assessment of the same system and scopes), an
    assessment id, or None (no comparison). ``attack_paths`` (from a design check) are noted on POA&M items."""
    triage = triage_context(
        store,
        now=now,
        scopes=scopes,
        system=system.name if system is not None else None,
        previous=previous,
        attack_paths=attack_paths,
        use_triage=use_triage,
    )
    blob: list[bytes] = []  # the serialisation made for the content id, stored as is
    a = assess_store(
        kb,
        store,
        scopes=scopes,
        now=now,
        max_age_days=max_age_days,
        unmapped=unmapped,
        progress=progress,
        blob_out=blob,
        determinations=determinations,
        accept_ingest_time=accept_ingest_time,
        system=system,
        policy=policy,
        kev=kev,
        triage=triage,
        profile=profile,
    )
    db.save(store, a, blob[0] if blob else None)
    return a


def triage_context(
    store: Store,
    *,
    now: datetime,
    scopes: list[str],
    system: str | None,
    previous: str | None = "auto",
    attack_paths: Iterable[AttackNote] = (),
    use_triage: bool = True,
) -> TriageContext:
    """What the POA&M of an assessment at ``now`` needs from the store besides the evidence (see :func:`run`)."""
    ctx = TriageContext(attack_paths=list(attack_paths))
    if use_triage:
        ctx.effect = triage_in_effect(store.triage(), now)
    prev_id = _previous_id(store, now, scopes, system) if previous == "auto" else previous
    if prev_id is None:
        return ctx
    prev = db.load(store, prev_id)
    if prev.system != system:
        of, wanted = prev.system or "the whole workspace", system or "the whole workspace"
        raise InputError(f"--previous {prev_id}: that assessment is of {of}, not of {wanted}")
    ctx.previous_id, ctx.previous_now = prev.id, prev.now
    ctx.previous_open, ctx.previous_closed = prev.poam, prev.closed_poam
    ctx.finding_status = store.statuses(i for p in prev.poam for i in p.findings)
    return ctx


def _previous_id(store: Store, now: datetime, scopes: list[str], system: str | None) -> str | None:
    """The latest stored assessment made before ``now`` of the same system and scopes."""
    import orjson

    now_s = iso(now)
    best: tuple[str, int, str] | None = None
    for row in store.assessments():
        same = row.now < now_s and set(row.scopes) == set(scopes) and orjson.loads(row.summary).get("system") == system
        if same and (best is None or (row.now, row.seq) > best[:2]):
            best = (row.now, row.seq, row.id)
    return best[2] if best is not None else None


__all__ = [
    "DEFAULT_MAX_AGE_DAYS",
    "REMEDIATION_DAYS",
    "Assessment",
    "AssessmentDiff",
    "AssessmentInfo",
    "AssessmentSummary",
    "ControlResult",
    "Determination",
    "EvidenceFileRef",
    "FindingRecord",
    "MitigationResult",
    "Observation",
    "PoamItem",
    "SafeguardResult",
    "assess",
    "diff",
    "list_assessments",
    "load_assessment",
    "resolve_assessment",
    "rules",
    "run",
]
