"""Escaping of data strings for the Markdown pages.

Everything that comes from the KB or from evidence goes through :func:`md` before it reaches a
page: HTML-active characters (``<``, ``>``, ``&``) become entities, and Markdown-active
characters become numeric character references, which Markdown leaves alone and the browser
shows as the character. So no data string can open a tag, a link, emphasis, a table cell, a
heading, a list or a fence. Whitespace (newlines included) collapses to single spaces, so a data
string never starts a new Markdown block.
"""

from __future__ import annotations

import html
import re

_TABLE = {ord(c): f"&#{ord(c)};" for c in "\\`*_[]{}#!|~"}
_TABLE[ord("&")] = "&amp;"
_TABLE[ord("<")] = "&lt;"
_TABLE[ord(">")] = "&gt;"
_WS = re.compile(r"\s+")
#: block starters that only matter at the start of a line: list items, setext/hr, admonitions
_LEADING = re.compile(r"^([-+=?]|\d+(?=\.(?:\s|$)))")


def md(value: object) -> str:
    """A data value as inert Markdown text (one line)."""
    text = _WS.sub(" ", str(value)).strip()
    text = text.translate(_TABLE)
    m = _LEADING.match(text)
    if m:
        if m.group(1)[0].isdigit():  # "1. text" would start an ordered list: escape the dot
            end = m.end()
            text = text[:end] + f"&#{ord(text[end])};" + text[end + 1 :]
        else:
            text = f"&#{ord(text[0])};" + text[1:]
    return text


def attr(value: object) -> str:
    """A data value for an HTML attribute or a place a theme prints without escaping (nav titles,
    page meta titles): plain HTML escaping, whitespace collapsed."""
    return html.escape(_WS.sub(" ", str(value)).strip(), quote=True)


_MERMAID_SAFE = re.compile(r"[^A-Za-z0-9 ,.()/'+:-]+")


def mermaid_label(value: object, limit: int = 48) -> str:
    """Text for a quoted mermaid node label: a conservative character whitelist, shortened."""
    text = _WS.sub(" ", _MERMAID_SAFE.sub(" ", str(value))).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
