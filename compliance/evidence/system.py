"""Systems: the authorization boundary an assessment is about, as data, and which findings fall inside it.

A workspace may hold evidence from several applications and clouds. A *system file* (YAML) names one system
and draws its boundary; ``sckb system add FILE`` keeps it in the workspace store and ``sckb assess --system
NAME`` counts only the findings inside it::

    name: phi-app                      # letters, digits, '.', '_' and '-'
    description: Patient records API   # optional
    boundary:
      providers: [aws]                 # aws | gcp | azure
      accounts: ["111122223333"]       # AWS account ids, GCP project ids, Azure subscription ids
      regions: [us-east-1]
      paths: [template.yaml, "src/**"] # IaC and code, relative to the repository root, as scanners report files
      repositories: [github.com/example/phi-app]
      resources: ["AWS::*.Patient*", "arn:aws:lambda:*:function:phi-*"]   # globs over resource ids and functions
      tags: ["app=phi-*"]              # key=value patterns

An optional ``ssp:`` block (:class:`SspInfo`) holds what only the owner can state in a system security plan
(sensitivity, SP 800-60 information types, the platform's authorization, contacts, users); ``sckb export ssp``
reads it and names the field to write when one is missing.

Membership (:meth:`Boundary.verdict`): a finding is **inside** when

1. nothing it names contradicts the boundary: a provider (``aws``, ``gcp``, ``azure``; stated by the finding,
   or implied by an ARN, an Azure ``/subscriptions/...`` id or a GCP ``projects/...`` name) the boundary does
   not list (when it lists providers); an account, project or subscription (the finding's account, or read
   out of such an id) it does not list (when it lists accounts); a region (the finding's, or an ARN's) it does
   not list (when it lists regions; ``global`` is in every region); and
2. something it names matches positively: one of its accounts is listed; its file is one of ``paths`` (a plain
   entry matches the file and everything under it; ``*`` and ``?`` stay inside one path segment, ``**``
   spans any number); its resource or function matches one of ``resources`` (``*`` matches any characters,
   ``/`` and ``:`` included). A boundary that lists no accounts, paths or resources matches positively on a
   listed provider or region instead.

Findings stated by people (method EXAMINE or INTERVIEW, i.e. attestations) that name no subject at all speak
for the organisation's controls, not a resource: they are inside every system. Any other finding that names
nothing is outside. ``repositories`` and ``tags`` are part of the record (a system security plan reads them)
but no evidence record carries a repository or tags today, so they decide nothing yet.

A finding's file is compared after removing a leading ``file://``, ``./`` or ``/`` and turning ``\\`` into
``/`` (checkov writes ``/template.yaml`` for a file at the scan root); scanners should therefore be run from
the repository root, or the paths written as the scanner reports them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, NamedTuple, Protocol

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from compliance.errors import InputError
from compliance.kb.yamlio import load_yaml

#: The clouds a boundary can name; other provider values a finding may carry (``dockerfile``) decide nothing.
PROVIDERS = ("aws", "azure", "gcp")
#: Methods of findings people state (attestations): subjectless ones are inside every system.
PEOPLE_METHODS = frozenset({"EXAMINE", "INTERVIEW"})
#: A region value that is inside every region.
GLOBAL_REGIONS = frozenset({"global", "aws-global"})

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Boundary(_Strict):
    """Where the system ends (every list optional; see the module docstring for how findings are matched)."""

    providers: tuple[Literal["aws", "gcp", "azure"], ...] = Field(default=(), description="cloud providers the system runs on")
    accounts: tuple[str, ...] = Field(default=(), description="AWS account ids, GCP project ids, Azure subscription ids")
    regions: tuple[str, ...] = Field(default=(), description="cloud regions ('global' resources are in every region)")
    paths: tuple[str, ...] = Field(
        default=(), description="IaC and code paths or globs, relative to the repository root, as scanners report files"
    )
    repositories: tuple[str, ...] = Field(
        default=(), description="source repositories (recorded; no finding names a repository today)"
    )
    resources: tuple[str, ...] = Field(
        default=(), description="globs over resource ids, ARNs, IaC addresses and function names ('*' matches anything)"
    )
    tags: tuple[str, ...] = Field(
        default=(), description="key=value patterns over resource tags (recorded; no finding carries tags today)"
    )

    @field_validator("accounts", "regions", "paths", "repositories", "resources", "tags", mode="before")
    @classmethod
    def _strings(cls, v: object) -> object:
        if isinstance(v, list):
            for item in v:
                if isinstance(item, bool) or not isinstance(item, (str, int)):
                    raise ValueError(f"each entry must be a string (quote {item!r}: YAML did not read it as text)")
            return tuple(str(item).strip() for item in v)
        return v

    @field_validator("accounts", "regions", "paths", "repositories", "resources", "tags")
    @classmethod
    def _not_blank(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if any(not item for item in v):
            raise ValueError("entries must not be empty")
        return v

    @field_validator("tags")
    @classmethod
    def _tag_pairs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for item in v:
            if "=" not in item or not item.split("=", 1)[0]:
                raise ValueError(f"tag pattern {item!r} is not key=value")
        return v

    @model_validator(mode="after")
    def _something(self) -> Boundary:
        if not (self.providers or self.accounts or self.regions or self.paths or self.resources):
            raise ValueError("a boundary lists at least one of providers, accounts, regions, paths or resources")
        return self

    def matcher(self) -> Matcher:
        return Matcher(self)


#: FIPS 199 impact levels (a security objective's, an information type's, the system's sensitivity).
Impact = Literal["low", "moderate", "high"]


class InformationType(_Strict):
    """An information type the system stores, processes or transmits, as NIST SP 800-60 Vol. 2 names it."""

    title: str = Field(min_length=1, description="the information type's name, e.g. 'Health Care Delivery Services'")
    id: str = Field(min_length=1, description="its SP 800-60 Vol. 2 identifier, e.g. 'D.14.1'")
    description: str = Field(default="", description="how the system uses it")
    confidentiality: Impact = Field(description="FIPS 199 confidentiality impact: low, moderate or high")
    integrity: Impact = Field(description="FIPS 199 integrity impact: low, moderate or high")
    availability: Impact = Field(description="FIPS 199 availability impact: low, moderate or high")


class LeveragedAuthorization(_Strict):
    """An authorization of the cloud platform the system runs on, as the system owner states it (sckb never guesses
    one): the controls the KB gives to the provider are inherited from it."""

    provider: Literal["aws", "gcp", "azure"] = Field(description="the platform it covers")
    title: str = Field(min_length=1, description="the authorized offering and level, as its package names it")
    party: str = Field(min_length=1, description="the organisation that holds the authorization")
    date_authorized: date = Field(description="when it was granted (YYYY-MM-DD)")
    link: str | None = Field(default=None, description="where the authorization is listed (e.g. its FedRAMP Marketplace page)")


class Contact(_Strict):
    """A person or team responsible for the system, in an OSCAL role (``system-owner``, ``authorizing-official`` ...)."""

    role: str = Field(pattern=r"^[a-z][a-z0-9-]*$", description="OSCAL role id, e.g. system-owner")
    name: str = Field(min_length=1)
    email: str | None = None


class SystemUserType(_Strict):
    """A kind of user of the system (people or services), for the SSP's ``users``."""

    title: str = Field(min_length=1, description="e.g. 'Clinician', 'Administrator'")
    role: str = Field(pattern=r"^[a-z][a-z0-9-]*$", description="OSCAL role id the users act in")
    description: str = ""
    privileges: tuple[str, ...] = Field(default=(), description="what they may do, one phrase each")


