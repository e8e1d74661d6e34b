"""``sckb kb export --format oscal-mapping``: the KB's mapping links as an OSCAL 1.2 mapping collection.

Structure and determinism over the shipped KB and small overlays; the last test loads the file with
compliance-trestle 5's mapping model, run in its own virtualenv (``make venv-trestle5``).
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.errors import EXIT_INPUT
from compliance.kb.core import oscal_id
from compliance.kb.model import MAPPING_EDGES, EdgeKind, Relationship
from compliance.kb.rigor import framework_key
from compliance.oscal.mapping import (
    FIXED_LAST_MODIFIED,
    MATCHING_RATIONALES,
    OSCAL_RELATIONSHIP,
    RELATIONSHIPS,
    mapping_collection,
    resources_data,
)

ROOT = Path(__file__).resolve().parents[1]
TRESTLE5 = ROOT / ".venv-trestle5" / "bin" / "python"
NS = "https://sckb.dev/ns/oscal"

OVERLAY = """\
mitigations:
  - id: export-test-mitigation
    title: A mitigation written for the export test
    phase: code
    description: Exists only in this test's overlay.
    guidance: {aws: aws text, gcp: gcp text, azure: azure text}
    risks: [SAS-1]
    controls:
      - to: AC-2
        relationship: subset-of
        confidence: high
        parts: [ac-2_smt.a, ac-2_smt.d]
        rationale: Covers defining account types and authorising accounts.
        source: NIST SP 800-53 Rev. 5, AC-2 statement items a and d (ac-2_smt.a, ac-2_smt.d)
      - to: AC-2(1)
        relationship: equal
        confidence: low
        rationale: Written equal only to see the relationship spelled the OSCAL way.
        source: NIST SP 800-53 Rev. 5, AC-2(1) statement (ac-2.1_smt)
