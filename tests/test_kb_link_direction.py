"""How a mapping link's relationship reads (issue 21): in YAML *declaring record REL linked item*, in the graph and
every output *edge source REL edge target*. Risk and strategy links are declared on the mitigation but the edge
points at it, so the exports carry the inverse (subset-of <-> superset-of)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import networkx as nx
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.kb.model import Relationship, invert

#: A shipped link declared on the mitigation: "api-throttling-and-quotas subset-of MS-SS-8" (rate limiting of
#: requests is part of the strategy), so the exported strategy -> mitigation edge reads superset-of.
STRATEGY_LINK = ("MS-SS-8", "api-throttling-and-quotas", "implemented-by")
#: "secret-scanning subset-of the treatment SAS-7 needs": exported "SAS-7 superset-of secret-scanning".
RISK_LINK = ("SAS-7", "secret-scanning", "mitigated-by")
#: Declared on its source (the rule): read the same in YAML and in the export.
RULE_LINK = ("prowler:apigateway_restapi_authorizers_enabled", "api-authentication", "evidences")

OVERLAY = """\
mitigations:
  - id: direction-mitigation
    title: A mitigation whose links are declared on it
    phase: runtime
    description: d
    guidance: {aws: a, gcp: b, azure: c}
    risks:
      - {to: SAS-4, relationship: subset-of, rationale: Part of the risk's treatment., source: "CSA SAS-4; sckb judgement"}
    controls:
      - {to: SC-5, relationship: intersects-with, rationale: r, source: "SC-5 statement (sc-5_smt)", confidence: low}
    strategies:
      - {to: MS-SS-2, relationship: subset-of, rationale: Within the strategy., source: "NIST SP 800-204, MS-SS-2"}
"""


def test_inverse_swaps_only_the_directed_relationships() -> None:
    assert Relationship.SUBSET_OF.inverse() is Relationship.SUPERSET_OF
    assert Relationship.SUPERSET_OF.inverse() is Relationship.SUBSET_OF
    assert Relationship.EQUAL.inverse() is Relationship.EQUAL
    assert Relationship.INTERSECTS_WITH.inverse() is Relationship.INTERSECTS_WITH
    assert invert(None) is None and invert("subset-of") == "superset-of"


def test_shipped_links_store_the_edge_reading_and_keep_the_declared_one() -> None:
    kb = kbmod.load()
    strategy = kb.edges[STRATEGY_LINK]
    assert (strategy.relationship, strategy.declared_relationship) == ("superset-of", "subset-of")
    risk = kb.edges[RISK_LINK]
    assert (risk.relationship, risk.declared_relationship) == ("superset-of", "subset-of")
    rule = kb.edges[RULE_LINK]
    assert rule.relationship == rule.declared_relationship == "subset-of"


def test_every_export_reads_source_rel_target(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(main, ["kb", "export", "--format", "json", "--out", str(tmp_path / "g.json")]).exit_code == 0
    doc = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))
    rows = {(e["from"], e["to"], e["kind"]): e for e in doc["edges"]}
    assert rows[STRATEGY_LINK]["relationship"] == "superset-of"
    assert rows[RISK_LINK]["relationship"] == "superset-of"
    assert rows[RULE_LINK]["relationship"] == "subset-of"

    assert runner.invoke(main, ["kb", "export", "--format", "csv", "--out", str(tmp_path / "csv")]).exit_code == 0
    with (tmp_path / "csv" / "edges.csv").open(encoding="utf-8") as f:
        by_key = {(r["from"], r["to"], r["kind"]): r for r in csv.DictReader(f)}
    assert by_key[STRATEGY_LINK]["relationship"] == "superset-of"
    assert by_key[RISK_LINK]["relationship"] == "superset-of"

    gml = tmp_path / "g.graphml"
    assert runner.invoke(main, ["kb", "export", "--format", "graphml", "--out", str(gml)]).exit_code == 0
    g = nx.read_graphml(gml)
    assert g.edges[STRATEGY_LINK[0], STRATEGY_LINK[1]]["relationship"] == "superset-of"
    assert g.edges[RISK_LINK[0], RISK_LINK[1]]["relationship"] == "superset-of"


def test_query_path_reads_the_edge_the_way_it_is_walked(runner: CliRunner) -> None:
    res = runner.invoke(main, ["query", "path", "MS-SS-8", "api-throttling-and-quotas", "--json"])
    assert res.exit_code == 0, res.output
    edge = json.loads(res.output)["paths"][0]["edges"][0]
    assert (edge["from"], edge["to"], edge["relationship"]) == ("MS-SS-8", "api-throttling-and-quotas", "superset-of")


def test_an_overlay_link_is_exported_inverted_and_validated_as_declared(runner: CliRunner, tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    (kb_dir / "direction.yaml").write_text(OVERLAY, encoding="utf-8")
    out = tmp_path / "g.json"
    res = runner.invoke(main, ["--kb", str(kb_dir), "kb", "export", "--format", "json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = {(e["from"], e["to"], e["kind"]): e for e in json.loads(out.read_text(encoding="utf-8"))["edges"]}
    assert rows["MS-SS-2", "direction-mitigation", "implemented-by"]["relationship"] == "superset-of"
    assert rows["SAS-4", "direction-mitigation", "mitigated-by"]["relationship"] == "superset-of"
    assert rows["direction-mitigation", "SC-5", "maps-to"]["relationship"] == "intersects-with"
    # declared "mitigation subset-of strategy" is the allowed direction: no strategy-direction problem
    val = runner.invoke(main, ["--kb", str(kb_dir), "kb", "validate"])
    assert "exported as MS-SS-2" not in val.output, val.output
