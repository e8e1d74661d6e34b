"""The loaded knowledge base (:class:`KB`): records, edges, frameworks, responsibility and the graph.

Filled by :func:`compliance.kb.load.load`; read by everything downstream. It imports the graph builder
(not the other way round: :mod:`compliance.kb.graph` only needs the shape of a KB, a Protocol).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.kb.entries import EdgeEntry, NodeEntry, Origin, Problem
from compliance.kb.graph import build_graph
from compliance.kb.model import Assurance, Control, DesignPredicate, Framework, Node, NodeKind, Responsibility, Safeguard


@dataclass
class KB:
    """The loaded knowledge base: records, edges, frameworks, responsibility and the graph."""

    nodes: dict[str, NodeEntry] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], EdgeEntry] = field(default_factory=dict)
    responsibility: dict[str, tuple[Responsibility, Origin]] = field(default_factory=dict)
    #: frameworks whose items are safeguards (section ``frameworks``), by id, in load order
    frameworks: dict[str, Framework] = field(default_factory=dict)
    #: where each framework was declared (for messages)
    framework_origins: dict[str, Origin] = field(default_factory=dict)
    #: design-check predicates (section ``design_predicates``), by predicate id
    design_predicates: dict[str, tuple[DesignPredicate, Origin]] = field(default_factory=dict)
    #: control id -> the top-level parts of its statement (section ``statements``)
    statements: dict[str, tuple[tuple[str, ...], Origin]] = field(default_factory=dict)
    #: control/safeguard id -> which methods can show it satisfied (section ``assurance``)
    assurance: dict[str, tuple[Assurance, Origin]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    _graph: Any = None

    @property
    def graph(self) -> Any:
        """The networkx ``DiGraph`` (built on first use, so cheap commands stay cheap)."""
        if self._graph is None:
            self._graph = build_graph(self)
        return self._graph

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def of_kind(self, kind: NodeKind) -> list[NodeEntry]:
        return [n for n in self.nodes.values() if n.kind is kind]

    def framework_items(self, framework_id: str) -> list[NodeEntry]:
        """The safeguards of one framework, in load order."""
        return [
            n
            for n in self.nodes.values()
            if n.kind is NodeKind.SAFEGUARD and isinstance(n.record, Safeguard) and n.record.framework == framework_id
        ]

    def framework_of(self, node_id: str) -> Framework | None:
        """The framework a safeguard belongs to (None for other nodes and unknown frameworks)."""
        entry = self.nodes.get(node_id)
        if entry is None or not isinstance(entry.record, Safeguard) or entry.record.framework is None:
            return None
        return self.frameworks.get(entry.record.framework)

    def record(self, node_id: str) -> Node:
        return self.nodes[node_id].record

    def statement_parts(self, control_id: str) -> tuple[str, ...]:
        """The parts a control's statement has: its listed items, else its whole statement (``ac-6_smt``)."""
        hit = self.statements.get(control_id)
        if hit:
            return hit[0]
        return (oscal_id(control_id) + "_smt",)

    def methods_required(self, node_id: str) -> frozenset[str] | None:
        """The only assessment methods that can show ``node_id`` satisfied (None: any method can)."""
        hit = self.assurance.get(node_id)
        return frozenset(m.value for m in hit[0].methods) if hit else None

    def party(self, control_id: str) -> Responsibility | None:
        """Shared-responsibility entry for a control: its own, else its parent's, else its family's."""
        hit = self.responsibility.get(control_id)
        if hit:
            return hit[0]
        entry = self.nodes.get(control_id)
        if entry is None or not isinstance(entry.record, Control):
            return None
        if entry.record.parent and entry.record.parent in self.responsibility:
            return self.responsibility[entry.record.parent][0]
        fam = self.responsibility.get("family:" + entry.record.family)
        return fam[0] if fam else None


def oscal_id(control_id: str) -> str:
    """Our control id as the OSCAL catalog spells it: ``AC-2(1)`` -> ``ac-2.1``."""
    cid = control_id.lower()
    if "(" in cid:
        base, _, enh = cid.partition("(")
        return f"{base}.{enh.rstrip(')')}"
    return cid
