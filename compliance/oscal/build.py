"""OSCAL 1.1.3 documents from an assessment: assessment plan, assessment results, POA&M and a
component definition.

Determinism: every UUID is a version-5 UUID of a content key (below); lists are built in a sorted order;
times come from the assessment (its ``now``), never the wall clock. The same assessment and KB give
byte-identical files.

UUID keys (namespace :data:`NAMESPACE`). What belongs to one system has its key prefixed with
:func:`system_seed` (``system:<name>|``, ``system:workspace|`` without ``--system``): two systems that fail the same
rule get different UUIDs, and the same system the same ones:

- documents: ``<doc kind>:<assessment id>``; the result also includes the assessment id;
- findings (system-prefixed): ``finding:<assessment id>:<control>`` (``...:<statement item>`` per objective);
- observations (system-prefixed): ``observation:<evidence sha256>|<tool>:<rule>`` (stable across assessments);
- risks and POA&M items (system-prefixed): ``risk:<tool>:<rule>`` / ``poam-item:<tool>:<rule>``; a control's own
  risk ``risk:control:<control>``;
- subjects (system-prefixed): ``subject:<function, resource or file>``; evidence resources: ``evidence:<sha256>``;
- assessment assets: ``tool:<name>`` (sckb and each evidence source), ``assessment-platform:sckb``; the no-OSCAL-SSP
  resource (system-prefixed) ``no-oscal-ssp``; a baseline's profile ``baseline-profile:<baseline>``;
- component definition: ``component:<platform>``, ``requirement:<platform>:<control>``.
- POA&M triage: ``system:<system name>`` (or ``system:workspace``) for the ``system-id``; ``party:<name>`` for
  each person and the assessor organisation; ``tool:<tool>`` for the scanners (local components, the actors of the
  original rating); system-prefixed: ``remediation:<lifecycle>:<rule>``, ``milestone:<rule>|<date>|<text>``,
  ``required-asset:<rule>``, ``mitigating-factor:<rule>|<kind>``, ``risk-log:<rule>|<kind>|<target>|<seq>``
  (and ``|vendor-check-in|<date>``, ``|closed|<date>``).

The POA&M (:func:`poam`) follows the Guide to OSCAL-based FedRAMP Plan of Action and Milestones
(GSA/fedramp-automation, "POA&M Template to OSCAL Mapping"): the POAM ID as FedRAMP's ``POAM-ID`` prop on each
item (4.2), the controls as ``impacted-control-id`` (4.2.1), initial and adjusted rating facets with a ``state``
prop (4.2.4, 4.5.3), the KB's mitigations as a ``recommendation`` and the team's plan as a ``planned`` response
whose milestones are ``milestone`` tasks on their date (4.3, 4.3.1), a ``risk-log`` entry per decision, vendor
check-in and closure (4.4, 4.6), FedRAMP's ``false-positive`` / ``operational-requirement`` / ``risk-adjustment``
/ ``vendor-dependency`` risk props (4.5.1-4.5.4) and closed items kept as risks with status ``closed`` (4.6).

Mapping of sckb statuses onto an OSCAL finding's ``target.status.state`` (which only knows satisfied and
not-satisfied): satisfied and inherited -> ``satisfied``; not-satisfied and partially-satisfied ->
``not-satisfied``. The sckb status itself is kept in a ``props`` entry (namespace :data:`NS`, name
``assessment-status``). Controls that are not-assessed get no finding: they are listed in
``reviewed-controls`` only, since OSCAL has no determination for "not assessed". An inherited control's finding
says so with an ``implementation-status`` citing the platform authorization the system file names (its status
remarks: not tested). A control is found per assessment objective (``objective-id``, ``<control>_obj.<item>``) when
every link that decided it names the statement items it covers, per statement (``<control>_smt``) otherwise; a
not-satisfied finding without a failing rule gets the control's own risk, so every one names a risk.

Who and what (Context): the assessor organisation and the system file's contacts are metadata parties; sckb and
each evidence source are assessment-asset tools; observations, findings and risks carry ``origins`` naming them.

Assessors' determinations (``sckb assess determine``) are assessor findings: each person is a ``party`` of the
assessment results' metadata (UUID key ``party:<name>``) acting in a ``role`` (``assessor`` unless stated, listed in
``metadata.roles``); the finding's ``origins`` name that party and role as its actor, its target status is the
determined status, and the status the evidence gave is kept in a prop (``derived-status``). One observation per
determination (UUID key ``determination:<control>|<date>|<by>``) carries the rationale, with the methods the
determination rests on (EXAMINE, INTERVIEW) and the same origin. Determinations of framework items (HIPAA
safeguards) have no OSCAL finding: the AR's findings target catalog controls only.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from compliance.assess.model import (
    Assessment,
    ControlResult,
    Determination,
    EvidenceFileRef,
    MitigationLink,
    Observation,
    PoamItem,
)
from compliance.evidence.system import System
from compliance.kb import status as rules
from compliance.kb.core import oscal_id
from compliance.kb.load import KB
from compliance.kb.model import Baseline, Mitigation, NodeKind
from compliance.kb.profile import ParameterSetting
from compliance.kb.query import control_sort_key
from compliance.vocab import poam_id

OSCAL_VERSION = "1.1.3"
#: Namespace for every sckb UUIDv5.
NAMESPACE = uuid.UUID("5c1e0b7a-8f0e-5a3b-9c4d-2e6f7a8b9c0d")
#: Namespace of sckb's own ``props``.
NS = "https://sckb.dev/ns/oscal"
#: The catalog the control ids refer to (SP 800-53 rev5, NIST OSCAL content).
#: Pinned to the oscal-content release tag v1.3.0 (a branch would move under the document).
CATALOG_HREF = "https://raw.githubusercontent.com/usnistgov/oscal-content/v1.3.0/nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_catalog.json"
#: The assessment-asset name of sckb itself (the platform's first component).
SCKB_TOOL = "sckb"
#: The assessor organisation when none is given (``export oscal --assessor``).
DEFAULT_ASSESSOR = "Automated assessment (sckb)"
#: The metadata role of the assessor organisation (OSCAL's common role id).
ASSESSOR_ROLE = "assessor"
#: The media type of a raw evidence file by the ending of its ingest format's name (``checkov-json``, ``prowler-csv``,
#: ``sarif``); anything else is ``application/octet-stream``.
MEDIA_TYPES: dict[str, str] = {
    "sarif": "application/sarif+json",
    "json": "application/json",
    "csv": "text/csv",
    "xml": "application/xml",
    "yaml": "application/yaml",
}
#: The KB framework of FedRAMP's baselines: an assessment of one of them states the FedRAMP version it follows.
FEDRAMP_FRAMEWORK = "fedramp"
#: That version, as FedRAMP's constraints allow it (GSA/fedramp-automation, fedramp-external-allowed-values.xml,
#: allowed-values ``fedramp-version``: the version of FedRAMP's OSCAL templates a document follows).
FEDRAMP_VERSION = "fedramp-3.0.0rc1-oscal-1.1.2"
#: Evidence files people write (attestations) are ``evidence``; every other file is a scanner's ``tool-output``
#: (OSCAL back-matter resource ``type`` values). FedRAMP's SAR guide calls the latter raw tool output.
PEOPLE_FORMATS = ("attestation",)
#: FaaS platforms of the component definition: the key in a mitigation's ``guidance`` -> component title.
PLATFORMS: dict[str, str] = {"aws": "AWS Lambda", "gcp": "Google Cloud Functions", "azure": "Azure Functions"}

AP_FILE = "assessment-plan.json"
AR_FILE = "assessment-results.json"
POAM_FILE = "poam.json"
CDEF_FILE = "component-definition.json"

_STATE = {
    rules.SATISFIED: "satisfied",
    rules.INHERITED: "satisfied",
    rules.NOT_SATISFIED: "not-satisfied",
    rules.PARTIAL: "not-satisfied",
}


_NS_BYTES = NAMESPACE.bytes


def uid(key: str) -> str:
    """``str(uuid.uuid5(NAMESPACE, key))``, computed without building UUID objects (it runs per observation)."""
    h = bytearray(hashlib.sha1(_NS_BYTES + key.encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


#: ``AC-6(1)`` -> ``ac-6.1`` (OSCAL catalog ids): the KB's one spelling of it.
oscal_control_id = oscal_id


def kb_control_id(oscal_id: str) -> str:
    """``ac-6.1`` -> ``AC-6(1)``."""
    base, _, enh = oscal_id.partition(".")
    return f"{base.upper()}({enh})" if enh else base.upper()


def prop(name: str, value: str | int, *, ns: bool = True) -> dict[str, str]:
    p = {"name": name, "value": str(value)}
    if ns:
        p["ns"] = NS
    return p


@dataclass(frozen=True, slots=True)
class Context:
    """What the documents state beyond the assessment: the system's file (its name, description, contacts and the
    platform authorizations it leverages), where the system's OSCAL SSP is (``export oscal --ssp``), who assessed
    and a marking."""

    kb: KB | None = None
    system: System | None = None
    #: the SSP's href relative to the exported documents; None: FedRAMP's no-OSCAL-SSP resource is used instead
    ssp_href: str | None = None
    #: the assessor organisation's name (a metadata party in the ``assessor`` role)
    assessor: str = DEFAULT_ASSESSOR
    #: a marking for the documents (a metadata ``marking`` prop), e.g. CUI
    marking: str | None = None


def _people_metadata(ctx: Context, people: dict[str, set[str]], titles: dict[str, str]) -> dict[str, Any]:
    """Metadata roles, parties and responsible parties: the assessor organisation, the system's contacts (system
    owner, points of contact: the roles the system file gives them) and ``people`` (role id -> names)."""
    parties: dict[str, dict[str, Any]] = {}
    by_role: dict[str, set[str]] = {}
    org = _party_uuid(ctx.assessor)
    parties[org] = {"uuid": org, "type": "organization", "name": ctx.assessor}
    by_role.setdefault(ASSESSOR_ROLE, set()).add(org)
    info = ctx.system.ssp if ctx.system is not None else None
    for c in info.contacts if info is not None else ():
        u = _party_uuid(c.name)
        parties.setdefault(
            u, _clean({"uuid": u, "type": "person", "name": c.name, "email-addresses": [c.email] if c.email else []})
        )
        by_role.setdefault(c.role, set()).add(u)
    for role, names in people.items():
        for n in names:
            parties.setdefault(_party_uuid(n), _party(n))
            by_role.setdefault(role, set()).add(_party_uuid(n))
    all_titles = {ASSESSOR_ROLE: "Assessor", **titles}
    return {
        "roles": [{"id": r, "title": all_titles.get(r, r.replace("-", " ").capitalize())} for r in sorted(by_role)],
        "parties": [parties[u] for u in sorted(parties)],
        "responsible-parties": [{"role-id": r, "party-uuids": sorted(by_role[r])} for r in sorted(by_role)],
    }


def _metadata(
    a: Assessment,
    title: str,
    ctx: Context | None = None,
    people: dict[str, set[str]] | None = None,
    titles: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The metadata of every document: title, times (``published`` and ``last-modified`` are the assessment's clock),
    sckb's props, a FedRAMP ``marking`` where given, and with ``ctx`` who is involved (:func:`_people_metadata`)."""
    meta: dict[str, Any] = {
        "title": title,
        "published": a.now,
        "last-modified": a.now,
        "version": a.id,
        "oscal-version": OSCAL_VERSION,
        "props": [prop("assessment-id", a.id), prop("scope", " ".join(a.scopes)), *_profile_props(a)],
    }
    if ctx is not None:
        if any(b.framework == FEDRAMP_FRAMEWORK for b in _baselines(a, ctx.kb)):
            meta["props"].append({"name": "fedramp-version", "ns": FEDRAMP_NS, "value": FEDRAMP_VERSION})
        if ctx.marking:
            meta["props"].append({"name": "marking", "value": ctx.marking})
        meta.update(_people_metadata(ctx, people or {}, titles or {}))
    return meta


