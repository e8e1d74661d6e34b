"""The report model: everything the PDF templates show, as plain typed data.

The model is filled from a stored assessment by :func:`compliance.report.build.from_assessment` and
rendered by :mod:`compliance.report.render`. Templates read only these objects; they decide nothing.
Every string here may come from evidence (scanner output) and is escaped by the template engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Status order for tables, charts and legends (best first).
STATUS_ORDER = ("satisfied", "inherited", "partially-satisfied", "not-satisfied", "not-assessed")

#: Residual-risk wording of a combined mitigation status (used by the risk register).
RESIDUAL = {
    "satisfied": "reduced",
    "inherited": "reduced (provider)",
    "partially-satisfied": "partly reduced",
    "not-satisfied": "open",
    "not-assessed": "unknown (no fresh evidence)",
}


@dataclass(frozen=True, slots=True)
class Meta:
    """Cover, PDF metadata and scope facts."""

    title: str
    system_name: str | None
    organization: str | None
    author: str
    subject: str
    keywords: str
    generated: str  # ISO 8601 UTC, the command's clock
    assessment_id: str
    assessed_at: str  # the assessment's clock
    scopes: tuple[str, ...]
    window_start: str
    window_end: str
    max_age_days: int
    unmapped_mode: str
    catalog_imported: bool
    logo: str | None = None  # a data: URI (validated, size-limited) or None
    #: the remediation policy that dated the POA&M (only when assessed with --remediation-policy or --kev)
    remediation_policy: str | None = None
    #: who assessed (``--assessor``); the sign-off block and the cover name them
    assessor: str | None = None
    #: the scopes by their readable titles, in the order of :attr:`scopes`
    scope_titles: tuple[str, ...] = ()
    #: the tailored baseline whose parameter values the statements show (``title (file)``), if any
    statement_profile: str | None = None


@dataclass(frozen=True, slots=True)
class Citation:
    """One evidence citation: which tool and rule said what about which subject, in which file."""

    tool: str
    rule: str
    title: str | None
    severity: str | None
    subject: str | None
    location: str | None  # "file:line" as the scanner reported it
    pointer: str  # where in the evidence file
    sha256: str  # the evidence file's SHA-256
    message: str | None
    first_seen: str


@dataclass(frozen=True, slots=True)
class RulePath:
    """One rule's evidence on the explanation path (counts only; citations are chosen per control)."""

    rule: str
    tool: str
    mapped_by: str
    outcome: str
    passed: int
    failed: int
    errors: int
    stale: int
    files: int
    methods: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MitigationPath:
    id: str
    title: str
    relationship: str | None
    status: str
    reason: str
    rules: tuple[RulePath, ...]
    rules_more: int  # rules with evidence not listed
    more_failed: int = 0  # failing findings of the rules not listed (the findings CSV has them)
    more_passed: int = 0
    #: the curated mitigation -> control link's confidence (high / medium / low), when it states one
    confidence: str | None = None
    #: whether the link can decide the control (subset-of/equal) or is related evidence only
    determinative: bool = True
    #: the statement parts the link names
    parts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeterminationRow:
    """An assessor's determination the assessment applied: it set the item's status above the derived one."""

    target: str
    title: str
    #: the control section it belongs to (None: a framework item, or a control without a section)
    anchor: str | None
    status: str
    #: what the evidence alone gave
    derived_status: str
    by: str
    role: str
    date: str  # ISO 8601 UTC
    methods: tuple[str, ...]
    rationale: str
    source: str  # ``cli`` or the determinations file's name


