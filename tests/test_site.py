"""The guidance site (issue 7): generation, escaping, a real strict MkDocs build, links both ways,
a crawl for broken links, and browser tests with Debian's chromium.

The site is built ONCE per session (``built`` fixture), from the shipped KB plus a small overlay
whose mitigation carries hostile strings (``<script>``, Markdown syntax) in its title, description,
guidance and mapping rationale. So every test also runs against the escaping.
"""

from __future__ import annotations

import html.parser
import json
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import markdown
import pytest
from _system import missing_reason
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import command_help_texts, main
from compliance.site.build import MARKER, check_out_dir
from compliance.site.escape import md, mermaid_label
from compliance.site.generate import generate, not_in_nav_patterns, slug

CHROMIUM = Path("/usr/bin/chromium")
PAYLOAD = "<script>window.__pwned=1</script>"
PROBE_ID = "zz-site-probe"
PROBE_TITLE = f"{PAYLOAD} probe & <b>bold</b>"
OVERLAY = f"""\
mitigations:
  - id: {PROBE_ID}
    title: {json.dumps(PROBE_TITLE)}
    phase: code
    description: "A *probe*, [a link](javascript:window.__pwned=4) | pipe, `code`, <img src=x onerror=\\"window.__pwned=2\\">"
    guidance:
      aws: "<b>not bold</b> {{: onclick=alert(1) }}"
      gcp: "# not a heading"
      azure: "1. not a list item"
    risks: [SAS-4]
    controls:
      - to: AC-6
        relationship: subset-of
        rationale: "<script>window.__pwned=3</script> | cell ]] [x](y)"
        source: sckb site test
"""


@dataclass
class Built:
    out: Path
    kb: Any
    node_paths: dict[str, str]


def html_path(docs_path: str) -> str:
    """Where MkDocs writes the page of a docs Markdown path (no directory URLs: the site also works from disk)."""
    return docs_path[: -len(".md")] + ".html"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("site")
    overlay = root / "overlay"
    overlay.mkdir()
    (overlay / "probe.yaml").write_text(OVERLAY, encoding="utf-8")
    out = root / "out"
    args = ["--kb", str(overlay), "--now", "2026-12-01", "site", "build", "--out", str(out), "--json"]
    result = CliRunner().invoke(main, args, env={"SCKB_KB": None})
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["mermaid_local"] is True
    base = kbmod.load([overlay])
    assert not base.errors
    content = generate(base)
    return Built(out, base, content.node_paths)


@pytest.fixture(scope="session")
def site_links(built: Built) -> dict[str, tuple[set[str], list[str]]]:
    """Every built page's internal links (resolved) and broken links, parsed once."""
    return {p.relative_to(built.out).as_posix(): page_links(built.out, p) for p in sorted(built.out.rglob("*.html"))}


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = dict(attrs)
        for key in ("href", "src"):
            if d.get(key):
                self.hrefs.append(str(d[key]))
        if tag == "script":
            self.scripts.append(str(d.get("src") or ""))


_HREF = re.compile(r'\s(?:href|src)="([^"]*)"')


def page_links(out: Path, page: Path) -> tuple[set[str], list[str]]:
    """Internal links of a built page, resolved to site-relative file paths; and the unresolvable ones.
    (MkDocs and the theme always double-quote attributes, so a regex finds every href and src.)"""
    base = "/" + page.relative_to(out).as_posix()
    resolved: set[str] = set()
    broken: list[str] = []
    for raw in _HREF.findall(page.read_text(encoding="utf-8")):
        href = html.unescape(raw)
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith(("#", "mailto:", "data:", "javascript:")):
            continue
        target = unquote(urlsplit(urljoin(base, href)).path).lstrip("/")
        target = posixpath.normpath(target) if target else "index.html"
        candidate = out / target
        if candidate.is_dir():
            candidate = candidate / "index.html"
            target = posixpath.join(target, "index.html")
        if not candidate.is_file():
            broken.append(href)
        resolved.add(target)
    return resolved, broken


# ----------------------------------------------------------------------------- escaping (unit)


@pytest.mark.parametrize(
    "raw",
    [
        "<script>alert(1)</script>",
        "*emph* _under_ __strong__ **strong** `code` [link](http://x) ![img](y) [ref][1] <http://auto>",
        "a | b",
        "# heading",
        "- item",
        "1. item",
        "{: onclick=x }",
        "&amp; &lt;",
        "line one\n\nline two\n```\nfence",
        "<img src=x onerror=alert(1)>",
    ],
)
def test_md_escape_renders_exactly_the_text(raw: str) -> None:
    # the site's Markdown (compliance.site.mdext), and attr_list/md_in_html too, which the site does not even enable
    rendered = markdown.markdown(
        f"before {md(raw)}", extensions=["tables", "toc", "compliance.site.mdext", "attr_list", "md_in_html"]
    )
    assert "<script" not in rendered and "<img" not in rendered and "<em>" not in rendered and "<a " not in rendered
    assert "<code>" not in rendered and "<h1" not in rendered and "<li>" not in rendered
    # the browser shows exactly the data (whitespace collapsed)
    shown = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    assert shown == "before " + " ".join(raw.split())


def test_md_escape_in_a_table_cell_keeps_the_table_shape() -> None:
    rendered = markdown.markdown(f"| a | b |\n|---|---|\n| {md('x | y')} | {md('z')} |", extensions=["tables"])
    assert rendered.count("<td>") == 2
    assert "x | y" in html.unescape(rendered)


TABLE_CELLS = [
    md(PROBE_TITLE),
    md("*emph* **strong** `code` [link](http://x) | pipe & <b>"),
    "**shared**: " + md("A & B <i>"),
    f"`{'subset-of'}` and `a<b & c`",
    "",
    "12",
]


def test_table_html_is_what_markdown_makes_of_the_same_table() -> None:
    from compliance.site.generate import Generator, Page

    page = Page("a/b.md", "t")
    block = "\n".join(Generator.table(page, ["x", "y"], [TABLE_CELLS[i : i + 2] for i in range(0, len(TABLE_CELLS), 2)]))
    cols = "| x | y |\n|---|---|\n"
    rows = "".join(f"| {a or ' '} | {b or ' '} |\n" for a, b in zip(TABLE_CELLS[::2], TABLE_CELLS[1::2], strict=True))
    expected = markdown.markdown(cols + rows, extensions=["tables", "compliance.site.mdext"])
    assert block.strip() == expected.strip()
    assert "<b>" not in block and "<script" not in block and "<i>" not in block