def _profile_props(a: Assessment) -> list[dict[str, str]]:
    """The tailored baseline the scope came from (``assess --profile``): its title, file name and content hash."""
    if a.profile is None:
        return []
    p = a.profile
    return [prop("profile-title", p.title), prop("profile-file", p.file), prop("profile-sha256", p.sha256)]


def _reviewed_controls(a: Assessment, kb: KB | None = None) -> dict[str, Any]:
    ids = [{"control-id": oscal_control_id(c)} for c in _in_baseline(a, kb)]
    text = "Controls in the assessed scopes: " + ", ".join(a.scopes) + "."
    if a.profile is not None:
        text += f" The tailored baseline {a.profile.title!r} ({a.profile.file}) selects {a.profile.controls} of them."
    sel: dict[str, Any] = {"description": text}
    sel["include-controls" if ids else "include-all"] = ids if ids else {}
    return {"control-selections": [sel]}


def _subjects(a: Assessment) -> list[str]:
    return sorted({s for o in a.observations for s in o.subjects})


def system_seed(a: Assessment) -> str:
    """The prefix of every UUID key of what belongs to one system (observations, subjects, risks, POA&M items and
    their parts): two systems failing the same rule get different UUIDs, each still deterministic."""
    return "system:" + (a.system or WORKSPACE_SYSTEM) + "|"


def _evidence_uuid(sha: str) -> str:
    return uid("evidence:" + sha)


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    """Drop empty lists and dicts (OSCAL arrays have minItems 1)."""
    return {k: v for k, v in d.items() if v not in ([], {}, None, "")}


# --------------------------------------------------------------------------- assessment plan


def _baselines(a: Assessment, kb: KB | None) -> list[Baseline]:
    """The KB baselines among the assessment's scopes (none when there is no KB or the scope is not a baseline)."""
    if kb is None:
        return []
    out = []
    for name in a.scopes:
        entry = kb.nodes.get(name)
        if entry is not None and isinstance(entry.record, Baseline):
            out.append(entry.record)
    return out


def _in_baseline(a: Assessment, kb: KB | None) -> list[str]:
    """The assessed controls that the baseline(s) in scope select (all of them when no baseline is in scope: a
    framework or the serverless view reviews what it reaches)."""
    baselines = _baselines(a, kb)
    if not baselines:
        return list(a.controls)
    members = {m for b in baselines for m in b.members}
    return [c for c in a.controls if c in members]


def _assessment_assets(a: Assessment) -> dict[str, Any]:
    """sckb and every scanner whose evidence it read, as assessment-asset components; the platform is sckb using
    them all (the actors of observations, findings and risks)."""
    tools = sorted({o.tool for o in a.observations} | {p.rule.partition(":")[0] for p in (*a.poam, *a.closed_poam)})
    comps = [_tool_component(SCKB_TOOL, "sckb, which maps scanner findings to controls and decides their status.")]
    comps += [
        _tool_component(t, f"The {t} evidence source (a scanner, or people's attestations), whose findings sckb ingested.")
        for t in tools
        if t != SCKB_TOOL
    ]
    return {
        "components": comps,
        "assessment-platforms": [
            {
                "uuid": uid("assessment-platform:" + SCKB_TOOL),
                "title": "sckb assessment platform",
                "uses-components": [{"component-uuid": c["uuid"]} for c in comps],
            }
        ],
    }


def _tool_component(name: str, description: str) -> dict[str, Any]:
    return {
        "uuid": _tool_uuid(name),
        "type": "software",
        "title": name,
        "description": description,
        "status": {"state": "operational"},
    }


