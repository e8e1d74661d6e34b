"""Whole-KB checks that need every file loaded: references, coverage, orphans."""

from __future__ import annotations

from collections import defaultdict

from compliance.kb.core import KB
from compliance.kb.designdata import check_design_data
from compliance.kb.entries import Problem
from compliance.kb.model import EDGE_ENDPOINTS, Control, EdgeKind, NodeKind, Rule, Safeguard
from compliance.kb.rigor import check_rigor

#: Node kinds that are curated mappings: each must be connected to something.
_CURATED_KINDS = (NodeKind.RISK, NodeKind.MITIGATION, NodeKind.STRATEGY, NodeKind.RULE, NodeKind.CWE)


def check_references(kb: KB) -> None:
    """Dangling ids, wrong endpoint kinds, responsibility targets. Run by :func:`load`."""
    for edge in list(kb.edges.values()):
        o = edge.origin
        src_kinds, dst_kinds = EDGE_ENDPOINTS[edge.kind]
        for end, allowed in ((edge.source, src_kinds), (edge.target, dst_kinds)):
            node = kb.nodes.get(end)
            if node is None:
                kb.problems.append(Problem(o.file, o.line, f"{edge.kind.value} edge names unknown id {end!r}"))
            elif node.kind not in allowed:
                want = " or ".join(sorted(k.value for k in allowed))
                kb.problems.append(
                    Problem(o.file, o.line, f"{edge.kind.value} edge: {end!r} is a {node.kind.value}, expected {want}")
                )
        target = kb.nodes.get(edge.target)
        withdrawn = target is not None and isinstance(target.record, Control) and target.record.withdrawn
        if edge.kind is EdgeKind.MAPS_TO and withdrawn:
            kb.problems.append(Problem(o.file, o.line, f"maps to withdrawn control {edge.target}", "warning"))
    families = {n.id for n in kb.of_kind(NodeKind.FAMILY)}
    for _key, (resp, o) in kb.responsibility.items():
        if resp.control is not None and resp.control not in kb.nodes:
            kb.problems.append(Problem(o.file, o.line, f"responsibility names unknown control {resp.control!r}"))
        if resp.family is not None and resp.family not in families:
            kb.problems.append(Problem(o.file, o.line, f"responsibility names unknown family {resp.family!r}"))
    for dp, o in kb.design_predicates.values():
        target = kb.nodes.get(dp.mitigation)
        if target is None or target.kind is not NodeKind.MITIGATION:
            kb.problems.append(Problem(o.file, o.line, f"design predicate {dp.id} names unknown mitigation {dp.mitigation!r}"))
    for sg in kb.of_kind(NodeKind.SAFEGUARD):
        assert isinstance(sg.record, Safeguard)
        if sg.record.framework not in kb.frameworks:
            known = ", ".join(sorted(kb.frameworks)) or "none"
            named = "no framework" if sg.record.framework is None else f"unknown framework {sg.record.framework!r}"
            msg = f"safeguard {sg.id} names {named} (known: {known})"
            kb.problems.append(Problem(sg.origin.file, sg.origin.line, msg))
    for entry in kb.of_kind(NodeKind.RULE):
        rec = entry.record
        assert isinstance(rec, Rule)
        o = entry.origin
        if rec.id != f"{rec.tool}:{rec.rule_id}":
            kb.problems.append(Problem(o.file, o.line, f"rule id {rec.id!r} must be '{rec.tool}:{rec.rule_id}'"))
        if not rec.mitigations and not rec.not_applicable:
            kb.problems.append(Problem(o.file, o.line, f"rule {rec.id} maps to no mitigation and gives no not_applicable reason"))
        if rec.mitigations and rec.not_applicable:
            kb.problems.append(Problem(o.file, o.line, f"rule {rec.id} has mitigations and is marked not_applicable"))
        for cwe in rec.cwes:
            if cwe not in kb.nodes:
                kb.problems.append(Problem(o.file, o.line, f"rule {rec.id} names unknown CWE {cwe!r}"))


def check_coverage(kb: KB) -> list[Problem]:
    """Risks without mitigations, mitigations without controls, orphans."""
    out: list[Problem] = []
    outgoing: dict[str, set[EdgeKind]] = defaultdict(set)
    incoming: dict[str, set[EdgeKind]] = defaultdict(set)
    for e in kb.edges.values():
        outgoing[e.source].add(e.kind)
        incoming[e.target].add(e.kind)
    corr: dict[str, set[str]] = defaultdict(set)
    for e in kb.edges.values():
        if e.kind is EdgeKind.CORRESPONDS_TO:
            corr[e.source].add(e.target)
            corr[e.target].add(e.source)
    for entry in kb.of_kind(NodeKind.RISK):
        mitigated = EdgeKind.MITIGATED_BY in outgoing[entry.id] or any(
            EdgeKind.MITIGATED_BY in outgoing[o] for o in corr[entry.id]
        )
        if not mitigated:
            out.append(Problem(entry.origin.file, entry.origin.line, f"risk {entry.id} has no mitigation"))
    mapped = {
        e.source
        for e in kb.edges.values()
        if e.kind is EdgeKind.MAPS_TO and e.target in kb.nodes and kb.nodes[e.target].kind is NodeKind.CONTROL
    }
    for entry in kb.of_kind(NodeKind.MITIGATION):
        if entry.id not in mapped:
            out.append(Problem(entry.origin.file, entry.origin.line, f"mitigation {entry.id} maps to no control"))
    for kind in _CURATED_KINDS:
        for entry in kb.of_kind(kind):
            if isinstance(entry.record, Rule) and entry.record.not_applicable:
                continue  # a rule that states why it maps to nothing is deliberately unlinked (model.Rule)
            if not outgoing[entry.id] and not incoming[entry.id]:
                out.append(Problem(entry.origin.file, entry.origin.line, f"orphan {kind.value} {entry.id}: linked to nothing"))
    return out


def validate(kb: KB) -> list[Problem]:
    """Every problem: load-time ones plus whole-KB coverage checks and the rigor rules of the mapping links
    (:mod:`compliance.kb.rigor`), sorted by file and line."""
    problems = list(kb.problems) + check_coverage(kb) + check_design_data(kb) + check_rigor(kb)
    return sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.message))