def test_table_links_get_the_urls_mkdocs_gives_them() -> None:
    from compliance.site.generate import Generator, Page, page_url_link, rel

    def url(path: str) -> str:  # no directory URLs: a page is its .html file, beside its Markdown file
        return path[: -len(".md")] + ".html"

    pages = ["index.md", "a.md", "a/index.md", "a/b.md", "a/b/index.md", "x/y/z.md", "x/index.md"]
    for src in pages:
        for dst in pages:
            if src != dst:
                # the link, followed from the page's URL, reaches the other page's URL
                assert urljoin("http://h/" + url(src), page_url_link(src, rel(src, dst))) == "http://h/" + url(dst), (src, dst)
    page = Page("x/y/z.md", "t")
    out = "".join(Generator.table(page, ["to"], [[f"[A&#95;6]({rel(page.path, 'a/b.md')})"]]))
    assert '<a href="../../a/b.html">A&#95;6</a>' in out
    assert page.links == {"a/b.md"}


def test_html_blocks_skip_markdown_and_come_back_unchanged() -> None:
    from compliance.site.generate import Generator, Page
    from compliance.site.hooks import lift_blocks, restore_blocks

    block = Generator.table(Page("p.md", "t"), ["a"], [[md("x & y")], ["`z`"]])
    source = "\n".join(["# T", "", "text", "", *block, "## After", "", *block, "end"])
    lifted, blocks = lift_blocks(source)
    assert len(blocks) == 2 and "<table>" not in lifted
    converted = restore_blocks(markdown.markdown(lifted, extensions=["tables", "compliance.site.mdext"]), blocks)
    direct = markdown.markdown(source, extensions=["tables", "compliance.site.mdext"])
    assert converted.split() == direct.split()  # the same HTML, up to blank lines
    assert lift_blocks("no tables here") == ("no tables here", [])
    # a rule page's tables (kept out of search) and a long run of links travel the same way
    quiet = Page("q.md", "t", search_tables=False)
    links = Generator.links_line(quiet, ["[A](a.md)", "[B](b.md)"])
    source = "\n".join(["# T", "", *Generator.table(quiet, ["a"], [["[x](x.md)"]]), links, "", "end"])
    lifted, blocks = lift_blocks(source)
    assert len(blocks) == 2 and "<table" not in lifted and "sckb-links" not in lifted
    assert blocks[0].startswith('<table data-search-exclude="table">')
    assert blocks[1] == '<p class="sckb-links"><a href="a.html">A</a> · <a href="b.html">B</a></p>'
    assert quiet.links == {"x.md", "a.md", "b.md"}
    converted = restore_blocks(markdown.markdown(lifted, extensions=["tables", "compliance.site.mdext"]), blocks)
    direct = markdown.markdown(source, extensions=["tables", "compliance.site.mdext"])
    assert converted.split() == direct.split()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "one line",
        "  lead and trail  ",
        "a  \t\n\n   b\n",
        "\n\n",
        " \t\n  <p>x</p>  \n\t\xa0 y \xa0\n \u2003",
        "a\r\n  b\f\n\vc",
        "\xa0\n\xa0\n",
    ],
)
def test_minify_squeezes_newline_runs_as_the_regex_would(text: str) -> None:
    from compliance.site.hooks import minify, squeeze

    assert squeeze(text) == re.sub(r"[ \t]*\n\s*", "\n", text)
    page = f"<div>\n   {text}\n  <pre>  keep\n\n  this </pre>\n <textarea> and\n  this</textarea>  \n</div>"
    assert minify(page) == (
        squeeze(f"<div>\n   {text}\n  ")
        + "<pre>  keep\n\n  this </pre>"
        + squeeze("\n ")
        + "<textarea> and\n  this</textarea>"
        + squeeze("  \n</div>")
    )


def test_nav_cache_shares_the_nav_only_between_leaf_pages_outside_the_nav_in_one_folder() -> None:
    from types import SimpleNamespace

    from mkdocs.structure.files import InclusionLevel

    from compliance.site.hooks import NavCache

    def page(url: str, in_nav: bool = False) -> Any:
        level = InclusionLevel.INCLUDED if in_nav else InclusionLevel.NOT_IN_NAV
        return SimpleNamespace(url=url, file=SimpleNamespace(inclusion=level))

    cache = NavCache(["", "scanners/prowler/", "controls/ac/ac-2/"])
    cache.keep(page("scanners/prowler/a/"), "<nav>prowler</nav>")
    assert cache.get(page("scanners/prowler/b/")) == "<nav>prowler</nav>"  # same folder, same relative URLs
    assert cache.get(page("scanners/other/a/")) is None
    assert cache.get(page("scanners/prowler/", in_nav=True)) is None  # its nav marks itself active
    cache.keep(page("controls/ac/"), "<nav>ac</nav>")  # a nav page sits below it: never cached
    assert cache.get(page("controls/ab/")) is None
    assert cache.get(page("controls/ac/ac-2/x/")) is None


def test_a_table_link_to_a_missing_page_fails_the_build(tmp_path: Path) -> None:
    from compliance.errors import CheckFailed
    from compliance.site.build import write_project
    from compliance.site.generate import Generator, Page, SiteContent

    page = Page("g/p.md", "p")
    page.add("# p", "", *Generator.table(page, ["to"], [["[gone](missing.md)"]]))
    with pytest.raises(CheckFailed, match=re.escape("docs/g/p.md links to g/missing.md")):
        write_project(SiteContent({"g/p.md": page}, [], {}, {}), tmp_path / "project")


def test_mermaid_labels_only_keep_safe_characters() -> None:
    label = mermaid_label('AC-6 "quoted" <b>x</b> #amp; `tick` [br]', limit=200)
    assert not set(label) & set('"<>#`[]{}|;&')
    assert "AC-6" in label


@pytest.fixture(scope="session")
def shipped() -> tuple[Any, Any]:
    """The shipped KB and its generated pages (no build), once per session."""
    base = kbmod.load()
    return base, generate(base)


