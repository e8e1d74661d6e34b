"""OSCAL 1.1.3 system security plan (``sckb export ssp``) from a design, the KB, a system file and, optionally, an
assessment.

Where each part comes from:

- ``import-profile``: the official OSCAL profile of the scope's baseline (the KB's ``baselines`` record, field
  ``profile``); a scope with no official profile (a framework view, ``serverless``) cannot be an SSP's baseline;
- system characteristics: the system file's ``ssp`` block (sensitivity, SP 800-60 information types, status,
  contacts), the FIPS 199 security impact level as the high-water mark of the information types' impacts, and an
  authorization-boundary and data-flow description written from the design's architecture graph, with one
  diagram (mermaid text, a back-matter resource) that both refer to;
- system implementation: one ``this-system`` component, one component per FaaS platform of the design (a
  leveraged system when the system file names its authorization, which sckb never guesses), and one per
  function, data store (tables, buckets, secrets; queues, topics and streams), and API; users from the system
  file and the design's execution roles (their privileges are the data-store access the design grants);
- control implementation: one implemented requirement per control in scope (rules below).

Per control (the KB's shared responsibility, ``kb.party``): ``provider`` -> a by-component of the platform with
an ``inherited`` entry (the provider statement the KB cites); ``shared`` -> the platform's by-component carries
``inherited`` (the provider's part) and ``satisfied`` (how this system meets the part left to it); ``customer`` and
``shared`` -> a ``this-system`` by-component written from the mitigations that decide the control (``subset-of`` /
``equal`` links) with each one's guidance for the design's platform, plus one by-component per design element the
design check judged for those mitigations.

Implementation status of the control (in this order): a baseline tailoring that exempts it (``NSO``, ``FED`` in
FedRAMP LI-SaaS) -> ``not-applicable``; ``provider`` -> ``implemented`` (inherited); the assessment's status when it
has one other than not-assessed (satisfied -> ``implemented``, or ``alternative`` when an assessor's determination
made it satisfied where the evidence gave not-satisfied or partially-satisfied; partially-satisfied -> ``partial``;
not-satisfied -> ``planned``; inherited -> ``implemented``); a control only EXAMINE/INTERVIEW evidence can show ->
no status (a person states it); else the design check (met -> ``implemented``; unmet -> ``partial`` when a deciding
mitigation is present, else ``planned``; unknown -> no status). An element's status: every verdict present ->
``implemented``; an absent one -> ``partial`` if another is present, else ``planned``; otherwise no status.

Placeholders: where only a person can write the statement (policies, procedures, plans, training, agreements: the
KB's ``assurance`` section), where no sckb mitigation implements a control the customer owns, where the platform's
authorization or the users are not stated, the statement is a marked placeholder (prop ``placeholder``, text
starting with :data:`PLACEHOLDER`) and is listed in :attr:`SspResult.placeholders`, never invented.

Evidence: with an assessment, each ``this-system`` by-component links to the assessment results' observations
for that control, by the same UUIDs ``sckb export oscal`` writes (:func:`compliance.oscal.build.control_observations`).

UUID keys (namespace :data:`compliance.oscal.build.NAMESPACE`) start with ``ssp:<system>:``; same inputs and
``--now`` give byte-identical files.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.assess.model import Assessment
from compliance.design.check import MET, UNMET
from compliance.design.model import Element
from compliance.design.predicates import ABSENT, PRESENT, UNKNOWN
from compliance.design.result import DesignResult, Verdict
from compliance.errors import InputError, NotFoundError
from compliance.evidence.system import Impact, SspInfo, System
from compliance.kb import status as rules
from compliance.kb.core import oscal_id
from compliance.kb.load import KB
from compliance.kb.model import Baseline, Mitigation, NodeKind
from compliance.kb.scope import KBIndex, Scope
from compliance.oscal.build import AR_FILE, NS, OSCAL_VERSION, PLATFORMS, control_observations, prop, uid

#: The start of every placeholder statement (a person writes the rest).
PLACEHOLDER = "[PLACEHOLDER: to be written by the system owner]"
#: SP 800-60 Vol. 2 Rev. 1, the identification system of information types (the value the schema lists).
SP800_60 = "http://doi.org/10.6028/NIST.SP.800-60v2r1"
#: Implementation states of OSCAL's ``implementation-status`` (and "not stated" for a control without one).
STATES = ("implemented", "partial", "planned", "alternative", "not-applicable")
NOT_STATED = "not-stated"
#: Baseline tailoring values that exempt a control from the system (FedRAMP LI-SaaS: not a security objective of
#: the offering; a federal agency's responsibility).
EXEMPT_TAILORING = {
    "NSO": "not a security objective under the baseline's tailoring",
    "FED": "the federal agency's responsibility under the baseline's tailoring",
}
#: Methods people provide evidence with: a control only these can show needs a person's statement.
PEOPLE = frozenset({"EXAMINE", "INTERVIEW"})
#: The system's status as a component's (component status has no ``under-major-modification``).
_COMPONENT_STATE = {"under-major-modification": "operational"}
#: FIPS 199 levels in order (the high-water mark).
_LEVELS: tuple[Impact, ...] = ("low", "moderate", "high")
#: How a design element shows in the SSP: (component type, title word) by element kind or store type.
_STORE_TITLES = {"table": "Table", "bucket": "Bucket", "secret": "Secret", "queue": "Queue", "topic": "Topic", "stream": "Stream"}
#: Role id of the users the design's execution roles are.
EXECUTION_ROLE = "function-execution-role"


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A statement only a person can write, as the ``--markdown`` checklist lists it."""

    control: str  # a control id, or "system" for a system-level gap
    title: str
    party: str
    reason: str
    write: str


