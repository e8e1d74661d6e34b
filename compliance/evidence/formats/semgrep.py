"""Semgrep JSON: ``results[]`` (matches), ``errors[]`` (rules or files semgrep could not run), ``paths.scanned``.

Rule ids keep semgrep's path-derived prefix as reported; mapping strips leading components when looking
them up in the KB. ``paths.scanned`` counts as covered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, as_int, cwes, make, pointer, relpath, severity, text


class SemgrepJson:
    name = "semgrep-json"
    title = "Semgrep JSON"
    tool = "semgrep"
    priority = 30

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        if sniff.kind != "json" or sniff.top != "map":
            return False
        top = {k for k in sniff.keys if "." not in k}
        return (
            "results.item.check_id" in sniff.keys
            or (
                sniff.has("results", "errors")
                and (sniff.any("paths", "skipped_rules", "engine_requested") or b'"check_id"' in head)
            )
            or top == {"results", "errors"}  # a clean run of semgrep 0.x, which wrote nothing else
        )

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        version = text(ctx.first("version"))
        ctx.tool_version = version
        if not ctx.streaming:
            scanned = (ctx.load().get("paths") or {}).get("scanned") or []
            ctx.covered.update(p for p in (relpath(s) for s in scanned) if p)
        for i, r in ctx.items("results.item"):
            extra = r.get("extra") or {}
            meta = extra.get("metadata") or {}
            yield make(
                "semgrep",
                text(r.get("check_id")) or "unknown",
                "fail",
                pointer("results", i),
                version=version,
                title=text(meta.get("shortDescription")),
                severity=severity(extra.get("severity")),
                file=relpath(r.get("path")),
                line=as_int((r.get("start") or {}).get("line")),
                cwes=cwes(meta.get("cwe")),
                message=text(extra.get("message")),
            )
        for i, e in ctx.items("errors.item"):
            spans = e.get("spans") or [{}]
            yield make(
                "semgrep",
                text(e.get("rule_id")) or "scan_error",
                "error",
                pointer("errors", i),
                version=version,
                title=text(kind[0] if isinstance(kind := e.get("type"), list) and kind else kind),  # 1.x: ["Kind", detail]
                file=relpath(e.get("path") or (spans[0] or {}).get("file")),
                message=(text(e.get("message")) or "").split("\n")[0] or None,
            )


FORMAT = SemgrepJson()
