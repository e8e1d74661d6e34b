"""Record a design check as evidence: a SARIF 2.1.0 file in the workspace, ingested into the evidence store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson

from compliance.design.result import DesignResult
from compliance.design.sarif import to_sarif
from compliance.evidence.ingest import ingest
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store
from compliance.kb.load import KB


def write_sarif(res: DesignResult, workspace: Path, now: datetime, titles: dict[str, str] | None = None) -> Path:
    when = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    data = to_sarif(res, when=when, titles=titles)
    out = workspace / "design"
    out.mkdir(parents=True, exist_ok=True)
    name = Path(res.path).name or "design"
    path = out / f"sckb-design-{name}-{now.strftime('%Y%m%dT%H%M%SZ')}.sarif"
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    return path


def record(res: DesignResult, workspace: Path, kb: KB, now: datetime) -> str:
    """Write the SARIF file and ingest it; returns a one-line note for the user."""
    titles = {m: str(kb.nodes[m].record.title) for m in res.mitigations if m in kb.nodes}
    path = write_sarif(res, workspace, now, titles)
    with Store.open(workspace) as store:
        summary = ingest(store, [path], mapper=Mapper(kb), now=now, fmt_name="sarif")
    errors = [r.error for r in summary.results if r.error]
    if errors:
        return f"design evidence written to {path} but not ingested: {errors[0]}"
    return f"design evidence: {path} ({summary.findings} findings, {summary.mapped} mapped)"