@dataclass
class SspResult:
    document: dict[str, Any]
    placeholders: list[Placeholder] = field(default_factory=list)
    #: control id -> (implementation state or :data:`NOT_STATED`, responsibility party)
    controls: dict[str, tuple[str, str]] = field(default_factory=dict)

    def counts(self) -> dict[str, dict[str, int]]:
        """Controls by implementation status and by responsibility."""
        by_status = Counter(s for s, _ in self.controls.values())
        by_party = Counter(p for _, p in self.controls.values())
        return {
            "status": {s: by_status.get(s, 0) for s in (*STATES, NOT_STATED)},
            "responsibility": {p: by_party.get(p, 0) for p in ("provider", "shared", "customer", "unknown")},
        }


@dataclass(frozen=True, slots=True)
class ImportedProfile:
    """The profile an SSP imports: where it is, what to call it, and its per-control tailoring values."""

    href: str
    title: str
    tailoring: dict[str, list[str]] = field(default_factory=dict)


def baseline_profile(kb: KB, scope: Scope) -> ImportedProfile:
    """The official OSCAL profile of the scope's one baseline that has one (an SSP imports exactly one profile)."""
    found: list[ImportedProfile] = []
    for name in scope.names:
        entry = kb.nodes.get(name)
        rec = entry.record if entry is not None else None
        if isinstance(rec, Baseline) and rec.profile:
            found.append(ImportedProfile(rec.profile, rec.title, dict(rec.tailoring)))
    if len(found) != 1:
        usable = sorted(
            n.id for n in kb.of_kind(NodeKind.BASELINE) if isinstance(n.record, Baseline) and n.record.profile is not None
        )
        what = "no scope with an official OSCAL profile" if not found else "more than one baseline"
        raise NotFoundError(f"a system security plan imports one baseline profile, got {what}: use one of " + ", ".join(usable))
    return found[0]


def ssp_info(system: System, source: str) -> SspInfo:
    """The system file's ``ssp`` block and description (one-line :class:`InputError` naming what to write)."""
    if system.ssp is None:
        raise InputError(
            "ssp: missing: add an 'ssp:' block with sensitivity (low|moderate|high) and information_types "
            "(title, id, confidentiality, integrity, availability); 'sckb system schema' lists every field "
            "(a stored system takes the change with 'sckb system add --replace')",
            path=source,
        )
    if not system.description.strip():
        raise InputError("description: missing: describe the system in a sentence (an SSP states it)", path=source)
    return system.ssp


# ------------------------------------------------------------------ the design as components


def _component_title(el: Element, api: str | None = None) -> str:
    if api is not None:
        return f"API {api}"
    if el.kind == "function":
        return f"Function {el.name}"
    return f"{_STORE_TITLES.get(str(el.props.get('type')), 'Data store')} {el.name}"


def _where(el: Element) -> str:
    return f"{el.file}:{el.line}" if el.line else el.file


class _Components:
    """The design's elements as SSP components: functions, data stores, APIs (routes grouped by their API)."""

    def __init__(self, res: DesignResult, key: str, state: str) -> None:
        d = res.design
        self.key = key
        self.state = state
        #: element id -> component uuid (routes map to their API's; roles to no component)
        self.of_element: dict[str, str] = {}
        self.docs: list[dict[str, Any]] = []
        self.labels: dict[str, str] = {}  # component uuid -> title
        apis: dict[str, list[Element]] = {}
        for el in sorted(d.elements.values(), key=lambda e: e.id):
            if el.kind == "route":
                apis.setdefault(str(el.props.get("api") or el.name), []).append(el)
            elif el.kind in ("function", "datastore"):
                u = uid(f"{key}:component:{el.id}")
                self.of_element[el.id] = u
                self._add(u, el, _component_title(el), _element_description(el))
        for api, routes in sorted(apis.items()):
            u = uid(f"{key}:component:api:{api}")
            for r in routes:
                self.of_element[r.id] = u
            first = routes[0]
            paths = sorted({f"{r.props.get('method', '')} {r.props.get('path')}".strip() for r in routes})
            desc = (
                f"API {api} ({first.provider}, {first.props.get('api_kind', 'http')}), defined in {_where(first)}: "
                f"{len(routes)} route(s): " + ", ".join(paths[:20]) + (" ..." if len(paths) > 20 else "") + "."
            )
            self._add(u, first, _component_title(first, api), desc, kind="api")
        # a role's verdicts belong to the functions that assume it
        self.role_functions: dict[str, list[str]] = {}
        for src, dst, kind, _ in d.links:
            if kind == "assumes" and src in self.of_element:
                self.role_functions.setdefault(dst, []).append(self.of_element[src])

    def _add(self, u: str, el: Element, title: str, desc: str, *, kind: str | None = None) -> None:
        self.labels[u] = title
        self.docs.append(
            {
                "uuid": u,
                "type": "software" if el.kind == "function" else "service",
                "title": title,
                "description": desc,
                "props": [prop("element-kind", kind or el.kind), prop("provider", el.provider), prop("source-file", el.file)],
                "status": {"state": self.state},
            }
        )

    def for_verdict(self, v: Verdict) -> list[str]:
        if v.kind == "role":
            return self.role_functions.get(v.subject, [])
        u = self.of_element.get(v.subject)
        return [u] if u else []


