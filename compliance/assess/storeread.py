"""The fast way to assess a whole evidence store: read the store's tables with one lean SQL query.

:func:`assess_store` gives exactly what :func:`compliance.assess.engine.assess` gives on
``store.findings()`` (the tests compare both on the whole corpus), but it reads only the eleven
columns the tallies need, in table order, without building a record object per finding (file ids and
id lists are decoded once per distinct tally key); only the fresh
open failures are then read in full (a second lean query). When the store's tables
do not have the expected columns (another store version), or a stored time is not canonical ISO 8601
(``YYYY-MM-DDTHH:MM:SSZ``, which the string comparisons need), it falls back to the record path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from compliance.assess.engine import (
    _BATCH,
    DEFAULT_MAX_AGE_DAYS,
    FindingLike,
    _Acc,
    _check_args,
    _Context,
    _finish,
    assess,
    iso,
    slot_sql,
)
from compliance.assess.model import Assessment
from compliance.assess.scope import resolve
from compliance.kb.load import KB


def _rows_sql(start_s: str, now_s: str) -> str:
    """The tally rows (see ``engine.Row``), status rule 1 computed by SQLite."""
    return (
        "SELECT i.tool, i.rule_id, o.file_id, "
        + slot_sql(start_s, now_s)
        + ", o.method, i.mitigations, o.targets, i.mapped_by, i.last_seen,"
        " coalesce(nullif(o.function, ''), nullif(o.resource, ''), nullif(o.file, ''))"
        " FROM identities i JOIN observations o ON o.id = i.latest"
    )


_FAILING_SQL = (
    "SELECT i.identity, i.tool, i.rule_id, o.rule_title, o.severity, o.result, o.resource, o.function, o.file, o.line,"
    " o.pointer, o.message, o.method, o.targets, i.first_seen, i.last_seen, i.status, o.file_id, i.mitigations, i.mapped_by"
    " FROM identities i JOIN observations o ON o.id = i.latest WHERE i.status = 'open' AND o.result = 'fail'"
)


@dataclass(slots=True)
class _Failing:
    """The fields of a fresh open failure that the assessment keeps (a lean StoredFinding)."""

    identity: str
    tool: str
    rule_id: str
    rule_title: str | None
    severity: str | None
    result: str
    resource: str | None
    function: str | None
    file: str | None
    line: int | None
    pointer: str
    message: str | None
    method: str
    targets: tuple[str, ...]
    first_seen: str
    last_seen: str
    status: str
    file_sha256: str
    mitigations: tuple[str, ...]
    mapped_by: str


_NEEDED = {
    "identities": {"identity", "tool", "rule_id", "status", "first_seen", "last_seen", "latest", "mitigations", "mapped_by"},
    "observations": {
        "id",
        "file_id",
        "result",
        "method",
        "targets",
        "function",
        "resource",
        "file",
        "rule_title",
        "severity",
        "line",
        "pointer",
        "message",
    },
    "files": {"id", "sha256"},
}


def _has_layout(conn: sqlite3.Connection) -> bool:
    for table, cols in _NEEDED.items():
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        if not cols <= have:
            return False
    return True


def _decoder(conn: sqlite3.Connection) -> Callable[[Any, Any, Any], tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """file id -> sha256, and the store's space-separated id lists -> tuples (once per distinct key)."""
    shas: dict[int, str] = dict(conn.execute("SELECT id, sha256 FROM files"))

    def decode(fid: Any, mits: Any, targets: Any) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        return shas[fid], tuple(mits.split()) if mits else (), tuple(targets.split()) if targets else ()

    return decode


def assess_store(
    kb: KB,
    store: Any,
    *,
    scopes: list[str],
    now: datetime,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    unmapped: str = "warn",
    progress: Callable[[int], None] | None = None,
) -> Assessment:
    """Assess the evidence store ``store`` (a ``compliance.evidence.store.Store``)."""
    conn: sqlite3.Connection = store.conn
    if not _has_layout(conn):
        return assess(
            kb,
            store.findings(),
            store.files(),
            scopes=scopes,
            now=now,
            max_age_days=max_age_days,
            unmapped=unmapped,
            progress=progress,
        )
    _check_args(unmapped, max_age_days)
    now_s = iso(now)
    start_s = iso(now - timedelta(days=max_age_days))
    resolve(kb, scopes)
    acc = _Acc(_Context(kb, start_s, now_s))
    cur = conn.execute(_rows_sql(start_s, now_s))
    acc.feed(iter(lambda: cur.fetchmany(_BATCH), []), progress, _decoder(conn))
    if acc.irregular:  # some time is not canonical ISO: string comparison would be wrong, take the record path
        return assess(kb, store.findings(), store.files(), scopes=scopes, now=now, max_age_days=max_age_days, unmapped=unmapped)
    failing: list[FindingLike] = []
    shas = dict(conn.execute("SELECT id, sha256 FROM files"))
    for row in conn.execute(_FAILING_SQL):
        last = row[15]
        if start_s <= last <= now_s:
            failing.append(
                _Failing(
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    row[4],
                    row[5],
                    row[6],
                    row[7],
                    row[8],
                    row[9],
                    row[10],
                    row[11],
                    row[12],
                    tuple(row[13].split()),
                    row[14],
                    last,
                    row[16],
                    shas[row[17]],
                    tuple(row[18].split()),
                    row[19],
                )
            )
    kept, unmapped_ids = acc.add_failing(failing)
    return _finish(
        kb, acc, kept, unmapped_ids, store.files(), scopes=scopes, now=now, max_age_days=max_age_days, unmapped=unmapped
    )