def test_relative_links_match_posixpath() -> None:
    from compliance.site.generate import rel

    cases = [
        ("a/b/c.md", "a/b/d.md"),
        ("a/b/index.md", "x/y.md"),
        ("index.md", "a/b.md"),
        ("a/b.md", "index.md"),
        ("a/b/c.md", "a/b/c/d.md"),
    ]
    for src, dst in cases:
        assert rel(src, dst) == posixpath.relpath(dst, posixpath.dirname(src) or "."), (src, dst)


def test_slugs_are_safe_and_ids_never_share_a_page(shipped: tuple[Any, Any]) -> None:
    base, content = shipped
    paths = list(content.node_paths.values())
    assert len(paths) == len(set(paths)) == len(base.nodes)
    for p in paths:
        assert re.fullmatch(r"[a-z0-9._/-]+\.md", p), p
    assert slug("checkov:CKV_AWS_1") == "checkov-ckv_aws_1"
    assert slug("AC-6(1)") == "ac-6-1"


def test_generation_is_deterministic(shipped: tuple[Any, Any]) -> None:
    a, b = shipped[1], generate(kbmod.load())
    assert {p: page.text() for p, page in a.pages.items()} == {p: page.text() for p, page in b.pages.items()}
    assert a.nav == b.nav and a.files == b.files


def test_pages_outside_the_nav_are_declared(shipped: tuple[Any, Any]) -> None:
    content = shipped[1]
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(content.not_in_nav)
    from compliance.site.generate import nav_paths

    in_nav = nav_paths(content.nav)
    for path in content.pages:
        assert (path in in_nav) != spec.match_file(path), path
    assert not_in_nav_patterns({}, []) == []


def test_cli_reference_covers_every_command() -> None:
    texts = dict(command_help_texts())
    assert "sckb site build" in texts and "sckb query control" in texts and "sckb kb validate" in texts
    assert all(t.startswith("Usage: ") for t in texts.values())
    assert "--assessment ID" in texts["sckb site build"]


def test_out_folder_that_is_not_a_site_is_refused(tmp_path: Path, runner: CliRunner) -> None:
    victim = tmp_path / "mine"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    result = runner.invoke(main, ["site", "build", "--out", str(victim)])
    assert result.exit_code == 3
    assert "refusing to overwrite" in result.output and str(victim) in result.output
    assert (victim / "precious.txt").read_text() == "keep me"
    (victim / MARKER).write_text("")
    check_out_dir(victim)  # an earlier sckb site may be replaced


# ----------------------------------------------------------------------------- the built site


def test_build_date_comes_from_now(built: Built) -> None:
    # the build date MkDocs writes (the gzip header of sitemap.xml.gz) is --now, so the same inputs give a
    # byte-identical site
    from datetime import UTC, datetime

    header = (built.out / "sitemap.xml.gz").read_bytes()[:8]
    assert int.from_bytes(header[4:8], "little") == int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())


def test_every_node_has_a_page_and_links_go_both_ways(built: Built, site_links: dict[str, tuple[set[str], list[str]]]) -> None:
    links: dict[str, set[str]] = {}
    for node_id, docs_path in built.node_paths.items():
        assert (built.out / html_path(docs_path)).is_file(), node_id
        links[node_id] = site_links[html_path(docs_path)][0]
    g = built.kb.graph
    assert g.number_of_edges() > 1000
    for u, v in g.edges():
        assert html_path(built.node_paths[v]) in links[u], f"{u} page does not link to {v}"
        assert html_path(built.node_paths[u]) in links[v], f"{v} page does not link back to {u}"


def test_crawl_finds_no_broken_internal_links(built: Built, site_links: dict[str, tuple[set[str], list[str]]]) -> None:
    assert len(site_links) > len(built.node_paths)
    broken = {page: bad[:3] for page, (_, bad) in site_links.items() if bad}
    reachable: set[str] = set().union(*(resolved for resolved, _ in site_links.values()))
    assert broken == {}
    # every page can be reached by following links from the home page
    seen, todo = {"index.html"}, ["index.html"]
    while todo:
        for target in site_links.get(todo.pop(), (set(), []))[0]:
            if target.endswith(".html") and target not in seen:
                seen.add(target)
                todo.append(target)
    assert set(site_links) - seen - {"404.html"} == set()
    # every download is linked and is the same data as `sckb kb export`
    for name in ("downloads/sckb-graph.json", "downloads/nodes.csv", "downloads/edges.csv", "downloads/sckb-graph.graphml"):
        assert name in reachable
    from compliance.kb.export import to_csv, to_json

    assert (built.out / "downloads/sckb-graph.json").read_bytes() == to_json(built.kb)
    assert (built.out / "downloads/edges.csv").read_bytes() == to_csv(built.kb)["edges.csv"]


def test_no_raw_html_from_data_reaches_any_output(built: Built) -> None:
    hostile = [PAYLOAD, "<script>window.__pwned=3", "<img src=x", "<b>bold</b>", "<b>not bold</b>"]
    for f in built.out.rglob("*"):
        if f.is_file() and f.suffix in (".html", ".json", ".xml") and "downloads" not in f.parts:
            text = f.read_text(encoding="utf-8")
            for bad in hostile:
                assert bad not in text, f"{bad!r} raw in {f.relative_to(built.out)}"
    page = (built.out / html_path(built.node_paths[PROBE_ID])).read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page  # shown as text
    assert "<h1" in page and page.count("<h1") == 1  # "# not a heading" did not become one
    assert 'href="javascript:' not in page


def test_risk_page_has_a_mermaid_diagram_served_locally(built: Built) -> None:
    page = (built.out / html_path(built.node_paths["SAS-4"])).read_text(encoding="utf-8")
    assert '<pre class="mermaid">' in page and "graph LR" in page
    parser = _Links()
    parser.feed(page)
    mermaid = [s for s in parser.scripts if s.endswith("mermaid.min.js")]
    assert mermaid and not any(s.startswith(("http:", "https:")) for s in parser.scripts)
    assert (built.out / "assets/javascripts/mermaid.min.js").stat().st_size > 1_000_000
    control = (built.out / html_path(built.node_paths["AC-6(1)"])).read_text(encoding="utf-8")
    assert "mermaid.min.js" not in control  # only pages with a diagram load it


