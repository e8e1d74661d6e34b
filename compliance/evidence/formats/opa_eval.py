"""OPA ``opa eval --format json`` decision output: ``{"result": [{"expressions": [{"value": ..., "text": ...}]}]}``.

The value is walked for policy packages' ``violation`` / ``deny`` sets (failures) and ``<rule>_passing`` sets
of resource names (passes), the shape ``sckb policy export --engine rego`` writes. A violation object names
its rule by ``predicate`` (else the ``[id]`` its message starts with, else the package path) and its resource
by ``resource``; a bare string violation is its own message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, make, pointer, text

_BRACKET = re.compile(r"^\[([A-Za-z0-9_.:-]+)\]")
FAIL_SETS = ("violation", "deny")
PASSING = "_passing"


def rule_of(item: Any, package: str) -> str:
    if isinstance(item, dict):
        named = text(item.get("predicate")) or text(item.get("rule"))
        if named:
            return named
        item = item.get("msg")
    m = _BRACKET.match(str(item or ""))
    return m.group(1) if m else package or "policy"


def decisions(tree: Any, package: str, where: tuple[object, ...]) -> Iterator[tuple[str, str, Any, tuple[object, ...]]]:
    """(package, result, item, pointer parts) for every violation (fail) and passing resource under ``tree``."""
    if not isinstance(tree, dict):
        return
    for key in FAIL_SETS:
        for i, item in enumerate(tree.get(key) or []):
            yield package, "fail", item, (*where, key, i)
    for k, sub in sorted(tree.items()):
        if k.endswith(PASSING) and isinstance(sub, list):
            # sckb's rules name a predicate with _ for -; a pass is {predicate, resource} like a violation
            rule = k[: -len(PASSING)].replace("_", "-")
            for i, name in enumerate(sub):
                yield package, "pass", {"predicate": rule, "resource": name}, (*where, k, i)
        elif isinstance(sub, dict) and k not in FAIL_SETS:
            yield from decisions(sub, f"{package}.{k}" if package else k, (*where, k))


def finding(tool: str, package: str, result: str, item: Any, ptr: str, file: str | None) -> Finding:
    rule = rule_of(item, package)
    d = item if isinstance(item, dict) else {}
    msg = text(d.get("msg")) if d else text(item)
    return make(tool, rule, result, ptr, title=rule, severity=text(d.get("severity")), resource=text(d.get("resource")),
                file=file, message=msg if result == "fail" else None)  # fmt: skip


class OpaEvalJson:
    name = "opa-eval-json"
    title = "OPA opa eval JSON decision output"
    tool = "opa"
    priority = 45

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        return sniff.kind == "json" and sniff.top == "map" and "result.item.expressions" in sniff.keys

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        doc = ctx.load()
        for i, res in enumerate(doc.get("result") or [] if isinstance(doc, dict) else []):
            for j, expr in enumerate((res or {}).get("expressions") or []):
                query = str((expr or {}).get("text") or "")
                base = query[5:] if query.startswith("data.") else ""
                for pkg, result, item, parts in decisions(
                    (expr or {}).get("value"), base, ("result", i, "expressions", j, "value")
                ):
                    yield finding("opa", pkg, result, item, pointer(*parts), None)


FORMAT = OpaEvalJson()
