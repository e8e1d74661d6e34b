"""``sckb kb validate`` rigor rules for mapping links (compliance/kb/rigor.py): the shipped data passes them,
and each rule reports a planted mistake at the file and line of the offending link."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.errors import EXIT_CHECK_FAILED
from compliance.kb.core import KB
from compliance.kb.model import Mitigation, NodeKind, Rule
from compliance.kb.rigor import check_parts_gap, check_rigor, crosswalk_sets, nests

ROOT = Path(__file__).resolve().parents[1]

# Each planted mistake sits on its own line; the comment names the rule that must report that line.
PLANTED = """\
mitigations:
  - id: planted-mitigation
    title: A mitigation with planted mistakes
    phase: runtime
    description: d
    guidance: {aws: a, gcp: b, azure: c}
    risks: [SAS-4]
    controls:
      - {to: AC-6, relationship: intersects-with, rationale: r, source: "NIST SP 800-53 Rev. 5, AC-6", confidence: high}
      - {to: SC-28, relationship: subset-of, rationale: r, source: "SC-28 statement (sc-28_smt)", confidence: medium}
      - {to: SC-8, relationship: subset-of, rationale: r, source: "SC-8 statement (sc-8_smt)", confidence: medium}
      - {to: AC-3, relationship: equal, rationale: r, source: "AC-3 statement (ac-3_smt)", confidence: low}
      - {to: AC-4, relationship: equal, rationale: r, source: "AC-4 statement (ac-4_smt)"}
    safeguards:
      - {to: "164.308(a)(7)(ii)(A)", relationship: intersects-with, rationale: r, source: "45 CFR backup plan", confidence: low}
    strategies:
      - {to: MS-SS-2, relationship: superset-of, rationale: r, source: "NIST SP 800-204, MS-SS-2"}
rules:
  - id: sckb-design:planted
    title: A design predicate
    tool: sckb-design
    rule_id: planted
    mitigations:
      - {to: planted-mitigation, relationship: equal, rationale: r, source: s}
    source: s
risks:
  - id: SAS-99
    title: A planted risk
    taxonomy: csa-2019
    description: d
    corresponds_to: [OWASP-A1]
    source: s
