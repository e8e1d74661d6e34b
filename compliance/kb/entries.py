"""What the loader records about each curated record and edge: where it was declared and what it says.

Kept apart from :mod:`compliance.kb.core` so that the graph builder, the checks and the loader all sit
above these plain records and never need one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from compliance.kb.model import EdgeKind, Node, NodeKind, invert


class Origin(NamedTuple):
    """Where a record or edge was declared."""

    file: str
    line: int | None
    overlay: bool = False

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        prefix = "" if self.severity == "error" else "warning: "
        return f"{where}: {prefix}{self.message}"


@dataclass
class NodeEntry:
    id: str
    kind: NodeKind
    record: Node
    origin: Origin


@dataclass
class EdgeEntry:
    source: str
    target: str
    kind: EdgeKind
    origin: Origin
    #: read *source REL target* of this edge (the loader inverts a link declared on the edge's target)
    relationship: str | None = None
    rationale: str | None = None
    ref: str | None = None  # the mapping's source document (``source`` in exports)
    declared_by: str | None = None  # the record whose inline field declared this edge
    override: bool = False
    #: ``high`` / ``medium`` / ``low`` on judgement links that state one
    confidence: str | None = None
    #: statement parts of the target that the link covers (mitigation -> control links)
    parts: tuple[str, ...] = ()

    @property
    def inverted(self) -> bool:
        """True when the record that declared the link is the edge's target, so the YAML reads the other way."""
        return self.declared_by is not None and self.declared_by == self.target and self.declared_by != self.source

    @property
    def declared_relationship(self) -> str | None:
        """The relationship as written in the YAML: *declaring record REL linked item*."""
        return invert(self.relationship) if self.inverted else self.relationship

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source, self.target, self.kind.value)