class SspInfo(_Strict):
    """What only the system owner can say in a system security plan (``sckb export ssp``): the rest comes from the
    design, the KB and the assessment."""

    id: str | None = Field(default=None, description="the system's identifier (default: its name)")
    sensitivity: Impact = Field(description="security sensitivity level (FIPS 199): low, moderate or high")
    status: Literal["operational", "under-development", "under-major-modification", "disposition", "other"] = "operational"
    information_types: tuple[InformationType, ...] = Field(min_length=1, description="SP 800-60 information types")
    leveraged_authorizations: tuple[LeveragedAuthorization, ...] = ()
    contacts: tuple[Contact, ...] = ()
    users: tuple[SystemUserType, ...] = ()


#: What to write for a field the SSP needs (the one-line error of a missing field says it).
SSP_HINTS: dict[str, str] = {
    "ssp": "add an 'ssp:' block with sensitivity and information_types (sckb system schema shows every field)",
    "sensitivity": "write 'sensitivity: low|moderate|high' (the FIPS 199 level of the system)",
    "information_types": "list the SP 800-60 information types: '- {title: ..., id: D.14.1, confidentiality: moderate, "
    "integrity: moderate, availability: low}'",
    "title": "write the name it is known by",
    "id": "write its SP 800-60 Vol. 2 identifier, e.g. 'id: D.14.1'",
    "confidentiality": "write 'confidentiality: low|moderate|high'",
    "integrity": "write 'integrity: low|moderate|high'",
    "availability": "write 'availability: low|moderate|high'",
    "provider": "write 'provider: aws|gcp|azure'",
    "party": "write the organisation that holds the authorization",
    "date_authorized": "write the date it was granted, 'date_authorized: YYYY-MM-DD'",
    "role": "write an OSCAL role id such as system-owner",
    "name": "write the person's or team's name",
}