def test_baseline_coverage_and_responsibility_pages(built: Built) -> None:
    from compliance.kb import query

    b = query.baseline(built.kb, "fedramp-moderate")
    page = (built.out / html_path(built.node_paths["fedramp-moderate"])).read_text(encoding="utf-8")
    assert f"{len(b['reached'])} of {b['members']} controls" in page
    resp = (built.out / "responsibility.html").read_text(encoding="utf-8")
    for fam in ("AC", "PE", "SI"):
        assert built.kb.responsibility["family:" + fam][0].rationale.split()[0] in resp
    ac6 = (built.out / html_path(built.node_paths["AC-6"])).read_text(encoding="utf-8")
    assert "Shared responsibility" in ac6 and str(built.kb.party("AC-6").party) in ac6


def test_scanner_tool_pages_list_every_rule(built: Built, site_links: dict[str, tuple[set[str], list[str]]]) -> None:
    tools: dict[str, list[str]] = {}
    for node_id, d in built.kb.graph.nodes(data=True):
        if d["kind"] == "rule":
            tools.setdefault(d["tool"], []).append(node_id)
    assert tools
    for tool, rules in tools.items():
        folder = built.out / "scanners" / slug(tool)
        linked: set[str] = set()
        for page in [*folder.glob("index.html"), *folder.glob("rules-*.html")]:
            linked |= site_links[page.relative_to(built.out).as_posix()][0]
        for r in rules:
            assert html_path(built.node_paths[r]) in linked, f"{tool} pages do not list {r}"


# ----------------------------------------------------------------------------- dashboard pages


def test_dashboard_pages_escape_findings(shipped: tuple[Any, Any]) -> None:
    from compliance.assess import Assessment, ControlResult, FindingRecord, PoamItem
    from compliance.assess.model import MitigationLink

    finding = FindingRecord(
        identity="f1",
        tool="checkov",
        rule_id="CKV_AWS_1",
        rule="checkov:CKV_AWS_1",
        title=PAYLOAD,
        severity="HIGH",
        result="fail",
        status="open",
        subject="<img src=x onerror=alert(1)>",
        resource=None,
        function=None,
        file="template.yaml",
        line=3,
        pointer="/0",
        file_sha256="0" * 64,
        first_seen="2026-01-01T00:00:00Z",
        last_seen="2026-01-02T00:00:00Z",
        method="scan",
        mitigations=[],
        controls=["AC-6"],
        mapped_by="rule",
        message=None,
    )
    control = ControlResult(
        id="AC-6",
        title="Least Privilege",
        status="not-satisfied",
        reason="a *failing* rule",
        party="customer",
        scopes=["fedramp-moderate"],
        mitigations=[MitigationLink("least-privilege-execution-role", "subset-of", "not-satisfied")],
    )
    poam = PoamItem(
        rule="checkov:CKV_AWS_1",
        title=PAYLOAD,
        severity="HIGH",
        window_days=30,
        first_seen="2026-01-01",
        due="2026-01-31",
        overdue=True,
        findings=["f1"],
        subjects=[],
        controls=["AC-6"],
        mitigations=[],
        observations=[],
    )
    a = Assessment(
        id="A-test",
        now="2026-02-01T00:00:00Z",
        window_start="2025-11-01T00:00:00Z",
        max_age_days=90,
        scopes=["fedramp-moderate"],
        unmapped_mode="warn",
        controls={"AC-6": control},
        mitigations={},
        safeguards={},
        findings={"f1": finding},
        observations=[],
        files=[],
        poam=[poam],
        unmapped=[],
    )
    content = generate(shipped[0], assessment=a)
    for path in (
        "assessment/index.md",
        "assessment/families.md",
        "assessment/controls/ac.md",
        "assessment/findings.md",
        "assessment/poam.md",
    ):
        assert path in content.pages
    for page in content.pages.values():
        rendered = markdown.markdown(page.text().split("---", 2)[2], extensions=["tables"])
        assert "<script" not in rendered and "<img" not in rendered
    findings = markdown.markdown(content.pages["assessment/findings.md"].text().split("---", 2)[2], extensions=["tables"])
    assert PAYLOAD in html.unescape(re.sub(r"<[^>]+>", "", findings))  # shown as text
    status = content.pages["assessment/controls/ac.md"].text()
    assert "not-satisfied" in status and "AC-6" in status


# ----------------------------------------------------------------------------- browser

BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def site_url(built: Built) -> Iterator[str]:
    from compliance.site.serve import serve_in_thread

    server, url = serve_in_thread(built.out)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = missing_reason("chromium")
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context()
    pg = ctx.new_page()
    # generous: on a loaded 2-core CI box the search worker can take a while to index
    pg.set_default_timeout(60_000)
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    # a request cut short by the next navigation (net::ERR_ABORTED) is no failure of the page
    pg.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}") if "ABORTED" not in (r.failure or "") else None)
    pg.problems = problems
    yield pg
    ctx.close()


@pytest.mark.browser
def test_home_page_loads_with_no_console_errors_and_renders_mermaid(page: Any, site_url: str) -> None:
    page.goto(site_url, wait_until="networkidle")
    assert "sckb guidance" in page.title()
    # the theme renders a diagram into a closed shadow root and swaps <pre class="mermaid"> for <div class="mermaid">
    page.wait_for_selector("div.mermaid")
    assert page.locator("pre.mermaid").count() == 0
    box = page.locator("div.mermaid").first.bounding_box()
    assert box is not None and box["height"] > 100
    assert page.evaluate("typeof window.mermaid") == "object"
    assert page.problems == []


@pytest.mark.browser
def test_search_ac6_finds_the_control_page(page: Any, site_url: str, built: Built) -> None:
    page.goto(site_url, wait_until="networkidle")
    search(page, "AC-6")
    want = "/" + html_path(built.node_paths["AC-6"])
    hrefs = page.eval_on_selector_all(".md-search-result__item > a", "els => els.map(e => e.href)")
    # the search box splits "AC-6" into "ac" and "6"; the control page still ranks first among the matches
    assert want in [urlsplit(h).path for h in hrefs[:3]], hrefs[:10]
    assert page.problems == []


