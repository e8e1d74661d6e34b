"""The auditor's PDF report: a stored assessment rendered by WeasyPrint from the Jinja2 templates.

>>> from compliance.report import Options, report_pdf
>>> with Store.open(workspace) as store:                                   # doctest: +SKIP
...     res = report_pdf(kb, store, out=Path("report.pdf"), now=now, options=Options(title="..."),
...                      variant="pdf/a-3b", attach=True)
>>> res.pages, res.attachments                                              # doctest: +SKIP

Pieces: :mod:`.model` (the typed report model), :mod:`.build` (``from_assessment``: assessment -> model,
and the findings CSV), :mod:`.charts` (SVG), :mod:`.render` (HTML and PDF), :mod:`.assets` (the URL
fetcher that confines WeasyPrint to the templates folder, and the logo reader).
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from compliance.report.build import Options, findings_csv, from_assessment
from compliance.report.model import Report

AR_NAME = "assessment-results.json"
CSV_NAME = "findings.csv"


@dataclass(slots=True)
class Result:
    out: Path
    pages: int
    assessment_id: str
    attachments: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # URLs the fetcher refused (none in a normal run)


def build(
    kb: Any, store: Any, *, now: datetime, assessment: str | None = None, options: Options | None = None
) -> tuple[Any, Report]:
    """Load the assessment (latest when ``assessment`` is None) and fill the report model."""
    from compliance.assess import load_assessment
    from compliance.oscal.catalog import statements

    a = load_assessment(store, assessment)
    workspace = getattr(store, "workspace", None)
    stmts = statements(Path(workspace)) if workspace is not None else {}
    files = store.files() if hasattr(store, "files") else []
    return a, from_assessment(a, kb, now=now, options=options, evidence_files=files, statements=stmts)


def family_titles(kb: Any) -> dict[str, str]:
    from compliance.kb.model import NodeKind

    return {n.id: n.record.title for n in kb.of_kind(NodeKind.FAMILY)}


def report_pdf(
    kb: Any,
    store: Any,
    *,
    out: Path,
    now: datetime,
    assessment: str | None = None,
    options: Options | None = None,
    variant: str | None = None,
    attach: bool = False,
    templates: Path | None = None,
    fetcher: Any = None,
) -> Result:
    """Write the PDF report of a stored assessment to ``out``."""
    from compliance.paths import templates_dir
    from compliance.report.assets import SafeFetcher
    from compliance.report.render import Attachment, render_html, write_pdf

    tdir = templates or templates_dir()
    a, model = build(kb, store, now=now, assessment=assessment, options=options)
    html = render_html(model, templates=tdir, family_titles=family_titles(kb))
    atts: list[Attachment] = []
    if attach:
        from compliance.oscal import assessment_results, dumps

        atts = [
            Attachment(AR_NAME, dumps(assessment_results(a)), f"OSCAL 1.1.3 assessment results of {a.id}"),
            Attachment(CSV_NAME, findings_csv(a), f"every open failing finding of {a.id} (CSV)"),
        ]
    fetcher = fetcher or SafeFetcher(tdir)
    ident = a.id
    del a, model
    # WeasyPrint allocates millions of short-lived objects; keep the garbage collector from walking the KB and
    # what the caller holds on every pass (frozen objects are left alone; unfrozen again when done)
    gc.collect()
    gc.freeze()
    try:
        pages = write_pdf(html, out, templates=tdir, now=now, variant=variant, attachments=atts, fetcher=fetcher)
    finally:
        gc.unfreeze()
    return Result(out=out, pages=pages, assessment_id=ident, attachments=[x.name for x in atts], refused=list(fetcher.refused))


__all__ = ["AR_NAME", "CSV_NAME", "Options", "Report", "Result", "build", "findings_csv", "from_assessment", "report_pdf"]
