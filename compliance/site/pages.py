"""The page record of the generated site and the generator seam the dashboard pages are written through.

:mod:`compliance.site.generate` writes the KB pages and calls :mod:`compliance.site.dashboard` for the
assessment pages; both import this module, and the dashboard knows the generator only as a
:class:`PageMaker`, so neither of the two imports the other in both directions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import networkx as nx
import orjson

from compliance.site.escape import attr


def site_source() -> Path:
    """The ``site/`` folder: packaged under ``compliance/data/site`` in a wheel, else beside the package."""
    pkg = Path(__file__).resolve().parent.parent
    packaged = pkg / "data" / "site"
    return packaged if (packaged / "mkdocs.yml").is_file() else pkg.parent / "site"


def natural_key(s: str) -> tuple[Any, ...]:
    """SAS-2 < SAS-10, AC-2 < AC-2(1) < AC-10."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.casefold()) for p in re.split(r"(\d+)", s) if p)


def slug(value: str) -> str:
    s = re.sub(r"[^a-z0-9._-]+", "-", value.casefold().replace("*", "any")).strip("-.")
    return s or "x"


@dataclass
class Page:
    path: str
    title: str
    lines: list[str] = field(default_factory=list)
    search: bool = True
    #: search ranking weight (MkDocs Material reads ``search.boost``); None keeps the default
    boost: float | None = None
    #: ids this page is found by first: the search index's ``tags`` field, boosted far above title and text
    tags: list[str] = field(default_factory=list)
    #: False: the page's tables stay out of the search index (the page is still found by title and tags)
    search_tables: bool = True
    #: docs paths this page links to from HTML blocks (MkDocs does not check those; the build does)
    links: set[str] = field(default_factory=set)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def text(self) -> str:
        head = ["---", f"title: {orjson.dumps(attr(self.title)).decode()}"]
        if self.tags:
            head += ["tags:", *(f"  - {orjson.dumps(attr(t)).decode()}" for t in self.tags)]
        if not self.search:
            head += ["search:", "  exclude: true"]
        elif self.boost is not None:
            head += ["search:", f"  boost: {self.boost}"]
        return "\n".join([*head, "---", "", *self.lines, ""])


NavItem = dict[str, Any] | str


class PageMaker(Protocol):
    """What a page writer outside the generator uses of it (:class:`compliance.site.generate.Generator`)."""

    @property
    def g(self) -> nx.DiGraph: ...

    def title(self, node_id: str) -> str: ...

    def link(self, page: Page, node_id: str, text: str | None = None) -> str: ...

    def page_link(self, page: Page, path: str, text: str) -> str: ...

    def new_page(self, path: str, title: str, *, search: bool = True) -> Page: ...

    def table(self, page: Page, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]: ...

    def family_of(self, control_id: str) -> str: ...
