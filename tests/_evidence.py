"""Helpers shared by the evidence tests: a generated checkov report and a dump of a store's tables."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson


def checkov_report(path: Path, n: int, *, tag: str = "", checks: int = 300, stacks: int = 50, version: str = "3") -> None:
    """A checkov JSON report of ``n`` failed checks on distinct functions (``tag`` keeps reports apart)."""
    recs = [
        {
            "check_id": f"CKV_AWS_{i % checks}",
            "check_name": "a generated check",
            "check_result": {"result": "FAILED"},
            "resource": f"AWS::Lambda::Function.Fn{tag}{i}",
            "file_path": f"/stack{i % stacks}/template.yaml",
            "file_line_range": [i % 900 + 1, i % 900 + 20],
        }
        for i in range(n)
    ]
    doc = {"check_type": "cloudformation", "results": {"failed_checks": recs}, "summary": {"checkov_version": version}}
    path.write_bytes(orjson.dumps(doc))


def dump(ws: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the store's tables, in a stable order."""
    conn = sqlite3.connect(ws / "evidence.db")
    try:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall()
            for t in ("files", "observations", "identities", "coverage", "attachments")
        }
    finally:
        conn.close()
