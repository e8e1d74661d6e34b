"""Assessments in the workspace database (tables prefixed ``assess_``).

``assess_runs``      one row per assessment: id, seq (order of saving; the highest is the latest),
                     now, scopes, max_age_days, summary (JSON) and the whole assessment (orjson blob, with
                     an empty ``id``: exactly the bytes its content id is the hash of)
``assess_controls``  (assessment_id, control_id, status): for SQL readers such as the site
``assess_catalog``   (control_id, title, statement, source): from ``sckb catalog import``

Saving the same assessment again (same content, so same id) replaces it and makes it the latest.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from compliance.assess.model import Assessment
from compliance.errors import NotFoundError, StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS assess_runs (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    now TEXT NOT NULL,
    scopes TEXT NOT NULL,
    max_age_days INTEGER NOT NULL,
    summary BLOB NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS assess_controls (
    assessment_id TEXT NOT NULL,
    control_id TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (assessment_id, control_id)
);
CREATE TABLE IF NOT EXISTS assess_catalog (
    control_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    statement TEXT NOT NULL,
    source TEXT NOT NULL
);
"""


def ensure_schema(conn: sqlite3.Connection) -> None:
    try:
        conn.executescript(SCHEMA)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot create the assessment tables: {exc}") from exc


def _blob(a: Assessment) -> bytes:
    """What ``data`` holds: the assessment with an empty id (the bytes its content id hashes; the id is in
    the row's ``id`` column, and :func:`load` puts it back)."""
    saved, a.id = a.id, ""
    try:
        return orjson.dumps(a, option=orjson.OPT_SORT_KEYS)
    finally:
        a.id = saved


def save(conn: sqlite3.Connection, a: Assessment, data: bytes | None = None) -> None:
    """Store ``a``; ``data`` is its stored form when already made (``engine.identify`` returns it)."""
    ensure_schema(conn)
    if data is None:
        data = _blob(a)
    summary = orjson.dumps(a.summary(), option=orjson.OPT_SORT_KEYS)
    try:
        with conn:
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM assess_runs").fetchone()[0]
            conn.execute("DELETE FROM assess_controls WHERE assessment_id = ?", (a.id,))
            conn.execute(
                "INSERT OR REPLACE INTO assess_runs (id, seq, now, scopes, max_age_days, summary, data) VALUES (?,?,?,?,?,?,?)",
                (a.id, seq, a.now, ",".join(a.scopes), a.max_age_days, summary, data),
            )
            conn.executemany("INSERT INTO assess_controls VALUES (?,?,?)", [(a.id, c.id, c.status) for c in a.controls.values()])
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot save the assessment: {exc}") from exc


def resolve_id(conn: sqlite3.Connection, ident: str | None) -> str:
    """The full id of an assessment: ``None`` or ``latest`` -> the latest; else an id or unique prefix."""
    ensure_schema(conn)
    if ident is None or ident == "latest":
        row = conn.execute("SELECT id FROM assess_runs ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            raise NotFoundError("no assessment in this workspace yet: run 'sckb assess --scope ...' first")
        return str(row[0])
    rows = conn.execute("SELECT id FROM assess_runs WHERE id = ? OR id LIKE ? ORDER BY seq DESC", (ident, ident + "%")).fetchall()
    exact = [r[0] for r in rows if r[0] == ident]
    if exact:
        return str(exact[0])
    if len(rows) == 1:
        return str(rows[0][0])
    if not rows:
        raise NotFoundError(f"no assessment {ident!r} in this workspace (see 'sckb assess list')")
    raise NotFoundError(f"assessment id prefix {ident!r} is ambiguous: " + ", ".join(r[0] for r in rows))


def load(conn: sqlite3.Connection, ident: str | None = None) -> Assessment:
    full = resolve_id(conn, ident)
    row = conn.execute("SELECT data FROM assess_runs WHERE id = ?", (full,)).fetchone()
    try:
        d = orjson.loads(row[0])
        if not d["id"]:  # stored without its id (the bytes the id hashes); older rows carry it
            d["id"] = full
        return Assessment.from_dict(d)
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise StoreError(f"assessment {full} is unreadable (written by another sckb version?): {exc}") from exc


def listing(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    ensure_schema(conn)
    out = []
    for ident, seq, now, scopes, summary in conn.execute(
        "SELECT id, seq, now, scopes, summary FROM assess_runs ORDER BY seq DESC"
    ):
        s = orjson.loads(summary)
        out.append({"id": ident, "seq": seq, "now": now, "scopes": scopes.split(","), "counts": s["counts"]})
    return out
