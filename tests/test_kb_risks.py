"""The curated serverless risk taxonomies in mappings/risks.yaml (CSA 2019 and OWASP serverless 2017)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from compliance.cli import main
from compliance.kb import load
from compliance.kb.load import KB
from compliance.kb.model import EdgeKind, NodeKind, Risk

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RISKS_FILE = ROOT / "mappings" / "risks.yaml"
REFERENCE = SHARED / "reference" / "csa-serverless-risks.yaml"

CSA_IDS = [f"SAS-{n}" for n in range(1, 13)]
OWASP_IDS = [f"OWASP-A{n}" for n in range(1, 11)]
SCENARIOS = {"public-api", "event-pipeline", "internal-automation"}

needs_shared = pytest.mark.skipif(not REFERENCE.is_file(), reason="../shared reference data not present")


@pytest.fixture(scope="module")
def risks_kb() -> KB:
    """The risks file loaded on its own, so other curated files cannot hide or cause its problems."""
    return load(data_dirs=[RISKS_FILE])


@pytest.fixture(scope="module")
def risks(risks_kb: KB) -> dict[str, Risk]:
    out: dict[str, Risk] = {}
    for entry in risks_kb.of_kind(NodeKind.RISK):
        assert isinstance(entry.record, Risk)
        out[entry.id] = entry.record
    return out


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    return data


def _sentences(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s])


def test_risks_file_loads_without_problems(risks_kb: KB) -> None:
    assert [str(p) for p in risks_kb.problems] == []


def test_exactly_the_two_taxonomies(risks: dict[str, Risk]) -> None:
    csa = sorted((r.id for r in risks.values() if r.taxonomy == "csa-2019"), key=lambda i: int(i.split("-")[1]))
    owasp = sorted((r.id for r in risks.values() if r.taxonomy == "owasp-sls-2017"), key=lambda i: int(i[7:]))
    assert csa == CSA_IDS
    assert owasp == OWASP_IDS
    assert len(risks) == 22


@needs_shared
def test_csa_titles_match_reference(risks: dict[str, Risk], reference: dict[str, Any]) -> None:
    ref = {r["id"]: r["name"] for r in reference["csa_12_most_critical_risks_2019"]["risks"]}
    assert sorted(ref) == sorted(CSA_IDS)
    for rid, name in ref.items():
        assert risks[rid].title == name, rid


@needs_shared
def test_owasp_titles_match_reference(risks: dict[str, Risk], reference: dict[str, Any]) -> None:
    items = reference["owasp_serverless_top10_2017_interpretation"]["items"]
    assert len(items) == 10
    for item in items:
        number = item["id"].split(":")[0]  # "A4:2017" -> "A4"
        rid = f"OWASP-{number}"
        assert risks[rid].title == item["name"], rid
        assert f"{number}:2017" in risks[rid].source, rid


@pytest.mark.parametrize("rid", CSA_IDS + OWASP_IDS)
def test_each_risk_is_complete(risks: dict[str, Risk], rid: str) -> None:
    r = risks[rid]
    assert 3 <= _sentences(r.description) <= 5, f"{rid}: description should be 3-5 sentences"
    assert r.examples is not None
    texts = [r.examples.aws, r.examples.gcp, r.examples.azure]
    assert all(len(t) > 40 for t in texts), rid
    assert len(set(texts)) == 3, f"{rid}: provider examples must differ"
    assert r.scenarios and set(r.scenarios) <= SCENARIOS
    assert len(r.scenarios) == len(set(r.scenarios))
    assert r.source.strip()


def test_csa_sources_name_document_and_item(risks: dict[str, Risk]) -> None:
    for rid in CSA_IDS:
        src = risks[rid].source
        assert "12 Most Critical Risks for Serverless Applications" in src, rid
        assert re.search(rf"\b{rid}\b", src), rid


def _targets(risk: Risk) -> list[str]:
    return [c if isinstance(c, str) else c.to for c in risk.corresponds_to]


def test_correspondence_is_declared_on_csa_records_only(risks: dict[str, Risk]) -> None:
    for rid in OWASP_IDS:
        assert risks[rid].corresponds_to == [], rid
    for rid in CSA_IDS:
        assert set(_targets(risks[rid])) <= set(OWASP_IDS), rid


def test_every_owasp_item_corresponds_to_a_csa_risk(risks_kb: KB) -> None:
    reached = {e.target for e in risks_kb.edges.values() if e.kind is EdgeKind.CORRESPONDS_TO and e.source in CSA_IDS}
    assert sorted(set(OWASP_IDS) - reached) == []


@needs_shared
def test_correspondence_matches_reference_table(risks: dict[str, Risk], reference: dict[str, Any]) -> None:
    rows = reference["correspondence"]
    assert {row["sas"] for row in rows} == set(CSA_IDS)
    for row in rows:
        assert row["judgement"] is True
        expected = {f"OWASP-{m.group(1)}" for item in row["owasp"] if (m := re.match(r"^(A\d+):2017\b", item))}
        assert set(_targets(risks[row["sas"]])) == expected, row["sas"]


def test_sas11_title_is_flagged_unconfirmed() -> None:
    text = RISKS_FILE.read_text(encoding="utf-8")
    block = text[text.index("- id: SAS-11") : text.index("- id: SAS-12")]
    assert "UNCONFIRMED" in block
    assert "judgement" in text.split("risks:", 1)[0]  # the header comment says the correspondence is judgement


def test_query_follows_correspondence_both_ways(risks_kb: KB) -> None:
    from compliance.kb import query

    assert query.risk(risks_kb, "OWASP-A3")["corresponds_to"] == ["SAS-10", "SAS-3", "SAS-7"]
    assert query.risk(risks_kb, "SAS-1")["corresponds_to"] == ["OWASP-A1", "OWASP-A4", "OWASP-A7", "OWASP-A8"]
    assert query.risk(risks_kb, "SAS-8")["corresponds_to"] == []


def test_cli_validate_reports_no_schema_or_reference_problem_in_risks_file() -> None:
    # coverage (risks without mitigations) depends on the mitigation files; everything else about this file must be clean
    res = CliRunner().invoke(main, ["kb", "validate", "--json"], env={"SCKB_KB": ""})
    assert res.exit_code in (0, 1), res.output
    report = json.loads(res.output)
    mine = [
        p
        for p in report["problems"]
        if p["file"] == "mappings/risks.yaml" and not re.search(r"has no mitigation|^orphan risk", p["message"])
    ]
    assert mine == []
    assert report["nodes"] >= 22
