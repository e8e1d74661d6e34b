"""OSV-Scanner JSON: ``results[].packages[]`` with ``vulnerabilities[]`` and ``groups[]``.

One finding per package and group (a group merges the aliases of one vulnerability, so counting groups
avoids double counts); the group's first id that a vulnerability record carries is the rule id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, cwes, make, pointer, relpath, severity, text


class OsvScannerJson:
    name = "osv-scanner-json"
    title = "OSV-Scanner JSON"
    tool = "osv-scanner"
    priority = 40

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        return (
            sniff.kind == "json"
            and sniff.top == "map"
            and ("results.item.packages" in sniff.keys or ("results.item.source" in sniff.keys and b'"packages"' in head))
        )

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        for i, res in ctx.items("results.item"):
            source = relpath((res.get("source") or {}).get("path"))
            for j, pkg in enumerate(res.get("packages") or []):
                p = pkg.get("package") or {}
                name = f"{p.get('ecosystem', '')}:{p.get('name', '')}@{p.get('version', '')}"
                vulns: dict[str, Any] = {str(v.get("id")): v for v in pkg.get("vulnerabilities") or [] if isinstance(v, dict)}
                groups = pkg.get("groups") or [{"ids": [vid]} for vid in vulns]
                for k, g in enumerate(groups):
                    ids = [x for x in g.get("ids") or [] if x]
                    vid = next((x for x in ids if x in vulns), ids[0] if ids else "unknown")
                    v = vulns.get(vid) or {}
                    dbs = v.get("database_specific") or {}
                    sev = severity(dbs.get("severity")) or severity(_max_score(g.get("max_severity")))
                    yield make(
                        "osv-scanner",
                        str(vid),
                        "fail",
                        pointer("results", i, "packages", j, "groups", k),
                        title=text(v.get("summary")),
                        severity=sev,
                        resource=name,
                        file=source,
                        cwes=cwes(
                            dbs.get("cwe_ids"),
                            [c for a in v.get("affected") or [] for c in (a.get("database_specific") or {}).get("cwes") or []],
                        ),
                        message=text(v.get("summary")) or ", ".join(ids),
                    )


def _max_score(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


FORMAT = OsvScannerJson()