@pytest.mark.browser
def test_click_from_risk_to_mitigation_to_control(page: Any, site_url: str, built: Built) -> None:
    from compliance.kb import query

    r = query.risk(built.kb, "SAS-4")
    mitigation = next(m["id"] for m in r["mitigations"] if m["id"] != PROBE_ID and any(c["id"] == "AC-6" for c in m["controls"]))
    page.goto(urljoin(site_url, html_path(built.node_paths["SAS-4"])), wait_until="networkidle")
    page.locator("article a", has_text=re.compile(rf"^{re.escape(mitigation)}$")).first.click()
    page.wait_for_url(re.compile(re.escape(html_path(built.node_paths[mitigation])) + "$"))
    assert page.locator("h1").inner_text() == built.kb.graph.nodes[mitigation]["title"]
    assert f"id {mitigation}" in page.locator("article").inner_text()
    page.locator("article a", has_text=re.compile(r"^AC-6$")).first.click()
    page.wait_for_url(re.compile(re.escape(html_path(built.node_paths["AC-6"])) + "$"))
    assert page.locator("h1").inner_text().startswith("AC-6")
    assert page.problems == []


def search(page: Any, term: str) -> None:
    """Type into Material's search box until results show. Material drops a query typed before
    its search worker is ready (seen after a second navigation), so type again rather than wait."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.click("input.md-search__input")
    for _ in range(6):
        # Material reads the box on keyup: fill, then a key press, so each try is a fresh query
        page.fill("input.md-search__input", "")
        page.press("input.md-search__input", "End")
        page.fill("input.md-search__input", term)
        page.press("input.md-search__input", "End")
        try:
            page.wait_for_selector(".md-search-result__item", timeout=10_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"search for {term!r} never showed results")


@pytest.mark.browser
def test_script_in_a_title_shows_as_text_and_never_runs(page: Any, site_url: str, built: Built) -> None:
    url = urljoin(site_url, html_path(built.node_paths[PROBE_ID]))
    page.goto(url, wait_until="networkidle")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert PAYLOAD in page.locator("h1").inner_text()
    assert "not a heading" in page.locator("article").inner_text()
    # the risk page lists it, the nav and search show it as text too
    page.goto(urljoin(site_url, html_path(built.node_paths["SAS-4"])), wait_until="networkidle")
    assert PAYLOAD in page.locator("article").inner_text()
    search(page, "probe")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.problems == []


@pytest.mark.browser
def test_a_sample_of_pages_load_in_the_browser(page: Any, site_url: str, built: Built) -> None:
    sample = ["SAS-1", "AC-2(1)", "fedramp-high", "CWE-250"]
    sample += sorted(i for i, d in built.kb.graph.nodes(data="kind") if d in ("safeguard", "strategy", "rule", "family"))[::97]
    for node_id in [s for s in sample if s in built.node_paths]:
        resp = page.goto(urljoin(site_url, html_path(built.node_paths[node_id])), wait_until="load")
        assert resp is not None and resp.status == 200, node_id
        assert page.locator("h1").inner_text().startswith(node_id), node_id
    for extra in ("responsibility.html", "downloads.html", "reference/cli.html", "frameworks/", "scanners/", "controls/"):
        resp = page.goto(urljoin(site_url, extra), wait_until="load")
        assert resp is not None and resp.status == 200, extra
    assert page.problems == []


def test_unknown_assessment_is_a_one_line_error_before_any_build(tmp_path: Path, runner: CliRunner) -> None:
    out = tmp_path / "site"
    result = runner.invoke(
        main, ["--workspace", str(tmp_path / "ws"), "site", "build", "--out", str(out), "--assessment", "A-nope"]
    )
    assert result.exit_code == 4
    assert result.output.startswith("sckb: error: ") and result.output.count("\n") == 1
    assert not out.exists() and not (tmp_path / "ws").exists()  # nothing created on the way


def test_mapping_tables_show_the_confidence_of_mitigation_links(shipped: tuple[Any, Any]) -> None:
    content = shipped[1]
    page = content.pages[content.node_paths["data-store-encryption-at-rest"]].text()
    # (the parts column sits between: this mitigation's control links name statement parts)
    assert "<th>relationship</th>\n<th>confidence</th>\n<th>parts covered</th>\n<th>rationale</th>" in page
    row = next(r for r in page.split("<tr>") if ">SC-28(1)</a>" in r)
    assert "<code>subset-of</code>" in row and "<td>high</td>" in row
    control = content.pages[content.node_paths["SC-28"]].text()
    assert "<th>confidence</th>" in control


def test_mapping_tables_and_control_pages_show_statement_parts(shipped: tuple[Any, Any]) -> None:
    content = shipped[1]
    page = content.pages[content.node_paths["encryption-in-transit"]].text()
    row = next(r for r in page.split("<tr>") if ">SC-8(1)</a>" in r)
    assert "<code>sc-8.1_smt</code>" in row
    related = next(r for r in page.split("<tr>") if ">SC-13</a>" in r)  # an intersects-with link covers no part
    assert "_smt" not in related
    control = content.pages[content.node_paths["AC-2"]].text()
    assert "Statement parts" in control and "<code>ac-2_smt.a</code>" in control and "<code>ac-2_smt.l</code>" in control
    covered = content.pages[content.node_paths["SC-28"]].text()
    assert "<code>sc-28_smt</code> (covered)" in covered
    policy = content.pages[content.node_paths["AC-1"]].text()
    assert "EXAMINE or INTERVIEW evidence" in policy


def test_dashboard_poam_page_shows_triage_and_closed_items(shipped: tuple[Any, Any], tmp_path: Path) -> None:
    """The POA&M page of a triaged assessment: POAM IDs, ratings (original -> adjusted), risk status, deviations,
    then the closed items (issue 22)."""
    from compliance.assess import load_assessment
    from compliance.evidence.store import Store
    from tests import poam_triage as tri

    ws = tri.triaged_workspace(tmp_path)
    with Store.open(ws, create=False) as store:
        a = load_assessment(store)
    page = generate(shipped[0], assessment=a).pages["assessment/poam.md"].text()
    text = html.unescape(re.sub(r"<[^>]+>", "", markdown.markdown(page.split("---", 2)[2], extensions=["tables"])))
    open_part, _, closed_part = text.partition("Closed items")
    for rule in (tri.PLANNED, tri.ADJUSTED, tri.VENDOR):
        assert f"SCKB-{rule}" in open_part
    assert "→ low" in open_part
    assert "deviation-approved" in open_part and "risk-adjustment approved" in open_part
    assert "operational-requirement pending" in open_part
    assert f"SCKB-{tri.FALSE_POSITIVE}" in closed_part and f"SCKB-{tri.FALSE_POSITIVE}" not in open_part
    assert "false positive (approved)" in closed_part


# ----------------------------------------------------------------------------- issue 23: ids first, from disk, serve


#: (what a reader types, the node whose page must come first): every id kind
ID_SEARCHES = [
    ("AC-6(1)", "AC-6(1)"),
    ("ac-6", "AC-6"),
    ("164.312(a)(1)", "164.312(a)(1)"),
    ("SAS-4", "SAS-4"),
    ("CKV_AWS_117", "checkov:CKV_AWS_117"),
]


def first_result(page: Any) -> str:
    hrefs = page.eval_on_selector_all(".md-search-result__item > a", "els => els.map(e => e.href)")
    return unquote(urlsplit(hrefs[0]).path) if hrefs else ""


@pytest.mark.browser
@pytest.mark.parametrize(("typed", "node_id"), ID_SEARCHES)
def test_searching_an_id_puts_its_page_first(page: Any, site_url: str, built: Built, typed: str, node_id: str) -> None:
    page.goto(site_url, wait_until="networkidle")
    search(page, typed)
    page.wait_for_timeout(300)  # the result list fills in batches; the first item is final once shown
    assert first_result(page).endswith("/" + html_path(built.node_paths[node_id])), typed
    assert page.problems == []


@pytest.mark.browser
def test_search_works_when_the_site_is_opened_from_disk(page: Any, built: Built) -> None:
    """file:// pages may not start a web worker; the site's own shim runs the search worker in a frame,
    and the index comes from search_index.js (the offline plugin): no server and no network."""
    page.goto((built.out / "index.html").as_uri(), wait_until="load")
    search(page, "SAS-4")
    first = first_result(page)
    assert first.endswith("/" + html_path(built.node_paths["SAS-4"])), first
    page.click(".md-search-result__item > a")
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text().startswith("SAS-4")  # links open pages (no directory URLs)
    assert page.problems == []


def test_built_site_loads_nothing_from_other_hosts(built: Built) -> None:
    for f in [built.out / "index.html", built.out / html_path(built.node_paths["AC-6"])]:
        text = f.read_text(encoding="utf-8")
        # no script, stylesheet or image from a CDN (the offline plugin's worker shim is ours); plain links may leave
        assert not re.search(r'\ssrc="(?:https?:)?//|<link\b[^>]*\shref="(?:https?:)?//', text), f
    assert (built.out / "search" / "search_index.js").is_file()


def test_enhancements_are_in_the_navigation(built: Built) -> None:
    ac6 = (built.out / html_path(built.node_paths["AC-6"])).read_text(encoding="utf-8")
    nav = ac6.split('data-md-component="sidebar" data-md-type="navigation"', 1)[1].split("md-sidebar--secondary", 1)[0]
    assert "AC-6(1) " in nav and "AC-6(10) " in nav


def test_control_page_shows_the_imported_statement(shipped: tuple[Any, Any]) -> None:
    kb = shipped[0]
    text = "a. Employ the principle of least privilege <script>x</script>\n  1. nested item"
    page = generate(kb, statements={"AC-6": text}).pages[shipped[1].node_paths["AC-6"]].text()
    assert "## Statement" in page
    assert "principle of least privilege &lt;script&gt;" in page and "&emsp;1&#46; nested item" in page
    assert "## Statement" not in generate(kb).pages[shipped[1].node_paths["AC-6"]].text()


def test_site_build_reads_statements_imported_into_the_workspace(tmp_path: Path, runner: CliRunner) -> None:
    catalog = Path(__file__).resolve().parents[2] / "shared" / "oscal" / "nist" / "NIST_SP-800-53_rev5_catalog.json"
    if not catalog.is_file():
        pytest.skip(f"{catalog.name} not in ../shared/oscal")
    ws = tmp_path / "ws"
    assert runner.invoke(main, ["--workspace", str(ws), "catalog", "import", str(catalog)]).exit_code == 0
    from compliance.evidence.store import Store

    with Store.open(ws, create=False) as store:
        statements = store.statements()
    assert statements.get("AC-6")
    page = generate(kbmod.load(), statements=statements).pages
    ac6 = next(p for p in page.values() if p.title.startswith("AC-6 "))
    assert "## Statement" in ac6.text() and "least privilege" in ac6.text().lower()


def test_site_serve_dir_refuses_a_folder_that_is_no_built_site(tmp_path: Path, runner: CliRunner) -> None:
    (tmp_path / "plain").mkdir()
    result = runner.invoke(main, ["site", "serve", "--dir", str(tmp_path / "plain"), "--port", "0"])
    assert result.exit_code != 0
    assert result.output.startswith("sckb: error: ") and result.output.count("\n") == 1
    assert "sckb site build --out" in result.output


def test_pages_link_relatively_so_the_site_works_under_a_sub_path(built: Built) -> None:
    """Published at https://owner.github.io/repo/ or opened from disk, a root-relative link would leave the site."""
    for f in [built.out / "index.html", built.out / html_path(built.node_paths["AC-6(1)"]), built.out / "guides/index.html"]:
        hrefs = _HREF.findall(f.read_text(encoding="utf-8"))
        assert hrefs and not [h for h in hrefs if h.startswith("/")], f


