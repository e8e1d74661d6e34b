"""Issue 2: loader, validation, overlays, queries, export, layering."""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.errors import EXIT_CHECK_FAILED, EXIT_NOT_FOUND

ROOT = Path(__file__).resolve().parents[1]

GOOD_MITIGATION = """\
mitigations:
  - id: org-extra-mitigation
    title: Our own extra mitigation
    phase: runtime
    description: An organisation-specific control.
    guidance: {aws: a, gcp: b, azure: c}
    risks: [{to: SAS-4, relationship: intersects-with, rationale: Narrower roles., source: Internal risk register R-4}]
    controls:
      - to: AC-6
        relationship: subset-of
        rationale: Because we say so.
        source: Internal policy 7.1
        confidence: medium
"""


def overlay(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / "overlay"
    d.mkdir(exist_ok=True)
    (d / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return d


def validate(runner: CliRunner, *args: str) -> tuple[int, str]:
    res = runner.invoke(main, [*args, "kb", "validate"])
    return res.exit_code, res.output


# ------------------------------------------------------------------ shipped data


def test_shipped_kb_validates_clean(runner: CliRunner) -> None:
    code, out = validate(runner)
    assert code == 0, out
    assert out.splitlines()[-1].startswith("ok:")


def test_python_api_loads_graph() -> None:
    base = kbmod.load()
    assert not base.errors
    g = base.graph
    assert isinstance(g, nx.DiGraph)
    assert g.nodes["AC-6"]["kind"] == "control"
    assert g.edges["least-privilege-execution-role", "AC-6"]["kind"] == "maps-to"


# ------------------------------------------------------------- planted mistakes


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        (  # dangling control id: the link starts on line 9
            GOOD_MITIGATION.replace("to: AC-6", "to: XX-99"),
            9,
            "unknown id 'XX-99'",
        ),
        (  # mapping without rationale: the link starts on line 9
            GOOD_MITIGATION.replace("        rationale: Because we say so.\n", ""),
            9,
            "rationale: Field required",
        ),
        (  # unknown relationship type on line 10
            GOOD_MITIGATION.replace("relationship: subset-of", "relationship: kinda-like"),
            10,
            "relationship",
        ),
        (  # invalid YAML: unclosed flow mapping on line 6
            GOOD_MITIGATION.replace("guidance: {aws: a, gcp: b, azure: c}", "guidance: {aws: a, gcp: b"),
            7,
            "invalid YAML",
        ),
    ],
    ids=["dangling-control", "no-rationale", "unknown-relationship", "invalid-yaml"],
)
def test_planted_mistake_reported_with_file_and_line(
    runner: CliRunner, tmp_path: Path, text: str, line: int, needle: str
) -> None:
    d = overlay(tmp_path, "ours.yaml", text)
    code, out = validate(runner, "--kb", str(d))
    assert code == EXIT_CHECK_FAILED, out
    hits = [ln for ln in out.splitlines() if "ours.yaml:" in ln and needle in ln]
    assert hits, out
    assert any(f"ours.yaml:{line}:" in ln for ln in hits), hits


def test_duplicate_id_reported_with_both_places(runner: CliRunner, tmp_path: Path) -> None:
    d = overlay(tmp_path, "dup.yaml", GOOD_MITIGATION + GOOD_MITIGATION.replace("mitigations:\n", ""))
    code, out = validate(runner, "--kb", str(d))
    assert code == EXIT_CHECK_FAILED
    assert "dup.yaml:14: duplicate id 'org-extra-mitigation' (first defined at" in out
    assert "dup.yaml:2)" in out


def test_all_mistakes_reported_at_once(runner: CliRunner, tmp_path: Path) -> None:
    overlay(tmp_path, "a.yaml", GOOD_MITIGATION.replace("to: AC-6", "to: XX-99"))
    d = overlay(tmp_path, "b.yaml", "risks: [ {id: broken\n")
    code, out = validate(runner, "--kb", str(d))
    assert code == EXIT_CHECK_FAILED
    assert "a.yaml:9:" in out and "b.yaml:2: invalid YAML" in out


def test_clash_with_shipped_id_needs_override(runner: CliRunner, tmp_path: Path) -> None:
    text = GOOD_MITIGATION.replace("org-extra-mitigation", "least-privilege-execution-role")
    d = overlay(tmp_path, "clash.yaml", text)
    code, out = validate(runner, "--kb", str(d))
    assert code == EXIT_CHECK_FAILED
    assert "duplicate id 'least-privilege-execution-role'" in out and "override: true" in out

    d = overlay(tmp_path, "clash.yaml", text.replace("    title: Our own", "    override: true\n    title: Our own"))
    code, out = validate(runner, "--kb", str(d))
    assert "clash.yaml" not in out, out
    base = kbmod.load([d])
    rec = base.record("least-privilege-execution-role")
    assert rec.title == "Our own extra mitigation"
    # the replaced record's inline edges are gone, the overlay's are in
    edge = base.edges[("least-privilege-execution-role", "AC-6", "maps-to")]
    assert edge.rationale == "Because we say so."


