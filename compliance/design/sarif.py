"""The design check as SARIF 2.1.0 (driver ``sckb-design``): one result per element x predicate, ruleId = the
mitigation id, kind pass/fail (unknown verdicts are ``review``), so design findings map to mitigations through
the KB rules ``sckb-design:<mitigation-id>`` like any scanner's."""

from __future__ import annotations

from typing import Any

from compliance import __version__
from compliance.design.result import DesignResult

_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
_KIND = {"present": "pass", "absent": "fail", "unknown": "review"}


def to_sarif(res: DesignResult, *, when: str, titles: dict[str, str] | None = None) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for v in sorted(res.verdicts, key=lambda v: (v.file, v.name, v.predicate)):
        rules.setdefault(
            v.mitigation,
            {
                "id": v.mitigation,
                "name": v.mitigation,
                "shortDescription": {"text": (titles or {}).get(v.mitigation, v.mitigation)},
                "defaultConfiguration": {"level": _LEVEL.get(v.severity, "warning")},
            },
        )
        loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": v.file}}}
        if v.line:
            loc["physicalLocation"]["region"] = {"startLine": v.line}
        loc["logicalLocations"] = [{"name": v.name, "fullyQualifiedName": v.resource or v.name, "kind": v.kind}]
        results.append(
            {
                "ruleId": v.mitigation,
                "kind": _KIND[v.status],
                "level": _LEVEL.get(v.severity, "warning") if v.status == "absent" else "none",
                "message": {"text": f"{v.title}: {v.status}" + (f" ({v.reason})" if v.reason else "")},
                "locations": [loc],
                "properties": {
                    "predicate": v.predicate,
                    "subject": v.kind,
                    "function": v.function,
                    "method": "EXAMINE",
                    "severity": v.severity,
                },
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "sckb-design", "version": __version__, "rules": [rules[k] for k in sorted(rules)]}},
                "invocations": [{"executionSuccessful": True, "endTimeUtc": when}],
                "properties": {"method": "EXAMINE", "scope": res.scope, "partial": res.partial},
                "results": results,
            }
        ],
    }
