"""Checkov JSON: one framework report (a dict), several (a list), or a bare summary when nothing matched.

Records: ``results.failed_checks`` (fail), ``passed_checks`` (pass), ``skipped_checks`` (info, suppressed),
and ``parsing_errors`` (error: files checkov could not read). Version: ``summary.checkov_version``; no timestamp.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compliance.evidence.model import Finding
from compliance.evidence.parsing import (
    ParseContext,
    Sniff,
    as_int,
    function_of,
    make,
    pointer,
    provider_from_rule,
    relpath,
    severity,
    text,
)

_LISTS = (("failed_checks", "fail"), ("passed_checks", "pass"), ("skipped_checks", "info"))
#: the keys of the bare summary checkov writes when nothing matched
_BARE = {"passed", "failed", "skipped", "parsing_errors"}
_VERSION = re.compile(rb'"checkov_version"\s*:\s*"([^"]{1,64})"')


class CheckovJson:
    name = "checkov-json"
    title = "Checkov JSON (one framework, a list of frameworks, or the empty summary)"
    tool = "checkov"
    priority = 20
    completeness = "verified"

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        if sniff.kind != "json":
            return False
        if sniff.top == "map":
            return (
                sniff.has("check_type", "results")
                or ("checkov_version" in sniff.keys and sniff.has("passed", "failed"))
                or _BARE <= sniff.keys <= {*_BARE, "resource_count"}  # an older bare summary, without the version
                or ("check_type" in sniff.keys and b'"failed_checks"' in head)
            )
        return sniff.top == "array" and "item.check_type" in sniff.keys

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        if ctx.streaming:
            yield from self._stream(ctx)
            return
        doc = ctx.load()
        if isinstance(doc, dict) and "check_type" not in doc and "results" not in doc:
            ctx.tool_version = text(doc.get("checkov_version"))  # nothing matched: a bare summary
            ctx.completeness = "verified" if _counts(doc) else "whole-document"  # zero totals and nothing listed
            return
        reports = doc if isinstance(doc, list) else [doc]
        checked = 0
        for n, rep in enumerate(reports):
            if not isinstance(rep, dict):
                raise ctx.error("a checkov report must be an object", pointer=pointer(n))
            base: tuple[Any, ...] = (n,) if isinstance(doc, list) else ()
            version = text((rep.get("summary") or {}).get("checkov_version"))
            ctx.tool_version = ctx.tool_version or version
            results = rep.get("results") or {}
            checked += _check_summary(rep, results, base, ctx)
            for key, result in _LISTS:
                at = pointer(*base, "results", key)
                for i, rec in enumerate(results.get(key) or []):
                    yield _record(rec, result, version, f"{at}/{i}")
            for i, p in enumerate(results.get("parsing_errors") or []):
                yield _parse_error(p, version, pointer(*base, "results", "parsing_errors", i))
        # verified when every report's summary was checked against its lists (an older checkov wrote none)
        ctx.completeness = "verified" if reports and checked == len(reports) else "whole-document"

    def _stream(self, ctx: ParseContext) -> Iterator[Finding]:
        """One ijson pass per non-empty list; the version is read from the summary in the head or the tail."""
        top = "item." if ctx.sniff.top == "array" else ""
        found = _VERSION.search(ctx.tail()) or _VERSION.search(ctx.sniff.first_line.encode())
        version = ctx.sniff.value(f"{top}summary.checkov_version") or (found.group(1).decode() if found else None)
        ctx.tool_version = version
        base = ("*",) if top else ()
        listed: dict[str, int] = {}
        for key, result in _LISTS:
            if not ctx.only_empty(key):
                at = pointer(*base, "results", key)
                for i, rec in enumerate(ctx.stream(f"{top}results.{key}.item")):
                    listed[key] = i + 1
                    yield _record(rec, result, version, f"{at}/{i}")
        ctx.completeness = "whole-document"
        if not top and _counts({k: ctx.sniff.value(f"summary.{k}") for k, _ in _TOTALS}):
            ctx.completeness = "verified"  # one report whose summary leads the file: it counts the lists streamed
        if not top:
            for count, key in _TOTALS:
                stated = ctx.sniff.value(f"summary.{count}")
                if (
                    isinstance(stated, int)
                    and not isinstance(stated, bool)
                    and stated != listed.get(key, 0)
                    and (key in listed or _occurs(ctx, key))  # --quiet leaves the passed and skipped lists out
                ):
                    raise ctx.error(
                        f"incomplete report: summary.{count}={stated} but results.{key} holds {listed.get(key, 0)} (cut short?)",
                        pointer=pointer("summary", count),
                    )
        if not ctx.only_empty("parsing_errors"):
            for i, p in enumerate(ctx.stream(f"{top}results.parsing_errors.item")):
                yield _parse_error(p, version, pointer(*base, "results", "parsing_errors", i))


def _occurs(ctx: ParseContext, key: str) -> bool:
    """Whether the JSON key ``key`` occurs anywhere in the file (a chunked byte scan)."""
    needle = b'"' + key.encode() + b'"'
    with ctx.path.open("rb") as f:
        carry = b""
        while chunk := f.read(1 << 22):
            if needle in carry + chunk:
                return True
            carry = chunk[-len(needle) :]
    return False


#: summary count -> the results list it counts
_TOTALS = (("passed", "passed_checks"), ("failed", "failed_checks"), ("skipped", "skipped_checks"))


def _counts(summary: Any) -> bool:
    """Whether a summary states the three totals as whole numbers."""
    return isinstance(summary, dict) and all(
        isinstance(summary.get(k), int) and not isinstance(summary.get(k), bool) for k, _ in _TOTALS
    )


def _check_summary(rep: dict[str, Any], results: Any, base: tuple[Any, ...], ctx: ParseContext) -> bool:
    """A report's ``summary`` states how many checks passed, failed and were skipped: the lists must hold that
    many, else the file was cut short or edited and is refused (a partial report must not close findings).
    Whether all three totals were stated and checked."""
    summary = rep.get("summary")
    if not isinstance(summary, dict) or not isinstance(results, dict):
        return False
    for count, key in _TOTALS:
        stated, listed = summary.get(count), results.get(key)
        if isinstance(stated, int) and not isinstance(stated, bool) and isinstance(listed, list) and stated != len(listed):
            raise ctx.error(
                f"incomplete report: summary.{count}={stated} but results.{key} holds {len(listed)} (cut short?)",
                pointer=pointer(*base, "summary", count),
            )
    return _counts(summary)


def _record(rec: dict[str, Any], result: str, version: str | None, ptr: str) -> Finding:
    """One check record (the hot path of big reports: plain positional construction)."""
    get = rec.get
    check_id = text(get("check_id")) or "unknown"
    resource = text(get("resource"))
    lines = get("file_line_range") or (None,)
    file = relpath(get("file_path") or get("repo_file_path"))
    if file:
        file = file.lstrip("/")
    name = text(get("check_name"))
    sev = get("severity")
    message = text((get("check_result") or {}).get("suppress_comment")) if result == "info" else name
    return Finding(
        "checkov", version, None, "ingest", check_id, name, severity(sev) if sev else None, result, resource,
        function_of(resource), file, as_int(lines[0]) if lines else None, provider_from_rule(check_id), None, None,
        (), ptr, message,
    )  # fmt: skip


def _parse_error(p: Any, version: str | None, ptr: str) -> Finding:
    return make(
        "checkov",
        "parsing_error",
        "error",
        ptr,
        version=version,
        title="checkov could not parse this file",
        file=relpath(p),
        message="file not scanned: checkov could not parse it",
    )


FORMAT = CheckovJson()
