"""The assessment data model: what an assessment decided and why.

Everything here is plain data (dataclasses of str/int/list/dict), serialised with orjson to the
workspace database and read back by :func:`compliance.assess.load_assessment`. The PDF report, the site
and the OSCAL export read these objects; none of them re-decides a status.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, NotRequired, TypedDict, TypeVar

from compliance.evidence.model import StoredFinding
from compliance.kb import status as rules
from compliance.kb.profile import ProfileInfo
from compliance.kb.query import control_sort_key

T = TypeVar("T")


@dataclass(slots=True)
class RuleEvidence:
    """One tool rule's evidence for one mitigation (or, for attestations, one control)."""

    rule: str  # "<tool>:<rule_id>"
    tool: str
    mapped_by: str  # rule | tool | cwe | attestation
    outcome: str = "none"  # rules.rule_outcome
    passed: int = 0
    failed: int = 0
    errors: int = 0
    closed: int = 0
    info: int = 0
    stale: int = 0
    future: int = 0
    methods: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # sha256 of the evidence files
    failing: list[str] = field(default_factory=list)  # identities of fresh open failing findings
    #: the rule -> mitigation relationship (NIST IR 8477) the evidence came through (None: attestation)
    relationship: str | None = None
    #: whether this evidence can decide the mitigation's status (status rule 3): a ``subset-of``/``equal``
    #: rule link or an attestation; tool-wide fallbacks, CWE fallbacks and other links are related only
    determinative: bool = True
    #: findings whose evidence states no scan time and were left out (status rule 1)
    undated: int = 0


@dataclass(slots=True)
class Determination:
    """An assessor's determination of a control or safeguard: it stands above the derived status."""

    target: str
    status: str
    rationale: str
    by: str
    #: the role the person acts in (an OSCAL party role id, e.g. ``assessor``)
    role: str = "assessor"
    #: when it was made (ISO 8601, UTC)
    date: str = ""
    #: SP 800-53A methods the determination rests on (EXAMINE, INTERVIEW, TEST)
    methods: list[str] = field(default_factory=list)
    #: where it was recorded: ``cli`` or the name of the determinations file
    source: str = "cli"


@dataclass(slots=True)
class Related:
    """Evidence that speaks to an item without deciding its status (status rule 5): shown, never counted."""

    #: how it reaches the item: ``link`` (an intersects-with/superset-of link), ``crosswalk``, ``cwe``,
    #: ``tool`` (a tool-wide fallback rule), ``method`` (scanner evidence for an EXAMINE/INTERVIEW-only item),
    #: ``rule`` (a rule linked by intersects-with/superset-of)
    via: str
    #: the node or rule it comes through (mitigation, control, rule id)
    id: str
    #: its status or outcome
    status: str
    #: the relationship along the way, when there is one
    relationship: str | None = None


@dataclass(slots=True)
class MitigationResult:
    id: str
    title: str
    status: str
    reason: str
    rules: list[RuleEvidence] = field(default_factory=list)


@dataclass(slots=True)
class MitigationLink:
    id: str
    relationship: str | None
    status: str
    #: a subset-of/equal link: the mitigation's status can decide the target's
    determinative: bool = True
    #: the target's statement parts this link covers
    parts: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ControlResult:
    id: str
    title: str
    status: str
    reason: str
    party: str | None
    scopes: list[str]
    mitigations: list[MitigationLink] = field(default_factory=list)
    #: attestations that name this control directly
    direct: list[RuleEvidence] = field(default_factory=list)
    #: the status the evidence gives, before any assessor's determination
    derived_status: str = ""
    #: the assessor's determination, which sets ``status`` when present
    determination: Determination | None = None
    #: the statement's parts, and those covered by satisfied determinative evidence
    parts: list[str] = field(default_factory=list)
    covered: list[str] = field(default_factory=list)
    #: evidence shown but not deciding (status rule 5)
    related: list[Related] = field(default_factory=list)
    #: why an assessor should look although the status does not say so ("needs review")
    review: list[str] = field(default_factory=list)
    #: the provider statement an ``inherited`` status rests on
    basis: str | None = None


