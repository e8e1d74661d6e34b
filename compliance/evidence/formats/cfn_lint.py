"""cfn-lint JSON: a list of matches (``Rule.Id`` E/W/I, ``Level``, ``Filename``, ``Location``). ``[]`` is clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, as_int, make, pointer, relpath, severity, text

_LEVEL = {"error": "high", "warning": "medium", "informational": "info"}


class CfnLintJson:
    name = "cfn-lint-json"
    title = "cfn-lint JSON"
    tool = "cfn-lint"
    priority = 40

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        return sniff.kind == "json" and sniff.top == "array" and sniff.has("item.Rule", "item.Location")

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        for i, m in ctx.items("item"):
            rule = m.get("Rule") or {}
            loc = m.get("Location") or {}
            where = loc.get("Path") or []
            resource = where[1] if len(where) > 1 and where[0] == "Resources" else None
            yield make(
                "cfn-lint",
                text(rule.get("Id")) or "unknown",
                "fail",
                pointer(i),
                title=text(rule.get("ShortDescription")),
                severity=_LEVEL.get(str(m.get("Level", "")).lower()) or severity(m.get("Level")),
                resource=text(resource),
                file=relpath(m.get("Filename")),
                line=as_int((loc.get("Start") or {}).get("LineNumber")),
                provider="aws",
                message=text(m.get("Message")),
            )


FORMAT = CfnLintJson()
