"""The report model built from a real assessment (the engine over generated store records): caps at
scale, counts, compact controls, risk register, CSV, charts. No PDF is rendered here (fast)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from compliance import kb as kbmod
from compliance.assess import assess
from compliance.evidence.model import StoredFinding
from compliance.kb import status as rules
from compliance.kb.model import EdgeKind, NodeKind, Rule
from compliance.report.build import CSV_COLUMNS, Options, findings_csv, from_assessment
from compliance.report.charts import svg
from compliance.report.model import Bar, Chart

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
SEVERITIES = ["low", "medium", None, "high", "critical", "info"]


class _File:
    def __init__(self, i: int) -> None:
        self.sha256 = hashlib.sha256(f"f{i}".encode()).hexdigest()
        self.name = f"scan-{i}.json"
        self.format = "bandit-json"
        self.tool = "bandit"
        self.tool_version = f"1.{i}"
        self.scan_time = "2026-11-29T08:00:00Z"
        self.findings = 0


@pytest.fixture(scope="module")
def kb() -> Any:
    return kbmod.load([])


def _mits(kb: Any, rule_node: str) -> tuple[str, ...]:
    return tuple(sorted(e.target for e in kb.edges.values() if e.kind is EdgeKind.EVIDENCES and e.source == rule_node))


def _finding(
    kb: Any, i: int, rule_node: str, *, fail: bool, severity: str | None, f: _File, message: str | None = None
) -> StoredFinding:
    rec = kb.nodes[rule_node].record
    assert isinstance(rec, Rule)
    return StoredFinding(
        identity=f"id{i:06d}",
        tool=rec.tool,
        tool_version=f.tool_version,
        scan_time=f.scan_time,
        scan_time_source="file",
        rule_id=rec.rule_id,
        rule_title=rec.title,
        severity=severity,
        result="fail" if fail else "pass",
        resource=None,
        function=f"fn-{i % 17}",
        file=f"src/h{i}.py",
        line=i % 50 + 1,
        provider="aws",
        account=None,
        region=None,
        cwes=(),
        pointer=f"/results/{i}",
        message=message or f"finding {i}",
        method="TEST",
        targets=(),
        first_seen="2026-06-01T08:00:00Z" if i % 5 == 0 else f.scan_time,
        last_seen=f.scan_time,
        status="open" if fail else "passing",
        file_sha256=f.sha256,
        mitigations=_mits(kb, rule_node),
        controls=(),
        mapped_by="rule",
        observations=1,
    )


@pytest.fixture(scope="module")
def big(kb: Any) -> dict[str, Any]:
    """3,000 findings of two bandit rules (one failing a lot, one passing), over three files."""
    files = [_File(i) for i in range(3)]
    fail_rule, pass_rule = "bandit:B105", "bandit:B324"
    assert fail_rule in kb.nodes and pass_rule in kb.nodes
    findings = []
    for i in range(3000):
        f = files[i % 3]
        if i % 2:
            findings.append(_finding(kb, i, fail_rule, fail=True, severity=SEVERITIES[(i // 2) % len(SEVERITIES)], f=f))
        else:
            findings.append(_finding(kb, i, pass_rule, fail=False, severity="low", f=f))
    findings.append(_finding(kb, 99999, fail_rule, fail=True, severity="high", f=files[0], message='=HYPERLINK("http://x")'))
    a = assess(kb, findings, files, scopes=["fedramp-moderate", "hipaa"], now=NOW)
    return {"a": a, "files": files, "fail_rule": fail_rule}


def test_sections_cite_the_most_severe_and_count_the_rest(kb: Any, big: dict[str, Any]) -> None:
    a = big["a"]
    r = from_assessment(a, kb, now=NOW, evidence_files=big["files"])
    failing_sections = [c for c in r.controls if c.failing]
    assert failing_sections
    for c in failing_sections:
        mits = {m.id for m in a.controls[c.id].mitigations}
        expected = sum(1 for f in a.findings.values() if mits & set(f.mitigations) or c.id in f.controls)
        assert c.failing == expected
        assert len(c.citations) == min(5, expected)
        assert c.citations_more == expected - len(c.citations)
        assert c.citations[0].severity == "critical"
        ranks = [["critical", "high", "medium", "low", "info", None].index(x.severity) for x in c.citations]
        assert ranks == sorted(ranks)
        assert all(x.sha256 in {f.sha256 for f in big["files"]} for x in c.citations)
    # fewer citations when asked
    r2 = from_assessment(a, kb, now=NOW, options=Options(top_findings=2))
    assert all(len(c.citations) <= 2 for c in r2.controls)


def test_every_control_once_and_compact_ones_have_no_evidence(kb: Any, big: dict[str, Any]) -> None:
    a = big["a"]
    r = from_assessment(a, kb, now=NOW)
    ids = [c.id for c in r.controls] + [c.id for c in r.compact]
    assert sorted(ids) == sorted(a.controls)
    assert len(ids) == len(set(ids))
    for c in r.compact:
        assert c.status in ("not-assessed", "inherited")
        links = a.controls[c.id].mitigations
        assert not any(
            r_.passed or r_.failed for ln in links for r_ in (a.mitigations[ln.id].rules if ln.id in a.mitigations else [])
        )
    assert r.totals["sections"] + r.totals["compact"] == len(a.controls)
    assert sum(r.counts.values()) == len(a.controls)
    for c in r.controls:
        assert c.status == a.controls[c.id].status


def test_risk_register_residual_status(kb: Any, big: dict[str, Any]) -> None:
    a = big["a"]
    r = from_assessment(a, kb, now=NOW)
    assert [k.id for k in r.risks] == [f"SAS-{i}" for i in range(1, 13)]
    mitigated_by: dict[str, set[str]] = {}
    for e in kb.edges.values():
        if e.kind is EdgeKind.MITIGATED_BY:
            mitigated_by.setdefault(e.source, set()).add(e.target)
    for k in r.risks:
        assert {m for m, _ in k.mitigations} == mitigated_by[k.id]
        statuses = [a.mitigations[m].status if m in a.mitigations else "not-assessed" for m, _ in k.mitigations]
        assert k.residual_status == rules.combine(statuses)
        assert sum(len(ms) for _, ms in k.groups) == len(k.mitigations)
    failing_mits = {m for f in a.findings.values() for m in f.mitigations}
    hit = [k for k in r.risks if failing_mits & {m for m, _ in k.mitigations}]
    assert hit and all(k.residual_status == "not-satisfied" for k in hit)


def test_poam_hipaa_and_evidence_rows(kb: Any, big: dict[str, Any]) -> None:
    a = big["a"]
    r = from_assessment(a, kb, now=NOW, evidence_files=big["files"])
    assert [(p.rule, p.due, p.overdue, p.findings) for p in r.poam] == [
        (p.rule, p.due, p.overdue, len(p.findings)) for p in a.poam
    ]
    assert [p.number for p in r.poam] == list(range(1, len(a.poam) + 1))
    assert r.safeguards is not None and {s.id for s in r.safeguards} == set(a.safeguards)
    assert {(e.sha256, e.version) for e in r.files} == {(f.sha256, f.tool_version) for f in big["files"]}
    only_moderate = assess(kb, [], [], scopes=["fedramp-moderate"], now=NOW)
    assert from_assessment(only_moderate, kb, now=NOW).safeguards is None


def test_findings_csv_has_every_failure_and_keeps_formulas_inert(big: dict[str, Any]) -> None:
    a = big["a"]
    rows = list(csv.reader(io.StringIO(findings_csv(a).decode("utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) - 1 == len(a.findings)
    body = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [b["identity"] for b in body] == sorted(a.findings)
    hostile = next(b for b in body if b["identity"] == "id099999")
    assert hostile["message"] == '\'=HYPERLINK("http://x")'
    assert findings_csv(a) == findings_csv(a)


def test_chart_svg_escapes_labels_and_scales_bars() -> None:
    chart = Chart(
        "c",
        "t <x>",
        "caption",
        (
            Bar("<script>alert(1)</script>", 'a "title" & more', {"satisfied": 3, "not-satisfied": 1}),
            Bar("AC", "Access Control", {"not-assessed": 8}),
        ),
    )
    out = svg(chart)
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "&amp; more" in out
    from defusedxml import ElementTree

    root = ElementTree.fromstring(out)
    ns = "{http://www.w3.org/2000/svg}"
    widths = {
        r.find(f"{ns}title").text: float(r.get("width"))  # type: ignore[union-attr]
        for r in root.iter(f"{ns}rect")
        if r.find(f"{ns}title") is not None
    }
    assert widths["AC: 8 not-assessed"] == pytest.approx(2 * widths["<script>alert(1)</script>: 3 satisfied"] * 4 / 3)


def test_families_in_kb_give_chart_bars(kb: Any, big: dict[str, Any]) -> None:
    a = big["a"]
    r = from_assessment(a, kb, now=NOW)
    fam = next(c for c in r.charts if c.id == "chart-family")
    assert sum(b.total for b in fam.bars) == len(a.controls)
    base = next(c for c in r.charts if c.id == "chart-baseline")
    moderate = next(b for b in base.bars if b.label.split()[0] == "fedramp-moderate")
    members = kb.nodes["fedramp-moderate"].record.members
    assert moderate.total == len(members)
    assert moderate.label == f"fedramp-moderate ({len(members)}/{len(members)})"
    assert {n.id for n in kb.of_kind(NodeKind.FAMILY)} >= {b.label for b in fam.bars}


CATALOG = Path(__file__).resolve().parents[1].parent / "shared" / "oscal" / "nist" / "NIST_SP-800-53_rev5_catalog.json"


def test_statements_appear_when_a_catalog_was_imported(kb: Any, big: dict[str, Any], tmp_path: Path) -> None:
    import html

    from compliance.assess.catalog import statements
    from compliance.assess.db import save
    from compliance.evidence.store import Store
    from compliance.oscal.catalog import import_catalog
    from compliance.paths import templates_dir
    from compliance.report import build, family_titles
    from compliance.report.render import render_html

    if not CATALOG.is_file():
        pytest.skip("../shared catalog missing")
    ws = tmp_path / "ws"
    with Store.open(ws) as store:
        save(store, big["a"])
        _, before = build(kb, store, now=NOW)
        assert not before.meta.catalog_imported and all(c.statement is None for c in before.controls)
        import_catalog(store, CATALOG)
        _, model = build(kb, store, now=NOW)
    st = statements(ws)
    assert model.meta.catalog_imported
    assert model.controls and all(c.statement == st[c.id] for c in model.controls)
    page = render_html(model, templates=templates_dir(), family_titles=family_titles(kb))
    for c in model.controls[:5]:
        assert html.escape(c.statement.splitlines()[0], quote=False) in page  # type: ignore[union-attr]
    assert "no catalog was imported" not in page


def test_unwritable_output_is_an_input_error(tmp_path: Path) -> None:
    from compliance.errors import InputError
    from compliance.paths import templates_dir
    from compliance.report.render import write_pdf

    out = tmp_path / "a-folder.pdf"
    out.mkdir()
    with pytest.raises(InputError, match=r"a-folder\.pdf: cannot write the report"):
        write_pdf("<p>x</p>", out, templates=templates_dir(), now=NOW)
    assert out.is_dir() and not list(tmp_path.glob(".*partial"))


def test_summary_lists_the_worst_controls_first(kb: Any, big: dict[str, Any]) -> None:
    r = from_assessment(big["a"], kb, now=NOW, options=Options(attention=4))
    bad = [c for c in r.controls if c.status in ("not-satisfied", "partially-satisfied")]
    assert len(r.attention) == min(4, len(bad))
    keys = [(c.status != "not-satisfied", -c.failing) for c in r.attention]
    assert keys == sorted(keys)
    worst = max(c.failing for c in bad)
    assert r.attention[0].failing == worst


def test_huge_evidence_text_is_clipped_in_the_pdf_but_whole_in_the_csv(kb: Any) -> None:
    f = _File(9)
    huge = "A" * 50_000
    a = assess(
        kb,
        [_finding(kb, 1, "bandit:B105", fail=True, severity="high", f=f, message=huge)],
        [f],
        scopes=["fedramp-moderate"],
        now=NOW,
    )
    r = from_assessment(a, kb, now=NOW)
    cites = [x for c in r.controls for x in c.citations]
    assert cites and all(x.message is not None and len(x.message) < 700 for x in cites)
    assert cites[0].message.endswith("[49,400 more characters in the findings CSV]")  # type: ignore[union-attr]
    rows = list(csv.DictReader(io.StringIO(findings_csv(a).decode("utf-8"))))
    assert rows[0]["message"] == huge


def test_overdue_poam_items_are_marked(kb: Any, big: dict[str, Any]) -> None:
    from compliance.paths import templates_dir
    from compliance.report.render import render_html

    a = big["a"]
    overdue = [p for p in a.poam if p.overdue]
    assert overdue, "the fixture has findings first seen in June: past every remediation window"
    page = render_html(from_assessment(a, kb, now=NOW), templates=templates_dir())
    assert page.count('<tr class="overdue">') == len(overdue)
    assert page.count('<br><span class="flag">OVERDUE</span>') == len(overdue)  # in the due-date cell


def test_citations_show_each_failing_rule_before_repeating_one(kb: Any) -> None:
    f = _File(3)
    noisy = [_finding(kb, i, "bandit:B105", fail=True, severity="critical", f=f) for i in range(1, 40)]
    quiet = [_finding(kb, 100, "bandit:B106", fail=True, severity="low", f=f)]
    a = assess(kb, noisy + quiet, [f], scopes=["fedramp-moderate"], now=NOW)
    r = from_assessment(a, kb, now=NOW)
    both = [c for c in r.controls if c.failing == 40]
    assert both, "B105 and B106 reach the same mitigation, hence the same controls"
    for c in both:
        assert [x.rule for x in c.citations] == ["bandit:B105"] * 4 + ["bandit:B106"]  # most severe first
        assert c.citations_more == 35


def test_mitigation_paths_carry_the_curated_confidence(kb: Any, big: dict[str, Any]) -> None:
    r = from_assessment(big["a"], kb, now=NOW)
    paths = [(c.id, mp) for c in r.controls for mp in c.mitigations]
    assert paths
    for cid, mp in paths:
        edge = kb.edges.get((mp.id, cid, "maps-to"))
        assert mp.confidence == (edge.confidence if edge is not None else None)
    assert {mp.confidence for _, mp in paths} & {"high", "medium", "low"}
    from compliance.paths import templates_dir
    from compliance.report.render import render_html

    page = render_html(r, templates=templates_dir())
    assert re.search(r"\[(subset-of|intersects-with|equal|superset-of), (high|medium|low)( confidence)?\]", page)


# --------------------------------------------------------------------------- the front section (issue 23)


def test_front_section_without_a_system(kb: Any, big: dict[str, Any]) -> None:
    from compliance.report.build import method_rules

    a = big["a"]
    r = from_assessment(a, kb, now=NOW, evidence_files=big["files"], options=Options(assessor="A. Assessor"))
    assert r.system is None
    assert r.meta.scope_titles == ("FedRAMP Rev. 5 Moderate", "HIPAA Security Rule")
    assert r.meta.assessor == "A. Assessor"
    # every rule of compliance.kb.status, numbered as there; rule 5's bullets kept as lines
    numbers = [int(n) for n in re.findall(r"^(\d+)\. \*\*", rules.__doc__ or "", re.MULTILINE)]
    assert [m.number for m in r.method] == numbers == [m.number for m in method_rules()]
    five = next(m for m in r.method if m.number == 5)
    assert five.title == "Control status" and five.text.count("\n• ") == 4
    # limitations count what the assessment saw: no catalog imported, controls without deciding evidence
    n = a.counts()["not-assessed"]
    assert f"{n} of {len(a.controls)} controls are not assessed: no fresh evidence that can decide them" in " ".join(
        r.limitations
    )
    assert any("no SP 800-53 catalog was imported" in x for x in r.limitations)
    assert not any("outside the boundary" in x for x in r.limitations)  # not an assessment of a system
    assert [(s.role, s.name) for s in r.signoff] == [
        ("Assessor", "A. Assessor"),
        ("System owner", ""),
        ("Authorizing official", ""),
    ]


def test_front_section_of_a_system_reads_its_file(kb: Any, big: dict[str, Any]) -> None:
    from dataclasses import replace

    from compliance.evidence.system import load_system

    system = load_system(Path(__file__).resolve().parents[1] / "examples" / "phi-app" / "system.yaml")
    a = replace(big["a"], system="phi-app", outside_findings=7)
    r = from_assessment(a, kb, now=NOW, evidence_files=big["files"], system=system, statements={"AC-2": "x"})
    assert r.system is not None and r.meta.system_name == "phi-app"
    assert dict(r.system.boundary)["Regions"] == "us-east-1"
    assert "Tags" in dict(r.system.boundary) and "Accounts" not in dict(r.system.boundary)  # only what the file lists
    assert r.system.contacts == (("system owner", "Example Health security team <security@example.org>"),)
    assert r.limitations[0].startswith("7 findings lie outside the boundary of phi-app")
    assert not any("catalog" in x for x in r.limitations)
    assert [s.name for s in r.signoff][1] == "Example Health security team"


def test_rule_text_is_escaped_before_its_marks_become_html() -> None:
    from compliance.report.render import inline

    html = str(inline("a `tool:*` rule, *fresh* and **bold** <img src=x>\n• next"))
    assert html == ('a <span class="mono">tool:*</span> rule, <i>fresh</i> and <b>bold</b> &lt;img src=x&gt;<br>• next')


TAILORED_PARAM = "sc-28_odp.02"  # SC-28's "[Assignment: information at rest]", which FedRAMP Moderate leaves open


def _tailored_profile(path: Path) -> Path:
    import orjson

    moderate = "https://raw.githubusercontent.com/GSA/fedramp-automation/master/dist/content/rev5/baselines/json/FedRAMP_rev5_MODERATE-baseline_profile.json"
    doc = {
        "profile": {
            "uuid": "6b1f9a0e-2c55-4f7e-8d0b-7d4c2f1a9e31",
            "metadata": {
                "title": "Moderate for the records API",
                "last-modified": "2026-12-01T00:00:00Z",
                "version": "1",
                "oscal-version": "1.1.3",
            },
            "imports": [{"href": moderate, "include-all": {}}],
            "modify": {"set-parameters": [{"param-id": TAILORED_PARAM, "values": ["patient records in tables and buckets"]}]},
        }
    }
    path.write_bytes(orjson.dumps(doc))
    return path


def test_statements_show_the_parameter_values_of_the_assessments_own_profile(kb: Any, tmp_path: Path) -> None:
    """Assessed with --profile, the report fills the parameters that profile sets and names it; the others keep the
    imported catalog's values (here FedRAMP Moderate's)."""
    import html

    from click.testing import CliRunner

    from compliance.cli import main
    from compliance.evidence.store import Store
    from compliance.paths import templates_dir
    from compliance.report import build, family_titles
    from compliance.report.render import render_html

    fedramp = CATALOG.parents[1] / "fedramp" / "FedRAMP_rev5_MODERATE-baseline_profile.json"
    if not CATALOG.is_file() or not fedramp.is_file():
        pytest.skip("../shared catalog or FedRAMP profile missing")
    ws, runner = tmp_path / "ws", CliRunner()
    evidence = Path(__file__).resolve().parents[1] / "examples" / "phi-app" / "evidence"

    def sckb(*args: str) -> None:
        r = runner.invoke(main, ["--workspace", str(ws), "--now", "2026-12-01", *args])
        assert r.exit_code == 0, r.output

    sckb("evidence", "ingest", str(evidence), "--scan-time", "2026-11-30T09:30:00Z")
    sckb("catalog", "import", str(CATALOG), "--profile", str(fedramp))
    sckb("assess", "--scope", "fedramp-moderate")  # without the profile first: FedRAMP's values only
    with Store.open(ws) as store:
        _, plain = build(kb, store, now=NOW)
    sc28 = next(c for c in plain.controls if c.id == "SC-28")
    assert "[Assignment: information at rest]" in (sc28.statement or "") and sc28.statement_label is None
    assert plain.meta.statement_profile is None

    sckb("assess", "--profile", str(_tailored_profile(tmp_path / "records-moderate.json")))
    with Store.open(ws) as store:
        _, model = build(kb, store, now=NOW)
    sc28 = next(c for c in model.controls if c.id == "SC-28")
    text = sc28.statement or ""
    assert "[Moderate for the records API: patient records in tables and buckets]" in text
    assert "[FedRAMP Rev 5 Moderate Baseline: confidentiality AND integrity]" in text  # not tailored: FedRAMP's value
    assert "[Assignment: information at rest]" not in text and "\x02" not in text and "\x03" not in text
    assert model.meta.statement_profile == "Moderate for the records API (records-moderate.json)"
    assert sc28.statement_label is not None and "Moderate for the records API" in sc28.statement_label
    ac2 = next(c for c in model.controls if c.id == "AC-2")  # the profile sets none of AC-2's parameters
    assert ac2.statement_label is None and ac2.statement == next(c for c in plain.controls if c.id == "AC-2").statement
    page = render_html(model, templates=templates_dir(), family_titles=family_titles(kb))
    assert html.escape("[Moderate for the records API: patient records in tables and buckets]", quote=False) in page
    assert "the assessment's tailored baseline Moderate for the records API (records-moderate.json) sets" in page

    # the site's control pages, built with this assessment's dashboards, show the same statement
    from compliance.cli import Ctx, _site_inputs

    inputs = _site_inputs(Ctx([], False, ws, None), "latest")
    assert inputs.statements["SC-28"] == text
    assert "[Assignment: information at rest]" in _site_inputs(Ctx([], False, ws, None), None).statements["SC-28"]


def test_render_fills_marked_parameters_innermost_first() -> None:
    from compliance.assess.catalog import ProfileValues, mark_param, param_ids, render

    inner = mark_param("x-1_odp.02", "[Assignment: roles]")
    text = "Notify " + mark_param("x-1_odp.01", f"[Selection: {inner}; everyone]") + " daily."
    assert param_ids(text) == ["x-1_odp.01", "x-1_odp.02"]
    assert render(text) == "Notify [Selection: [Assignment: roles]; everyone] daily."
    assert render(text, ProfileValues("Ours", "ours.json", {"x-1_odp.02": "the on-call team"})) == (
        "Notify [Selection: [Ours: the on-call team]; everyone] daily."
    )
    assert render(text, ProfileValues("Ours", "ours.json", {"x-1_odp.01": "everyone"})) == "Notify [Ours: everyone] daily."
    assert render("Stored before parameters were marked.") == "Stored before parameters were marked."
