"""conftest ``test --output json``: a list of ``{filename, namespace, successes, warnings, failures, exceptions}``.

Each failure and warning is a failed finding (a warning is a violation the policy does not block on), with
``msg`` and ``metadata``; the rule is the metadata's ``predicate`` or the ``[id]`` the message starts with (the
shape ``sckb policy export --engine rego`` writes), else the namespace. ``successes`` is only a count, so
passes are not findings; the file counts as covered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from compliance.evidence.formats.opa_eval import rule_of
from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, make, pointer, relpath, text


class ConftestJson:
    name = "conftest-json"
    title = "conftest JSON results"
    tool = "conftest"
    priority = 45

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        if sniff.kind != "json" or sniff.top != "array" or "item.filename" not in sniff.keys:
            return False
        # before namespaces, older conftest releases gave a result only the file and its lists
        return "item.namespace" in sniff.keys or sniff.any("item.failures", "item.warnings")

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        for i, rep in ctx.items("item"):
            file = relpath(rep.get("filename"))
            if file:
                ctx.covered.add(file)
            ns = text(rep.get("namespace")) or "main"
            for key, result in (("failures", "fail"), ("warnings", "fail"), ("exceptions", "info")):
                for j, item in enumerate(rep.get(key) or []):
                    if not isinstance(item, dict):  # the oldest releases listed bare messages
                        item = {"msg": item}
                    meta = item.get("metadata") or {}
                    both = {**meta, "msg": (item or {}).get("msg")} if isinstance(meta, dict) else item
                    rule = rule_of(both, ns)
                    yield make("conftest", rule, result, pointer(i, key, j), title=rule, file=file,
                               severity=text(meta.get("severity")) if isinstance(meta, dict) else None,
                               resource=text(meta.get("resource")) if isinstance(meta, dict) else None,
                               message=text((item or {}).get("msg")))  # fmt: skip


FORMAT = ConftestJson()
