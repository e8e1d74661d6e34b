"""Generate the guidance site's Markdown pages from the KB graph.

This module writes plain Markdown and a ``nav`` list; it knows nothing of MkDocs beyond the
front-matter ``title`` and ``search`` keys that MkDocs and Zensical both read. Every string that
comes from the KB goes through :func:`compliance.site.escape.md` (page text) or
:func:`compliance.site.escape.attr` (titles the theme prints as they are).

Tables (most of the site's text) are written as HTML blocks, exactly the HTML Python-Markdown's
table extension makes of the same Markdown table (:func:`cell_html` converts each cell's inline
Markdown; a test holds the two equal), with the URLs MkDocs would give the links. Thousands of
cells then cost no Markdown parsing, and the build hooks carry the blocks past the HTML parsers
too (:mod:`compliance.site.hooks`). MkDocs does not check links inside HTML, so every page records
the docs paths its tables link to (``Page.links``) and the build checks them before MkDocs runs.

Page layout (paths inside ``docs/``)::

    risks/<risk>.md                    mitigations/<mitigation>.md      cwes/<cwe>.md
    controls/<family>/index.md         the family page
    controls/<family>/<control>.md     a control without enhancements
    controls/<family>/<control>/index.md, .../<enhancement>.md
    frameworks/<framework>/<baseline>/index.md, .../<family>.md   baseline and its coverage per family
    frameworks/<framework>/<section>/<safeguard>.md               a ``frameworks`` record's safeguards (e.g. HIPAA;
                                                                  standards hold their specifications)
    frameworks/<publication>/<strategy>.md                        SP 800-204 series
    scanners/<tool>/index.md, scanners/<tool>/<rule>.md
    responsibility.md  downloads.md (files in downloads/)  reference/cli.md, reference/cli/<command>.md  assessment/...
"""

from __future__ import annotations

import hashlib
import html
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from compliance.kb import query
from compliance.kb.load import KB
from compliance.kb.model import MAPPING_EDGES, Baseline, Control, EdgeKind, NodeKind, Safeguard
from compliance.site.dashboard import dashboard_pages, status_section
from compliance.site.escape import attr, md, mermaid_label
from compliance.site.guides import Edition, GuideText, edition_page, guide_pages, load_guide_text
from compliance.site.pages import NavItem, Page, natural_key, site_source, slug

#: How a kind is named on the site (singular, plural).
KIND_LABELS: dict[NodeKind, tuple[str, str]] = {
    NodeKind.RISK: ("risk", "Risks"),
    NodeKind.MITIGATION: ("mitigation", "Mitigations"),
    NodeKind.CONTROL: ("control", "Controls"),
    NodeKind.FAMILY: ("control family", "Control families"),
    NodeKind.BASELINE: ("baseline", "Baselines"),
    NodeKind.SAFEGUARD: ("safeguard", "Safeguards"),  # a framework's safeguards: Generator.kind_label
    NodeKind.STRATEGY: ("SP 800-204 strategy", "SP 800-204 strategies"),
    NodeKind.RULE: ("scanner rule", "Scanner rules"),
    NodeKind.CWE: ("CWE weakness", "CWE weaknesses"),
}

#: How an edge reads from its source (outgoing) and from its target (incoming).
EDGE_PHRASES: dict[EdgeKind, tuple[str, str]] = {
    EdgeKind.MITIGATED_BY: ("is mitigated by", "mitigates"),
    EdgeKind.MAPS_TO: ("maps to", "is mapped from"),
    EdgeKind.IMPLEMENTED_BY: ("is implemented by", "implements"),
    EdgeKind.EVIDENCES: ("evidences", "is evidenced by"),
    EdgeKind.INDICATES: ("indicates", "is indicated by"),
    EdgeKind.CROSSWALK: ("crosswalks to", "is crosswalked from"),
    EdgeKind.MEMBER_OF: ("is a member of", "has member"),
    EdgeKind.ENHANCEMENT_OF: ("enhances", "is enhanced by"),
    EdgeKind.PART_OF: ("is part of", "includes"),
    EdgeKind.CORRESPONDS_TO: ("corresponds to", "is the counterpart of"),
}

#: Labels of per-provider texts (risk examples, mitigation guidance); unknown keys show as they are.
PROVIDER_LABELS = {"aws": "AWS", "gcp": "Google Cloud", "azure": "Azure"}

#: Record fields shown elsewhere on a page (as relations or in the heading), not in the facts table.
_HIDDEN_FIELDS = frozenset(
    {"id", "title", "override", "members", "tailoring", "controls", "safeguards", "strategies", "mitigations", "risks", "cwes"}
)
#: A relation group longer than this is shown as a compact list of links instead of a table.
COMPACT_AFTER = 60
#: A mapping group longer than this is shown without the title column.
MAPPING_TITLES_UP_TO = 25
#: Node kinds whose pages rank first in search (control enhancements excepted).
BOOSTED_KINDS = frozenset({NodeKind.CONTROL, NodeKind.RISK, NodeKind.MITIGATION, NodeKind.BASELINE, NodeKind.FAMILY})
#: Node kinds whose ids are slugs (``least-privilege-execution-role``): headings and nav show the title first.
TITLE_FIRST_KINDS = frozenset({NodeKind.MITIGATION})
#: Rows per page of a scanner tool's rule table.
RULES_PER_PAGE = 80


@dataclass
class SiteContent:
    """Everything the generator produced: pages by docs path, the nav, the downloads."""

    pages: dict[str, Page]
    nav: list[NavItem]
    files: dict[str, bytes]
    node_paths: dict[str, str]
    #: gitignore-style patterns of the pages deliberately left out of the nav
    not_in_nav: list[str] = field(default_factory=list)


def nav_paths(nav: Sequence[NavItem]) -> set[str]:
    out: set[str] = set()
    for item in nav:
        values = item.values() if isinstance(item, dict) else [item]
        for v in values:
            if isinstance(v, str):
                out.add(v)
            else:
                out |= nav_paths(v)
    return out


def not_in_nav_patterns(pages: dict[str, Page], nav: Sequence[NavItem]) -> list[str]:
    """Gitignore patterns for the generated pages outside the nav, few, since MkDocs matches every file against
    every pattern. A folder whose only page in the nav is its index gets a glob and the index as an exception;
    where every such folder at one depth below a common folder is one of those (the controls with enhancements),
    one glob covers them all. Another folder gets a glob with its pages in the nav as exceptions, or its
    pages outside the nav one by one, whichever is fewer."""
    in_nav = nav_paths(nav)
    by_folder: dict[str, list[str]] = defaultdict(list)
    for path in pages:
        by_folder[posixpath.dirname(path)].append(path)

    def index_only(folder: str) -> bool:
        """Pages outside the nav, and in it at most the folder's index (and that is in it if it exists)."""
        paths = by_folder[folder]
        index = f"{folder}/index.md"
        return (
            any(p not in in_nav for p in paths)
            and all(p == index for p in paths if p in in_nav)
            and (index not in paths or index in in_nav)
        )

    out: list[str] = []
    done: set[str] = set()
    for folder in sorted(by_folder):
        if folder in done or not folder or not index_only(folder):
            continue
        parts = folder.split("/")
        for depth in range(len(parts), 0, -1):  # the highest common folder whose folders at this depth all qualify
            top = "/".join(parts[: len(parts) - depth])
            prefix = f"{top}/" if top else ""
            alike = [f for f in by_folder if f.startswith(prefix) and f.count("/") == folder.count("/")]
            if all(index_only(f) for f in alike):
                stars = "*/" * depth
                out += [f"/{prefix}{stars}*.md", f"!/{prefix}{stars}index.md"]
                done.update(alike)
                break
    for folder in sorted(by_folder):
        outside = sorted(p for p in by_folder[folder] if p not in in_nav)
        if folder in done or not outside:
            continue
        rest = sorted(p for p in by_folder[folder] if p in in_nav)
        if len(rest) < len(outside):
            out.append(f"/{folder}/*.md" if folder else "/*.md")
            out += [f"!/{p}" for p in rest]
        else:
            out += [f"/{p}" for p in outside]
    return out


