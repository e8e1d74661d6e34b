"""Prowler JSON: OCSF (4.x/5.x, ``status_code``), native 3.x (an array with ``CheckID``/``Status``) and
2.x NDJSON (one object per line, ``Control ID``, keys with spaces).

``status_code``/``Status``: PASS → pass, FAIL → fail, MANUAL/INFO → info. OCSF ``status`` is the workflow
state and is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, function_of, iso_time, make, pointer, provider, severity, text

_RESULT = {"pass": "pass", "fail": "fail", "manual": "info", "info": "info", "warning": "fail", "muted": "info"}
_CHECK = re.compile(r"^\[(\w+)\]")


def status(value: Any) -> str:
    return _RESULT.get(str(value or "").strip().lower(), "info")


class ProwlerJson:
    name = "prowler-json"
    title = "Prowler JSON: OCSF (4.x, 5.x), native 3.x array, 2.x NDJSON"
    tool = "prowler"
    priority = 30

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        if sniff.kind != "json":
            return False
        if sniff.ndjson or sniff.top == "map":  # 2.x: one object per line (a run with one finding: one line)
            return sniff.has("Control ID") or sniff.has("Control", "Account Number")
        if sniff.top != "array":
            return False
        ocsf = "item.status_code" in sniff.keys and "item.metadata" in sniff.keys and b"prowler" in head.lower()
        native = sniff.has("item.CheckID", "item.Status") and "item.AssessmentStartTime" in sniff.keys
        return ocsf or native

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        if ctx.sniff.ndjson or ctx.sniff.top == "map":
            yield from self._ndjson(ctx)
            return
        for i, r in ctx.items("item"):
            if "status_code" in r:
                yield _ocsf(r, pointer(i))
            else:
                yield _native(r, pointer(i))

    def _ndjson(self, ctx: ParseContext) -> Iterator[Finding]:
        for n, line in ctx.lines():
            if not line.strip():
                continue
            try:
                r = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise ctx.error(f"invalid JSON line: {exc}", line=n) from None
            if not isinstance(r, dict):
                raise ctx.error("each line must be a JSON object", line=n)
            control = text(r.get("Control")) or ""
            m = _CHECK.match(control)
            yield make(
                "prowler",
                m.group(1) if m else text(r.get("Control ID")) or "unknown",
                status(r.get("Status")),
                f"line {n}",
                time=iso_time(r.get("Timestamp")),
                title=_CHECK.sub("", control).strip() or None,
                severity=severity(r.get("Severity")),
                resource=text(r.get("Resource ID")),
                provider="aws",
                account=text(r.get("Account Number")),
                region=text(r.get("Region")),
                message=text(r.get("Message")),
            )


def _ocsf(r: dict[str, Any], ptr: str) -> Finding:
    meta = r.get("metadata") or {}
    info = r.get("finding_info") or {}
    res = (r.get("resources") or [{}])[0] or {}
    cloud = r.get("cloud") or {}
    resource = text(res.get("uid") or res.get("name"))
    when = iso_time(r.get("time") or r.get("time_dt") or r.get("event_time") or info.get("created_time"))
    return make(
        "prowler",
        text(meta.get("event_code")) or "unknown",
        status(r.get("status_code")),
        ptr,
        version=_version((meta.get("product") or {}).get("version")),
        time=when,
        title=text(info.get("title")),
        severity=severity(r.get("severity")),
        resource=resource,
        function=function_of(resource),
        provider=provider(cloud.get("provider")),
        account=text((cloud.get("account") or {}).get("uid")),
        region=text(res.get("region") or cloud.get("region")),
        message=text(r.get("status_detail") or r.get("message")),
    )


def _native(r: dict[str, Any], ptr: str) -> Finding:
    resource = text(r.get("ResourceArn") or r.get("ResourceId"))
    return make(
        "prowler",
        text(r.get("CheckID")) or "unknown",
        status(r.get("Status")),
        ptr,
        time=iso_time(r.get("AssessmentStartTime")),
        title=text(r.get("CheckTitle")),
        severity=severity(r.get("Severity")),
        resource=resource,
        function=function_of(resource),
        provider=provider(r.get("Provider")) or "aws",
        account=text(r.get("AccountId") or r.get("Subscription") or r.get("ProjectId")),  # 3.x AWS, Azure, GCP
        region=text(r.get("Region") or r.get("Location")),
        message=text(r.get("StatusExtended")),
    )


def _version(v: Any) -> str | None:
    s = text(v)
    return None if s is None or s.startswith("<") else s


FORMAT = ProwlerJson()
