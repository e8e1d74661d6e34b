"""Assessment dashboard pages (``sckb site build --assessment ID``).

Built from :class:`compliance.assess.Assessment`: the status per family and per control, the
open findings and the POA&M. Finding titles, messages and subjects come from scanner output, so
they are escaped like every KB string.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from pathlib import Path

from compliance.assess import load_assessment as load
from compliance.assess.model import Assessment, ControlResult, PoamItem, SafeguardResult
from compliance.assess.render import determined_items, status_label
from compliance.evidence.store import Store
from compliance.kb import query
from compliance.kb import status as rules
from compliance.kb.core import KB
from compliance.site.escape import attr, md
from compliance.site.pages import NavItem, Page, PageMaker, slug
from compliance.vocab import poam_id

#: Findings per page of the findings list.
FINDINGS_PER_PAGE = 100


def _rating(p: PoamItem) -> str:
    """Original rating, and the adjusted one after an arrow (the severity when the item has no triage)."""
    if p.triage is None:
        return md(p.severity)
    t = p.triage
    return md(t.original_rating) + (f" &rarr; {md(t.adjusted_rating)}" if t.adjusted_rating else "")


def _deviations(p: PoamItem) -> str:
    """``risk-adjustment approved, operational-requirement pending`` (empty: none requested)."""
    return ", ".join(f"{k} {v}" for k, v in sorted(p.triage.deviations.items())) if p.triage else ""


def load_assessment(workspace: Path, assessment_id: str, kb: KB) -> Assessment:
    """The stored assessment ``assessment_id`` (an id, a unique prefix or ``latest``) of the workspace."""
    with Store.open(workspace, create=False) as store:
        return load(store, None if assessment_id == "latest" else assessment_id)


def status_section(gen: PageMaker, page: Page, a: Assessment, node_id: str) -> list[str]:
    """A control's or framework item's status in the assessment, for its page: the final status, and when an
    assessor determined it, the derived status beside it with who, when and why (empty when not assessed)."""
    item: ControlResult | SafeguardResult | None = a.controls.get(node_id) or a.safeguards.get(node_id)
    if item is None:
        return []
    out = [f"## Status in assessment {md(a.id)}", ""]
    d = item.determination
    if d is None:
        out += [f"**{md(item.status)}**: {md(item.reason)}", ""]
    out += _evidence_rows(gen, page, item)
    if d is None:
        return out
    derived = item.derived_status or rules.NOT_ASSESSED
    out += [
        f"**{md(item.status)}**, determined by an assessor; the evidence alone gives **{md(derived)}** ({md(item.reason)}).",
        "",
    ]
    rows = [
        ["Determined by", f"{md(d.by)} ({md(d.role)})"],
        ["Date", md(d.date)],
        ["Methods", md(", ".join(d.methods))],
        ["Rationale", md(d.rationale)],
        ["Recorded via", md(d.source)],
    ]
    out += gen.table(page, ["Determination", "Value"], rows)
    return out


def _evidence_rows(gen: PageMaker, page: Page, item: ControlResult | SafeguardResult) -> list[str]:
    """The evidence behind an item's status: determinative links (they decide, status rule 2), then related
    evidence (shown, never deciding), each with its own status."""
    rows: list[list[str]] = []
    for m in item.mitigations:
        kind = "determinative" if m.determinative else "related"
        rows.append([gen.link(page, m.id), kind, f"**{md(m.status)}**", md(m.relationship or "")])
    for r in item.related:
        rows.append([gen.link(page, r.id), f"related ({md(r.via)})", f"**{md(r.status)}**", md(r.relationship or "")])
    if not rows:
        return []
    return ["**Evidence**", "", *gen.table(page, ["through", "weight", "status", "relationship"], rows)]


def _tiles(statuses: list[str], counts: dict[str, int]) -> list[str]:
    """One coloured tile per status with its count (colours from the site's stylesheet)."""
    tiles = "".join(
        f'<div class="sckb-tile sckb-status--{escape(s)}"><b>{counts.get(s, 0)}</b>{escape(s)}</div>' for s in statuses
    )
    return [f'<div class="sckb-tiles">{tiles}</div>']


def _select(name: str, label: str, values: list[str]) -> str:
    opts = "".join(f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)
    return f'<label>{escape(label)}<select name="{name}"><option value="">all</option>{opts}</select></label>'


def _filtered_controls(gen: PageMaker, page: Page, a: Assessment, statuses: list[str]) -> list[str]:
    """Every assessed control in one table, with a filter bar (family, status, framework scope, text) that the
    site's script (``assets/javascripts/sckb.js``) applies in the browser; without scripts the whole table shows."""
    results = sorted(a.controls.values(), key=lambda r: query.control_sort_key(r.id))
    families = sorted({gen.family_of(r.id) for r in results}, key=query.control_sort_key)
    scopes = sorted({s for r in results for s in r.scopes})
    form = (
        '<form class="sckb-filters" data-table="next">'
        + _select("family", "Family", families)
        + _select("status", "Status", [s for s in statuses if any(r.status == s for r in results)])
        + _select("scope", "Framework", scopes)
        + '<label>Text<input name="q" type="search" placeholder="id or title"></label>'
        + '<span class="sckb-count"></span></form>'
    )
    rows = [
        [
            gen.link(page, r.id),
            md(r.title),
            f"**{md(r.status)}**",
            md(gen.family_of(r.id)),
            md(", ".join(r.scopes)),
            md(r.party or ""),
        ]
        for r in results
    ]
    table = gen.table(page, ["control", "title", "status", "family", "scopes", "responsibility"], rows)
    # the filter reads each row's data attributes (escaped: they are data)
    attrs = iter(
        f'<tr data-family="{escape(gen.family_of(r.id))}" data-status="{escape(r.status)}" '
        f'data-scope="{escape(" ".join(r.scopes))}">'
        for r in results
    )
    body_start = table.index("<tbody>")
    table = table[:body_start] + [next(attrs) if line == "<tr>" else line for line in table[body_start:]]
    return [form, "", *table]


def dashboard_pages(gen: PageMaker, a: Assessment) -> list[NavItem]:
    statuses: list[str] = list(rules.STATUSES)
    nav: list[NavItem] = []
    home = gen.new_page("assessment/index.md", f"Assessment {a.id}")
    home.add(f"# Assessment {md(a.id)}", "")
    home.add(
        f"Assessed at {md(a.now)} over the scopes {md(', '.join(a.scopes))}; evidence counts when collected between "
        f"{md(a.window_start)} and {md(a.now)} ({a.max_age_days} days).",
        "",
    )
    counts = a.counts()
    total = sum(counts.values())
    home.add(
        *gen.table(
            home,
            ["status", "controls", "share"],
            [[md(s), str(counts.get(s, 0)), f"{counts.get(s, 0) / total:.1%}" if total else "0%"] for s in statuses],
        )
    )
    home.add(
        f"{len(a.findings)} open failing findings, {len(a.poam)} POA&amp;M items, {len(a.files)} evidence files, "
        f"{len(a.unmapped)} unmapped failing findings.",
        "",
    )
    home.add(*_tiles(statuses, counts), "")
    home.add("## Every control", "", *_filtered_controls(gen, home, a, statuses))
    nav.append(home.path)

    # status per family
    by_family: dict[str, list[ControlResult]] = defaultdict(list)
    for cid, result in a.controls.items():
        by_family[gen.family_of(cid)].append(result)
    fam_page = gen.new_page("assessment/families.md", "Status per family")
    fam_page.add("# Status per family", "")
    rows = []
    fam_nav: list[NavItem] = []
    for fam in sorted(by_family):
        results = sorted(by_family[fam], key=lambda r: query.control_sort_key(r.id))
        c = {s: 0 for s in statuses}
        for r in results:
            c[r.status] = c.get(r.status, 0) + 1
        cpage = gen.new_page(f"assessment/controls/{slug(fam)}.md", f"{fam} control status")
        fam_title = gen.title(fam) if fam in gen.g else fam
        cpage.add(f"# {md(fam)} {md(fam_title)}: control status", "")
        body = []
        for r in results:
            # determinative links decide; related ones are shown, marked, never deciding (status rule 2)
            mits = ", ".join(
                f"{gen.link(cpage, m.id)} ({md(m.status)}{'' if m.determinative else ', related'})" for m in r.mitigations
            )
            why = md(r.reason) + "".join(f"; needs review: {md(x)}" for x in r.review)
            det = r.determination
            if det is not None:  # the assessor's reason first; the evidence's beside it
                why = md(f"determined by {det.by} ({det.role}, {det.date[:10]}): {det.rationale}") + f"; evidence: {why}"
            covered = f"{len(r.covered)}/{len(r.parts)}" if r.parts and r.party != "provider" else ""
            shown = f"**{md(r.status)}**" + (f" {md(status_label(r)[len(r.status) :].strip())}" if r.determination else "")
            body.append([gen.link(cpage, r.id), md(r.title), shown, why, covered, md(r.party or ""), mits])
        cpage.add(
            *gen.table(cpage, ["control", "title", "status", "why", "parts covered", "responsibility", "mitigations"], body)
        )
        rows.append([gen.page_link(fam_page, cpage.path, fam), md(fam_title), *(str(c.get(s, 0)) for s in statuses)])
        fam_nav.append({attr(f"{fam} {fam_title}"): cpage.path})
    fam_page.add(*gen.table(fam_page, ["family", "title", *statuses], rows))
    nav.append({"Status per family": [fam_page.path, *fam_nav]})

    # assessors' determinations (issue 21)
    determined = determined_items(a)
    if determined:
        dpage = gen.new_page("assessment/determinations.md", "Assessor determinations")
        dpage.add("# Assessor determinations", "")
        dpage.add(
            "Each determination sets the status of its item; the derived status is what the evidence alone gives. "
            "The latest determination per item made no later than the assessment's clock applies.",
            "",
        )
        body = []
        for x in determined:
            d = x.determination
            if d is None:
                continue
            body.append(
                [
                    gen.link(dpage, x.id),
                    f"**{md(x.status)}**",
                    md(x.derived_status or rules.NOT_ASSESSED),
                    f"{md(d.by)} ({md(d.role)})",
                    md(d.date),
                    md(", ".join(d.methods)),
                    md(d.rationale),
                ]
            )
        dpage.add(*gen.table(dpage, ["item", "status", "derived", "by (role)", "date", "methods", "rationale"], body))
        nav.append({"Assessor determinations": dpage.path})

    # findings
    findings = sorted(a.findings.values(), key=lambda f: (f.tool, f.rule_id, f.identity))
    chunks = [findings[i : i + FINDINGS_PER_PAGE] for i in range(0, len(findings), FINDINGS_PER_PAGE)] or [[]]
    find_nav: list[NavItem] = []
    for n, chunk in enumerate(chunks, 1):
        path = "assessment/findings.md" if n == 1 else f"assessment/findings-{n}.md"
        fpage = gen.new_page(path, "Open findings" if n == 1 else f"Open findings ({n})")
        fpage.add("# Open findings" + (f" ({n})" if n > 1 else ""), "")
        if not chunk:
            fpage.add("No open failing findings in this assessment.", "")
        body = []
        for f in chunk:
            where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or "")
            body.append(
                [
                    gen.link(fpage, f.rule, f.rule),
                    md(f.title or ""),
                    md(f.severity or ""),
                    md(f.subject or f.resource or f.function or ""),
                    md(where),
                    md(f.first_seen),
                    ", ".join(gen.link(fpage, m) for m in f.mitigations),
                    ", ".join(gen.link(fpage, c) for c in f.controls),
                ]
            )
        if body:
            fpage.add(
                *gen.table(
                    fpage, ["rule", "title", "severity", "subject", "where", "first seen", "mitigations", "controls"], body
                )
            )
        find_nav.append({attr(fpage.title): path})
    nav.extend(find_nav)

    # POA&M (issue 22: the triage columns, then the closed items)
    ppage = gen.new_page("assessment/poam.md", "POA&M")
    ppage.add("# Plan of action and milestones", "")
    if not a.poam:
        ppage.add("Nothing open: no POA&amp;M items.", "")
    else:
        body = [
            [
                gen.link(ppage, p.rule, poam_id(p.rule)),
                md(p.title),
                _rating(p),
                md(p.triage.status if p.triage else "open"),
                md(_deviations(p)),
                md(p.first_seen),
                md(p.due) + (" **overdue**" if p.overdue else ""),
                str(len(p.findings)),
                ", ".join(gen.link(ppage, c) for c in p.controls),
            ]
            for p in a.poam
        ]
        cols = ["POAM ID", "title", "rating", "status", "deviation", "first seen", "due", "findings", "controls"]
        ppage.add(*gen.table(ppage, cols, body))
    if a.closed_poam:
        ppage.add("## Closed items", "")
        closed = [
            [
                gen.link(ppage, p.rule, poam_id(p.rule)),
                md(p.title),
                _rating(p),
                md(p.first_seen),
                md((p.triage.closed or "") if p.triage else ""),
                md((p.triage.closure or "") if p.triage else ""),
            ]
            for p in a.closed_poam
        ]
        ppage.add(*gen.table(ppage, ["POAM ID", "title", "rating", "first seen", "closed", "why"], closed))
    nav.append({"POA&amp;M": ppage.path})
    return nav