def _system_resources(a: Assessment, ctx: Context) -> tuple[str, list[dict[str, Any]]]:
    """The plan's ``import-ssp`` href and the back-matter resources it needs. With an SSP (``ctx.ssp_href``) the href
    names it; without one, FedRAMP's pattern for a system without an OSCAL SSP (Guide to OSCAL-based FedRAMP SAP,
    3.5.2): a resource of ``type`` ``no-oscal-ssp`` titled with the system's name and described by its description,
    with FedRAMP's ``title-short``, ``purpose`` and ``import-profile`` props, the last naming the resource of the
    official profile of the baseline in scope (what an SSP would have imported)."""
    resources: list[dict[str, Any]] = []
    for b in _baselines(a, ctx.kb):
        if b.profile:
            resources.append(
                {
                    "uuid": uid("baseline-profile:" + b.id),
                    "title": b.title,
                    "description": f"The official OSCAL profile of the {b.title} baseline: the controls in scope.",
                    "props": [prop("baseline", b.id)],
                    "rlinks": [{"href": b.profile, "media-type": "application/json"}],
                }
            )
    if ctx.ssp_href is not None:
        return ctx.ssp_href, resources
    name = a.system or WORKSPACE_SYSTEM
    sysdoc = ctx.system
    description = (sysdoc.description.strip() if sysdoc is not None else "") or (
        f"The serverless functions and resources of the sckb evidence {'system ' + name if a.system else 'workspace'}."
    )
    info = sysdoc.ssp if sysdoc is not None else None
    props = [
        {"name": "type", "value": "no-oscal-ssp"},
        {"name": "title-short", "ns": FEDRAMP_NS, "value": info.id if info is not None and info.id else name},
        {"name": "purpose", "ns": FEDRAMP_NS, "value": description},
        *({"name": "import-profile", "ns": FEDRAMP_NS, "value": f"#{r['uuid']}"} for r in resources),
        prop("system-id", system_id(a)["id"]),
    ]
    no_ssp = {
        "uuid": uid(system_seed(a) + "no-oscal-ssp"),
        "title": name,
        "description": f"{description} No OSCAL system security plan was given; evidence window {a.window_start} to {a.now}.",
        "props": props,
    }
    return f"#{no_ssp['uuid']}", [no_ssp, *resources]


def assessment_plan(a: Assessment, ctx: Context | None = None) -> dict[str, Any]:
    ctx = ctx or Context()
    ids = _Uids(a)
    subjects = _subjects(a)
    methods_by_tool: dict[str, set[str]] = {}
    controls_by_tool: dict[str, set[str]] = {}
    mit_controls = _mit_controls(a)
    for o in a.observations:
        methods_by_tool.setdefault(o.tool, set()).update(o.methods)
        controls_by_tool.setdefault(o.tool, set()).update(c for m in o.mitigations for c in mit_controls.get(m, ()))
        controls_by_tool[o.tool].update(o.controls)
    activities = []
    tasks = []
    for tool in sorted(methods_by_tool):
        act_uuid = uid(f"activity:{a.id}:{tool}")
        ctrl = sorted(controls_by_tool[tool], key=control_sort_key)
        activity: dict[str, Any] = {
            "uuid": act_uuid,
            "title": f"Evidence from {tool}",
            "description": f"Collect {tool} results and evaluate them against the sckb mappings (rule -> mitigation -> control).",
            "props": [prop("method", m, ns=False) for m in sorted(methods_by_tool[tool])],
        }
        if ctrl:
            activity["related-controls"] = {
                "control-selections": [{"include-controls": [{"control-id": oscal_control_id(c)} for c in ctrl]}]
            }
        activities.append(activity)
        tasks.append(
            {
                "uuid": uid(f"task:{a.id}:{tool}"),
                "type": "action",
                "title": f"Assess evidence from {tool}",
                # the evidence window: results older than the maximum age decide nothing
                "timing": {"within-date-range": {"start": _oscal_start(a.window_start), "end": a.now}},
                "associated-activities": [
                    {"activity-uuid": act_uuid, "subjects": [{"type": "inventory-item", "include-all": {}}]}
                ],
            }
        )
    local: dict[str, Any] = {
        "inventory-items": [_inventory_item(s, ids) for s in subjects],
        "activities": activities,
    }
    href, resources = _system_resources(a, ctx)
    plan: dict[str, Any] = {
        "uuid": uid("assessment-plan:" + a.id),
        "metadata": _metadata(a, f"sckb assessment plan ({', '.join(a.scopes)})", ctx),
        "import-ssp": {"href": href},
        "local-definitions": _clean(local),
        "reviewed-controls": _reviewed_controls(a, ctx.kb),
        "assessment-subjects": [
            _clean(
                {
                    "type": "inventory-item",
                    "description": "Functions and resources seen in the evidence.",
                    "include-subjects": [{"subject-uuid": ids.subject(s), "type": "inventory-item"} for s in subjects],
                    "include-all": None if subjects else {},
                }
            )
        ],
        "assessment-assets": _assessment_assets(a),
        "tasks": tasks,
        "back-matter": {"resources": resources},
    }
    if a.files:
        plan["back-matter"]["resources"] += [_evidence_resource(f) for f in a.files]
    return {"assessment-plan": _clean(plan)}


def _inventory_item(subject: str, ids: _Uids) -> dict[str, Any]:
    return {
        "uuid": ids.subject(subject),
        "description": f"Serverless function or resource {subject}",
        "props": [prop("asset-id", subject, ns=False)],
    }


def _mit_controls(a: Assessment) -> dict[str, list[str]]:
    """mitigation -> the controls its status decides (determinative links only)."""
    out: dict[str, list[str]] = {}
    for c in a.controls.values():
        for ln in c.mitigations:
            if ln.determinative:
                out.setdefault(ln.id, []).append(c.id)
    return out


def _evidence_resource(f: EvidenceFileRef) -> dict[str, Any]:
    fresh = "" if f.fresh else " Stale: older than the assessment's evidence window, so it decided nothing."
    return {
        "uuid": _evidence_uuid(f.sha256),
        "title": f.name,
        "description": f"Raw {f.tool} output ({f.format}), scanned {f.scan_time}, as kept in the sckb evidence locker.{fresh}",
        "props": [
            *_evidence_types(f),
            prop("tool", f.tool),
            prop("format", f.format),
            prop("scan-time", f.scan_time),
            prop("stale", str(not f.fresh).lower()),
            prop("completeness", f.completeness),
        ],
        "rlinks": [
            {
                "href": evidence_href(f.sha256, f.name),
                "media-type": media_type(f.format, f.name),
                "hashes": [{"algorithm": "SHA-256", "value": f.sha256}],
            }
        ],
    }


def _evidence_types(f: EvidenceFileRef) -> list[dict[str, str]]:
    """An evidence file's OSCAL ``type`` and FedRAMP's attachment type (FedRAMP SAR guide: raw tool output;
    fedramp-external-allowed-values.xml, ``attachment-type``): a scanner's output, or people's evidence."""
    people = any(k in f.format for k in PEOPLE_FORMATS)
    return [
        {"name": "type", "value": "evidence" if people else "tool-output"},
        {"name": "type", "ns": FEDRAMP_NS, "value": "evidence" if people else "raw-tool-output"},
    ]


def media_type(fmt: str, name: str = "") -> str:
    """The media type of an evidence file of ingest format ``fmt`` (:data:`MEDIA_TYPES`), else of its file name's
    extension (``attestation.yaml``)."""
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    for ending, mt in MEDIA_TYPES.items():
        if fmt == ending or fmt.endswith("-" + ending):
            return mt
    for ending, mt in MEDIA_TYPES.items():
        if ext == ending or (ending == "yaml" and ext == "yml"):
            return mt
    return "application/octet-stream"


def evidence_href(sha: str, name: str) -> str:
    """Where ``sckb export oscal`` copies a raw evidence file, relative to the output folder."""
    return f"evidence/{sha}"


# --------------------------------------------------------------------------- assessment results


class _Uids:
    """UUIDs computed once per build (observations, subjects and evidence recur across sections)."""

    def __init__(self, a: Assessment) -> None:
        self.seed = system_seed(a)
        self.obs = {o.key: self.u("observation:" + o.key) for o in a.observations}
        self._subjects: dict[str, str] = {}
        self._evidence: dict[str, str] = {}

    def subject(self, s: str) -> str:
        u = self._subjects.get(s)
        if u is None:
            u = self._subjects[s] = self.u("subject:" + s)
        return u

    def u(self, key: str) -> str:
        """The UUID of ``key`` within this system."""
        return uid(self.seed + key)

    def risk(self, rule: str) -> str:
        return self.u("risk:" + rule)

    def planned(self, rule: str) -> str:
        return self.u("remediation:planned:" + rule)

    def evidence(self, sha: str) -> str:
        u = self._evidence.get(sha)
        if u is None:
            u = self._evidence[sha] = _evidence_uuid(sha)
        return u


