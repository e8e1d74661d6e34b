"""Issue 3: ``sckb kb stats``: counts per kind and coverage figures, table and JSON alike."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.kb.stats import stats

LINK = "relationship: intersects-with, rationale: a reason, source: a document"

SMALL_KB = f"""\
frameworks:
  - {{id: hipaa, title: T, name: N, label: HIPAA, item: safeguard, items: safeguards, source: s}}
families:
  - {{id: AC, title: Access Control}}
  - {{id: SC, title: System and Communications Protection}}
controls:
  - {{id: AC-1, title: Policy and Procedures, family: AC}}
  - {{id: AC-2, title: Account Management, family: AC}}
  - {{id: AC-2(1), title: "Account Management | Automated System Account Management", family: AC, parent: AC-2}}
  - {{id: SC-7, title: Boundary Protection, family: SC}}
baselines:
  - {{id: b1, title: Base one, framework: test, source: test, members: [AC-1, AC-2, SC-7]}}
  - {{id: b2, title: Base two, framework: test, source: test, members: ["AC-2(1)"]}}
safeguards:
  - {{id: "164.312(a)(1)", title: Access control, section: "164.312", section_title: T, type: standard, source: s}}
  - {{id: "164.312(a)(2)(iv)", title: Encryption, section: "164.312", section_title: T, type: implementation-specification,
     standard: "164.312(a)(1)", requirement: addressable, source: s}}
  - {{id: "164.312(b)", title: Audit controls, section: "164.312", section_title: T, type: standard, source: s}}
risks:
  - {{id: SAS-1, title: Injection, taxonomy: csa-2019, description: d, source: s}}
  - {{id: SAS-2, title: Broken Authentication, taxonomy: csa-2019, description: d, source: s}}
  - {{id: OWASP-A1, title: Injection, taxonomy: owasp-sls-2017, description: d, source: s, corresponds_to: [SAS-1]}}
  - {{id: OWASP-A2, title: Broken Authentication, taxonomy: owasp-sls-2017, description: d, source: s}}
mitigations:
  - id: m1
    title: Mitigation one
    phase: code
    description: d
    guidance: {{aws: a, gcp: b, azure: c}}
    risks: [SAS-1]
    controls: [{{to: AC-2, {LINK}}}]
    safeguards: [{{to: "164.312(a)(1)", {LINK}}}]
  - id: m2
    title: Mitigation two
    phase: runtime
    description: d
    guidance: {{aws: a, gcp: b, azure: n/a}}
    risks: [SAS-1]
    controls: [{{to: SC-7, {LINK}}}]
rules:
  - {{id: "checkov:CKV_1", title: t, tool: checkov, rule_id: CKV_1, source: s, mitigations: [{{to: m1, {LINK}}}]}}
  - {{id: "checkov:CKV_2", title: t, tool: checkov, rule_id: CKV_2, source: s, not_applicable: not a serverless resource}}
  - {{id: "bandit:B101", title: t, tool: bandit, rule_id: B101, source: s, mitigations: [{{to: m2, {LINK}}}]}}
edges:
  - {{kind: crosswalk, from: "164.312(b)", to: SC-7, {LINK}}}
