"""The OSCAL system security plan (``sckb export ssp``): schema validity (NIST 1.1.3 SSP schema), loading in
compliance-trestle and ``trestle validate``, the parts it takes from the design, the KB's responsibility, the
assessment's observations (the same UUIDs ``export oscal`` writes), placeholders and their checklist, bad input,
determinism, and every IaC project of ../shared/iac."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.design.check import run_check
from compliance.evidence.system import System, load_system
from compliance.kb.core import oscal_id
from compliance.kb.model import Baseline
from compliance.kb.scope import resolve
from compliance.oscal import Validators, errors
from compliance.oscal.build import NS
from compliance.oscal.ssp import PLACEHOLDER, build_ssp

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "phi-app"
SHARED = ROOT.parent / "shared"
SCHEMAS = SHARED / "oscal" / "schemas"
IAC = SHARED / "iac"
NOW = "2026-12-01"

pytestmark = pytest.mark.skipif(not SCHEMAS.is_dir(), reason="../shared/oscal is not beside the checkout")

#: a system file for designs other than the example: one information type, no authorization named
MINIMAL = """\
name: iac-project
description: A serverless project from the shared IaC set
boundary:
  providers: [aws, azure, gcp]
ssp:
  sensitivity: low
  information_types:
    - {title: Public Information, id: C.3.5.1, confidentiality: low, integrity: moderate, availability: low}
"""


def sckb(runner: CliRunner, ws: Path, *args: str) -> Any:
    return runner.invoke(main, ["--workspace", str(ws), "--now", NOW, *args])


def ssp_of(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(path.read_bytes())["system-security-plan"]
    return doc


@pytest.fixture(scope="module")
def kb() -> kbmod.KB:
    return kbmod.load([])


@pytest.fixture(scope="module")
def validators() -> Validators:
    return Validators(SCHEMAS)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace (evidence, design evidence, determinations, the phi-app system, an assessment) with the
    OSCAL documents and the SSP exported into ``out/``."""
    base = tmp_path_factory.mktemp("demo")
    ws, out = base / "ws", base / "out"
    r = CliRunner()
    steps = [
        ["evidence", "ingest", str(EXAMPLE / "evidence"), "--scan-time", "2026-11-30T09:30:00Z"],
        ["design", "check", str(EXAMPLE / "template.yaml"), "--evidence"],
        ["assess", "determine", "--file", str(EXAMPLE / "determinations.yaml")],
        ["system", "add", str(EXAMPLE / "system.yaml")],
        ["assess", "--system", "phi-app", "--scope", "fedramp-moderate", "--format", "json"],
        ["export", "oscal", "--system", "phi-app", "--out", str(out)],
        [
            "export", "ssp", "--design", str(EXAMPLE / "template.yaml"), "--scope", "fedramp-moderate",
            "--system", "phi-app", "--assessment", "latest", "--out", str(out / "ssp.json"),
            "--markdown", str(base / "todo.md"), "--schema-dir", str(SCHEMAS),
        ],
    ]  # fmt: skip
    for step in steps:
        res = sckb(r, ws, *step)
        assert res.exit_code == 0, (step, res.output)
    return base


def test_demo_plan_is_schema_valid_and_loads_in_trestle(demo: Path, validators: Validators) -> None:
    from trestle.oscal.ssp import SystemSecurityPlan

    doc = orjson.loads((demo / "out" / "ssp.json").read_bytes())
    assert errors(doc, validators) == []
    plan = SystemSecurityPlan.oscal_read(demo / "out" / "ssp.json")
    assert plan.system_characteristics.system_name == "phi-app"
    assert plan.system_characteristics.security_sensitivity_level == "fips-199-moderate"
    assert len(plan.control_implementation.implemented_requirements) == len(
        resolve(kbmod.load([]), ["fedramp-moderate"]).controls
    )


