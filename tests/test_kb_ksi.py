"""The FedRAMP 20x Key Security Indicators, shipped as data only (controls/fedramp-20x-ksi.yaml,
mappings/fedramp-20x-ksi-crosswalk.yaml, an entry in controls/frameworks.yaml): the KB validates, and
queries, ``kb stats``, ``assess --scope``, the OSCAL export, the site and the PDF report all pick the
framework up with no code naming it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.kb.model import EdgeKind, NodeKind, Safeguard

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "phi-app" / "evidence"
SCHEMAS = ROOT.parent / "shared" / "oscal" / "schemas"
FW = "fedramp-20x-ksi"
NOW = "2026-12-01"
THEMES = ["AFR", "CED", "CMT", "CNA", "IAM", "INR", "MLA", "PIY", "RPL", "SVC", "TPR"]
#: FRMR.KSI 25.11A marks these retired (superseded by an AFR KSI): not in the KB
RETIRED = ["KSI-CMT-05", "KSI-MLA-03", "KSI-MLA-04", "KSI-MLA-06", "KSI-SVC-03", "KSI-TPR-01", "KSI-TPR-02"]
#: FedRAMP lists these under KSI-AFR-04, but SP 800-53 Rev. 5 withdrew them: left out of the crosswalk
WITHDRAWN = ["RA-5(7)", "SI-2(1)", "SI-3(1)", "SI-3(2)"]
SOURCE = "FRMR.KSI.key-security-indicators.json release 25.11A"


@pytest.fixture(scope="module")
def base() -> kbmod.KB:
    return kbmod.load()


def ksi_items(base: kbmod.KB) -> dict[str, Safeguard]:
    return {n.id: n.record for n in base.framework_items(FW) if isinstance(n.record, Safeguard)}


def crosswalk(base: kbmod.KB) -> list[Any]:
    items = ksi_items(base)
    return [e for e in base.edges.values() if e.kind is EdgeKind.CROSSWALK and e.source in items]


def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    res = CliRunner().invoke(main, list(args), env={"COLUMNS": "400", **(env or {})}, catch_exceptions=False)
    return res


# --------------------------------------------------------------------------- the data


def test_kb_validate_is_clean() -> None:
    res = cli("kb", "validate")
    assert res.exit_code == 0, res.output
    assert re.search(r"\b0 errors, [01] warnings\b", res.output), res.output
    # the one warning the shipped KB may carry lists baseline controls whose links name no statement part yet
    warnings = [ln for ln in res.output.splitlines() if ": warning: " in ln]
    assert all("names a statement part" in ln for ln in warnings), warnings


def test_framework_record_and_items(base: kbmod.KB) -> None:
    fw = base.frameworks[FW]
    assert (fw.label, fw.item, fw.items) == ("FedRAMP 20x", "KSI", "KSIs")
    assert fw.crosswalk is not None and fw.crosswalk.file == f"mappings/{FW}-crosswalk.yaml"
    assert "FRMR.KSI.key-security-indicators.json" in fw.source and "25.11A" in fw.source
    items = ksi_items(base)
    themes = {i: r for i, r in items.items() if r.type == "standard"}
    ksis = {i: r for i, r in items.items() if r.type == "implementation-specification"}
    assert len(items) == 76 and len(themes) == 11 and len(ksis) == 65
    assert sorted(themes) == [f"KSI-{t}" for t in THEMES]
    for i, r in ksis.items():
        assert re.fullmatch(r"KSI-[A-Z]{3}-\d{2}", i) and r.standard == f"KSI-{r.section}" and i.startswith(r.standard + "-")
        assert r.requirement is None and r.source.endswith(i)
    assert themes["KSI-IAM"].title == "Identity and Access Management"
    assert ksis["KSI-IAM-01"].title == "Phishing-Resistant MFA"
    assert not set(RETIRED) & set(items)
    # a theme is a standard whose parts are its KSIs
    assert {e.source for e in base.edges.values() if e.kind is EdgeKind.PART_OF and e.target == "KSI-RPL"} == {
        f"KSI-RPL-0{n}" for n in range(1, 5)
    }


def test_crosswalk_edges_as_fedramp_lists_them(base: kbmod.KB) -> None:
    edges = crosswalk(base)
    assert len(edges) == 471
    assert len({(e.source, e.target) for e in edges}) == 471
    controls = {n.id: n.record for n in base.of_kind(NodeKind.CONTROL)}
    for e in edges:
        assert e.target in controls and not controls[e.target].withdrawn, e
        assert e.relationship == "intersects-with"
        assert e.rationale and e.target in e.rationale and e.source in e.rationale
        assert e.ref is not None and SOURCE in e.ref and e.ref.endswith(f"{e.source} controls list"), e.ref
    by_ksi: dict[str, set[str]] = {}
    for e in edges:
        by_ksi.setdefault(e.source, set()).add(e.target)
    assert by_ksi["KSI-IAM-01"] == {"AC-2", "IA-2", "IA-2(1)", "IA-2(2)", "IA-2(8)", "IA-5", "IA-8", "SC-23"}
    assert by_ksi["KSI-SVC-10"] == {"SI-12(3)", "SI-18(4)"}
    assert len(by_ksi["KSI-AFR-04"]) == 40 - len(WITHDRAWN) and not set(WITHDRAWN) & by_ksi["KSI-AFR-04"]
    # KSIs FedRAMP gives no 800-53 list for, and the themes, have no crosswalk edge
    assert {"KSI-AFR-01", "KSI-CED-04", "KSI-CNA-06", "KSI-PIY-05", "KSI-PIY-08"}.isdisjoint(by_ksi)
    assert len(by_ksi) == 53 and not any(t in by_ksi for t in (f"KSI-{t}" for t in THEMES))


# --------------------------------------------------------------------------- queries and stats


def test_query_control_lists_the_ksis() -> None:
    res = cli("query", "control", "AC-2")
    assert res.exit_code == 0, res.output
    assert "FedRAMP 20x KSIs (crosswalk): KSI-IAM-01, KSI-IAM-02, KSI-IAM-03, KSI-IAM-04, KSI-IAM-06" in res.output
    assert "HIPAA safeguards (crosswalk):" in res.output
    res = cli("query", "control", "SI-18(4)", "--json")
    assert res.exit_code == 0, res.output
    assert "KSI-SVC-10" in json.loads(res.output)["safeguards"]


def test_kb_stats_counts_the_framework() -> None:
    res = cli("kb", "stats", "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)
    cov = s["coverage"][FW]
    assert cov["direct_or_crosswalk"]["total"] == 76 and 0 < cov["direct_or_crosswalk"]["count"] <= 76
    res = cli("kb", "stats")
    assert "FedRAMP 20x KSIs reached directly or by crosswalk" in res.output


def test_assess_help_names_the_scope() -> None:
    flat = " ".join(cli("assess", "--help").output.split()).replace("- ", "-")
    assert "hipaa, fedramp-20x-ksi, serverless (repeatable)" in flat


# --------------------------------------------------------------------------- assessment and outputs


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example evidence ingested, then assessed with --scope fedramp-20x-ksi."""
    ws = tmp_path_factory.mktemp("ksi") / "workspace"
    res = cli("--workspace", str(ws), "--now", NOW, "evidence", "ingest", str(EXAMPLE))
    assert res.exit_code == 0, res.output
    return ws