@lru_cache(maxsize=4096)
def _expires(collected: str, max_age_days: int) -> str:
    """When an observation stops counting: its collection time plus the assessment's maximum evidence age (cached:
    many observations share a scan time)."""
    t = datetime.fromisoformat(collected.replace("Z", "+00:00")) + timedelta(days=max_age_days)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _failing_subjects(a: Assessment) -> dict[str, set[str]]:
    """rule -> the subjects with an open failing finding of it (the POA&M item's subjects)."""
    return {p.rule: set(p.subjects) for p in a.poam}


def _tool_origin(tool: str) -> dict[str, Any]:
    """The origin of what a scanner reported through sckb: both are assessment assets (tools)."""
    actors = [{"type": "tool", "actor-uuid": _tool_uuid(tool)}]
    if tool != SCKB_TOOL:
        actors.append({"type": "tool", "actor-uuid": _tool_uuid(SCKB_TOOL)})
    return {"actors": actors}


def _assessor_origin(ctx: Context) -> dict[str, Any]:
    """sckb's determinations on behalf of the assessor organisation."""
    return {
        "actors": [
            {"type": "party", "actor-uuid": _party_uuid(ctx.assessor), "role-id": ASSESSOR_ROLE},
            {"type": "tool", "actor-uuid": _tool_uuid(SCKB_TOOL)},
        ]
    }


def _observation(o: Observation, ids: _Uids, a: Assessment, failing: dict[str, set[str]]) -> dict[str, Any]:
    """One evidence file's results for one rule. Its subjects are the affected assets: those failing the rule when it
    failed (the passing ones are counted in the description only); all of them when nothing failed."""
    doc: dict[str, Any] = {
        "uuid": ids.obs[o.key],
        "title": f"{o.rule} in evidence {o.file_sha256[:12]}",
        "description": f"{o.tool} rule {o.rule}: {o.failed} failing, {o.passed} passing, {o.errors} errors, {o.other} other.",
        "methods": o.methods or ["TEST"],
        "types": ["finding"],
        "origins": [_tool_origin(o.tool)],
        "collected": o.collected,
        "expires": _expires(o.collected, a.max_age_days),
        "relevant-evidence": [
            {"href": f"#{ids.evidence(o.file_sha256)}", "description": f"{o.tool} output, SHA-256 {o.file_sha256}"}
        ],
    }
    subjects = [s for s in o.subjects if s in failing.get(o.rule, ())] if o.failed else o.subjects
    if subjects:
        doc["subjects"] = [{"subject-uuid": ids.subject(s), "type": "inventory-item"} for s in subjects]
    return doc


def _risk(p: PoamItem, ids: _Uids, ctx: Context | None = None) -> dict[str, Any]:
    """The risk of one POA&M item as the assessment results state it (the POA&M adds triage, see :func:`_poam_risk`)."""
    related = [{"observation-uuid": ids.obs[k]} for k in p.observations if k in ids.obs]
    return {
        "uuid": ids.risk(p.rule),
        "title": p.title,
        "description": f"{len(p.findings)} open failing finding(s) of {p.rule} on {len(p.subjects)} subject(s).",
        "statement": "Mitigations "
        + ", ".join(p.mitigations or ["(none)"])
        + " are not in place for: "
        + ", ".join(p.subjects[:20])
        + (" ..." if len(p.subjects) > 20 else "")
        + f". Controls affected: {', '.join(p.controls) or '(none)'}.",
        "props": [
            prop("severity", p.severity),
            prop("first-seen", p.first_seen),
            *({"name": "impacted-control-id", "ns": FEDRAMP_NS, "value": oscal_control_id(c)} for c in p.controls),
        ],
        "status": "open",
        "origins": [_tool_origin(p.rule.partition(":")[0])],
        "characterizations": _characterizations(p),
        "remediations": _recommendation(p, ctx or Context(), ids),
        "deadline": p.due,
        "related-observations": related,
    }


def _risks(a: Assessment, ids: _Uids, ctx: Context) -> list[dict[str, Any]]:
    return [_clean(_risk(p, ids, ctx)) for p in a.poam]


# ---- assessors' determinations (issue 21)


def _party_uuid(name: str) -> str:
    return uid("party:" + name)


def _origin(d: Determination) -> dict[str, Any]:
    """The assessor who made a determination, as an OSCAL origin (a party acting in a role)."""
    return {"actors": [{"type": "party", "actor-uuid": _party_uuid(d.by), "role-id": d.role}]}


def _determination_observation_uuid(cid: str, d: Determination, ids: _Uids) -> str:
    return ids.u(f"determination:{cid}|{d.date}|{d.by}")


def _determination_observation(ctl: ControlResult, d: Determination, now: str, ids: _Uids) -> dict[str, Any]:
    return {
        "uuid": _determination_observation_uuid(ctl.id, d, ids),
        "title": f"Assessor's determination of {ctl.id}",
        "description": d.rationale,
        "props": [prop("determined-status", d.status), prop("determination-source", d.source)],
        "methods": list(d.methods) or ["EXAMINE"],
        "types": ["finding"],
        "origins": [_origin(d)],
        "collected": d.date or now,
    }


def _determined(a: Assessment) -> list[tuple[ControlResult, Determination]]:
    return [(c, c.determination) for c in a.controls.values() if c.determination is not None and c.status in _STATE]


def _assessors(a: Assessment) -> dict[str, set[str]]:
    """role -> the people whose determinations the results carry (empty when none)."""
    out: dict[str, set[str]] = {}
    for _, d in _determined(a):
        out.setdefault(d.role, set()).add(d.by)
    return out


def _control_observations(a: Assessment, ids: _Uids) -> dict[str, set[str]]:
    """control id -> the uuids of the observations its finding relates: those naming the control, those of every
    mitigation linked to it (related links too: listed, they decide nothing) and its determination's."""
    obs_by_mit: dict[str, list[str]] = {}
    obs_by_ctrl: dict[str, list[str]] = {}
    for o in a.observations:
        u = ids.obs[o.key]
        for m in o.mitigations:
            obs_by_mit.setdefault(m, []).append(u)
        for c in o.controls:
            obs_by_ctrl.setdefault(c, []).append(u)
    out: dict[str, set[str]] = {}
    for ctl in a.controls.values():
        obs = set(obs_by_ctrl.get(ctl.id, ()))
        for ln in ctl.mitigations:
            obs.update(obs_by_mit.get(ln.id, ()))
        if ctl.determination is not None:
            obs.add(_determination_observation_uuid(ctl.id, ctl.determination, ids))
        out[ctl.id] = obs
    return out


def control_observations(a: Assessment) -> dict[str, list[str]]:
    """control id -> the sorted uuids of the assessment results' observations about it (the same uuids
    :func:`assessment_results` writes; a system security plan links its statements to them)."""
    return {c: sorted(u) for c, u in _control_observations(a, _Uids(a)).items() if u}


def _link_risks(a: Assessment, ln: MitigationLink, risk_rules: set[str], ids: _Uids) -> set[str]:
    """The risks a determinative mitigation link brings (only they decide: status rule 2)."""
    if not ln.determinative:
        return set()
    mres = a.mitigations.get(ln.id)
    return {
        ids.risk(r.rule) for r in (mres.rules if mres else []) if r.determinative and r.outcome == "fail" and r.rule in risk_rules
    }


def _objective_id(part: str) -> str:
    """A statement item's assessment objective (SP 800-53A in the NIST catalog): ``ac-2_smt.a`` -> ``ac-2_obj.a``."""
    return part.replace("_smt", "_obj", 1)


