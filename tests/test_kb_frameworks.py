"""Frameworks as data: the ``frameworks`` section, its validation, and a second framework added by an
overlay showing up in queries, ``kb stats`` and the site with no code change."""

from __future__ import annotations

import textwrap
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
    assert "sg.yaml:2: safeguard X-1 names unknown framework 'no-such-framework' (known: hipaa)" in res.output


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
    assert list(base.frameworks) == ["hipaa", "acme-sec"]
    assert [n.id for n in base.framework_items("acme-sec")] == ["ACME-4.1", "ACME-4.1.a", "ACME-5.2"]
