"""The auditor's PDF report: a stored assessment rendered by WeasyPrint from the Jinja2 templates.

>>> from compliance.report import Options, report_pdf
>>> with Store.open(workspace) as store:                                   # doctest: +SKIP
...     res = report_pdf(kb, store, out=Path("report.pdf"), now=now, options=Options(title="..."),
...                      variant="pdf/a-3b", attachments=lambda a: [Attachment("x.csv", data, "...")])
>>> res.pages, res.attachments                                              # doctest: +SKIP

Files to embed (PDF/A-3b) come from the caller as :class:`Attachment` records (bytes, name, description),
made from the loaded assessment: ``sckb report pdf --attach`` builds the OSCAL assessment results with
:mod:`compliance.oscal` and the findings CSV with :func:`findings_csv`. This package imports no other
renderer.

Pieces: :mod:`.model` (the typed report model), :mod:`.build` (``from_assessment``: assessment -> model,
and the findings CSV), :mod:`.charts` (SVG), :mod:`.render` (HTML and PDF), :mod:`.assets` (the URL
fetcher that confines WeasyPrint to the templates folder, and the logo reader).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from compliance.assess import load_assessment
from compliance.assess.catalog import param_ids, profile_values
from compliance.assess.catalog import render as render_statement
from compliance.assess.model import Assessment
from compliance.errors import NotFoundError
from compliance.evidence.store import Store
from compliance.evidence.system import System
from compliance.kb.core import KB
from compliance.kb.model import NodeKind
from compliance.paths import templates_dir
from compliance.report.assets import SafeFetcher
from compliance.report.build import Options, findings_csv, from_assessment, ssp_summary
from compliance.report.model import Report
from compliance.report.render import Attachment, render_html, write_pdf

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
    kb: KB,
    store: Store,
    *,
    now: datetime,
    assessment: str | None = None,
    options: Options | None = None,
    ssp: Path | None = None,
) -> tuple[Assessment, Report]:
    """Load the assessment (latest when ``assessment`` is None) and fill the report model (with the summary of the
    system security plan ``ssp``, when given)."""
    a = load_assessment(store, assessment)
    stored = store.statements()
    stmts = {cid: render_statement(text) for cid, text in stored.items()}
    label, profiled = None, set()
    if a.profile is not None and a.profile.parameters:
        # an assessment of a tailored baseline shows the values its profile sets; the others as imported
        fill = profile_values(a.profile)
        profiled = {cid for cid, text in stored.items() if any(p in fill.values for p in param_ids(text))}
        stmts.update({cid: render_statement(stored[cid], fill) for cid in profiled})
        label = f"{a.profile.title} ({a.profile.file})" if profiled else None
    system = _system(store, a.system)
    model = from_assessment(
        a,
        kb,
        now=now,
        options=options,
        evidence_files=store.files(),
        statements=stmts,
        system=system,
        statement_profile=label,
        profiled=profiled,
    )
    if ssp is not None:
        model.ssp = ssp_summary(ssp)
    return a, model


def _system(store: Store, name: str | None) -> System | None:
    """The assessed system's record; None for a workspace-wide assessment, or when the system was removed since
    (the report then says only its name)."""
    if name is None:
        return None
    try:
        return System.from_json(store.system(name).data)
    except NotFoundError:
        return None


def family_titles(kb: KB) -> dict[str, str]:
    return {n.id: n.record.title for n in kb.of_kind(NodeKind.FAMILY)}


def report_pdf(
    kb: KB,
    store: Store,
    *,
    out: Path,
    now: datetime,
    assessment: str | None = None,
    options: Options | None = None,
    variant: str | None = None,
    attachments: Callable[[Assessment], Sequence[Attachment]] | None = None,
    templates: Path | None = None,
    fetcher: SafeFetcher | None = None,
    ssp: Path | None = None,
) -> Result:
    """Write the PDF report of a stored assessment to ``out``. ``attachments`` makes the files to embed
    from the loaded assessment (a function, so the assessment is loaded once); ``ssp``: a system security plan
    to summarise (section 2)."""
    tdir = templates or templates_dir()
    a, model = build(kb, store, now=now, assessment=assessment, options=options, ssp=ssp)
    html = render_html(model, templates=tdir, family_titles=family_titles(kb))
    atts = list(attachments(a)) if attachments is not None else []
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


__all__ = [
    "AR_NAME",
    "CSV_NAME",
    "Attachment",
    "Options",
    "Report",
    "Result",
    "build",
    "findings_csv",
    "from_assessment",
    "report_pdf",
    "ssp_summary",
]