@pytest.fixture(scope="module")
def assessed(workspace: Path) -> dict[str, Any]:
    res = cli("--workspace", str(workspace), "--now", NOW, "assess", "--scope", FW, "--format", "json", "--accept-ingest-time")
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_assess_scope_gives_ksi_statuses(assessed: dict[str, Any], base: kbmod.KB) -> None:
    rows = {s["id"]: s for s in assessed["safeguards"]}
    assert set(rows) == set(ksi_items(base))
    assert assessed["assessment"]["scopes"] == [FW]
    statuses = {"satisfied", "not-satisfied", "partially-satisfied", "not-assessed", "inherited"}
    assert {s["status"] for s in rows.values()} <= statuses
    # the example's wildcard IAM policy fails least privilege (AC-6). A KSI takes its status from what maps to
    # it directly; its crosswalked controls are related evidence: shown, flagged for review, never deciding
    ac6 = next(c for c in assessed["controls"] if c["control"] == "AC-6")
    assert ac6["status"] == "not-satisfied"
    assert rows["KSI-IAM-04"]["status"] == "not-assessed"
    assert "crosswalked control AC-6 is not-satisfied" in rows["KSI-IAM-04"]["needs_review"]
    # a KSI FedRAMP lists no control for has nothing to be judged by
    assert rows["KSI-PIY-08"]["status"] == "not-assessed"
    assert "0 crosswalked control(s)" in rows["KSI-PIY-08"]["reason"]
    # the controls in scope are the ones the crosswalk reaches
    reached = {e.target for e in crosswalk(base)}
    assert {c["control"] for c in assessed["controls"]} == reached


def test_oscal_export_stays_schema_valid(workspace: Path, tmp_path: Path, assessed: dict[str, Any]) -> None:
    if not SCHEMAS.is_dir():
        pytest.skip("../shared/oscal is not beside the checkout")
    out = tmp_path / "oscal"
    res = cli("--workspace", str(workspace), "export", "oscal", "--out", str(out), "--schema-dir", str(SCHEMAS))
    assert res.exit_code == 0, res.output
    assert "schema check: all documents valid" in res.output
    ar = json.loads((out / "assessment-results.json").read_text(encoding="utf-8"))
    assert ar["assessment-results"]["results"][0]["findings"]


def test_site_has_the_framework_pages(workspace: Path, tmp_path: Path, assessed: dict[str, Any]) -> None:
    out = tmp_path / "site"
    res = cli("--workspace", str(workspace), "site", "build", "--out", str(out), "--assessment", "latest")
    assert res.exit_code == 0, res.output
    fw = out / "frameworks" / FW
    assert (fw / "index.html").is_file()
    for t in THEMES:
        assert (fw / t.lower() / "index.html").is_file(), t
    page = (fw / "iam" / "ksi-iam" / "ksi-iam-01.html").read_text(encoding="utf-8")  # no directory URLs
    assert "Phishing-Resistant MFA" in page and "FedRAMP 20x KSI" in page and "intersects-with" in page
    assert SOURCE in page
    assert len(list(fw.rglob("*.html"))) == 1 + 11 + 76  # the framework, its themes' sections, every item


def test_pdf_report_has_the_ksi_view(workspace: Path, tmp_path: Path, assessed: dict[str, Any]) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler's pdftotext is not installed")
    pdf = tmp_path / "report.pdf"
    res = cli("--workspace", str(workspace), "--now", NOW, "report", "pdf", "--out", str(pdf), "--system-name", "KSI demo")
    assert res.exit_code == 0, res.output
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True).stdout.decode()
    flat = re.sub(r"\s+", " ", text)
    assert "FedRAMP 20x Key Security Indicators view" in flat
    assert "KSI-IAM-01 Phishing-Resistant MFA" in flat and "KSI-TPR-04" in flat