@dataclass(slots=True)
class SafeguardResult:
    id: str
    title: str
    status: str
    reason: str
    mitigations: list[MitigationLink] = field(default_factory=list)
    controls: list[str] = field(default_factory=list)
    specifications: list[str] = field(default_factory=list)
    derived_status: str = ""
    determination: Determination | None = None
    direct: list[RuleEvidence] = field(default_factory=list)
    related: list[Related] = field(default_factory=list)
    review: list[str] = field(default_factory=list)


@dataclass(slots=True)
class FindingRecord:
    """A fresh, open, failing finding as the assessment saw it: a projection of the store's
    :class:`~compliance.evidence.model.StoredFinding` (see :data:`RECORD_FROM_STORED`)."""

    identity: str
    tool: str
    rule_id: str
    rule: str
    title: str | None
    severity: str | None
    result: str
    status: str
    subject: str | None
    resource: str | None
    function: str | None
    file: str | None
    line: int | None
    pointer: str
    file_sha256: str
    first_seen: str
    last_seen: str
    method: str
    mitigations: list[str]
    controls: list[str]
    mapped_by: str
    message: str | None


#: How :class:`FindingRecord` is made from a :class:`StoredFinding`: a field named here takes the stored field
#: it names (``rule`` is ``tool:rule_id``; ``subject`` the function, resource or file, the first given); every
#: other field is the stored field of its name (``mitigations`` and ``controls`` as sorted lists; ``controls``
#: only the attestation targets that are KB controls). Checked below.
RECORD_FROM_STORED = {"title": "rule_title", "rule": "tool:rule_id", "subject": "function|resource|file"}
if not {f.name for f in fields(FindingRecord)} - set(RECORD_FROM_STORED) <= {f.name for f in fields(StoredFinding)}:
    raise ImportError("FindingRecord has a field that is neither a StoredFinding field nor in RECORD_FROM_STORED")


@dataclass(slots=True)
class Observation:
    """What one evidence file said about one rule: the unit of an OSCAL observation."""

    file_sha256: str
    rule: str
    tool: str
    collected: str
    passed: int = 0
    failed: int = 0
    errors: int = 0
    other: int = 0
    methods: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    mitigations: list[str] = field(default_factory=list)
    controls: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.file_sha256}|{self.rule}"


@dataclass(slots=True)
class EvidenceFileRef:
    sha256: str
    name: str
    tool: str
    format: str
    scan_time: str
    fresh: bool
    #: how the file is known to be complete (``verified``, ``whole-document``, ``unverified-complete``)
    completeness: str = "whole-document"


@dataclass(slots=True)
class TriageNote:
    """A triage decision as a POA&M item records it (see :mod:`compliance.evidence.triage`)."""

    kind: str
    target: str
    rationale: str
    by: str
    date: str
    approved_by: str | None = None
    expires: str | None = None
    source: str = "cli"
    seq: int = 0
    #: the findings of the item it applies to (all of them when it is about the rule)
    findings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Milestone:
    date: str
    description: str


@dataclass(slots=True)
class PoamTriage:
    """What triage, the rating policy and the design say about a POA&M item (issue 22). Present on every item of an
    assessment made with triage, a rating policy, or a previous assessment to compare with."""

    #: the policy rating of the item's worst severity, and where the severity came from: ``tool`` (the finding),
    #: ``kb-rule`` (the KB rule's severity: the tool stated none) or ``unrated`` (neither: the policy's unrated
    #: rating applies until someone rates it)
    original_rating: str
    rating_source: str
    #: the approved adjusted rating (dates the item), or the one requested
    adjusted_rating: str | None = None
    #: per deviation kind: ``pending`` (requested) or ``approved``; absent: none requested
    deviations: dict[str, str] = field(default_factory=dict)
    #: OSCAL risk status: open, investigating, remediating, deviation-requested, deviation-approved, closed
    status: str = "open"
    vendor_product: str | None = None
    last_vendor_checkin: str | None = None
    plan: str | None = None
    milestones: list[Milestone] = field(default_factory=list)
    #: earlier milestone sets, replaced since ("<date recorded>: <milestones>")
    milestone_changes: list[str] = field(default_factory=list)
    resources: str | None = None
    poc: str | None = None
    #: (name, sha256) of the supporting documents, in the locker
    documents: list[list[str]] = field(default_factory=list)
    decisions: list[TriageNote] = field(default_factory=list)
    #: findings of the rule closed as approved false positives (no longer on the item)
    false_positives: list[str] = field(default_factory=list)
    #: attack paths the design check found through the item's subjects (context, never a change of rating)
    attack_paths: list[str] = field(default_factory=list)
    #: why the item is not counted overdue although its due date passed (approved deviation, vendor check-in)
    overdue_waived: str | None = None
    #: for a closed item: when and why it was closed
    closed: str | None = None
    closure: str | None = None

    @property
    def deviated(self) -> bool:
        return bool(self.deviations)