def _element_description(el: Element) -> str:
    if el.kind == "function":
        runtime = el.props.get("runtime")
        trig = el.props.get("triggers") or []
        return (
            f"Function {el.name} on {PLATFORMS.get(el.provider, el.provider)}, defined in {_where(el)}"
            + (f"; runtime {runtime}" if isinstance(runtime, str) else "")
            + (f"; triggered by {', '.join(map(str, trig))}" if trig else "")
            + ("; reachable from outside the system" if el.props.get("public") else "")
            + "."
        )
    t = str(el.props.get("type", "data store"))
    cls = el.props.get("classification") or {}
    flags = sorted(k for k, v in cls.items() if v is True) if isinstance(cls, dict) else []
    return f"{t.capitalize()} {el.name} ({el.provider}), defined in {_where(el)}" + (
        f"; holds data classified {', '.join(flags)}." if flags else "."
    )


# ------------------------------------------------------------------ boundary, data flow and the diagram

_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9 ,.()/_+:-]+")


def _label(text: str) -> str:
    return _MERMAID_UNSAFE.sub(" ", text).strip()[:60] or "-"


@dataclass
class _Flows:
    lines: list[str]
    edges: list[tuple[str, str, str]]  # (from component uuid or "outside", to component uuid, label)


def _flows(res: DesignResult, comps: _Components) -> _Flows:
    d = res.design
    el = d.elements
    out: set[tuple[str, str, str]] = set()
    emits = {dst: src for src, dst, kind, _ in d.links if kind == "emits"}
    for src, dst, kind, attrs in d.links:
        if src not in el or dst not in el:
            continue
        if kind == "invokes" and dst in comps.of_element:
            route = el[src]
            caller = "outside" if route.props.get("public") else comps.of_element.get(src, "outside")
            if caller == "outside":
                out.add(("outside", comps.of_element[src], "requests"))
            out.add((comps.of_element[src], comps.of_element[dst], str(route.props.get("method") or "invoke")))
        elif kind == "triggers" and dst in comps.of_element:
            store = emits.get(src)
            origin = comps.of_element.get(store, "outside") if store else "outside"
            out.add((origin, comps.of_element[dst], str(el[src].props.get("type") or "event")))
        elif kind == "can-access" and dst in comps.of_element:
            for fn in comps.role_functions.get(src, []):
                out.add((fn, comps.of_element[dst], str(attrs.get("level", "access"))))
    edges = sorted(out)
    name = {**comps.labels, "outside": "Outside the boundary"}
    lines = [f"{name[a]} -> {name[b]} ({how})" for a, b, how in edges]
    return _Flows(lines, edges)


def _mermaid(system: str, comps: _Components, flows: _Flows, platforms: list[str]) -> str:
    ids = {u: f"c{i}" for i, u in enumerate(sorted(comps.labels, key=lambda u: comps.labels[u]))}
    out = ["flowchart LR", f'  subgraph boundary["Authorization boundary: {_label(system)}"]']
    out += [f'    {ids[u]}["{_label(comps.labels[u])}"]' for u in sorted(comps.labels, key=lambda u: comps.labels[u])]
    out.append("  end")
    out += [f'  p{i}["{_label(p)} (leveraged platform)"]' for i, p in enumerate(platforms)]
    if any(a == "outside" for a, _, _ in flows.edges):
        out.append('  outside(["Outside the boundary"])')
    for a, b, how in flows.edges:
        out.append(f"  {ids.get(a, 'outside')} -->|{_label(how)}| {ids[b]}")
    out += [f"  boundary -.->|runs on| p{i}" for i in range(len(platforms))]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ statuses


def _element_state(statuses: Iterable[str]) -> str | None:
    s = set(statuses)
    if s and s <= {PRESENT}:
        return "implemented"
    if ABSENT in s:
        return "partial" if PRESENT in s else "planned"
    return None


