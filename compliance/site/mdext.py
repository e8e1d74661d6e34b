"""A Python-Markdown extension for the generated pages: drop the inline syntaxes the site never uses.

Every inline pattern runs on every text node, and the pages are mostly table cells, so each unused
pattern costs time on thousands of pages. The site keeps code spans, links, emphasis, entities and
backslash escapes, and drops reference and image links, autolinks, hard line breaks and inline raw
HTML (data is escaped, so none could reach a page anyway).
"""

from __future__ import annotations

from typing import Any

from markdown import Markdown  # type: ignore[import-untyped]
from markdown.extensions import Extension  # type: ignore[import-untyped]

UNUSED_INLINE = (
    "reference",
    "image_link",
    "image_reference",
    "short_reference",
    "short_image_ref",
    "autolink",
    "automail",
    "linebreak",
    "html",
    "not_strong",
    "em_strong2",  # older Python-Markdown releases; newer ones handle _ and * in em_strong
)


class LeanInlineExtension(Extension):  # type: ignore[misc]
    def extendMarkdown(self, md: Markdown) -> None:
        for name in UNUSED_INLINE:
            if name in md.inlinePatterns:
                md.inlinePatterns.deregister(name)


def makeExtension(**kwargs: Any) -> LeanInlineExtension:
    return LeanInlineExtension(**kwargs)