class _Paths:
    """Assigns every node a unique docs path, collision-free per folder, deterministically."""

    def __init__(self) -> None:
        self.by_id: dict[str, str] = {}
        self._taken: set[str] = set()

    def claim(self, node_id: str, folder: str, name: str, *, as_index: bool = False) -> str:
        base = slug(name)
        path = f"{folder}/{base}/index.md" if as_index else f"{folder}/{base}.md"
        if path in self._taken or base == "index":
            base = f"{base}-{hashlib.sha1(node_id.encode()).hexdigest()[:6]}"
            path = f"{folder}/{base}/index.md" if as_index else f"{folder}/{base}.md"
        self._taken.add(path)
        self.by_id[node_id] = path
        return path


def rel(from_path: str, to_path: str) -> str:
    """A relative link between two docs pages (Markdown paths, which MkDocs checks).

    Both are normalised relative paths, so this is ``posixpath.relpath`` without its calls to
    ``os.getcwd`` (it runs for every link of every page)."""
    src = from_path.split("/")[:-1]
    dst = to_path.split("/")
    common = 0
    while common < len(src) and common < len(dst) - 1 and src[common] == dst[common]:
        common += 1
    return "/".join([".."] * (len(src) - common) + dst[common:])


#: the inline Markdown of a table cell: a link, a code span, strong text, or a run of anything else
_CELL = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)|`([^`]*)`|\*\*(.+?)\*\*|([^\[`*]+|.)", re.S)
#: an ampersand that does not start a character reference (Markdown escapes those; so does a cell)
_LONE_AMP = re.compile(r"&(?!#\d+;|#x[0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")


def page_url_link(from_path: str, link: str) -> str:
    """The URL MkDocs makes of a relative Markdown link on page ``from_path``. The site has no directory
    URLs (it must also work opened from disk, where a folder is no page): ``a/b.md`` is served as
    ``a/b.html``, ``a/index.md`` as ``a/index.html``, each beside its Markdown file; other files keep their path."""
    del from_path  # every page sits where its Markdown file does: links stay as written
    return link[:-3] + ".html" if link.endswith(".md") else link


def _text_html(text: str) -> str:
    return _LONE_AMP.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def cell_html(page: Page, cell: str) -> str:
    """One table cell's inline Markdown as the HTML Python-Markdown would make of it. Data in a cell is
    already escaped (:func:`compliance.site.escape.md`); any ``<``, ``>`` or lone ``&`` left is escaped
    here too, so a cell can never hold markup of its own. Link targets are recorded on the page."""
    out: list[str] = []
    for m in _CELL.finditer(cell.strip()):
        label, target, code, strong, text = m.groups()
        if target is not None:
            page.links.add(posixpath.normpath(posixpath.join(posixpath.dirname(page.path), target)))
            out.append(f'<a href="{html.escape(page_url_link(page.path, target))}">{_text_html(label)}</a>')
        elif code is not None:
            out.append(f"<code>{html.escape(code.strip(), quote=False)}</code>")
        elif strong is not None:
            out.append(f"<strong>{_text_html(strong)}</strong>")
        else:
            out.append(_text_html(text))
    return "".join(out)


