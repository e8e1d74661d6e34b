"""MkDocs hooks of the guidance site (loaded by the generated ``mkdocs.gen.yml``).

``on_page_markdown`` / ``on_page_content`` carry the generated pages' tables past Markdown: the
generator writes every table as a finished, escaped HTML block (:meth:`Generator.table`), which
Python-Markdown and MkDocs would otherwise each run through an HTML parser, tag by tag, only to
pass it on unchanged. The hook swaps each block for a one-word placeholder paragraph before the
conversion and puts the block back in its place after it. Without the hooks (another builder reading
the same ``mkdocs.yml``) the blocks are plain raw HTML in Markdown and render the same.

The search plugin reads each page's HTML with Python's HTML parser, which costs about as much per
tag as the rest of the page's build. So ``on_page_content`` puts each block back as a short stand-in
(:func:`search_stand_in`: its text as the search parser would collect it, few tags) and
``on_page_context``, after the search plugin, swaps the stand-ins for the blocks. The index is the same.

``on_env`` gives the theme override (``overrides/main.html``) a cache of the primary navigation, whose
rendering is most of a page's template time. A page outside the nav (most pages: rule, enhancement and
CWE pages) has no active nav item, so its navigation differs from another's only in the relative URLs,
which depend only on where the page sits: every leaf page in one folder gets the same HTML, rendered
once per folder (pages with nav pages below their own URL are never cached). Leaf pages in the nav
that share a folder and a parent section, and the index pages of sibling sections, differ only in their
own two items (:class:`LeafNavCache`).

``on_post_page`` drops the indentation and blank lines the theme's templates leave in every page,
outside ``<pre>`` and ``<textarea>`` (where whitespace is content). In HTML any run of whitespace
between words or tags renders as one space, and a newline is whitespace, so the page looks the
same and is about half the size.
"""

from __future__ import annotations

import html
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from jinja2 import pass_context
from markupsafe import Markup
from mkdocs.plugins import event_priority

_KEEP = re.compile(r"(<pre\b.*?</pre>|<textarea\b.*?</textarea>)", re.S | re.I)
#: a generated table (from a line that is exactly ``<table>``, or that with the search-exclude attribute, to the next
#: line that is exactly ``</table>``), or a
#: generated run of links (one line: ``<p class="sckb-links">...</p>``)
_BLOCK = re.compile(
    r"^<table(?: data-search-exclude=\"table\")?>\n.*?\n</table>$" r"|^<p class=\"sckb-links\">[^\n]*</p>$", re.S | re.M
)
_PLACEHOLDER = re.compile(r"<p>sckbhtmlblock(\d+)x</p>")
_ATTR = "sckb_html_blocks"


