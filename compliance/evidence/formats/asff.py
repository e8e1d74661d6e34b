"""AWS Security Finding Format (Security Hub, and GuardDuty, Inspector, Config, prowler, trivy findings in ASFF).

Wrappers: a bare array, ``{"Findings": [...]}`` (the get-findings API) or ``{"findings": [...]}``.
The tool is read from ``ProductArn`` (``product/aws/guardduty``, ``aws/inspector``, ``prowler/prowler``…)
or ``ProductFields``. ``Compliance.Status`` (PASSED/FAILED/WARNING/NOT_AVAILABLE) is the only pass/fail;
findings without it (threats, vulnerabilities) are failures.
The rule id: the Security Hub control id, the CVE of a vulnerability, the GuardDuty type, else ``GeneratorId``
(without a ``prowler-`` prefix).
"""

from __future__ import annotations

import re
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
    make,
    pointer,
    severity,
    text,
)

_COMPLIANCE = {"passed": "pass", "failed": "fail", "warning": "fail", "not_available": "error"}
_PRODUCT = re.compile(r":product/([^/]+)/([^/]+)")
_GD_TYPE = re.compile(r"^([A-Za-z]+:[A-Za-z0-9]+)-")


class Asff:
    name = "asff-json"
    title = "AWS Security Finding Format (Security Hub; GuardDuty, Inspector, Config, prowler, trivy in ASFF)"
    tool = "securityhub"
    priority = 20

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        if sniff.kind != "json":
            return False
        for prefix in ("item.", "Findings.item.", "findings.item."):
            if f"{prefix}SchemaVersion" in sniff.keys and (
                f"{prefix}ProductArn" in sniff.keys or f"{prefix}GeneratorId" in sniff.keys
            ):
                return True
        return False

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        base: tuple[str, ...] = ()
        if ctx.sniff.top == "array":
            prefix = "item"
        else:
            key = "Findings" if any(k.startswith("Findings") for k in ctx.sniff.keys) else "findings"
            prefix, base = f"{key}.item", (key,)
        for i, f in ctx.items(prefix):
            yield _finding(f, pointer(*base, i))


def _tool(f: dict[str, Any]) -> str:
    pf = f.get("ProductFields") or {}
    name = pf.get("aws/securityhub/ProductName") or f.get("ProductName")
    m = _PRODUCT.search(str(f.get("ProductArn") or ""))
    if name and str(name).lower() not in ("security hub",):
        return canonical_tool(name, "securityhub")
    if m:
        return canonical_tool(m.group(2) if m.group(1) in ("aws",) else m.group(1), "securityhub")
    return "securityhub"


def _finding(f: dict[str, Any], ptr: str) -> Finding:
    tool = _tool(f)
    pf = f.get("ProductFields") or {}
    comp = f.get("Compliance") or {}
    vulns = f.get("Vulnerabilities") or []
    types = f.get("Types") or []
    gen = str(f.get("GeneratorId") or "")
    if comp.get("SecurityControlId") or pf.get("ControlId"):
        rule = str(comp.get("SecurityControlId") or pf.get("ControlId"))
    elif vulns and isinstance(vulns[0], dict) and vulns[0].get("Id"):
        rule = str(vulns[0]["Id"])
    elif tool == "guardduty" and types:
        # ASFF writes the GuardDuty type "Backdoor:EC2/C&CActivity.B" as "...Backdoor:EC2-C&CActivity.B": restore it
        rule = _GD_TYPE.sub(r"\1/", str(types[0]).rsplit("/", 1)[-1], count=1)
    else:
        rule = gen[len("prowler-") :] if gen.startswith("prowler-") else gen.rsplit("/", 1)[-1]
    status = str(comp.get("Status") or "").lower()
    result = _COMPLIANCE.get(status, "info") if status else "fail"
    res = (f.get("Resources") or [{}])[0] or {}
    resource = text(res.get("Id"))
    lam = ((res.get("Details") or {}).get("AwsLambdaFunction") or {}).get("FunctionName")
    version = text(pf.get("ProviderVersion") or pf.get("aws/inspector/ProductVersion"))
    return make(
        tool,
        rule or "unknown",
        result,
        ptr,
        version=version,
        time=iso_time(f.get("UpdatedAt") or f.get("LastObservedAt") or f.get("CreatedAt")),
        title=text(f.get("Title")),
        severity=severity((f.get("Severity") or {}).get("Label"))
        or severity((f.get("Severity") or {}).get("Normalized", 0) / 10),
        resource=resource,
        function=text(lam) or function_of(resource),
        provider="aws",
        account=text(f.get("AwsAccountId")),
        region=text(res.get("Region") or f.get("Region")),
        cwes=cwes([c for v in vulns if isinstance(v, dict) for c in v.get("Cwes") or []]),
        message=text(f.get("Description")),
    )


FORMAT = Asff()
