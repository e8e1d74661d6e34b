"""What a design check produces: verdicts, per-control results, attack paths, and the JSON shapes
``sckb design check --json`` emits.

These types sit below both :mod:`compliance.design.attack` and :mod:`compliance.design.check` so that the
two import one way (check -> attack -> result), with no cycle to hide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

from compliance.design.model import Design


@dataclass(frozen=True, slots=True)
class Verdict:
    """One predicate judged on one element."""

    predicate: str
    mitigation: str
    subject: str  # element id
    kind: str
    name: str
    function: str | None
    status: str
    severity: str
    title: str
    file: str
    line: int | None
    provider: str
    reason: str | None = None
    #: the subject as scanners name it (``AWS::Serverless::Function.X``, a Terraform address), for evidence
    resource: str | None = None

    def as_dict(self) -> VerdictJson:
        # key order is the --json output's: keep it
        return {
            "predicate": self.predicate,
            "mitigation": self.mitigation,
            "kind": self.kind,
            "name": self.name,
            "function": self.function,
            "status": self.status,
            "severity": self.severity,
            "title": self.title,
            "file": self.file,
            "line": self.line,
            "provider": self.provider,
            "reason": self.reason,
            "resource": self.resource,
        }


class VerdictJson(TypedDict):
    predicate: str
    mitigation: str
    kind: str
    name: str
    function: str | None
    status: str
    severity: str
    title: str
    file: str
    line: int | None
    provider: str
    reason: str | None
    resource: str | None


class ControlResult(TypedDict):
    """A control (or HIPAA safeguard) in scope and the checkable mitigations that decide it."""

    id: str
    title: str
    kind: str
    status: str
    mitigations: dict[str, str]
    checkable: bool
    not_checkable: list[str]


class PathStep(TypedDict):
    """One link of an attack-path chain."""

    kind: str
    name: str
    note: NotRequired[str]


class AttackPath(TypedDict):
    """One attack path; the optional keys depend on the path kind (see ``design/data/attack-paths.yaml``)."""

    kind: str
    title: str
    severity: str
    function: str
    file: str
    chain: list[PathStep]
    breaks_with: list[str]
    controls_at_risk: list[str]
    safeguards_at_risk: list[str]
    #: the entry type (``design/data/entry-types.yaml``) of the chain's first step, for paths an entry starts
    entry: NotRequired[str]
    # public-data-access
    access: NotRequired[str]
    datastores: NotRequired[list[str]]
    datastore_count: NotRequired[int]
    unauthenticated: NotRequired[bool]
    # wildcard-permissions
    actions: NotRequired[list[str]]
    # plain-secret
    variables: NotRequired[list[str]]


class GraphSize(TypedDict):
    nodes: int
    links: int


class Summary(TypedDict):
    functions: int
    routes: int
    datastores: int
    verdicts: dict[str, int]
    mitigations: dict[str, int]
    controls: dict[str, int]
    controls_not_checkable: int
    attack_paths: int
    graph: GraphSize
    partial: bool


class FunctionJson(TypedDict):
    name: str
    file: str
    line: int | None
    provider: str
    runtime: Any  # a literal runtime, None, or "<unknown: ...>"
    public: Any  # bool once the design is finished
    triggers: Any  # sorted trigger type names once the design is finished


class DesignJson(TypedDict):
    """``sckb design check --json`` (schema ``sckb-design/1``)."""

    schema: str
    path: str
    scope: str
    files: list[str]
    warnings: list[str]
    summary: Summary
    functions: list[FunctionJson]
    verdicts: list[VerdictJson]
    mitigations: dict[str, str]
    controls: list[ControlResult]
    attack_paths: list[AttackPath]


@dataclass
class DesignResult:
    path: str
    scope: str
    design: Design
    verdicts: list[Verdict] = field(default_factory=list)
    mitigations: dict[str, str] = field(default_factory=dict)
    controls: dict[str, ControlResult] = field(default_factory=dict)
    paths: list[AttackPath] = field(default_factory=list)
    #: how tables head the safeguards column: the KB's framework labels ("HIPAA"), read from its records
    safeguards_label: str = "safeguards"

    @property
    def partial(self) -> bool:
        return bool(self.design.warnings)