def _part_state(links: list[MitigationLink]) -> str:
    """The OSCAL state of a statement part from the determinative links covering it: not-satisfied when one is."""
    states = {_STATE.get(ln.status) for ln in links}
    return "not-satisfied" if "not-satisfied" in states else "satisfied"


def _inherited_from(ctx: Context) -> list[str]:
    """The platform authorizations the system leverages, as text (the system file's ``ssp`` block)."""
    info = ctx.system.ssp if ctx.system is not None else None
    las = info.leveraged_authorizations if info is not None else ()
    return [f"{la.title} (held by {la.party}, authorized {la.date_authorized.isoformat()})" for la in las]


def assessment_results(a: Assessment, *, ap_href: str = AP_FILE, ctx: Context | None = None) -> dict[str, Any]:
    ctx = ctx or Context()
    ids = _Uids(a)
    failing = _failing_subjects(a)
    observations = [_observation(o, ids, a, failing) for o in a.observations]
    observations += [_determination_observation(c, d, a.now, ids) for c, d in _determined(a)]
    risks = _risks(a, ids, ctx)
    related = _control_observations(a, ids)
    risk_rules = {p.rule for p in a.poam}
    obs_by_mit: dict[str, set[str]] = {}
    for o in a.observations:
        for m in o.mitigations:
            obs_by_mit.setdefault(m, set()).add(ids.obs[o.key])
    findings = []
    for ctl in a.controls.values():
        state = _STATE.get(ctl.status)
        if state is None:
            continue
        obs = related[ctl.id]
        risk_ids: set[str] = set()
        for ln in ctl.mitigations:
            risk_ids |= _link_risks(a, ln, risk_rules, ids)
        for r in ctl.direct:
            if r.outcome == "fail" and r.rule in risk_rules:
                risk_ids.add(ids.risk(r.rule))
        d = ctl.determination
        if state == "not-satisfied" and not risk_ids:
            # a not-satisfied finding always names a risk: without a failing rule, the control's own
            risk = _control_risk(a, ctl, ids, obs)
            risks.append(risk)
            risk_ids.add(risk["uuid"])
        base_props = [prop("assessment-status", ctl.status)] + (
            [prop("derived-status", ctl.derived_status or rules.NOT_ASSESSED)] if d is not None else []
        )
        status: dict[str, Any] = (
            {"state": state}
            if ctl.status in (rules.SATISFIED, rules.NOT_SATISFIED)
            else {"state": state, "reason": "other", "remarks": ctl.status}
        )
        target: dict[str, Any] = {
            "type": "statement-id",
            "target-id": oscal_control_id(ctl.id) + "_smt",
            "title": f"{ctl.id} {ctl.title}",
            "props": base_props,
            "status": status,
        }
        if ctl.status == rules.INHERITED:
            leveraged = _inherited_from(ctx)
            cited = "; ".join(leveraged) or "the platform provider's authorization (not named in the system file)"
            target["status"] = {"state": "satisfied", "reason": "other", "remarks": "inherited: not tested by this assessment"}
            target["implementation-status"] = {"state": "implemented", "remarks": f"Inherited from {cited}."}
        common = {
            "props": ([prop("responsibility", ctl.party)] if ctl.party else [])
            + [prop("statement-parts-covered", f"{len(ctl.covered)}/{len(ctl.parts)}")]
            + [prop("related-evidence", f"{r.via} {r.id} ({r.relationship or r.via}): {r.status}") for r in ctl.related]
            + [prop("needs-review", why) for why in ctl.review],
            "origins": [_origin(d)] if d is not None else [_assessor_origin(ctx)],
        }
        # per objective only when every link that decided the status names the statement items it covers (a link
        # without items, or a rule naming the control directly, speaks for the whole statement)
        decided = [ln for ln in ctl.mitigations if ln.determinative and ln.status in _STATE]
        by_item = d is None and ctl.status != rules.INHERITED and not ctl.direct and bool(decided)
        by_item = by_item and all(any("_smt." in p for p in ln.parts) for ln in decided)
        items = sorted({p for ln in decided for p in ln.parts if "_smt." in p}) if by_item else []
        part_links = {part: [ln for ln in decided if part in ln.parts] for part in items}
        if part_links:
            for part, links in sorted(part_links.items()):
                pstate = _part_state(links)
                prisks = set().union(*(_link_risks(a, ln, risk_rules, ids) for ln in links))
                if pstate == "not-satisfied" and not prisks:
                    prisks = risk_ids
                pobs = set().union(*(obs_by_mit.get(ln.id, set()) for ln in links))
                findings.append(
                    _clean(
                        {
                            "uuid": ids.u(f"finding:{a.id}:{ctl.id}:{part}"),
                            "title": f"{ctl.id} {part}: {pstate}",
                            "description": f"Statement item {part} of {ctl.id}, decided by "
                            + ", ".join(f"{ln.id} ({ln.status})" for ln in links)
                            + f". The control as a whole: {ctl.status} ({ctl.reason}).",
                            **common,
                            "target": {
                                "type": "objective-id",
                                "target-id": _objective_id(part),
                                "title": f"{ctl.id} {ctl.title}, item {part}",
                                "props": [*base_props, prop("statement-part", part)],
                                "status": {"state": pstate},
                            },
                            "related-observations": [{"observation-uuid": u} for u in sorted(pobs)],
                            "related-risks": [{"risk-uuid": u} for u in sorted(prisks)],
                        }
                    )
                )
            continue
        findings.append(
            _clean(
                {
                    "uuid": ids.u(f"finding:{a.id}:{ctl.id}"),
                    "title": f"{ctl.id}: {ctl.status}" + (f" (determined by {d.by})" if d is not None else ""),
                    "description": ctl.reason
                    if d is None
                    else f"Determined {d.status} by {d.by} ({d.role}) on {d.date}: {d.rationale.rstrip('.')}. "
                    f"The evidence alone gives {ctl.derived_status or rules.NOT_ASSESSED} ({ctl.reason}).",
                    **common,
                    "target": target,
                    "related-observations": [{"observation-uuid": u} for u in sorted(obs)],
                    "related-risks": [{"risk-uuid": u} for u in sorted(risk_ids)],
                }
            )
        )
    result = _clean(
        {
            "uuid": uid("result:" + a.id),
            "title": f"sckb assessment {a.id}",
            "description": f"Automated assessment of {', '.join(a.scopes)} from scanner and attestation evidence "
            f"collected between {a.window_start} and {a.now}.",
            "start": _oscal_start(a.window_start),
            "end": a.now,
            "props": [prop("assessment-id", a.id), prop("max-age-days", a.max_age_days)],
            "local-definitions": {"assessment-assets": _assessment_assets(a)},
            "reviewed-controls": _reviewed_controls(a, ctx.kb),
            "observations": observations,
            "risks": risks,
            "findings": findings,
        }
    )
    # the assessors of determinations, and triage's people: the adjusted ratings of the risks name them
    people = _assessors(a)
    for role, names in _people(a.poam).items():
        people.setdefault(role, set()).update(names)
    titles = {r: r.replace("-", " ").capitalize() for r in people} | dict(TRIAGE_ROLES.values())
    doc: dict[str, Any] = {
        "uuid": uid("assessment-results:" + a.id),
        "metadata": _metadata(a, f"sckb assessment results ({', '.join(a.scopes)})", ctx, people, titles),
        "import-ap": {"href": ap_href},
        "results": [result],
    }
    if a.files:
        doc["back-matter"] = {"resources": [_evidence_resource(f) for f in a.files]}
    return {"assessment-results": doc}


def _control_risk(a: Assessment, ctl: ControlResult, ids: _Uids, obs: set[str]) -> dict[str, Any]:
    """The risk of a control found not satisfied without a failing scanner rule (an attestation, a determination
    or missing evidence): it has no POA&M item of its own, so it is stated here."""
    return _clean(
        {
            "uuid": ids.u("risk:control:" + ctl.id),
            "title": f"{ctl.id} {ctl.title} is {ctl.status}",
            "description": ctl.reason,
            "statement": f"{ctl.id} is {ctl.status} and no failing scanner rule explains it: {ctl.reason}",
            "props": [{"name": "impacted-control-id", "ns": FEDRAMP_NS, "value": oscal_control_id(ctl.id)}],
            "status": "open",
            "origins": [_origin(ctl.determination)] if ctl.determination is not None else [],
            "related-observations": [{"observation-uuid": u} for u in sorted(obs)],
        }
    )