def test_profile_characteristics_and_components(demo: Path, kb: kbmod.KB) -> None:
    ssp = ssp_of(demo / "out" / "ssp.json")
    baseline = kb.nodes["fedramp-moderate"].record
    assert isinstance(baseline, Baseline)
    assert ssp["import-profile"]["href"] == baseline.profile
    assert ssp["import-profile"]["href"].startswith("https://raw.githubusercontent.com/GSA/fedramp-automation/")
    chars = ssp["system-characteristics"]
    assert chars["system-ids"] == [{"id": "phi-app-demo"}]
    assert chars["status"] == {"state": "under-development"}
    info = chars["system-information"]["information-types"]
    assert [(t["title"], t["categorizations"][0]["information-type-ids"]) for t in info] == [
        ("Health Care Delivery Services", ["D.14.1"])
    ]
    # the high-water mark of the information types (one here: moderate, moderate, low)
    assert chars["security-impact-level"] == {
        "security-objective-confidentiality": "fips-199-moderate",
        "security-objective-integrity": "fips-199-moderate",
        "security-objective-availability": "fips-199-low",
    }
    # one component per function, data store and API, plus this-system and the platform
    res = run_check(kb, EXAMPLE / "template.yaml", "fedramp-moderate", today=date(2026, 12, 1))
    comps = ssp["system-implementation"]["components"]
    kinds = [next((p["value"] for p in c.get("props", []) if p["name"] == "element-kind"), c["type"]) for c in comps]
    apis = {r.props["api"] for r in res.design.of_kind("route")}
    assert kinds.count("function") == len(res.design.of_kind("function")) == 3
    assert kinds.count("datastore") == len(res.design.of_kind("datastore"))
    assert kinds.count("api") == len(apis) == 1
    assert kinds.count("this-system") == 1
    platform = next(c for c in comps if c["title"] == "AWS Lambda")
    lev = ssp["system-implementation"]["leveraged-authorizations"]
    assert len(lev) == 1 and lev[0]["date-authorized"] == "2016-01-01"
    assert {"name": "leveraged-authorization-uuid", "value": lev[0]["uuid"]} in platform["props"]
    assert any(p["uuid"] == lev[0]["party-uuid"] and p["name"] == "Amazon Web Services" for p in ssp["metadata"]["parties"])
    # the diagram is a back-matter resource both descriptions point at, and holds every component
    diagram = ssp["back-matter"]["resources"][0]
    for part in ("authorization-boundary", "data-flow"):
        assert chars[part]["diagrams"][0]["links"][0]["href"] == "#" + diagram["uuid"]
    import base64

    mermaid = base64.b64decode(diagram["base64"]["value"]).decode()
    assert mermaid.startswith("flowchart LR")
    for f in res.design.of_kind("function"):
        assert f"Function {f.name}" in mermaid and f"Function {f.name}" in chars["data-flow"]["description"]
    assert "Queue LabResultsQueue -> Function LabResultsWorkerFunction (sqs)" in chars["data-flow"]["description"]
    # users: the system file's two, and one per execution role of the design
    users = ssp["system-implementation"]["users"]
    assert [u["title"] for u in users[:2]] == ["Clinician", "Administrator"]
    assert len(users) == 2 + len(res.design.of_kind("role"))


def test_responsibility_uses_inherited_and_satisfied(demo: Path, kb: kbmod.KB) -> None:
    ssp = ssp_of(demo / "out" / "ssp.json")
    comps = {c["uuid"]: c for c in ssp["system-implementation"]["components"]}
    seen = set()
    for req in ssp["control-implementation"]["implemented-requirements"]:
        cid = next(c for c in resolve(kb, ["fedramp-moderate"]).controls if oscal_id(c) == req["control-id"])
        resp = kb.party(cid)
        assert resp is not None
        party = resp.party
        seen.add(party)
        assert {"name": "responsibility", "ns": "https://sckb.dev/ns/oscal", "value": party} in req["props"]
        types = [comps[bc["component-uuid"]]["type"] for bc in req["by-components"]]
        platform = [bc for bc in req["by-components"] if comps[bc["component-uuid"]]["title"] == "AWS Lambda"]
        if party == "provider":
            assert types == ["system"] and platform[0]["implementation-status"]["state"] == "implemented"
            assert resp.basis and resp.basis in platform[0]["inherited"][0]["description"]
        elif party == "shared":
            assert "inherited" in platform[0] and "satisfied" in platform[0] and "this-system" in types
        else:
            assert platform == [] and "this-system" in types
    assert seen == {"provider", "shared", "customer"}


def _this_system(ssp: dict[str, Any], control: str) -> dict[str, Any]:
    comps = {c["uuid"]: c for c in ssp["system-implementation"]["components"]}
    req = next(r for r in ssp["control-implementation"]["implemented-requirements"] if r["control-id"] == control)
    bc: dict[str, Any] = next(b for b in req["by-components"] if comps[b["component-uuid"]]["type"] == "this-system")
    return bc


