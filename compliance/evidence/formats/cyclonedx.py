"""CycloneDX JSON with ``vulnerabilities[]`` (checkov, trivy, grype, VEX-style BOMs).

One finding per vulnerability. A VEX ``analysis.state`` of not_affected / false_positive / resolved
makes it a pass; in_triage or exploitable stays a failure. The affected component (``affects[].ref`` →
component purl or name) is the resource. The producing tool comes from ``metadata.tools`` (a list in
1.4, ``{components: [...]}`` from 1.5).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compliance.evidence.model import Finding
from compliance.evidence.parsing import (
    ParseContext,
    Sniff,
    canonical_tool,
    cwes,
    iso_time,
    known_tool,
    make,
    pointer,
    provider_from_rule,
    severity,
    text,
)

_PASS_STATES = {"not_affected", "false_positive", "resolved", "resolved_with_pedigree"}


class CycloneDxJson:
    name = "cyclonedx-json"
    title = "CycloneDX JSON with vulnerabilities"
    tool = "cyclonedx"
    priority = 30

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        return (
            sniff.kind == "json"
            and sniff.top == "map"
            and (
                str(sniff.value("bomFormat") or "").lower() == "cyclonedx"
                or (sniff.has("components", "serialNumber") and b"CycloneDX" in head)
            )
        )

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        meta = ctx.first("metadata") or {}
        tools = meta.get("tools") or []
        if isinstance(tools, dict):
            tools = tools.get("components") or []
        named = [t for t in tools if isinstance(t, dict) and not str(t.get("name", "")).lower().startswith("cyclonedx")]
        first_tool = named[0] if named else {}
        tool = canonical_tool(first_tool.get("name"), "cyclonedx") if first_tool else "cyclonedx"
        version = text(first_tool.get("version"))
        when = iso_time(meta.get("timestamp"))
        ctx.tool_version, ctx.scan_time = version, when
        names: dict[str, str] = {}
        if not ctx.streaming:
            _index(ctx.load().get("components") or [], names)
        for i, v in ctx.items("vulnerabilities.item"):
            ratings = v.get("ratings") or []
            sev = next((severity(r.get("severity")) for r in ratings if severity(r.get("severity"))), None)
            if sev is None:
                sev = next((severity(r.get("score")) for r in ratings if isinstance(r.get("score"), (int, float))), None)
            state = str((v.get("analysis") or {}).get("state") or "").lower()
            refs = [str(a.get("ref")) for a in v.get("affects") or [] if isinstance(a, dict) and a.get("ref")]
            resource = names.get(refs[0], refs[0]) if refs else None
            rid = text(v.get("id")) or "unknown"
            desc = text(v.get("description"))
            source = (v.get("source") or {}).get("name") if isinstance(v.get("source"), dict) else None
            yield make(
                known_tool(source) or tool,
                rid,
                "pass" if state in _PASS_STATES else "fail",
                pointer("vulnerabilities", i),
                version=version,
                time=when,
                title=(desc or "").split(". ", 1)[-1][:200] or None,
                severity=sev,
                resource=resource,
                provider=provider_from_rule(rid),
                cwes=cwes(v.get("cwes")),
                message=desc,
            )


def _index(components: list[Any], out: dict[str, str]) -> None:
    for c in components:
        if isinstance(c, dict):
            ref = c.get("bom-ref")
            if ref:
                out[ref] = str(c.get("purl") or c.get("name") or ref)
            _index(c.get("components") or [], out)


FORMAT = CycloneDxJson()