def test_guides_follow_the_kb_data(shipped: tuple[Any, Any]) -> None:
    from compliance.site.guides import load_guide_text, scenario_risks
    from compliance.site.pages import site_source

    kb, content = shipped
    text = load_guide_text(site_source() / "guides.yaml")
    assert {s.id for s in text.scenarios} == {"public-api", "event-pipeline", "internal-automation"}
    g = kb.graph
    for s in text.scenarios:
        risks, tagged = scenario_risks(kb, s)
        assert risks, s.id
        page = content.pages[f"guides/scenario-{s.id}.md"].text()
        for r in risks:  # every risk of the scenario, and every mitigation of those risks, is on its page
            assert f">{r}</a>" in page, (s.id, r)
            for _, m, k in g.out_edges(r, data="kind"):
                if k == "mitigated-by":
                    assert g.nodes[m]["title"].split("<")[0][:20] in page, (s.id, m)
        assert ("chosen by the words" in page) is (not tagged)
    # phase pages: exactly the mitigations of the phase, and the phases in the text are the model's
    for p in text.phases:
        page = content.pages[f"guides/phase-{p.id}.md"].text()
        mine = [m for m, d in g.nodes(data=True) if d["kind"] == "mitigation" and d.get("phase") == p.id]
        assert f"{len(mine)} mitigations have the lifecycle phase" in page
    assert {p.id for p in text.phases} == {d.get("phase") for _, d in g.nodes(data=True) if d["kind"] == "mitigation"}
    cmp = content.pages["guides/serverless-vs-containers.md"].text()
    for aspect in ("Perimeter", "Persistence", "Patch responsibility", "Forensic window", "Main attack vectors"):
        assert aspect in cmp
    si2 = kb.party("SI-2")
    assert si2 is not None and f"SI-2</a>: <strong>{si2.party}</strong>" in cmp


