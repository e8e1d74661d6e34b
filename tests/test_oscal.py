"""OSCAL export: schema validity (jsonschema-rs, NIST 1.1.3 schemas), cross-document references,
compliance-trestle loading, determinism, golden files and the catalog import.

Golden files (tests/data/oscal/golden/) come from the fixture KB (tests/data/oscal/kb/) and the fixed
evidence set tests/data/oscal/evidence.json. Regenerate them after an intended change with

    SCKB_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/test_oscal.py -k golden
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from compliance import kb as kbmod
from compliance.assess import Assessment, assess
from compliance.assess.catalog import statements
from compliance.errors import CheckFailed, InputError
from compliance.evidence.model import EvidenceFile, StoredFinding
from compliance.oscal import Validators, all_documents, build, errors, export
from compliance.oscal.build import AP_FILE, AR_FILE, CDEF_FILE, POAM_FILE, kb_control_id, oscal_control_id, uid
from compliance.oscal.catalog import import_catalog, parse_catalog

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "oscal"
GOLDEN = DATA / "golden"
SHARED = HERE.parent.parent / "shared"
SCHEMAS = SHARED / "oscal" / "schemas"
CATALOG = SHARED / "oscal" / "nist" / "NIST_SP-800-53_rev5_catalog.json"
DOCS = (AP_FILE, AR_FILE, POAM_FILE, CDEF_FILE)


def _need_shared() -> None:
    if not SCHEMAS.is_dir():
        pytest.skip("../shared/oscal is not beside the checkout")


@pytest.fixture(scope="module")
def fixture_kb() -> kbmod.KB:
    return kbmod.load(data_dirs=[DATA / "kb"])


def fixture_assessment(kb: kbmod.KB) -> Assessment:
    raw = orjson.loads((DATA / "evidence.json").read_bytes())
    findings = [
        StoredFinding(
            **{
                **f,
                "cwes": tuple(f["cwes"]),
                "targets": tuple(f["targets"]),
                "mitigations": tuple(f["mitigations"]),
                "controls": tuple(f["controls"]),
            }
        )
        for f in raw["findings"]
    ]
    files = [EvidenceFile(**f) for f in raw["files"]]
    now = datetime.fromisoformat(raw["now"].replace("Z", "+00:00"))
    return assess(kb, findings, files, scopes=["test-baseline", "hipaa"], now=now)


@pytest.fixture(scope="module")
def validators() -> Validators:
    _need_shared()
    return Validators(SCHEMAS)


def check_references(docs: dict[str, dict[str, Any]]) -> None:
    """Every reference inside and across the four documents resolves."""
    ap = docs[AP_FILE]["assessment-plan"]
    ar = docs[AR_FILE]["assessment-results"]
    poam = docs[POAM_FILE]["plan-of-action-and-milestones"]
    # AP: import-ssp points into its back-matter; subjects are its inventory items
    ap_resources = {r["uuid"] for r in ap["back-matter"]["resources"]}
    assert ap["import-ssp"]["href"].lstrip("#") in ap_resources
    inventory = {i["uuid"] for i in ap.get("local-definitions", {}).get("inventory-items", [])}
    for subj in ap["assessment-subjects"]:
        for s in subj.get("include-subjects", []):
            assert s["subject-uuid"] in inventory
    activities = {a["uuid"] for a in ap.get("local-definitions", {}).get("activities", [])}
    for t in ap.get("tasks", []):
        for aa in t["associated-activities"]:
            assert aa["activity-uuid"] in activities
    # AR -> AP
    assert ar["import-ap"]["href"] == AP_FILE
    (result,) = ar["results"]
    resources = {r["uuid"]: r for r in ar.get("back-matter", {}).get("resources", [])}
    observations = {o["uuid"]: o for o in result.get("observations", [])}
    risks = {r["uuid"]: r for r in result.get("risks", [])}
    for o in observations.values():
        for ev in o.get("relevant-evidence", []):
            res = resources[ev["href"].lstrip("#")]
            (rlink,) = res["rlinks"]
            (h,) = rlink["hashes"]
            assert h["algorithm"] == "SHA-256" and len(h["value"]) == 64
            assert h["value"] in ev["description"]
        for s in o.get("subjects", []):
            assert s["subject-uuid"] in inventory  # observation subjects are the plan's subjects
    for r in risks.values():
        for ro in r.get("related-observations", []):
            assert ro["observation-uuid"] in observations
    for f in result.get("findings", []):
        assert f["target"]["type"] == "statement-id" and f["target"]["target-id"].endswith("_smt")
        assert f["target"]["status"]["state"] in ("satisfied", "not-satisfied")
        for ro in f.get("related-observations", []):
            assert ro["observation-uuid"] in observations
        for rr in f.get("related-risks", []):
            assert rr["risk-uuid"] in risks
    # POA&M -> AR observations and risks (and its own copies resolve too)
    poam_obs = {o["uuid"] for o in poam.get("observations", [])}
    poam_risks = {r["uuid"]: r for r in poam.get("risks", [])}
    for item in poam["poam-items"]:
        for ro in item.get("related-observations", []):
            assert ro["observation-uuid"] in observations and ro["observation-uuid"] in poam_obs
        for rr in item.get("related-risks", []):
            # a closed item's risk is in the POA&M only: the results list the risks open now
            assert rr["risk-uuid"] in poam_risks
            assert rr["risk-uuid"] in risks or poam_risks[rr["risk-uuid"]]["status"] == "closed"
        for link in item.get("links", []):
            href, _, frag = link["href"].partition("#")
            assert href == AR_FILE and frag in risks


def test_control_id_conversion() -> None:
    assert oscal_control_id("AC-6(1)") == "ac-6.1"
    assert oscal_control_id("SI-4") == "si-4"
    assert kb_control_id("ac-2.12") == "AC-2(12)"
    assert kb_control_id(oscal_control_id("SC-7(21)")) == "SC-7(21)"


def test_fixture_documents_are_schema_valid_and_linked(fixture_kb: kbmod.KB, validators: Validators) -> None:
    a = fixture_assessment(fixture_kb)
    docs = all_documents(fixture_kb, a)
    for name, doc in docs.items():
        assert errors(doc, validators) == [], name
    check_references(docs)
    from compliance.oscal import broken_references

    assert broken_references(docs) == []
    ar = docs[AR_FILE]["assessment-results"]
    (result,) = ar["results"]
    by_target = {f["target"]["target-id"]: f for f in result["findings"]}
    # the failing least-privilege check: AC-6 not-satisfied, linked to the observation of the checkov file
    ac6 = by_target["ac-6_smt"]
    assert ac6["target"]["status"]["state"] == "not-satisfied"
    assert ac6["related-risks"]
    # an attestation (EXAMINE) satisfies SC-28; not-assessed controls get no finding; inherited PE-3 is satisfied
    assert by_target["sc-28_smt"]["target"]["status"]["state"] == "satisfied"
    methods = {m for o in result["observations"] for m in o["methods"]}
    assert methods == {"EXAMINE", "TEST"}
    # inherited PE-3: an implementation status citing the provider's authorization, not a tested result
    pe3 = by_target["pe-3_smt"]["target"]
    assert pe3["status"] == {"state": "satisfied", "reason": "other", "remarks": "inherited: not tested by this assessment"}
    assert pe3["implementation-status"]["state"] == "implemented"
    assert pe3["implementation-status"]["remarks"].startswith("Inherited from ")
    # the stale legacy file is not an observation, the POA&M has the open failure with its FedRAMP window
    poam = docs[POAM_FILE]["plan-of-action-and-milestones"]
    (item,) = poam["poam-items"]
    props = {p["name"]: p["value"] for p in item["props"]}
    assert props["due-date"] == "2026-07-31T08:00:00Z" and props["overdue"] == "true" and props["remediation-window-days"] == "30"
    # component definition: one component per FaaS platform with the platform's guidance
    comps = {c["title"]: c for c in docs[CDEF_FILE]["component-definition"]["components"]}
    assert sorted(comps) == ["AWS Lambda", "Azure Functions", "Google Cloud Functions"]
    reqs = {r["control-id"]: r for r in comps["AWS Lambda"]["control-implementations"][0]["implemented-requirements"]}
    assert "One role per Lambda function." in reqs["ac-6"]["description"]
    assert {p["value"] for p in reqs["ac-6"]["props"] if p["name"] == "mitigation"} == {
        "least-privilege-execution-role",
        "no-wildcard-permissions",
    }


def test_documents_load_in_compliance_trestle(fixture_kb: kbmod.KB, tmp_path: Path) -> None:
    trestle_ap = pytest.importorskip("trestle.oscal.assessment_plan")
    from trestle.oscal.assessment_results import AssessmentResults
    from trestle.oscal.component import ComponentDefinition
    from trestle.oscal.poam import PlanOfActionAndMilestones

    export(fixture_kb, fixture_assessment(fixture_kb), tmp_path)
    ar = AssessmentResults.oscal_read(tmp_path / AR_FILE)
    assert ar.import_ap.href == AP_FILE
    assert len(ar.results[0].findings) >= 3
    ap = trestle_ap.AssessmentPlan.oscal_read(tmp_path / AP_FILE)
    assert ap.reviewed_controls.control_selections
    poam = PlanOfActionAndMilestones.oscal_read(tmp_path / POAM_FILE)
    assert len(poam.poam_items) == 1
    cdef = ComponentDefinition.oscal_read(tmp_path / CDEF_FILE)
    assert len(cdef.components) == 3


def test_golden_files(fixture_kb: kbmod.KB, tmp_path: Path, validators: Validators) -> None:
    a = fixture_assessment(fixture_kb)
    export(fixture_kb, a, tmp_path, schema_dir=SCHEMAS)
    if os.environ.get("SCKB_REGENERATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name in DOCS:
            (GOLDEN / name).write_bytes((tmp_path / name).read_bytes())
    for name in DOCS:
        golden = (GOLDEN / name).read_bytes()
        assert errors(orjson.loads(golden), validators) == [], name
        assert (tmp_path / name).read_bytes() == golden, f"{name} differs from the golden file (see module docstring)"


def test_export_is_deterministic(fixture_kb: kbmod.KB, tmp_path: Path) -> None:
    export(fixture_kb, fixture_assessment(fixture_kb), tmp_path / "one")
    export(fixture_kb, fixture_assessment(fixture_kb), tmp_path / "two")
    for name in DOCS:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_invalid_document_is_not_written(fixture_kb: kbmod.KB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _need_shared()
    from compliance.oscal import build

    real = build.assessment_plan

    def broken(a: Assessment, ctx: build.Context | None = None) -> dict[str, Any]:
        doc = real(a, ctx)
        del doc["assessment-plan"]["reviewed-controls"]
        return doc

    monkeypatch.setattr(build, "assessment_plan", broken)
    with pytest.raises(CheckFailed, match=r"assessment-plan.json#/assessment-plan: .*reviewed-controls"):
        export(fixture_kb, fixture_assessment(fixture_kb), tmp_path / "out", schema_dir=SCHEMAS)
    assert not (tmp_path / "out").exists()


def test_broken_reference_is_caught_before_writing(fixture_kb: kbmod.KB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance.oscal import broken_references, build

    real = build.poam

    def dangling(a: Assessment, **kw: Any) -> dict[str, Any]:
        doc = real(a, **kw)
        doc["plan-of-action-and-milestones"]["poam-items"][0]["related-risks"] = [{"risk-uuid": build.uid("nowhere")}]
        return doc

    monkeypatch.setattr(build, "poam", dangling)
    a = fixture_assessment(fixture_kb)
    assert len(broken_references(build.all_documents(fixture_kb, a))) == 1
    with pytest.raises(CheckFailed, match=r"unresolved reference: poam.json: item .* risk .* is not in the POA&M and the AR"):
        export(fixture_kb, a, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_schema_dir_is_input_error(fixture_kb: kbmod.KB, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="schema folder does not exist"):
        export(fixture_kb, fixture_assessment(fixture_kb), tmp_path / "out", schema_dir=tmp_path / "nope")


# ----------------------------------------------------------------------------- catalog import


def test_catalog_statements_from_the_official_catalog(tmp_path: Path) -> None:
    if not CATALOG.is_file():
        pytest.skip("../shared catalog missing")
    from compliance.evidence.store import Store

    found = parse_catalog(CATALOG.read_bytes())
    assert len(found) == 1196  # every control and enhancement of SP 800-53 rev5 (5.2.0), withdrawn ones included
    title, text = found["AC-6"]
    assert title == "Least Privilege" and text.startswith("Employ the principle of least privilege")
    assert "[Assignment: security functions or security-relevant information]" in found["AC-6(2)"][1]
    assert found["AC-2"][1].splitlines()[0].startswith("a. Define and document the types of accounts")
    assert found["AC-13"][1] == "[Withdrawn]"
    ws = tmp_path / "ws"
    ws.mkdir()
    assert statements(ws) == {}  # nothing imported: callers fall back to ids and titles
    with Store.open(ws) as store:
        assert import_catalog(store, CATALOG) == 1196
    st = statements(ws)
    assert st["AC-6"] == text and len(st) == 1196


def test_catalog_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match=r"bad\.json: not JSON"):
        parse_catalog(bad.read_bytes(), path=bad)
    with pytest.raises(InputError, match=r"profile.json#/catalog: not an OSCAL catalog"):
        parse_catalog(b'{"profile": {}}', path="profile.json")


def test_uid_is_uuid5() -> None:
    import uuid

    from compliance.oscal.build import NAMESPACE, uid

    for key in ("observation:abc|checkov:CKV_AWS_1", "", "subject:λ-fn", "x" * 500):
        assert uid(key) == str(uuid.uuid5(NAMESPACE, key))


def test_empty_evidence_still_gives_valid_documents(fixture_kb: kbmod.KB, validators: Validators) -> None:
    from compliance.oscal import broken_references

    a = assess(fixture_kb, [], [], scopes=["test-baseline"], now=datetime(2026, 11, 30, tzinfo=UTC))
    docs = all_documents(fixture_kb, a)
    for name, doc in docs.items():
        assert errors(doc, validators) == [], name
    assert broken_references(docs) == []
    (result,) = docs[AR_FILE]["assessment-results"]["results"]
    assert "observations" not in result
    # only the inherited control has a determination
    assert [f["target"]["target-id"] for f in result["findings"]] == ["pe-3_smt"]
    (item,) = docs[POAM_FILE]["plan-of-action-and-milestones"]["poam-items"]
    assert item["title"] == "No open findings" and item["props"][0]["name"] == "placeholder"


# --------------------------------------------------------------------------- assessors' determinations (issue 21)


def determined_assessment(kb: kbmod.KB) -> Assessment:
    """The fixture assessment with AC-6 determined by an assessor (and SC-8 by a lead assessor)."""
    from compliance.assess import Determination

    a = fixture_assessment(kb)
    raw = orjson.loads((DATA / "evidence.json").read_bytes())
    now = datetime.fromisoformat(raw["now"].replace("Z", "+00:00"))
    ds = [
        Determination(
            target="AC-6",
            status="satisfied",
            rationale="Reviewed every role policy with the platform lead",
            by="Dana Reyes",
            date=raw["now"],
            methods=["EXAMINE", "INTERVIEW"],
        ),
        Determination(
            target="SC-8",
            status="not-satisfied",
            rationale="TLS 1.0 still on",
            by="Lee Park",
            role="lead-assessor",
            date=raw["now"],
            methods=["INTERVIEW"],
        ),
    ]
    findings = [
        StoredFinding(
            **{
                **f,
                "cwes": tuple(f["cwes"]),
                "targets": tuple(f["targets"]),
                "mitigations": tuple(f["mitigations"]),
                "controls": tuple(f["controls"]),
            }
        )
        for f in raw["findings"]
    ]
    files = [EvidenceFile(**f) for f in raw["files"]]
    d = assess(kb, findings, files, scopes=["test-baseline", "hipaa"], now=now, determinations=ds)
    assert d.controls["AC-6"].derived_status == a.controls["AC-6"].status != "satisfied"
    return d


def test_determination_is_an_assessor_finding(fixture_kb: kbmod.KB, validators: Validators) -> None:
    from compliance.oscal import broken_references

    a = determined_assessment(fixture_kb)
    docs = all_documents(fixture_kb, a)
    for name, doc in docs.items():
        assert errors(doc, validators) == [], name
    assert broken_references(docs) == []
    check_references(docs)
    ar = docs[AR_FILE]["assessment-results"]
    meta = ar["metadata"]
    assert meta["roles"] == [{"id": "assessor", "title": "Assessor"}, {"id": "lead-assessor", "title": "Lead assessor"}]
    parties = {p["name"]: p["uuid"] for p in meta["parties"]}
    # the assessor organisation (sckb's findings) and the people who determined
    assert sorted(parties) == [build.DEFAULT_ASSESSOR, "Dana Reyes", "Lee Park"]
    (result,) = ar["results"]
    finding = next(f for f in result["findings"] if f["target"]["target-id"] == "ac-6_smt")
    assert finding["target"]["status"] == {"state": "satisfied"}
    props = {p["name"]: p["value"] for p in finding["target"]["props"]}
    assert props == {"assessment-status": "satisfied", "derived-status": a.controls["AC-6"].derived_status}
    assert finding["origins"] == [{"actors": [{"type": "party", "actor-uuid": parties["Dana Reyes"], "role-id": "assessor"}]}]
    observations = {o["uuid"]: o for o in result["observations"]}
    mine = [observations[r["observation-uuid"]] for r in finding["related-observations"]]
    # the determination's observation: the scanners' observations name tools, it names the person
    (det,) = [o for o in mine if o["origins"][0]["actors"][0]["type"] == "party"]
    assert det["methods"] == ["EXAMINE", "INTERVIEW"]
    assert det["description"] == "Reviewed every role policy with the platform lead"
    assert det["origins"] == finding["origins"]
    sc8 = next(f for f in result["findings"] if f["target"]["target-id"] == "sc-8_smt")
    assert sc8["target"]["status"]["state"] == "not-satisfied"
    assert sc8["origins"][0]["actors"][0]["role-id"] == "lead-assessor"
    # without determinations the assessor organisation alone is the party, and sckb's findings are its
    plain = all_documents(fixture_kb, fixture_assessment(fixture_kb))[AR_FILE]["assessment-results"]
    assert [p["name"] for p in plain["metadata"]["parties"]] == [build.DEFAULT_ASSESSOR]
    org = plain["metadata"]["parties"][0]["uuid"]
    assert all(
        f["origins"][0]["actors"][0] == {"type": "party", "actor-uuid": org, "role-id": "assessor"}
        for f in plain["results"][0]["findings"]
    )


def test_determination_documents_load_in_compliance_trestle(fixture_kb: kbmod.KB, tmp_path: Path) -> None:
    pytest.importorskip("trestle.oscal.assessment_results")
    from trestle.oscal.assessment_results import AssessmentResults

    export(fixture_kb, determined_assessment(fixture_kb), tmp_path)
    ar = AssessmentResults.oscal_read(tmp_path / AR_FILE)
    assert [r.id for r in ar.metadata.roles] == ["assessor", "lead-assessor"]
    finding = next(f for f in ar.results[0].findings if f.target.target_id == "ac-6_smt")
    actor = finding.origins[0].actors[0]
    assert actor.role_id == "assessor"
    assert actor.actor_uuid in {p.uuid for p in ar.metadata.parties}


# ---- the POA&M from triage (issue 22): system id, people, risk status, ratings, plan, log, closed items

FEDRAMP_NS = "https://fedramp.gov/ns/oscal"


def triaged_export(tmp_path: Path) -> dict[str, dict[str, Any]]:
    from tests import poam_triage
    from tests.test_assess_cases import sckb

    ws = poam_triage.triaged_workspace(tmp_path)
    out = tmp_path / "oscal"
    r = sckb(ws, "export", "oscal", "--out", str(out), "--schema-dir", str(SCHEMAS))
    assert r.exit_code == 0, r.output
    return {name: orjson.loads((out / name).read_bytes()) for name in DOCS}


def _props(obj: dict[str, Any], ns: str | None = None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in obj.get("props", []):
        if ns is None or p.get("ns") == ns:
            out.setdefault(p["name"], []).append(p["value"])
    return out


def test_triaged_poam_is_valid_and_carries_triage(tmp_path: Path, validators: Validators) -> None:
    from tests import poam_triage as tri

    docs = triaged_export(tmp_path)
    for name, doc in docs.items():
        assert errors(doc, validators) == [], name
    check_references(docs)
    poam = docs[POAM_FILE]["plan-of-action-and-milestones"]
    # the system: a UUIDv5 (RFC 4122) of the workspace (no --system)
    assert poam["system-id"]["identifier-type"] == "https://ietf.org/rfc/rfc4122"
    assert poam["system-id"]["id"] == uid("system:workspace")
    # one party per person, each in the roles triage gave them
    meta = poam["metadata"]
    parties = {p["name"]: p["uuid"] for p in meta["parties"]}
    assert set(parties) == {build.DEFAULT_ASSESSOR, "Sam Ortiz", "Dana Reyes (AO)", "lee.park@example.org"}
    assert next(p for p in meta["parties"] if p["name"] == "lee.park@example.org")["email-addresses"] == ["lee.park@example.org"]
    roles = {rp["role-id"]: set(rp["party-uuids"]) for rp in meta["responsible-parties"]}
    assert roles["remediation-poc"] == {parties["lee.park@example.org"]}
    assert roles["deviation-approver"] == {parties["Dana Reyes (AO)"]}
    assert roles["triage-decision-maker"] == {parties["Sam Ortiz"]}
    assert {r["id"] for r in meta["roles"]} == set(roles)

    items = {_props(i, FEDRAMP_NS)["POAM-ID"][0]: i for i in poam["poam-items"]}
    risks = {r["uuid"]: r for r in poam["risks"]}

    def risk_of(rule: str) -> dict[str, Any]:
        (rr,) = items["SCKB-" + rule]["related-risks"]
        return risks[rr["risk-uuid"]]

    # the plan: status remediating, deadline, milestones as tasks on their dates, resources, the POC as origin
    plan = risk_of(tri.PLANNED)
    assert plan["status"] == "remediating"
    assert plan["deadline"].startswith("20")
    (planned,) = [r for r in plan["remediations"] if r["lifecycle"] == "planned"]
    assert planned["description"] == "Encrypt the queues with the customer-managed key"
    assert [(t["type"], t["title"], t["timing"]["on-date"]["date"]) for t in planned["tasks"]] == [
        ("milestone", "Key policy in the template", "2026-12-15T00:00:00Z"),
        ("milestone", "Queues encrypted and verified", "2027-01-10T00:00:00Z"),
    ]
    assert planned["required-assets"][0]["description"] == "2 engineer days"
    assert planned["origins"][0]["actors"][0]["actor-uuid"] == parties["lee.park@example.org"]
    # the supporting document: a back-matter resource (FedRAMP type evidence) with its SHA-256, linked from the risk
    (doc_link,) = plan["links"]
    assert doc_link["rel"] == "evidence" and doc_link["text"] == "dr-27.txt"
    resources = {r["uuid"]: r for r in poam["back-matter"]["resources"]}
    doc = resources[doc_link["href"][1:]]
    assert _props(doc, FEDRAMP_NS)["type"] == ["evidence"]
    sha = doc["rlinks"][0]["hashes"][0]["value"]
    assert (tmp_path / "oscal" / doc["rlinks"][0]["href"]).read_text() == "deviation request evidence\n"
    assert len(sha) == 64
    # the KB's recommendation: the mitigations the failing rule says are missing
    (rec,) = [r for r in plan["remediations"] if r["lifecycle"] == "recommendation"]
    assert _props(rec)["mitigation"] and all(f"({m})" in rec["description"] for m in _props(rec)["mitigation"])
    (entry,) = plan["risk-log"]["entries"]
    assert entry["status-change"] == "remediating" and entry["start"] == "2026-12-01T00:00:00Z"
    assert entry["logged-by"] == [{"party-uuid": parties["Sam Ortiz"], "role-id": "triage-decision-maker"}]
    assert entry["related-responses"] == [{"response-uuid": planned["uuid"]}]

    # the adjustment: FedRAMP deviation props, initial and adjusted ratings, mitigating factors, one log entry each
    adj = risk_of(tri.ADJUSTED)
    assert adj["status"] == "deviation-approved"
    fed = _props(adj, FEDRAMP_NS)
    assert fed["risk-adjustment"] == ["approved"] and fed["operational-requirement"] == ["pending"]
    assert "false-positive" not in fed
    facets = {
        f["props"][0]["value"]: f["value"] for c in adj["characterizations"] for f in c["facets"] if f["name"] == "risk-rating"
    }
    assert facets["adjusted"] == "low" and facets["initial"] in ("high", "moderate", "low")
    assert {m["description"] for m in adj["mitigating-factors"]} == {
        "Only reachable from the VPC",
        "The function must keep its current runtime",
    }
    log = {e["title"]: e for e in adj["risk-log"]["entries"]}
    assert log["Risk adjustment approved"]["status-change"] == "deviation-approved"
    assert log["Operational requirement requested"]["status-change"] == "deviation-requested"
    assert "Dana Reyes (AO)" in log["Risk adjustment approved"]["description"]

    # the vendor dependency: FedRAMP's tracking prop and a vendor check-in log entry
    vendor = risk_of(tri.VENDOR)
    assert _props(vendor, FEDRAMP_NS)["vendor-dependency"] == ["tracking"]
    assert _props(vendor)["vendor-product"] == ["Lambda runtime 3.x"]
    checkin = [e for e in vendor["risk-log"]["entries"] if e["title"] == "Vendor check-in"]
    assert [e["start"] for e in checkin] == ["2026-11-28T00:00:00Z"]

    # the approved false positive closed its item: a closed risk, a closing log entry, no link into the results
    fp_item = items["SCKB-" + tri.FALSE_POSITIVE]
    fp = risk_of(tri.FALSE_POSITIVE)
    assert fp["status"] == "closed"
    assert _props(fp, FEDRAMP_NS)["false-positive"] == ["approved"]
    assert fp["risk-log"]["entries"][-1]["status-change"] == "closed"
    assert "links" not in fp_item
    ar_risks = {r["uuid"] for r in docs[AR_FILE]["assessment-results"]["results"][0].get("risks", [])}
    assert fp["uuid"] not in ar_risks


def test_triaged_poam_loads_in_compliance_trestle(tmp_path: Path) -> None:
    pytest.importorskip("trestle.oscal.poam")
    from trestle.oscal.poam import PlanOfActionAndMilestones

    _need_shared()
    triaged_export(tmp_path)
    poam = PlanOfActionAndMilestones.oscal_read(tmp_path / "oscal" / POAM_FILE)
    assert poam.system_id is not None and poam.system_id.id
    assert poam.risks is not None
    statuses = {r.status.__root__.__root__ for r in poam.risks}
    assert statuses >= {"closed", "remediating", "deviation-approved"}
    assert poam.metadata.parties is not None and len(poam.metadata.parties) == 4


def test_poam_system_id_names_the_system(fixture_kb: kbmod.KB) -> None:
    """An assessment of a system (--system) identifies that system; other systems and the workspace differ."""
    from dataclasses import replace

    from compliance.oscal.build import poam

    a = fixture_assessment(fixture_kb)
    ids = {
        name: poam(replace(a, system=name))["plan-of-action-and-milestones"]["system-id"]["id"]
        for name in ("Orders API", "Billing API")
    }
    workspace = poam(a)["plan-of-action-and-milestones"]["system-id"]["id"]
    assert ids["Orders API"] == uid("system:Orders API")
    assert len({*ids.values(), workspace}) == 3
