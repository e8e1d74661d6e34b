"""The auditor's PDF report, rendered for real (WeasyPrint) from a real assessment of real evidence,
and read back with pypdf and poppler's pdftotext / pdftoppm."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from _system import needs
from click.testing import CliRunner
from pypdf import PdfReader

from compliance.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
NOW = "2026-12-01T00:00:00Z"  # the clock of the demo assessment (Makefile)
#: the example evidence ``make demo`` uses (and, were it missing, a few real scanner outputs from ../shared)
EXAMPLES = ROOT / "examples" / "phi-app" / "evidence"
CORPUS_FALLBACK = (
    "checkov-json/azarm-function-app-linux-consumption__results_json.json",
    "bandit-json/dvsa__bandit.json",
    "semgrep-json/sp-apigw-s3-lambda-sls-py__semgrep.json",
    "checkov-json",
)

needs_poppler = needs("poppler-utils")


def _demo_inputs() -> list[Path]:
    if EXAMPLES.is_dir():
        return [EXAMPLES]
    if not (SHARED / "corpus").is_dir():
        pytest.skip("no example evidence in examples/ and no ../shared corpus")
    return [SHARED / "corpus" / rel for rel in CORPUS_FALLBACK]


def _ok(res: Any) -> Any:
    assert res.exit_code == 0, (res.output, res.exception)
    return res


def sckb(ws: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--workspace", str(ws), "--now", NOW, *args], catch_exceptions=False)


def pdftotext(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    cmd = ["pdftotext", "-enc", "UTF-8"]
    if first:
        cmd += ["-f", str(first)]
    if last:
        cmd += ["-l", str(last)]
    return subprocess.run([*cmd, str(pdf), "-"], check=True, capture_output=True).stdout.decode("utf-8")


def squash(s: str) -> str:
    """Text without any whitespace (so line wrapping in the PDF does not matter)."""
    return re.sub(r"\s+", "", s)


def spaced(s: str) -> str:
    """Text with every whitespace run as one space (and none after a hyphen where a line was wrapped)."""
    return re.sub(r"-\s+", "-", re.sub(r"\s+", " ", s)).strip()


def page_texts(pdf: Path) -> list[str]:
    return [p for p in pdftotext(pdf).split("\f")]


# --------------------------------------------------------------------------- the demo report


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("report-demo")
    ws = tmp / "ws"
    res = sckb(ws, "evidence", "ingest", *map(str, _demo_inputs()))
    assert res.exit_code in (0, 3), res.output  # 3: a file in the folder is not evidence (reported, skipped)
    _ok(sckb(ws, "assess", "--scope", "fedramp-moderate", "--scope", "hipaa"))
    out = tmp / "report.pdf"
    res = _ok(
        sckb(
            ws,
            "report",
            "pdf",
            "--out",
            str(out),
            "--system-name",
            "Demo serverless shop",
            "--organization",
            "Example Health Inc.",
            "--pdf-variant",
            "pdf/a-3b",
            "--attach",
            "--json",
        )
    )
    info = orjson.loads(res.stdout)
    from compliance.assess import load_assessment
    from compliance.evidence.store import Store

    with Store.open(ws, create=False) as store:
        a = load_assessment(store)
    yield {"ws": ws, "pdf": out, "info": info, "a": a, "tmp": tmp}


def test_page_count(demo: dict[str, Any]) -> None:
    n = len(PdfReader(demo["pdf"]).pages)
    assert n == demo["info"]["pages"]
    assert 5 < n < 300


@needs_poppler
def test_page_x_of_y(demo: dict[str, Any]) -> None:
    n = demo["info"]["pages"]
    pages = page_texts(demo["pdf"])
    assert "Page 1 of" not in pages[0]  # the cover has no running footer
    assert f"Page 2 of {n}" in pages[1]
    assert f"Page {n} of {n}" in pages[n - 1]
    assert demo["a"].id in pages[n - 1]  # the running footer names the assessment


def _outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    out: list[tuple[int, str, int]] = []

    def walk(items: list[Any], depth: int) -> None:
        for it in items:
            if isinstance(it, list):
                walk(it, depth + 1)
            else:
                out.append((depth, str(it.title), reader.get_destination_page_number(it) + 1))

    walk(reader.outline, 1)
    return out


def _toc_links(reader: PdfReader, end: int) -> list[int]:
    """Destination pages of the links on the contents pages (``reader.pages[1:end]``), in order."""
    named = {k: reader.get_destination_page_number(v) + 1 for k, v in reader.named_destinations.items()}
    pages: list[int] = []
    last: Any = None
    for page in reader.pages[1:end]:
        for ref in page.get("/Annots") or []:
            a = ref.get_object()
            dest = a.get("/Dest")
            if dest is None and "/A" in a:
                dest = a["/A"].get("/D")
            if dest is None or dest == last:
                continue  # one link is several boxes (text, leader, page number)
            last = dest
            pages.append(named[dest] if isinstance(dest, str) else reader.get_page_number(dest[0].get_object()) + 1)
    return pages


@needs_poppler
def test_bookmarks_mirror_the_table_of_contents(demo: dict[str, Any]) -> None:
    reader = PdfReader(demo["pdf"])
    outline = _outline(reader)
    titles = [t for _, t, _ in outline]
    # level 1: the report's sections, in order
    assert [t for d, t, _ in outline if d == 1][:3] == [
        "1 Executive summary",
        "2 System, scope and method",
        "3 Control assessments",
    ]
    assert any(t.endswith("Evidence appendix") for d, t, _ in outline if d == 1)
    assert "HIPAA" in " ".join(t for d, t, _ in outline if d == 1)
    # the contents pages list every bookmark with the bookmark's page number beside it, in the same order
    pages = page_texts(demo["pdf"])
    contents_end = next(i for i, p in enumerate(pages) if "1 Executive summary" in p and i > 1)
    # pdftotext joins a word hyphenated at a line end ("Non-\norganizational" -> "Nonorganizational"): drop hyphens
    toc = spaced(" ".join(pages[1:contents_end])).replace("-", "")
    for _, title, page in outline:
        # (pdftotext's reading order across the two contents columns is its own; the links below check order)
        m = re.compile(re.escape(spaced(title).replace("-", "")) + r" ?\.* ?" + str(page) + r"(?!\d)").search(toc)
        assert m, f"contents lack {title!r} .... {page}"
    # and the links on the contents pages, in document order, jump where the bookmarks do
    assert _toc_links(reader, contents_end) == [p for _, _, p in outline]
    # controls are nested under their family
    a = demo["a"]
    first_control = next(t for d, t, _ in outline if d == 3)
    cid = first_control.split()[0]
    assert cid in a.controls
    assert sum(1 for d, _, _ in outline if d == 3) == sum(1 for t in titles if t.split()[0] in a.controls)


@needs_poppler
def test_control_ids_and_statuses_appear(demo: dict[str, Any]) -> None:
    a = demo["a"]
    text = pdftotext(demo["pdf"])
    flat = squash(text)
    seen_statuses = set()
    for c in a.controls.values():
        assert squash(c.id) in flat
    by_status: dict[str, list[Any]] = {}
    for c in a.controls.values():
        by_status.setdefault(c.status, []).append(c)
    for status, cs in by_status.items():
        c = cs[0]
        # the control's heading is followed by its status badge (section) or its table row has it (compact table)
        pattern = (
            re.escape(squash(f"{c.id} {c.title}"))
            + r".{0,40}?"
            + re.escape(status)
            + "|"
            + re.escape(squash(c.id) + squash(c.title))
            + r".{0,20}?"
            + re.escape(status)
        )
        assert re.search(pattern, flat), (c.id, status)
        seen_statuses.add(status)
    assert "not-satisfied" in seen_statuses


@needs_poppler
def test_every_evidence_sha256_is_in_the_appendix(demo: dict[str, Any]) -> None:
    a = demo["a"]
    pages = page_texts(demo["pdf"])
    start = max(i for i, p in enumerate(pages) if "Evidence appendix" in p and "Every evidence file" in p)
    appendix = "".join(pages[start:])
    assert a.files
    for f in a.files:
        assert f.sha256 in appendix, f.name


def test_metadata_is_set(demo: dict[str, Any]) -> None:
    md = PdfReader(demo["pdf"]).metadata
    assert md is not None
    assert md.title == "Serverless compliance assessment report: Demo serverless shop"
    assert md.author == "Example Health Inc."
    assert demo["a"].id in (md.subject or "")
    assert "FedRAMP Rev. 5 Moderate" in (md.subject or "")  # scopes by title in the text, by id in the keywords
    assert "fedramp-moderate" in str(md.get("/Keywords", ""))
    assert str(md.get("/CreationDate", "")).startswith("D:20261201000000")


def test_pdfa_3b_markers(demo: dict[str, Any]) -> None:
    reader = PdfReader(demo["pdf"])
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r"pdfaid:part(>|=\")3", xmp)
    assert re.search(r"pdfaid:conformance(>|=\")B", xmp)
    intents = root["/OutputIntents"]
    assert intents[0].get_object()["/S"] == "/GTS_PDFA1"
    # PDF/A-3 associated files: each attachment is listed in /AF with a relationship
    assert {(str(x.get_object()["/F"]), str(x.get_object()["/AFRelationship"])) for x in root["/AF"]} == {
        ("assessment-results.json", "/Data"),
        ("findings.csv", "/Data"),
    }


def test_attach_embeds_the_oscal_results_and_the_findings_csv(demo: dict[str, Any]) -> None:
    from compliance.oscal import assessment_results, dumps

    a = demo["a"]
    atts = PdfReader(demo["pdf"]).attachments
    assert sorted(atts) == ["assessment-results.json", "findings.csv"]
    assert demo["info"]["attachments"] == ["assessment-results.json", "findings.csv"]
    ar = atts["assessment-results.json"][0]
    assert ar == dumps(assessment_results(a))
    assert "assessment-results" in orjson.loads(ar)
    rows = list(csv.DictReader(io.StringIO(atts["findings.csv"][0].decode("utf-8"))))
    assert len(rows) == len(a.findings)
    assert {r["identity"] for r in rows} == set(a.findings)
    shas = {f.sha256 for f in a.files}
    assert all(r["evidence_sha256"] in shas for r in rows)


@needs_poppler
def test_look_first_pages_render_to_png(demo: dict[str, Any], tmp_path: Path) -> None:
    """The command a person runs to look at the report (README: make report-look)."""
    from PIL import Image, ImageStat

    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "4", str(demo["pdf"]), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == 4
    for png in pngs:
        with Image.open(png) as im:
            grey = im.convert("L")
            stat = ImageStat.Stat(grey)
            dark = sum(grey.histogram()[:200])
        assert stat.stddev[0] > 5, f"{png.name} looks blank"
        assert dark > 500, f"{png.name} has almost no ink"
    # the executive summary page carries the charts: colour, not just text
    summary = next(p for p in pngs if _has_colour(p))
    assert summary.name != pngs[1].name  # contents page is text only


def _has_colour(png: Path) -> bool:
    from PIL import Image

    with Image.open(png) as im:
        saturation = im.convert("RGB").convert("HSV").getchannel("S").histogram()
    return sum(saturation[120:]) > 300


# --------------------------------------------------------------------------- the POA&M section from triage (issue 22)


@pytest.fixture(scope="module")
def triaged_pdf(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A triaged workspace assessed twice (the second time after the operational requirement was approved, compared
    with the first), and the PDF of the second assessment."""
    from tests import poam_triage as tri
    from tests.test_assess_cases import sckb as sckb_cases

    tmp = tmp_path_factory.mktemp("report-poam")
    ws = tri.triaged_workspace(tmp)
    first = orjson.loads(_ok(sckb_cases(ws, "assess", "list", "--json")).output)[-1]["id"]
    _ok(sckb_cases(ws, "evidence", "triage", "--rule", tri.ADJUSTED, "--kind", "operational-requirement",
                   "--rationale", "The function must keep its current runtime", "--by", "Sam Ortiz",
                   "--approved-by", "Dana Reyes (AO)"))  # fmt: skip
    _ok(sckb_cases(ws, "assess", "--scope", "fedramp-moderate", "--previous", first))
    out = tmp / "report.pdf"
    _ok(sckb_cases(ws, "report", "pdf", "--out", str(out)))
    return {"pdf": out, "first": first}


