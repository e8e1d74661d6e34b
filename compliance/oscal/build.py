"""OSCAL 1.1.3 documents from an assessment: assessment plan, assessment results, POA&M and a
component definition.

Determinism: every UUID is a version-5 UUID of a content key (below); lists are built in a sorted order;
times come from the assessment (its ``now``), never the wall clock. The same assessment and KB give
byte-identical files.

UUID keys (namespace :data:`NAMESPACE`):

- documents: ``<doc kind>:<assessment id>``; the result and each finding also include the assessment id;
- observations: ``observation:<evidence sha256>|<tool>:<rule>`` (stable across assessments);
- risks and POA&M items: ``risk:<tool>:<rule>`` / ``poam-item:<tool>:<rule>``;
- subjects: ``subject:<function, resource or file>``; evidence resources: ``evidence:<sha256>``;
- component definition: ``component:<platform>``, ``requirement:<platform>:<control>``.

Mapping of sckb statuses onto an OSCAL finding's ``target.status.state`` (which only knows satisfied and
not-satisfied): satisfied and inherited -> ``satisfied``; not-satisfied and partially-satisfied ->
``not-satisfied``. The sckb status itself is kept in a ``props`` entry (namespace :data:`NS`, name
``assessment-status``). Controls that are not-assessed get no finding: they are listed in
``reviewed-controls`` only, since OSCAL has no determination for "not assessed".

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
from typing import Any

from compliance.assess.model import Assessment, ControlResult, Determination, EvidenceFileRef, Observation, PoamItem
from compliance.kb import status as rules
from compliance.kb.core import oscal_id
from compliance.kb.load import KB
from compliance.kb.model import Mitigation, NodeKind
from compliance.kb.query import control_sort_key

OSCAL_VERSION = "1.1.3"
#: Namespace for every sckb UUIDv5.
NAMESPACE = uuid.UUID("5c1e0b7a-8f0e-5a3b-9c4d-2e6f7a8b9c0d")
#: Namespace of sckb's own ``props``.
NS = "https://ns.sckb.example/oscal"
#: The catalog the control ids refer to (SP 800-53 rev5, NIST OSCAL content).
CATALOG_HREF = (
    "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_catalog.json"
)
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


def _metadata(a: Assessment, title: str) -> dict[str, Any]:
    return {
        "title": title,
        "last-modified": a.now,
        "version": a.id,
        "oscal-version": OSCAL_VERSION,
        "props": [prop("assessment-id", a.id), prop("scope", " ".join(a.scopes)), *_profile_props(a)],
    }


def _profile_props(a: Assessment) -> list[dict[str, str]]:
    """The tailored baseline the scope came from (``assess --profile``): its title, file name and content hash."""
    if a.profile is None:
        return []
    p = a.profile
    return [prop("profile-title", p.title), prop("profile-file", p.file), prop("profile-sha256", p.sha256)]


def _reviewed_controls(a: Assessment) -> dict[str, Any]:
    ids = [{"control-id": oscal_control_id(c)} for c in a.controls]
    text = "Controls in the assessed scopes: " + ", ".join(a.scopes) + "."
    if a.profile is not None:
        text += f" The tailored baseline {a.profile.title!r} ({a.profile.file}) selects {a.profile.controls} of them."
    sel: dict[str, Any] = {"description": text}
    sel["include-controls" if ids else "include-all"] = ids if ids else {}
    return {"control-selections": [sel]}


def _subjects(a: Assessment) -> list[str]:
    return sorted({s for o in a.observations for s in o.subjects})


def _obs_uuid(o: Observation) -> str:
    return uid("observation:" + o.key)


def _risk_uuid(rule: str) -> str:
    return uid("risk:" + rule)


def _evidence_uuid(sha: str) -> str:
    return uid("evidence:" + sha)


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    """Drop empty lists and dicts (OSCAL arrays have minItems 1)."""
    return {k: v for k, v in d.items() if v not in ([], {}, None, "")}


# --------------------------------------------------------------------------- assessment plan


def assessment_plan(a: Assessment) -> dict[str, Any]:
    subjects = _subjects(a)
    system_uuid = uid("system:" + a.id)
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
                "associated-activities": [
                    {"activity-uuid": act_uuid, "subjects": [{"type": "inventory-item", "include-all": {}}]}
                ],
            }
        )
    local: dict[str, Any] = {
        "inventory-items": [_inventory_item(s) for s in subjects],
        "activities": activities,
    }
    plan: dict[str, Any] = {
        "uuid": uid("assessment-plan:" + a.id),
        "metadata": _metadata(a, f"sckb assessment plan ({', '.join(a.scopes)})"),
        "import-ssp": {
            "href": f"#{system_uuid}",
            "remarks": "sckb has no system security plan; the system is described by the evidence workspace (see back-matter).",
        },
        "local-definitions": _clean(local),
        "reviewed-controls": _reviewed_controls(a),
        "assessment-subjects": [
            _clean(
                {
                    "type": "inventory-item",
                    "description": "Functions and resources seen in the evidence.",
                    "include-subjects": [{"subject-uuid": uid("subject:" + s), "type": "inventory-item"} for s in subjects],
                    "include-all": None if subjects else {},
                }
            )
        ],
        "tasks": tasks,
        "back-matter": {
            "resources": [
                {
                    "uuid": system_uuid,
                    "title": "Assessed serverless system",
                    "description": "The functions and resources of the sckb evidence workspace; "
                    f"evidence window {a.window_start} to {a.now}.",
                }
            ]
        },
    }
    if a.files:
        plan["back-matter"]["resources"] += [_evidence_resource(f) for f in a.files]
    return {"assessment-plan": _clean(plan)}


def _inventory_item(subject: str) -> dict[str, Any]:
    return {
        "uuid": uid("subject:" + subject),
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
            prop("tool", f.tool),
            prop("format", f.format),
            prop("scan-time", f.scan_time),
            prop("stale", str(not f.fresh).lower()),
        ],
        "rlinks": [{"href": evidence_href(f.sha256, f.name), "hashes": [{"algorithm": "SHA-256", "value": f.sha256}]}],
    }


def evidence_href(sha: str, name: str) -> str:
    """Where ``sckb export oscal`` copies a raw evidence file, relative to the output folder."""
    return f"evidence/{sha}"


# --------------------------------------------------------------------------- assessment results


class _Uids:
    """UUIDs computed once per build (observations, subjects and evidence recur across sections)."""

    def __init__(self, a: Assessment) -> None:
        self.obs = {o.key: _obs_uuid(o) for o in a.observations}
        self._subjects: dict[str, str] = {}
        self._evidence: dict[str, str] = {}

    def subject(self, s: str) -> str:
        u = self._subjects.get(s)
        if u is None:
            u = self._subjects[s] = uid("subject:" + s)
        return u

    def evidence(self, sha: str) -> str:
        u = self._evidence.get(sha)
        if u is None:
            u = self._evidence[sha] = _evidence_uuid(sha)
        return u


def _observation(o: Observation, ids: _Uids) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "uuid": ids.obs[o.key],
        "title": f"{o.rule} in evidence {o.file_sha256[:12]}",
        "description": f"{o.tool} rule {o.rule}: {o.failed} failing, {o.passed} passing, {o.errors} errors, {o.other} other.",
        "methods": o.methods or ["TEST"],
        "types": ["finding"],
        "collected": o.collected,
        "relevant-evidence": [
            {"href": f"#{ids.evidence(o.file_sha256)}", "description": f"{o.tool} output, SHA-256 {o.file_sha256}"}
        ],
    }
    if o.subjects:
        doc["subjects"] = [{"subject-uuid": ids.subject(s), "type": "inventory-item"} for s in o.subjects]
    return doc


def _risks(a: Assessment, ids: _Uids) -> list[dict[str, Any]]:
    obs_uuid = ids.obs
    out = []
    for p in a.poam:
        related = [{"observation-uuid": obs_uuid[k]} for k in p.observations if k in obs_uuid]
        out.append(
            _clean(
                {
                    "uuid": _risk_uuid(p.rule),
                    "title": p.title,
                    "description": f"{len(p.findings)} open failing finding(s) of {p.rule} on {len(p.subjects)} subject(s).",
                    "statement": "Mitigations "
                    + ", ".join(p.mitigations or ["(none)"])
                    + " are not in place for: "
                    + ", ".join(p.subjects[:20])
                    + (" ..." if len(p.subjects) > 20 else "")
                    + f". Controls affected: {', '.join(p.controls) or '(none)'}.",
                    "props": [prop("severity", p.severity), prop("first-seen", p.first_seen)],
                    "status": "open",
                    "deadline": p.due,
                    "related-observations": related,
                }
            )
        )
    return out


# ---- assessors' determinations (issue 21)


def _party_uuid(name: str) -> str:
    return uid("party:" + name)


def _origin(d: Determination) -> dict[str, Any]:
    """The assessor who made a determination, as an OSCAL origin (a party acting in a role)."""
    return {"actors": [{"type": "party", "actor-uuid": _party_uuid(d.by), "role-id": d.role}]}


def _determination_observation_uuid(cid: str, d: Determination) -> str:
    return uid(f"determination:{cid}|{d.date}|{d.by}")


def _determination_observation(ctl: ControlResult, d: Determination, now: str) -> dict[str, Any]:
    return {
        "uuid": _determination_observation_uuid(ctl.id, d),
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


def _assessors(a: Assessment) -> dict[str, Any]:
    """Metadata roles and parties of the assessors whose determinations the results carry (empty when none)."""
    determined = _determined(a)
    if not determined:
        return {}
    roles = sorted({d.role for _, d in determined})
    people = sorted({d.by for _, d in determined})
    return {
        "roles": [{"id": r, "title": r.replace("-", " ").capitalize()} for r in roles],
        "parties": [{"uuid": _party_uuid(p), "type": "person", "name": p} for p in people],
    }


def assessment_results(a: Assessment, *, ap_href: str = AP_FILE) -> dict[str, Any]:
    ids = _Uids(a)
    observations = [_observation(o, ids) for o in a.observations]
    observations += [_determination_observation(c, d, a.now) for c, d in _determined(a)]
    risks = _risks(a, ids)
    # index: mitigation / control -> observation uuids; rule -> risk uuid
    obs_by_mit: dict[str, list[str]] = {}
    obs_by_ctrl: dict[str, list[str]] = {}
    for o in a.observations:
        u = ids.obs[o.key]
        for m in o.mitigations:
            obs_by_mit.setdefault(m, []).append(u)
        for c in o.controls:
            obs_by_ctrl.setdefault(c, []).append(u)
    risk_rules = {p.rule for p in a.poam}
    findings = []
    for ctl in a.controls.values():
        state = _STATE.get(ctl.status)
        if state is None:
            continue
        obs = set(obs_by_ctrl.get(ctl.id, ()))
        risk_ids: set[str] = set()
        for ln in ctl.mitigations:
            # the observations of related links are relevant too (listed, marked below); only determinative
            # paths bring their risks, as only they decide (status rule 2)
            obs.update(obs_by_mit.get(ln.id, ()))
            if not ln.determinative:
                continue
            mres = a.mitigations.get(ln.id)
            for r in mres.rules if mres else []:
                if r.determinative and r.outcome == "fail" and r.rule in risk_rules:
                    risk_ids.add(_risk_uuid(r.rule))
        for r in ctl.direct:
            if r.outcome == "fail" and r.rule in risk_rules:
                risk_ids.add(_risk_uuid(r.rule))
        d = ctl.determination
        if d is not None:
            obs.add(_determination_observation_uuid(ctl.id, d))
        target: dict[str, Any] = {
            "type": "statement-id",
            "target-id": oscal_control_id(ctl.id) + "_smt",
            "title": f"{ctl.id} {ctl.title}",
            "props": [prop("assessment-status", ctl.status)]
            + ([prop("derived-status", ctl.derived_status or rules.NOT_ASSESSED)] if d is not None else []),
            "status": {"state": state}
            if ctl.status == rules.SATISFIED or ctl.status == rules.NOT_SATISFIED
            else {
                "state": state,
                "reason": "other",
                "remarks": ctl.status,
            },
        }
        findings.append(
            _clean(
                {
                    "uuid": uid(f"finding:{a.id}:{ctl.id}"),
                    "title": f"{ctl.id}: {ctl.status}" + (f" (determined by {d.by})" if d is not None else ""),
                    "description": ctl.reason
                    if d is None
                    else f"Determined {d.status} by {d.by} ({d.role}) on {d.date}: {d.rationale.rstrip('.')}. "
                    f"The evidence alone gives {ctl.derived_status or rules.NOT_ASSESSED} ({ctl.reason}).",
                    "props": ([prop("responsibility", ctl.party)] if ctl.party else [])
                    + [prop("statement-parts-covered", f"{len(ctl.covered)}/{len(ctl.parts)}")]
                    + [prop("related-evidence", f"{r.via} {r.id} ({r.relationship or r.via}): {r.status}") for r in ctl.related]
                    + [prop("needs-review", why) for why in ctl.review],
                    "origins": [_origin(d)] if d is not None else [],
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
            "start": a.window_start,
            "end": a.now,
            "props": [prop("assessment-id", a.id), prop("max-age-days", a.max_age_days)],
            "reviewed-controls": _reviewed_controls(a),
            "observations": observations,
            "risks": risks,
            "findings": findings,
        }
    )
    doc: dict[str, Any] = {
        "uuid": uid("assessment-results:" + a.id),
        "metadata": {**_metadata(a, f"sckb assessment results ({', '.join(a.scopes)})"), **_assessors(a)},
        "import-ap": {"href": ap_href},
        "results": [result],
    }
    if a.files:
        doc["back-matter"] = {"resources": [_evidence_resource(f) for f in a.files]}
    return {"assessment-results": doc}


# --------------------------------------------------------------------------- POA&M


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


def poam(a: Assessment, *, ar_href: str = AR_FILE) -> dict[str, Any]:
    by_key = {o.key: o for o in a.observations}
    used_obs = sorted({k for p in a.poam for k in p.observations if k in by_key})
    ids = _Uids(a)
    risks = _risks(a, ids)
    items = []
    for p in a.poam:
        risk_uuid = _risk_uuid(p.rule)
        items.append(
            _clean(
                {
                    "uuid": uid("poam-item:" + p.rule),
                    "title": p.title,
                    "description": f"Remediate {len(p.findings)} open failing finding(s) of {p.rule} "
                    f"(severity {p.severity}): due {p.due[:10]}, "
                    + (
                        f"{p.window_days} days after first seen {p.first_seen[:10]}"
                        if not p.due_basis
                        else f"first seen {p.first_seen[:10]}, by {p.due_basis}"
                    )
                    + (" — OVERDUE." if p.overdue else "."),
                    "props": [
                        prop("severity", p.severity),
                        prop("first-seen", p.first_seen),
                        prop("due-date", p.due),
                        prop("remediation-window-days", p.window_days),
                        prop("overdue", "true" if p.overdue else "false"),
                        *_due_props(a, p),
                    ],
                    "links": [{"href": f"{ar_href}#{risk_uuid}", "rel": "related", "text": "risk in the assessment results"}],
                    "related-observations": [{"observation-uuid": ids.obs[k]} for k in p.observations if k in by_key],
                    "related-risks": [{"risk-uuid": risk_uuid}],
                }
            )
        )
    files = {o.file_sha256 for k in used_obs for o in [by_key[k]]}
    resources = [_evidence_resource(f) for f in a.files if f.sha256 in files]
    resources.append(
        {
            "uuid": uid("assessment-results-ref:" + a.id),
            "title": "Assessment results",
            "description": "The assessment results whose observations and risks these items track.",
            "rlinks": [{"href": ar_href}],
        }
    )
    doc = _clean(
        {
            "uuid": uid("poam:" + a.id),
            "metadata": _metadata(a, f"sckb plan of action and milestones ({', '.join(a.scopes)})"),
            "observations": [_observation(by_key[k], ids) for k in used_obs],
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
    components = []
    for key, title in PLATFORMS.items():
        reqs = []
        for cid in sorted(per_control, key=control_sort_key):
            ms = per_control[cid]
            reqs.append(
                {
                    "uuid": uid(f"requirement:{key}:{cid}"),
                    "control-id": oscal_control_id(cid),
                    "description": "\n\n".join(f"{m.title}: {getattr(m.guidance, key)}" for m in ms),
                    "props": [prop("mitigation", m.id) for m in ms],
                }
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
    return {"component-definition": {"uuid": uid("component-definition:" + a.id), "metadata": meta, "components": components}}


def all_documents(kb: KB, a: Assessment) -> dict[str, dict[str, Any]]:
    """file name -> document, in a fixed order."""
    return {
        AP_FILE: assessment_plan(a),
        AR_FILE: assessment_results(a),
        POAM_FILE: poam(a),
        CDEF_FILE: component_definition(kb, a),
    }