# --------------------------------------------------------------------------- POA&M


def _oscal_start(t: str) -> str:
    """OSCAL date-times begin in 1900: an evidence window reaching further back (a huge --max-age) starts there."""
    return max(t, "1900-01-01T00:00:00Z")


def _due_props(a: Assessment, p: PoamItem) -> list[dict[str, str]]:
    """How a POA&M item's due date was set: only when assessed with a remediation policy or a KEV catalogue."""
    if a.remediation_policy is None:
        return []
    out = [prop("remediation-policy", a.remediation_policy), prop("due-basis", p.due_basis)]
    if p.kev:
        out.append(prop("kev", "true"))
        if p.kev_due is not None:
            out.append(prop("kev-due-date", p.kev_due))
        out += [prop("kev-cve", c) for c in p.kev_cves]
    return out


#: Namespace of FedRAMP's OSCAL extensions. Used only for the props FedRAMP defines for a POA&M (Guide to OSCAL-based
#: FedRAMP Plan of Action and Milestones, GSA/fedramp-automation, section 4.2 "POAM-ID", 4.2.1
#: "impacted-control-id", 4.4 the vendor check-in entry, 4.5.1-4.5.4 "false-positive", "operational-requirement",
#: "risk-adjustment" and "vendor-dependency"); everything else sckb says is in :data:`NS`.
FEDRAMP_NS = "https://fedramp.gov/ns/oscal"
#: Triage deviation kind -> the risk prop that reports it and its namespace (FedRAMP's where FedRAMP defines one;
#: a risk acceptance is sckb's). The value is the deviation's state: ``pending`` or ``approved`` (FedRAMP's words).
DEVIATION_PROPS: dict[str, tuple[str, str]] = {
    "false-positive": ("false-positive", FEDRAMP_NS),
    "operational-requirement": ("operational-requirement", FEDRAMP_NS),
    "risk-adjustment": ("risk-adjustment", FEDRAMP_NS),
    "risk-acceptance": ("risk-acceptance", NS),
}
#: Deviation kinds that are mitigating factors of the risk (a false positive is not: it says there is no risk).
MITIGATING = ("risk-adjustment", "operational-requirement", "risk-acceptance")
#: The roles people play in the POA&M (metadata roles; the parties are the people triage names): which triage field
#: names them -> (role id, title).
TRIAGE_ROLES: dict[str, tuple[str, str]] = {
    "poc": ("remediation-poc", "Point of contact for remediation"),
    "by": ("triage-decision-maker", "Maker of a triage decision"),
    "approved_by": ("deviation-approver", "Approver of a deviation (authorizing official or delegate)"),
}
#: A triage decision's OSCAL risk status change when it is logged (deviations: requested or approved).
_LOGGED_STATUS = {"remediation-plan": "remediating", "vendor-dependency": "remediating"}
#: How the system is identified (OSCAL system-id: a UUID, RFC 4122).
SYSTEM_ID_TYPE = "https://ietf.org/rfc/rfc4122"
#: The system-id key of a workspace-wide assessment (no ``--system``).
WORKSPACE_SYSTEM = "workspace"


def system_id(a: Assessment) -> dict[str, str]:
    """The POA&M's ``system-id``: UUIDv5 of the system's name (``system:<name>``), or of the workspace."""
    return {"identifier-type": SYSTEM_ID_TYPE, "id": uid("system:" + (a.system or WORKSPACE_SYSTEM))}


def _stamp(value: str) -> str:
    """A date or timestamp as an OSCAL date-time (a bare date is midnight UTC)."""
    return value if "T" in value else value + "T00:00:00Z"


def _label(kind: str) -> str:
    return kind.replace("-", " ").capitalize()


def _tool_uuid(tool: str) -> str:
    return uid("tool:" + tool)


def _people(items: list[PoamItem]) -> dict[str, set[str]]:
    """role id -> the names of the people who play it on any item."""
    out: dict[str, set[str]] = {}
    for p in items:
        t = p.triage
        if t is None:
            continue
        if t.poc:
            out.setdefault(TRIAGE_ROLES["poc"][0], set()).add(t.poc)
        for d in t.decisions:
            out.setdefault(TRIAGE_ROLES["by"][0], set()).add(d.by)
            if d.approved_by:
                out.setdefault(TRIAGE_ROLES["approved_by"][0], set()).add(d.approved_by)
    return out


def _party(name: str) -> dict[str, Any]:
    party: dict[str, Any] = {"uuid": _party_uuid(name), "type": "person", "name": name}
    if "@" in name and " " not in name.strip():
        party["email-addresses"] = [name.strip()]
    return party


def _characterizations(p: PoamItem) -> list[dict[str, Any]]:
    """The original rating (from the tool, through the remediation policy) and, when adjusted, the adjusted one (by
    the people who decided and approved it): FedRAMP's initial/adjusted facet ``state`` (POA&M guide 4.2.4, 4.5.3).
    Without triage (an assessment stored before it existed) the initial rating is the severity."""
    t = p.triage
    if t is None:
        return [
            {
                "origin": {"actors": [{"type": "tool", "actor-uuid": _tool_uuid(p.rule.partition(":")[0])}]},
                "facets": [
                    {"name": "risk-rating", "system": NS, "value": p.severity, "props": [{"name": "state", "value": "initial"}]},
                    {"name": "severity", "system": NS, "value": p.severity},
                ],
            }
        ]
    out: list[dict[str, Any]] = [
        {
            "props": [prop("rating-source", t.rating_source)],
            "origin": {"actors": [{"type": "tool", "actor-uuid": _tool_uuid(p.rule.partition(":")[0])}]},
            "facets": [
                {
                    "name": "risk-rating",
                    "system": NS,
                    "value": t.original_rating,
                    "props": [{"name": "state", "value": "initial"}],
                },
                {"name": "severity", "system": NS, "value": p.severity},
            ],
        }
    ]
    ra = next((d for d in t.decisions if d.kind == "risk-adjustment"), None)
    if t.adjusted_rating is not None and ra is not None:
        actors = [{"type": "party", "actor-uuid": _party_uuid(ra.by), "role-id": TRIAGE_ROLES["by"][0]}]
        if ra.approved_by:
            actors.append({"type": "party", "actor-uuid": _party_uuid(ra.approved_by), "role-id": TRIAGE_ROLES["approved_by"][0]})
        out.append(
            {
                "props": [prop("deviation-state", t.deviations.get("risk-adjustment", "pending"))],
                "origin": {"actors": actors},
                "facets": [
                    {
                        "name": "risk-rating",
                        "system": NS,
                        "value": t.adjusted_rating,
                        "props": [{"name": "state", "value": "adjusted"}],
                    }
                ],
            }
        )
    return out


def _recommendation(p: PoamItem, ctx: Context, ids: _Uids) -> list[dict[str, Any]]:
    """The KB's recommendation: the mitigations the rule's failure says are missing, each with its guidance for the
    system's platforms (its boundary's providers; every platform the KB knows when none is stated)."""
    kb = ctx.kb
    providers = ctx.system.boundary.providers if ctx.system is not None else ()
    platforms = {k: t for k, t in PLATFORMS.items() if not providers or k in providers}
    mits = [kb.nodes[m].record for m in p.mitigations if kb is not None and m in kb.nodes]
    recs = [m for m in mits if isinstance(m, Mitigation)]
    if not recs:
        return []
    parts = []
    for m in recs:
        guidance = [f"{title}: {getattr(m.guidance, key)}" for key, title in platforms.items() if getattr(m.guidance, key, None)]
        parts.append(f"{m.title} ({m.id}): {m.description}" + "".join("\n\n" + g for g in guidance))
    return [
        {
            "uuid": ids.u("remediation:recommendation:" + p.rule),
            "lifecycle": "recommendation",
            "title": "Mitigations the knowledge base recommends",
            "description": "\n\n".join(parts),
            "props": [prop("mitigation", m.id) for m in recs],
        }
    ]


