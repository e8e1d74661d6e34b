"""OpenVEX documents: statements about whether products are affected by vulnerabilities.

A statement is evidence about exploitability, not a scan result: ``affected`` → fail, ``not_affected`` and
``fixed`` → pass, ``under_investigation`` → info. One finding per statement and product.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, iso_time, make, pointer, text

_STATUS = {"affected": "fail", "not_affected": "pass", "fixed": "pass", "under_investigation": "info"}


class OpenVex:
    name = "openvex-json"
    title = "OpenVEX statements (affected, not_affected, fixed, under_investigation)"
    tool = "openvex"
    priority = 40

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        return sniff.kind == "json" and sniff.top == "map" and "statements" in sniff.keys and b"openvex" in head

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        doc_time = iso_time(ctx.first("timestamp"))
        ctx.scan_time = doc_time
        for i, st in ctx.items("statements.item"):
            vuln = st.get("vulnerability") or {}
            vid = text(vuln.get("name") or vuln.get("@id")) if isinstance(vuln, dict) else text(vuln)
            status = str(st.get("status") or "").lower()
            products = st.get("products") or [None]
            for j, prod in enumerate(products):
                pid = text(prod.get("@id") if isinstance(prod, dict) else prod)
                yield make(
                    "openvex",
                    vid or "unknown",
                    _STATUS.get(status, "info"),
                    pointer("statements", i, "products", j),
                    time=iso_time(st.get("timestamp")) or doc_time,
                    title=f"{vid}: {status}",
                    resource=pid,
                    message=text(st.get("justification") or st.get("impact_statement") or st.get("action_statement") or status),
                )


FORMAT = OpenVex()