def test_statuses_follow_the_assessment_then_the_design(demo: Path, kb: kbmod.KB) -> None:
    from compliance.assess import load_assessment
    from compliance.evidence.store import Store

    ssp = ssp_of(demo / "out" / "ssp.json")
    with Store.open(demo / "ws", read_only=True) as store:
        a = load_assessment(store)
    expected = {"satisfied": "implemented", "partially-satisfied": "partial", "not-satisfied": "planned"}
    checked = 0
    for cid, ctl in a.controls.items():
        resp = kb.party(cid)
        if ctl.status not in expected or (resp is not None and resp.party == "provider"):
            continue
        state = _this_system(ssp, oscal_id(cid)).get("implementation-status", {}).get("state")
        want = expected[ctl.status]
        if ctl.determination is not None and ctl.derived_status in ("not-satisfied", "partially-satisfied"):
            want = "alternative"
        assert state == want, cid
        checked += 1
    assert checked >= 5
    # a control the assessment left open takes the design check's status (AC-6: the design lacks least privilege)
    assert a.controls["AC-6"].status == "not-satisfied" or a.controls["AC-6"].status == "not-assessed"
    res = run_check(kb, EXAMPLE / "template.yaml", "fedramp-moderate", today=date(2026, 12, 1))
    assert res.controls["AC-6"]["status"] == "unmet"
    assert _this_system(ssp, "ac-6")["implementation-status"]["state"] == "planned"
    assert "planned: the design lacks it" in _this_system(ssp, "ac-6")["description"]


def test_evidence_links_are_the_assessment_results_observations(demo: Path) -> None:
    ssp = ssp_of(demo / "out" / "ssp.json")
    ar = orjson.loads((demo / "out" / "assessment-results.json").read_bytes())["assessment-results"]
    observations = {o["uuid"] for r in ar["results"] for o in r.get("observations", [])}
    findings = {f["target"]["target-id"].removesuffix("_smt"): f for r in ar["results"] for f in r.get("findings", [])}
    links = 0
    for req in ssp["control-implementation"]["implemented-requirements"]:
        for bc in req["by-components"]:
            hrefs = [ln["href"] for ln in bc.get("links", [])]
            for h in hrefs:
                file, _, u = h.partition("#")
                assert file == "assessment-results.json" and u in observations
            if hrefs and req["control-id"] in findings:
                # the same observations the control's finding relates
                related = {o["observation-uuid"] for o in findings[req["control-id"]].get("related-observations", [])}
                assert {h.partition("#")[2] for h in hrefs} == related
            links += len(hrefs)
    assert links > 0
    assert any(r.get("rlinks") == [{"href": "assessment-results.json"}] for r in ssp["back-matter"]["resources"])


def test_placeholders_where_only_a_person_can_write(demo: Path, kb: kbmod.KB) -> None:
    ssp = ssp_of(demo / "out" / "ssp.json")
    todo = (demo / "todo.md").read_text()
    people = 0
    for cid in resolve(kb, ["fedramp-moderate"]).controls:
        methods = kb.methods_required(cid)
        resp = kb.party(cid)
        if methods is None or not methods <= {"EXAMINE", "INTERVIEW"} or (resp is not None and resp.party == "provider"):
            continue
        bc = _this_system(ssp, oscal_id(cid))
        assert bc["description"].startswith(PLACEHOLDER), cid
        assert {"name": "placeholder", "ns": "https://sckb.dev/ns/oscal", "value": "true"} in bc["props"]
        assert f"- [ ] **{cid}** " in todo
        people += 1
    assert people >= 20  # every -1 control at least
    # the written statements are the mitigations' guidance, never a placeholder
    assert not _this_system(ssp, "ac-6")["description"].startswith(PLACEHOLDER)
    assert todo.count("- [ ] ") == sum(
        1 for r in ssp["control-implementation"]["implemented-requirements"] for bc in r["by-components"]
        if any(p["name"] == "placeholder" for p in bc.get("props", []))
    )  # fmt: skip


