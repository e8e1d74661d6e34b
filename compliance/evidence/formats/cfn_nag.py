"""cfn-nag JSON: ``[{filename, file_results{violations[]}}]``; one finding per violation and logical resource."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, as_int, make, pointer, relpath, text

_SEV = {"FAIL": "high", "WARN": "medium"}


class CfnNagJson:
    name = "cfn-nag-json"
    title = "cfn-nag JSON"
    tool = "cfn_nag"
    priority = 40

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        return sniff.kind == "json" and sniff.top == "array" and sniff.has("item.filename", "item.file_results")

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        for i, entry in ctx.items("item"):
            file = relpath(entry.get("filename"))
            if file:
                ctx.covered.add(file)
            for j, v in enumerate((entry.get("file_results") or {}).get("violations") or []):
                ids = v.get("logical_resource_ids") or [None]
                lines = v.get("line_numbers") or []
                for k, res in enumerate(ids):
                    yield make(
                        "cfn_nag",
                        text(v.get("id")) or "unknown",
                        "fail",
                        pointer(i, "file_results", "violations", j, "logical_resource_ids", k),
                        title=text(v.get("name")),
                        severity=_SEV.get(str(v.get("type", "")).upper()),
                        resource=text(res),
                        file=file,
                        line=as_int(lines[k]) if k < len(lines) else None,
                        provider="aws",
                        message=text(v.get("message")),
                    )


FORMAT = CfnNagJson()