@dataclass(slots=True)
class PoamItem:
    """One open failing finding group (all fresh open failures of one rule in scope)."""

    rule: str
    title: str
    severity: str  # the worst severity in the group
    window_days: int
    first_seen: str
    due: str
    overdue: bool
    findings: list[str]
    subjects: list[str]
    controls: list[str]
    mitigations: list[str]
    observations: list[str]  # Observation.key
    #: why ``due`` is what it is ("window high 30 days", "CISA KEV due date"); empty when the assessment was made
    #: with neither ``--remediation-policy`` nor ``--kev`` (the default policy's window, see ``window_days``)
    due_basis: str = ""
    #: whether a finding names a CVE in the CISA KEV catalogue given (``--kev``); its ids and earliest due date
    kev: bool = False
    kev_cves: list[str] = field(default_factory=list)
    kev_due: str | None = None
    #: triage, rating and design context (set on every item; None only on items of assessments stored before it)
    triage: PoamTriage | None = None


#: The serialised defaults of fields added after assessments were first stored (orjson writes a dataclass's
#: fields in declaration order, so they close their object): :func:`dump` leaves them out, so an assessment made
#: without the new options serialises, and so is identified, exactly as before.
_NEW_DEFAULTS: tuple[tuple[bytes, bytes], ...] = (
    (b',"profile":null}', b"}"),
    (b',"closed_poam":[],"conmon":null,"triage_notes":[]}', b"}"),
    (b',"remediation_policy":null}', b"}"),
)


@dataclass(slots=True)
class ConMon:
    """What changed in the POA&M since the previous assessment of the same system (the monthly continuous
    monitoring report): item ids (rules) per change."""

    previous: str
    previous_now: str
    new: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    deviated: list[str] = field(default_factory=list)
    #: rule -> what changed (findings added/removed, rating, due date, deviation, milestones)
    changed: dict[str, list[str]] = field(default_factory=dict)


def dump(a: Assessment) -> bytes:
    """The assessment's stored serialisation (orjson, keys sorted), new fields left out while at their default."""
    import orjson

    blob = orjson.dumps(a, option=orjson.OPT_SORT_KEYS)
    # the defaulted fields are the last of the top-level object (dataclass order), so they can only be at the end:
    # trim there instead of scanning (and copying) a blob of hundreds of megabytes once per pattern
    keep = max(0, len(blob) - 256)
    tail = blob[keep:]
    for old, new in _NEW_DEFAULTS:
        if tail.endswith(old):
            tail = tail[: -len(old)] + new
    return blob if len(tail) == len(blob) - keep else blob[:keep] + tail


class SummaryWindow(TypedDict):
    start: str
    end: str
    max_age_days: int


class UnmappedFailures(TypedDict):
    mode: str
    count: int


class ProfileSummary(TypedDict):
    """The tailored baseline in :class:`AssessmentSummary` (``--profile``)."""

    title: str
    file: str
    sha256: str
    scope: str
    controls: int
    parameters: int
    alterations: int
    notes: list[str]


