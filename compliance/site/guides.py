"""Guides a reader with a situation can follow, and the edition page (issue 23).

The site's catalogue pages answer "what is X"; these pages answer "I run Y, what applies". Their short
texts are ours, in ``site/guides.yaml``; everything they list comes from the KB graph:

- one page per deployment scenario: its risks (the risks' ``scenarios`` tags, or while no risk carries
  one, the risks whose text holds one of the scenario's words), the mitigations of those risks in phase
  order, the controls each mitigation evidences and its guidance per provider;
- one page per lifecycle phase (the mitigations' ``phase``): its mitigations, the risks they treat and
  the controls they evidence;
- serverless against containers or VMs, each aspect beside the shared-responsibility entries of its
  controls;
- the edition page: the KB's version, content fingerprint and date, and a changelog of the mappings
  (against a previous ``sckb kb export --format json`` when one is given, else the mapping counts).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from compliance.errors import InputError
from compliance.kb.load import KB
from compliance.kb.model import MAPPING_EDGES, EdgeKind, NodeKind
from compliance.site.escape import attr, md
from compliance.site.pages import NavItem, Page, PageMaker, natural_key

#: Labels of per-provider texts, in the order shown.
PROVIDERS = (("aws", "AWS"), ("gcp", "Google Cloud"), ("azure", "Azure"))


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    intro: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Phase:
    id: str
    title: str
    intro: str


@dataclass(frozen=True)
class Aspect:
    aspect: str
    serverless: str
    hosts: str
    controls: tuple[str, ...]


@dataclass(frozen=True)
class GuideText:
    scenarios: tuple[Scenario, ...] = ()
    phases: tuple[Phase, ...] = ()
    comparison_intro: str = ""
    aspects: tuple[Aspect, ...] = ()


@dataclass
class Edition:
    """What the edition page says: version, build date, and a previous export to compare with."""

    version: str = ""
    built: str = ""
    previous: bytes | None = None
    previous_name: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def load_guide_text(path: Path) -> GuideText:
    """``site/guides.yaml``; a missing file gives no guides, a malformed one a one-line error."""
    if not path.is_file():
        return GuideText()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        comparison = doc.get("comparison", {})
        return GuideText(
            scenarios=tuple(
                Scenario(str(s["id"]), str(s["title"]), str(s["intro"]), tuple(str(w).casefold() for w in s.get("words", ())))
                for s in doc.get("scenarios", ())
            ),
            phases=tuple(Phase(str(p["id"]), str(p["title"]), str(p["intro"])) for p in doc.get("phases", ())),
            comparison_intro=str(comparison.get("intro", "")),
            aspects=tuple(
                Aspect(str(a["aspect"]), str(a["serverless"]), str(a["hosts"]), tuple(str(c) for c in a.get("controls", ())))
                for a in comparison.get("aspects", ())
            ),
        )
    except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"guide text is malformed: {exc}", path=path) from exc


def _ids(g: Any, kind: NodeKind) -> list[str]:
    return sorted((n for n, k in g.nodes(data="kind") if k == kind.value), key=natural_key)


def _out(g: Any, node: str, kind: EdgeKind) -> list[str]:
    return sorted((v for _, v, k in g.out_edges(node, data="kind") if k == kind.value), key=natural_key)


def _in(g: Any, node: str, kind: EdgeKind) -> list[str]:
    return sorted((u for u, _, k in g.in_edges(node, data="kind") if k == kind.value), key=natural_key)


def scenario_risks(kb: KB, scenario: Scenario) -> tuple[list[str], bool]:
    """The risks of a scenario, and whether they come from tags (True) or were derived from the words."""
    g = kb.graph
    risks = _ids(g, NodeKind.RISK)
    tagged = [r for r in risks if scenario.id in (g.nodes[r].get("scenarios") or ())]
    if any(g.nodes[r].get("scenarios") for r in risks):
        return tagged, True
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in scenario.words) + r")", re.I) if scenario.words else None
    derived = [
        r
        for r in risks
        if pattern is not None and pattern.search(f"{g.nodes[r].get('title', '')} {g.nodes[r].get('description', '')}")
    ]
    return derived, False


def _controls_of(g: Any, mitigation: str) -> list[str]:
    return [c for c in _out(g, mitigation, EdgeKind.MAPS_TO) if g.nodes[c]["kind"] == NodeKind.CONTROL.value]


def _phase_order(text: GuideText) -> dict[str, int]:
    return {p.id: n for n, p in enumerate(text.phases)}


def guide_pages(gen: PageMaker, kb: KB, text: GuideText) -> list[NavItem]:
    """The guide pages, written through ``gen``; their nav entries (empty when there is no guide text)."""
    if not text.scenarios and not text.phases and not text.aspects:
        return []
    order = _phase_order(text)
    phase_title = {p.id: p.title for p in text.phases}
    index = gen.new_page("guides/index.md", "Guides")
    index.add("# Guides", "")
    index.add(
        "Start from your situation rather than from the catalogue. Each guide lists what the knowledge base "
        "holds for it: the risks, the mitigations in the order you meet them, the controls they give evidence "
        "for and the guidance per cloud provider.",
        "",
    )
    nav: list[NavItem] = [index.path]
    scen_nav: list[NavItem] = []
    for s in text.scenarios:
        page = gen.new_page(f"guides/scenario-{s.id}.md", s.title)
        page.tags = [s.id]
        _scenario_page(gen, page, kb, s, order, phase_title)
        index.add(f"- {gen.page_link(index, page.path, s.title)}: {md(s.intro.split('. ')[0])}.")
        scen_nav.append({attr(s.title): page.path})
    index.add("")
    phase_nav: list[NavItem] = []
    for p in text.phases:
        page = gen.new_page(f"guides/phase-{p.id}.md", p.title)
        page.tags = [p.id]
        _phase_page(gen, page, kb, p)
        index.add(f"- {gen.page_link(index, page.path, p.title)} (phase `{md(p.id)}`)")
        phase_nav.append({attr(p.title): page.path})
    index.add("")
    if scen_nav:
        nav.append({"By deployment scenario": scen_nav})
    if phase_nav:
        nav.append({"By lifecycle phase": phase_nav})
    if text.aspects:
        page = gen.new_page("guides/serverless-vs-containers.md", "Serverless or containers and VMs")
        _comparison_page(gen, page, kb, text)
        index.add(f"- {gen.page_link(index, page.path, page.title)}", "")
        nav.append({"Serverless or containers and VMs": page.path})
    return nav


def _provider_cells(g: Any, mitigation: str) -> list[str]:
    guidance = g.nodes[mitigation].get("guidance") or {}
    return [md(guidance.get(key, "")) for key, _ in PROVIDERS]


def _scenario_page(gen: PageMaker, page: Page, kb: KB, s: Scenario, order: dict[str, int], phase_title: dict[str, str]) -> None:
    g = kb.graph
    risks, tagged = scenario_risks(kb, s)
    page.add(f"# {md(s.title)}", "", md(s.intro), "")
    how = (
        f"Risks tagged with the scenario `{md(s.id)}`."
        if tagged
        else "No risk in the knowledge base carries a scenario tag yet, so these risks were chosen by the words in "
        f"their title or description ({md(', '.join(s.words))})."
    )
    page.add("## Risks", "", how, "")
    if not risks:
        page.add("None.", "")
        return
    page.add(
        *gen.table(
            page,
            ["risk", "title", "mitigations"],
            [[gen.link(page, r), md(gen.title(r)), str(len(_out(g, r, EdgeKind.MITIGATED_BY)))] for r in risks],
        )
    )
    mitigations = sorted(
        {m for r in risks for m in _out(g, r, EdgeKind.MITIGATED_BY)},
        key=lambda m: (order.get(str(g.nodes[m].get("phase")), len(order)), natural_key(m)),
    )
    page.add("## Mitigations in phase order", "")
    page.add(
        "What to do, phase by phase, with the SP 800-53 controls each mitigation gives evidence for and what to "
        "configure on each provider.",
        "",
    )
    phase = None
    for m in mitigations:
        ph = str(g.nodes[m].get("phase", ""))
        if ph != phase:
            phase = ph
            page.add(f"### {md(phase_title.get(ph, ph))}", "")
        treats = [r for r in _in(g, m, EdgeKind.MITIGATED_BY) if r in risks]
        page.add(f"**{gen.link(page, m, gen.title(m))}** (treats {', '.join(gen.link(page, r) for r in treats)})", "")
        controls = _controls_of(g, m)
        rows = [[label, cell] for (_, label), cell in zip(PROVIDERS, _provider_cells(g, m), strict=True) if cell]
        rows.append(["Controls", ", ".join(gen.link(page, c) for c in controls) or "none mapped"])
        page.add(*gen.table(page, ["", "what to do"], rows))


def _phase_page(gen: PageMaker, page: Page, kb: KB, p: Phase) -> None:
    g = kb.graph
    mitigations = [m for m in _ids(g, NodeKind.MITIGATION) if g.nodes[m].get("phase") == p.id]
    page.add(f"# {md(p.title)}", "", md(p.intro), "")
    page.add(f"{len(mitigations)} mitigations have the lifecycle phase `{md(p.id)}`.", "")
    rows = [
        [
            gen.link(page, m, gen.title(m)),
            ", ".join(gen.link(page, r) for r in _in(g, m, EdgeKind.MITIGATED_BY)),
            ", ".join(gen.link(page, c) for c in _controls_of(g, m)),
        ]
        for m in mitigations
    ]
    page.add(*gen.table(page, ["mitigation", "risks treated", "controls evidenced"], rows))


def _comparison_page(gen: PageMaker, page: Page, kb: KB, text: GuideText) -> None:
    page.add("# Serverless or containers and VMs", "", md(text.comparison_intro), "")
    rows = []
    for a in text.aspects:
        recorded = []
        for c in a.controls:
            if c not in kb.nodes:
                continue
            resp = kb.party(c)
            recorded.append(f"{gen.link(page, c)}: **{md(resp.party)}**" if resp else f"{gen.link(page, c)}: not recorded")
        rows.append([f"**{md(a.aspect)}**", md(a.serverless), md(a.hosts), "; ".join(recorded)])
    page.add(*gen.table(page, ["aspect", "serverless (FaaS)", "containers or VMs", "on FaaS, per this KB"], rows))
    page.add(
        f"The parties come from the {gen.page_link(page, 'responsibility.md', 'shared-responsibility data')}: a control "
        "takes its own entry, else its parent's, else its family's.",
        "",
    )


# ----------------------------------------------------------------------------- edition and changelog


def fingerprint(export: bytes) -> str:
    """A short content id of the KB (of its JSON export): two builds of the same data show the same one."""
    return hashlib.sha256(export).hexdigest()[:12]


def _mapping_rows(doc: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    kinds = {k.value for k in MAPPING_EDGES}
    return {
        (str(e["from"]), str(e["to"]), str(e["kind"])): str(e.get("relationship") or "")
        for e in doc.get("edges", ())
        if e.get("kind") in kinds
    }


def edition_page(gen: PageMaker, export: bytes, edition: Edition) -> Page:
    page = gen.new_page("edition.md", "Edition and changes")
    doc = orjson.loads(export)
    page.add("# Edition and changes", "")
    facts = [
        ["sckb version", md(edition.version or "unknown")],
        ["KB content fingerprint", f"`{fingerprint(export)}` (SHA-256 of `sckb kb export --format json`, first 12 digits)"],
        ["Built", md(edition.built or "not dated")],
        ["Nodes", str(len(doc.get("nodes", ())))],
        ["Mappings", str(len(_mapping_rows(doc)))],
    ]
    page.add(*gen.table(page, ["", "value"], facts))
    current = _mapping_rows(doc)
    if edition.previous is not None:
        try:
            old = _mapping_rows(orjson.loads(edition.previous))
        except orjson.JSONDecodeError as exc:
            raise InputError(f"not a `kb export --format json` file: {exc}", path=edition.previous_name) from exc
        added = sorted(set(current) - set(old), key=lambda k: (natural_key(k[0]), natural_key(k[1])))
        removed = sorted(set(old) - set(current), key=lambda k: (natural_key(k[0]), natural_key(k[1])))
        changed = sorted(
            (k for k in set(current) & set(old) if current[k] != old[k]), key=lambda k: (natural_key(k[0]), natural_key(k[1]))
        )
        page.add("## Changes since the previous edition", "")
        page.add(
            f"Compared with {md(edition.previous_name or 'the previous export')}: {len(added)} mappings added, "
            f"{len(removed)} removed, {len(changed)} with a changed relationship.",
            "",
        )
        rows = [[md(a), md(b), f"`{md(k)}`", "added", f"`{md(current[(a, b, k)])}`"] for a, b, k in added]
        rows += [[md(a), md(b), f"`{md(k)}`", "removed", f"`{md(old[(a, b, k)])}`"] for a, b, k in removed]
        rows += [
            [md(a), md(b), f"`{md(k)}`", "changed", f"`{md(old[(a, b, k)])}` → `{md(current[(a, b, k)])}`"] for a, b, k in changed
        ]
        if rows:
            page.add(*gen.table(page, ["from", "to", "edge", "change", "relationship"], rows[:500]))
            if len(rows) > 500:
                page.add(f"(and {len(rows) - 500} more; compare the two exports for the full list)", "")
    else:
        page.add("## Mappings in this edition", "")
        page.add(
            "No previous edition was given (`sckb site build --previous OLD.json`, an earlier "
            "`sckb kb export --format json`), so this lists the mappings by edge and relationship.",
            "",
        )
        counts = Counter((k[2], rel or "(none)") for k, rel in current.items())
        page.add(
            *gen.table(
                page,
                ["edge", "relationship", "mappings"],
                [[f"`{md(k)}`", f"`{md(r)}`", str(n)] for (k, r), n in sorted(counts.items())],
            )
        )
    return page
