"""One evidence file's rows, prepared for the store: identities, location keys and mapping (no database work).

Shared by the ingesting process (:mod:`compliance.evidence.ingest`), its parsing helper
(:mod:`compliance.evidence.worker`) and its peer processes (:mod:`compliance.evidence.peer`), which all import
this module and none of which imports the others' internals.
"""

from __future__ import annotations

import functools
import hashlib
import operator
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


def identity_of(f: Finding) -> tuple[str, str]:
    """(identity, location key). The location is the scope a later scan of the same tool must cover to
    close the finding. The identity is 32 hex digits: 8 from a hash of tool + location, then 24 from a hash
    of tool + rule + subject. Findings of one file or account thus sit together in the identity index, so a
    scan's upserts touch a few regions of it instead of pages all over a large store."""
    if f.resource:
        subject = f"r\0{f.resource}\0{f.file or ''}"
    elif f.function:
        subject = f"f\0{f.function}"
    elif f.file:
        subject = f"l\0{f.file}\0{f.line or ''}"
    elif f.targets:
        subject = "t\0" + "\0".join(f.targets)
    else:
        subject = f"a\0{f.provider or ''}\0{f.account or ''}\0{f.region or ''}"
    if f.file:
        loc = f.file
    elif f.account or f.region:
        loc = f"{f.provider or ''}:{f.account or ''}:{f.region or ''}"
    else:
        loc = f.resource or f.function or ""
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


def prepare(findings: Iterable[Any], ctx: ParseContext, tally: Tally, mapper: Mapper, now: str) -> Iterator[Batch]:
    """A file's findings as batches of rows: identity, location key and mapping per finding (no database
    work); ``tally`` adds them up. ``now`` dates findings whose file gives no scan time."""
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
            if resource:
                subject = f"r\0{resource}\0{file or ''}"
            elif function:
                subject = f"f\0{function}"
            elif file:
                subject = f"l\0{file}\0{line or ''}"
            elif targets:
                subject = "t\0" + "\0".join(targets)
            else:
                subject = f"a\0{provider or ''}\0{account or ''}\0{region or ''}"
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
                scan_time, src = now, "ingest"
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