class AssessmentSummary(TypedDict):
    """:meth:`Assessment.summary` (the ``assessment`` object of ``sckb assess --format json``)."""

    id: str
    now: str
    window: SummaryWindow
    scopes: list[str]
    unmapped_failures: UnmappedFailures
    controls: int
    counts: dict[str, int]
    satisfied_percent: float
    safeguards: dict[str, int]
    findings_failing: int
    stale_findings: int
    future_findings: int
    undated_findings: int
    accept_ingest_time: bool
    needs_review: int
    determined: int
    evidence_files: int
    stale_files: list[str]
    poam_items: int
    poam_overdue: int
    #: only for an assessment of a system (``--system``): its name and the findings left outside its boundary
    system: NotRequired[str]
    outside_findings: NotRequired[int]
    #: only when assessed with ``--remediation-policy`` or ``--kev``: the policy's name; POA&M items due by KEV
    remediation_policy: NotRequired[str]
    poam_kev: NotRequired[int]
    #: only when assessed with ``--profile``: the tailored baseline
    profile: NotRequired[ProfileSummary]


@dataclass(frozen=True, slots=True)
class AssessmentInfo:
    """One stored assessment as ``sckb assess list`` shows it (``seq``: order of saving, latest highest)."""

    id: str
    seq: int
    now: str
    scopes: tuple[str, ...]
    counts: dict[str, int]  # controls per status
    system: str | None = None  # the system assessed (``--system``); None: the whole workspace

    def as_dict(self) -> dict[str, object]:
        """As ``sckb assess list --json`` prints it."""
        return {
            "id": self.id,
            "seq": self.seq,
            "now": self.now,
            "scopes": list(self.scopes),
            "counts": self.counts,
            "system": self.system,
        }


