"""An empty result: ``[]``, ``{}`` or ``null`` (what cfn-lint, gitleaks and others write when they find nothing).

The content names no tool, so the file is stored with tool "unknown" and no findings; force the format
(``--format cfn-lint-json``) to attribute it to its tool.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff


class EmptyJson:
    name = "empty-json"
    title = "An empty JSON result ([], {} or null) from any tool"
    tool = "unknown"
    priority = 90

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        return head.strip().lstrip(b"\xef\xbb\xbf").strip() in (b"[]", b"{}", b"null")

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        ctx.load()
        return iter(())


FORMAT = EmptyJson()