#: How a deciding mitigation's design status reads in a statement (before its guidance for the platform).
_SEEN = {
    PRESENT: "in place: the design shows it",
    ABSENT: "planned: the design lacks it",
    UNKNOWN: "the design leaves it open; intended",
}

#: Derived statuses an assessor's "satisfied" overrules: the evidence had an outcome and it was not enough.
_AGAINST = frozenset({rules.NOT_SATISFIED, rules.PARTIAL})

_ASSESSED = {
    rules.SATISFIED: "implemented",
    rules.PARTIAL: "partial",
    rules.NOT_SATISFIED: "planned",
    rules.INHERITED: "implemented",
}


# ------------------------------------------------------------------ the document


def build_ssp(
    kb: KB,
    res: DesignResult,
    scope: Scope,
    system: System,
    *,
    source: str,
    now: str,
    assessment: Assessment | None = None,
    ar_href: str = AR_FILE,
    profile: ImportedProfile | None = None,
) -> SspResult:
    """The SSP of ``system`` for the controls of ``scope`` (see the module docstring for every rule). ``ar_href``
    is where the assessment results written by ``sckb export oscal`` are, relative to the plan. ``profile``: the
    profile to import when it is not the official one of the scope's baseline (:func:`baseline_profile`)."""
    info = ssp_info(system, source)
    baseline = profile or baseline_profile(kb, scope)
    key = f"ssp:{system.name}"
    status_state = info.status
    comp_state = _COMPONENT_STATE.get(status_state, status_state)
    comps = _Components(res, key, comp_state)
    providers = sorted({e.provider for e in res.design.elements.values() if e.provider in PLATFORMS}) or ["aws"]
    result = SspResult(document={})
    placeholders = result.placeholders

    # parties and roles (contacts, leveraged authorizations' holders)
    parties: dict[str, dict[str, Any]] = {}
    roles: dict[str, str] = {}
    responsible: dict[str, list[str]] = {}
    for c in info.contacts:
        pu = uid(f"{key}:party:{c.name}")
        parties.setdefault(
            pu, _clean({"uuid": pu, "type": "person", "name": c.name, "email-addresses": [c.email] if c.email else []})
        )
        roles[c.role] = c.role.replace("-", " ").capitalize()
        responsible.setdefault(c.role, []).append(pu)
    leveraged: dict[str, dict[str, Any]] = {}
    lev_docs = []
    for la in info.leveraged_authorizations:
        pu = uid(f"{key}:party:{la.party}")
        parties.setdefault(pu, {"uuid": pu, "type": "organization", "name": la.party})
        lu = uid(f"{key}:leveraged-authorization:{la.provider}:{la.title}")
        doc = {
            "uuid": lu,
            "title": la.title,
            "party-uuid": pu,
            "date-authorized": la.date_authorized.isoformat(),
            "props": [prop("provider", la.provider)],
        }
        if la.link:
            doc["links"] = [{"href": la.link, "rel": "reference"}]
        lev_docs.append(doc)
        leveraged.setdefault(la.provider, doc)

    # platform components
    platform_uuid: dict[str, str] = {}
    platform_docs = []
    for p in providers:
        u = uid(f"{key}:component:platform:{p}")
        platform_uuid[p] = u
        lev = leveraged.get(p)
        desc = (
            f"{PLATFORMS[p]}, the managed FaaS platform the functions run on, with the provider's data centres, hosts "
            "and runtime."
        )
        props = [prop("implementation-point", "external", ns=False)]
        if lev is not None:
            props.append(prop("leveraged-authorization-uuid", lev["uuid"], ns=False))
            desc += f" Leveraged authorization: {lev['title']} (held by {parties[lev['party-uuid']]['name']})."
        else:
            desc += f" {PLACEHOLDER} name the platform's authorization the system leverages."
            props.append(prop("placeholder", "true"))
            placeholders.append(
                Placeholder(
                    "system",
                    f"Leveraged authorization of {PLATFORMS[p]}",
                    "customer",
                    "the controls the provider implements are inherited from its authorization, which only you can name",
                    "add to the system file: ssp.leveraged_authorizations: "
                    f"- {{provider: {p}, title: ..., party: ..., date_authorized: YYYY-MM-DD}}",
                )
            )
        platform_docs.append(
            {
                "uuid": u,
                "type": "system" if lev is not None else "service",
                "title": PLATFORMS[p],
                "description": desc,
                "props": props,
                "status": {"state": comp_state},
            }
        )
    this_uuid = uid(f"{key}:component:this-system")

    # users: the system file's, then the design's execution roles
    users = []
    for ut in info.users:
        roles.setdefault(ut.role, ut.role.replace("-", " ").capitalize())
        users.append(
            _clean(
                {
                    "uuid": uid(f"{key}:user:{ut.title}"),
                    "title": ut.title,
                    "description": ut.description,
                    "role-ids": [ut.role],
                    "authorized-privileges": [{"title": p, "functions-performed": [p]} for p in ut.privileges],
                }
            )
        )
    access: dict[str, list[tuple[str, str, list[str]]]] = {}
    for src, dst, kind, attrs in res.design.links:
        if kind == "can-access" and dst in res.design.elements:
            access.setdefault(src, []).append(
                (str(attrs.get("level", "access")), res.design.elements[dst].name, list(attrs.get("actions", [])))
            )
    for role in sorted(res.design.of_kind("role"), key=lambda e: e.id):
        roles.setdefault(EXECUTION_ROLE, "Function execution role")
        fns = sorted(comps.labels[u] for u in set(comps.role_functions.get(role.id, [])))
        users.append(
            _clean(
                {
                    "uuid": uid(f"{key}:user:{role.id}"),
                    "title": f"Execution role {role.name}",
                    "description": "A non-person identity the platform gives "
                    + (", ".join(fns[:10]) + (" ..." if len(fns) > 10 else "") if fns else "no function of the design")
                    + f"; defined in {_where(role)}.",
                    "props": [prop("type", "internal", ns=False), prop("privilege-level", "non-privileged", ns=False)],
                    "role-ids": [EXECUTION_ROLE],
                    "authorized-privileges": [
                        {"title": f"{level} {store}", "functions-performed": acts or [level]}
                        for level, store, acts in sorted(access.get(role.id, []))
                    ],
                }
            )
        )
    if not users:
        users.append(
            {
                "uuid": uid(f"{key}:user:placeholder"),
                "title": "Users of the system",
                "description": f"{PLACEHOLDER} describe who uses the system, in which roles and with which privileges.",
                "props": [prop("placeholder", "true")],
            }
        )
        placeholders.append(
            Placeholder(
                "system",
                "Users of the system",
                "customer",
                "neither the system file nor the design names users",
                "add ssp.users: - {title: ..., role: ..., privileges: [...]}",
            )
        )

    # diagram and descriptions
    flows = _flows(res, comps)
    diagram_res = uid(f"{key}:resource:diagram")
    mermaid = _mermaid(system.name, comps, flows, [PLATFORMS[p] for p in providers])
    n = Counter(str(d["props"][0]["value"]) for d in comps.docs)
    b = system.boundary
    boundary_text = (
        f"The boundary holds {n['function']} function(s), {n['datastore']} data store(s) and {n['api']} API(s) read from "
        f"the design {res.path}, running on {', '.join(PLATFORMS[p] for p in providers)}, whose data centres, hosts and "
        "runtime lie outside it (a leveraged platform)."
        + (f" Providers: {', '.join(b.providers)}." if b.providers else "")
        + (f" Accounts: {', '.join(b.accounts)}." if b.accounts else "")
        + (f" Regions: {', '.join(b.regions)}." if b.regions else "")
        + (f" Code and IaC: {', '.join(b.paths)}." if b.paths else "")
        + (f" Repositories: {', '.join(b.repositories)}." if b.repositories else "")
    )
    flow_text = (
        f"{len(flows.lines)} flow(s) between the components, from the design's triggers, API routes and the data-store "
        "access its execution roles grant:\n\n" + "\n".join(f"- {line}" for line in flows.lines)
        if flows.lines
        else "The design shows no flow between components (no trigger, route or data-store access)."
    )

    def diagram(kind: str, caption: str) -> dict[str, Any]:
        return {
            "uuid": uid(f"{key}:diagram:{kind}"),
            "description": f"{caption}, as mermaid flowchart text (back-matter resource).",
            "links": [{"href": f"#{diagram_res}", "rel": "diagram"}],
            "caption": caption,
        }

    # control implementation
    idx = KBIndex.build(kb)
    mits = {n.id: n.record for n in kb.of_kind(NodeKind.MITIGATION) if isinstance(n.record, Mitigation)}
    verdicts_by_mit: dict[str, list[Verdict]] = {}
    for v in res.verdicts:
        verdicts_by_mit.setdefault(v.mitigation, []).append(v)
    obs = control_observations(assessment) if assessment is not None else {}
    ar_res = uid(f"{key}:resource:assessment-results") if assessment is not None else None
    ctx = _Ctx(
        kb,
        key,
        baseline,
        res,
        idx,
        mits,
        verdicts_by_mit,
        comps,
        assessment,
        obs,
        providers,
        platform_uuid,
        leveraged,
        this_uuid,
        result,
        ar_href,
    )
    requirements = [_requirement(ctx, cid, scopes) for cid, scopes in scope.controls.items()]

    this_system = {
        "uuid": this_uuid,
        "type": "this-system",
        "title": system.name,
        "description": system.description,
        "status": {"state": comp_state},
    }
    resources: list[dict[str, Any]] = [
        {
            "uuid": diagram_res,
            "title": "Authorization boundary and data flow diagram",
            "description": "Mermaid flowchart of the components inside the boundary, the flows between them and the "
            "leveraged platform, generated from the design's architecture graph.",
            "props": [prop("generated-from", res.path)],
            "base64": {
                "filename": "boundary-and-data-flow.mmd",
                # mermaid has no registered media type; this is the one its tooling recognises
                "media-type": "text/vnd.mermaid",
                "value": base64.b64encode(mermaid.encode()).decode(),
            },
        }
    ]
    if assessment is not None and ar_res is not None:
        resources.append(
            {
                "uuid": ar_res,
                "title": f"Assessment results {assessment.id}",
                "description": "The assessment results ('sckb export oscal') whose observations the statements link to.",
                "props": [prop("assessment-id", assessment.id)],
                "rlinks": [{"href": ar_href}],
            }
        )
    si = info
    impacts = {
        o: max((getattr(t, o) for t in si.information_types), key=_LEVELS.index)
        for o in ("confidentiality", "integrity", "availability")
    }
    metadata = _clean(
        {
            "title": f"System security plan: {system.name}",
            "last-modified": now,
            "version": now[:10],
            "oscal-version": OSCAL_VERSION,
            "props": [prop("scope", " ".join(scope.names)), prop("design", res.path), prop("placeholders", len(placeholders))]
            + ([prop("assessment-id", assessment.id)] if assessment is not None else []),
            "roles": [{"id": r, "title": t} for r, t in sorted(roles.items())],
            "parties": [parties[p] for p in sorted(parties)],
            "responsible-parties": [{"role-id": r, "party-uuids": sorted(set(ps))} for r, ps in sorted(responsible.items())],
        }
    )
    ssp: dict[str, Any] = {
        "uuid": uid(f"{key}:document"),
        "metadata": metadata,
        "import-profile": {"href": baseline.href, "remarks": f"{baseline.title}."},
        "system-characteristics": {
            "system-ids": [{"id": si.id}]
            if si.id
            else [{"identifier-type": "https://ietf.org/rfc/rfc4122", "id": uid(f"system:{system.name}")}],
            "system-name": system.name,
            "description": system.description,
            "security-sensitivity-level": f"fips-199-{si.sensitivity}",
            "system-information": {
                "information-types": [
                    {
                        "uuid": uid(f"{key}:information-type:{t.id}:{t.title}"),
                        "title": t.title,
                        "description": t.description or t.title,
                        "categorizations": [{"system": SP800_60, "information-type-ids": [t.id]}],
                        "confidentiality-impact": {"base": f"fips-199-{t.confidentiality}"},
                        "integrity-impact": {"base": f"fips-199-{t.integrity}"},
                        "availability-impact": {"base": f"fips-199-{t.availability}"},
                    }
                    for t in si.information_types
                ]
            },
            "security-impact-level": {f"security-objective-{o}": f"fips-199-{lvl}" for o, lvl in impacts.items()},
            "status": {"state": status_state},
            "authorization-boundary": {"description": boundary_text, "diagrams": [diagram("boundary", "Authorization boundary")]},
            "data-flow": {"description": flow_text, "diagrams": [diagram("data-flow", "Data flow")]},
            "responsible-parties": [{"role-id": r, "party-uuids": sorted(set(ps))} for r, ps in sorted(responsible.items())]
            or None,
        },
        "system-implementation": _clean(
            {
                "leveraged-authorizations": lev_docs,
                "users": users,
                "components": [this_system, *platform_docs, *comps.docs],
            }
        ),
        "control-implementation": {
            "description": f"How {system.name} implements the {baseline.title} controls: statements written from the sckb "
            f"mitigations the design shows (with their guidance for {', '.join(PLATFORMS[p] for p in providers)}), the "
            "platform's share of each control (inherited) and "
            + (f"the status assessment {assessment.id} gives." if assessment is not None else "the design check's status."),
            "implemented-requirements": requirements,
        },
        "back-matter": {"resources": resources},
    }
    ssp["system-characteristics"] = _clean(ssp["system-characteristics"])
    result.document = {"system-security-plan": ssp}
    return result


