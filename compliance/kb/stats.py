"""Counts and coverage figures of the loaded KB (``sckb kb stats``).

Everything is computed from the loaded records and edges (no graph build), so the
figures are cheap and the table and the JSON come from the same dictionary.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, TypedDict, cast

from compliance.kb.load import KB
from compliance.kb.model import Baseline, EdgeKind, Mitigation, NodeKind, Risk, Rule

#: Guidance text that says "nothing here" rather than giving provider guidance.
_NO_GUIDANCE = ("n/a", "na", "none", "not applicable", "-", "tbd", "todo")


class Figure(TypedDict):
    count: int
    total: int
    share: float


class RiskFigure(Figure):
    unlinked: list[str]


class BaselineFigure(Figure):
    id: str
    title: str
    framework: str


class RuleFigure(TypedDict):
    tool: str
    mapped: int
    not_applicable: int
    total: int
    share: float


class FrameworkFigures(TypedDict):
    """A framework's safeguards reached by mitigations: directly, and directly or through the crosswalk."""

    direct: Figure
    direct_or_crosswalk: Figure


class Coverage(TypedDict):
    """The fixed coverage figures. Each framework of the KB adds its :class:`FrameworkFigures` under its id
    (``coverage["hipaa"]``, after these keys): read them with :func:`framework_figures`."""

    risks: dict[str, RiskFigure]
    mitigations_with_all_providers: Figure
    control_links_complete: Figure
    controls_reached: Figure
    baselines: list[BaselineFigure]
    rules: list[RuleFigure]


class KBStats(TypedDict):
    nodes: dict[str, int]
    edges: dict[str, int]
    coverage: Coverage


def framework_figures(s: KBStats, framework_id: str) -> FrameworkFigures:
    """The figures of one framework (a key TypedDict cannot declare: framework ids are data)."""
    return cast("dict[str, FrameworkFigures]", s["coverage"])[framework_id]


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _figure(part: int, whole: int) -> Figure:
    return Figure(count=part, total=whole, share=_share(part, whole))


def stats(kb: KB) -> KBStats:
    """Node and edge counts per kind, and the coverage figures of the curated mappings."""
    node_counts = Counter(n.kind.value for n in kb.nodes.values())
    edge_counts = Counter(e.kind.value for e in kb.edges.values())
    out_edges: dict[str, list[Any]] = defaultdict(list)
    for e in kb.edges.values():
        out_edges[e.source].append(e)

    def kind_of(node_id: str) -> NodeKind | None:
        entry = kb.nodes.get(node_id)
        return entry.kind if entry else None

    # risks: mitigated directly, or (OWASP) through a corresponding mitigated risk
    mitigated = {e.source for e in kb.edges.values() if e.kind is EdgeKind.MITIGATED_BY}
    corr: dict[str, set[str]] = defaultdict(set)
    for e in kb.edges.values():
        if e.kind is EdgeKind.CORRESPONDS_TO:
            corr[e.source].add(e.target)
            corr[e.target].add(e.source)
    by_taxonomy: dict[str, list[str]] = defaultdict(list)
    linked: dict[str, list[str]] = defaultdict(list)
    for entry in kb.of_kind(NodeKind.RISK):
        rec = entry.record
        assert isinstance(rec, Risk)
        by_taxonomy[rec.taxonomy].append(entry.id)
        if entry.id in mitigated or any(o in mitigated for o in corr[entry.id]):
            linked[rec.taxonomy].append(entry.id)
    risks = {
        tax: RiskFigure(**_figure(len(linked[tax]), len(ids)), unlinked=sorted(set(ids) - set(linked[tax])))
        for tax, ids in sorted(by_taxonomy.items())
    }

    # mitigations with guidance for all three providers
    mitigations = kb.of_kind(NodeKind.MITIGATION)
    full = 0
    for entry in mitigations:
        rec = entry.record
        assert isinstance(rec, Mitigation)
        texts = (rec.guidance.aws, rec.guidance.gcp, rec.guidance.azure)
        if all(t.strip() and t.strip().casefold().rstrip(".") not in _NO_GUIDANCE for t in texts):
            full += 1

    # mitigation -> control links, and which controls / safeguards they reach
    control_links = [e for e in kb.edges.values() if e.kind is EdgeKind.MAPS_TO and kind_of(e.target) is NodeKind.CONTROL]
    reached_controls = {e.target for e in control_links}
    complete_links = sum(1 for e in control_links if e.relationship and e.rationale and e.ref)
    baselines: list[BaselineFigure] = []
    for entry in sorted(kb.of_kind(NodeKind.BASELINE), key=lambda n: n.id):
        rec = entry.record
        assert isinstance(rec, Baseline)
        members = set(rec.members)
        hit = len(members & reached_controls)
        baselines.append(BaselineFigure(id=rec.id, title=rec.title, framework=rec.framework, **_figure(hit, len(members))))

    # scanner rules per tool
    per_tool: dict[str, Counter[str]] = defaultdict(Counter)
    for entry in kb.of_kind(NodeKind.RULE):
        rec = entry.record
        assert isinstance(rec, Rule)
        c = per_tool[rec.tool]
        c["total"] += 1
        if rec.mitigations:
            c["mapped"] += 1
        elif rec.not_applicable:
            c["not_applicable"] += 1
    rules = [
        RuleFigure(
            tool=tool,
            mapped=c["mapped"],
            not_applicable=c["not_applicable"],
            total=c["total"],
            share=_share(c["mapped"], c["total"]),
        )
        for tool, c in sorted(per_tool.items())
    ]

    # each framework's safeguards: directly by a mitigation, or through the crosswalk to a reached control
    frameworks: dict[str, FrameworkFigures] = {}
    for fw in kb.frameworks:
        safeguards = {n.id for n in kb.framework_items(fw)}
        direct = {e.target for e in kb.edges.values() if e.kind is EdgeKind.MAPS_TO and e.target in safeguards}
        via = {
            e.source
            for e in kb.edges.values()
            if e.kind is EdgeKind.CROSSWALK and e.source in safeguards and e.target in reached_controls
        }
        frameworks[fw] = FrameworkFigures(
            direct=_figure(len(direct), len(safeguards)), direct_or_crosswalk=_figure(len(direct | via), len(safeguards))
        )
    coverage = Coverage(
        risks=risks,
        mitigations_with_all_providers=_figure(full, len(mitigations)),
        control_links_complete=_figure(complete_links, len(control_links)),
        controls_reached=_figure(len(reached_controls), node_counts.get(NodeKind.CONTROL.value, 0)),
        baselines=baselines,
        rules=rules,
    )
    cast("dict[str, object]", coverage).update(frameworks)  # keyed by framework id, after the fixed figures
    return KBStats(nodes=dict(sorted(node_counts.items())), edges=dict(sorted(edge_counts.items())), coverage=coverage)


__all__ = ["Coverage", "Figure", "FrameworkFigures", "KBStats", "framework_figures", "stats"]