@dataclass(slots=True)
class Assessment:
    """One stored assessment. ``id`` is derived from its content (same inputs -> same id)."""

    id: str
    now: str
    window_start: str
    max_age_days: int
    scopes: list[str]
    unmapped_mode: str
    controls: dict[str, ControlResult]
    mitigations: dict[str, MitigationResult]
    safeguards: dict[str, SafeguardResult]
    findings: dict[str, FindingRecord]
    observations: list[Observation]
    files: list[EvidenceFileRef]
    poam: list[PoamItem]
    unmapped: list[str]  # identities of unmapped fresh open failures
    stale_findings: int = 0
    future_findings: int = 0
    #: the system (authorization boundary) assessed; None: the whole workspace
    system: str | None = None
    #: findings left out because their subject lies outside the system's boundary
    outside_findings: int = 0
    #: findings left out because their evidence states no scan time (status rule 1)
    undated_findings: int = 0
    #: whether evidence dated only at ingest was accepted as fresh (``--accept-ingest-time``)
    accept_ingest_time: bool = False
    #: the remediation policy's name, when one was given (``--remediation-policy``) or KEV dates applied
    remediation_policy: str | None = None
    #: POA&M items closed: carried from the previous assessment's closed items, plus those closed since
    closed_poam: list[PoamItem] = field(default_factory=list)
    #: the month-to-month comparison with the previous assessment of the same system
    conmon: ConMon | None = None
    #: what triage did not apply and why (expired decisions, stale vendor check-ins)
    triage_notes: list[str] = field(default_factory=list)
    #: the tailored baseline (``--profile``): its title, file name, content hash, parameters and alterations
    profile: ProfileInfo | None = None

    # ------------------------------------------------------------------ summaries

    def unverified_files(self) -> int:
        """Evidence files of this assessment that are ``unverified-complete``: nothing in them tells a report cut
        at a record boundary from a shorter scan (a limitation the report states)."""
        return sum(1 for f in self.files if f.completeness == "unverified-complete")

    def counts(self) -> dict[str, int]:
        """Controls per status (every status present, zero when none)."""
        out = dict.fromkeys(rules.STATUSES, 0)
        for c in self.controls.values():
            out[c.status] += 1
        return out

    def satisfied_percent(self) -> float:
        return rules.satisfied_percent(self.counts())

    def gate(self, fail_on: list[str], min_satisfied: float | None) -> list[str]:
        """Why a CI gate fails (empty list: it passes)."""
        reasons: list[str] = []
        counts = self.counts()
        for status in fail_on:
            if counts.get(status, 0):
                reasons.append(f"{counts[status]} control(s) {status}")
        if min_satisfied is not None and self.satisfied_percent() < min_satisfied:
            reasons.append(f"satisfied {self.satisfied_percent():.2f}% < {min_satisfied:.2f}%")
        if self.unmapped_mode == "fail" and self.unmapped:
            reasons.append(f"{len(self.unmapped)} unmapped failing finding(s)")
        return reasons

    def path(self, control_id: str) -> dict[str, Any]:
        """The explanation path of a control: control <- mitigation <- rule <- findings (with file hashes)."""
        c = self.controls[control_id]
        mits = []
        for link in c.mitigations:
            m = self.mitigations.get(link.id)
            mits.append(
                {
                    "id": link.id,
                    "title": m.title if m else link.id,
                    "relationship": link.relationship,
                    "determinative": link.determinative,
                    "parts": link.parts,
                    "status": link.status,
                    "reason": m.reason if m else "",
                    "rules": [self._rule_path(r) for r in (m.rules if m else [])],
                }
            )
        return {
            "control": c.id,
            "title": c.title,
            "status": c.status,
            "derived_status": c.derived_status or c.status,
            "determination": asdict(c.determination) if c.determination is not None else None,
            "reason": c.reason,
            "party": c.party,
            "basis": c.basis,
            "parts": c.parts,
            "covered": c.covered,
            "review": c.review,
            "related": [asdict(r) for r in c.related],
            "mitigations": mits,
            "attestations": [self._rule_path(r) for r in c.direct],
        }

    def _rule_path(self, r: RuleEvidence) -> dict[str, Any]:
        failing = [self.findings[i] for i in r.failing if i in self.findings]
        return {
            "rule": r.rule,
            "mapped_by": r.mapped_by,
            "relationship": r.relationship,
            "determinative": r.determinative,
            "outcome": r.outcome,
            "passed": r.passed,
            "failed": r.failed,
            "errors": r.errors,
            "stale": r.stale,
            "undated": r.undated,
            "methods": r.methods,
            "evidence_files": r.files,
            "failing_findings": [
                {
                    "identity": f.identity,
                    "subject": f.subject,
                    "file": f.file,
                    "line": f.line,
                    "severity": f.severity,
                    "evidence_sha256": f.file_sha256,
                    "pointer": f.pointer,
                    "first_seen": f.first_seen,
                    "last_seen": f.last_seen,
                }
                for f in failing
            ],
        }

    def summary(self) -> AssessmentSummary:
        s = self._summary()
        if self.system is not None:  # only then: a workspace-wide assessment's summary stays as it was
            s["system"] = self.system
            s["outside_findings"] = self.outside_findings
        if self.remediation_policy is not None:  # likewise: only with --remediation-policy or --kev
            s["remediation_policy"] = self.remediation_policy
            s["poam_kev"] = sum(1 for p in self.poam if p.kev)
        if self.profile is not None:  # likewise: only with --profile
            s["profile"] = {
                "title": self.profile.title,
                "file": self.profile.file,
                "sha256": self.profile.sha256,
                "scope": self.profile.scope,
                "controls": self.profile.controls,
                "parameters": len(self.profile.parameters),
                "alterations": len(self.profile.alterations),
                "notes": self.profile.notes,
            }
        return s

    def _summary(self) -> AssessmentSummary:
        return {
            "id": self.id,
            "now": self.now,
            "window": {"start": self.window_start, "end": self.now, "max_age_days": self.max_age_days},
            "scopes": self.scopes,
            "unmapped_failures": {"mode": self.unmapped_mode, "count": len(self.unmapped)},
            "controls": len(self.controls),
            "counts": self.counts(),
            "satisfied_percent": self.satisfied_percent(),
            "safeguards": dict(sorted(_count(s.status for s in self.safeguards.values()).items())),
            "findings_failing": len(self.findings),
            "stale_findings": self.stale_findings,
            "future_findings": self.future_findings,
            "undated_findings": self.undated_findings,
            "accept_ingest_time": self.accept_ingest_time,
            "needs_review": sum(1 for c in self.controls.values() if c.review),
            "determined": sum(1 for c in self.controls.values() if c.determination is not None),
            "evidence_files": len(self.files),
            "stale_files": sorted(f.sha256 for f in self.files if not f.fresh),
            "poam_items": len(self.poam),
            "poam_overdue": sum(1 for p in self.poam if p.overdue),
        }

    # ------------------------------------------------------------------ (de)serialisation

    def to_dict(self) -> dict[str, Any]:
        import orjson

        data: dict[str, Any] = orjson.loads(orjson.dumps(self))
        return data

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Assessment:
        return cls(
            id=d["id"],
            now=d["now"],
            window_start=d["window_start"],
            max_age_days=d["max_age_days"],
            scopes=list(d["scopes"]),
            unmapped_mode=d["unmapped_mode"],
            # stored with sorted keys (text order: AC-1, AC-11, AC-2): back in the catalog's order, AC-2 before AC-11
            controls={k: _control(d["controls"][k]) for k in sorted(d["controls"], key=control_sort_key)},
            mitigations={k: _mitigation(v) for k, v in d["mitigations"].items()},
            safeguards={k: _safeguard(v) for k, v in d["safeguards"].items()},
            findings={k: FindingRecord(**v) for k, v in d["findings"].items()},
            observations=[Observation(**o) for o in d["observations"]],
            files=[EvidenceFileRef(**f) for f in d["files"]],
            poam=[_poam_item(p) for p in d["poam"]],
            unmapped=list(d["unmapped"]),
            stale_findings=d.get("stale_findings", 0),
            future_findings=d.get("future_findings", 0),
            system=d.get("system"),
            outside_findings=d.get("outside_findings", 0),
            undated_findings=d.get("undated_findings", 0),
            accept_ingest_time=d.get("accept_ingest_time", False),
            remediation_policy=d.get("remediation_policy"),
            closed_poam=[_poam_item(p) for p in d.get("closed_poam", [])],
            conmon=ConMon(**d["conmon"]) if d.get("conmon") else None,
            triage_notes=list(d.get("triage_notes", [])),
            profile=ProfileInfo.from_dict(d["profile"]) if d.get("profile") else None,
        )


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