@dataclass
class _Ctx:
    """What every implemented requirement reads (built once per SSP)."""

    kb: KB
    key: str
    baseline: ImportedProfile
    res: DesignResult
    idx: KBIndex
    mits: dict[str, Mitigation]
    verdicts_by_mit: dict[str, list[Verdict]]
    comps: _Components
    a: Assessment | None
    obs: dict[str, list[str]]
    providers: list[str]
    platform_uuid: dict[str, str]
    leveraged: dict[str, dict[str, Any]]
    this_uuid: str
    result: SspResult
    ar_href: str


def _requirement(ctx: _Ctx, cid: str, scopes: list[str]) -> dict[str, Any]:
    kb, key, baseline, res, idx, mits = ctx.kb, ctx.key, ctx.baseline, ctx.res, ctx.idx, ctx.mits
    verdicts_by_mit, comps, a, obs, providers = ctx.verdicts_by_mit, ctx.comps, ctx.a, ctx.obs, ctx.providers
    platform_uuid, leveraged, this_uuid, result = ctx.platform_uuid, ctx.leveraged, ctx.this_uuid, ctx.result
    entry = kb.nodes.get(cid)
    title = entry.record.title if entry is not None else cid
    resp = kb.party(cid)
    party = resp.party if resp is not None else "unknown"
    methods = kb.methods_required(cid)
    people_only = methods is not None and methods <= PEOPLE
    deciding = sorted({m for m, rel in idx.control_mitigations.get(cid, []) if rules.is_determinative(rel) and m in mits})
    design = res.controls.get(cid)
    ctl = a.controls.get(cid) if a is not None else None
    tailoring = baseline.tailoring.get(cid, [])

    # the control's implementation status (module docstring, in order)
    state: str | None
    remark: str
    if tailoring and all(t in EXEMPT_TAILORING for t in tailoring):
        state, remark = "not-applicable", f"{baseline.title}: " + "; ".join(EXEMPT_TAILORING[t] for t in tailoring) + "."
    elif party == "provider":
        state, remark = "implemented", "Inherited from the platform."
    elif ctl is not None and ctl.status in _ASSESSED:
        state = _ASSESSED[ctl.status]
        remark = f"Assessment {a.id if a else ''}: {ctl.status} ({ctl.reason})."
        if ctl.status == rules.SATISFIED and ctl.determination is not None and ctl.derived_status in _AGAINST:
            state = "alternative"
            remark = (
                f"Determined satisfied by {ctl.determination.by} although the evidence alone gives "
                f"{ctl.derived_status or rules.NOT_ASSESSED}: {ctl.determination.rationale}"
            )
    elif people_only:
        state, remark = None, "Only documents and people can show it (EXAMINE, INTERVIEW): a person states its status."
    elif design is not None and design["status"] == MET:
        state, remark = "implemented", "The design shows every deciding mitigation."
    elif design is not None and design["status"] == UNMET:
        some = any(s == PRESENT for s in design["mitigations"].values())
        state = "partial" if some else "planned"
        remark = "The design lacks: " + ", ".join(m for m, s in design["mitigations"].items() if s == ABSENT) + "."
    else:
        state = None
        remark = (
            "The design leaves it open (a value it does not pin down)."
            if design is not None and design["checkable"]
            else "No mitigation the design can show decides it."
        )
    result.controls[cid] = (state or NOT_STATED, party)

    by_components: list[dict[str, Any]] = []
    rk = f"{key}:{cid}"
    platform = platform_uuid[providers[0]]
    if party in ("provider", "shared") and resp is not None:
        lev = leveraged.get(providers[0])
        source = f" ({resp.basis})" if resp.basis else ""
        inherited = {
            "uuid": uid(f"{rk}:inherited"),
            "description": f"The provider's part: {resp.rationale}{source}",
        }
        pbc: dict[str, Any] = {
            "component-uuid": platform,
            "uuid": uid(f"{rk}:by-component:platform"),
            "description": (
                f"{PLATFORMS[providers[0]]} implements this control for the system; it is inherited"
                if party == "provider"
                else f"{PLATFORMS[providers[0]]} implements the provider's part; the system implements the rest"
            )
            + (
                f" through the leveraged authorization {lev['title']}."
                if lev
                else " (the platform's authorization is not stated yet)."
            ),
            "props": [prop("responsibility", party)],
            "inherited": [inherited],
        }
        if party == "provider":
            pbc["implementation-status"] = {"state": state or "implemented", "remarks": remark}
        else:
            ours = [mits[m].title for m in deciding]
            pbc["satisfied"] = [
                {
                    "uuid": uid(f"{rk}:satisfied"),
                    "description": (
                        "The system meets the part left to it through: " + "; ".join(ours) + " (see the this-system statement)."
                        if ours and not people_only
                        else f"{PLACEHOLDER} describe how the system meets the part the platform leaves to it."
                    ),
                }
            ]
        by_components.append(pbc)

    if party != "provider":
        links = [
            {"href": f"{ctx.ar_href}#{u}", "rel": "evidence", "text": "observation in the assessment results"}
            for u in obs.get(cid, [])
        ]
        placeholder_reason = (
            "only documents and people can show it (a policy, procedure, plan, training or agreement)"
            if people_only
            else "no sckb mitigation implements it"
            if not deciding and state != "not-applicable"
            else None
        )
        if placeholder_reason is not None:
            write = (
                "name the document or practice that meets it, who owns it and how often it is reviewed"
                if people_only
                else "describe the mechanism that meets it and where it is configured"
            )
            related = sorted({m for m, _rel in idx.control_mitigations.get(cid, []) if m in mits and m not in deciding})
            hint = f" Related sckb mitigations (they inform, they do not decide): {', '.join(related)}." if related else ""
            desc = f"{PLACEHOLDER} {cid} {title}: {write}.{hint}"
            result.placeholders.append(Placeholder(cid, title, party, placeholder_reason, write))
        else:
            parts = []
            for m in deciding:
                mit = mits[m]
                seen = res.mitigations.get(m)
                how = (
                    _SEEN.get(seen or "", "the design cannot show it; intended")
                    if seen is not None
                    else "the design cannot show it; intended"
                )
                guidance = " ".join(getattr(mit.guidance, p) for p in providers)
                parts.append(f"{mit.title} ({how}): {guidance}")
            desc = "\n\n".join(parts) if parts else f"{title}: not applicable under the baseline's tailoring."
        tbc = _clean(
            {
                "component-uuid": this_uuid,
                "uuid": uid(f"{rk}:by-component:this-system"),
                "description": desc,
                "props": [prop("responsibility", party)]
                + [prop("mitigation", m) for m in deciding]
                + ([prop("placeholder", "true")] if placeholder_reason else []),
                "links": links,
                "implementation-status": {"state": state, "remarks": remark} if state else None,
                "remarks": None if state else remark,
            }
        )
        by_components.append(tbc)
        # one by-component per element the design check judged for the deciding mitigations
        per_comp: dict[str, list[Verdict]] = {}
        for m in deciding:
            for v in verdicts_by_mit.get(m, []):
                for u in comps.for_verdict(v):
                    per_comp.setdefault(u, []).append(v)
        for u in sorted(per_comp):
            vs = per_comp[u]
            est = _element_state(v.status for v in vs)
            by_components.append(
                _clean(
                    {
                        "component-uuid": u,
                        "uuid": uid(f"{rk}:by-component:{u}"),
                        "description": "; ".join(
                            sorted({f"{v.title}: {v.status}" + (f" ({v.reason})" if v.reason else "") for v in vs})
                        )
                        + ".",
                        "implementation-status": {"state": est} if est else None,
                    }
                )
            )
    return {
        "uuid": uid(f"{rk}:requirement"),
        "control-id": oscal_id(cid),
        # the control's status and responsibility, in one place for readers of the plan (the PDF report's summary)
        "props": [prop("responsibility", party), prop("implementation-status", state or NOT_STATED)]
        + [prop("scope", s) for s in scopes],
        "by-components": by_components,
    }


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    """Drop empty values (OSCAL arrays have minItems 1; absent beats empty)."""
    return {k: v for k, v in d.items() if v not in ([], {}, None, "")}


