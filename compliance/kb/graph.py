"""The KB as a networkx ``DiGraph``.

Nodes carry ``kind``, ``title`` and the record's scalar fields; edges carry
``kind`` and, for mapping edges, ``relationship``, ``rationale`` and ``source``.
Edges are stored in their curated orientation (see :mod:`compliance.kb.model`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import networkx as nx

from compliance.kb.entries import EdgeEntry, NodeEntry
from compliance.kb.model import EdgeKind, NodeKind, Responsibility


class GraphSource(Protocol):
    """What the graph is built from: :class:`compliance.kb.core.KB` (which builds its graph with this
    module, so it is named here by its shape only)."""

    @property
    def nodes(self) -> Mapping[str, NodeEntry]: ...

    @property
    def edges(self) -> Mapping[tuple[str, str, str], EdgeEntry]: ...

    def party(self, control_id: str) -> Responsibility | None: ...


#: Orientation "toward frameworks" used for explanation paths: (edge kind, reversed?).
EXPLAIN_ORIENTATION: dict[EdgeKind, bool] = {
    EdgeKind.INDICATES: False,  # cwe -> risk
    EdgeKind.EVIDENCES: False,  # rule -> mitigation
    EdgeKind.MITIGATED_BY: False,  # risk -> mitigation
    EdgeKind.IMPLEMENTED_BY: False,  # strategy -> mitigation
    EdgeKind.MAPS_TO: False,  # mitigation -> control / safeguard
    EdgeKind.MEMBER_OF: False,  # control -> baseline
    EdgeKind.CROSSWALK: True,  # safeguard -> control, read as control -> safeguard
}

_SCALAR_FIELDS = (
    "framework",
    "family",
    "parent",
    "withdrawn",
    "phase",
    "taxonomy",
    "tool",
    "rule_id",
    "severity",
    "evidence",
    "type",
    "section",
    "requirement",
    "publication",
    "confirmed",
    "description",
    "not_applicable",
)


def node_attrs(kb: GraphSource, node_id: str) -> dict[str, Any]:
    entry = kb.nodes[node_id]
    rec = entry.record
    attrs: dict[str, Any] = {"kind": entry.kind.value, "title": rec.title}
    for name in _SCALAR_FIELDS:
        value = getattr(rec, name, None)
        if value is not None and value != "":
            attrs[name] = value
    nature = getattr(rec, "nature", None)
    if nature:  # a mitigation's nature: a list, exported as one comma-separated value
        attrs["nature"] = ",".join(nature)
    if entry.kind is NodeKind.CONTROL:
        resp = kb.party(node_id)
        if resp is not None:
            attrs["responsibility"] = resp.party
    return attrs


def build_graph(kb: GraphSource) -> nx.DiGraph:
    g: nx.DiGraph = nx.DiGraph()
    for node_id in kb.nodes:
        g.add_node(node_id, **node_attrs(kb, node_id))
    for e in kb.edges.values():
        if e.source not in kb.nodes or e.target not in kb.nodes:
            continue  # dangling: reported by validation, kept out of the graph
        attrs: dict[str, Any] = {"kind": e.kind.value}
        if e.relationship:
            attrs["relationship"] = e.relationship
        if e.rationale:
            attrs["rationale"] = e.rationale
        if e.ref:
            attrs["source"] = e.ref
        if e.confidence:
            attrs["confidence"] = e.confidence
        if e.parts:
            attrs["parts"] = list(e.parts)
        g.add_edge(e.source, e.target, **attrs)
    return g


def explain_graph(g: nx.DiGraph) -> nx.DiGraph:
    """A view of ``g`` where every edge points from evidence/risk toward frameworks."""
    out: nx.DiGraph = nx.DiGraph()
    out.add_nodes_from(g.nodes(data=True))
    for u, v, data in g.edges(data=True):
        kind = EdgeKind(data["kind"])
        if kind not in EXPLAIN_ORIENTATION:
            continue
        if EXPLAIN_ORIENTATION[kind]:
            u, v = v, u
        out.add_edge(u, v, **data)
    return out
