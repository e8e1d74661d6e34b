"""Trivy JSON: schema 2 (``{SchemaVersion, CreatedAt, Results[]}``) and the legacy bare list of results.

Per result: ``Vulnerabilities[]`` (fail), ``Misconfigurations[]`` (``Status`` FAIL/PASS; the AVD id is
the rule), ``Secrets[]`` (fail; the masked match is not copied).
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
    cwes,
    iso_time,
    make,
    pointer,
    provider,
    provider_from_rule,
    relpath,
    severity,
    text,
)


class TrivyJson:
    name = "trivy-json"
    title = "Trivy JSON (schema 2 and legacy list)"
    tool = "trivy"
    priority = 30

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        if sniff.kind != "json":
            return False
        if sniff.top == "map":
            return "SchemaVersion" in sniff.keys and sniff.any("Results", "ArtifactName")
        return (
            sniff.top == "array"
            and "item.Target" in sniff.keys
            and sniff.any("item.Vulnerabilities", "item.Misconfigurations", "item.Secrets", "item.Type")
        )

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        legacy = ctx.sniff.top == "array"
        version = when = None
        if not legacy:
            trivy = ctx.first("Trivy") or {}
            version = text(trivy.get("Version")) if isinstance(trivy, dict) else None
            when = iso_time(ctx.first("CreatedAt"))
            ctx.tool_version, ctx.scan_time = version, when
        for i, res in ctx.items("item" if legacy else "Results.item"):
            base: tuple[Any, ...] = (i,) if legacy else ("Results", i)
            target = relpath(res.get("Target"))
            if target:
                ctx.covered.add(target)
            common: dict[str, Any] = {"version": version, "time": when, "file": target}
            for j, v in enumerate(res.get("Vulnerabilities") or []):
                rid = text(v.get("VulnerabilityID")) or "unknown"
                pkg = f"{v.get('PkgName', '')}@{v.get('InstalledVersion', '')}"
                yield make("trivy", rid, "fail", pointer(*base, "Vulnerabilities", j), title=text(v.get("Title")),
                           severity=severity(v.get("Severity")), resource=pkg, cwes=cwes(v.get("CweIDs")),
                           message=text(v.get("Title") or v.get("Description")), **common)  # fmt: skip
            for j, m in enumerate(res.get("Misconfigurations") or []):
                rid = text(m.get("AVDID") or m.get("ID")) or "unknown"
                cause = m.get("CauseMetadata") or {}
                st = str(m.get("Status") or "FAIL").upper()
                yield make("trivy", rid, "pass" if st == "PASS" else "fail" if st == "FAIL" else "info",
                           pointer(*base, "Misconfigurations", j), title=text(m.get("Title")),
                           severity=severity(m.get("Severity")),
                           resource=text(cause.get("Resource")), line=as_int(cause.get("StartLine")),
                           provider=provider(cause.get("Provider")) or provider_from_rule(rid),
                           message=text(m.get("Message") or m.get("Description")), **{**common, "file": target})  # fmt: skip
            for j, s in enumerate(res.get("Secrets") or []):
                yield make("trivy", text(s.get("RuleID")) or "unknown", "fail", pointer(*base, "Secrets", j),
                           title=text(s.get("Title")), severity=severity(s.get("Severity")), line=as_int(s.get("StartLine")),
                           cwes=("CWE-798",), message=text(s.get("Title") or s.get("Category")), **common)  # fmt: skip


FORMAT = TrivyJson()