def _poam_pages(pdf: Path) -> str:
    """The text of the POA&M section, from its introduction on (not the table of contents' entries)."""
    text = spaced(pdftotext(pdf))
    return text[text.index("5 Plan of action and milestones One item per failing rule") :]


@needs_poppler
def test_poam_section_shows_the_triage_columns(triaged_pdf: dict[str, Any]) -> None:
    from tests import poam_triage as tri

    text = squash(_poam_pages(triaged_pdf["pdf"]))
    for rule in (tri.PLANNED, tri.ADJUSTED, tri.VENDOR):
        assert squash("SCKB-" + rule) in text
    # ratings: original -> adjusted; status, deviations, point of contact, vendor and milestones under the item
    assert squash("→low") in text
    assert squash("Status deviation-approved · Deviation operational requirement approved, risk adjustment approved") in text
    assert squash("Status remediating · POC lee.park@example.org") in text
    assert squash("(1) 2026-12-15: Key policy in the template; (2) 2027-01-10: Queues encrypted and verified") in text
    assert squash("Vendor Lambda runtime 3.x (last check-in 2026-11-28)") in text
    assert "DEVIATION" in text


@needs_poppler
def test_poam_section_lists_closed_items_and_the_months_changes(triaged_pdf: dict[str, Any]) -> None:
    from tests import poam_triage as tri

    text = _poam_pages(triaged_pdf["pdf"])
    closed = text[text.index("5.1 Closed items") : text.index("5.2 Continuous monitoring")]
    assert "SCKB-" + tri.FALSE_POSITIVE in closed
    assert "false positive (approved)" in closed
    conmon = text[text.index("5.2 Continuous monitoring: changes since") :]
    assert triaged_pdf["first"] in conmon
    assert "0 new, " in conmon
    changed = squash(conmon)
    assert squash(f"SCKB-{tri.ADJUSTED}: deviations: operational-requirement approved, risk-adjustment approved") in changed
    assert squash(f"Deviated SCKB-{tri.ADJUSTED}") in changed


