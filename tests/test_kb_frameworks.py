"""Frameworks as data: the ``frameworks`` section, its validation, and a second framework added by an
overlay showing up in queries, ``kb stats`` and the site with no code change."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.errors import EXIT_CHECK_FAILED

SECOND = """\
frameworks:
  - id: acme-sec
    title: ACME Security Standard 2.0 (ACME-SEC)
    label: ACME
    name: Security Standard
    item: requirement
    items: requirements
    crosswalk:
      to: NIST SP 800-53 Rev. 5
      file: acme.yaml
      source: ACME-SEC 2.0 Annex B
    source: ACME-SEC 2.0, clauses 4-5
safeguards:
  - {id: "ACME-4.1", title: Least privilege for workloads, framework: acme-sec, section: "4",
     section_title: Access, type: standard, source: "ACME-SEC 4.1"}
  - {id: "ACME-4.1.a", title: Scoped execution roles, framework: acme-sec, section: "4", section_title: Access,
     type: implementation-specification, standard: "ACME-4.1", requirement: required, source: "ACME-SEC 4.1(a)"}
  - {id: "ACME-5.2", title: Encryption in transit, framework: acme-sec, section: "5",
     section_title: Protection, type: standard, source: "ACME-SEC 5.2"}
edges:
  - {kind: crosswalk, from: "ACME-4.1", to: AC-6, relationship: intersects-with, rationale: Annex B pairs them.,
     source: ACME-SEC 2.0 Annex B}
  - {kind: crosswalk, from: "ACME-4.1.a", to: AC-6, relationship: subset-of, rationale: Annex B pairs them.,
     source: ACME-SEC 2.0 Annex B}
  - {kind: crosswalk, from: "ACME-5.2", to: SC-8, relationship: intersects-with, rationale: Annex B pairs them.,
     source: ACME-SEC 2.0 Annex B}