def _remediations(p: PoamItem, ctx: Context, ids: _Uids) -> list[dict[str, Any]]:
    """The KB's recommendation (:func:`_recommendation`), the team's plan with its
    milestones as tasks (FedRAMP POA&M guide 4.3, 4.3.1), and for a closed item what closed it."""
    t = p.triage
    assert t is not None
    out = _recommendation(p, ctx, ids)
    if t.plan or t.milestones:
        planner = t.poc or next((d.by for d in t.decisions if d.kind == "remediation-plan"), None)
        plan: dict[str, Any] = {
            "uuid": ids.planned(p.rule),
            "lifecycle": "planned",
            "title": "Remediation plan",
            "description": t.plan or "Milestones only (no overall plan recorded).",
        }
        if planner:
            plan["origins"] = [
                {"actors": [{"type": "party", "actor-uuid": _party_uuid(planner), "role-id": TRIAGE_ROLES["poc"][0]}]}
            ]
        if t.resources:
            plan["required-assets"] = [{"uuid": ids.u("required-asset:" + p.rule), "description": t.resources}]
        if t.milestones:
            plan["tasks"] = [
                {
                    "uuid": ids.u(f"milestone:{p.rule}|{m.date}|{m.description}"),
                    "type": "milestone",
                    "title": m.description,
                    "timing": {"on-date": {"date": _stamp(m.date)}},
                }
                for m in t.milestones
            ]
        if t.milestone_changes:
            plan["remarks"] = "Milestones replaced since: " + "; ".join(t.milestone_changes)
        out.append(plan)
    if t.closed is not None:
        out.append(
            {
                "uuid": ids.u("remediation:completed:" + p.rule),
                "lifecycle": "completed",
                "title": "Closure",
                "description": t.closure or "Closed.",
            }
        )
    return out


def _risk_log(p: PoamItem, ids: _Uids) -> list[dict[str, Any]]:
    """One entry per triage decision (who, when, why, the status it moved the risk to), each vendor check-in and the
    closure (FedRAMP POA&M guide 4.4, 4.5.4, 4.6)."""
    t = p.triage
    assert t is not None
    entries: list[dict[str, Any]] = []
    for d in t.decisions:
        deviation = d.kind in DEVIATION_PROPS
        state = ("approved" if d.approved_by else "requested") if deviation else "recorded"
        text = d.rationale.rstrip() + ("" if d.rationale.rstrip().endswith((".", "!", "?")) else ".")
        text += f" Approved by {d.approved_by}." if d.approved_by else ""
        text += f" Expires {d.expires[:10]}." if d.expires else ""
        entry: dict[str, Any] = {
            "uuid": ids.u(f"risk-log:{p.rule}|{d.kind}|{d.target}|{d.seq}"),
            "title": f"{_label(d.kind)} {state}",
            "description": text,
            "start": _stamp(d.date),
            "props": [prop("decision-kind", d.kind), prop("decision-target", d.target)],
            "logged-by": [{"party-uuid": _party_uuid(d.by), "role-id": TRIAGE_ROLES["by"][0]}],
            "status-change": ("deviation-approved" if d.approved_by else "deviation-requested")
            if deviation
            else _LOGGED_STATUS.get(d.kind, "open"),
        }
        if d.kind == "remediation-plan" and (t.plan or t.milestones):
            entry["related-responses"] = [{"response-uuid": ids.planned(p.rule)}]
        entries.append(entry)
    if t.vendor_product and t.last_vendor_checkin:
        entries.append(
            {
                "uuid": ids.u(f"risk-log:{p.rule}|vendor-check-in|{t.last_vendor_checkin}"),
                "title": "Vendor check-in",
                "description": f"Last check-in with the vendor of {t.vendor_product}.",
                "start": _stamp(t.last_vendor_checkin),
                "props": [{"name": "vendor-dependency", "ns": FEDRAMP_NS, "value": "vendor-check-in"}],
            }
        )
    if t.closed is not None:
        entries.append(
            {
                "uuid": ids.u(f"risk-log:{p.rule}|closed|{t.closed}"),
                "title": "Risk closed",
                "description": t.closure or "Closed.",
                "start": _stamp(t.closed),
                "status-change": "closed",
            }
        )
    return sorted(entries, key=lambda e: (e["start"], e["uuid"]))


def triage_documents(a: Assessment) -> list[tuple[str, str]]:
    """(sha256, name) of every supporting document the POA&M's triage decisions name, once each, sorted."""
    docs = {sha: name for p in (*a.poam, *a.closed_poam) if p.triage is not None for name, sha in p.triage.documents}
    return sorted(docs.items())


def _document_uuid(sha: str) -> str:
    return uid("document:" + sha)


def _document_resource(sha: str, name: str) -> dict[str, Any]:
    """A supporting document as a back-matter resource: FedRAMP's ``type`` ``evidence`` prop (POA&M guide 4.5.5),
    copied beside the documents like the raw evidence."""
    return {
        "uuid": _document_uuid(sha),
        "title": name,
        "description": "A supporting document of a triage decision, as kept in the sckb evidence locker.",
        "props": [{"name": "type", "ns": FEDRAMP_NS, "value": "evidence"}],
        "rlinks": [{"href": evidence_href(sha, name), "hashes": [{"algorithm": "SHA-256", "value": sha}]}],
    }


def _poam_risk(p: PoamItem, ids: _Uids, ctx: Context) -> dict[str, Any]:
    """The POA&M's risk of an item: the results' risk plus what triage says (status, ratings, deviations, plan,
    log). An item without triage (an assessment stored before triage existed) keeps the results' risk."""
    risk = _risk(p, ids, ctx)
    t = p.triage
    if t is None:
        return _clean(risk)
    if t.closed is not None:
        n = len(p.findings) or len(t.false_positives)
        risk["description"] = f"{n} failing finding(s) of {p.rule}; closed {t.closed[:10]}: {t.closure or 'closed'}."
    risk["status"] = t.status
    for kind, state in sorted(t.deviations.items()):
        name, ns = DEVIATION_PROPS[kind]
        risk["props"].append({"name": name, "ns": ns, "value": state})
    if t.vendor_product:
        risk["props"] += [
            {"name": "vendor-dependency", "ns": FEDRAMP_NS, "value": "tracking"},
            prop("vendor-product", t.vendor_product),
        ]
        if t.last_vendor_checkin:
            risk["props"].append(prop("last-vendor-check-in", t.last_vendor_checkin))
    if t.overdue_waived:
        risk["props"].append(prop("overdue-waived", t.overdue_waived))
    risk["mitigating-factors"] = [
        {
            "uuid": ids.u(f"mitigating-factor:{p.rule}|{d.kind}"),
            "description": d.rationale,
            "props": [prop("decision-kind", d.kind), prop("deviation-state", t.deviations.get(d.kind, "pending"))],
        }
        for d in t.decisions
        if d.kind in MITIGATING
    ]
    risk["remediations"] = _remediations(p, ctx, ids)
    risk["links"] = [{"href": f"#{_document_uuid(sha)}", "rel": "evidence", "text": name} for name, sha in t.documents]
    log = _risk_log(p, ids)
    if log:
        risk["risk-log"] = {"entries": log}
    return _clean(risk)


