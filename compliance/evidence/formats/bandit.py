"""Bandit JSON: ``results[]`` (failures only), ``errors[]`` (files bandit could not scan), ``generated_at``.

The files in ``metrics`` (every file bandit scanned) count as covered, so a later scan that no longer
reports a finding in a scanned file closes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, as_int, cwes, iso_time, make, pointer, relpath, severity, text


class BanditJson:
    name = "bandit-json"
    title = "Bandit JSON"
    tool = "bandit"
    priority = 30

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        return (
            sniff.kind == "json"
            and sniff.top == "map"
            and ("generated_at" in sniff.keys and ("results" in sniff.keys or "metrics" in sniff.keys or b'"results"' in head))
        )

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        when = iso_time(ctx.first("generated_at"))
        ctx.scan_time = when
        if not ctx.streaming:
            metrics = ctx.load().get("metrics") or {}
            ctx.covered.update(p for p in (relpath(k) for k in metrics if k != "_totals") if p)
        for i, r in ctx.items("results.item"):
            yield make(
                "bandit",
                text(r.get("test_id")) or "unknown",
                "fail",
                pointer("results", i),
                time=when,
                title=text(r.get("test_name")),
                severity=severity(r.get("issue_severity")),
                file=relpath(r.get("filename")),
                line=_start_line(r),
                cwes=cwes(r.get("issue_cwe")),
                message=text(r.get("issue_text")),
            )
        for i, e in ctx.items("errors.item"):
            yield make(
                "bandit",
                "scan_error",
                "error",
                pointer("errors", i),
                time=when,
                title="bandit could not scan this file",
                file=relpath(e.get("filename")) if isinstance(e, dict) else None,
                message=text(e.get("reason")) if isinstance(e, dict) else text(e),
            )


def _start_line(r: dict[str, Any]) -> int | None:
    """Where the flagged code starts: the first of ``line_range`` (bandit's SARIF gives that as ``startLine``;
    ``line_number`` is the line the check fired on, the last line of a call spread over several)."""
    span = r.get("line_range")
    first = as_int(span[0]) if isinstance(span, list) and span else None
    return first if first is not None else as_int(r.get("line_number"))


FORMAT = BanditJson()
