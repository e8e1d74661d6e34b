"""The architecture model a design check works on.

Every reader (CloudFormation/SAM, Serverless Framework, Terraform) produces :class:`Element` records with
provider-neutral property names (``runtime``, ``timeout``, ``tracing``, ``role.actions`` ...) so that the
design predicates in the KB can be written once. A value that the design does not pin down (an unresolved
parameter, a Terraform variable without default, an unknown intrinsic function) is an :class:`Unknown`;
a predicate that needs it evaluates to *unknown*, never to a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, NotRequired, TypedDict

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


#: Parsed template input (a CloudFormation resource's Properties, an HCL block, an ARM resource, a Serverless
#: function): JSON-ish as written, with what the reader resolved turned into :class:`Ref` / :class:`Unknown`.
#: Readers only look into it (``.get``); what they find goes into typed elements.
Raw = dict[str, Any]


#: An element's provider-neutral properties (``runtime``, ``timeout``, ``role.actions`` ...): the KB's design
#: predicates address them by dotted name, so they stay a string-keyed mapping; values are typed by the readers.
Props = dict[str, Any]


class FunctionProps(TypedDict):
    """A function as a reader records it, in provider-neutral terms (``design/build.py`` then adds ``role``,
    ``public``, ``triggers``, ``secret_env_names``, ``runtime_deprecated`` ...). Values the design leaves open
    are :class:`Unknown`; references to other resources are :class:`Ref` or ``${...}`` text."""

    function_name: Any  # physical name
    runtime: Any  # None for container images
    timeout: Any  # seconds
    memory: Any  # MB
    concurrency_limit: Any  # reserved concurrency / max instances; None when not set
    environment: Any  # variables: dict | Unknown
    env_kms_key: Any
    tracing: Any  # "Active" | "PassThrough" | None
    vpc: Any  # {"subnets": ...} | None | Unknown
    dlq: Any
    on_failure: Any  # on-failure destination
    layers: Any
    code_signing: Any
    published: Any  # versions or aliases published: bool; None until the reader decides
    url: Any  # function URL: {"auth", "cors_origins"} | None
    log: Any  # log group: {"name", "retention", "kms_key", "subscription"} | None
    alarms: int
    invoke_permissions: list[Any]  # {"principal", "conditioned"[, "url_auth"]}
    framework: NotRequired[str]  # sam | cloudformation | serverless | terraform | arm
    role_id: NotRequired[str | None]  # the execution role's element id
    role_note: NotRequired[str]
    log_group_name: NotRequired[Any]  # CloudFormation LoggingConfig.LogGroup
    public_invoke: NotRequired[bool]  # a resource policy lets anyone invoke it
    secret_env: NotRequired[Any]  # Google: secret environment variables
    ingress: NotRequired[Any]  # Google: ingress settings
    retry: NotRequired[Any]  # Google: retry on failure
    https_only: NotRequired[Any]  # Google and Azure
    min_tls: NotRequired[Any]  # Azure


class StoreProps(TypedDict):
    """A data store as a reader records it (``design/build.py`` adds classification, sensitive, phi, emits_events)."""

    type: str  # table | bucket | queue | topic | secret | stream
    name: Any  # physical name: str | Ref | Unknown
    public: Any  # False | "read" | "write" (from resource policies)
    encryption: Any  # none | default | kms | cmk | Unknown
    encryption_explicit: bool
    tags: dict[str, Any]
    address: NotRequired[str]  # Terraform address
    backup: NotRequired[bool]  # point-in-time recovery / versioning
    public_write: NotRequired[bool]
    rotation: NotRequired[bool]  # secrets
    tls_enforced: NotRequired[bool]  # buckets
    public_access_block: NotRequired[bool]  # buckets


class RouteProps(TypedDict):
    """An API route or HTTP trigger that invokes a function."""

    type: str  # api | http-trigger
    api: str
    api_kind: str  # rest | http | gcf-http | azure-http
    path: Any
    method: str
    auth: Any  # NONE | AWS_IAM | AUTHORIZER | API_KEY | IAM | APP_SERVICE_AUTH | Unknown
    validated: bool
    throttled: bool
    waf: bool
    cors_origins: Any  # list of origins (str | Unknown)
    public: bool
    function: str  # the function's name


class SourceProps(TypedDict):
    """An event source that triggers a function."""

    type: str  # s3 | sqs | sns | dynamodb | kinesis | schedule | eventbridge | cognito | ...
    resource: Any  # the store or resource it comes from
    public: bool
    auth: str  # NONE | INTERNAL
    batch_size: NotRequired[Any]  # SAM SQS events
    on_failure: NotRequired[bool]  # SAM stream events


class RoleProps(TypedDict):
    """An execution role as a reader records it (``design/build.py`` adds its permissions summary)."""

    generated: bool  # made by SAM or the Serverless Framework, not written in the template
    trust: list[Any]
    boundary: NotRequired[Any]


def function_element(eid: str, name: str, provider: str, file: str, line: int | None, props: FunctionProps) -> Element:
    return Element(eid, "function", name, provider, file, line, dict(props))


def store_element(eid: str, name: str, provider: str, file: str, line: int | None, props: StoreProps) -> Element:
    return Element(eid, "datastore", name, provider, file, line, dict(props))


def route_element(eid: str, name: str, provider: str, file: str, line: int | None, props: RouteProps) -> Element:
    return Element(eid, "route", name, provider, file, line, dict(props))


def source_element(eid: str, name: str, provider: str, file: str, line: int | None, props: SourceProps) -> Element:
    return Element(eid, "source", name, provider, file, line, dict(props))


def role_element(eid: str, name: str, provider: str, file: str, line: int | None, props: RoleProps) -> Element:
    return Element(eid, "role", name, provider, file, line, dict(props))


class Classification(TypedDict, total=False):
    """Data classification from ``sckb.yaml``: flags for every store, and per store (logical id or physical name)."""

    default: dict[str, Any]  # e.g. {"phi": True}
    resources: dict[str, Any]  # store name -> flags


class LinkAttrs(TypedDict, total=False):
    """Attributes of a ``can-access`` link (role -> data store)."""

    level: str  # read | write | admin
    actions: list[str]  # the first few actions that give the level


class Link(NamedTuple):
    src: str
    dst: str
    kind: str  # triggers | invokes | assumes | can-access | emits
    attrs: LinkAttrs


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
    props: Props = field(default_factory=dict)

    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass
class Design:
    """What the readers found: elements, their links, and what could not be read."""

    elements: dict[str, Element] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: one-line notes on parts read only partially (unknown intrinsics, unreadable files ...)
    warnings: list[str] = field(default_factory=list)
    _seen: set[tuple[str, str, str]] = field(default_factory=set, repr=False)

    def add(self, el: Element) -> Element:
        self.elements[el.id] = el
        return el

    def link(self, src: str, dst: str, kind: str, *, level: str | None = None, actions: list[str] | None = None) -> None:
        key = (src, dst, kind)
        if key in self._seen:
            return
        self._seen.add(key)
        attrs: LinkAttrs = {}
        if level is not None:
            attrs["level"] = level
        if actions is not None:
            attrs["actions"] = actions
        self.links.append(Link(src, dst, kind, attrs))

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
