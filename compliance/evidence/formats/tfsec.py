"""tfsec JSON: ``{results: [...] | null}``; ``status`` is "failed" or "passed" when present."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, as_int, make, pointer, provider, relpath, severity, text


class TfsecJson:
    name = "tfsec-json"
    title = "tfsec JSON"
    tool = "tfsec"
    priority = 60

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        if sniff.kind != "json" or sniff.top != "map":
            return False
        if sniff.any("results.item.rule_id", "results.item.long_id", "results.item.legacy_rule_id"):
            return "results.item.location" in sniff.keys or "results.item.rule_provider" in sniff.keys
        top = {k for k in sniff.keys if "." not in k}
        return top == {"results"} and sniff.value("results") is None and b"null" in head

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        for i, r in ctx.items("results.item"):
            loc = r.get("location") or {}
            status = str(r.get("status") or "failed").lower()
            yield make(
                "tfsec",
                text(r.get("long_id") or r.get("rule_id")) or "unknown",
                "pass" if status == "passed" else "fail",
                pointer("results", i),
                title=text(r.get("rule_description")),
                severity=severity(r.get("severity")),
                resource=text(r.get("resource")),
                file=relpath(loc.get("filename")),
                line=as_int(loc.get("start_line")),
                provider=provider(r.get("rule_provider")),
                message=text(r.get("description")),
            )


FORMAT = TfsecJson()