def _only(cls: type[T], d: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return {k: v for k, v in d.items() if k in names}


def _poam_item(d: dict[str, Any]) -> PoamItem:
    t = d.get("triage")
    triage = None
    if t:
        triage = PoamTriage(
            **{
                **_only(PoamTriage, t),
                "milestones": [Milestone(**m) for m in t.get("milestones", [])],
                "decisions": [TriageNote(**n) for n in t.get("decisions", [])],
            }
        )
    return PoamItem(**{**_only(PoamItem, d), "triage": triage})


def _determination(d: dict[str, Any] | None) -> Determination | None:
    return Determination(**d) if d else None


def _control(d: dict[str, Any]) -> ControlResult:
    return ControlResult(
        **{
            **_only(ControlResult, d),
            "mitigations": [MitigationLink(**m) for m in d["mitigations"]],
            "direct": [RuleEvidence(**r) for r in d["direct"]],
            "determination": _determination(d.get("determination")),
            "related": [Related(**r) for r in d.get("related", [])],
        }
    )


def _mitigation(d: dict[str, Any]) -> MitigationResult:
    return MitigationResult(**{**_only(MitigationResult, d), "rules": [RuleEvidence(**r) for r in d["rules"]]})


def _safeguard(d: dict[str, Any]) -> SafeguardResult:
    return SafeguardResult(
        **{
            **_only(SafeguardResult, d),
            "mitigations": [MitigationLink(**m) for m in d["mitigations"]],
            "direct": [RuleEvidence(**r) for r in d.get("direct", [])],
            "determination": _determination(d.get("determination")),
            "related": [Related(**r) for r in d.get("related", [])],
        }
    )