"""


def overlay(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / "overlay"
    d.mkdir(exist_ok=True)
    (d / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return d


def test_shipped_frameworks_record() -> None:
    base = kbmod.load()
    hipaa = base.frameworks["hipaa"]
    assert hipaa.label == "HIPAA" and (hipaa.item, hipaa.items) == ("safeguard", "safeguards")
    assert "45 CFR Part 164" in hipaa.title and hipaa.crosswalk is not None
    assert hipaa.crosswalk.file == "mappings/hipaa-crosswalk.yaml"
    assert len(base.framework_items("hipaa")) == 72


def test_dangling_framework_id_is_a_file_line_error(runner: CliRunner, tmp_path: Path) -> None:
    d = overlay(
        tmp_path,
        "sg.yaml",
        """\
        safeguards:
          - id: "X-1"
            title: A safeguard of nothing
            framework: no-such-framework
            section: "1"
            section_title: One
            type: standard
            source: nowhere
        """,
    )
    res = runner.invoke(main, ["--kb", str(d), "kb", "validate"])
    assert res.exit_code == EXIT_CHECK_FAILED, res.output
    assert "sg.yaml:2: safeguard X-1 names unknown framework 'no-such-framework' (known: fedramp-20x-ksi, hipaa)" in res.output


def test_duplicate_framework_needs_override(runner: CliRunner, tmp_path: Path) -> None:
    d = overlay(tmp_path, "fw.yaml", SECOND.replace("id: acme-sec\n", "id: hipaa\n", 1).split("safeguards:")[0])
    res = runner.invoke(main, ["--kb", str(d), "kb", "validate"])
    assert res.exit_code == EXIT_CHECK_FAILED, res.output
    assert "fw.yaml:2: duplicate framework 'hipaa' (first at controls/frameworks.yaml:" in res.output


def test_second_framework_validates(runner: CliRunner, tmp_path: Path) -> None:
    d = overlay(tmp_path, "acme.yaml", SECOND)
    res = runner.invoke(main, ["--kb", str(d), "kb", "validate"])
    assert res.exit_code == 0, res.output
    base = kbmod.load([d])
    assert list(base.frameworks) == ["hipaa", "fedramp-20x-ksi", "acme-sec"]
    assert [n.id for n in base.framework_items("acme-sec")] == ["ACME-4.1", "ACME-4.1.a", "ACME-5.2"]


def test_second_framework_appears_in_query_stats_and_site(runner: CliRunner, tmp_path: Path) -> None:
    """No code names a framework: an overlay's framework shows up wherever HIPAA does."""
    from compliance.site.generate import generate

    d = overlay(tmp_path, "acme.yaml", SECOND)
    env = {"COLUMNS": "400"}
    # query control: a line per framework; the JSON lists every framework's safeguards
    res = runner.invoke(main, ["--kb", str(d), "query", "control", "AC-6"], env=env)
    assert res.exit_code == 0, res.output
    assert "ACME requirements (crosswalk): ACME-4.1, ACME-4.1.a" in res.output
    assert "HIPAA safeguards (crosswalk):" in res.output
    res = runner.invoke(main, ["--kb", str(d), "query", "control", "AC-6", "--json"])
    assert {"ACME-4.1", "ACME-4.1.a"} <= set(json.loads(res.output)["safeguards"])
    # query risk: a column and a line per framework (SAS-4's mitigations reach AC-6, which ACME-4.1 crosswalks to)
    res = runner.invoke(main, ["--kb", str(d), "query", "risk", "SAS-4"], env=env)
    assert res.exit_code == 0, res.output
    assert "ACME" in res.output.split("\n", 5)[-1] and "ACME requirements (direct and by crosswalk): ACME-4.1" in res.output
    # query path to the framework id
    res = runner.invoke(main, ["--kb", str(d), "query", "path", "SAS-4", "acme-sec", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["total"] > 0
    # kb stats: figures under the framework id, table rows by its label
    res = runner.invoke(main, ["--kb", str(d), "kb", "stats", "--json"])
    cov = json.loads(res.output)["coverage"]
    assert cov["acme-sec"]["direct_or_crosswalk"]["total"] == 3 and cov["acme-sec"]["direct_or_crosswalk"]["count"] >= 2
    assert "hipaa" in cov
    res = runner.invoke(main, ["--kb", str(d), "kb", "stats"], env=env)
    assert "ACME requirements reached directly or by crosswalk" in res.output
    # help: the scopes --scope accepts include the framework
    res = runner.invoke(main, ["--kb", str(d), "assess", "--help"])
    flat = " ".join(res.output.split()).replace("- ", "-")  # undo click's wrapping
    assert "hipaa, fedramp-20x-ksi, acme-sec, serverless (repeatable)" in flat
    # the site: the framework's pages, its words on the safeguard pages and in the risk diagram
    content = generate(kbmod.load([d]))
    assert content.node_paths["ACME-4.1"].startswith("frameworks/acme-sec/")
    page = content.pages[content.node_paths["ACME-4.1.a"]]
    assert "*ACME requirement*" in page.text()
    assert "frameworks/acme-sec/index.md" in content.pages
    index = content.pages["frameworks/acme-sec/index.md"].text()
    assert "# ACME Security Standard" in index and "3 ACME requirements." in index  # its own words, its own case
    risk = content.pages["risks/sas-4.md"].text()
    assert "ACME Security Standard: " in risk and "<strong>ACME requirements reached</strong>" in risk  # an HTML links line
    assert "the ACME Security Standard" in content.pages["frameworks/index.md"].text()


def test_second_framework_is_an_assessment_scope(tmp_path: Path) -> None:
    from compliance.assess import assess
    from compliance.assess.render import as_csv, framework_views
    from compliance.kb.scope import available_scopes, resolve

    d = overlay(tmp_path, "acme.yaml", SECOND)
    base = kbmod.load([d])
    assert "acme-sec" in available_scopes(base)
    scope = resolve(base, ["acme-sec"])
    assert scope.safeguards == ["ACME-4.1", "ACME-4.1.a", "ACME-5.2"] and set(scope.controls) == {"AC-6", "SC-8"}
    a = assess(base, [], [], scopes=["acme-sec", "hipaa"], now=datetime(2026, 12, 1, tzinfo=UTC))
    views = framework_views(a, base)
    assert [fw.id for fw, _ in views] == ["hipaa", "acme-sec"]
    assert "ACME-5.2" in as_csv(a, base) and ",acme-sec-view," in as_csv(a, base)