"""


def _collection(doc: dict[str, Any]) -> dict[str, Any]:
    mc: dict[str, Any] = doc["mapping-collection"]
    return mc


def _maps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for mapping in _collection(doc)["mappings"] for m in mapping["maps"]]


def _props(obj: dict[str, Any], name: str) -> list[str]:
    return [p["value"] for p in obj.get("props", []) if p["name"] == name and p["ns"] == NS]


def _export(runner: CliRunner, tmp_path: Path, *args: str, name: str = "mc.json") -> tuple[bytes, str]:
    out = tmp_path / name
    res = runner.invoke(main, [*args, "kb", "export", "--format", "oscal-mapping", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out.read_bytes(), res.stderr


@pytest.fixture(scope="module")
def shipped() -> kbmod.KB:
    return kbmod.load()


@pytest.fixture(scope="module")
def doc(shipped: kbmod.KB) -> dict[str, Any]:
    return mapping_collection(shipped).document


def test_same_kb_gives_byte_identical_file_and_the_clock_is_injected(runner: CliRunner, tmp_path: Path) -> None:
    first, _ = _export(runner, tmp_path, "--now", "2026-12-01", name="a.json")
    second, _ = _export(runner, tmp_path, "--now", "2026-12-01", name="b.json")
    assert first == second
    assert first.endswith(b"\n") and first.startswith(b'{\n  "mapping-collection"')
    meta = json.loads(first)["mapping-collection"]["metadata"]
    assert meta["last-modified"] == "2026-12-01T00:00:00Z"
    assert meta["oscal-version"] == "1.2.0"
    # without --now no wall clock is read: a fixed time, the rest unchanged
    fixed, _ = _export(runner, tmp_path, name="c.json")
    assert json.loads(fixed)["mapping-collection"]["metadata"]["last-modified"] == FIXED_LAST_MODIFIED
    assert fixed == first.replace(b"2026-12-01T00:00:00Z", FIXED_LAST_MODIFIED.encode())
    # stdout without --out: the same bytes
    res = runner.invoke(main, ["--now", "2026-12-01", "kb", "export", "--format", "oscal-mapping"])
    assert res.exit_code == 0 and res.stdout_bytes == first


def test_every_mapping_edge_is_one_map_in_the_graph_direction(shipped: kbmod.KB, doc: dict[str, Any]) -> None:
    edges = [e for e in shipped.edges.values() if e.kind in MAPPING_EDGES]
    maps = _maps(doc)
    assert len(maps) == len(edges) > 2000
    seen = Counter((_props(m, "link-kind")[0], m["sources"][0]["id-ref"], m["targets"][0]["id-ref"]) for m in maps)
    assert max(seen.values()) == 1
    for e in edges:
        src = oscal_id(e.source) if framework_key(shipped, e.source) == "control" else e.source
        tgt = oscal_id(e.target) if framework_key(shipped, e.target) == "control" else e.target
        assert (e.kind.value, src, tgt) in seen, e.key


def test_one_mapping_per_pair_of_catalogues_with_resolvable_resources(shipped: kbmod.KB, doc: dict[str, Any]) -> None:
    mc = _collection(doc)
    resources = {r["uuid"]: r for r in mc["back-matter"]["resources"]}
    pairs = []
    for mapping in mc["mappings"]:
        ends = []
        for end in ("source-resource", "target-resource"):
            ref = mapping[end]
            assert ref["type"] == "catalog" and ref["href"].startswith("#")
            ends.append(_props(resources[ref["href"][1:]], "framework-key")[0])
        pairs.append(tuple(ends))
        kinds = {_props(m, "link-kind")[0] for m in mapping["maps"]}
        assert sorted(kinds) == _props(mapping, "link-kind")
    assert len(pairs) == len(set(pairs))
    expected = {
        (framework_key(shipped, e.source), framework_key(shipped, e.target))
        for e in shipped.edges.values()
        if e.kind in MAPPING_EDGES
    }
    assert set(pairs) == expected
    # frameworks are read from the KB's records, the other catalogues from the data file
    titles = {_props(r, "framework-key")[0]: r["title"] for r in resources.values()}
    for fw in shipped.frameworks.values():
        assert titles["safeguard:" + fw.id] == fw.title
    for info in resources_data().resources:
        if info.key in titles:
            assert titles[info.key] == info.title
    control = next(r for r in resources.values() if _props(r, "node-kind") == ["control"])
    assert control["rlinks"][0]["href"].endswith("NIST_SP-800-53_rev5_catalog.json")


def test_values_are_the_models_allowed_values_and_uuids_are_v5(doc: dict[str, Any]) -> None:
    mc = _collection(doc)
    prov = mc["provenance"]
    assert (prov["method"], prov["matching-rationale"], prov["status"]) == ("human", "semantic", "complete")
    assert prov["mapping-description"]
    uuids = [mc["uuid"]] + [r["uuid"] for r in mc["back-matter"]["resources"]]
    for mapping in mc["mappings"]:
        uuids.append(mapping["uuid"])
        assert mapping.get("matching-rationale", "semantic") in MATCHING_RATIONALES
        for m in mapping["maps"]:
            uuids.append(m["uuid"])
            assert m["relationship"] in RELATIONSHIPS
            assert m.get("matching-rationale", "semantic") in MATCHING_RATIONALES
            assert {i["type"] for i in m["sources"] + m["targets"]} == {"control"}
            assert m["remarks"] and _props(m, "source")
            for p in m.get("props", []) + [p for i in m["sources"] + m["targets"] for p in i.get("props", [])]:
                assert p["value"] == p["value"].strip() and "\n" not in p["value"]
    assert len(uuids) == len(set(uuids))
    assert {uuid.UUID(u).version for u in uuids} == {5}
    # a scanner rule is judged by what its check shows; the rest by meaning
    rationale = {_props(mp, "link-kind")[0]: mp.get("matching-rationale") for mp in mc["mappings"]}
    assert rationale["evidences"] == "functional" and rationale["maps-to"] == "semantic"


def test_confidence_and_rationale_come_from_the_link(shipped: kbmod.KB, doc: dict[str, Any]) -> None:
    by_key = {(_props(m, "link-kind")[0], m["sources"][0]["id-ref"], m["targets"][0]["id-ref"]): m for m in _maps(doc)}
    links = [e for e in shipped.edges.values() if e.kind is EdgeKind.MAPS_TO]
    assert links
    categories: Counter[str | None] = Counter()
    for e in links:
        tgt = oscal_id(e.target) if framework_key(shipped, e.target) == "control" else e.target
        m = by_key[(e.kind.value, e.source, tgt)]
        assert m["confidence-score"] == {"category": e.confidence}
        assert m["remarks"] == e.rationale and _props(m, "source") == [e.ref]
        assert m["relationship"] == OSCAL_RELATIONSHIP[Relationship(e.relationship or "")]
        categories[e.confidence] += 1
    assert set(categories) == {"high", "medium", "low"}
    crosswalk = next(m for m in _maps(doc) if _props(m, "link-kind") == ["crosswalk"])
    assert "confidence-score" not in crosswalk


def test_maps_read_source_rel_target_and_keep_the_yaml_reading_of_inverted_links(shipped: kbmod.KB, doc: dict[str, Any]) -> None:
    by_key = {(_props(m, "link-kind")[0], m["sources"][0]["id-ref"], m["targets"][0]["id-ref"]): m for m in _maps(doc)}
    inverted = [e for e in shipped.edges.values() if e.kind in MAPPING_EDGES and e.inverted]
    assert {e.kind for e in inverted} == {EdgeKind.MITIGATED_BY, EdgeKind.IMPLEMENTED_BY}
    flipped = 0
    for e in inverted:
        m = by_key[(e.kind.value, e.source, e.target)]  # graph direction: risk/strategy -> mitigation
        assert m["relationship"] == OSCAL_RELATIONSHIP[Relationship(e.relationship or "")]
        assert _props(m, "declared-relationship") == [f"{e.target} {e.declared_relationship} {e.source}"]
        flipped += e.relationship != e.declared_relationship
    assert flipped > 0
    # a known link: the YAML says "secret-rotation subset-of SAS-7"; the map reads SAS-7 superset-of secret-rotation
    known = by_key[("mitigated-by", "SAS-7", "secret-rotation")]
    assert known["relationship"] == "superset-of"
    assert _props(known, "declared-relationship") == ["secret-rotation subset-of SAS-7"]
    # links read the same way in YAML and graph carry no such prop
    evid = next(m for m in _maps(doc) if _props(m, "link-kind") == ["evidences"] and m["relationship"] == "subset-of")
    assert _props(evid, "declared-relationship") == []


def test_parts_equal_and_bare_links_from_an_overlay(runner: CliRunner, tmp_path: Path) -> None:
    over = tmp_path / "overlay"
    over.mkdir()
    (over / "export-test.yaml").write_text(textwrap.dedent(OVERLAY), encoding="utf-8")
    data, err = _export(runner, tmp_path, "--kb", str(over))
    maps = _maps(json.loads(data))
    mine = {m["targets"][0]["id-ref"]: m for m in maps if m["sources"][0]["id-ref"] == "export-test-mitigation"}
    assert set(mine) == {"ac-2", "ac-2.1"}
    ac2 = mine["ac-2"]["targets"][0]
    assert _props(ac2, "covers-statement-part") == ["ac-2_smt.a", "ac-2_smt.d"]
    assert _props(ac2, "sckb-id") == ["AC-2"]
    assert mine["ac-2"]["confidence-score"] == {"category": "high"}
    # IR 8477 equal (same meaning) is the model's equivalent-to; the curated word is kept
    assert mine["ac-2.1"]["relationship"] == "equivalent-to"
    assert _props(mine["ac-2.1"], "declared-relationship") == ["export-test-mitigation equal AC-2(1)"]
    assert "covers-statement-part" not in json.dumps(mine["ac-2.1"])
    # the bare risk link states no relationship: it is left out, and the command says so
    assert not any(m["targets"][0]["id-ref"] == "export-test-mitigation" and m["sources"][0]["id-ref"] == "SAS-1" for m in maps)
    assert "left out 1 link(s) stating no relationship, e.g. mitigated-by SAS-1 -> export-test-mitigation" in err
    # a changed link changes the collection's uuid and version, not the mappings' per-subject uuids
    shipped, _ = _export(runner, tmp_path, name="shipped.json")
    a, b = json.loads(shipped)["mapping-collection"], json.loads(data)["mapping-collection"]
    assert a["uuid"] != b["uuid"] and a["metadata"]["version"] != b["metadata"]["version"]
    assert {m["uuid"] for m in a["mappings"]} == {m["uuid"] for m in b["mappings"]}


def test_a_framework_added_by_an_overlay_is_its_own_resource(runner: CliRunner, tmp_path: Path) -> None:
    over = tmp_path / "overlay"
    over.mkdir()
    (over / "acme.yaml").write_text(
        textwrap.dedent(
            """\
            frameworks:
              - {id: acme-sec, title: ACME Security Standard 2.0, label: ACME, name: Security Standard,
                 item: requirement, items: requirements, source: ACME-SEC 2.0}
            safeguards:
              - {id: "ACME-4.1", title: Least privilege, framework: acme-sec, section: "4", section_title: Access,
                 type: standard, source: "ACME-SEC 4.1"}
            edges:
              - {kind: crosswalk, from: "ACME-4.1", to: AC-6, relationship: intersects-with,
                 rationale: Annex B pairs them., source: ACME-SEC 2.0 Annex B}
            """
        ),
        encoding="utf-8",
    )
    data, _ = _export(runner, tmp_path, "--kb", str(over))
    mc = json.loads(data)["mapping-collection"]
    res = next(r for r in mc["back-matter"]["resources"] if _props(r, "framework-key") == ["safeguard:acme-sec"])
    assert res["title"] == "ACME Security Standard 2.0" and res["citation"] == {"text": "ACME-SEC 2.0"}
    mapping = next(m for m in mc["mappings"] if m["source-resource"]["href"] == "#" + res["uuid"])
    assert [(m["sources"][0]["id-ref"], m["targets"][0]["id-ref"]) for m in mapping["maps"]] == [("ACME-4.1", "ac-6")]


def test_unwritable_output_is_one_line_and_exit_3(runner: CliRunner, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    res = runner.invoke(main, ["kb", "export", "--format", "oscal-mapping", "--out", str(blocker / "mc.json")])
    assert res.exit_code == EXIT_INPUT
    assert res.stderr.count("\n") == 1 and str(blocker / "mc.json") in res.stderr and "Traceback" not in res.output


_LOAD = """\
import json, sys
from pathlib import Path
from trestle.oscal.mapping import MappingCollection
mc = MappingCollection.oscal_read(Path(sys.argv[1]))
print(json.dumps(mc.oscal_dict()))
"""


def test_trestle_5_loads_the_file_and_keeps_every_field(runner: CliRunner, tmp_path: Path) -> None:
    if not TRESTLE5.exists():
        pytest.skip("no compliance-trestle 5 virtualenv at .venv-trestle5 (create it with: make venv-trestle5)")
    data, _ = _export(runner, tmp_path, "--now", "2026-12-01T10:30:00")
    proc = subprocess.run(
        [str(TRESTLE5), "-c", _LOAD, str(tmp_path / "mc.json")], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = json.loads(proc.stdout)
    ours = json.loads(data)
    # trestle writes the time as +00:00; everything else must come back exactly: no field dropped or unknown
    assert loaded["mapping-collection"]["metadata"].pop("last-modified") == "2026-12-01T10:30:00+00:00"
    assert ours["mapping-collection"]["metadata"].pop("last-modified") == "2026-12-01T10:30:00Z"
    assert loaded == ours