class System(_Strict):
    """A system (authorization boundary) as its file states it."""

    name: str = Field(pattern=_NAME, description="the system's name, as --system refers to it")
    description: str = Field(default="", description="what the system is, in a sentence")
    boundary: Boundary = Field(description="where the system ends: which findings belong to it")
    ssp: SspInfo | None = Field(default=None, description="what a system security plan needs from the owner (sckb export ssp)")

    def to_json(self) -> bytes:
        """The stored form (sorted keys: the same file gives the same bytes; no ``ssp`` key when there is none, so
        a system stored before the block existed keeps its bytes)."""
        return orjson.dumps(self.model_dump(mode="json", exclude_none=True), option=orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, data: bytes) -> System:
        return cls.model_validate(orjson.loads(data))


def load_system(path: Path) -> System:
    """Read and validate a system file; any problem is an :class:`InputError` naming the file and line."""
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise InputError("a system file is a mapping with name, description and boundary", path=path, line=1)
    try:
        return System.model_validate(doc.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        where = ".".join(str(x) for x in loc) or "<root>"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}"
        elif err["type"] == "missing":
            hint = SSP_HINTS.get(str(loc[-1])) if loc[:1] == ("ssp",) else None
            msg = f"missing: {hint}" if hint else "missing"
            loc = loc[:-1]
        raise InputError(f"{where}: {msg}", path=path, line=doc.line_of(loc) or 1) from None


