"""gitleaks JSON (v8): a list of leaks (``RuleID``, ``File``, ``StartLine``, ``Commit``…). ``[]`` or ``null`` is clean.

The raw ``Secret`` and ``Match`` are never copied into the record (the locker keeps the original file).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff, as_int, make, pointer, relpath, text


class GitleaksJson:
    name = "gitleaks-json"
    title = "gitleaks JSON (a list of leaks; null or [] when clean)"
    tool = "gitleaks"
    priority = 40

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        if sniff.kind == "json" and sniff.top == "array":
            return sniff.has("item.RuleID") and sniff.any("item.Secret", "item.Match", "item.File")
        return False

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        for i, r in ctx.items("item"):
            commit = text(r.get("Commit"))
            yield make(
                "gitleaks",
                text(r.get("RuleID")) or "unknown",
                "fail",
                pointer(i),
                title=text(r.get("Description")),
                severity="high",
                file=relpath(r.get("File")),
                line=as_int(r.get("StartLine")),
                cwes=("CWE-798",),
                message=f"secret found{f' in commit {commit[:12]}' if commit else ''}",
            )


FORMAT = GitleaksJson()
