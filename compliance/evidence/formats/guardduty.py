"""Native Amazon GuardDuty findings JSON (``aws guardduty get-findings``: ``{"Findings": [...]}``, a bare
list, or one finding). The finding ``Type`` (e.g. ``Backdoor:EC2/C&CActivity.B``) is the rule id; the
numeric ``Severity`` maps to high (7-8.9), medium (4-6.9), low (1-3.9); an archived finding is info.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, function_of, iso_time, make, pointer, severity, text


class GuardDutyJson:
    name = "guardduty-json"
    title = "Amazon GuardDuty findings JSON (native API shape)"
    tool = "guardduty"
    priority = 25

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        if sniff.kind != "json":
            return False
        for prefix in ("", "item.", "Findings.item."):
            if {f"{prefix}Type", f"{prefix}Service", f"{prefix}Resource", f"{prefix}AccountId"} <= sniff.keys and (
                f"{prefix}ProductArn" not in sniff.keys
            ):
                return True
        return False

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        if ctx.sniff.top == "array":
            for i, f in ctx.items("item"):
                yield _finding(f, pointer(i))
        elif "Findings" in ctx.sniff.keys:
            for i, f in ctx.items("Findings.item"):
                yield _finding(f, pointer("Findings", i))
        else:
            yield _finding(ctx.load(), "")


def _first_arn(node: Any, depth: int = 0) -> str | None:
    if depth > 6:
        return None
    if isinstance(node, dict):
        for k in sorted(node):
            value = node[k]
            if (k.endswith("Arn") or k in ("InstanceId", "FunctionName", "Name")) and isinstance(value, str) and value:
                return value
        for k in sorted(node):
            hit = _first_arn(node[k], depth + 1)
            if hit:
                return hit
    elif isinstance(node, list):
        for x in node:
            hit = _first_arn(x, depth + 1)
            if hit:
                return hit
    return None


def _finding(f: dict[str, Any], ptr: str) -> Finding:
    res = f.get("Resource") or {}
    lam = res.get("LambdaDetails") or {}
    resource = text(lam.get("FunctionArn")) or _first_arn(res) or text(res.get("ResourceType"))
    archived = bool((f.get("Service") or {}).get("Archived"))
    return make(
        "guardduty",
        text(f.get("Type")) or "unknown",
        "info" if archived else "fail",
        ptr,
        time=iso_time(f.get("UpdatedAt") or f.get("CreatedAt")),
        title=text(f.get("Title")),
        severity=severity(f.get("Severity")),
        resource=resource,
        function=text(lam.get("FunctionName")) or function_of(resource),
        provider="aws",
        account=text(f.get("AccountId")),
        region=text(f.get("Region")),
        message=text(f.get("Description")),
    )


FORMAT = GuardDutyJson()
