"""One evidence file's rows, prepared for the store: identities, location keys and mapping (no database work).

Shared by the ingesting process (:mod:`compliance.evidence.ingest`), its parsing helper
(:mod:`compliance.evidence.worker`) and its peer processes (:mod:`compliance.evidence.peer`), which all import
this module and none of which imports the others' internals.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.evidence.formats import Format
from compliance.evidence.mapping import Mapper
from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext
from compliance.evidence.store import Batch

#: Rows per batch handed to the store.
BATCH = 5000
_STATUS = {"pass": "passing", "fail": "open", "error": "open", "info": "info"}
#: identity rows are sorted by identity alone: the sort is stable, so repeats of one identity stay in file order
_IDENTITY = operator.itemgetter(0)


@dataclass
class FileResult:
    """The outcome of one file, as the summary lists it."""

    path: str
    format: str | None = None
    tool: str | None = None
    sha256: str | None = None
    failed: int = 0
    passed: int = 0
    other: int = 0
    mapped: int = 0
    skipped: str | None = None
    error: str | None = None

    @property
    def findings(self) -> int:
        return self.failed + self.passed + self.other

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "tool": self.tool,
            "sha256": self.sha256,
            "findings": {"failed": self.failed, "passed": self.passed, "other": self.other},
            "mapped": self.mapped,
            "skipped": self.skipped,
            "error": self.error,
        }


#: How the findings of a tool are told apart, chosen from what every output format of that tool states about a
#: finding, so that the JSON, SARIF, JUnit and CycloneDX outputs of one scan give one identity per finding:
#:
#: - ``location``: the file and the start line. cfn-lint, bandit, semgrep, kics, gitleaks and trivy state both in
#:   every format; a resource that only some formats name is left out. A finding with a package (``name@version``)
#:   and no line (an SCA vulnerability) is told apart by file and package instead.
#: - ``resource``: the file and the resource, the resource as :func:`resource_key` spells it. Checkov's CycloneDX
#:   and its JUnit passes give no line, and its SARIF names the resource only in the code snippet (the SARIF
#:   parser reads it from there); a finding without a resource falls back to file and line.
#:
#: Tools not named here (one output format each, or formats that all name the resource) keep the general order:
#: resource and file, else the function, else file and line, else the attestation's targets, else the account.
SUBJECT_KEYS: dict[str, str] = {
    "checkov": "resource",
    "cfn-lint": "location",
    "bandit": "location",
    "semgrep": "location",
    "kics": "location",
    "gitleaks": "location",
    "trivy": "location",
}

#: Terraform module path prefixes (``module.a.`` or ``module.a["k"].``) and an instance index (``[0]``, ``["k"]``)
_MODULE_PREFIX = re.compile(r"^(?:module\.[\w-]+(?:\[[^\]]*\])?\.)+")
_INSTANCE = re.compile(r"(?<=[\w-])\[[^\[\]]*\]$")


@functools.lru_cache(maxsize=65536)
def resource_key(resource: str) -> str:
    """A resource as every format of one IaC scan can spell it: a Terraform address without its module path
    and instance index (``module.m.aws_lambda_function.this[0]`` -> ``aws_lambda_function.this``), since a
    SARIF code snippet shows the block, not which module call or count instance reached it. Other resource
    names (CloudFormation ``Type.LogicalId``, ARM ``type.name``) are kept as they are."""
    key = _MODULE_PREFIX.sub("", resource) if resource.startswith("module.") else resource
    return _INSTANCE.sub("", key) if key.endswith("]") else key


def subject_of(
    tool: str,
    resource: str | None,
    function: str | None,
    file: str | None,
    line: int | None,
    provider: str | None,
    account: str | None,
    region: str | None,
    targets: tuple[str, ...],
) -> str:
    """The canonical subject of a finding (see :data:`SUBJECT_KEYS`)."""
    keys = SUBJECT_KEYS.get(tool)
    if keys is not None and file and not targets:
        if keys == "location":
            if line is not None or not resource:
                return f"l\0{file}\0{line if line is not None else ''}"
            return f"r\0{resource}\0{file}"
        if resource:  # "resource"
            return f"r\0{resource_key(resource)}\0{file}"
        return f"l\0{file}\0{line if line is not None else ''}"
    if resource:
        return f"r\0{resource}\0{file or ''}"
    if function:
        return f"f\0{function}"
    if file:
        return f"l\0{file}\0{line or ''}"
    if targets:
        return "t\0" + "\0".join(targets)
    return f"a\0{provider or ''}\0{account or ''}\0{region or ''}"


def location_of(
    file: str | None, provider: str | None, account: str | None, region: str | None, resource: str | None, function: str | None
) -> str:
    """The location key: the scope a later scan of the same tool must cover to close the finding."""
    if file:
        return file
    if account or region:
        return f"{provider or ''}:{account or ''}:{region or ''}"
    return resource or function or ""


def identity_of(f: Finding) -> tuple[str, str]:
    """(identity, location key). The identity is 32 hex digits: 8 from a hash of tool + location, then 24 from a
    hash of tool + rule + canonical subject (:func:`subject_of`). Findings of one file or account thus sit
    together in the identity index, so a scan's upserts touch a few regions of it instead of pages all over a
    large store."""
    subject = subject_of(f.tool, f.resource, f.function, f.file, f.line, f.provider, f.account, f.region, f.targets)
    loc = location_of(f.file, f.provider, f.account, f.region, f.resource, f.function)
    ident = scope_prefix(f.tool, loc) + hashlib.sha256(f"{f.tool}\0{f.rule_id}\0{subject}".encode()).hexdigest()[:24]
    return ident, loc


@functools.lru_cache(maxsize=65536)
def scope_prefix(tool: str, loc: str) -> str:
    """The first 8 hex digits of every identity of one tool and location (a scope is one key range)."""
    return hashlib.sha256(f"{tool}\0{loc}".encode()).hexdigest()[:8]


@dataclass
class Tally:
    """What a file's findings add up to, gathered while their rows are prepared."""

    counts: dict[str, int] = field(default_factory=lambda: {"fail": 0, "pass": 0, "error": 0, "info": 0})
    locs: set[str] = field(default_factory=set)
    by_tool: dict[tuple[str, str | None], int] = field(default_factory=dict)
    latest_time: str = ""
    time_source: str = "ingest"
    mapped: int = 0
    n: int = 0


