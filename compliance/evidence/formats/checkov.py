"""Checkov JSON: one framework report (a dict), several (a list), or a bare summary when nothing matched.

Records: ``results.failed_checks`` (fail), ``passed_checks`` (pass), ``skipped_checks`` (info, suppressed),
and ``parsing_errors`` (error: files checkov could not read). Version: ``summary.checkov_version``; no timestamp.
"""

from __future__ import annotations

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


class CheckovJson:
    name = "checkov-json"
    title = "Checkov JSON (one framework, a list of frameworks, or the empty summary)"
    tool = "checkov"
    priority = 20

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        if sniff.kind != "json":
            return False
        if sniff.top == "map":
            return (
                sniff.has("check_type", "results")
                or ("checkov_version" in sniff.keys and sniff.has("passed", "failed"))
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
            return
        reports = doc if isinstance(doc, list) else [doc]
        for n, rep in enumerate(reports):
            if not isinstance(rep, dict):
                raise ctx.error("a checkov report must be an object", pointer=pointer(n))
            base: tuple[Any, ...] = (n,) if isinstance(doc, list) else ()
            version = text((rep.get("summary") or {}).get("checkov_version"))
            ctx.tool_version = ctx.tool_version or version
            results = rep.get("results") or {}
            for key, result in _LISTS:
                for i, rec in enumerate(results.get(key) or []):
                    yield _record(rec, result, version, pointer(*base, "results", key, i))
            for i, p in enumerate(results.get("parsing_errors") or []):
                yield _parse_error(p, version, pointer(*base, "results", "parsing_errors", i))

    def _stream(self, ctx: ParseContext) -> Iterator[Finding]:
        top = "item." if ctx.sniff.top == "array" else ""
        summary = ctx.first(f"{top}summary") or {}
        version = text(summary.get("checkov_version")) if isinstance(summary, dict) else None
        ctx.tool_version = version
        for key, result in _LISTS:
            for i, rec in enumerate(ctx.stream(f"{top}results.{key}.item")):
                yield _record(rec, result, version, pointer(*(("*",) if top else ()), "results", key, i))
        for i, p in enumerate(ctx.stream(f"{top}results.parsing_errors.item")):
            yield _parse_error(p, version, pointer(*(("*",) if top else ()), "results", "parsing_errors", i))


def _record(rec: dict[str, Any], result: str, version: str | None, ptr: str) -> Finding:
    check_id = text(rec.get("check_id")) or "unknown"
    resource = text(rec.get("resource"))
    lines = rec.get("file_line_range") or [None]
    file = relpath(rec.get("file_path") or rec.get("repo_file_path"))
    if file:
        file = file.lstrip("/")
    cr = rec.get("check_result") or {}
    return make(
        "checkov",
        check_id,
        result,
        ptr,
        version=version,
        title=text(rec.get("check_name")),
        severity=severity(rec.get("severity")),
        resource=resource,
        function=function_of(resource),
        file=file,
        line=as_int(lines[0]) if lines else None,
        provider=provider_from_rule(check_id),
        message=text(cr.get("suppress_comment")) if result == "info" else text(rec.get("check_name")),
    )


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