# --------------------------------------------------------------------------- the front section of a system's report (issue 23)

SYSTEM_FILE = ROOT / "examples" / "phi-app" / "system.yaml"
CATALOG = SHARED / "oscal" / "nist" / "NIST_SP-800-53_rev5_catalog.json"
MODERATE = SHARED / "oscal" / "fedramp" / "FedRAMP_rev5_MODERATE-baseline_profile.json"


@pytest.fixture(scope="module")
def system_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The bundled example assessed as its system (the demo's steps), with the catalog and FedRAMP Moderate values
    imported, reported with an assessor."""
    if not (EXAMPLES.is_dir() and CATALOG.is_file()):
        pytest.skip("needs examples/phi-app and ../shared/oscal")
    tmp = tmp_path_factory.mktemp("report-system")
    ws = tmp / "ws"
    res = sckb(ws, "evidence", "ingest", str(EXAMPLES), "--scan-time", "2026-11-30T09:30:00Z")
    assert res.exit_code in (0, 3), res.output
    _ok(sckb(ws, "system", "add", str(SYSTEM_FILE)))
    _ok(sckb(ws, "catalog", "import", str(CATALOG), "--profile", str(MODERATE)))
    _ok(sckb(ws, "assess", "--system", "phi-app", "--scope", "fedramp-moderate", "--scope", "hipaa"))
    out = tmp / "report.pdf"
    _ok(sckb(ws, "report", "pdf", "--system", "phi-app", "--out", str(out), "--assessor", "Jane Roe (Example Assurance)"))
    from compliance.assess import load_assessment
    from compliance.evidence.store import Store

    with Store.open(ws, create=False) as store:
        a = load_assessment(store)
    return {"ws": ws, "pdf": out, "a": a}


def _section(pages: list[str], start: str, end: str) -> str:
    """The text from the page where heading ``start`` first appears after the contents, up to heading ``end``."""
    body = "\f".join(pages[2:])
    i = body.index(start)
    return spaced(body[i : body.index(end, i)])


@needs_poppler
def test_cover_names_scopes_by_title_and_the_assessor(system_report: dict[str, Any]) -> None:
    cover = spaced(page_texts(system_report["pdf"])[0])
    assert "FedRAMP Rev. 5 Moderate" in cover and "HIPAA Security Rule" in cover
    assert "fedramp-moderate" not in cover  # no raw scope id on the cover
    assert "Jane Roe (Example Assurance)" in cover
    assert "phi-app" in cover and "Patient records API of the example" in cover  # the system, from its file


@needs_poppler
def test_system_section_states_the_boundary_from_the_system_file(system_report: dict[str, Any]) -> None:
    text = _section(page_texts(system_report["pdf"]), "2.1 System and boundary", "2.2 Scope and baseline")
    for fact in (
        "Providers aws",
        "Regions us-east-1",
        "template.yaml, src/**",
        "arn:aws:lambda:us-east-1:*:function:phi-app-*",
        "Sensitivity (FIPS 199) moderate; system under development",
        "Health Care Delivery Services (D.14.1): confidentiality moderate, integrity moderate, availability low",
        "held by Amazon Web Services, authorized 2016-01-01",
        "System owner Example Health security team <security@example.org>",
    ):
        assert fact in text, fact


@needs_poppler
def test_scope_assessor_method_limitations_and_sign_off(system_report: dict[str, Any]) -> None:
    from compliance.kb import status

    a = system_report["a"]
    pages = page_texts(system_report["pdf"])
    scope = _section(pages, "2.2 Scope and baseline", "2.3 Assessor and dates")
    assert "FedRAMP Rev. 5 Moderate (fedramp-moderate)" in scope and "HIPAA Security Rule (hipaa)" in scope
    dates = _section(pages, "2.3 Assessor and dates", "2.4 How a status is decided")
    assert "Assessor Jane Roe (Example Assurance)" in dates
    assert f"Evidence window {a.window_start} to {a.now}" in dates
    assert "Organization not stated" in dates  # says what is missing and how to give it
    # the method is the status rules of compliance.kb.status, every one, in order, with their own words
    method = _section(pages, "2.4 How a status is decided", "2.5 Limitations")
    titles = re.findall(r"^(\d+)\. \*\*(.+?)\.?\*\*", status.__doc__ or "", re.MULTILINE)
    assert len(titles) >= 9
    at = 0
    for _, title in titles:
        at = method.index(title.rstrip("."), at)
    assert "evidence dated after now is ignored as future" in method.replace("*", "")
    limits = _section(pages, "2.5 Limitations", "Shared responsibility")
    n = a.counts()["not-assessed"]
    assert f"{n} of {len(a.controls)} controls are not assessed" in limits
    assert "can only be shown by a person (EXAMINE or INTERVIEW)" in limits
    assert f"{a.counts()['inherited']} controls are inherited from the cloud provider" in limits
    sign = _section(pages, "2.6 Sign-off", "3 Control assessments")
    assert all(head in sign for head in ("Role", "Name", "Signature", "Date"))  # (pdftotext's order in the table)
    assert "Assessor Jane Roe (Example Assurance)" in sign
    assert "System owner Example Health security team" in sign and "Authorizing official" in sign


@needs_poppler
def test_statements_show_fedramp_values_and_hipaa_shows_required_or_addressable(system_report: dict[str, Any]) -> None:
    text = spaced(pdftotext(system_report["pdf"]))
    assert "[FedRAMP Rev 5 Moderate Baseline: twenty-four (24) hours] when accounts are no longer required" in text
    assert "the assignment reads [profile title: value]" in text
    layout = subprocess.run(["pdftotext", "-layout", str(system_report["pdf"]), "-"], check=True, capture_output=True).stdout
    text_layout = layout.decode("utf-8")
    hipaa = text_layout[text_layout.index("Required /") :]  # from the view's table head on
    assert re.search(r"164\.308\(a\)\(1\)\(ii\)\(A\)[^\n]*\brequired\b", hipaa)
    assert re.search(r"164\.308\(a\)\(3\)\(ii\)\(A\)[^\n]*\baddressable\b", hipaa)
    assert not re.search(r"164\.308\(a\)\(1\) [^\n]*\b(required|addressable)\b", hipaa)  # a standard states none


@needs_poppler
def test_a_system_removed_since_the_assessment_still_reports(system_report: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(system_report["ws"], ws)
    _ok(sckb(ws, "system", "remove", "phi-app"))
    out = tmp_path / "r.pdf"
    _ok(sckb(ws, "report", "pdf", "--assessment", system_report["a"].id, "--out", str(out)))
    text = spaced(pdftotext(out, 1, 12))
    assert "2.1 System and boundary" not in text and "2.1 Scope and baseline" in text  # numbered without it
    assert "2.5 Sign-off" in text
