"""Mitigations of the phases "code" and "identity" (mappings/mitigations/code.yaml and identity.yaml)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import main
from compliance.kb import load
from compliance.kb.load import KB
from compliance.kb.model import Control, EdgeKind, Mitigation, NodeKind, RiskLink

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MITIGATION_DIR = ROOT / "mappings" / "mitigations"
CONTROLS_CSV = SHARED / "reference" / "nist-800-53r5-controls.csv"
HIPAA_CSV = SHARED / "reference" / "hipaa-security-rule.csv"

# The fixed catalogue (ids and main risks) for these two phases.
EXPECTED: dict[str, dict[str, list[str]]] = {
    "code": {
        "dependency-vulnerability-scanning": ["SAS-6"],
        "static-analysis-of-function-code": ["SAS-1", "SAS-10"],
        "software-bill-of-materials": ["SAS-6"],
        "code-signing": ["SAS-3", "SAS-6"],
        "trusted-layers-and-extensions": ["SAS-6"],
        "supported-runtimes": ["SAS-6", "SAS-3"],
        "policy-as-code-at-deploy": ["SAS-3"],
        "secret-scanning": ["SAS-7"],
        "protected-deployment-pipeline": ["SAS-3", "SAS-4"],
        "immutable-versioned-deployments": ["SAS-3", "SAS-11"],
        "function-inventory-and-decommissioning": ["SAS-11"],
        "safe-error-handling": ["SAS-10"],
        "minimal-deployment-package": ["SAS-6", "SAS-12"],
    },
    "identity": {
        "least-privilege-execution-role": ["SAS-4"],
        "no-wildcard-permissions": ["SAS-4"],
        "dedicated-role-per-function": ["SAS-4"],
        "api-authentication": ["SAS-2"],
        "function-url-authentication": ["SAS-2", "SAS-3"],
        "restrictive-resource-policies": ["SAS-3", "SAS-2"],
        "token-validation": ["SAS-2"],
        "secrets-in-secrets-manager": ["SAS-7"],
        "secret-rotation": ["SAS-7"],
        "encrypt-environment-variables": ["SAS-7"],
        "key-management-and-rotation": ["SAS-7", "SAS-12"],
        "mfa-for-privileged-access": ["SAS-2", "SAS-3"],
        "cross-account-trust-restriction": ["SAS-4", "SAS-2"],
        "permission-guardrails": ["SAS-4", "SAS-3"],
    },
}
ALL_IDS = [(phase, mid) for phase, ids in EXPECTED.items() for mid in ids]

#: Strategy links the catalogue plan assigns to these phases (each strategy must be linked somewhere).
REQUIRED_STRATEGIES = {
    "api-authentication": {"MS-SS-1", "MS-SS-2"},
    "least-privilege-execution-role": {"MS-SS-2", "SM-DR2"},
    "function-inventory-and-decommissioning": {"MS-SS-3"},
    "immutable-versioned-deployments": {"MS-SS-9"},
    "token-validation": {"MS-SS-10", "MS-SS-1", "SM-DR13"},
    "mfa-for-privileged-access": {"MS-SS-11"},
    "restrictive-resource-policies": {"SM-DR1"},
    "key-management-and-rotation": {"SM-DR12", "SM-DR15"},
}
ALLOWED_STRATEGIES = {f"MS-SS-{n}" for n in (1, 2, 3, 4, 8, 9, 10, 11, 13)} | {f"SM-DR{n}" for n in (1, 2, 6, 8, 12, 13, 15)}
CSA_IDS = {f"SAS-{n}" for n in range(1, 13)}

needs_shared = pytest.mark.skipif(not CONTROLS_CSV.is_file(), reason="../shared reference data not present")


@pytest.fixture(scope="module")
def kb() -> KB:
    """The whole shipped KB: the links must resolve against the real catalogues."""
    return load()


@pytest.fixture(scope="module")
def own_kb() -> KB:
    """Only these two files, to check that their records parse on their own."""
    return load(data_dirs=[MITIGATION_DIR / "code.yaml", MITIGATION_DIR / "identity.yaml"])


def _mitigation(kb: KB, mid: str) -> Mitigation:
    rec = kb.nodes[mid].record
    assert isinstance(rec, Mitigation)
    return rec


def _risk_ids(m: Mitigation) -> list[str]:
    return [r.to if isinstance(r, RiskLink) else r for r in m.risks]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", errors="replace") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def test_files_parse_on_their_own(own_kb: KB) -> None:
    # references to controls etc. dangle without the catalogues; schema and duplicate problems must not exist
    structural = [str(p) for p in own_kb.problems if "unknown id" not in p.message]
    assert structural == []
    assert {n.id for n in own_kb.of_kind(NodeKind.MITIGATION)} == {mid for _, mid in ALL_IDS}


def test_no_kb_problem_points_at_these_files(kb: KB) -> None:
    from compliance.kb import validate

    mine = [str(p) for p in validate(kb) if Path(p.file).name in ("code.yaml", "identity.yaml")]
    assert mine == []


@pytest.mark.parametrize(("phase", "mid"), ALL_IDS)
def test_mitigation_is_complete(kb: KB, phase: str, mid: str) -> None:
    entry = kb.nodes[mid]
    assert Path(entry.origin.file).name == f"{phase}.yaml"
    m = _mitigation(kb, mid)
    assert m.phase == phase
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", m.description.strip()) if s]
    assert 2 <= len(sentences) <= 4, f"{mid}: description should be 2-4 sentences"
    guidance = [m.guidance.aws, m.guidance.gcp, m.guidance.azure]
    assert all(len(g) > 80 for g in guidance), mid
    assert len(set(guidance)) == 3
    risks = _risk_ids(m)
    assert set(EXPECTED[phase][mid]) <= set(risks), f"{mid}: main risks of the catalogue missing"
    assert set(risks) <= CSA_IDS
    assert 3 <= len(m.controls) <= 8, mid
    assert len(m.safeguards) >= 1, mid
    for link in [*m.controls, *m.safeguards, *m.strategies]:
        assert len(link.rationale) > 30, f"{mid} -> {link.to}: rationale too thin"
        assert link.source.strip()
    for link in m.controls:
        assert "NIST SP 800-53 Rev. 5" in link.source and link.to in link.source, f"{mid} -> {link.to}"
    for link in m.safeguards:
        assert link.source.startswith("45 CFR ") and link.to in link.source, f"{mid} -> {link.to}"
    for link in m.strategies:
        assert link.to in ALLOWED_STRATEGIES, f"{mid} -> {link.to}"
        assert "NIST SP 800-204" in link.source and link.to in link.source


@pytest.mark.parametrize(("phase", "mid"), ALL_IDS)
def test_links_resolve_to_the_right_kinds(kb: KB, phase: str, mid: str) -> None:
    m = _mitigation(kb, mid)
    for link in m.controls:
        node = kb.nodes[link.to]
        assert node.kind is NodeKind.CONTROL
        assert isinstance(node.record, Control) and not node.record.withdrawn, f"{mid} -> withdrawn {link.to}"
    for link in m.safeguards:
        assert kb.nodes[link.to].kind is NodeKind.SAFEGUARD
    for link in m.strategies:
        assert kb.nodes[link.to].kind is NodeKind.STRATEGY
    for rid in _risk_ids(m):
        assert kb.nodes[rid].kind is NodeKind.RISK
        assert (rid, mid, EdgeKind.MITIGATED_BY.value) in kb.edges


@needs_shared
def test_control_and_safeguard_ids_exist_in_the_reference_data(kb: KB) -> None:
    controls = {r["control_id"]: r for r in _read_csv(CONTROLS_CSV)}
    hipaa = _read_csv(HIPAA_CSV)
    hipaa_ids = {r["citation"] for r in hipaa} | {r["standard_ref"] for r in hipaa}
    hipaa_ids |= {"164.312(a)(1)", "164.312(c)(1)"}  # standards of 164.312 are cited by their first paragraph
    for _, mid in ALL_IDS:
        m = _mitigation(kb, mid)
        for link in m.controls:
            assert link.to in controls, f"{mid}: unknown control {link.to}"
            assert controls[link.to]["withdrawn"] != "true", f"{mid}: withdrawn control {link.to}"
        for link in m.safeguards:
            assert link.to in hipaa_ids, f"{mid}: unknown HIPAA citation {link.to}"


@needs_shared
def test_most_control_links_are_in_the_fedramp_moderate_baseline(kb: KB) -> None:
    controls = {r["control_id"]: r for r in _read_csv(CONTROLS_CSV)}
    links = [link.to for _, mid in ALL_IDS for link in _mitigation(kb, mid).controls]
    in_moderate = [c for c in links if controls[c]["fedramp_moderate"]]
    assert len(in_moderate) / len(links) >= 0.85


def test_least_privilege_maps_to_ac6_and_sas4(kb: KB) -> None:
    m = _mitigation(kb, "least-privilege-execution-role")
    assert "SAS-4" in _risk_ids(m)
    ac6 = [c for c in m.controls if c.to == "AC-6"]
    assert len(ac6) == 1 and ac6[0].relationship.value == "subset-of"


@pytest.mark.parametrize(("mid", "strategies"), sorted(REQUIRED_STRATEGIES.items()))
def test_required_strategy_links(kb: KB, mid: str, strategies: set[str]) -> None:
    for sid in strategies:
        edge = kb.edges.get((sid, mid, EdgeKind.IMPLEMENTED_BY.value))
        assert edge is not None, f"{sid} -> {mid} missing"
        assert edge.relationship and edge.rationale and edge.ref


def test_every_csa_risk_reached_by_the_whole_catalogue(kb: KB) -> None:
    # these phases cover SAS-1..7 and 10..12; SAS-8 and SAS-9 come from the runtime and event-input phases
    mine = {rid for _, mid in ALL_IDS for rid in _risk_ids(_mitigation(kb, mid))}
    assert CSA_IDS - mine == {"SAS-8", "SAS-9"}
    counts = {rid: 0 for rid in CSA_IDS}
    for e in kb.edges.values():
        if e.kind is EdgeKind.MITIGATED_BY and e.source in counts:
            counts[e.source] += 1
    assert all(n >= 2 for n in counts.values()), counts


def test_query_risk_through_cli_lists_these_mitigations() -> None:
    res = CliRunner().invoke(main, ["query", "risk", "SAS-4", "--json"], env={"SCKB_KB": ""})
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    ids = {m["id"] for m in data["mitigations"]}
    assert {"least-privilege-execution-role", "no-wildcard-permissions", "dedicated-role-per-function"} <= ids
    lp = next(m for m in data["mitigations"] if m["id"] == "least-privilege-execution-role")
    assert any(c["id"] == "AC-6" and c["relationship"] == "subset-of" for c in lp["controls"])
    assert "AC-6" in data["controls"]
