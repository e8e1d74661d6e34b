"""CloudFormation Guard JSON: ``validate --structured -o json`` (3.x) writes a list of per-data-file reports;
``validate -o json`` without it writes one report object per data file (read when the file holds one).

``not_compliant[]`` rules are failures, ``compliant[]`` rule names passes, ``not_applicable[]`` info.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, make, pointer, relpath, text


class CfnGuardJson:
    name = "cfn-guard-json"
    title = "CloudFormation Guard structured JSON"
    tool = "cfn-guard"
    priority = 40

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        if sniff.kind != "json":
            return False
        if sniff.top == "map":  # one data file's report, as ``validate -o json`` without --structured writes it
            return sniff.has("not_compliant", "name", "status")
        return sniff.top == "array" and sniff.has("item.not_compliant") and "item.name" in sniff.keys

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        one = ctx.sniff.top == "map"
        for i, rep in [(0, ctx.load())] if one else ctx.items("item"):
            at: tuple[Any, ...] = () if one else (i,)
            data_file = relpath(rep.get("name"))
            if data_file:
                ctx.covered.add(data_file)
            for j, nc in enumerate(rep.get("not_compliant") or []):
                rule = nc.get("Rule") or nc.get("rule") or {}
                name = text(rule.get("name")) or "unknown"
                yield make("cfn-guard", name, "fail", pointer(*at, "not_compliant", j), title=name, file=data_file,
                           provider="aws", message=_message(rule))  # fmt: skip
            for key, result in (("compliant", "pass"), ("not_applicable", "info")):
                for j, name in enumerate(rep.get(key) or []):
                    yield make(
                        "cfn-guard", str(name), result, pointer(*at, key, j), title=str(name), file=data_file, provider="aws"
                    )


def _message(rule: dict[str, Any]) -> str | None:
    msgs = rule.get("messages") or {}
    found = text(msgs.get("custom_message")) or text(msgs.get("error_message"))
    if found:
        return found
    for check in rule.get("checks") or []:
        clause = (check or {}).get("Clause") or {}
        for body in clause.values():
            m = (body or {}).get("messages") or {}
            hit = text(m.get("custom_message")) or text(m.get("error_message"))
            if hit:
                return hit[:500]
    return None


FORMAT = CfnGuardJson()