def _poam_item(a: Assessment, p: PoamItem, ids: _Uids, ar_href: str) -> dict[str, Any]:
    risk_uuid = ids.risk(p.rule)
    t = p.triage
    closed = t is not None and t.closed is not None
    if closed:
        assert t is not None and t.closed is not None
        description = f"Closed {t.closed[:10]}: {t.closure or 'closed'} (was due {p.due[:10]})."
    else:
        description = (
            f"Remediate {len(p.findings)} open failing finding(s) of {p.rule} (severity {p.severity}): due {p.due[:10]}, "
            + (
                f"{p.window_days} days after first seen {p.first_seen[:10]}"
                if not p.due_basis
                else f"first seen {p.first_seen[:10]}, by {p.due_basis}"
            )
            + (" — OVERDUE." if p.overdue else ".")
        )
    item: dict[str, Any] = {
        "uuid": ids.u("poam-item:" + p.rule),
        "title": p.title,
        "description": description,
        "props": [
            {"name": "POAM-ID", "ns": FEDRAMP_NS, "value": poam_id(p.rule)},
            prop("severity", p.severity),
            prop("first-seen", p.first_seen),
            prop("due-date", p.due),
            prop("remediation-window-days", p.window_days),
            prop("overdue", "true" if p.overdue else "false"),
            *_due_props(a, p),
        ],
        "related-observations": [{"observation-uuid": ids.obs[k]} for k in p.observations if k in ids.obs],
        "related-risks": [{"risk-uuid": risk_uuid}],
    }
    if closed:
        item["props"].append(prop("closed", "true"))
    else:
        # a closed item's risk is in this POA&M only: the assessment results list the risks found open now
        item["links"] = [{"href": f"{ar_href}#{risk_uuid}", "rel": "related", "text": "risk in the assessment results"}]
    return _clean(item)


def poam(a: Assessment, *, ar_href: str = AR_FILE, kb: KB | None = None, ctx: Context | None = None) -> dict[str, Any]:
    """The OSCAL POA&M: one poam-item and one risk per open item, then one per closed item (risk status closed).
    With ``kb``, each risk carries the KB's recommended mitigations. Self-contained: the tools its origins name and
    the inventory items its observations name are local definitions."""
    ctx = ctx or Context(kb=kb)
    if kb is not None and ctx.kb is None:
        ctx = replace(ctx, kb=kb)
    by_key = {o.key: o for o in a.observations}
    everything = [*a.poam, *a.closed_poam]
    used_obs = sorted({k for p in everything for k in p.observations if k in by_key})
    ids = _Uids(a)
    risks = [_poam_risk(p, ids, ctx) for p in everything]
    items = [_poam_item(a, p, ids, ar_href) for p in everything]
    files = {o.file_sha256 for k in used_obs for o in [by_key[k]]}
    resources = [_evidence_resource(f) for f in a.files if f.sha256 in files]
    resources += [_document_resource(sha, name) for sha, name in triage_documents(a)]
    resources.append(
        {
            "uuid": uid("assessment-results-ref:" + a.id),
            "title": "Assessment results",
            "description": "The assessment results whose observations and risks these items track.",
            "rlinks": [{"href": ar_href}],
        }
    )
    failing = _failing_subjects(a)
    observations = [_observation(by_key[k], ids, a, failing) for k in used_obs]
    named = sorted({s["subject-uuid"] for o in observations for s in o.get("subjects", [])})
    by_uuid = {ids.subject(s): s for o in a.observations for s in o.subjects}
    local = {
        "components": _assessment_assets(a)["components"],
        "inventory-items": [_inventory_item(by_uuid[u], ids) for u in named],
    }
    doc = _clean(
        {
            "uuid": uid("poam:" + a.id),
            "metadata": _metadata(
                a,
                f"sckb plan of action and milestones ({', '.join(a.scopes)})",
                ctx,
                _people(everything),
                dict(TRIAGE_ROLES.values()),
            ),
            "system-id": system_id(a),
            "local-definitions": _clean(local),
            "observations": observations,
            "risks": risks,
            "poam-items": items,
            "back-matter": {"resources": resources},
        }
    )
    if "poam-items" not in doc:
        # OSCAL requires at least one item: say explicitly that nothing is open (marked as a placeholder)
        doc["poam-items"] = [
            {
                "uuid": uid("poam-item:none:" + a.id),
                "title": "No open findings",
                "description": f"Assessment {a.id} found no open failing finding in scope; nothing to remediate.",
                "props": [prop("placeholder", "true")],
            }
        ]
    return {"plan-of-action-and-milestones": doc}


# --------------------------------------------------------------------------- component definition


#: An assessed control's status -> the implementation status a component definition states (OSCAL's
#: implementation-status values); controls not assessed state none.
_IMPLEMENTATION = {
    rules.SATISFIED: "implemented",
    rules.INHERITED: "implemented",
    rules.PARTIAL: "partial",
    rules.NOT_SATISFIED: "planned",
}
#: The KB's shared-responsibility party of a control -> the roles responsible for it.
_RESPONSIBLE: dict[str, tuple[str, ...]] = {
    "provider": ("provider",),
    "shared": ("provider", "customer"),
    "customer": ("customer",),
}
_RESPONSIBLE_ROLES = {"provider": "Cloud platform provider", "customer": "Customer (the system owner)"}


def component_definition(kb: KB, a: Assessment) -> dict[str, Any]:
    """One component per FaaS platform; implemented requirements are our mitigations per control, with
    each mitigation's guidance for that platform."""
    mits: list[Mitigation] = sorted(
        (n.record for n in kb.of_kind(NodeKind.MITIGATION) if isinstance(n.record, Mitigation)), key=lambda m: m.id
    )
    per_control: dict[str, list[Mitigation]] = {}
    for m in mits:
        for link in m.controls:
            if link.to in kb.nodes:
                per_control.setdefault(link.to, []).append(m)
    # the parameter values the tailored baseline (assess --profile) sets, per control
    params: dict[str, list[ParameterSetting]] = {}
    for ps in a.profile.parameters if a.profile is not None else []:
        if ps.control is not None:
            params.setdefault(ps.control, []).append(ps)
    components = []
    for key, title in PLATFORMS.items():
        reqs = []
        for cid in sorted(per_control, key=control_sort_key):
            ms = per_control[cid]
            resp = kb.party(cid)
            ctl = a.controls.get(cid)
            state = _IMPLEMENTATION.get(ctl.status) if ctl is not None else None
            reqs.append(
                _clean(
                    {
                        "uuid": uid(f"requirement:{key}:{cid}"),
                        "control-id": oscal_control_id(cid),
                        "description": "\n\n".join(f"{m.title}: {getattr(m.guidance, key)}" for m in ms),
                        # the status the assessment found, under the name trestle's component-generate reads
                        "props": [prop("mitigation", m.id) for m in ms]
                        + ([{"name": "implementation-status", "value": state}] if state else [])
                        + ([prop("responsibility", resp.party)] if resp is not None else []),
                        "set-parameters": [
                            {"param-id": ps.param_id, "values": ps.values} for ps in params.get(cid, []) if ps.values
                        ],
                        "responsible-roles": [{"role-id": r} for r in _RESPONSIBLE.get(resp.party, ())] if resp else [],
                    }
                )
            )
        components.append(
            _clean(
                {
                    "uuid": uid("component:" + key),
                    "type": "service",
                    "title": title,
                    "description": f"{title} functions configured with the sckb serverless mitigations.",
                    "purpose": "Run event-driven functions on a managed FaaS platform.",
                    "control-implementations": [
                        {
                            "uuid": uid(f"control-implementation:{key}"),
                            "source": CATALOG_HREF,
                            "description": f"How the sckb mitigations implement SP 800-53 rev5 controls on {title}.",
                            "implemented-requirements": reqs,
                        }
                    ]
                    if reqs
                    else [],
                }
            )
        )
    meta = _metadata(a, "sckb serverless mitigations per FaaS platform")
    meta["roles"] = [{"id": r, "title": t} for r, t in sorted(_RESPONSIBLE_ROLES.items())]
    return {"component-definition": {"uuid": uid("component-definition:" + a.id), "metadata": meta, "components": components}}


def all_documents(kb: KB, a: Assessment, ctx: Context | None = None) -> dict[str, dict[str, Any]]:
    """file name -> document, in a fixed order. ``ctx``: the system file, its SSP and who assessed (default: none)."""
    ctx = ctx or Context(kb=kb)
    return {
        AP_FILE: assessment_plan(a, ctx),
        AR_FILE: assessment_results(a, ctx=ctx),
        POAM_FILE: poam(a, kb=kb, ctx=ctx),
        CDEF_FILE: component_definition(kb, a),
    }
