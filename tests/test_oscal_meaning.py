"""What the exported OSCAL documents mean (issue 24): system identity, UUIDs per system, who assessed with what,
findings per objective, inherited controls, risks, evidence resources, the component definition.

The fixture KB and evidence are those of tests/test_oscal.py; the per-objective finding, the baseline profile and
``reviewed-controls`` use the project's KB (its links name statement parts, its baselines name their profiles).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.assess import Assessment, assess
from compliance.cli import main
from compliance.evidence.model import EvidenceFile, StoredFinding
from compliance.evidence.system import System
from compliance.kb.model import Baseline
from compliance.kb.profile import ParameterSetting, ProfileInfo
from compliance.oscal import Validators, all_documents, broken_references, errors, export
from compliance.oscal.build import (
    AP_FILE,
    AR_FILE,
    CDEF_FILE,
    FEDRAMP_VERSION,
    NS,
    POAM_FILE,
    Context,
    oscal_control_id,
)
from compliance.oscal.build import FEDRAMP_NS as FEDRAMP

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "oscal"
SCHEMAS = HERE.parent.parent / "shared" / "oscal" / "schemas"
CATALOG = HERE.parent.parent / "shared" / "oscal" / "nist" / "NIST_SP-800-53_rev5_catalog.json"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def fixture_kb() -> kbmod.KB:
    return kbmod.load(data_dirs=[DATA / "kb"])


@pytest.fixture(scope="module")
def project_kb() -> kbmod.KB:
    return kbmod.load()


def _raw() -> tuple[list[StoredFinding], list[EvidenceFile]]:
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
    return findings, [EvidenceFile(**f) for f in raw["files"]]


def _assessment(kb: kbmod.KB, system: str | None = None) -> Assessment:
    findings, files = _raw()
    a = assess(kb, findings, files, scopes=["test-baseline", "hipaa"], now=NOW)
    return dataclasses.replace(a, system=system) if system is not None else a


def _validate(docs: dict[str, dict[str, Any]]) -> None:
    if not SCHEMAS.is_dir():
        pytest.skip("../shared/oscal is not beside the checkout")
    validators = Validators(SCHEMAS)
    for name, doc in docs.items():
        assert errors(doc, validators) == [], name
    assert broken_references(docs) == []


def _system(name: str) -> System:
    return System.model_validate(
        {
            "name": name,
            "description": "Orders API on AWS Lambda.",
            "boundary": {"providers": ["aws"]},
            "ssp": {
                "sensitivity": "moderate",
                "information_types": [
                    {
                        "title": "Orders",
                        "id": "D.1.1",
                        "confidentiality": "moderate",
                        "integrity": "moderate",
                        "availability": "low",
                    }
                ],
                "leveraged_authorizations": [
                    {
                        "provider": "aws",
                        "title": "AWS GovCloud FedRAMP High",
                        "party": "Amazon Web Services",
                        "date_authorized": "2016-06-21",
                    }
                ],
                "contacts": [
                    {"role": "system-owner", "name": "Ana Owner", "email": "ana@example.org"},
                    {"role": "information-system-security-officer", "name": "Ivo Isso"},
                ],
            },
        }
    )


def _ar(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = docs[AR_FILE]["assessment-results"]["results"][0]
    return result


def _risk_uuids(docs: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {r["title"]: r["uuid"] for r in _ar(docs)["risks"]}


# ---------------------------------------------------------------- identity and UUIDs


def test_two_systems_failing_the_same_rule_get_different_uuids(fixture_kb: kbmod.KB) -> None:
    one = all_documents(fixture_kb, _assessment(fixture_kb, "orders"))
    two = all_documents(fixture_kb, _assessment(fixture_kb, "billing"))
    r1, r2 = _risk_uuids(one), _risk_uuids(two)
    assert r1.keys() == r2.keys() and r1
    assert not set(r1.values()) & set(r2.values())
    items = [{i["uuid"] for i in d[POAM_FILE]["plan-of-action-and-milestones"]["poam-items"]} for d in (one, two)]
    assert not items[0] & items[1]
    obs = [{o["uuid"] for o in _ar(d)["observations"]} for d in (one, two)]
    assert not obs[0] & obs[1]
    ids = [d[POAM_FILE]["plan-of-action-and-milestones"]["system-id"]["id"] for d in (one, two)]
    assert ids[0] != ids[1]
    # still deterministic: the same system gives the same UUIDs
    assert _risk_uuids(all_documents(fixture_kb, _assessment(fixture_kb, "orders"))) == r1


def test_plan_without_ssp_follows_fedramps_no_oscal_ssp_pattern(fixture_kb: kbmod.KB) -> None:
    a = _assessment(fixture_kb, "orders")
    docs = all_documents(fixture_kb, a, Context(kb=fixture_kb, system=_system("orders")))
    _validate(docs)
    ap = docs[AP_FILE]["assessment-plan"]
    href = ap["import-ssp"]["href"]
    resources = {r["uuid"]: r for r in ap["back-matter"]["resources"]}
    res = resources[href[1:]]
    # SAP guide 3.5.2: a type "no-oscal-ssp" resource with the system's name, description and FedRAMP's props
    assert {"name": "type", "value": "no-oscal-ssp"} in res["props"]
    assert res["title"] == "orders" and res["description"].startswith("Orders API on AWS Lambda.")
    props = {(p["name"], p.get("ns")): p["value"] for p in res["props"]}
    assert props[("purpose", FEDRAMP)] == "Orders API on AWS Lambda."
    assert props[("title-short", FEDRAMP)] == "orders"
    assert props[("system-id", NS)] == docs[POAM_FILE]["plan-of-action-and-milestones"]["system-id"]["id"]
    # the fixture's baseline has no official profile: nothing to import
    assert ("import-profile", FEDRAMP) not in props
    # no empty resource anywhere
    assert all(r.get("description") or r.get("rlinks") for r in resources.values())


def test_plan_with_ssp_imports_it(fixture_kb: kbmod.KB, tmp_path: Path) -> None:
    a = _assessment(fixture_kb)
    docs = all_documents(fixture_kb, a, Context(kb=fixture_kb, ssp_href="../ssp/ssp.json"))
    _validate(docs)
    ap = docs[AP_FILE]["assessment-plan"]
    assert ap["import-ssp"] == {"href": "../ssp/ssp.json"}
    assert not any(p.get("value") == "no-oscal-ssp" for r in ap["back-matter"]["resources"] for p in r.get("props", []))


def test_baseline_profile_and_reviewed_controls_within_the_baseline(project_kb: kbmod.KB) -> None:
    a = assess(project_kb, [], [], scopes=["fedramp-moderate", "serverless"], now=NOW)
    baseline = project_kb.nodes["fedramp-moderate"].record
    assert isinstance(baseline, Baseline) and baseline.profile
    outside = [c for c in a.controls if c not in set(baseline.members)]
    assert outside, "the serverless view reaches controls outside the baseline"
    docs = all_documents(project_kb, a)
    _validate(docs)
    ap = docs[AP_FILE]["assessment-plan"]
    reviewed = {c["control-id"] for c in ap["reviewed-controls"]["control-selections"][0]["include-controls"]}
    assert reviewed == {oscal_control_id(c) for c in a.controls if c in set(baseline.members)}
    assert not reviewed & {oscal_control_id(c) for c in outside}
    resources = {r["uuid"]: r for r in ap["back-matter"]["resources"]}
    no_ssp = resources[ap["import-ssp"]["href"][1:]]
    (ref,) = [p["value"] for p in no_ssp["props"] if p["name"] == "import-profile" and p.get("ns") == FEDRAMP]
    assert resources[ref[1:]]["rlinks"][0]["href"] == baseline.profile
    # a FedRAMP baseline in scope: every document names the FedRAMP version it follows
    for name in (AP_FILE, AR_FILE, POAM_FILE):
        meta = next(iter(docs[name].values()))["metadata"]
        assert {"name": "fedramp-version", "ns": FEDRAMP, "value": FEDRAMP_VERSION} in meta["props"]


def test_poam_is_self_contained(fixture_kb: kbmod.KB) -> None:
    docs = all_documents(fixture_kb, _assessment(fixture_kb, "orders"))
    _validate(docs)
    poam = docs[POAM_FILE]["plan-of-action-and-milestones"]
    local = poam["local-definitions"]
    inventory = {i["uuid"] for i in local["inventory-items"]}
    components = {c["uuid"] for c in local["components"]}
    subjects = {s["subject-uuid"] for o in poam["observations"] for s in o.get("subjects", [])}
    assert subjects and subjects <= inventory
    tools = {
        act["actor-uuid"]
        for thing in (*poam["observations"], *poam["risks"])
        for origin in thing.get("origins", [])
        for act in origin["actors"]
        if act["type"] == "tool"
    }
    assert tools and tools <= components


# ---------------------------------------------------------------- who and how


def test_parties_roles_marking_and_origins(fixture_kb: kbmod.KB) -> None:
    ctx = Context(kb=fixture_kb, system=_system("orders"), assessor="Example 3PAO", marking="CUI")
    docs = all_documents(fixture_kb, _assessment(fixture_kb, "orders"), ctx)
    _validate(docs)
    for name in (AP_FILE, AR_FILE, POAM_FILE):
        meta = next(iter(docs[name].values()))["metadata"]
        assert meta["published"] == "2026-11-30T12:00:00Z"
        assert {"name": "marking", "value": "CUI"} in meta["props"]
        parties = {p["name"]: p for p in meta["parties"]}
        assert parties["Example 3PAO"]["type"] == "organization"
        assert parties["Ana Owner"]["email-addresses"] == ["ana@example.org"]
        roles = {rp["role-id"]: rp["party-uuids"] for rp in meta["responsible-parties"]}
        assert roles["assessor"] == [parties["Example 3PAO"]["uuid"]]
        assert roles["system-owner"] == [parties["Ana Owner"]["uuid"]]
        assert roles["information-system-security-officer"] == [parties["Ivo Isso"]["uuid"]]
    ap = docs[AP_FILE]["assessment-plan"]
    assets = {c["title"]: c["uuid"] for c in ap["assessment-assets"]["components"]}
    assert {"sckb", "checkov"} <= set(assets)
    result = _ar(docs)
    assert {c["title"] for c in result["local-definitions"]["assessment-assets"]["components"]} == set(assets)
    checkov = next(o for o in result["observations"] if o["title"].startswith("checkov:"))
    assert [a["actor-uuid"] for a in checkov["origins"][0]["actors"]] == [assets["checkov"], assets["sckb"]]
    meta = docs[AR_FILE]["assessment-results"]["metadata"]
    org = next(p["uuid"] for p in meta["parties"] if p["name"] == "Example 3PAO")
    assert all(f["origins"][0]["actors"][0]["actor-uuid"] == org for f in result["findings"])
    assert all(r["origins"] for r in result["risks"])


# ---------------------------------------------------------------- findings, observations, risks


def test_observations_name_only_failing_subjects_and_expire(fixture_kb: kbmod.KB) -> None:
    a = _assessment(fixture_kb)
    docs = all_documents(fixture_kb, a)
    result = _ar(docs)
    inventory = {
        i["uuid"]: next(p["value"] for p in i["props"] if p["name"] == "asset-id")
        for i in docs[AP_FILE]["assessment-plan"]["local-definitions"]["inventory-items"]
    }
    obs = next(o for o in result["observations"] if o["title"].startswith("checkov:CKV_AWS_1 "))
    # orders-fn failed, reports-fn passed: the observation names orders-fn only
    assert [inventory[s["subject-uuid"]] for s in obs["subjects"]] == ["orders-fn"]
    source = next(o for o in a.observations if o.rule == "checkov:CKV_AWS_1")
    assert sorted(source.subjects) == ["orders-fn", "reports-fn"]
    collected = datetime.strptime(obs["collected"], "%Y-%m-%dT%H:%M:%SZ")
    expires = datetime.strptime(obs["expires"], "%Y-%m-%dT%H:%M:%SZ")
    assert expires - collected == timedelta(days=a.max_age_days)


def test_every_not_satisfied_finding_has_a_risk(fixture_kb: kbmod.KB) -> None:
    findings, files = _raw()
    # an attestation failing SC-28 directly: no scanner rule, yet its not-satisfied finding names a risk
    att = next(f for f in findings if f.tool == "sckb-attestation")
    findings = [*findings, dataclasses.replace(att, identity="id-att-fail", result="fail", rule_id="encryption-at-rest-review-2")]
    a = assess(fixture_kb, findings, files, scopes=["test-baseline"], now=NOW)
    docs = all_documents(fixture_kb, a)
    _validate(docs)
    result = _ar(docs)
    risks = {r["uuid"]: r for r in result["risks"]}
    bad = [f for f in result["findings"] if f["target"]["status"]["state"] == "not-satisfied"]
    assert bad
    for f in bad:
        assert f.get("related-risks"), f["title"]
        assert all(r["risk-uuid"] in risks for r in f["related-risks"])


def test_inherited_control_cites_the_providers_authorization(fixture_kb: kbmod.KB) -> None:
    docs = all_documents(fixture_kb, _assessment(fixture_kb, "orders"), Context(kb=fixture_kb, system=_system("orders")))
    pe3 = next(f for f in _ar(docs)["findings"] if f["target"]["target-id"] == "pe-3_smt")
    assert pe3["target"]["implementation-status"]["state"] == "implemented"
    assert "AWS GovCloud FedRAMP High (held by Amazon Web Services" in pe3["target"]["implementation-status"]["remarks"]
    assert "related-observations" not in pe3


def test_findings_per_objective_where_the_kb_knows_the_parts(project_kb: kbmod.KB) -> None:
    findings, files = _raw()
    f0 = next(f for f in findings if f.rule_id == "CKV_AWS_1" and f.result == "fail")
    # a prowler check the KB maps (subset-of) to configuration-drift-monitoring, whose link covers CM-6 item b only
    drift = dataclasses.replace(
        f0, tool="prowler", rule_id="config_recorder_all_regions_enabled", mitigations=("configuration-drift-monitoring",)
    )
    a = assess(project_kb, [drift], files, scopes=["serverless"], now=NOW)
    assert any("cm-6_smt.b" in ln.parts for ln in a.controls["CM-6"].mitigations)
    docs = all_documents(project_kb, a)
    _validate(docs)
    by_target = {f["target"]["target-id"]: f for f in _ar(docs)["findings"]}
    f = by_target["cm-6_obj.b"]
    assert f["target"]["type"] == "objective-id"
    assert f["target"]["status"]["state"] == "not-satisfied" and f["related-risks"]
    assert "cm-6_smt" not in by_target
    # a control whose links name no item keeps one finding for its whole statement
    assert all(t.endswith("_smt") or "_obj." in t for t in by_target)


def test_risks_carry_characterizations_controls_and_a_recommendation(fixture_kb: kbmod.KB) -> None:
    docs = all_documents(fixture_kb, _assessment(fixture_kb))
    (risk,) = [r for r in _ar(docs)["risks"] if r["title"].startswith("checkov:CKV_AWS_1")]
    (ch,) = risk["characterizations"]
    facets = {f["name"]: f for f in ch["facets"]}
    assert facets["risk-rating"]["value"] == "high" and facets["risk-rating"]["props"] == [{"name": "state", "value": "initial"}]
    impacted = [p["value"] for p in risk["props"] if p["name"] == "impacted-control-id"]
    assert "ac-6" in impacted
    (rec,) = risk["remediations"]
    assert rec["lifecycle"] == "recommendation"
    assert "AWS Lambda: One role per Lambda function." in rec["description"]


# ---------------------------------------------------------------- evidence, tasks, namespace


def test_evidence_resources_are_typed_and_tasks_timed(fixture_kb: kbmod.KB) -> None:
    a = _assessment(fixture_kb)
    docs = all_documents(fixture_kb, a)
    ap = docs[AP_FILE]["assessment-plan"]
    ev = [r for r in ap["back-matter"]["resources"] if r.get("rlinks") and r["rlinks"][0]["href"].startswith("evidence/")]
    types = {r["title"]: {(p.get("ns"), p["value"]) for p in r["props"] if p["name"] == "type"} for r in ev}
    assert types["checkov.json"] == {(None, "tool-output"), (FEDRAMP, "raw-tool-output")}
    assert types["attestation.yaml"] == {(None, "evidence"), (FEDRAMP, "evidence")}
    media = {r["title"]: r["rlinks"][0]["media-type"] for r in ev}
    assert media["checkov.json"] == "application/json" and media["attestation.yaml"] == "application/yaml"
    assert all(r["rlinks"][0]["hashes"][0]["algorithm"] == "SHA-256" for r in ev)
    for t in ap["tasks"]:
        assert t["timing"] == {"within-date-range": {"start": a.window_start, "end": a.now}}


def test_sckb_props_use_the_project_namespace(fixture_kb: kbmod.KB) -> None:
    blob = orjson.dumps(all_documents(fixture_kb, _assessment(fixture_kb)))
    assert NS == "https://sckb.dev/ns/oscal"
    assert b"example" not in blob.replace(b"example.org", b"")


# ---------------------------------------------------------------- component definition in trestle


def test_component_definition_is_pinned_with_roles_and_status(fixture_kb: kbmod.KB) -> None:
    a = _assessment(fixture_kb)
    cdef = all_documents(fixture_kb, a)[CDEF_FILE]["component-definition"]
    roles = {r["id"] for r in cdef["metadata"]["roles"]}
    for comp in cdef["components"]:
        (impl,) = comp["control-implementations"]
        assert "/main/" not in impl["source"] and "/v1.3.0/" in impl["source"]
        reqs = {r["control-id"]: r for r in impl["implemented-requirements"]}
        ac6 = reqs["ac-6"]
        assert {"name": "implementation-status", "value": "planned"} in ac6["props"]  # AC-6 is not satisfied
        assert [r["role-id"] for r in ac6["responsible-roles"]] == ["customer"]
        assert {r["role-id"] for req in reqs.values() for r in req.get("responsible-roles", [])} <= roles


def _with_parameter(a: Assessment) -> Assessment:
    """The assessment as if made with a tailored baseline setting one AC-6(1) parameter."""
    setting = ParameterSetting("ac-06.01_odp.01", "AC-6(1)", ["key rotation and role changes"], [], None, "mine.json")
    profile = ProfileInfo("Mine", "mine.json", "0" * 64, "profile:mine.json", None, 5, parameters=[setting])
    return dataclasses.replace(a, profile=profile)


def test_component_definition_sets_the_profiles_parameters(fixture_kb: kbmod.KB) -> None:
    docs = all_documents(fixture_kb, _with_parameter(_assessment(fixture_kb)))
    _validate(docs)
    (impl,) = docs[CDEF_FILE]["component-definition"]["components"][0]["control-implementations"]
    reqs = {r["control-id"]: r for r in impl["implemented-requirements"]}
    assert reqs["ac-6.1"]["set-parameters"] == [{"param-id": "ac-06.01_odp.01", "values": ["key rotation and role changes"]}]
    assert "set-parameters" not in reqs["ac-6"]


def test_trestle_component_generate_shows_status(fixture_kb: kbmod.KB, tmp_path: Path) -> None:
    trestle = Path(sys.executable).parent / "trestle"
    if not trestle.is_file():
        pytest.skip("trestle is not installed in this environment")
    if not CATALOG.is_file():
        pytest.skip("../shared/oscal is not beside the checkout")
    export(fixture_kb, _with_parameter(_assessment(fixture_kb)), tmp_path / "out")
    ws = tmp_path / "ws"
    ws.mkdir()
    run = dict(cwd=ws, capture_output=True, text=True, timeout=300, check=False)
    assert subprocess.run([str(trestle), "init"], **run).returncode == 0  # type: ignore[call-overload]
    # no network here: the pinned catalog URL is replaced by the same catalog imported into the workspace
    assert subprocess.run([str(trestle), "import", "-f", str(CATALOG), "-o", "nist"], **run).returncode == 0  # type: ignore[call-overload]
    doc = orjson.loads((tmp_path / "out" / CDEF_FILE).read_bytes())
    for comp in doc["component-definition"]["components"]:
        for impl in comp["control-implementations"]:
            assert impl["source"].endswith(CATALOG.name)
            impl["source"] = "trestle://catalogs/nist/catalog.json"
    dest = ws / "component-definitions" / "sckb"
    dest.mkdir(parents=True)
    (dest / "component-definition.json").write_bytes(orjson.dumps(doc))
    res = subprocess.run(  # type: ignore[call-overload]
        [str(trestle), "author", "component-generate", "-n", "sckb", "-o", "md"], **run
    )
    assert res.returncode == 0, res.stdout + res.stderr
    md = {p.stem: p.read_text() for p in (ws / "md" / "AWS Lambda").rglob("*.md")}
    # AC-6 fails in the fixture: the status the assessment found, not trestle's blank default
    assert "### Implementation Status: planned" in md["ac-6"]
    assert "ac-06.01_odp.01:\n    - key rotation and role changes" in md["ac-6.1"]


# ---------------------------------------------------------------- the CLI: --system, --ssp, --assessor, --marking


def test_cli_export_with_system_ssp_assessor_and_marking(runner: CliRunner, tmp_path: Path) -> None:
    example = HERE.parent / "examples" / "phi-app"
    ws = tmp_path / "ws"

    def sckb(*args: str) -> Any:
        return runner.invoke(main, ["--workspace", str(ws), "--now", "2026-12-01", *args])

    assert sckb("evidence", "ingest", str(example / "evidence")).exit_code == 0
    assert sckb("system", "add", str(example / "system.yaml")).exit_code == 0
    r = sckb("assess", "--scope", "fedramp-moderate", "--system", "phi-app", "--format", "json")
    assert r.exit_code in (0, 1), r.output
    ssp = tmp_path / "ssp" / "ssp.json"
    ssp.parent.mkdir()
    ssp.write_text("{}")
    out = tmp_path / "out" / "oscal"
    args = ["export", "oscal", "--system", "phi-app", "--out", str(out), "--no-copy-evidence", "--ssp", str(ssp)]
    args += ["--assessor", "Example 3PAO", "--marking", "CUI"]
    if SCHEMAS.is_dir():
        args += ["--schema-dir", str(SCHEMAS)]
    r = sckb(*args)
    assert r.exit_code == 0, r.output
    ap = orjson.loads((out / AP_FILE).read_bytes())["assessment-plan"]
    assert ap["import-ssp"] == {"href": "../../ssp/ssp.json"}
    names = {p["name"] for p in ap["metadata"]["parties"]}
    assert {"Example 3PAO", "Example Health security team"} <= names
    assert {"name": "marking", "value": "CUI"} in ap["metadata"]["props"]
    # the FedRAMP Moderate baseline's official profile, in the back-matter
    assert any(
        r.get("rlinks", [{}])[0].get("href", "").endswith("MODERATE-baseline_profile.json")
        for r in ap["back-matter"]["resources"]
    )
    ar = orjson.loads((out / AR_FILE).read_bytes())["assessment-results"]
    pe = [f for f in ar["results"][0]["findings"] if "implementation-status" in f["target"]]
    assert pe and all(
        "Example: AWS Lambda in the provider's FedRAMP Moderate" in f["target"]["implementation-status"]["remarks"] for f in pe
    )


def _actors(node: Any) -> list[dict[str, Any]]:
    """Every actor of every origin (``origins`` and a characterization's ``origin``) below ``node``."""
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "origins":
                out += [a for o in value for a in o["actors"]]
            elif key == "origin":
                out += value["actors"]
            else:
                out += _actors(value)
    elif isinstance(node, list):
        for item in node:
            out += _actors(item)
    return out


def test_every_actor_resolves_in_its_own_document(tmp_path: Path) -> None:
    """With triage (adjusted ratings, decision makers, approvers): the results and the POA&M each define every party,
    role and tool their origins name."""
    if not SCHEMAS.is_dir():
        pytest.skip("../shared/oscal is not beside the checkout")
    from tests.test_oscal import triaged_export

    docs = triaged_export(tmp_path)
    ar = docs[AR_FILE]["assessment-results"]
    poam = docs[POAM_FILE]["plan-of-action-and-milestones"]
    for doc, tools in (
        (ar, {c["uuid"] for r in ar["results"] for c in r["local-definitions"]["assessment-assets"]["components"]}),
        (poam, {c["uuid"] for c in poam["local-definitions"]["components"]}),
    ):
        parties = {p["uuid"] for p in doc["metadata"]["parties"]}
        roles = {r["id"] for r in doc["metadata"]["roles"]}
        actors = _actors(doc)
        assert any(a["type"] == "party" and a.get("role-id") == "deviation-approver" for a in actors)
        for a in actors:
            assert a["actor-uuid"] in (parties if a["type"] == "party" else tools), a
            assert a.get("role-id") is None or a["role-id"] in roles, a


def test_recommendation_gives_the_guidance_of_the_systems_platforms(fixture_kb: kbmod.KB) -> None:
    ctx = Context(kb=fixture_kb, system=_system("orders"))  # boundary: providers [aws]
    docs = all_documents(fixture_kb, _assessment(fixture_kb, "orders"), ctx)
    for risks in (_ar(docs)["risks"], docs[POAM_FILE]["plan-of-action-and-milestones"]["risks"]):
        (risk,) = [r for r in risks if r["title"].startswith("checkov:CKV_AWS_1")]
        rec = next(r for r in risk["remediations"] if r["lifecycle"] == "recommendation")
        assert "AWS Lambda: One role per Lambda function." in rec["description"]
        assert "Google Cloud Functions" not in rec["description"] and "Azure Functions" not in rec["description"]