def test_same_inputs_give_the_same_bytes(demo: Path, tmp_path: Path) -> None:
    r = CliRunner()
    args = ["export", "ssp", "--design", str(EXAMPLE / "template.yaml"), "--scope", "fedramp-moderate", "--system", "phi-app",
            "--assessment", "latest"]  # fmt: skip
    one = sckb(r, demo / "ws", *args, "--out", str(tmp_path / "one.json"))
    two = sckb(r, demo / "ws", *args, "--out", str(tmp_path / "two.json"), "--json")
    assert one.exit_code == 0 and two.exit_code == 0, (one.output, two.output)
    assert (
        (tmp_path / "one.json").read_bytes() == (tmp_path / "two.json").read_bytes() == (demo / "out" / "ssp.json").read_bytes()
    )
    moved = sckb(r, demo / "ws", *args, "--out", str(tmp_path / "m.json"), "--results-href", "oscal/assessment-results.json")
    hrefs = [ln["href"] for req in ssp_of(tmp_path / "m.json")["control-implementation"]["implemented-requirements"]
             for bc in req["by-components"] for ln in bc.get("links", [])]  # fmt: skip
    assert moved.exit_code == 0 and hrefs and all(h.startswith("oscal/assessment-results.json#") for h in hrefs)
    summary = json.loads(two.stdout)
    assert summary["controls"] == sum(summary["status"].values()) == sum(summary["responsibility"].values())


def test_trestle_validate_accepts_the_plan(tmp_path: Path) -> None:
    """``trestle validate`` resolves the imported profile; with no network here, the check runs on a copy whose
    import-profile names a local copy of the same official FedRAMP High profile (and its catalog)."""
    trestle = Path(sys.executable).with_name("trestle")
    if not trestle.exists():
        pytest.skip("trestle is not installed in this environment")
    out = tmp_path / "ssp.json"
    res = CliRunner().invoke(
        main,
        ["--now", NOW, "export", "ssp", "--design", str(EXAMPLE / "template.yaml"), "--scope", "fedramp-high",
         "--system-file", str(EXAMPLE / "system.yaml"), "--out", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    root = tmp_path / "trestle"
    root.mkdir()
    subprocess.run([str(trestle), "init"], cwd=root, check=True, capture_output=True)
    shutil.copy(SHARED / "oscal" / "fedramp" / "FedRAMP_rev5_HIGH-baseline_profile.json", root / "profile.json")
    shutil.copy(SHARED / "oscal" / "nist" / "NIST_SP-800-53_rev5_catalog.json", root)  # the profile's relative import
    doc = orjson.loads(out.read_bytes())
    assert doc["system-security-plan"]["import-profile"]["href"].endswith("/FedRAMP_rev5_HIGH-baseline_profile.json")
    doc["system-security-plan"]["import-profile"]["href"] = "trestle://profile.json"
    target = root / "system-security-plans" / "phi-app" / "system-security-plan.json"
    target.parent.mkdir(parents=True)
    target.write_bytes(orjson.dumps(doc))
    run = subprocess.run([str(trestle), "validate", "-f", str(target)], cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "VALID" in run.stdout


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            MINIMAL.split("ssp:")[0],
            "ssp: missing: add an 'ssp:' block with sensitivity",
        ),
        (
            MINIMAL.replace("  sensitivity: low\n", ""),
            "ssp.sensitivity: missing: write 'sensitivity: low|moderate|high'",
        ),
        (
            MINIMAL.replace(", confidentiality: low", ""),
            "ssp.information_types.0.confidentiality: missing: write 'confidentiality: low|moderate|high'",
        ),
        (
            MINIMAL.replace("description: A serverless project from the shared IaC set\n", ""),
            "description: missing: describe the system in a sentence",
        ),
    ],
    ids=["no-ssp-block", "no-sensitivity", "no-confidentiality", "no-description"],
)
def test_missing_fields_name_the_file_and_what_to_write(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "system.yaml"
    f.write_text(text)
    res = CliRunner().invoke(
        main,
        ["export", "ssp", "--design", str(EXAMPLE / "template.yaml"), "--scope", "nist-low", "--system-file", str(f),
         "--out", str(tmp_path / "ssp.json")],
    )  # fmt: skip
    assert res.exit_code == 3, res.output
    assert res.output.startswith(f"sckb: error: {f}") and message in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "ssp.json").exists()


def test_a_scope_without_an_official_profile_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "system.yaml"
    f.write_text(MINIMAL)
    args = [
        "export",
        "ssp",
        "--design",
        str(EXAMPLE / "template.yaml"),
        "--system-file",
        str(f),
        "--out",
        str(tmp_path / "o.json"),
    ]
    res = CliRunner().invoke(main, [*args, "--scope", "serverless"])
    assert res.exit_code == 4 and "imports one baseline profile" in res.output and "fedramp-moderate" in res.output
    both = CliRunner().invoke(main, [*args, "--scope", "nist-low", "--system", "x"])
    assert both.exit_code == 2 and "one of --system NAME or --system-file FILE" in both.output
    assert not (tmp_path / "o.json").exists()


