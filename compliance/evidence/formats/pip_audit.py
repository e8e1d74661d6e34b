"""pip-audit JSON: ``{dependencies: [...]}`` (current) or a bare list (legacy) of ``{name, version, vulns[]}``.

One failed finding per vulnerability of a dependency; dependencies pip-audit skipped are not findings.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, make, pointer, text


class PipAuditJson:
    name = "pip-audit-json"
    title = "pip-audit JSON (current and legacy list shape)"
    tool = "pip-audit"
    priority = 40

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        if sniff.kind != "json":
            return False
        if sniff.top == "map":
            return "dependencies.item.name" in sniff.keys and sniff.any(
                "dependencies.item.vulns", "dependencies.item.skip_reason"
            )
        return sniff.top == "array" and "item.name" in sniff.keys and sniff.any("item.vulns", "item.skip_reason")

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        legacy = ctx.sniff.top == "array"
        for i, dep in ctx.items("item" if legacy else "dependencies.item"):
            base = (i,) if legacy else ("dependencies", i)
            pkg = f"{dep.get('name')}@{dep.get('version')}"
            for j, v in enumerate(dep.get("vulns") or []):
                fixes = v.get("fix_versions") or []
                yield make(
                    "pip-audit",
                    text(v.get("id")) or "unknown",
                    "fail",
                    pointer(*base, "vulns", j),
                    title=f"{v.get('id')} in {dep.get('name')}",
                    resource=f"pypi:{pkg}",
                    message=(f"fixed in {', '.join(map(str, fixes))}: " if fixes else "")
                    + (text(v.get("description")) or "")[:500],
                )


FORMAT = PipAuditJson()
