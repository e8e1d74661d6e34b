"""Reference checks inside and across the exported documents (what a schema cannot check).

- AP: ``import-ssp`` points into its back-matter; assessment subjects and task activities resolve;
- AR: ``import-ap`` names the plan file written beside it; observation evidence points to back-matter
  resources carrying a SHA-256 ``hashes`` entry; observation subjects are the plan's inventory items;
  findings and risks point to observations and risks of the same result;
- POA&M: items point to observations and risks that exist both in the POA&M and in the AR (a closed item's risk:
  in the POA&M only); links to the AR name one of its risks; every party a risk names (characterization actors,
  remediation origins, risk-log ``logged-by``) and every responsible party is in the metadata, every tool actor is
  a local component, every document a risk links to is a back-matter resource, and a risk-log entry's related
  response is a remediation of the same risk.
"""

from __future__ import annotations

from typing import Any

from compliance.oscal.build import AP_FILE, AR_FILE, POAM_FILE


def broken_references(docs: dict[str, dict[str, Any]]) -> list[str]:
    """Every unresolved reference as ``file#where: what`` (empty when all resolve)."""
    bad: list[str] = []
    ap = docs[AP_FILE]["assessment-plan"]
    ar = docs[AR_FILE]["assessment-results"]
    poam = docs[POAM_FILE]["plan-of-action-and-milestones"]

    ap_resources = {r["uuid"] for r in ap.get("back-matter", {}).get("resources", [])}
    # an SSP file beside the documents (export oscal --ssp) is named by its path; otherwise a back-matter resource
    if ap["import-ssp"]["href"].startswith("#") and ap["import-ssp"]["href"][1:] not in ap_resources:
        bad.append(f"{AP_FILE}#/assessment-plan/import-ssp: {ap['import-ssp']['href']} is not a back-matter resource")
    local = ap.get("local-definitions", {})
    inventory = {i["uuid"] for i in local.get("inventory-items", [])}
    activities = {a["uuid"] for a in local.get("activities", [])}
    for i, subj in enumerate(ap.get("assessment-subjects", [])):
        for s in subj.get("include-subjects", []):
            if s["subject-uuid"] not in inventory:
                bad.append(f"{AP_FILE}#/assessment-plan/assessment-subjects/{i}: unknown subject {s['subject-uuid']}")
    for t in ap.get("tasks", []):
        for aa in t.get("associated-activities", []):
            if aa["activity-uuid"] not in activities:
                bad.append(f"{AP_FILE}: task {t['uuid']} names unknown activity {aa['activity-uuid']}")

    if ar["import-ap"]["href"] != AP_FILE:
        bad.append(f"{AR_FILE}#/assessment-results/import-ap: {ar['import-ap']['href']} is not {AP_FILE}")
    resources = {r["uuid"]: r for r in ar.get("back-matter", {}).get("resources", [])}
    observations: set[str] = set()
    risks: set[str] = set()
    for result in ar["results"]:
        observations.update(o["uuid"] for o in result.get("observations", []))
        risks.update(r["uuid"] for r in result.get("risks", []))
    for result in ar["results"]:
        for o in result.get("observations", []):
            for ev in o.get("relevant-evidence", []):
                res = resources.get(ev["href"].lstrip("#"))
                hashes = [h for link in (res or {}).get("rlinks", []) for h in link.get("hashes", [])]
                if res is None:
                    bad.append(f"{AR_FILE}: observation {o['uuid']} evidence {ev['href']} is not a back-matter resource")
                elif not any(h["algorithm"] == "SHA-256" for h in hashes):
                    bad.append(f"{AR_FILE}: evidence resource {res['uuid']} carries no SHA-256")
            for s in o.get("subjects", []):
                if s["subject-uuid"] not in inventory:
                    bad.append(f"{AR_FILE}: observation {o['uuid']} subject {s['subject-uuid']} is not in the plan")
        for r in result.get("risks", []):
            bad += [
                f"{AR_FILE}: risk {r['uuid']} names unknown observation {ro['observation-uuid']}"
                for ro in r.get("related-observations", [])
                if ro["observation-uuid"] not in observations
            ]
        for f in result.get("findings", []):
            bad += [
                f"{AR_FILE}: finding {f['uuid']} names unknown observation {ro['observation-uuid']}"
                for ro in f.get("related-observations", [])
                if ro["observation-uuid"] not in observations
            ]
            bad += [
                f"{AR_FILE}: finding {f['uuid']} names unknown risk {rr['risk-uuid']}"
                for rr in f.get("related-risks", [])
                if rr["risk-uuid"] not in risks
            ]

    poam_obs = {o["uuid"] for o in poam.get("observations", [])}
    poam_risks = {r["uuid"] for r in poam.get("risks", [])}
    # a closed item's risk is in the POA&M only (the results list the risks open now)
    closed_risks = {r["uuid"] for r in poam.get("risks", []) if r.get("status") == "closed"}
    for item in poam.get("poam-items", []):
        for ro in item.get("related-observations", []):
            if ro["observation-uuid"] not in observations or ro["observation-uuid"] not in poam_obs:
                bad.append(
                    f"{POAM_FILE}: item {item.get('uuid')} observation {ro['observation-uuid']} is not in the POA&M and the AR"
                )
        for rr in item.get("related-risks", []):
            if rr["risk-uuid"] not in poam_risks or (rr["risk-uuid"] not in risks and rr["risk-uuid"] not in closed_risks):
                bad.append(f"{POAM_FILE}: item {item.get('uuid')} risk {rr['risk-uuid']} is not in the POA&M and the AR")
        for link in item.get("links", []):
            href, _, frag = link["href"].partition("#")
            if href == AR_FILE and frag not in risks:
                bad.append(f"{POAM_FILE}: item {item.get('uuid')} links to unknown AR risk {frag}")
    bad += _poam_parties(poam)
    return bad