def test_edition_page_lists_mapping_changes_against_a_previous_export(shipped: tuple[Any, Any]) -> None:
    from compliance.kb.export import to_json
    from compliance.site.guides import Edition, fingerprint

    kb = shipped[0]
    export = to_json(kb)
    doc = json.loads(export)
    maps = [e for e in doc["edges"] if e["kind"] == "maps-to"]
    removed, changed = maps[0], maps[1]
    doc["edges"] = [e for e in doc["edges"] if e is not removed]
    changed["relationship"] = "equal" if changed["relationship"] != "equal" else "subset-of"
    doc["edges"].append({"from": "SAS-1", "to": "AC-2", "kind": "maps-to", "relationship": "equal"})
    old = json.dumps(doc).encode()
    page = generate(kb, edition=Edition(version="9.9", built="2026-12-01", previous=old, previous_name="old.json"))
    text = page.pages["edition.md"].text()
    assert fingerprint(export) in text and "9.9" in text and "2026-12-01" in text
    assert "1 mappings added, 1 removed, 1 with a changed relationship" in text
    assert f"<td>{removed['from']}</td>" in text
    plain = generate(kb).pages["edition.md"].text()
    assert "No previous edition was given" in plain and "<code>maps-to</code>" in plain


def test_dashboard_home_has_status_tiles_and_filters(shipped: tuple[Any, Any], tmp_path: Path) -> None:
    from compliance.assess import load_assessment
    from compliance.evidence.store import Store
    from tests import poam_triage as tri

    ws = tri.triaged_workspace(tmp_path)
    with Store.open(ws, create=False) as store:
        a = load_assessment(store)
    home = generate(shipped[0], assessment=a).pages["assessment/index.md"].text()
    assert '<div class="sckb-tiles">' in home and 'class="sckb-tile sckb-status--satisfied"' in home
    form = home.split('<form class="sckb-filters"', 1)[1].split("</form>", 1)[0]
    assert 'name="family"' in form and 'name="status"' in form and 'name="scope"' in form
    for scope in a.scopes:
        assert f'<option value="{scope}">' in form
    rows = re.findall(r'<tr data-family="([^"]*)" data-status="([^"]*)" data-scope="([^"]*)">', home)
    assert len(rows) == len(a.controls)
    assert {r[1] for r in rows} == {c.status for c in a.controls.values()}


@pytest.fixture(scope="session")
def dashboard_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A site built with an assessment (the triaged POA&M workspace), served: for the dashboard's filters."""
    from compliance.site.serve import serve_in_thread
    from tests import poam_triage as tri

    root = tmp_path_factory.mktemp("dash")
    ws = tri.triaged_workspace(root)
    out = root / "site"
    args = ["--workspace", str(ws), "--now", "2026-12-01", "site", "build", "--out", str(out), "--assessment", "latest"]
    result = CliRunner().invoke(main, args, env={"SCKB_KB": None})
    assert result.exit_code == 0, result.output
    server, url = serve_in_thread(out)
    yield url
    server.shutdown()
    server.server_close()


@pytest.mark.browser
def test_dashboard_filters_rows_by_status_and_family_in_the_browser(page: Any, dashboard_site: str) -> None:
    page.goto(dashboard_site + "assessment/index.html", wait_until="networkidle")
    rows = page.locator("tbody tr[data-status]")
    total = rows.count()
    statuses = page.eval_on_selector_all("tbody tr[data-status]", "els => els.map(e => e.dataset.status)")
    assert total > 10 and len(set(statuses)) > 1
    want = statuses[0]
    page.select_option("select[name=status]", want)
    shown = page.locator("tbody tr[data-status]:not([hidden])")
    assert shown.count() == statuses.count(want)
    assert page.eval_on_selector_all("tbody tr[data-status]:not([hidden])", "els => els.map(e => e.dataset.status)") == [
        want
    ] * statuses.count(want)
    assert page.inner_text(".sckb-count") == f"{statuses.count(want)} of {total} controls"
    # statuses are coloured: the status cell's strong text carries the status class
    badge = page.locator("tbody tr:not([hidden]) strong.sckb-status").first
    assert f"sckb-status--{want}" in (badge.get_attribute("class") or "")
    color = badge.evaluate("el => getComputedStyle(el).backgroundColor")
    assert color not in ("", "rgba(0, 0, 0, 0)")
    page.select_option("select[name=status]", "")
    page.fill("input[name=q]", "AC-6")
    assert 0 < page.locator("tbody tr[data-status]:not([hidden])").count() < total
    assert page.problems == []


def test_site_build_previous_that_cannot_be_read_is_one_line_before_any_build(tmp_path: Path, runner: CliRunner) -> None:
    out = tmp_path / "site"
    result = runner.invoke(main, ["site", "build", "--out", str(out), "--previous", str(tmp_path / "missing.json")])
    assert result.exit_code != 0
    assert result.output.startswith("sckb: error: ") and result.output.count("\n") == 1
    assert "missing.json" in result.output and not out.exists()