@dataclass(frozen=True, slots=True)
class ControlSection:
    """A control that gets its own section: it has evidence, or a status that needs explaining."""

    id: str
    anchor: str
    title: str
    family: str
    status: str
    reason: str
    party: str | None
    party_rationale: str | None
    scopes: tuple[str, ...]
    baselines: tuple[str, ...]
    statement: str | None
    mitigations: tuple[MitigationPath, ...]
    attestations: tuple[RulePath, ...]
    failing: int  # fresh open failing findings that reach the control
    evidence_files: int
    citations: tuple[Citation, ...]
    citations_more: int
    #: the statement's parts and those covered by satisfied determinative evidence
    parts: tuple[str, ...] = ()
    covered: tuple[str, ...] = ()
    #: why an assessor should look although the status does not say so
    review: tuple[str, ...] = ()
    #: an assessor's determination set ``status``; ``derived_status`` is what the evidence gave (issue 21)
    determination: DeterminationRow | None = None
    #: says whose parameter values the statement shows, when a tailored baseline (``assess --profile``) set some
    statement_label: str | None = None

    @property
    def derived_status(self) -> str | None:
        return self.determination.derived_status if self.determination is not None else None


@dataclass(frozen=True, slots=True)
class CompactControl:
    """A control without evidence, listed in one table row instead of a section."""

    id: str
    title: str
    family: str
    status: str
    party: str | None
    mitigations: int
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    title: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class Chart:
    id: str
    title: str
    caption: str
    bars: tuple[Bar, ...]
    svg: str = ""  # filled by the chart renderer (our own markup, labels escaped)


