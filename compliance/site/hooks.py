"""MkDocs hooks of the guidance site (loaded by the generated ``mkdocs.gen.yml``).

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


def minify(html: str) -> str:
    parts = _KEEP.split(html)
    for i in range(0, len(parts), 2):  # even parts are outside <pre>/<textarea>
        parts[i] = _WS_NEWLINE.sub("\n", parts[i])
    return "".join(parts)


def on_post_page(output: str, /, **_: Any) -> str:
    return minify(output)
