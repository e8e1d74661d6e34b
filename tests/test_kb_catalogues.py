"""Issue 3: the official catalogues, crosswalks and FaaS responsibility shipped in the KB.

The KB is loaded from this stage's files only (plus the risks they link to), so other
stages' in-progress data cannot hide or cause a failure here. Reference facts are read
in place from ``../shared/reference`` (tests skip when it is absent).
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from compliance import kb as kbmod
from compliance.kb.load import KB
from compliance.kb.model import Baseline, Control, Cwe, EdgeKind, NodeKind, Safeguard, Strategy

ROOT = Path(__file__).resolve().parents[1]
OWN_FILES = [
    ROOT / "controls",
    ROOT / "mappings" / "hipaa-crosswalk.yaml",
    ROOT / "mappings" / "responsibility.yaml",
    ROOT / "mappings" / "cwe-risks.yaml",
    ROOT / "mappings" / "risks.yaml",
]
GENERATED = [
    "controls/nist-800-53r5.yaml",
    "controls/baselines.yaml",
    "controls/hipaa.yaml",
    "controls/nist-800-204.yaml",
    "mappings/hipaa-crosswalk.yaml",
    "mappings/cwe-risks.yaml",
    "mappings/responsibility.yaml",
]


@pytest.fixture(scope="module")
def kb() -> KB:
    base = kbmod.load(data_dirs=OWN_FILES)
    assert not base.errors, "\n".join(map(str, base.errors[:20]))
    return base


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def controls(kb: KB) -> dict[str, Control]:
    return {n.id: n.record for n in kb.of_kind(NodeKind.CONTROL) if isinstance(n.record, Control)}


def baseline(kb: KB, bid: str) -> Baseline:
    rec = kb.record(bid)
    assert isinstance(rec, Baseline)
    return rec


# ------------------------------------------------------------------ SP 800-53


def test_catalogue_has_every_control_and_family(kb: KB) -> None:
    ctl = controls(kb)
    assert len(ctl) == 1196
    fams = {n.id: n.record.title for n in kb.of_kind(NodeKind.FAMILY)}
    assert len(fams) == 20
    assert fams["AC"] == "Access Control" and fams["SR"] == "Supply Chain Risk Management"
    assert fams["PT"] == "Personally Identifiable Information Processing and Transparency"
    assert Counter(c.family for c in ctl.values())["AC"] == 25 + 122
    for cid, c in ctl.items():
        assert cid.startswith(c.family + "-")
        if c.parent:  # enhancements: "Parent | Enhancement", parent in the same family
            assert c.title.startswith(ctl[c.parent].title + " | "), cid
            assert ctl[c.parent].family == c.family
            assert (cid, c.parent, "enhancement-of") in kb.edges
        assert c.source and cid in c.source
        assert c.withdrawn or not c.withdrawn_to


def test_catalogue_matches_reference_ids_and_structure(kb: KB, shared: Path) -> None:
    rows = read_csv(shared / "reference" / "nist-800-53r5-controls.csv")
    ctl = controls(kb)
    assert {r["control_id"] for r in rows} == set(ctl)
    for r in rows:
        c = ctl[r["control_id"]]
        assert c.family == r["family_id"]
        assert (c.parent or "") == r["parent_id"]
        later = r["added_in_release"] if re.fullmatch(r"\d+\.\d+\.\d+", r["added_in_release"]) else None
        assert c.added_in == later, r["control_id"]
    fams = {f["family_id"]: f for f in read_csv(shared / "reference" / "nist-800-53r5-families.csv")}
    for fid, f in fams.items():
        assert kb.record(fid).title == f["family_name"]
        members = [c for c in ctl.values() if c.family == fid]
        assert sum(1 for c in members if not c.parent) == int(f["controls_total"])
        assert sum(1 for c in members if c.parent) == int(f["enhancements_total"])


@pytest.mark.parametrize(
    ("cid", "targets"),
    [
        ("AC-2(10)", ["AC-2"]),
        ("SA-12(14)", ["SR-4(1)", "SR-4(2)"]),  # moved to two enhancements
        ("AT-3(4)", ["AT-2(4)"]),  # disposition written "[Withdrawn: Moved to AT-2(4)]."
        ("SC-14", ["AC-2", "AC-3", "AC-5", "AC-6", "SI-3", "SI-4", "SI-5", "SI-7", "SI-10"]),
        ("SA-12", ["SR"]),  # incorporated into the whole SR family
        ("SC-19", []),  # withdrawn without a target
    ],
)
def test_withdrawn_controls_and_targets(kb: KB, cid: str, targets: list[str]) -> None:
    c = controls(kb)[cid]
    assert c.withdrawn
    assert c.withdrawn_to == targets


def test_later_releases_are_marked(kb: KB) -> None:
    ctl = controls(kb)
    assert {cid for cid, c in ctl.items() if c.added_in == "5.1.1"} == {"IA-13", "IA-13(1)", "IA-13(2)", "IA-13(3)"}
    assert {cid for cid, c in ctl.items() if c.added_in == "5.2.0"} == {"SA-15(13)", "SA-24", "SI-2(7)"}
    assert not ctl["AC-6"].withdrawn and ctl["AC-6"].title == "Least Privilege"


# ------------------------------------------------------------------ baselines


@pytest.mark.parametrize(
    ("bid", "framework", "count", "column"),
    [
        ("nist-low", "nist-800-53b", 149, "nist_low"),
        ("nist-moderate", "nist-800-53b", 287, "nist_moderate"),
        ("nist-high", "nist-800-53b", 370, "nist_high"),
        ("nist-privacy", "nist-800-53b", 96, "nist_privacy"),
        ("fedramp-low", "fedramp", 156, "fedramp_low"),
        ("fedramp-moderate", "fedramp", 323, "fedramp_moderate"),
        ("fedramp-high", "fedramp", 410, "fedramp_high"),
        ("fedramp-li-saas", "fedramp", 156, "fedramp_li_saas"),
    ],
)
def test_baseline_counts_and_members(kb: KB, shared: Path, bid: str, framework: str, count: int, column: str) -> None:
    b = baseline(kb, bid)
    assert b.framework == framework
    assert len(b.members) == len(set(b.members)) == count
    ctl = controls(kb)
    assert all(m in ctl and not ctl[m].withdrawn for m in b.members)
    assert all((m, bid, "member-of") in kb.edges for m in b.members)
    rows = read_csv(shared / "reference" / "nist-800-53r5-controls.csv")
    assert set(b.members) == {r["control_id"] for r in rows if r[column] == "x"}


def test_baselines_nest(kb: KB) -> None:
    low, mod, high = (set(baseline(kb, f"nist-{x}").members) for x in ("low", "moderate", "high"))
    assert low < mod < high
    f_low, f_mod, f_high = (set(baseline(kb, f"fedramp-{x}").members) for x in ("low", "moderate", "high"))
    assert low <= f_low and mod <= f_mod and high <= f_high
    assert set(baseline(kb, "fedramp-li-saas").members) == f_low


def test_li_saas_methods(kb: KB, shared: Path) -> None:
    b = baseline(kb, "fedramp-li-saas")
    assert set(b.tailoring) == set(b.members)
    counts = Counter(m for methods in b.tailoring.values() for m in methods)
    assert counts == {"ATTEST": 76, "ASSESS": 66, "CONDITIONAL": 21, "NSO": 13, "FED": 3}
    assert b.tailoring["AC-1"] == ["ATTEST"]
    rows = {r["control_id"]: r for r in read_csv(shared / "reference" / "nist-800-53r5-controls.csv")}
    for cid, methods in b.tailoring.items():
        assert methods == rows[cid]["fedramp_li_saas_method"].split(";")
    assert not baseline(kb, "fedramp-low").tailoring


# ------------------------------------------------------------------ HIPAA


def safeguards(kb: KB) -> dict[str, Safeguard]:
    """The HIPAA safeguards (the KB holds other frameworks' items too)."""
    records = (n for n in kb.of_kind(NodeKind.SAFEGUARD) if isinstance(n.record, Safeguard))
    return {n.id: n.record for n in records if n.record.framework == "hipaa"}


def standard_by_ref(kb: KB, shared: Path) -> dict[str, str]:
    """Reference standard_ref -> KB standard id, found through the KB record's CFR source."""
    rows = read_csv(shared / "reference" / "hipaa-security-rule.csv")
    by_source = {s.source: sid for sid, s in safeguards(kb).items() if s.type == "standard"}
    return {r["standard_ref"]: by_source[f"45 CFR {r['citation']}"] for r in rows if r["type"] == "standard"}


def test_hipaa_every_standard_and_specification(kb: KB, shared: Path) -> None:
    rows = read_csv(shared / "reference" / "hipaa-security-rule.csv")
    sg = safeguards(kb)
    assert len(sg) == len(rows) == 72
    std = standard_by_ref(kb, shared)
    assert len(std) == 22
    for r in rows:
        if r["type"] == "standard":
            rec = sg[std[r["standard_ref"]]]
            assert rec.type == "standard" and rec.requirement is None and rec.standard is None
            assert rec.title == r["name"]
        else:
            rec = sg[r["citation"]]
            assert rec.type == r["type"].replace("_", "-")
            assert rec.standard == std[r["standard_ref"]]
            assert (r["citation"], rec.standard, "part-of") in kb.edges
            assert rec.requirement == (r["requirement"].lower() or None), r["citation"]
        assert rec.section == r["section"] and rec.source == f"45 CFR {r['citation']}"
    specs = [s for s in sg.values() if s.type == "implementation-specification"]
    assert len(specs) == 46
    assert Counter(s.requirement for s in specs) == {"required": 24, "addressable": 22}
    # the ids other stages link to
    assert sg["164.312(a)(1)"].type == "standard" and sg["164.312(e)(1)"].type == "standard"
    assert sg["164.312(a)(2)(iv)"].requirement == "addressable"
    assert sg["164.312(a)(2)(iv)"].standard == "164.312(a)(1)"
    assert sg["164.308(a)(1)(ii)(A)"].requirement == "required"


def test_hipaa_crosswalk_matches_reference_row_for_row(kb: KB, shared: Path) -> None:
    std = standard_by_ref(kb, shared)
    expected: set[tuple[str, str]] = set()
    for r in read_csv(shared / "reference" / "hipaa-to-800-53r5.csv"):
        cits = [c.strip() for c in r["hipaa_citation"].split(";") if c.strip()] or [std[r["hipaa_standard_ref"]]]
        expected.update((c, r["sp800_53r5_control"]) for c in cits)
    edges = [e for e in kb.edges.values() if e.kind is EdgeKind.CROSSWALK]
    assert {(e.source, e.target) for e in edges} == expected
    assert len(edges) == len(expected)  # one edge per pair
    for e in edges:
        assert e.relationship == "intersects-with"  # never upgraded beyond the packager's 'intersect'
        assert e.rationale and "SP 800-66r2" in e.rationale and e.target in e.rationale
        assert e.ref and "SP800_66_2_0_0" in e.ref
    ra1 = kb.edges[("164.308(a)(1)", "RA-1", "crosswalk")]
    assert "key activity 1 (Identify all ePHI and Relevant Information Systems)" in (ra1.rationale or "")


# ------------------------------------------------------------------ SP 800-204, CWE


def test_800_204_strategies(kb: KB) -> None:
    strategies = {n.id: n.record for n in kb.of_kind(NodeKind.STRATEGY) if isinstance(n.record, Strategy)}
    assert set(strategies) == {
        *(f"MS-SS-{n}" for n in (1, 2, 3, 4, 8, 9, 10, 11, 13)),
        *(f"SM-DR{n}" for n in (1, 2, 6, 8, 12, 13, 15)),
    }
    for sid, s in strategies.items():
        assert s.confirmed is False
        assert s.topic and "secondary" in s.topic
        assert s.publication == ("NIST SP 800-204A" if sid.startswith("SM-DR") else "NIST SP 800-204")
    assert "fine-grained near service" in (strategies["MS-SS-2"].topic or "")  # full topic, not cut at a comma


def test_cwes_cover_reference_and_scanner_rules(kb: KB, shared: Path) -> None:
    cwes = {n.id: n.record for n in kb.of_kind(NodeKind.CWE) if isinstance(n.record, Cwe)}
    ref = read_csv(shared / "reference" / "cwe-to-serverless-risk.csv")
    for r in ref:
        c = cwes[r["cwe_id"]]
        assert c.title == r["cwe_name"]
        want = [r["csa_primary"], *filter(None, (x.strip() for x in r["csa_secondary"].split(";")))]
        assert [link.to for link in c.risks] == want
        assert all(link.relationship.value == "intersects-with" and "judgement" in link.source for link in c.risks)
    published = {c for r in read_csv(shared / "reference" / "scanner-rules.csv") for c in re.findall(r"CWE-\d+", r["cwe"])}
    assert published <= set(cwes)
    assert cwes["CWE-80"].risks[0].to == "SAS-1"
    for c in cwes.values():
        assert c.risks and all(kb.nodes[link.to].kind is NodeKind.RISK for link in c.risks)


# ------------------------------------------------------------------ responsibility


def test_every_fedramp_high_control_has_a_party(kb: KB) -> None:
    high = baseline(kb, "fedramp-high")
    parties = {cid: kb.party(cid) for cid in high.members}
    assert all(p is not None for p in parties.values()), [c for c, p in parties.items() if p is None]
    assert {p.party for p in parties.values() if p} == {"provider", "customer", "shared"}
    fams = {n.id for n in kb.of_kind(NodeKind.FAMILY)}
    assert {f"family:{f}" for f in fams} <= set(kb.responsibility)


@pytest.mark.parametrize(
    ("cid", "party", "words"),
    [
        ("PE-3", "provider", "data centres"),
        ("PE-3(1)", "provider", "data centres"),  # through the parent
        ("PE-1", "customer", "Policy and procedures"),  # every -1 is the customer's, whatever the family
        ("MA-1", "customer", "Policy and procedures"),
        ("MP-1", "customer", "Policy and procedures"),
        ("PE-17", "customer", "work sites"),
        ("MP-6", "shared", "media"),  # through the family default, never provider
        ("SI-2", "shared", "dependencies"),
        ("SI-2(2)", "shared", "dependencies"),  # through the parent
        ("MA-4", "provider", "maintain"),
        ("AC-6", "customer", "Execution roles"),
        ("SC-39", "provider", "sandbox"),
        ("SA-11", "customer", "develops"),
    ],
)
def test_party_lookup(kb: KB, cid: str, party: str, words: str) -> None:
    p = kb.party(cid)
    assert p is not None and p.party == party and words in p.rationale


# ------------------------------------------------------------------ generator


def test_generator_reproduces_committed_files(tmp_path: Path, shared: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_catalogues.py"), "--shared", str(shared), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for rel in GENERATED:
        assert (tmp_path / rel).read_bytes() == (ROOT / rel).read_bytes(), f"{rel} differs from the generator's output"