@dataclass
class Pending:
    """A file copied into the locker tmp folder and recognised, not yet written to the store."""

    res: FileResult
    tmp: Path
    fmt: Format
    ctx: ParseContext
    #: (pointer, path, sha256) of attestation attachments, and their locker tmp copies
    attachments: list[tuple[str, str, str]] = field(default_factory=list)
    extra: list[Path] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)

    def discard(self) -> None:
        """Remove the tmp copies (after a failure, or when the file is not written after all)."""
        self.tmp.unlink(missing_ok=True)
        for p in self.extra:
            p.unlink(missing_ok=True)
        self.extra.clear()


def prepare(
    findings: Iterable[Any], ctx: ParseContext, tally: Tally, mapper: Mapper, now: str, now_source: str = "ingest"
) -> Iterator[Batch]:
    """A file's findings as batches of rows: identity, location key and mapping per finding (no database
    work); ``tally`` adds them up. ``now`` dates findings whose file gives no scan time, with ``now_source`` as
    their ``scan_time_source``: "ingest" (the time of the ingest) or "given" (the user's ``--scan-time``)."""
    counts, locs, by_tool = tally.counts, tally.locs, tally.by_tool
    latest_time, time_source = "", "ingest"
    mapped = n = 0
    status_of = _STATUS
    map_rule, map_attestation = mapper.map, mapper.attestation
    mapped_of: dict[tuple[str, str, tuple[str, ...]], tuple[str, str, str, int]] = {}
    sha256 = hashlib.sha256
    prefixes: dict[tuple[str, str], str] = {}  # scope prefix per tool and location
    obs_rows: list[list[Any]] = []
    id_rows: list[list[Any]] = []
    add_obs, add_id, add_loc = obs_rows.append, id_rows.append, locs.add
    try:
        for f in findings:
            (
                tool, tool_version, scan_time, src, rule_id, rule_title, sev, result, resource, function, file, line,
                provider, account, region, cwes, ptr, message, method, targets,
            ) = f  # fmt: skip
            # identity and location key: identity_of(f), inlined
            subject = subject_of(tool, resource, function, file, line, provider, account, region, targets)
            if file:
                loc = file
            elif account or region:
                loc = f"{provider or ''}:{account or ''}:{region or ''}"
            else:
                loc = resource or function or ""
            prefix = prefixes.get((tool, loc))
            if prefix is None:
                prefix = prefixes[(tool, loc)] = scope_prefix(tool, loc)
            ident = prefix + sha256(f"{tool}\0{rule_id}\0{subject}".encode()).hexdigest()[:24]
            if scan_time:
                if scan_time > latest_time:
                    latest_time, time_source = scan_time, src
            else:
                scan_time, src = now, now_source
            add_obs(
                [
                    None, None, ident, tool, tool_version, scan_time, src, rule_id, rule_title, sev, result, resource,
                    function, file, line, provider, account, region, " ".join(cwes) if cwes else "", ptr, message,
                    method, " ".join(targets) if targets else "",
                ]
            )  # fmt: skip
            if targets:
                m = map_attestation(targets)
                mapped_by, mits, ctrls, reaches = m.mapped_by, m.mitigations_text, m.controls_text, m.reaches
            else:
                key = (tool, rule_id, cwes)
                hit = mapped_of.get(key)
                if hit is None:
                    m = map_rule(tool, rule_id, cwes)
                    hit = (m.mapped_by, m.mitigations_text, m.controls_text, m.reaches)
                    if len(mapped_of) < 100_000:
                        mapped_of[key] = hit
                mapped_by, mits, ctrls, reaches = hit
            mapped += reaches
            add_id(
                [ident, tool, rule_id, loc, scan_time, scan_time, status_of.get(result, "open"), n % BATCH, None,
                 mapped_by, mits, ctrls]
            )  # fmt: skip
            n += 1
            counts[result] = counts.get(result, 0) + 1
            add_loc(loc)
            key2 = (tool, tool_version)
            by_tool[key2] = by_tool.get(key2, 0) + 1
            if len(obs_rows) >= BATCH:
                id_rows.sort(key=_IDENTITY)  # key order: the upserts walk the index instead of jumping about
                yield obs_rows, id_rows
                obs_rows, id_rows = [], []
                add_obs, add_id = obs_rows.append, id_rows.append
        if obs_rows:
            id_rows.sort(key=_IDENTITY)
            yield obs_rows, id_rows
    finally:
        ctx.release()  # freed while the collector is off: it would walk the document once more
        tally.latest_time, tally.time_source, tally.mapped, tally.n = latest_time, time_source, mapped, n