"""


def small_kb(tmp_path: Path, extra: str = "") -> Path:
    d = tmp_path / "kbdata"
    d.mkdir()
    (d / "kb.yaml").write_text(textwrap.dedent(SMALL_KB) + extra, encoding="utf-8")
    return d


def test_counts_and_coverage_of_a_known_kb(tmp_path: Path) -> None:
    base = kbmod.load(data_dirs=[small_kb(tmp_path)])
    assert not base.errors, base.errors
    s = stats(base)
    assert s["nodes"] == {
        "baseline": 2,
        "control": 4,
        "family": 2,
        "mitigation": 2,
        "risk": 4,
        "rule": 3,
        "safeguard": 3,
    }
    assert s["edges"]["maps-to"] == 3 and s["edges"]["member-of"] == 4 and s["edges"]["crosswalk"] == 1
    assert s["edges"]["evidences"] == 2 and s["edges"]["mitigated-by"] == 2 and s["edges"]["corresponds-to"] == 1
    cov = s["coverage"]
    # OWASP-A1 counts through its corresponding mitigated CSA risk; SAS-2 and OWASP-A2 are not linked
    assert cov["risks"]["csa-2019"] == {"count": 1, "total": 2, "share": 0.5, "unlinked": ["SAS-2"]}
    assert cov["risks"]["owasp-sls-2017"] == {"count": 1, "total": 2, "share": 0.5, "unlinked": ["OWASP-A2"]}
    assert cov["mitigations_with_all_providers"]["count"] == 1  # "n/a" is not guidance
    assert cov["control_links_complete"] == {"count": 2, "total": 2, "share": 1.0}
    assert cov["controls_reached"] == {"count": 2, "total": 4, "share": 0.5}
    assert [(b["id"], b["count"], b["total"]) for b in cov["baselines"]] == [("b1", 2, 3), ("b2", 0, 1)]
    assert cov["rules"] == [
        {"tool": "bandit", "mapped": 1, "not_applicable": 0, "total": 1, "share": 1.0},
        {"tool": "checkov", "mapped": 1, "not_applicable": 1, "total": 2, "share": 0.5},
    ]
    # 164.312(a)(1) directly; 164.312(b) through its crosswalk to SC-7, which m2 reaches
    assert cov["hipaa"]["direct"]["count"] == 1
    assert cov["hipaa"]["direct_or_crosswalk"] == {"count": 2, "total": 3, "share": 0.6667}


def test_incomplete_control_link_is_counted(tmp_path: Path) -> None:
    extra = '  - {kind: maps-to, from: m2, to: AC-1, relationship: intersects-with, source: "a document"}\n'
    base = kbmod.load(data_dirs=[small_kb(tmp_path, extra)])
    assert any("lacks rationale" in p.message for p in base.errors)
    cov = stats(base)["coverage"]
    assert cov["control_links_complete"] == {"count": 2, "total": 3, "share": 0.6667}
    assert [(b["id"], b["count"]) for b in cov["baselines"]] == [("b1", 3), ("b2", 0)]


def table_rows(output: str) -> list[list[str]]:
    """The cells of every row of rich's box tables in ``output``."""
    rows = []
    for line in output.splitlines():
        if line.startswith("│"):
            rows.append([c.strip() for c in line.strip("│").split("│")])
    return rows


def assert_table_agrees(output: str, s: dict[str, Any]) -> None:
    rows = table_rows(output)
    as_tuples = {tuple(r) for r in rows}
    for kind, n in s["nodes"].items():
        assert (kind, str(n)) in as_tuples
    for kind, n in s["edges"].items():
        assert (kind, str(n)) in as_tuples
    cov = s["coverage"]
    for b in cov["baselines"]:
        assert (b["id"], str(b["count"]), str(b["total"]), f"{b['share']:.1%}") in as_tuples
    for r in cov["rules"]:
        assert (r["tool"], str(r["mapped"]), str(r["not_applicable"]), str(r["total"]), f"{r['share']:.1%}") in as_tuples
    figures = {r[0]: r[1:4] for r in rows if len(r) == 5}
    for tax, f in cov["risks"].items():
        assert figures[f"risks linked to mitigations ({tax})"] == [str(f["count"]), str(f["total"]), f"{f['share']:.1%}"]
    hipaa = cov["hipaa"]["direct_or_crosswalk"]
    assert figures["HIPAA safeguards reached directly or by crosswalk"] == [
        str(hipaa["count"]),
        str(hipaa["total"]),
        f"{hipaa['share']:.1%}",
    ]
    links = cov["control_links_complete"]
    key = next(k for k in figures if k.startswith("mitigation->control links"))
    assert figures[key] == [str(links["count"]), str(links["total"]), f"{links['share']:.1%}"]


def test_cli_table_and_json_agree(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = small_kb(tmp_path)
    monkeypatch.setattr(sys.modules["compliance.kb.load"], "shipped_data_dirs", lambda: [d])
    res = runner.invoke(main, ["kb", "stats", "--json"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)
    assert s == stats(kbmod.load(data_dirs=[d]))
    res = runner.invoke(main, ["kb", "stats"])
    assert res.exit_code == 0, res.output
    assert_table_agrees(res.output, s)
    assert ("b1", "2", "3", "66.7%") in {tuple(r) for r in table_rows(res.output)}


def test_shipped_kb_stats(runner: CliRunner) -> None:
    base = kbmod.load()
    if base.errors:
        pytest.skip(f"shipped KB has {len(base.errors)} problems from work in progress; stats needs a clean KB")
    res = runner.invoke(main, ["kb", "stats", "--json"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)
    # safeguards: HIPAA's 72, then the FedRAMP 20x KSIs' 11 themes and 65 KSIs
    assert s["nodes"]["control"] == 1196 and s["nodes"]["baseline"] == 8 and s["nodes"]["safeguard"] == 72 + 76
    assert s["coverage"]["risks"]["csa-2019"]["total"] == 12
    assert s["coverage"]["risks"]["owasp-sls-2017"]["total"] == 10
    assert {b["id"]: b["total"] for b in s["coverage"]["baselines"]}["fedramp-high"] == 410
    res = runner.invoke(main, ["kb", "stats"])
    assert res.exit_code == 0
    assert_table_agrees(res.output, s)