# a later hook that switches off both of compliance/site/hooks.py's shortcuts: the theme renders every nav in
# full (no sckb_nav_* globals) and the search plugin parses the real HTML blocks (no stand-ins)
PLAIN_HOOK = """
import re

def on_env(env, /, **_):
    env.globals.pop("sckb_nav_cached")
    env.globals.pop("sckb_nav_keep")
    return env

def on_page_content(html, /, *, page, **_):
    blocks = getattr(page, "sckb_html_blocks", [])
    return re.sub(r"<!--sckb:(\\d+)-->.*?<!--/sckb-->", lambda m: blocks[int(m.group(1))], html, flags=re.S)
"""


def test_build_shortcuts_change_no_byte_of_the_site(tmp_path: Path) -> None:
    """The nav caches and the search stand-ins (compliance/site/hooks.py) only save time: a small site with
    leaf pages in and outside the nav, nested and sibling sections and every kind of generated block builds to the same
    files, search index included, as with the theme rendering each nav and the search plugin parsing each block."""
    import shutil
    from datetime import UTC, datetime

    import yaml

    from compliance.site.build import GEN_CONFIG, run_mkdocs
    from compliance.site.generate import Generator, Page, rel
    from compliance.site.pages import site_source

    project = tmp_path / "project"
    shutil.copytree(site_source(), project)
    for hand_written in (project / "docs").glob("*.md"):
        hand_written.unlink()
    in_nav = ["index.md", "g/index.md", "g/a.md", "g/b.md", "g/c.md", "g/sub/index.md", "g/sub/x.md", "g/sub/y.md"]
    in_nav += ["other.md", "more.md", "g/sub2/index.md", "g/sub2/z.md", "g/sub3/index.md"]
    outside = ["r/one.md", "r/two.md", "r/three.md"]
    everything = in_nav + outside
    for n, path in enumerate(everything):
        page = Page(path, f"Page {n} & <{path}>", search_tables=n % 3 != 0)
        others = [everything[(n + k) % len(everything)] for k in (1, 2, 5)]
        page.add(f"# Page {n}", "", f"Some *text* about `{path}` & more.", "", "## Facts", "")
        page.add(
            *Generator.table(
                page,
                ["item", "value", "note"],
                [
                    [f"[AC-6({n})]({rel(path, others[0])})", md("x < y & z"), "`code` and **strong**"],
                    ["", f"[{md('a_b')}]({rel(path, others[1])})", md("  spaced  ")],
                    [md("164.312(a)(1)"), "``", "&amp; &#95; plain"],
                ],
            )
        )
        page.add("## Links", "", Generator.links_line(page, [f"[L{k}]({rel(path, o)})" for k, o in enumerate(others)]), "")
        page.add(Generator.links_line(page, [f"[M]({rel(path, others[2])})"], lead="**Reached** (by `x`):", sep=", "), "")
        page.add("### Last", "", "The end.", "")
        target = project / "docs" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page.text(), encoding="utf-8")
    nav = [
        {"Home": "index.md"},
        # sibling sections whose index pages sit in sibling folders
        {"Guide": ["g/index.md", {"A": "g/a.md"}, {"B": "g/b.md"}, {"Sub": in_nav[5:8]}, {"C": "g/c.md"}]},
        {"Sections": [{"Sub2": in_nav[10:12]}, {"Sub3": in_nav[12:]}]},
        {"Other": "other.md"},
        "more.md",
    ]
    (project / "plain_hook.py").write_text(PLAIN_HOOK, encoding="utf-8")
    hooks = str(Path(__file__).resolve().parents[1] / "compliance" / "site" / "hooks.py")
    outs = []
    for extra in ([], ["plain_hook.py"]):
        config = project / GEN_CONFIG
        config.write_text(
            "INHERIT: mkdocs.yml\n" + yaml.safe_dump({"hooks": [hooks, *extra], "not_in_nav": "/r/*.md", "nav": nav}),
            encoding="utf-8",
        )
        out = tmp_path / f"out{len(outs)}"
        run_mkdocs(config, out, now=datetime(2026, 12, 1, tzinfo=UTC))
        outs.append(out)
    fast, plain = ({p.relative_to(o).as_posix(): p.read_bytes() for p in sorted(o.rglob("*")) if p.is_file()} for o in outs)
    assert fast.keys() == plain.keys() and len(fast) > len(everything)
    for name in fast:
        assert fast[name] == plain[name], name
    index = json.loads(fast["search/search_index.json"])
    texts = " ".join(d["text"] for d in index["docs"])
    assert "x &lt; y &amp; z" in texts and "<code>code</code>" in texts  # table text reached the index


def test_cli_reference_has_a_page_per_command_and_every_help_text(built: Built) -> None:
    """The CLI reference is an index and one page per top-level command (one page for all grew past the page-size
    budget); every command's help is on exactly one page, and the index links to each page."""
    from compliance.cli import command_help_texts

    index = (built.out / "reference" / "cli.html").read_text(encoding="utf-8")
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (built.out / "reference" / "cli").glob("*.html")}
    groups = {name.split()[1] for name, _ in command_help_texts() if len(name.split()) > 1}
    assert set(pages) == groups and {"evidence", "assess", "site"} <= groups
    for group in groups:
        assert f'href="cli/{group}.html"' in index, group
    for name, _ in command_help_texts():
        heading = f">{html.escape(name)}</h2>"
        holders = [g for g, text in pages.items() if heading in text] + (["index"] if heading in index else [])
        assert len(holders) == 1, (name, holders)
    assert max(len(t.encode()) for t in pages.values()) < 60_000


def test_link_fields_render_as_links_with_their_relationship_never_as_data(built: Built) -> None:
    page = (built.out / html_path(built.node_paths["SAS-3"])).read_text(encoding="utf-8")
    row = re.search(r"<td>Corresponds to</td>\s*<td>(.*?)</td>", page, re.S)
    assert row is not None
    assert re.search(r'<a href="owasp-a\d+\.html">OWASP-A\d+</a> \(intersects-with\)', row.group(1))
    assert "{" not in row.group(1) and "&#123;" not in row.group(1)
    for p in built.out.rglob("*.html"):
        assert "&#123;'to'" not in p.read_text(encoding="utf-8"), p
