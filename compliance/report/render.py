"""Render the report model to HTML (Jinja2, autoescaped) and the HTML to PDF (WeasyPrint).

The templates live in the top-level ``templates/`` folder (``compliance/data/templates/`` in a wheel):
``report.html.j2`` and ``report.css``. WeasyPrint gets :class:`~compliance.report.assets.SafeFetcher`,
so the only things it can load are those assets and the bounded logo data URI.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from compliance import __version__
from compliance.errors import InputError
from compliance.report import charts
from compliance.report.model import STATUS_ORDER, ControlSection, Report

TEMPLATE = "report.html.j2"
#: ``--pdf-variant`` values (WeasyPrint's names). PDF/A-3b allows embedded files (the attachments).
VARIANTS = ("pdf/a-3b", "pdf/ua-1")


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    data: bytes
    description: str  # the file's name tells readers (and WeasyPrint) its type: .json, .csv


def _env(templates: Path) -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=True,  # every string from evidence is escaped, in every template
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["day"] = lambda s: (s or "")[:10]
    env.filters["inline"] = inline
    env.filters["status_class"] = lambda s: "st-" + "".join(ch if ch.isalnum() else "-" for ch in (s or "none"))
    return env


_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"\*([^*\s][^*]*?)\*")


def inline(text: str) -> Any:
    """Our own rule text (:mod:`compliance.kb.status`) with its ``code``, **bold** and *italic* marks as HTML, and
    its lines as line breaks: escaped first, so nothing in it can become markup of its own."""
    from markupsafe import Markup, escape

    out: list[str] = []
    for i, piece in enumerate(_CODE.split(text)):  # odd pieces are code: no emphasis inside (`tool:*`)
        html = str(escape(piece))
        if i % 2:
            out.append(f'<span class="mono">{html}</span>')
        else:
            out.append(_ITALIC.sub(r"<i>\1</i>", _BOLD.sub(r"<b>\1</b>", html)))
    return Markup("".join(out).replace("\n", "<br>"))


def _families(sections: Sequence[ControlSection], titles: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in sections:
        if not out or out[-1]["id"] != s.family:
            out.append({"id": s.family, "title": titles.get(s.family, s.family), "controls": []})
        out[-1]["controls"].append(s)
    return out


def render_html(report: Report, *, templates: Path, family_titles: dict[str, str] | None = None) -> str:
    """The report as one HTML document (the stylesheet is linked relative to ``templates``)."""
    from markupsafe import Markup

    env = _env(templates)
    svgs = {c.id: Markup(charts.svg(c)) for c in report.charts}  # our markup; labels escaped in charts.svg
    return str(
        env.get_template(TEMPLATE).render(
            r=report,
            m=report.meta,
            statuses=STATUS_ORDER,
            colours=charts.COLOURS,
            svgs=svgs,
            families=_families(report.controls, family_titles or {}),
            version=__version__,
        )
    )


def write_pdf(
    html: str,
    out: Path,
    *,
    templates: Path,
    now: datetime,
    variant: str | None = None,
    attachments: Sequence[Attachment] = (),
    fetcher: Any = None,
) -> int:
    """Render ``html`` to ``out`` with WeasyPrint; returns the page count.

    ``fetcher`` defaults to a :class:`SafeFetcher` over ``templates``; pass your own (a subclass) to watch it.
    """
    from weasyprint import HTML
    from weasyprint import Attachment as WAttachment

    from compliance.report.assets import SafeFetcher

    if variant is not None and variant not in VARIANTS:
        raise ValueError(f"unknown PDF variant {variant!r}")
    fetcher = fetcher or SafeFetcher(templates)
    base = templates.resolve().as_uri() + "/"
    doc = HTML(string=html, base_url=base, url_fetcher=fetcher).render()
    stamp = now.replace(tzinfo=None)
    atts = [
        WAttachment(
            file_obj=io.BytesIO(a.data),
            base_url=base,
            url_fetcher=fetcher,
            name=a.name,
            description=a.description,
            created=stamp,
            modified=stamp,
            relationship="Data",
        )
        for a in attachments
    ]
    options: dict[str, Any] = {"attachments": atts or None, "pdf_identifier": _identifier(html, attachments)}
    if variant is not None:
        options["pdf_variant"] = variant
    tmp = out.with_name(f".{out.name}.partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # WeasyPrint opens its bundled sRGB profile for PDF/A and never closes it (harmless; not ours to fix)
            warnings.filterwarnings("ignore", category=ResourceWarning, message=r".*sRGB2014\.icc")
            doc.write_pdf(tmp, **options)
        tmp.replace(out)  # a reader never sees half a PDF; an old report stays until the new one is complete
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write the report: {exc.strerror or exc}", path=out) from exc
    return len(doc.pages)


def _identifier(html: str, attachments: Sequence[Attachment]) -> bytes:
    """A stable PDF /ID from the content (same inputs -> same file)."""
    import hashlib

    h = hashlib.sha256(html.encode("utf-8"))
    for a in attachments:
        h.update(a.name.encode("utf-8") + b"\0" + hashlib.sha256(a.data).digest())
    return h.hexdigest()[:32].encode("ascii")
