"""MkDocs hooks of the guidance site (loaded by the generated ``mkdocs.gen.yml``).

``on_page_markdown`` / ``on_page_content`` carry the generated pages' tables past Markdown: the
generator writes every table as a finished, escaped HTML block (:meth:`Generator.table`), which
Python-Markdown and MkDocs would otherwise each run through an HTML parser, tag by tag, only to
pass it on unchanged. The hook swaps each block for a one-word placeholder paragraph before the
conversion and puts the block back in its place after it. Without the hooks (another builder reading
the same ``mkdocs.yml``) the blocks are plain raw HTML in Markdown and render the same.

``on_env`` gives the theme override (``overrides/main.html``) a cache of the primary navigation for
pages outside the nav (most pages: rule, enhancement and CWE pages). Such a page has no active nav
item, so its navigation differs from another's only in the relative URLs, which depend only on
where the page sits: every leaf page in one folder gets the same HTML. The theme renders the nav
once per folder and reuses it (pages with nav pages below their own URL are never cached).

``on_post_page`` drops the indentation and blank lines the theme's templates leave in every page,
outside ``<pre>`` and ``<textarea>`` (where whitespace is content). In HTML any run of whitespace
between words or tags renders as one space, and a newline is whitespace, so the page looks the
same and is about half the size.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from markupsafe import Markup

_KEEP = re.compile(r"(<pre\b.*?</pre>|<textarea\b.*?</textarea>)", re.S | re.I)
_WS_NEWLINE = re.compile(r"[ \t]*\n\s*")
#: a generated table (from a line that is exactly ``<table>``, or that with the search-exclude attribute, to the next
#: line that is exactly ``</table>``), or a
#: generated run of links (one line: ``<p class="sckb-links">...</p>``)
_BLOCK = re.compile(
    r"^<table(?: data-search-exclude=\"table\")?>\n.*?\n</table>$" r"|^<p class=\"sckb-links\">[^\n]*</p>$", re.S | re.M
)
_PLACEHOLDER = re.compile(r"<p>sckbhtmlblock(\d+)x</p>")
_ATTR = "sckb_html_blocks"


def minify(html: str) -> str:
    parts = _KEEP.split(html)
    for i in range(0, len(parts), 2):  # even parts are outside <pre>/<textarea>
        parts[i] = _WS_NEWLINE.sub("\n", parts[i])
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


def on_page_content(html: str, /, *, page: Any, **_: Any) -> str:
    return restore_blocks(html, getattr(page, _ATTR, []))


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


def on_env(env: Any, /, *, files: Any, **_: Any) -> Any:
    cache = NavCache([f.url for f in files.documentation_pages() if f.inclusion.is_in_nav()])
    env.globals["sckb_nav_cached"] = cache.get
    env.globals["sckb_nav_keep"] = cache.keep
    return env


def on_post_page(output: str, /, **_: Any) -> str:
    return minify(output)