# ---------------------------------------------------------------------- membership
class SubjectLike(Protocol):
    """What membership reads of a finding (the store's :class:`~compliance.evidence.model.StoredFinding`)."""

    @property
    def provider(self) -> str | None: ...
    @property
    def account(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def resource(self) -> str | None: ...
    @property
    def function(self) -> str | None: ...
    @property
    def file(self) -> str | None: ...
    @property
    def method(self) -> str: ...


class _Fields(NamedTuple):
    provider: str | None
    account: str | None
    region: str | None
    resource: str | None
    function: str | None
    file: str | None
    method: str


@dataclass(frozen=True, slots=True)
class Subject:
    """What a finding names, read out of its fields and ids: providers, accounts and regions (lower case)."""

    providers: frozenset[str]
    accounts: frozenset[str]
    regions: frozenset[str]


_AZURE_SUB = re.compile(r"/subscriptions/([^/]+)", re.IGNORECASE)
_GCP_PROJECT = re.compile(r"(?:^|/)projects/([^/]+)")


def subject_of(f: SubjectLike) -> Subject:
    """The providers, accounts and regions a finding names, from its fields and from the ids it carries: an ARN
    (``arn:partition:service:region:account:...``), an Azure resource id (``/subscriptions/<id>/...``), a GCP
    resource name (``projects/<id>/...``, also inside ``//service.googleapis.com/...``)."""
    providers: set[str] = set()
    accounts: set[str] = set()
    regions: set[str] = set()
    if f.provider and f.provider.lower() in PROVIDERS:
        providers.add(f.provider.lower())
    if f.account:
        accounts.add(f.account.lower())
    if f.region:
        regions.add(f.region.lower())
    for ident in (f.resource, f.function):
        if not ident:
            continue
        if ident.startswith("arn:"):
            parts = ident.split(":", 5)
            if len(parts) == 6:
                providers.add("aws")
                if parts[3]:
                    regions.add(parts[3].lower())
                if parts[4] and parts[4] != "aws":  # AWS-managed resources name the account "aws"
                    accounts.add(parts[4].lower())
            continue
        sub = _AZURE_SUB.search(ident)
        if sub:
            providers.add("azure")
            accounts.add(sub.group(1).lower())
            continue
        if "googleapis.com/" in ident or ident.startswith("projects/"):
            proj = _GCP_PROJECT.search(ident)
            if proj:
                providers.add("gcp")
                accounts.add(proj.group(1).lower())
    return Subject(frozenset(providers), frozenset(accounts), frozenset(regions - GLOBAL_REGIONS))


def _norm_file(path: str) -> str:
    p = path.replace("\\", "/")
    if p.startswith("file://"):
        p = p[7:]
    while p.startswith("./"):
        p = p[2:]
    return p.lstrip("/")


def _path_regex(pattern: str) -> str:
    """A path pattern as a regular expression: a plain path matches itself and everything under it; ``**``
    spans segments, ``*`` and ``?`` stay in one, ``[...]`` is a character class."""
    p = _norm_file(pattern).rstrip("/")
    if not any(c in p for c in "*?["):
        return re.escape(p) + "(?:/.*)?"
    out: list[str] = []
    i = 0
    while i < len(p):
        c = p[i]
        if p.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif p.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[" and "]" in p[i + 1 :]:
            j = p.index("]", i + 1)
            body = p[i + 1 : j]
            out.append("[" + ("^" + re.escape(body[1:]) if body.startswith("!") else re.escape(body)) + "]")
            i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def _glob_regex(pattern: str) -> str:
    """A resource pattern: ``*`` any characters (``/`` and ``:`` included), ``?`` one character."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def _alternation(regexes: Iterable[str]) -> re.Pattern[str] | None:
    parts = list(regexes)
    return re.compile("(?:" + "|".join(parts) + r")\Z", re.DOTALL) if parts else None


class Matcher:
    """A boundary compiled for matching many findings (:meth:`inside`, :meth:`verdict`)."""

    def __init__(self, boundary: Boundary) -> None:
        self.boundary = boundary
        self.providers = frozenset(boundary.providers)
        self.accounts = frozenset(a.lower() for a in boundary.accounts)
        self.regions = frozenset(r.lower() for r in boundary.regions)
        self.paths = _alternation(_path_regex(p) for p in boundary.paths)
        self.resources = _alternation(_glob_regex(r) for r in boundary.resources)
        #: no account, path or resource to match: a listed provider or region is the positive match
        self.broad = not (boundary.accounts or boundary.paths or boundary.resources)
        self._seen: dict[tuple[str | None, ...], bool] = {}

    def inside(self, f: SubjectLike) -> bool:
        return self.verdict(f)[0]

    def inside_fields(
        self,
        provider: str | None,
        account: str | None,
        region: str | None,
        resource: str | None,
        function: str | None,
        file: str | None,
        method: str,
    ) -> bool:
        """:meth:`inside` over the subject's fields (the store's ``SubjectFilter``), remembered per distinct subject:
        many findings share one."""
        key = (provider, account, region, resource, function, file, method)
        hit = self._seen.get(key)
        if hit is None:
            hit = self._seen[key] = self.verdict(_Fields(*key))[0]
        return hit

    def verdict(self, f: SubjectLike) -> tuple[bool, str]:
        """Whether ``f`` is inside the boundary, and why (a short phrase)."""
        s = subject_of(f)
        if self.providers:
            off = sorted(s.providers - self.providers)
            if off:
                return False, f"provider {off[0]} is not in the boundary"
        if self.accounts:
            off = sorted(s.accounts - self.accounts)
            if off:
                return False, f"account {off[0]} is not in the boundary"
        if self.regions:
            off = sorted(s.regions - self.regions)
            if off:
                return False, f"region {off[0]} is not in the boundary"
        hit = sorted(s.accounts & self.accounts)
        if hit:
            return True, f"account {hit[0]}"
        if f.file and self.paths is not None and self.paths.match(_norm_file(f.file)):
            return True, f"file {f.file}"
        if self.resources is not None:
            for ident in (f.resource, f.function):
                if ident and self.resources.match(ident):
                    return True, f"resource {ident}"
        if self.broad:
            if s.providers & self.providers:
                return True, f"provider {sorted(s.providers & self.providers)[0]}"
            if s.regions & self.regions:
                return True, f"region {sorted(s.regions & self.regions)[0]}"
        named = s.providers or s.accounts or s.regions or f.resource or f.function or f.file
        if not named and f.method in PEOPLE_METHODS:
            return True, "an attestation naming no subject (inside every system)"
        if not named:
            return False, "names no subject"
        return False, "nothing it names is in the boundary"
