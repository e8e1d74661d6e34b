"""gitleaks JSON: a list of leaks. ``[]`` or ``null`` is clean. Two shapes:

- gitleaks 8: ``RuleID``, ``Description``, ``File``, ``StartLine``, ``Commit``…;
- gitleaks 7 (the legacy report, still common in CI archives): ``rule`` (the rule's name, also its id),
  ``file``, ``lineNumber``, ``commit``, ``offender`` (the secret).

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
            return (sniff.has("item.RuleID") and sniff.any("item.Secret", "item.Match", "item.File")) or (
                sniff.has("item.rule") and sniff.any("item.offender", "item.lineNumber")
            )
        return False

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        for i, r in ctx.items("item"):
            legacy = "RuleID" not in r and "rule" in r  # gitleaks 7
            commit = text(r.get("commit" if legacy else "Commit"))
            yield make(
                "gitleaks",
                text(r.get("rule" if legacy else "RuleID")) or "unknown",
                "fail",
                pointer(i),
                title=text(r.get("rule" if legacy else "Description")),
                severity="high",
                file=relpath(r.get("file" if legacy else "File")),
                line=as_int(r.get("lineNumber" if legacy else "StartLine")),
                cwes=("CWE-798",),
                message=f"secret found{f' in commit {commit[:12]}' if commit else ''}",
            )


FORMAT = GitleaksJson()
