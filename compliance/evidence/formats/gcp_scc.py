"""Google Cloud Security Command Center findings JSON: ``gcloud scc findings list --format=json`` (a list of
``{finding, resource}``), the API's ``{listFindingsResults: [...]}``, or a bare list of findings.

The ``category`` (e.g. ``PUBLIC_BUCKET_ACL``) is the rule id; ``state`` ACTIVE is a failure and INACTIVE a
pass (the issue is no longer present); a muted finding is info. The project comes from the resource.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, cwes, iso_time, make, pointer, severity, text

_PROJECT = re.compile(r"/projects/([^/]+)")
_LOCATION = re.compile(r"/locations/([^/]+)")


class GcpSccJson:
    name = "gcp-scc-json"
    title = "Google Cloud Security Command Center findings JSON"
    tool = "gcp-scc"
    priority = 25

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        if sniff.kind != "json":
            return False
        for prefix in ("item.finding.", "listFindingsResults.item.finding.", "findings.item.", "item."):
            if {f"{prefix}category", f"{prefix}resourceName"} <= sniff.keys and sniff.any(
                f"{prefix}state", f"{prefix}findingClass", f"{prefix}canonicalName", f"{prefix}parent"
            ):
                return True
        return False

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        base: tuple[str, ...] = ()
        if ctx.sniff.top == "array":
            prefix = "item"
        elif any(k.startswith("listFindingsResults") for k in ctx.sniff.keys):
            prefix, base = "listFindingsResults.item", ("listFindingsResults",)
        else:
            prefix, base = "findings.item", ("findings",)
        for i, entry in ctx.items(prefix):
            f = entry.get("finding") if isinstance(entry.get("finding"), dict) else entry
            res = entry.get("resource") if isinstance(entry.get("resource"), dict) else {}
            yield _finding(f, res, pointer(*base, i))


def _finding(f: dict[str, Any], res: dict[str, Any], ptr: str) -> Finding:
    name = text(f.get("resourceName")) or text(res.get("name"))
    project = text(res.get("projectDisplayName")) or (m.group(1) if (m := _PROJECT.search(name or "")) else None)
    state = str(f.get("state") or "ACTIVE").upper()
    muted = str(f.get("mute") or "").upper() == "MUTED"
    rtype = str(res.get("type") or "")
    function = name.rsplit("/", 1)[-1] if name and ("cloudfunctions" in name or "Function" in rtype) else None
    vuln = (f.get("vulnerability") or {}).get("cve") or {}
    return make(
        "gcp-scc",
        text(f.get("category")) or "unknown",
        "info" if muted else "pass" if state == "INACTIVE" else "fail",
        ptr,
        time=iso_time(f.get("eventTime") or f.get("createTime")),
        title=text(f.get("category")),
        severity=severity(f.get("severity")),
        resource=name,
        function=function,
        provider="gcp",
        account=project,
        region=text(res.get("location")) or (m2.group(1) if (m2 := _LOCATION.search(name or "")) else None),
        cwes=cwes([c.get("id") for c in vuln.get("cwes") or [] if isinstance(c, dict)]),
        message=text(f.get("description")) or text((f.get("sourceProperties") or {}).get("Explanation")),
    )


FORMAT = GcpSccJson()
