"""The architecture model a design check works on.

Every reader (CloudFormation/SAM, Serverless Framework, Terraform) produces :class:`Element` records with
provider-neutral property names (``runtime``, ``timeout``, ``tracing``, ``role.actions`` ...) so that the
design predicates in the KB can be written once. A value that the design does not pin down (an unresolved
parameter, a Terraform variable without default, an unknown intrinsic function) is an :class:`Unknown`;
a predicate that needs it evaluates to *unknown*, never to a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value the design does not determine, with the reason (shown in the report)."""

    reason: str

    def __str__(self) -> str:
        return f"<unknown: {self.reason}>"


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to another resource of the same design (``!Ref X``, ``!GetAtt X.Arn``, ``aws_x.y.arn``)."""

    target: str
    attr: str | None = None

    def __str__(self) -> str:
        return "${" + self.target + (f".{self.attr}" if self.attr else "") + "}"


#: Element kinds (graph node kinds).
KINDS = ("function", "route", "source", "role", "datastore")


@dataclass
class Element:
    """One node of the architecture graph."""

    id: str  # unique in the design, e.g. "function:template.yml#OrderFunction"
    kind: str  # one of KINDS
    name: str  # logical id / resource address as written in the IaC
    provider: str  # aws | gcp | azure
    file: str
    line: int | None
    props: dict[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass
class Design:
    """What the readers found: elements, their links, and what could not be read."""

    elements: dict[str, Element] = field(default_factory=dict)
    #: (from id, to id, kind, attributes): triggers, invokes, assumes, can-access
    links: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: one-line notes on parts read only partially (unknown intrinsics, unreadable files ...)
    warnings: list[str] = field(default_factory=list)
    _seen: set[tuple[str, str, str]] = field(default_factory=set, repr=False)

    def add(self, el: Element) -> Element:
        self.elements[el.id] = el
        return el

    def link(self, src: str, dst: str, kind: str, **attrs: Any) -> None:
        key = (src, dst, kind)
        if key in self._seen:
            return
        self._seen.add(key)
        self.links.append((src, dst, kind, attrs))

    def of_kind(self, kind: str) -> list[Element]:
        return [e for e in self.elements.values() if e.kind == kind]

    def graph(self) -> Any:
        """The architecture as a networkx ``MultiDiGraph`` (node attribute ``kind``; edge attribute ``kind``)."""
        g = nx.MultiDiGraph()
        for el in self.elements.values():
            g.add_node(el.id, kind=el.kind, name=el.name, provider=el.provider)
        for src, dst, kind, attrs in self.links:
            if src in self.elements and dst in self.elements:
                g.add_edge(src, dst, kind=kind, **attrs)
        return g