def test_overlay_restates_an_edge_with_stricter_rationale(runner: CliRunner, tmp_path: Path) -> None:
    edge = """\
    edges:
      - kind: maps-to
        from: least-privilege-execution-role
        to: AC-6
        relationship: subset-of
        rationale: Stricter house rationale.
        source: House standard 4.2
        confidence: high
    """
    d = overlay(tmp_path, "edge.yaml", edge)
    code, out = validate(runner, "--kb", str(d))
    assert code == EXIT_CHECK_FAILED and "duplicate maps-to edge" in out
    d = overlay(tmp_path, "edge.yaml", edge + "    override: true\n")
    assert "edge.yaml" not in validate(runner, "--kb", str(d))[1]
    res = runner.invoke(main, ["--kb", str(d), "query", "control", "AC-6", "--json"])
    row = next(m for m in json.loads(res.output)["mitigations"] if m["id"] == "least-privilege-execution-role")
    assert row["rationale"] == "Stricter house rationale." and row["source"] == "House standard 4.2"


def test_overlay_from_environment(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = overlay(tmp_path, "ours.yaml", GOOD_MITIGATION)
    monkeypatch.setenv("SCKB_KB", str(d))
    res = runner.invoke(main, ["query", "control", "AC-6", "--json"])
    assert res.exit_code == 0, res.output
    assert "org-extra-mitigation" in [m["id"] for m in json.loads(res.output)["mitigations"]]


def test_missing_overlay_dir_is_an_input_error(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["--kb", str(tmp_path / "nope"), "kb", "validate"])
    assert res.exit_code == 3
    assert "overlay directory does not exist" in res.output


# ----------------------------------------------------------------- hostile input


def test_yaml_bomb_is_refused_quickly(runner: CliRunner, tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    d = overlay(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    code, out = validate(runner, "--kb", str(d))
    assert code == EXIT_CHECK_FAILED
    assert "bomb.yaml" in out and "alias expansion exceeds" in out
    assert "Traceback" not in out


def test_huge_file_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    d = tmp_path / "overlay"
    d.mkdir()
    with (d / "huge.yaml").open("w") as f:
        f.write("mitigations:\n")
        chunk = "  # " + "x" * 1020 + "\n"
        for _ in range(50 * 1024):
            f.write(chunk)
    code, out = validate(runner, "--kb", str(d))
    assert code == EXIT_CHECK_FAILED
    assert "huge.yaml: file is 52.5 MB, over the 8 MiB limit" in out


def test_bad_shipped_style_dir_reports_problems_not_traceback(tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "x.yaml").write_bytes(b"\xff\xfe not utf-8")
    base = kbmod.load(data_dirs=[tmp_path / "mappings"])
    assert [str(p) for p in base.problems] == ["mappings/x.yaml: not valid UTF-8 at byte 0"]


# ------------------------------------------------------------------------ queries


def _table(runner: CliRunner, *args: str) -> str:
    res = runner.invoke(main, ["query", *args], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    return res.output


def _json(runner: CliRunner, *args: str) -> dict:
    res = runner.invoke(main, ["query", *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_query_risk_sas4(runner: CliRunner) -> None:
    r = _json(runner, "risk", "SAS-4")
    mits = {m["id"]: m for m in r["mitigations"]}
    assert "least-privilege-execution-role" in mits
    lp = mits["least-privilege-execution-role"]
    assert "AC-6" in [c["id"] for c in lp["controls"]]
    assert all(c["relationship"] and c["rationale"] and c["source"] for c in lp["controls"])
    assert "AC-6" in r["baselines"]["fedramp-moderate"]
    assert "164.312(a)(1)" in r["safeguards"]
    table = _table(runner, "risk", "SAS-4")
    for m in mits:
        assert m in table
    for b in r["baselines"]:
        assert b in table


def test_query_control_ac6(runner: CliRunner) -> None:
    r = _json(runner, "control", "AC-6")
    assert r["title"] == "Least Privilege" and r["family"] == "AC"
    assert "least-privilege-execution-role" in [m["id"] for m in r["mitigations"]]
    assert "SAS-4" in r["risks"]
    assert {"fedramp-moderate", "fedramp-high", "nist-moderate", "nist-high"} <= {b["id"] for b in r["baselines"]}
    assert "AC-6(1)" in r["enhancements"]
    table = _table(runner, "control", "AC-6")
    for m in r["mitigations"]:
        assert m["id"] in table
    for b in r["baselines"]:
        assert b["id"] in table
    # case-insensitive id from the command line
    assert _json(runner, "control", "ac-6")["id"] == "AC-6"


def test_query_baseline(runner: CliRunner) -> None:
    r = _json(runner, "baseline", "fedramp-moderate")
    reached = {c["id"] for c in r["reached"]}
    unreached = {c["id"] for c in r["unreached"]}
    assert "AC-6" in reached and not reached & unreached
    assert len(reached) + len(unreached) == r["members"]
    table = _table(runner, "baseline", "fedramp-moderate")
    assert f"{len(reached)} of {r['members']} controls reached" in table
    for c in reached | unreached:
        assert c in table


def test_query_path_to_hipaa(runner: CliRunner) -> None:
    r = _json(runner, "path", "SAS-4", "hipaa", "--limit", "1000")
    assert r["total"] >= 1 and r["shown"] == min(r["total"], 1000)
    for p in r["paths"]:
        assert p["nodes"][0]["id"] == "SAS-4"
        assert p["nodes"][-1]["kind"] == "safeguard"
        assert len(p["edges"]) == len(p["nodes"]) - 1
    chains = {" → ".join(n["id"] for n in p["nodes"]) for p in r["paths"]}
    assert "SAS-4 → least-privilege-execution-role → AC-6 → 164.312(a)(1)" in chains or any(
        c.startswith("SAS-4 → least-privilege-execution-role") for c in chains
    )
    table = _table(runner, "path", "SAS-4", "hipaa", "--limit", "1000")
    for c in chains:
        assert c in table


def test_unknown_id_is_not_found_one_line(runner: CliRunner) -> None:
    res = runner.invoke(main, ["query", "control", "ZZ-1"])
    assert res.exit_code == EXIT_NOT_FOUND
    assert res.output.strip() == "sckb: error: no control with id 'ZZ-1' in the KB"


# ------------------------------------------------------------------------- export


def test_export_json_contract_and_determinism(runner: CliRunner, tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for p in (a, b):
        assert runner.invoke(main, ["kb", "export", "--format", "json", "--out", str(p)]).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    doc = json.loads(a.read_bytes())
    assert all(n["id"] and n["kind"] and n["title"] for n in doc["nodes"])
    mapping = {"maps-to", "implemented-by", "evidences", "indicates", "crosswalk"}
    for e in doc["edges"]:
        assert e["kind"] and e["from"] and e["to"]
        if e["kind"] in mapping:
            assert e["relationship"] in {"equal", "subset-of", "superset-of", "intersects-with"}
            assert e["rationale"] and e["source"]
    kinds = {n["kind"] for n in doc["nodes"]}
    assert {"risk", "mitigation", "control", "baseline", "safeguard", "strategy", "rule", "cwe"} <= kinds
    assert mapping | {"mitigated-by", "member-of"} <= {e["kind"] for e in doc["edges"]}


def test_export_graphml_and_csv(runner: CliRunner, tmp_path: Path) -> None:
    gml = tmp_path / "g.graphml"
    assert runner.invoke(main, ["kb", "export", "--format", "graphml", "--out", str(gml)]).exit_code == 0
    g = nx.read_graphml(gml)
    assert g.nodes["AC-6"]["kind"] == "control" and g.nodes["AC-6"]["title"] == "Least Privilege"
    e = g.edges["least-privilege-execution-role", "AC-6"]
    assert e["kind"] == "maps-to" and e["relationship"] and e["rationale"] and e["source"]

    out = tmp_path / "csv"
    assert runner.invoke(main, ["kb", "export", "--format", "csv", "--out", str(out)]).exit_code == 0
    nodes = list(csv.DictReader(io.StringIO((out / "nodes.csv").read_text())))
    edges = list(csv.DictReader(io.StringIO((out / "edges.csv").read_text())))
    assert list(nodes[0])[:3] == ["id", "kind", "title"]
    assert list(edges[0]) == ["from", "to", "kind", "relationship", "rationale", "source"]
    assert len(nodes) == len(g.nodes) and len(edges) == len(g.edges)


def test_kb_schema_is_json_schema(runner: CliRunner) -> None:
    res = runner.invoke(main, ["kb", "schema"])
    schema = json.loads(res.output)
    assert schema["type"] == "object" and "mitigations" in schema["properties"]


# ------------------------------------------------------------------------- layout


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_kb_imports_no_later_stage_and_only_cli_imports_click() -> None:
    later = tuple(f"compliance.{s}" for s in ("evidence", "assess", "oscal", "report", "site", "design"))
    for py in (ROOT / "compliance" / "kb").rglob("*.py"):
        bad = [m for m in _imports(py) if m.startswith(later)]
        assert not bad, f"{py.name} imports {bad}"
    for py in (ROOT / "compliance").rglob("*.py"):
        if py.name == "cli.py":
            continue
        assert not any(m == "click" or m.startswith("click.") for m in _imports(py)), py


def test_wheel_carries_curated_data(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    (wheel,) = tmp_path.glob("sckb-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "compliance/py.typed" in names
    assert "compliance/data/controls/nist-800-53r5.yaml" in names
    assert any(n.startswith("compliance/data/mappings/mitigations/") for n in names)
    assert any(n.startswith("compliance/data/templates/") for n in names)