"""

#: rule -> (line, text the message must contain)
EXPECTED = {
    "link-fields (risk -> mitigation)": (7, "mitigated-by link planted-mitigation -> SAS-4 lacks relationship, rationale"),
    "link-fields (CSA <-> OWASP)": (31, "corresponds-to link SAS-99 -> OWASP-A1 lacks relationship, rationale, source"),
    "confidence": (13, "maps-to link planted-mitigation -> AC-4 lacks confidence"),
    "circular-source": (9, "only restates the target"),
    "contradictory-subset": (11, "planted-mitigation is subset-of both SC-28 and SC-8, which do not nest"),
    "multiple-equal": (13, "planted-mitigation has 2 equal links"),
    "strategy-direction": (17, "exported as MS-SS-2 subset-of planted-mitigation"),
    "design-rule-equal": (24, "is equal, but a design predicate checks only part of a mitigation"),
    "crosswalk-support (warning)": (
        15,
        "warning: maps-to link planted-mitigation -> 164.308(a)(7)(ii)(A): the mitigation shares no control",
    ),
}


@pytest.fixture(scope="module")
def planted_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("overlay")
    (d / "planted.yaml").write_text(PLANTED, encoding="utf-8")
    res = CliRunner().invoke(main, ["--kb", str(d), "kb", "validate"], env={"SCKB_NO_CACHE": "1"})
    assert res.exit_code == EXIT_CHECK_FAILED, res.output
    return res.output


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_planted_mistake_is_reported_at_its_line(planted_output: str, rule: str) -> None:
    line, needle = EXPECTED[rule]
    hits = [ln for ln in planted_output.splitlines() if f"planted.yaml:{line}: " in ln and needle in ln]
    assert hits, planted_output


def test_nesting_subsets_and_supported_links_are_not_reported(tmp_path: Path) -> None:
    """A control and its own enhancement nest; a framework link the crosswalk supports needs no reason."""
    text = PLANTED.replace("to: SC-8, relationship: subset-of", "to: SC-28(1), relationship: subset-of").replace(
        "164.308(a)(7)(ii)(A)", "164.312(a)(1)"
    )
    (tmp_path / "ok.yaml").write_text(text, encoding="utf-8")
    out = CliRunner().invoke(main, ["--kb", str(tmp_path), "kb", "validate"], env={"SCKB_NO_CACHE": "1"}).output
    assert "do not nest" not in out and "shares no control" not in out, out


def test_bare_links_load_and_only_validate_reports_them(tmp_path: Path) -> None:
    """The older bare form (``risks: [SAS-4]``, ``corresponds_to: [OWASP-A1]``) still loads, so other commands
    keep working on an old overlay; ``kb validate`` reports the missing fields."""
    (tmp_path / "planted.yaml").write_text(PLANTED, encoding="utf-8")
    kb = kbmod.load([tmp_path])
    assert not [p for p in kb.errors if "lacks relationship" in p.message]
    assert ("planted-mitigation", "SAS-4") in {(e.declared_by, e.source) for e in kb.edges.values()}
    assert [p for p in kbmod.validate(kb) if "lacks relationship" in p.message]


def test_rationale_that_explains_missing_crosswalk_support_silences_the_warning(tmp_path: Path) -> None:
    text = PLANTED.replace(
        'to: "164.308(a)(7)(ii)(A)", relationship: intersects-with, rationale: r,',
        'to: "164.308(a)(7)(ii)(A)", relationship: intersects-with, rationale: "Crosswalk shares none; kept: r.",',
    )
    (tmp_path / "planted.yaml").write_text(text, encoding="utf-8")
    assert not [p for p in check_rigor(kbmod.load([tmp_path])) if "shares no control" in p.message]


def test_shipped_links_pass_every_rigor_rule() -> None:
    """No error; the one warning allowed is the list of baseline controls whose links name no statement part yet
    (kept visible on purpose, see ``check_parts_gap``)."""
    kb = kbmod.load()
    gap = [str(p) for p in check_parts_gap(kb)]
    assert [str(p) for p in check_rigor(kb) if str(p) not in gap] == []


def test_nesting_and_crosswalk_sets_follow_the_data() -> None:
    kb: KB = kbmod.load()
    assert nests(kb, "AC-6", "AC-6(1)") and nests(kb, "AC-6(1)", "AC-6")
    assert not nests(kb, "AC-6(1)", "AC-6(2)") and not nests(kb, "SC-8", "SC-28")
    assert nests(kb, "164.308(a)(7)", "164.308(a)(7)(ii)(A)")
    assert not nests(kb, "164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)")
    sets = crosswalk_sets(kb)
    # a specification shares the crosswalk set of its standard
    assert "CP-9" in sets["164.308(a)(7)(ii)(A)"] and sets["164.308(a)(7)(ii)(A)"] == sets["164.308(a)(7)"]


def test_confidence_is_shown_by_query_control(runner: CliRunner) -> None:
    res = runner.invoke(main, ["query", "control", "SC-28", "--json"])
    rows = {m["id"]: m for m in json.loads(res.output)["mitigations"]}
    assert rows["data-store-encryption-at-rest"]["confidence"] == "high"
    table = runner.invoke(main, ["query", "control", "SC-28"]).output
    assert "confidence" in table


def test_confidence_is_shown_on_query_paths(runner: CliRunner) -> None:
    res = runner.invoke(main, ["query", "path", "parameterized-queries", "SI-10", "--json"])
    edge = json.loads(res.output)["paths"][0]["edges"][0]
    assert (edge["relationship"], edge["confidence"]) == ("subset-of", "high")
    assert "subset-of (high)" in runner.invoke(main, ["query", "path", "parameterized-queries", "SI-10"]).output


# ------------------------------------------------------------------ shared responsibility (issue 14)

PLANTED_RESPONSIBILITY = """\
responsibility:
  - {family: PE, party: provider, rationale: Planted family default., override: true}
  - {control: SC-39, party: provider, rationale: Planted provider entry without a basis., override: true}
  - {control: MA-1, party: shared, rationale: Planted policy control not the customer's., override: true}
  - {control: SC-4, party: provider, rationale: Planted with a basis., basis: "AWS Shared Responsibility Model", override: true}
"""


@pytest.fixture(scope="module")
def planted_responsibility(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("overlay-resp")
    (d / "resp.yaml").write_text(PLANTED_RESPONSIBILITY, encoding="utf-8")
    res = CliRunner().invoke(main, ["--kb", str(d), "kb", "validate"], env={"SCKB_NO_CACHE": "1"})
    assert res.exit_code == EXIT_CHECK_FAILED, res.output
    return res.output


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (2, "family default for PE is provider"),
        (3, "responsibility for SC-39 is provider without a basis"),
        (4, "MA-1 (policy and procedures) resolves to shared"),
    ],
)
def test_planted_responsibility_mistakes_are_reported(planted_responsibility: str, line: int, needle: str) -> None:
    hits = [ln for ln in planted_responsibility.splitlines() if f"resp.yaml:{line}: " in ln and needle in ln]
    assert hits, planted_responsibility


def test_a_provider_entry_with_a_basis_passes(planted_responsibility: str) -> None:
    assert "resp.yaml:5:" not in planted_responsibility, planted_responsibility


def test_shipped_responsibility_provider_entries_cite_a_basis() -> None:
    kb = kbmod.load()
    providers = {k: r for k, (r, _) in kb.responsibility.items() if r.party == "provider"}
    assert providers and all(not k.startswith("family:") for k in providers)
    assert all(any(w in (r.basis or "") for w in ("Shared Responsibility", "FedRAMP")) for r in providers.values())


def test_query_control_shows_the_basis(runner: CliRunner) -> None:
    resp = json.loads(runner.invoke(main, ["query", "control", "PE-3(1)", "--json"]).output)["responsibility"]
    assert (resp["party"], resp["via"]) == ("provider", "parent PE-3") and "AWS Shared Responsibility Model" in resp["basis"]
    pe1 = json.loads(runner.invoke(main, ["query", "control", "PE-1", "--json"]).output)["responsibility"]
    assert pe1["party"] == "customer" and "basis" not in pe1
    table = runner.invoke(main, ["query", "control", "PE-3"]).output
    assert "basis: AWS Shared Responsibility Model" in table


# ------------------------------------------------------------------ evidence nature, repeated rationales, design rules

PLANTED_EVIDENCE = """\
mitigations:
  - id: planted-bare
    title: A mitigation without the newer fields
    phase: runtime
    description: d
    guidance: {aws: a, gcp: b, azure: c}
rules:
  - id: planted:root-alarm
    title: A CloudWatch alarm exists for root usage
    tool: planted
    rule_id: root-alarm
    mitigations:
      - {to: alerting-on-anomalies, relationship: intersects-with, rationale: An alarm is part of alerting., source: s}
    source: s
  - id: planted:access-logging
    title: Access logging is enabled
    tool: planted
    rule_id: access-logging
    evidence: detective
    mitigations:
      - {to: centralized-logging-to-siem, relationship: subset-of, rationale: Logging is what it checks., source: s}
      - {to: least-privilege-execution-role, relationship: subset-of, rationale: Logs show who acted., source: s}
      - {to: waf-on-public-endpoints, relationship: intersects-with, rationale: Logs show who acted., source: s}
    source: s
"""


@pytest.fixture(scope="module")
def planted_evidence(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("overlay-evidence")
    (d / "ev.yaml").write_text(PLANTED_EVIDENCE, encoding="utf-8")
    res = CliRunner().invoke(main, ["--kb", str(d), "kb", "validate"], env={"SCKB_NO_CACHE": "1"})
    assert res.exit_code == EXIT_CHECK_FAILED, res.output
    return res.output


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (8, "rule planted:root-alarm checks a metric filter or alarm: declare evidence: detective"),
        (22, "least-privilege-execution-role is subset-of, but the rule's evidence is detective"),
        (23, "repeats the rationale of its link to least-privilege-execution-role"),
    ],
)
def test_planted_evidence_mistakes_are_reported(planted_evidence: str, line: int, needle: str) -> None:
    hits = [ln for ln in planted_evidence.splitlines() if f"ev.yaml:{line}: " in ln and needle in ln]
    assert hits, planted_evidence


def test_a_detective_rule_may_be_subset_of_a_detective_mitigation(planted_evidence: str) -> None:
    assert "ev.yaml:21:" not in planted_evidence, planted_evidence
    assert "nature" not in " ".join(ln for ln in planted_evidence.splitlines() if "ev.yaml:2:" in ln)  # still loads


def test_every_shipped_mitigation_has_a_nature_and_alarm_rules_are_detective() -> None:
    kb = kbmod.load()
    mitigations = [n.record for n in kb.of_kind(NodeKind.MITIGATION)]
    assert mitigations and all(isinstance(m, Mitigation) and m.nature for m in mitigations)
    rules = {n.id: n.record for n in kb.of_kind(NodeKind.RULE) if isinstance(n.record, Rule)}
    metric_filters = [r for rid, r in rules.items() if rid.startswith("prowler:cloudwatch_log_metric_filter_")]
    assert len(metric_filters) >= 10 and all(r.evidence == "detective" for r in metric_filters)
    # a detective check never proves a preventive mitigation
    for e in kb.edges.values():
        rule = rules.get(e.source)
        if rule is not None and rule.evidence == "detective" and e.relationship in ("subset-of", "equal"):
            mit = kb.record(e.target)
            assert isinstance(mit, Mitigation) and "detective" in mit.nature, (e.source, e.target)


def test_generated_design_rule_links_are_never_equal() -> None:
    """tools/gen_design_rules.py writes only subset-of links, whatever the predicates, and the committed file is its
    output (so no design rule link is equal in the shipped KB)."""
    spec = importlib.util.spec_from_file_location("gen_design_rules", ROOT / "tools" / "gen_design_rules.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    predicates = [{"id": "p1", "mitigation": "alerting-on-anomalies"}, {"id": "p2", "mitigation": "api-authentication"}]
    text = gen.render(predicates, {"alerting-on-anomalies": ["detective"], "api-authentication": ["preventive"]})
    assert "relationship: equal" not in text and text.count("relationship: subset-of") == 2
    assert text.count("\n    evidence: detective\n") == 1
    shipped = (ROOT / "mappings" / "rules" / "sckb-design.yaml").read_text(encoding="utf-8")
    assert "relationship: equal" not in shipped and "relationship: subset-of" in shipped
    kb = kbmod.load()
    design = [e for e in kb.edges.values() if e.source.startswith("sckb-design:")]
    assert design and {e.relationship for e in design} == {"subset-of"}


# ----------------------------------------------------------------------------- statement parts and assurance

# Each planted mistake sits on its own line; the comment names the rule that must report that line.
PARTS_PLANTED = """\
mitigations:
  - id: parts-mitigation
    title: A mitigation with planted part mistakes
    phase: runtime
    description: d
    guidance: {aws: a, gcp: b, azure: c}
    risks: [SAS-4]
    strategies:
      - {to: MS-SS-2, relationship: intersects-with, rationale: r, source: "800-204, MS-SS-2", parts: [ac-6_smt]}
    controls:
      - {to: AC-2, relationship: subset-of, rationale: r, source: ac-2_smt.d, confidence: high, parts: [ac-2_smt.d, ac-2_smt.d.1]}
      - {to: AC-6, relationship: intersects-with, rationale: r, source: "(ac-6_smt)", confidence: low, parts: [ac-6_smt]}
      - {to: SC-28, relationship: subset-of, rationale: r, source: "(sc-28_smt)", confidence: high, parts: [sc-28_smt, sc-28_smt]}
      - {to: AU-11, relationship: subset-of, rationale: r, source: "(au-11_smt)", confidence: high, parts: [au-12_smt.a]}
      - {to: SI-10, relationship: subset-of, rationale: r, source: "(si-10_smt)", confidence: high, parts: [si-10.a]}
      - {to: AU-12, relationship: superset-of, rationale: r, source: "(au-12_smt.a)", confidence: low, parts: [au-12_smt.a]}
    safeguards:
      - {to: "164.312(b)", relationship: subset-of, rationale: r, source: "audit controls", confidence: low, parts: [x_smt]}
statements:
  - {control: XX-99, parts: [xx-99_smt.a]}
  - {control: AC-6(10), parts: [ac-6.10_smt.a, ac-6_smt.a, ac-6.10_smt.a]}
assurance:
  - {target: SAS-4, methods: [EXAMINE], rationale: r, source: s}
  - {target: NOPE-1, methods: [INTERVIEW], rationale: r, source: s}
  - {target: AC-2, methods: [], rationale: r, source: s}
"""

#: rule -> (line, text the message must contain)
PARTS_EXPECTED = {
    "parts only on control links (strategy link)": (
        9,
        "implemented-by link parts-mitigation -> MS-SS-2 names statement parts (ac-6_smt)",
    ),
    "parts only on control links (safeguard link)": (
        18,
        "names statement parts (x_smt), but parts belong only on mitigation -> control",
    ),
    "not a top-level part": (11, "ac-2_smt.d.1 is not a top-level part of the AC-2 statement (ac-2_smt.a, "),
    "related link (intersects-with)": (12, "is intersects-with and names parts (ac-6_smt): a related link covers no part"),
    "related link (superset-of)": (16, "is superset-of and names parts (au-12_smt.a): a related link covers no part"),
    "duplicate part": (13, "maps-to link parts-mitigation -> SC-28 names part sc-28_smt more than once"),
    "prefix mismatch": (14, "part au-12_smt.a belongs to control au-12, not AU-11"),
    "not a part id": (15, "'si-10.a' is not a statement part id (like si-10_smt)"),
    "statements: unknown control": (20, "statement parts for unknown control 'XX-99'"),
    "statements: other control's part": (21, "statement parts of AC-6(10) name parts of another control: ac-6_smt.a"),
    "statements: duplicate": (21, "statement parts of AC-6(10) list ac-6.10_smt.a more than once"),
    "assurance: not a control": (23, "assurance target 'SAS-4' is a risk, not a control or framework item"),
    "assurance: unknown": (24, "assurance target 'NOPE-1' is unknown id, not a control or framework item"),
    "assurance: no method": (25, "assurance entry for AC-2 names no method"),
}


@pytest.fixture(scope="module")
def parts_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("parts-overlay")
    (d / "planted.yaml").write_text(PARTS_PLANTED, encoding="utf-8")
    res = CliRunner().invoke(main, ["--kb", str(d), "kb", "validate"], env={"SCKB_NO_CACHE": "1"})
    assert res.exit_code == EXIT_CHECK_FAILED, res.output
    return res.output


@pytest.mark.parametrize("rule", sorted(PARTS_EXPECTED))
def test_planted_parts_mistake_is_reported_at_its_line(parts_output: str, rule: str) -> None:
    line, needle = PARTS_EXPECTED[rule]
    hits = [ln for ln in parts_output.splitlines() if f"planted.yaml:{line}: " in ln and needle in ln]
    assert hits, parts_output


def test_good_parts_are_not_reported(tmp_path: Path) -> None:
    text = """\
mitigations:
  - id: parts-mitigation
    title: A mitigation that names parts properly
    phase: runtime
    description: d
    guidance: {aws: a, gcp: b, azure: c}
    risks:
      - {to: SAS-4, relationship: subset-of, rationale: r, source: s}
    controls:
      - {to: AC-2, relationship: subset-of, rationale: r, source: "ac-2_smt.d", confidence: high, parts: [ac-2_smt.d, ac-2_smt.j]}
      - {to: AC-2(1), relationship: equal, rationale: r, source: "(ac-2.1_smt)", confidence: high, parts: [ac-2.1_smt]}
assurance:
  - {target: AC-1, methods: [EXAMINE, INTERVIEW], rationale: r, source: s, override: true}
  - {target: "164.316(b)(1)", methods: [EXAMINE], rationale: r, source: s, override: true}
"""
    (tmp_path / "good.yaml").write_text(text, encoding="utf-8")
    kb = kbmod.load([tmp_path])
    parts_rules = ("statement part", "names part", "related link", "belongs to control", "assurance", "parts belong")
    assert [str(p) for p in check_rigor(kb) if p.severity == "error" and any(w in p.message for w in parts_rules)] == []
    assert not [p for p in kb.problems if p.severity == "error"]


def test_parts_gap_lists_reached_controls_without_parts() -> None:
    kb = kbmod.load()
    (warning,) = check_parts_gap(kb)
    assert warning.severity == "warning" and warning.file.endswith("baselines.yaml")
    listed = warning.message.split(": ", 1)[1].split(", ")
    # AC-6 is reached by subset-of links that name no part; SC-28 and SI-10 have links naming their statement;
    # AC-2 is reached by no subset-of/equal link at all
    assert "AC-6" in listed and "SI-4" in listed
    assert not {"SC-28", "SI-10", "AU-11", "AC-2"} & set(listed)
    assert check_parts_gap(kb, "no-such-baseline") == []


def test_naming_a_part_closes_the_gap(tmp_path: Path) -> None:
    """An overlay that replaces a mitigation with one whose AC-6 link names a part takes AC-6 off the warning."""
    (before,) = check_parts_gap(kbmod.load())
    assert "AC-6, " in before.message
    text = """\
mitigations:
  - id: least-privilege-execution-role
    override: true
    title: Least-privilege execution role per function
    phase: identity
    description: d
    guidance: {aws: a, gcp: b, azure: c}
    risks:
      - {to: SAS-4, relationship: subset-of, rationale: r, source: s}
    controls:
      - {to: AC-6, relationship: subset-of, rationale: r, source: "(ac-6_smt)", confidence: high, parts: [ac-6_smt]}
"""
    (tmp_path / "o.yaml").write_text(text, encoding="utf-8")
    (after,) = check_parts_gap(kbmod.load([tmp_path]))
    assert "AC-6, " not in after.message and "AU-12, " in after.message
