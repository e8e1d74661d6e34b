"""KICS JSON: findings grouped by query (``queries[].files[]``); one finding per file entry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from compliance.evidence.model import Finding
from compliance.evidence.parsing import (
    ParseContext,
    Sniff,
    as_int,
    cwes,
    iso_time,
    make,
    pointer,
    provider,
    relpath,
    severity,
    text,
)


class KicsJson:
    name = "kics-json"
    title = "KICS JSON"
    tool = "kics"
    priority = 40

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        return (
            sniff.kind == "json"
            and sniff.top == "map"
            and (sniff.has("queries_total") or "kics_version" in sniff.keys or "queries.item.query_id" in sniff.keys)
        )

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        version = text(ctx.first("kics_version"))
        when = iso_time(ctx.first("end") or ctx.first("start"))
        ctx.tool_version, ctx.scan_time = version, when
        for i, q in ctx.items("queries.item"):
            qid = text(q.get("query_id")) or "unknown"
            plat = provider(q.get("cloud_provider")) if q.get("cloud_provider") else None
            for j, f in enumerate(q.get("files") or []):
                yield make(
                    "kics",
                    qid,
                    "fail",
                    pointer("queries", i, "files", j),
                    version=version,
                    time=when,
                    title=text(q.get("query_name")),
                    severity=severity(q.get("severity")),
                    resource=text(f.get("resource_name") or f.get("search_key")),
                    file=relpath(f.get("file_name")),
                    line=as_int(f.get("line")),
                    provider=plat,
                    cwes=cwes(q.get("cwe")),
                    message=text(f.get("actual_value") or f.get("expected_value") or q.get("description")),
                )


FORMAT = KicsJson()