class Generator:
    def __init__(
        self,
        kb: KB,
        *,
        cli_help: Sequence[tuple[str, str]] = (),
        assessment: Any = None,
        statements: Mapping[str, str] | None = None,
        guide_text: GuideText | None = None,
        edition: Edition | None = None,
    ) -> None:
        self.kb = kb
        #: the guides' own text (``site/guides.yaml``) and what the edition page says
        self.guide_text = guide_text if guide_text is not None else load_guide_text(site_source() / "guides.yaml")
        self.edition = edition or Edition()
        #: control id -> statement text from an imported catalog (``sckb catalog import``); empty: none imported
        self.statements: Mapping[str, str] = statements or {}
        self.g = kb.graph
        self.cli_help = list(cli_help)
        self.assessment = assessment
        self.paths = _Paths()
        self.pages: dict[str, Page] = {}
        self.files: dict[str, bytes] = {}
        self.ids_by_kind: dict[NodeKind, list[str]] = defaultdict(list)
        for node_id in self.g.nodes:
            self.ids_by_kind[NodeKind(self.g.nodes[node_id]["kind"])].append(node_id)
        for ids in self.ids_by_kind.values():
            ids.sort(key=natural_key)
        self.ids_by_kind[NodeKind.CONTROL].sort(key=query.control_sort_key)
        #: index page path -> its title, for breadcrumbs (filled by plan_indexes)
        self.index_titles: dict[str, str] = {}

    # ------------------------------------------------------------------ helpers

    def title(self, node_id: str) -> str:
        return str(self.g.nodes[node_id]["title"])

    def kind(self, node_id: str) -> NodeKind:
        return NodeKind(self.g.nodes[node_id]["kind"])

    def link(self, page: Page, node_id: str, text: str | None = None) -> str:
        target = self.paths.by_id.get(node_id)
        label = md(text if text is not None else node_id)
        return f"[{label}]({rel(page.path, target)})" if target else label

    def kind_label(self, node_id: str) -> str:
        """How a page names what a node is: "risk", "control", or for a safeguard its framework's words
        ("HIPAA safeguard")."""
        kind = self.kind(node_id)
        fw = self.kb.framework_of(node_id) if kind is NodeKind.SAFEGUARD else None
        return f"{fw.label} {fw.item}" if fw is not None else KIND_LABELS[kind][0]

    def framework_items_text(self) -> str:
        """Every framework's safeguards, as running text names them: "the HIPAA safeguards"."""
        return " and ".join(f"the {fw.label} {fw.items}" for fw in self.kb.frameworks.values())

    def and_to_frameworks(self) -> str:
        """The end of "... to the baselines that include them" naming where else a risk's controls lead."""
        if not self.kb.frameworks:
            return ""
        names = " and ".join(f"{fw.label} {fw.items}" for fw in self.kb.frameworks.values())
        return f" and to {names} (directly or through the crosswalk)"

    def page_link(self, page: Page, path: str, text: str) -> str:
        return f"[{md(text)}]({rel(page.path, path)})"

    def new_page(self, path: str, title: str, *, search: bool = True) -> Page:
        if path in self.pages:
            raise ValueError(f"two pages at {path}")  # a generator bug, never bad data
        p = Page(path, title, search=search)
        self.pages[path] = p
        return p

    @staticmethod
    def table(page: Page, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
        """A table as a block of HTML (what Python-Markdown's table extension would make of it), so that
        MkDocs passes it through instead of parsing thousands of cells. Cells are the same inline Markdown
        as elsewhere (escaped data, links, code spans, strong text), converted by :func:`cell_html`."""
        start = "<table>" if page.search_tables else '<table data-search-exclude="table">'
        out = [start, "<thead>", "<tr>", *(f"<th>{cell_html(page, c)}</th>" for c in columns), "</tr>", "</thead>"]
        out.append("<tbody>")
        for r in rows:
            out.append("<tr>")
            out += [f"<td>{cell_html(page, c)}</td>" for c in r]
            out.append("</tr>")
        out += ["</tbody>", "</table>", ""]
        return out

    @staticmethod
    def links_line(page: Page, links: Sequence[str], *, lead: str = "", sep: str = " · ") -> str:
        """A long run of links (after ``lead``, inline Markdown too) as one finished HTML paragraph (one line),
        which the build hooks carry past Markdown like a table: Python-Markdown's link pattern rescans the rest
        of a line for every bracket, so a baseline's 400 links on one Markdown line cost it seconds."""
        head = cell_html(page, lead) + " " if lead else ""
        return '<p class="sckb-links">' + head + sep.join(cell_html(page, x) for x in links) + "</p>"

    def group_of_control(self, cid: str) -> str:
        rec = self.kb.record(cid)
        assert isinstance(rec, Control)
        return rec.family

    # ------------------------------------------------------------------ paths

    def assign_paths(self) -> None:
        p = self.paths
        for fid in self.ids_by_kind[NodeKind.FAMILY]:
            p.claim(fid, "controls", fid, as_index=True)
        controls = self.ids_by_kind[NodeKind.CONTROL]
        has_children = {v for u, v, k in self.g.edges(data="kind") if k == EdgeKind.ENHANCEMENT_OF.value}
        for cid in controls:  # base controls first, so that enhancements find their parent's folder
            rec = self.kb.record(cid)
            assert isinstance(rec, Control)
            if rec.parent and rec.parent in self.kb.nodes:
                continue
            fam_dir = posixpath.dirname(p.by_id.get(rec.family, f"controls/{slug(rec.family)}/index.md"))
            p.claim(cid, fam_dir, cid, as_index=cid in has_children)
        for cid in controls:
            rec = self.kb.record(cid)
            assert isinstance(rec, Control)
            if rec.parent and rec.parent in self.kb.nodes:
                parent_path = p.by_id[rec.parent]
                p.claim(cid, posixpath.dirname(parent_path), cid)
        for bid in self.ids_by_kind[NodeKind.BASELINE]:
            rec = self.kb.record(bid)
            assert isinstance(rec, Baseline)
            p.claim(bid, f"frameworks/{slug(rec.framework)}", bid, as_index=True)
        standards_with_parts = {
            v for u, v, k in self.g.edges(data="kind") if k == EdgeKind.PART_OF.value and self.kind(u) is NodeKind.SAFEGUARD
        }
        sgs = self.ids_by_kind[NodeKind.SAFEGUARD]
        for sid in sgs:
            rec = self.kb.record(sid)
            assert isinstance(rec, Safeguard)
            if rec.standard and rec.standard != sid and rec.standard in self.kb.nodes:
                continue
            p.claim(sid, f"frameworks/{slug(str(rec.framework))}/{slug(rec.section)}", sid, as_index=sid in standards_with_parts)
        for sid in sgs:
            rec = self.kb.record(sid)
            assert isinstance(rec, Safeguard)
            if rec.standard and rec.standard != sid and rec.standard in self.kb.nodes:
                p.claim(sid, posixpath.dirname(p.by_id[rec.standard]), sid)
        for sid in self.ids_by_kind[NodeKind.STRATEGY]:
            p.claim(sid, f"frameworks/{slug(str(self.g.nodes[sid].get('publication', 'strategies')))}", sid)
        for rid in self.ids_by_kind[NodeKind.RISK]:
            p.claim(rid, "risks", rid)
        for mid in self.ids_by_kind[NodeKind.MITIGATION]:
            p.claim(mid, "mitigations", mid)
        for cwe in self.ids_by_kind[NodeKind.CWE]:
            p.claim(cwe, "cwes", cwe)
        for rule in self.ids_by_kind[NodeKind.RULE]:
            d = self.g.nodes[rule]
            p.claim(rule, f"scanners/{slug(str(d.get('tool', 'other')))}", str(d.get("rule_id", rule)))

    def plan_indexes(self) -> None:
        t = self.index_titles
        for kind, folder in ((NodeKind.RISK, "risks"), (NodeKind.MITIGATION, "mitigations"), (NodeKind.CWE, "cwes")):
            t[f"{folder}/index.md"] = KIND_LABELS[kind][1]
        t["controls/index.md"] = "Controls"
        t["frameworks/index.md"] = "Frameworks"
        t["scanners/index.md"] = "Scanners"
        for node_id, path in self.paths.by_id.items():
            if path.endswith("/index.md"):
                t[path] = (
                    f"{node_id} {self.title(node_id)}" if self.kind(node_id) is not NodeKind.BASELINE else self.title(node_id)
                )
        for kind, key in (
            (NodeKind.BASELINE, "framework"),
            (NodeKind.SAFEGUARD, "framework"),
            (NodeKind.STRATEGY, "publication"),
        ):
            for i in self.ids_by_kind[kind]:
                t.setdefault(f"{self._framework_folder(i)}/index.md", str(self.g.nodes[i].get(key, kind.value)))
        for i in self.ids_by_kind[NodeKind.SAFEGUARD]:
            rec = self.kb.record(i)
            assert isinstance(rec, Safeguard)
            t.setdefault(f"{self._framework_folder(i)}/{slug(rec.section)}/index.md", f"{rec.section} {rec.section_title}")
        for r in self.ids_by_kind[NodeKind.RULE]:
            t.setdefault(f"{posixpath.dirname(self.paths.by_id[r])}/index.md", str(self.g.nodes[r].get("tool", "other")))

    # ------------------------------------------------------------------ node pages

    def node_page(self, node_id: str) -> Page:
        kind = self.kind(node_id)
        page = self.new_page(self.paths.by_id[node_id], f"{node_id} {self.title(node_id)}")
        # the search box splits "AC-6" into "ac" and "6", which AC-6(6) matches as well as AC-6: rank the main
        # pages (base controls, risks, mitigations, ...) above control enhancements and single scanner rules
        if kind in BOOSTED_KINDS and self.g.nodes[node_id].get("parent") not in self.g:
            page.boost = 1.5
        # the id (and a scanner rule's own id) as a tag: the search index weighs tags far above title and text, so
        # searching an id puts its page first (the separator in mkdocs.yml keeps ids' parts whole)
        # a scanner rule by its own id (``CKV_AWS_117``), unless that id is split at "-" (KICS' UUIDs): its pieces
        # ("6fb4...") would then outrank a control or risk whose number they happen to start with
        page.tags = [node_id]
        if kind is NodeKind.RULE:
            rule_id = str(self.g.nodes[node_id].get("rule_id", ""))
            page.tags = [rule_id] if rule_id and "-" not in rule_id and rule_id != "*" else []
            # hundreds of rule pages repeat their mitigations' rationales: found by id and title, not by tables
            page.search_tables = False
        self.breadcrumbs(page, node_id)
        if kind in TITLE_FIRST_KINDS:  # a slug id reads badly in a heading: title first, id below
            page.add(f"# {md(self.title(node_id))}", "", f"*{md(self.kind_label(node_id))}* · id {md(node_id)}", "")
        else:
            page.add(f"# {md(node_id)} {md(self.title(node_id))}", "", f"*{md(self.kind_label(node_id))}*", "")
        statement = self.statements.get(node_id) if kind is NodeKind.CONTROL else None
        if statement:  # the official text, imported at run time (never shipped in the KB)
            page.add("## Statement", "")
            for line in statement.splitlines():
                depth = (len(line) - len(line.lstrip(" "))) // 2
                page.add("&emsp;" * depth + md(line.strip()), "")
        rec = self.kb.record(node_id)
        data = rec.model_dump(mode="json", exclude_none=True)
        facts: list[tuple[str, str]] = []
        paragraphs: list[tuple[str, str]] = []
        sections: list[tuple[str, dict[str, Any]]] = []
        for name, value in data.items():
            if name in _HIDDEN_FIELDS or value in ("", [], {}, False):
                continue
            label = name.replace("_", " ").capitalize()
            if isinstance(value, dict):
                sections.append((label, value))
            elif isinstance(value, list):
                facts.append((label, ", ".join(self._list_item(page, v) for v in value)))
            elif isinstance(value, str) and len(value) > 140:
                paragraphs.append((label, value))
            elif isinstance(value, str) and value in self.kb.nodes and value != node_id:
                facts.append((label, f"{self.link(page, value)} {md(self.title(value))}"))
            else:
                facts.append((label, md(value)))
        if kind is NodeKind.CONTROL:
            # the statement's parts; those a subset-of/equal mitigation link covers are marked
            covered = {
                p
                for _, _, d in self.g.in_edges(node_id, data=True)
                if d.get("relationship") in ("subset-of", "equal")
                for p in d.get("parts", ())
            }
            parts = [f"`{p}`" + (" (covered)" if p in covered else "") for p in self.kb.statement_parts(node_id)]
            facts.append(("Statement parts", ", ".join(parts)))
        if node_id in self.kb.assurance:
            methods = sorted(self.kb.methods_required(node_id) or ())
            facts.append(("Shown satisfied only by", md(" or ".join(methods) + " evidence")))
        if kind is NodeKind.CONTROL:
            resp = self.kb.party(node_id)
            if resp is not None:
                facts.append(("Shared responsibility", f"**{md(resp.party)}**: {md(resp.rationale)}"))
                if resp.basis:
                    facts.append(("Responsibility basis", md(resp.basis)))
        for label, text in paragraphs:
            page.add(f"**{md(label)}.** {md(text)}", "")
        if facts:
            page.add(*self.table(page, ["Field", "Value"], facts))
        for label, mapping in sections:
            page.add(f"## {md(label)}", "")
            for key, text in mapping.items():
                page.add(f"**{md(PROVIDER_LABELS.get(key, key))}**: {md(text)}", "")
        if self.assessment is not None and kind in (NodeKind.CONTROL, NodeKind.SAFEGUARD):
            page.add(*status_section(self, page, self.assessment, node_id))  # with an assessor's determination (issue 21)
        extra = self._extras.get(kind)
        if extra is not None:
            extra(self, page, node_id)
        self.relations(page, node_id)
        return page

    def relations(self, page: Page, node_id: str) -> None:
        page.add("## Relations", "")
        out_groups: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        in_groups: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        for _, v, d in self.g.out_edges(node_id, data=True):
            out_groups[d["kind"]].append((v, d))
        for u, _, d in self.g.in_edges(node_id, data=True):
            in_groups[d["kind"]].append((u, d))
        if not out_groups and not in_groups:
            page.add("Nothing links to or from this page.", "")
        for direction, groups in (("outgoing", out_groups), ("incoming", in_groups)):
            for kind_value in sorted(groups):
                kind = EdgeKind(kind_value)
                rows = sorted(groups[kind_value], key=lambda r: natural_key(r[0]))
                phrase = EDGE_PHRASES[kind][0 if direction == "outgoing" else 1]
                this = self.kind_label(node_id)
                # a mapping's relationship reads edge source REL edge target, whichever end this page is
                reads = ""
                if kind in MAPPING_EDGES:
                    reads = "; relationship reads *" + ("this REL row" if direction == "outgoing" else "row REL this") + "*"
                page.add(f"**This {md(this)} {md(phrase)}** ({len(rows)}, edge `{kind_value}`, {direction}{reads})", "")
                if len(rows) > COMPACT_AFTER and kind not in MAPPING_EDGES:
                    page.add(self.links_line(page, [self.link(page, other) for other, _ in rows]), "")
                    continue
                if kind in MAPPING_EDGES:
                    # a long group (dozens of scanner rules evidencing one mitigation) leaves out the titles, which
                    # the linked pages show, so that the page stays small; every mapping keeps its typed fields
                    with_title = len(rows) <= MAPPING_TITLES_UP_TO
                    # judgement links that state a confidence (mitigation -> control/safeguard) show it
                    with_conf = any(d.get("confidence") for _, d in rows)
                    # control links that name the statement parts they cover show them
                    with_parts = any(d.get("parts") for _, d in rows)
                    cols = ["", *(["title"] if with_title else []), "relationship", *(["confidence"] if with_conf else [])]
                    cols += [*(["parts covered"] if with_parts else []), "rationale", "source"]
                    body = [
                        [
                            self.link(page, o),
                            *([md(self.title(o))] if with_title else []),
                            f"`{d.get('relationship', '')}`",
                            *([md(d.get("confidence", ""))] if with_conf else []),
                            *([", ".join(f"`{p}`" for p in d.get("parts", ()))] if with_parts else []),
                            md(d.get("rationale", "")),
                            md(d.get("source", "")),
                        ]
                        for o, d in rows
                    ]
                elif kind is EdgeKind.MEMBER_OF and direction == "outgoing":
                    cols = ["", "title", "tailoring"]
                    body = [[self.link(page, o), md(self.title(o)), md(", ".join(self._tailoring(o, node_id)))] for o, _ in rows]
                else:
                    with_why = any(d.get("rationale") for _, d in rows)
                    cols = ["", "title", *(["rationale"] if with_why else [])]
                    body = [
                        [self.link(page, o), md(self.title(o)), *([md(d.get("rationale", ""))] if with_why else [])]
                        for o, d in rows
                    ]
                cols[0] = self.kind_label(rows[0][0])
                page.add(*self.table(page, cols, body))

    def _tailoring(self, baseline_id: str, control_id: str) -> list[str]:
        rec = self.kb.record(baseline_id)
        return list(rec.tailoring.get(control_id, [])) if isinstance(rec, Baseline) else []

    # ------------------------------------------------------------------ per-kind additions

    def risk_extra(self, page: Page, rid: str) -> None:
        r = query.risk(self.kb, rid)
        page.add("## Path to controls and frameworks", "")
        if not r["mitigations"]:
            page.add("No mitigation reaches this risk yet.", "")
            return
        page.add(
            "How this risk reaches controls and frameworks: through its mitigations to SP 800-53 controls, then to the "
            f"baselines that include them{self.and_to_frameworks()}. The tables below list every link with its rationale.",
            "",
        )
        page.add("```mermaid", *self.risk_diagram(r), "```", "")
        if r["baselines"]:
            rows = [
                [self.link(page, b), md(self.title(b)), str(len(cs)), ", ".join(self.link(page, c) for c in cs)]
                for b, cs in r["baselines"].items()
            ]
            page.add("**Baselines reached**", "")
            page.add(*self.table(page, ["baseline", "title", "controls", "which"], rows))
        for fw in self.kb.frameworks.values():
            reached = query.of_framework(self.kb, r["safeguards"], fw.id)
            if reached:
                page.add(
                    self.links_line(
                        page,
                        [self.link(page, s) for s in reached],
                        lead=f"**{md(fw.label)} {md(fw.items)} reached** (directly or by crosswalk):",
                        sep=", ",
                    ),
                    "",
                )

    def risk_diagram(self, r: query.RiskResult, max_controls: int = 24) -> list[str]:
        """risk -> mitigations -> controls (one box per family) -> one node per framework, labelled with how
        many of the controls it holds. The tables under the diagram carry every single link."""
        ids: dict[str, str] = {}

        def n(node_id: str) -> str:
            if node_id not in ids:
                ids[node_id] = f"n{len(ids)}"
            return ids[node_id]

        risk_label = mermaid_label(r["id"] + ": " + r["title"])
        lines = ["graph LR", f'  {n(r["id"])}["{risk_label}"]']
        controls: list[str] = []
        for m in r["mitigations"]:
            lines.append(f'  {n(r["id"])} --> {n(m["id"])}["{mermaid_label(m["id"])}"]')
            for c in m["controls"]:
                if c["id"] not in controls:
                    controls.append(c["id"])
        # controls grouped by family, one box each: a risk reaches dozens of controls, a few families
        families: dict[str, list[str]] = defaultdict(list)
        for cid in sorted(controls, key=query.control_sort_key):
            families[self.family_of(cid)].append(cid)
        lines.append('  subgraph ctl["SP 800-53 controls"]')
        for fam, cs in sorted(families.items()):
            listed = ", ".join(cs[:max_controls]) + (f" and {len(cs) - max_controls} more" if len(cs) > max_controls else "")
            lines.append(f'    {n("fam:" + fam)}["{mermaid_label(f"{fam}: {listed}", 400)}"]')
        lines.append("  end")
        for m in r["mitigations"]:
            fams = sorted({self.family_of(c["id"]) for c in m["controls"]})
            lines += [f"  {n(m['id'])} --> {n('fam:' + f)}" for f in fams]
        # frameworks: one node per framework (its baselines in the label), one edge from the controls box
        frameworks: dict[str, list[str]] = defaultdict(list)
        members: dict[str, set[str]] = defaultdict(set)
        for b, cs in r["baselines"].items():
            fw = str(self.g.nodes[b].get("framework", b))
            frameworks[fw].append(b)
            members[fw].update(cs)
        for fw in sorted(frameworks):
            label = f"{fw}: " + ", ".join(frameworks[fw])
            lines.append(f'  {n("fw:" + fw)}[["{mermaid_label(label, 90)}"]]')
            lines.append(f"  ctl -->|{len(members[fw])} controls| {n('fw:' + fw)}")
        # one node per framework of safeguards: the controls box crosswalks to it, mitigations map to it directly
        for sfw in self.kb.frameworks.values():
            mine = set(query.of_framework(self.kb, r["safeguards"], sfw.id))
            crosswalked = [
                c
                for c in controls
                if any(k == EdgeKind.CROSSWALK.value and u in mine for u, _, k in self.g.in_edges(c, data="kind"))
            ]
            direct = [m["id"] for m in r["mitigations"] if any(s["id"] in mine for s in m["safeguards"])]
            if crosswalked or direct:
                key = "fw:" + sfw.id
                label = mermaid_label(f"{sfw.label} {sfw.name}: {len(mine)} {sfw.items}", 90)
                lines.append(f'  {n(key)}[["{label}"]]')
                if crosswalked:
                    lines.append(f"  ctl -.->|crosswalk, {len(crosswalked)} controls| {n(key)}")
                lines += [f"  {n(m)} -->|maps to| {n(key)}" for m in direct]
        return lines

    def baseline_extra(self, page: Page, bid: str) -> None:
        b = query.baseline(self.kb, bid)
        page.add("## Coverage by serverless mitigations", "")
        page.add(
            f"{len(b['reached'])} of {b['members']} controls of this baseline are reached by at least one mitigation "
            f"({b['coverage']:.1%}). A control that nothing reaches still needs evidence from elsewhere "
            "(organisational procedures, or the provider's authorisation for inherited controls).",
            "",
        )
        by_family: dict[str, dict[str, list[query.BaselineControl]]] = defaultdict(lambda: {"reached": [], "unreached": []})
        for row in b["reached"]:
            by_family[self.family_of(row["id"])]["reached"].append(row)
        for ref in b["unreached"]:
            by_family[self.family_of(ref["id"])]["unreached"].append(query.BaselineControl(**ref, mitigations=[]))
        rows = []
        folder = posixpath.dirname(page.path)
        for fam in sorted(by_family):
            fr = by_family[fam]
            total = len(fr["reached"]) + len(fr["unreached"])
            sub = self.coverage_page(bid, fam, f"{folder}/{slug(fam)}.md", fr)
            rows.append(
                [
                    self.page_link(page, sub.path, fam),
                    md(self.title(fam)) if fam in self.g else "",
                    str(total),
                    str(len(fr["reached"])),
                    f"{len(fr['reached']) / total:.0%}",
                ]
            )
        page.add(*self.table(page, ["family", "title", "controls", "reached", "coverage"], rows))

    def family_of(self, cid: str) -> str:
        entry = self.kb.nodes.get(cid)
        if entry is not None and isinstance(entry.record, Control):
            return entry.record.family
        return cid.partition("-")[0]

    def coverage_page(self, bid: str, fam: str, path: str, fr: dict[str, list[query.BaselineControl]]) -> Page:
        fam_title = self.title(fam) if fam in self.g else fam
        page = self.new_page(path, f"{bid}: {fam} {fam_title}", search=False)
        page.add(f"# {md(self.title(bid))}: {md(fam)} {md(fam_title)}", "")
        page.add(f"Controls of {self.link(page, bid)} in family {self.link(page, fam)}, and the mitigations that reach them.", "")
        rows = []
        for row in sorted(fr["reached"] + fr["unreached"], key=lambda r: query.control_sort_key(r["id"])):
            mits = row["mitigations"]
            rows.append(
                [
                    self.link(page, row["id"]),
                    md(row["title"]),
                    ", ".join(self.link(page, m) for m in mits) if mits else "not reached",
                    md(", ".join(self._tailoring(bid, row["id"]))),
                ]
            )
        page.add(*self.table(page, ["control", "title", "reached by", "tailoring"], rows))
        return page

    def family_extra(self, page: Page, fid: str) -> None:
        base = [c for c in self.ids_by_kind[NodeKind.CONTROL] if self.family_of(c) == fid and not self.g.nodes[c].get("parent")]
        page.add("## Controls", "")
        rows = []
        for c in base:
            enh = [u for u, _, k in self.g.in_edges(c, data="kind") if k == EdgeKind.ENHANCEMENT_OF.value]
            mits = {u for x in [c, *enh] for u, _, k in self.g.in_edges(x, data="kind") if k == EdgeKind.MAPS_TO.value}
            party = self.g.nodes[c].get("responsibility", "")
            withdrawn = " (withdrawn)" if self.g.nodes[c].get("withdrawn") else ""
            rows.append([self.link(page, c), md(self.title(c)) + withdrawn, str(len(enh)), str(len(mits)), md(party)])
        cols = ["control", "title", "enhancements", "mitigations (with enhancements)", "responsibility"]
        page.add(*self.table(page, cols, rows))

    def rule_extra(self, page: Page, rule: str) -> None:
        tool = str(self.g.nodes[rule].get("tool", ""))
        page.add(f"All rules of this tool: {self.page_link(page, f'scanners/{slug(tool)}/index.md', tool)}.", "")

    _extras: ClassVar[dict[NodeKind, Callable[[Generator, Page, str], None]]] = {
        NodeKind.RISK: risk_extra,
        NodeKind.BASELINE: baseline_extra,
        NodeKind.FAMILY: family_extra,
        NodeKind.RULE: rule_extra,
    }

    # ------------------------------------------------------------------ section pages

    def kind_index(
        self, kind: NodeKind, path: str, intro: str, columns: Sequence[tuple[str, Callable[[Page, str], str]]]
    ) -> Page:
        page = self.new_page(path, KIND_LABELS[kind][1])
        page.add(f"# {md(KIND_LABELS[kind][1])}", "", intro, "")
        ids = self.ids_by_kind[kind]
        if not ids:
            page.add("None in this knowledge base yet.", "")
            return page
        rows = [[self.link(page, i), md(self.title(i)), *(fn(page, i) for _, fn in columns)] for i in ids]
        page.add(*self.table(page, [KIND_LABELS[kind][0], "title", *(c for c, _ in columns)], rows))
        return page

    def count_edges(self, node_id: str, kind: EdgeKind, *, incoming: bool) -> int:
        edges = self.g.in_edges(node_id, data="kind") if incoming else self.g.out_edges(node_id, data="kind")
        return sum(1 for _, _, k in edges if k == kind.value)

    def section_pages(self) -> list[NavItem]:
        nav: list[NavItem] = []
        g = self.g
        # risks
        risks = self.kind_index(
            NodeKind.RISK,
            "risks/index.md",
            "Serverless security risks from the CSA's *12 Most Critical Risks for Serverless Applications* (2019) and the "
            "OWASP *Top 10 Interpretation for Serverless* (2017). Each page shows the mitigations, the path to controls and "
            "frameworks, and the weaknesses (CWE) that indicate the risk.",
            [
                ("taxonomy", lambda p, i: md(g.nodes[i].get("taxonomy", ""))),
                ("mitigations", lambda p, i: str(self.count_edges(i, EdgeKind.MITIGATED_BY, incoming=False))),
            ],
        )
        nav.append({"Risks": [risks.path, *self.nav_nodes(self.ids_by_kind[NodeKind.RISK])]})
        mits = self.kind_index(
            NodeKind.MITIGATION,
            "mitigations/index.md",
            "What to do about the risks, with guidance per platform and the controls"
            + "".join(f" and {fw.label} {fw.items}" for fw in self.kb.frameworks.values())
            + " each mitigation provides evidence for.",
            [
                ("phase", lambda p, i: md(g.nodes[i].get("phase", ""))),
                ("risks", lambda p, i: str(self.count_edges(i, EdgeKind.MITIGATED_BY, incoming=True))),
                ("controls and safeguards", lambda p, i: str(self.count_edges(i, EdgeKind.MAPS_TO, incoming=False))),
            ],
        )
        # mitigations nested by phase (code, identity, runtime, event input): with navigation.prune a page then
        # carries only its own phase's entries
        by_phase: dict[str, list[str]] = defaultdict(list)
        for i in self.ids_by_kind[NodeKind.MITIGATION]:
            by_phase[str(g.nodes[i].get("phase", "other"))].append(i)
        phases: list[NavItem] = [{attr(f"Phase: {ph}"): self.nav_nodes(ids)} for ph, ids in sorted(by_phase.items())]
        nav.append({"Mitigations": [mits.path, *phases]})
        nav.append({"Controls": self.controls_section()})
        nav.append({"Frameworks": self.frameworks_section()})
        nav.append({"Shared responsibility": self.responsibility_page().path})
        nav.append({"Scanners": self.scanners_section()})
        cwes = self.kind_index(
            NodeKind.CWE,
            "cwes/index.md",
            "Weaknesses from MITRE's CWE list that indicate a serverless risk; scanner rules that report a CWE lead here.",
            [
                (
                    "risks",
                    lambda p, i: ", ".join(
                        self.link(p, v) for _, v, k in g.out_edges(i, data="kind") if k == EdgeKind.INDICATES.value
                    ),
                )
            ],
        )
        nav.append({"CWE weaknesses": [cwes.path, *self.nav_nodes(self.ids_by_kind[NodeKind.CWE])]})
        return nav

    def reference_pages(self) -> list[NavItem]:
        downloads = self.downloads_page().path  # first: the edition page reads the JSON export it makes
        edition = edition_page(self, self.files["downloads/sckb-graph.json"], self.edition).path
        return [{"Downloads": downloads}, {"Edition and changes": edition}, {"CLI reference": self.cli_pages()}]

    def nav_label(self, node_id: str) -> str:
        if self.kind(node_id) in TITLE_FIRST_KINDS:
            return attr(self.title(node_id))
        return attr(f"{node_id} {self.title(node_id)}")

    def nav_nodes(self, ids: Iterable[str]) -> list[NavItem]:
        return [{self.nav_label(i): self.paths.by_id[i]} for i in ids]

    def nav_tree(self, ids: Sequence[str], children: dict[str, list[str]]) -> list[NavItem]:
        out: list[NavItem] = []
        for i in ids:
            title = attr(f"{i} {self.title(i)}")
            kids = children.get(i, [])
            if kids and self.paths.by_id[i].endswith("/index.md"):
                out.append({title: [self.paths.by_id[i], *self.nav_tree(kids, children)]})
            else:
                out.append({title: self.paths.by_id[i]})
        return out

    def nav_controls(self, ids: Sequence[str], children: dict[str, list[str]]) -> list[NavItem]:
        """Base controls as nav pages, each enhancement below its control as a nav *link* to the built page
        (``.html``): the sidebar lists the enhancements of the open control, while the enhancement pages stay
        outside the nav, whose HTML the build then renders once per folder instead of once per page."""
        out: list[NavItem] = []
        for i in ids:
            title, path = self.nav_label(i), self.paths.by_id[i]
            kids = children.get(i, [])
            if kids and path.endswith("/index.md"):
                out.append({title: [path, *({self.nav_label(k): self.paths.by_id[k][:-3] + ".html"} for k in kids)]})
            else:
                out.append({title: path})
        return out

    def breadcrumbs(self, page: Page, node_id: str) -> None:
        """Where a page sits (section, family or framework, parent), as links: pages left out of the nav
        (control enhancements, scanner rules) are then still easy to place."""
        crumbs: list[str] = []
        parts = page.path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            index = f"{folder}/index.md"
            if index == page.path:
                break
            owner = self.index_titles.get(index)
            if owner is not None:
                crumbs.append(self.page_link(page, index, owner))
        if crumbs:
            page.add(" › ".join(crumbs), "")

    def controls_section(self) -> list[NavItem]:
        page = self.new_page("controls/index.md", "Controls")
        page.add("# SP 800-53 rev5 controls", "")
        page.add(
            "The NIST SP 800-53 revision 5 catalogue by family. A control page lists the mitigations that reach it (with "
            "the relationship and rationale of each mapping), the baselines that include it, "
            + (f"{self.framework_items_text()} that crosswalk to it " if self.kb.frameworks else "")
            + "and who is responsible for it on a FaaS platform.",
            "",
        )
        rows = []
        nav: list[NavItem] = [page.path]
        by_family: dict[str, list[str]] = defaultdict(list)
        for c in self.ids_by_kind[NodeKind.CONTROL]:
            by_family[self.family_of(c)].append(c)
        children: dict[str, list[str]] = defaultdict(list)
        for c in self.ids_by_kind[NodeKind.CONTROL]:
            parent = self.g.nodes[c].get("parent")
            if parent and parent in self.g:
                children[parent].append(c)
        for fid in self.ids_by_kind[NodeKind.FAMILY]:
            cs = by_family.get(fid, [])
            reached = sum(1 for c in cs if self.count_edges(c, EdgeKind.MAPS_TO, incoming=True))
            rows.append([self.link(page, fid), md(self.title(fid)), str(len(cs)), str(reached)])
            base = [c for c in cs if self.g.nodes[c].get("parent") not in self.g]
            nav.append({attr(f"{fid} {self.title(fid)}"): [self.paths.by_id[fid], *self.nav_controls(base, children)]})
        page.add(*self.table(page, ["family", "title", "controls", "reached by a mitigation"], rows))
        return nav

    def frameworks_section(self) -> list[NavItem]:
        page = self.new_page("frameworks/index.md", "Frameworks")
        page.add("# Frameworks", "")
        page.add(
            "The frameworks the knowledge base maps to: FedRAMP and SP 800-53B baselines (sets of SP 800-53 controls)"
            + "".join(f", the {fw.label} {fw.name}" for fw in self.kb.frameworks.values())
            + " and the NIST SP 800-204 series of strategies for microservices and serverless applications.",
            "",
        )
        nav: list[NavItem] = [page.path]
        groups: dict[str, list[str]] = defaultdict(list)
        for kind, key in (
            (NodeKind.BASELINE, "framework"),
            (NodeKind.SAFEGUARD, "framework"),
            (NodeKind.STRATEGY, "publication"),
        ):
            for i in self.ids_by_kind[kind]:
                groups[str(self.g.nodes[i].get(key, kind.value))].append(i)
        rows = []
        for name in sorted(groups, key=natural_key):
            ids = groups[name]
            folder = self._framework_folder(ids[0])
            kind = self.kind(ids[0])
            one, many = KIND_LABELS[kind]
            sfw = self.kb.framework_of(ids[0]) if kind is NodeKind.SAFEGUARD else None
            count = f"{len(ids)} {md(many.lower() if len(ids) != 1 else one)}."
            if sfw is not None:  # a framework's own words: "72 HIPAA safeguards", "76 FedRAMP 20x KSIs"
                name = f"{sfw.label} {sfw.name}"
                one, many = f"{sfw.label} {sfw.item}", f"{sfw.label} {sfw.items}"
                count = f"{len(ids)} {md(many if len(ids) != 1 else one)}."
            gpage = self.new_page(f"{folder}/index.md", name)
            gpage.add(f"# {md(name)}", "", count, "")
            rows.append([self.page_link(page, gpage.path, name), md(many), str(len(ids))])
            if kind is NodeKind.BASELINE:
                body = []
                items: list[NavItem] = []
                for b in ids:
                    cov = query.baseline(self.kb, b)
                    body.append(
                        [
                            self.link(gpage, b),
                            md(self.title(b)),
                            str(cov["members"]),
                            str(len(cov["reached"])),
                            f"{cov['coverage']:.1%}",
                        ]
                    )
                    fams = sorted({self.family_of(c) for c in self.kb.record(b).members})  # type: ignore[attr-defined]
                    sub = [
                        {
                            attr(
                                f"{f} {self.title(f) if f in self.g else ''}".strip()
                            ): f"{posixpath.dirname(self.paths.by_id[b])}/{slug(f)}.md"
                        }
                        for f in fams
                    ]
                    items.append({attr(f"{self.title(b)}"): [self.paths.by_id[b], *sub]})
                gpage.add(*self.table(gpage, ["baseline", "title", "controls", "reached", "coverage"], body))
                nav.append({attr(name): [gpage.path, *items]})
            elif kind is NodeKind.SAFEGUARD:
                nav.append({attr(name): [gpage.path, *self.safeguard_sections(gpage, ids)]})
            else:
                gpage.add(
                    *self.table(
                        gpage,
                        ["strategy", "title", "mitigations"],
                        [
                            [
                                self.link(gpage, i),
                                md(self.title(i)),
                                str(self.count_edges(i, EdgeKind.IMPLEMENTED_BY, incoming=False)),
                            ]
                            for i in ids
                        ],
                    )
                )
                nav.append({attr(name): [gpage.path, *self.nav_nodes(ids)]})
        page.add(*self.table(page, ["framework", "what", "entries"], rows))
        return nav

    def _framework_folder(self, node_id: str) -> str:
        parts = self.paths.by_id[node_id].split("/")
        return "/".join(parts[:2])

    def safeguard_sections(self, gpage: Page, ids: list[str]) -> list[NavItem]:
        by_section: dict[str, list[str]] = defaultdict(list)
        children: dict[str, list[str]] = defaultdict(list)
        for i in ids:
            rec = self.kb.record(i)
            assert isinstance(rec, Safeguard)
            if rec.standard and rec.standard != i and rec.standard in self.g:
                children[rec.standard].append(i)
            else:
                by_section[rec.section].append(i)
        sfw = self.kb.framework_of(ids[0]) if ids else None
        item = sfw.item if sfw is not None else KIND_LABELS[NodeKind.SAFEGUARD][0]  # the first column's heading
        groups = sfw.groups if sfw is not None else "groups"
        members = (sfw.members or sfw.items) if sfw is not None else "items"
        # the required/addressable column only for a framework whose items say it
        graded = any(self.g.nodes[i].get("requirement") for i in ids)
        nav: list[NavItem] = []
        rows = []
        for section in sorted(by_section, key=natural_key):
            first = self.kb.record(by_section[section][0])
            assert isinstance(first, Safeguard)
            spath = f"{posixpath.dirname(gpage.path)}/{slug(section)}/index.md"
            spage = self.new_page(spath, f"{section} {first.section_title}")
            spage.add(f"# {md(section)} {md(first.section_title)}", "")
            srows = []
            for std in by_section[section]:
                grade = [md(self.g.nodes[std].get("requirement", ""))] if graded else []
                srows.append([self.link(spage, std), md(self.title(std)), *grade, str(len(children.get(std, [])))])
                for spec in children.get(std, []):
                    grade = [md(self.g.nodes[spec].get("requirement", ""))] if graded else []
                    srows.append([self.link(spage, spec), "↳ " + md(self.title(spec)), *grade, ""])
            heads = [item, "title", *(["requirement"] if graded else []), members]
            spage.add(*self.table(spage, heads, srows))
            rows.append([self.page_link(gpage, spath, section), md(first.section_title), str(len(by_section[section]))])
            nav.append({attr(f"{section} {first.section_title}"): [spath, *self.nav_tree(by_section[section], children)]})
        gpage.add(*self.table(gpage, ["section", "title", groups], rows))
        return nav

    def responsibility_page(self) -> Page:
        page = self.new_page("responsibility.md", "Shared responsibility")
        page.add("# Shared responsibility on FaaS platforms", "")
        page.add(
            "Who acts for each control when the system runs on AWS Lambda, Google Cloud Functions or Azure Functions: the "
            "**provider** (inherited from the platform), the **customer** (the organisation deploying the functions) or "
            "both (**shared**). A control takes its own entry if it has one, else its parent control's, else its family's.",
            "",
        )
        parties = ("provider", "shared", "customer")
        counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys((*parties, "unassigned"), 0))
        for c in self.ids_by_kind[NodeKind.CONTROL]:
            resp = self.kb.party(c)
            counts[self.family_of(c)][resp.party if resp else "unassigned"] += 1
        rows = []
        for fid in self.ids_by_kind[NodeKind.FAMILY]:
            fam = self.kb.responsibility.get("family:" + fid)
            fc = counts[fid]
            rows.append(
                [
                    self.link(page, fid),
                    md(self.title(fid)),
                    md(fam[0].party) if fam else "",
                    md(fam[0].rationale) if fam else "",
                    *(str(fc[p]) for p in parties),
                ]
            )
        page.add("## By family", "")
        page.add(*self.table(page, ["family", "title", "default", "why", *(f"controls: {p}" for p in parties)], rows))
        explicit = sorted((k for k in self.kb.responsibility if not k.startswith("family:")), key=query.control_sort_key)
        page.add("## Controls with their own entry", "")
        if explicit:
            page.add(
                *self.table(
                    page,
                    ["control", "title", "party", "why"],
                    [
                        [
                            self.link(page, k),
                            md(self.title(k)) if k in self.g else "",
                            md(self.kb.responsibility[k][0].party),
                            md(self.kb.responsibility[k][0].rationale),
                        ]
                        for k in explicit
                    ],
                )
            )
        else:
            page.add("None: every control takes its family's entry.", "")
        return page

    def scanners_section(self) -> list[NavItem]:
        page = self.new_page("scanners/index.md", "Scanners")
        page.add("# Scanner rules", "")
        page.add(
            "Rules of infrastructure-as-code, code and dependency scanners, each mapped to the mitigations a finding of it "
            "is evidence about (or marked as not applicable, with the reason). An evidence file of findings can so be "
            "traced to mitigations, risks and controls.",
            "",
        )
        tools: dict[str, list[str]] = defaultdict(list)
        for r in self.ids_by_kind[NodeKind.RULE]:
            tools[str(self.g.nodes[r].get("tool", "other"))].append(r)
        nav: list[NavItem] = [page.path]
        rows = []
        for tool in sorted(tools, key=natural_key):
            rules = tools[tool]
            mapped = sum(1 for r in rules if self.count_edges(r, EdgeKind.EVIDENCES, incoming=False))
            folder = f"scanners/{slug(tool)}"
            tpage = self.new_page(f"{folder}/index.md", tool)
            tpage.add(f"# {md(tool)}", "", f"{len(rules)} rules, {mapped} mapped to mitigations.", "")
            chunks = [rules[i : i + RULES_PER_PAGE] for i in range(0, len(rules), RULES_PER_PAGE)]
            extra_nav: list[NavItem] = []
            for n, chunk in enumerate(chunks):
                target = tpage
                if len(chunks) > 1:
                    first, last = n * RULES_PER_PAGE + 1, n * RULES_PER_PAGE + len(chunk)
                    target = self.new_page(f"{folder}/rules-{n + 1}.md", f"{tool} rules {n + 1}")
                    target.add(f"# {md(tool)}: rules {first} to {last}", "")
                    tpage.add(f"- {self.page_link(tpage, target.path, f'rules {first} to {last}')}")
                    extra_nav.append({attr(f"Rules {first}-{last}"): target.path})
                body = []
                for r in chunk:
                    d = self.g.nodes[r]
                    mits = [(v, e) for _, v, e in self.g.out_edges(r, data=True) if e["kind"] == EdgeKind.EVIDENCES.value]
                    mapped_txt = ", ".join(
                        f"{self.link(target, v)} (`{e.get('relationship', '')}`)" for v, e in sorted(mits)
                    ) or ("n/a: " + md(d.get("not_applicable", "")) if d.get("not_applicable") else "")
                    body.append(
                        [self.link(target, r, str(d.get("rule_id", r))), md(self.title(r)), md(d.get("severity", "")), mapped_txt]
                    )
                target.add(*self.table(target, ["rule", "title", "severity", "mitigations"], body))
            tpage.add("")
            rows.append([self.page_link(page, tpage.path, tool), str(len(rules)), str(mapped)])
            # rule pages stay out of the nav (the tool page lists them): it keeps every page's nav short
            nav.append({attr(tool): [tpage.path, *extra_nav]})
        if rows:
            page.add(*self.table(page, ["tool", "rules", "mapped to mitigations"], rows))
        else:
            page.add("No scanner rules in this knowledge base yet.", "")
        return nav

    def downloads_page(self) -> Page:
        from compliance.kb.export import to_csv, to_graphml, to_json

        self.files["downloads/sckb-graph.json"] = to_json(self.kb)
        self.files["downloads/sckb-graph.graphml"] = to_graphml(self.kb)
        for name, data in to_csv(self.kb).items():
            self.files[f"downloads/{name}"] = data
        page = self.new_page("downloads.md", "Downloads")
        page.add("# Downloads", "")
        page.add(
            "The whole knowledge base as files, generated in the same build as these pages (the same data as "
            "`sckb kb export`). Every node has `id`, `kind` and `title`; every edge has `from`, `to` and `kind`, and every "
            "mapping edge also `relationship`, `rationale` and `source`.",
            "",
        )
        rows = [
            [
                "[sckb-graph.json](downloads/sckb-graph.json)",
                "JSON",
                "`{schema, nodes, edges}`, sorted",
                self._size("downloads/sckb-graph.json"),
            ],
            ["[nodes.csv](downloads/nodes.csv)", "CSV", "one row per node", self._size("downloads/nodes.csv")],
            [
                "[edges.csv](downloads/edges.csv)",
                "CSV",
                "one row per edge, mappings with relationship, rationale, source",
                self._size("downloads/edges.csv"),
            ],
            [
                "[sckb-graph.graphml](downloads/sckb-graph.graphml)",
                "GraphML",
                "for graph tools (Gephi, yEd, networkx)",
                self._size("downloads/sckb-graph.graphml"),
            ],
        ]
        page.add(*self.table(page, ["file", "format", "content", "size"], rows))
        return page

    def _size(self, name: str) -> str:
        return f"{len(self.files[name]) / 1024:.0f} KB"

    def _list_item(self, page: Page, value: Any) -> str:
        """One item of a record's list field: a node id as its link; a link record (``to``, ``relationship``, ...)
        as the link and its relationship (its rationale and source are in the page's relationship sections)."""
        if isinstance(value, dict) and isinstance(value.get("to"), str):
            target = value["to"]
            shown = self.link(page, target) if target in self.kb.nodes else md(target)
            rel = value.get("relationship")
            return f"{shown} ({md(rel)})" if isinstance(rel, str) else shown
        if isinstance(value, dict):
            return md("; ".join(f"{k}: {v}" for k, v in value.items()))
        return self.link(page, str(value)) if str(value) in self.kb.nodes else md(value)

    def cli_pages(self) -> list[NavItem]:
        """The CLI reference: an index with the top-level help and one page per top-level command with every
        subcommand's ``--help`` (one page for them all grew past the page-size budget)."""
        index = self.new_page("reference/cli.md", "CLI reference")
        index.add(
            "# CLI reference", "", "Every `sckb` command with its `--help` text, generated from the command line itself.", ""
        )
        if not self.cli_help:
            index.add("(No command help was given to the generator.)", "")
            return [{"Overview": index.path}]
        groups: dict[str, list[tuple[str, str]]] = {}
        for name, text in self.cli_help:
            parts = name.split()
            if len(parts) < 2:
                self._help_block(index, name, text)
            else:
                groups.setdefault(parts[1], []).append((name, text))
        nav: list[NavItem] = [{"Overview": index.path}]
        rows = []
        for group, entries in groups.items():
            page = self.new_page(f"reference/cli/{slug(group)}.md", f"sckb {group}")
            page.add(f"# sckb {md(group)}", "", "[All commands](../cli.md)", "")
            for name, text in entries:
                self._help_block(page, name, text)
            nav.append({f"sckb {group}": page.path})
            first = next((ln.strip() for ln in entries[0][1].splitlines()[1:] if ln.strip()), "")
            rows.append([f"[sckb {md(group)}](cli/{slug(group)}.md)", md(first), str(len(entries))])
        index.add("## Commands", "")
        index.add(*self.table(index, ["command", "what it does", "commands on its page"], rows))
        return nav

    @staticmethod
    def _help_block(page: Page, name: str, text: str) -> None:
        page.add(
            f"## {md(name)}",
            "",
            "~~~~text",
            *(line.replace("~~~~", "~ ~ ~ ~") for line in text.rstrip().splitlines()),
            "~~~~",
            "",
        )

    # ------------------------------------------------------------------ everything

    def run(self, progress: Callable[[int, int], None] | None = None) -> SiteContent:
        self.assign_paths()
        self.plan_indexes()
        ids = [i for kind in NodeKind for i in self.ids_by_kind[kind]]
        for n, node_id in enumerate(ids, 1):
            self.node_page(node_id)
            if progress is not None and (n % 50 == 0 or n == len(ids)):
                progress(n, len(ids))
        # Few top-level groups, so that navigation.sections shows little and navigation.prune cuts the rest:
        # the nav each page carries (and the time to render it) then stays small for thousands of pages.
        nav: list[NavItem] = [
            {"Home": "index.md"},
            {
                "Guide": [
                    {"How to use sckb": "using.md"},
                    *guide_pages(self, self.kb, self.guide_text),
                    {"Methodology": "methodology.md"},
                    {"How mappings are typed": "mappings.md"},
                ]
            },
            {"Browse": self.section_pages()},
        ]
        if self.assessment is not None:
            nav.append({"Assessment": dashboard_pages(self, self.assessment)})
        nav.append({"Reference": self.reference_pages()})
        return SiteContent(self.pages, nav, self.files, dict(self.paths.by_id), not_in_nav_patterns(self.pages, nav))


def generate(
    kb: KB,
    *,
    cli_help: Sequence[tuple[str, str]] = (),
    assessment: Any = None,
    statements: Mapping[str, str] | None = None,
    edition: Edition | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SiteContent:
    """All generated pages, the nav and the download files for ``kb`` (nothing is written). ``statements``
    (control id -> text, from an imported catalog) puts each control's statement on its page."""
    return Generator(kb, cli_help=cli_help, assessment=assessment, statements=statements, edition=edition).run(progress)
