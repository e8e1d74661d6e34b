"""The normalised evidence record, as every format parser yields it, and as the store returns it.

A :class:`Finding` is one statement a scanner (or a person, for an attestation) made about one subject:
a rule, a result (pass / fail / error / info), where it points (resource, function, file and line,
cloud account and region) and where in the evidence file it came from (a JSON pointer or a line).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

from compliance.vocab import SEVERITIES as SEVERITIES  # re-exported: the allowed Finding.severity values

#: Allowed ``Finding.result`` values.
RESULTS = ("pass", "fail", "error", "info")
#: Allowed ``StoredFinding.status`` values.
STATUSES = ("open", "closed", "passing", "info")
#: Allowed ``StoredFinding.mapped_by`` values, in the order mapping tries them.
MAPPED_BY = ("attestation", "rule", "tool", "cwe", "none")


class Finding(NamedTuple):
    """One normalised evidence record (see the evidence contract). A named tuple: parsers build
    hundreds of thousands of them per file, and the ingester unpacks them positionally."""

    tool: str
    tool_version: str | None
    scan_time: str | None
    scan_time_source: str
    rule_id: str
    rule_title: str | None
    severity: str | None
    result: str
    resource: str | None
    function: str | None
    file: str | None
    line: int | None
    provider: str | None
    account: str | None
    region: str | None
    cwes: tuple[str, ...]
    pointer: str
    message: str | None
    method: str = "TEST"
    targets: tuple[str, ...] = ()


#: The fields of one stored observation, in column order (the store digests them in this order): the finding
#: identity, then every field of :class:`Finding`. This is the one declaration of the finding's shape; the store's
#: column lists and :class:`StoredFinding` are derived from it.
OBSERVATION_FIELDS: tuple[str, ...] = ("identity", *Finding._fields)
#: What the store adds per finding identity, after :data:`OBSERVATION_FIELDS`.
IDENTITY_FIELDS: tuple[str, ...] = (
    "first_seen",
    "last_seen",
    "status",
    "file_sha256",
    "mitigations",
    "controls",
    "mapped_by",
    "observations",
)


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """A finding identity as the store keeps it: the fields of its latest observation plus its history.
    Its fields are :data:`OBSERVATION_FIELDS` then :data:`IDENTITY_FIELDS` (checked below: mypy needs them
    spelled out)."""

    identity: str
    tool: str
    tool_version: str | None
    scan_time: str | None
    scan_time_source: str
    rule_id: str
    rule_title: str | None
    severity: str | None
    result: str
    resource: str | None
    function: str | None
    file: str | None
    line: int | None
    provider: str | None
    account: str | None
    region: str | None
    cwes: tuple[str, ...]
    pointer: str
    message: str | None
    method: str
    targets: tuple[str, ...]
    first_seen: str
    last_seen: str
    status: str
    file_sha256: str
    mitigations: tuple[str, ...]
    controls: tuple[str, ...]
    mapped_by: str
    observations: int

    def as_dict(self) -> dict[str, object]:
        return {name: _plain(getattr(self, name)) for name in self.__slots__}


if tuple(f.name for f in fields(StoredFinding)) != (*OBSERVATION_FIELDS, *IDENTITY_FIELDS):
    raise ImportError("StoredFinding's fields drifted from Finding's: keep them in the order of OBSERVATION_FIELDS")


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """One ingested evidence file (its bytes are in the locker under ``sha256``)."""

    sha256: str
    name: str
    format: str
    tool: str
    tool_version: str | None
    scan_time: str
    scan_time_source: str
    ingested_at: str
    findings: int
    failed: int
    passed: int
    other: int
    mapped: int
    bytes: int
    #: how the file is known to be complete (``verified``, ``whole-document``, ``unverified-complete``); None for
    #: a file ingested before sckb recorded it (store schema 2)
    completeness: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value