def _poam_parties(poam: dict[str, Any]) -> list[str]:
    meta = poam.get("metadata", {})
    parties = {p["uuid"] for p in meta.get("parties", [])}
    roles = {r["id"] for r in meta.get("roles", [])}
    tools = {c["uuid"] for c in poam.get("local-definitions", {}).get("components", [])}
    resources = {r["uuid"] for r in poam.get("back-matter", {}).get("resources", [])}
    bad = [
        f"{POAM_FILE}: responsible party {u} of role {rp['role-id']} is not a metadata party"
        for rp in meta.get("responsible-parties", [])
        for u in rp["party-uuids"]
        if u not in parties
    ]
    bad += [
        f"{POAM_FILE}: responsible role {rp['role-id']} is not a metadata role"
        for rp in meta.get("responsible-parties", [])
        if rp["role-id"] not in roles
    ]
    for risk in poam.get("risks", []):
        where = f"{POAM_FILE}: risk {risk['uuid']}"
        actors = [a for c in risk.get("characterizations", []) for a in c["origin"]["actors"]]
        actors += [a for r in risk.get("remediations", []) for o in r.get("origins", []) for a in o["actors"]]
        for actor in actors:
            known = parties if actor["type"] == "party" else tools if actor["type"] == "tool" else None
            if known is not None and actor["actor-uuid"] not in known:
                bad.append(f"{where} names unknown {actor['type']} {actor['actor-uuid']}")
        bad += [
            f"{where} links to unknown resource {link['href']}"
            for link in risk.get("links", [])
            if link["href"].startswith("#") and link["href"][1:] not in resources
        ]
        responses = {r["uuid"] for r in risk.get("remediations", [])}
        for entry in risk.get("risk-log", {}).get("entries", []):
            bad += [
                f"{where} log entry {entry['uuid']} names unknown party {lb['party-uuid']}"
                for lb in entry.get("logged-by", [])
                if lb["party-uuid"] not in parties
            ]
            bad += [
                f"{where} log entry {entry['uuid']} names unknown response {rr['response-uuid']}"
                for rr in entry.get("related-responses", [])
                if rr["response-uuid"] not in responses
            ]
    return bad