def test_without_a_leveraged_authorization_the_platform_is_a_listed_placeholder(tmp_path: Path, kb: kbmod.KB) -> None:
    f = tmp_path / "system.yaml"
    f.write_text(MINIMAL)
    system = load_system(f)
    res = run_check(kb, EXAMPLE / "template.yaml", "nist-low", today=date(2026, 12, 1))
    result = build_ssp(kb, res, resolve(kb, ["nist-low"]), system, source=str(f), now=NOW + "T00:00:00Z")
    platform = next(
        c for c in result.document["system-security-plan"]["system-implementation"]["components"] if c["title"] == "AWS Lambda"
    )
    assert platform["type"] == "service" and PLACEHOLDER in platform["description"]
    assert "leveraged-authorizations" not in result.document["system-security-plan"]["system-implementation"]
    assert any(p.control == "system" and p.title == "Leveraged authorization of AWS Lambda" for p in result.placeholders)


# ---------------------------------------------------------------------- every IaC project of ../shared/iac


def _projects() -> list[str]:
    if not (IAC / "SOURCES.tsv").is_file():
        return []
    with (IAC / "SOURCES.tsv").open(newline="") as fh:
        return [row["project"] for row in csv.DictReader(fh, delimiter="\t")]


@pytest.fixture(scope="module")
def minimal_system(tmp_path_factory: pytest.TempPathFactory) -> System:
    f = tmp_path_factory.mktemp("sys") / "system.yaml"
    f.write_text(MINIMAL)
    return load_system(f)


@pytest.mark.parametrize("project", _projects())
def test_every_iac_project_gives_a_valid_plan(
    project: str, kb: kbmod.KB, validators: Validators, minimal_system: System, tmp_path: Path
) -> None:
    from trestle.oscal.ssp import SystemSecurityPlan

    from compliance.oscal.ssp import write_ssp

    if not any(p.suffix in (".yaml", ".yml", ".json", ".tf", ".template") for p in (IAC / project).rglob("*")):
        # Bicep only: the design check cannot read it, so no plan is written (one line naming the fix, exit 3)
        res_cli = CliRunner().invoke(
            main,
            ["export", "ssp", "--design", str(IAC / project), "--scope", "fedramp-moderate", "--system-file",
             str(EXAMPLE / "system.yaml"), "--out", str(tmp_path / "ssp.json")],
        )  # fmt: skip
        assert res_cli.exit_code == 3 and "compile them to ARM" in res_cli.output
        assert not (tmp_path / "ssp.json").exists()
        return
    res = run_check(kb, IAC / project, "fedramp-moderate", today=date(2026, 12, 1))
    result = build_ssp(kb, res, resolve(kb, ["fedramp-moderate"]), minimal_system, source="system.yaml", now=NOW + "T00:00:00Z")
    out = tmp_path / "ssp.json"
    write_ssp(result, out, schema_dir=SCHEMAS)
    assert errors(orjson.loads(out.read_bytes()), validators) == []
    plan = SystemSecurityPlan.oscal_read(out)
    # this-system, one platform per provider, one component per function, data store and API
    providers = {e.provider for e in res.design.elements.values()} or {"aws"}
    apis = {r.props.get("api") or r.name for r in res.design.of_kind("route")}
    functions, stores = res.design.of_kind("function"), res.design.of_kind("datastore")
    assert len(plan.system_implementation.components) == 1 + len(providers) + len(functions) + len(stores) + len(apis)
    titles = {c.title for c in plan.system_implementation.components}
    assert {f"Function {f.name}" for f in functions} <= titles
    assert len(plan.control_implementation.implemented_requirements) == len(resolve(kb, ["fedramp-moderate"]).controls)