def squeeze(text: str) -> str:
    """``text`` with every run of white space that holds a newline made one newline (spaces and tabs before
    the newline, any white space after it), as ``re.sub(r"[ \\t]*\\n\\s*", "\\n", text)`` but line by line
    with string methods, at about half the cost on a page of indented template output."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    middle = [s.rstrip(" \t") for s in (line.lstrip() for line in lines[1:-1]) if s]
    return "\n".join([lines[0].rstrip(" \t"), *middle, lines[-1].lstrip()])


def minify(html: str) -> str:
    parts = _KEEP.split(html)
    for i in range(0, len(parts), 2):  # even parts are outside <pre>/<textarea>
        parts[i] = squeeze(parts[i])
    return "".join(parts)


def lift_blocks(markdown: str) -> tuple[str, list[str]]:
    """The Markdown with each HTML table block replaced by a placeholder paragraph, and the blocks."""
    blocks: list[str] = []

    def take(m: re.Match[str]) -> str:
        blocks.append(m.group(0))
        return f"\nsckbhtmlblock{len(blocks) - 1}x\n"

    if "<table" not in markdown and "sckb-links" not in markdown:
        return markdown, blocks
    return _BLOCK.sub(take, markdown), blocks


def restore_blocks(html: str, blocks: list[str]) -> str:
    if not blocks:
        return html
    return _PLACEHOLDER.sub(lambda m: blocks[int(m.group(1))], html)


def on_page_markdown(markdown: str, /, *, page: Any, **_: Any) -> str:
    text, blocks = lift_blocks(markdown)
    setattr(page, _ATTR, blocks)
    return text


#: tags whose start and end the search plugin's parser copies into the index text (its ``keep`` set)
_SEARCH_KEPT = frozenset({"p", "code", "li", "ol", "ul", "sub", "sup"})
#: tags it only steps over; a block holding any other tag (a heading, ``<pre>``) goes to the parser as it is
_SEARCH_PASSED = frozenset({"table", "thead", "tbody", "tr", "th", "td", "a", "strong", "em", "br", "span"})
_TAGS = re.compile(r"(<[^>]*>)")
_TAG_NAME = re.compile(r"</?([a-z0-9]+)")
#: a stand-in in the page content while the search plugin reads it (``<!---->`` only splits text nodes)
_STAND_IN = re.compile(r"<!--sckb:(\d+)-->.*?<!--/sckb-->", re.S)
#: the search plugin's instructions, which it strips from a page after reading it
_SEARCH_ATTR = re.compile(r"\s?data-search-\w+=\"[^\"]+\"")


def _blank(text: str) -> bool:
    """What the search parser takes for white space: it sees text with its character references decoded."""
    return text.isspace() or ("&" in text and html.unescape(text).isspace())


def search_stand_in(block: str) -> str | None:
    """What the search index gets from a generated HTML block, as a short text the search plugin reads
    to the same entry at a fraction of the parsing (None: the block goes to the parser as it is).

    The parser appends each text node between two tags (a white-space node as one space, and none
    right after another), and the start and end of the few tags it keeps, and steps over every other
    tag. So a run of text nodes between kept tags reads the same as one node that joins them, each
    white-space node between them made one space, with a leading and a trailing white-space node kept
    apart (comments split text nodes) since those depend on what comes before and after. A table kept
    out of search reads as nothing."""
    if block.startswith("<table data-search-exclude="):
        return ""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        words = [i for i, piece in enumerate(run) if not _blank(piece)]
        if not words:
            if run:
                out.append(" ")
        else:
            first, last = words[0], words[-1]
            if first > 0:
                out.append(" <!---->")
            gap = False
            for piece in run[first : last + 1]:
                if not _blank(piece):
                    out.append(piece)
                    gap = False
                elif not gap:
                    out.append(" ")
                    gap = True
            if last < len(run) - 1:
                out.append("<!----> ")
        run.clear()

    for i, token in enumerate(_TAGS.split(block)):
        if i % 2 == 0:
            if token:
                run.append(token)
            continue
        name = _TAG_NAME.match(token)
        if name is None or "data-search-" in token:
            return None
        if name.group(1) in _SEARCH_KEPT:
            flush()
            out.append(token)
        elif name.group(1) not in _SEARCH_PASSED:
            return None
    flush()
    return "".join(out)


def on_page_content(html: str, /, *, page: Any, **_: Any) -> str:
    """The blocks back in place of their placeholders, each as its search stand-in (:func:`search_stand_in`)
    until the search plugin has read the page (:func:`on_page_context`)."""
    blocks: list[str] = getattr(page, _ATTR, [])
    if not blocks:
        return html

    def put(m: re.Match[str]) -> str:
        n = int(m.group(1))
        stand_in = search_stand_in(blocks[n])
        return blocks[n] if stand_in is None else f"<!--sckb:{n}-->{stand_in}<!--/sckb-->"

    return _PLACEHOLDER.sub(put, html)


@event_priority(-50)  # after the search plugin has indexed the page
def on_page_context(context: Any, /, *, page: Any, **_: Any) -> Any:
    blocks: list[str] = getattr(page, _ATTR, [])
    if blocks and page.content:
        page.content = _STAND_IN.sub(lambda m: _SEARCH_ATTR.sub("", blocks[int(m.group(1))]), page.content)
    return context


class NavCache:
    """The rendered primary nav of pages outside the nav, by the folder of their URL."""

    def __init__(self, nav_urls: list[str]) -> None:
        #: every URL that a page in the nav sits at or below
        self._covering = {u[: i + 1] for u in nav_urls for i, ch in enumerate(u) if ch == "/"} | set(nav_urls)
        self._html: dict[str, Markup] = {}

    def key(self, page: Any) -> str | None:
        file = getattr(page, "file", None)
        if file is None or file.inclusion.is_in_nav() or not page.url or page.url in self._covering:
            return None
        return posixpath.dirname(str(page.url).rstrip("/"))

    def get(self, page: Any) -> Markup | None:
        key = self.key(page)
        return None if key is None else self._html.get(key)

    def keep(self, page: Any, html: str) -> Markup:
        markup = Markup(html)
        key = self.key(page)
        if key is not None:
            self._html[key] = markup
        return markup


class LeafNavCache:
    """The rendered primary nav of pages in the nav, by group: leaf pages by (folder of their URL, parent
    section), and sections' index pages by (folder above their own folder, parent section).

    Two leaf siblings get the same nav but for their own two items: each marks its own item active (with
    its table of contents) and shows the other as a plain link. Two sibling sections' index pages (a
    control's page and its enhancements, beside another control's) likewise differ only in those two
    sections, each expanded on its own page and folded to one link on the other's; their folders sit side
    by side, so every other link in the nav leads out of both folders alike (which is checked). So the nav
    is rendered once per group, for its first page; for every other page the theme's own item macro
    renders just the two items that differ, which are swapped into the first page's nav. An item holds the
    link to its own page, so it occurs once in a nav; where it does not, the page's nav is rendered in full.
    """

    def __init__(self, item_template: Any) -> None:
        #: the theme's nav item template (``partials/nav-item.html``), whose ``render`` macro draws one item
        self._item_template = item_template
        self._groups: dict[tuple[str, str, int], _LeafGroup | None] = {}

    @staticmethod
    def unit(page: Any) -> Any:
        """The nav item that differs between a page's nav and its group's: the page itself, or for a
        section's index page its section; None for a page outside the nav."""
        file = getattr(page, "file", None)
        if file is None or not file.inclusion.is_in_nav() or page.url is None:
            return None
        if not page.is_index:
            return page
        section = page.parent
        if section is None or not section.children or section.children[0] is not page:
            return None  # the home page, or an index the theme does not take as its section's page
        return section

    @classmethod
    def key(cls, page: Any) -> tuple[str, str, int] | None:
        unit = cls.unit(page)
        if unit is None:
            return None
        folder = posixpath.dirname(str(page.url).rstrip("/"))
        if unit is page:
            return "page", folder, id(page.parent)
        return "section", posixpath.dirname(folder), id(unit.parent)

    @staticmethod
    def _where(unit: Any, context: Any) -> tuple[str, int]:
        """The ``path`` and ``level`` the theme's nav passes the item macro for ``unit`` (its position)."""
        steps: list[int] = []
        node = unit
        while node is not None:
            siblings = node.parent.children if node.parent is not None else context["nav"].items
            steps.append(next(i for i, x in enumerate(siblings, 1) if x is node))
            node = node.parent
        return "__nav_" + "_".join(str(i) for i in reversed(steps)), len(steps)

    def _render(self, context: Any, unit: Any) -> str:
        """``unit``'s item as the theme's nav draws it for the page being built (``import ... with context``)."""
        path, level = self._where(unit, context)
        items = self._item_template.make_module(context.get_all(), True)
        return str(items.render(unit, path, level, unit.parent))

    def get(self, context: Any, page: Any) -> Markup | None:
        key = self.key(page)
        group = self._groups.get(key) if key is not None else None
        if group is None or group.first is page:
            return None
        unit = self.unit(page)
        plain = group.plain.get(id(unit))
        if plain is None:
            return None
        if group.base is None:  # the first page's item, now as it shows on another page
            group.base = group.html.replace(group.first_item, self._render(context, self.unit(group.first)))
        if group.base.count(plain) != 1:
            return None
        if unit is not page:  # another folder: the rest of the nav must link out of both folders alike
            own = f'href="../{posixpath.basename(posixpath.dirname(str(page.url)))}/'
            if group.base.count('href="') != group.base.count('href="../') or group.base.count(own) != plain.count(own):
                return None
        return Markup(group.base.replace(plain, self._render(context, unit)))

    def keep(self, context: Any, page: Any, html: str) -> None:
        key = self.key(page)
        if key is None or key in self._groups:
            return
        unit = self.unit(page)
        first_item = self._render(context, unit)
        if html.count(first_item) != 1:
            self._groups[key] = None
            return
        siblings = unit.parent.children if unit.parent is not None else context["nav"].items
        plain: dict[int, str] = {}
        for other in siblings:
            page_of = other if getattr(other, "is_page", False) else (other.children or [None])[0]
            if other is not unit and page_of is not None and self.unit(page_of) is other and self.key(page_of) == key:
                item = self._render(context, other)
                if html.count(item) == 1:
                    plain[id(other)] = item
        self._groups[key] = _LeafGroup(html, page, first_item, plain)


@dataclass
class _LeafGroup:
    #: the nav rendered for ``first``, and its item there (marked active)
    html: str
    first: Any
    first_item: str
    #: the other members' items as they show in ``html``, by ``id`` of the item (page or section)
    plain: dict[int, str]
    #: ``html`` with ``first``'s item as it shows on another page (made when the second page needs it)
    base: str | None = None


def on_env(env: Any, /, *, files: Any, **_: Any) -> Any:
    folders = NavCache([f.url for f in files.documentation_pages() if f.inclusion.is_in_nav()])
    leaves = LeafNavCache(env.get_template("partials/nav-item.html"))

    @pass_context
    def cached(context: Any, page: Any) -> Markup | None:
        return folders.get(page) or leaves.get(context, page)

    @pass_context
    def keep(context: Any, page: Any, html: str) -> Markup:
        leaves.keep(context, page, html)
        return folders.keep(page, html)

    env.globals["sckb_nav_cached"] = cached
    env.globals["sckb_nav_keep"] = keep
    return env


def on_post_page(output: str, /, **_: Any) -> str:
    return minify(output)