# ------------------------------------------------------------------ the checklist


def placeholders_markdown(result: SspResult, system: str) -> str:
    """The statements a person must write, as a Markdown checklist (``--markdown``)."""
    out = [
        f"# System security plan of {system}: statements to write",
        "",
        f"{len(result.placeholders)} statement(s) in the SSP are placeholders (text starting with '{PLACEHOLDER}'). "
        "sckb cannot write them: they describe documents, people or choices only the team knows.",
        "",
    ]
    by_party: dict[str, list[Placeholder]] = {}
    for p in result.placeholders:
        by_party.setdefault("system" if p.control == "system" else p.party, []).append(p)
    for group in ("system", "customer", "shared", "provider", "unknown"):
        items = by_party.get(group, [])
        if not items:
            continue
        out += [f"## {'The system as a whole' if group == 'system' else f'Responsibility: {group}'}", ""]
        out += [
            f"- [ ] **{p.control if p.control != 'system' else p.title}**"
            + (f" {p.title}" if p.control != "system" else "")
            + f": {p.write} (why: {p.reason})"
            for p in items
        ]
        out.append("")
    counts = result.counts()
    out += ["## Controls by implementation status", "", "| status | controls |", "|---|---|"]
    out += [f"| {s} | {n} |" for s, n in counts["status"].items()]
    out += ["", "| responsibility | controls |", "|---|---|"]
    out += [f"| {p} | {n} |" for p, n in counts["responsibility"].items()]
    return "\n".join(out) + "\n"


def write_ssp(result: SspResult, out: Path, *, markdown: Path | None = None, schema_dir: Path | None = None) -> list[Path]:
    """Validate (with ``schema_dir``) before writing anything; then write the SSP and the checklist."""
    from compliance.oscal.export import dumps
    from compliance.oscal.validate import validate

    if schema_dir is not None:
        validate(result.document, schema_dir, name=out.name)
    written = []
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(dumps(result.document))
        written.append(out)
        if markdown is not None:
            markdown.parent.mkdir(parents=True, exist_ok=True)
            name = result.document["system-security-plan"]["system-characteristics"]["system-name"]
            markdown.write_text(placeholders_markdown(result, name), encoding="utf-8")
            written.append(markdown)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", path=exc.filename or out) from exc
    return written


__all__ = [
    "NS",
    "PLACEHOLDER",
    "ImportedProfile",
    "Placeholder",
    "SspResult",
    "baseline_profile",
    "build_ssp",
    "placeholders_markdown",
    "write_ssp",
]