def test_tailoring_exemptions_and_a_given_profile(tmp_path: Path, kb: kbmod.KB, minimal_system: System) -> None:
    from compliance.oscal.ssp import ImportedProfile, baseline_profile

    res = run_check(kb, EXAMPLE / "template.yaml", "fedramp-li-saas", today=date(2026, 12, 1))
    scope = resolve(kb, ["fedramp-li-saas"])
    official = baseline_profile(kb, scope)
    exempt = sorted(c for c, t in official.tailoring.items() if t and set(t) <= {"NSO", "FED"})
    assert "AC-8" in exempt  # [FED] in the LI-SaaS profile
    result = build_ssp(kb, res, scope, minimal_system, source="s.yaml", now=NOW + "T00:00:00Z")
    for cid in exempt:
        assert result.controls[cid][0] == "not-applicable", cid
    mixed = next(c for c, t in official.tailoring.items() if "NSO" in t and not set(t) <= {"NSO", "FED"})
    assert result.controls[mixed][0] != "not-applicable"
    # a profile given by the caller (the seam for tailored profiles) replaces the official one
    mine = ImportedProfile("profiles/ours/profile.json", "Our tailored LI-SaaS")
    doc = build_ssp(kb, res, scope, minimal_system, source="s.yaml", now=NOW + "T00:00:00Z", profile=mine).document
    assert doc["system-security-plan"]["import-profile"]["href"] == "profiles/ours/profile.json"
    assert all(s != "not-applicable" for s, _ in build_ssp(
        kb, res, scope, minimal_system, source="s.yaml", now=NOW + "T00:00:00Z", profile=mine).controls.values())  # fmt: skip


def test_the_pdf_report_summarises_a_given_plan(demo: Path, tmp_path: Path) -> None:
    from pypdf import PdfReader

    from compliance.report import ssp_summary

    plan = demo / "out" / "ssp.json"
    summary = ssp_summary(plan)
    ssp = ssp_of(plan)
    reqs = ssp["control-implementation"]["implemented-requirements"]
    assert summary.controls == len(reqs) == sum(total for _, _, total in summary.rows)
    assert summary.parties == ["provider", "shared", "customer"]
    implemented = next(cells for status, cells, _ in summary.rows if status == "implemented")
    provider = sum(1 for r in reqs if {"name": "responsibility", "ns": NS, "value": "provider"} in r["props"])
    assert implemented[0] == provider  # every provider control is implemented (inherited)
    assert summary.placeholders == (demo / "todo.md").read_text().count("- [ ] ")
    res = sckb(
        CliRunner(), demo / "ws", "report", "pdf", "--system", "phi-app", "--ssp", str(plan), "--out", str(tmp_path / "r.pdf")
    )
    assert res.exit_code == 0, res.output
    text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "r.pdf").pages[:8])
    assert "System security plan" in text and f"{summary.placeholders} statements in the plan are placeholders" in text
    bad = tmp_path / "bad.json"
    bad.write_text('{"catalog": {}}')
    res = sckb(CliRunner(), demo / "ws", "report", "pdf", "--ssp", str(bad), "--out", str(tmp_path / "x.pdf"))
    assert res.exit_code == 3 and "not an OSCAL system security plan" in res.output
    assert not (tmp_path / "x.pdf").exists()


def test_a_tailored_profile_sets_the_plan_scope_and_is_imported(tmp_path: Path, validators: Validators) -> None:
    """--profile instead of --scope: two exclusions (PE-3, PE-6) and one added enhancement (AC-6(3)) change the
    plan's controls exactly that way, and the plan imports the user's profile file, named relative to the plan."""
    profile = tmp_path / "profiles" / "tailored.yaml"
    profile.parent.mkdir()
    shutil.copy(ROOT / "examples" / "tailored-moderate.yaml", profile)
    out = tmp_path / "out" / "ssp.json"
    args = ["export", "ssp", "--design", str(EXAMPLE / "template.yaml"), "--system-file", str(EXAMPLE / "system.yaml")]
    r = sckb(CliRunner(), tmp_path / "ws", *args, "--profile", str(profile), "--out", str(out), "--schema-dir", str(SCHEMAS))
    assert r.exit_code == 0, r.output
    doc = orjson.loads(out.read_bytes())
    assert errors(doc, validators) == []
    plan = doc["system-security-plan"]
    assert plan["import-profile"]["href"] == "../profiles/tailored.yaml"
    ids = {x["control-id"] for x in plan["control-implementation"]["implemented-requirements"]}
    base = {oscal_id(c) for c in resolve(kbmod.load([]), ["fedramp-moderate"]).controls}
    assert ids == (base - {"pe-3", "pe-6"}) | {"ac-6.3"}
    both = sckb(CliRunner(), tmp_path / "ws", *args, "--profile", str(profile), "--scope", "nist-low", "--out", str(out))
    assert both.exit_code == 2 and "one of --scope BASELINE or --profile FILE" in both.output