@dataclass(frozen=True, slots=True)
class RiskRow:
    id: str
    title: str
    residual_status: str
    residual: str
    mitigations: tuple[tuple[str, str], ...]  # (mitigation id, status)
    counts: dict[str, int]

    @property
    def groups(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The mitigations grouped by status, worst first (not-satisfied, partial, not-assessed, satisfied)."""
        order = ("not-satisfied", "partially-satisfied", "not-assessed", "satisfied", "inherited")
        return tuple(
            (st, tuple(m for m, s in self.mitigations if s == st)) for st in order if any(s == st for _, s in self.mitigations)
        )


@dataclass(frozen=True, slots=True)
class PoamRow:
    number: int
    rule: str
    title: str
    severity: str
    first_seen: str
    due: str
    overdue: bool
    findings: int
    subjects: tuple[str, ...]
    subjects_more: int
    controls: tuple[str, ...]
    #: on the CISA KEV list (``--kev``), and why the item is due when it is (empty: the default window)
    kev: bool = False
    due_basis: str = ""
    #: the item's POAM ID (the same in the spreadsheet, the OSCAL POA&M and the site)
    poam_id: str = ""
    #: triage (issue 22): the policy rating before and after an adjustment, the OSCAL risk status, the deviations
    #: ("risk adjustment approved"), point of contact, milestones ("2026-12-15: text"); empty without triage
    original_rating: str = ""
    #: where the original rating came from, when not plainly the tool's word: "tool: medium", "KB rule", "unrated"
    rating_basis: str = ""
    adjusted_rating: str = ""
    status: str = ""
    deviations: tuple[str, ...] = ()
    poc: str = ""
    milestones: tuple[str, ...] = ()
    vendor: str = ""
    #: why a past-due item is not counted overdue (an approved deviation, a recent vendor check-in)
    overdue_waived: str = ""
    #: a closed item: when and why
    closed: str = ""
    closure: str = ""

    @property
    def deviated(self) -> bool:
        return bool(self.deviations)

    @property
    def details(self) -> bool:
        """Whether the row has a triage line to show under it (an untriaged open item has none)."""
        return bool(self.deviations or self.poc or self.milestones or self.vendor or self.overdue_waived) or self.status not in (
            "",
            "open",
        )


@dataclass(frozen=True, slots=True)
class ConmonView:
    """The month-to-month POA&M changes (the continuous monitoring section): POAM IDs per change."""

    previous: str
    previous_date: str
    new: tuple[str, ...]
    closed: tuple[str, ...]
    overdue: tuple[str, ...]
    deviated: tuple[str, ...]
    #: (POAM ID, what changed)
    changed: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class SafeguardRow:
    id: str
    title: str
    status: str
    reason: str
    controls: tuple[str, ...]
    mitigations: tuple[str, ...]
    framework: str  # the framework id
    #: what the evidence gave, when an assessor's determination set ``status`` (issue 21)
    derived_status: str | None = None
    #: what the framework says of the item's force, when it says (HIPAA: required or addressable)
    requirement: str | None = None


@dataclass(frozen=True, slots=True)
class FrameworkRef:
    """How the report names a framework (from the KB's ``frameworks`` record)."""

    id: str
    label: str  # "HIPAA"
    name: str  # "Security Rule": text says "HIPAA Security Rule", "Security Rule safeguards"
    item: str  # "safeguard"
    items: str  # "safeguards"
    group: str = "group"  # "standard": what a parent item is called
    members: str = ""  # "implementation specifications": what its children are called ("" = items)


@dataclass(frozen=True, slots=True)
class FrameworkView:
    """One framework's section: its safeguards in the assessment (anchor: the framework id)."""

    framework: FrameworkRef
    rows: tuple[SafeguardRow, ...]


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    sha256: str
    name: str
    tool: str
    version: str | None
    format: str
    scan_time: str
    fresh: bool
    findings: int | None
    #: how the file is known to be complete (``verified``, ``whole-document``, ``unverified-complete``)
    completeness: str = "whole-document"


@dataclass(frozen=True, slots=True)
class SspSummary:
    """A system security plan given with the report (``report pdf --ssp``): its controls by implementation status
    (rows) and responsibility (columns), read from the plan's own props."""

    file: str
    system: str
    profile: str
    #: (status, controls per party in :attr:`parties` order, total)
    rows: list[tuple[str, list[int], int]]
    parties: list[str]
    placeholders: int
    controls: int


@dataclass(frozen=True, slots=True)
class SystemView:
    """The assessed system as its system file states it (``sckb system add``): the report's front section."""

    name: str
    description: str
    #: (what, entries) of the boundary: ("Providers", "aws"), ("Regions", "us-east-1") ... (only those listed)
    boundary: tuple[tuple[str, str], ...]
    sensitivity: str | None = None
    status: str | None = None
    #: "title (SP 800-60 id): confidentiality c, integrity i, availability a"
    information_types: tuple[str, ...] = ()
    #: the platform authorizations the owner states ("title, held by party, authorized date")
    authorizations: tuple[str, ...] = ()
    #: (role, name and e-mail) of the ssp block's contacts
    contacts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class MethodRule:
    """One status rule as :mod:`compliance.kb.status` states it (the method section is generated from it)."""

    number: int
    title: str
    #: the rule's text, with ``code``, **bold** and *italic* marks (rendered by the template's ``inline`` filter)
    text: str


@dataclass(frozen=True, slots=True)
class SignOff:
    """One line of the sign-off block: a role, and the name to sign when known."""

    role: str
    name: str = ""


@dataclass(slots=True)
class Report:
    meta: Meta
    counts: dict[str, int]
    satisfied_percent: float
    totals: dict[str, int]
    charts: list[Chart]
    controls: list[ControlSection]
    compact: list[CompactControl]
    risks: list[RiskRow]
    poam: list[PoamRow]
    #: every safeguard result of the assessment (None: no framework scope was assessed)
    safeguards: list[SafeguardRow] | None
    #: one section per assessed framework, in the KB's order
    views: list[FrameworkView]
    #: every framework of the KB (the method text names them all)
    frameworks: list[FrameworkRef]
    files: list[EvidenceRow]
    attention: list[ControlSection] = field(default_factory=list)  # worst controls first, for the summary
    responsibility: dict[str, int] = field(default_factory=dict)  # party -> controls in scope
    limits: dict[str, int] = field(default_factory=dict)  # the per-section caps used
    #: every assessor's determination the assessment applied: controls in report order, then framework items
    determinations: list[DeterminationRow] = field(default_factory=list)
    #: POA&M items closed (carried from month to month) and the changes since the previous assessment
    closed_poam: list[PoamRow] = field(default_factory=list)
    conmon: ConmonView | None = None
    #: the system security plan given with ``--ssp`` (None: none given)
    ssp: SspSummary | None = None
    #: the assessed system (None: the assessment was of the whole workspace)
    system: SystemView | None = None
    #: how a status is decided, generated from the status rules
    method: list[MethodRule] = field(default_factory=list)
    #: what this assessment could not see or decide, in sentences
    limitations: list[str] = field(default_factory=list)
    signoff: list[SignOff] = field(default_factory=list)
