"""MkDocs hooks of the guidance site (loaded by the generated ``mkdocs.gen.yml``).

``on_page_markdown`` / ``on_page_content`` carry the generated pages' tables past Markdown: the
generator writes every table as a finished, escaped HTML block (:meth:`Generator.table`), which
Python-Markdown and MkDocs would otherwise each run through an HTML parser, tag by tag, only to
pass it on unchanged. The hook swaps each block for a one-word placeholder paragraph before the
conversion and puts the block back in its place after it. Without the hooks (another builder reading
the same ``mkdocs.yml``) the blocks are plain raw HTML in Markdown and render the same.

``on_post_page`` drops the indentation and blank lines the theme's templates leave in every page,
outside ``<pre>`` and ``<textarea>`` (where whitespace is content). In HTML any run of whitespace
between words or tags renders as one space, and a newline is whitespace, so the page looks the
same and is about half the size.
"""

from __future__ import annotations

import re
from typing import Any

_KEEP = re.compile(r"(<pre\b.*?</pre>|<textarea\b.*?</textarea>)", re.S | re.I)
_WS_NEWLINE = re.compile(r"[ \t]*\n\s*")
#: a generated table: from a line that is exactly ``<table>`` to the next line that is exactly ``</table>``
_BLOCK = re.compile(r"^<table>\n.*?\n</table>$", re.S | re.M)
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

    if "<table>" not in markdown:
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


def on_post_page(output: str, /, **_: Any) -> str:
    return minify(output)
