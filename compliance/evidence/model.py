"""The normalised evidence record, as every format parser yields it, and as the store returns it.

A :class:`Finding` is one statement a scanner (or a person, for an attestation) made about one subject:
a rule, a result (pass / fail / error / info), where it points (resource, function, file and line,
cloud account and region) and where in the evidence file it came from (a JSON pointer or a line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

#: Allowed ``Finding.result`` values.
RESULTS = ("pass", "fail", "error", "info")
#: Allowed ``Finding.severity`` values (None when the tool gives none).
SEVERITIES = ("critical", "high", "medium", "low", "info")
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


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """A finding identity as the store keeps it: the fields of its latest observation plus its history."""

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

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value
