"""CycloneDX JSON with ``vulnerabilities[]`` (checkov, trivy, grype, VEX-style BOMs).

One finding per vulnerability. A VEX ``analysis.state`` of not_affected / false_positive / resolved
makes it a pass; in_triage or exploitable stays a failure. The affected component (``affects[].ref`` →
component purl or name) is the resource. The producing tool comes from ``metadata.tools`` (a list in
1.4, ``{components: [...]}`` from 1.5).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compliance.evidence.model import Finding
from compliance.evidence.parsing import (
    ParseContext,
    Sniff,
    canonical_tool,
    cwes,
    function_of,
    iso_time,
    known_tool,
    make,
    pointer,
    provider_from_rule,
    relpath,
    severity,
    text,
)

#: checkov: the purl path after the scan root ("cli_repo/<root>/"), up to the version
_CHECKOV_PURL = re.compile(r"^pkg:[\w.+-]+/cli_repo/[^/]+/(.+)@[^@]*$")
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
        names: dict[str, tuple[str, str | None]] = {}
        if not ctx.streaming:
            _index(ctx.load().get("components") or [], names)
        for i, v in ctx.items("vulnerabilities.item"):
            ratings = v.get("ratings") or []
            sev = next((severity(r.get("severity")) for r in ratings if severity(r.get("severity"))), None)
            if sev is None:
                sev = next((severity(r.get("score")) for r in ratings if isinstance(r.get("score"), (int, float))), None)
            state = str((v.get("analysis") or {}).get("state") or "").lower()
            refs = [str(a.get("ref")) for a in v.get("affects") or [] if isinstance(a, dict) and a.get("ref")]
            resource, file = names.get(refs[0], (refs[0], None)) if refs else (None, None)
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
                function=function_of(resource),
                file=file,
                provider=provider_from_rule(rid),
                cwes=cwes(v.get("cwes")),
                message=desc,
            )


def _index(components: list[Any], out: dict[str, tuple[str, str | None]]) -> None:
    """bom-ref -> (resource, file) of every component, nested ones too."""
    for c in components:
        if isinstance(c, dict):
            ref = c.get("bom-ref")
            if ref:
                out[ref] = _component(c, str(ref))
            _index(c.get("components") or [], out)


def _component(c: dict[str, Any], ref: str) -> tuple[str, str | None]:
    """A component as a finding names it. Checkov's IaC components
    (``pkg:<framework>/cli_repo/<scan root>/<file>/<resource>@sha1:…``) are the resource by its name in the
    file the purl names, as in checkov's JSON; a package is its purl (or name)."""
    purl, name = str(c.get("purl") or ""), text(c.get("name"))
    m = _CHECKOV_PURL.match(purl)
    if m and name:
        path = urllib.parse.unquote(m.group(1))
        if path.endswith("/" + name):
            return name, relpath(path[: -len(name) - 1])
    return purl or name or ref, None


FORMAT = CycloneDxJson()
