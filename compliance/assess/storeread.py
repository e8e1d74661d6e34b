"""The fast way to assess a whole evidence store: let SQLite aggregate the findings.

:func:`assess_store` gives exactly what :func:`compliance.assess.engine.assess` gives on
``store.findings()`` (the tests compare both on the whole corpus), but no finding row reaches Python:
one ``GROUP BY`` query over the store's tables returns a row per distinct tally key (evidence file,
tool, rule, status-rule-1 slot, method, mitigations, targets, mapping), with its count, its newest
``last_seen`` and the distinct subjects of its fresh findings; the engine expands those few thousand
groups into its tallies. Only the fresh open failures (which the assessment keeps in full) are then read
row by row (a second, filtered query). When the store's tables do not have the expected columns (another
store version), or a stored time is not canonical ISO 8601 (``YYYY-MM-DDTHH:MM:SSZ``, which the string
comparisons need), it falls back to the record path.
"""

from __future__ import annotations

import gc
import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import orjson

from compliance.assess.engine import (
    _STALE,
    DEFAULT_MAX_AGE_DAYS,
    _Acc,
    _check_args,
    _Context,
    _finish,
    assess,
    iso,
    slot_sql,
)
from compliance.assess.model import Assessment
from compliance.errors import InputError, StoreError
from compliance.kb.load import KB
from compliance.kb.scope import resolve


def _groups_sql(start_s: str, now_s: str) -> str:
    """One row per distinct tally key (the first eight items of ``engine.Row``, status rule 1 computed by
    SQLite), then the key's finding count, newest ``last_seen`` and a JSON array of the distinct subjects of
    its findings (with a ``null`` when some finding has none; the caller keeps them for fresh keys only)."""
    rows = (
        "SELECT i.tool AS tool, i.rule_id AS rule_id, o.file_id AS fid, "
        + slot_sql(start_s, now_s)
        + " AS slot, o.method AS method, i.mitigations AS mits, o.targets AS targets, i.mapped_by AS mapped_by,"
        " i.last_seen AS last, coalesce(nullif(o.function, ''), nullif(o.resource, ''), nullif(o.file, '')) AS subject"
        " FROM identities i JOIN observations o ON o.id = i.latest/*where*/"
    )
    # integer and short columns first: the sort behind GROUP BY compares fewer bytes
    return (
        "SELECT tool, rule_id, fid, slot, method, mits, targets, mapped_by, count(*), max(last),"
        " json_group_array(DISTINCT subject)"
        f" FROM ({rows}) GROUP BY fid, rule_id, slot, tool, method, mapped_by, targets, mits"
    )


_FAILING_SQL = (
    "SELECT i.identity, i.tool, i.rule_id, o.rule_title, o.severity, o.result, o.resource, o.function, o.file, o.line,"
    " o.pointer, o.message, o.method, o.targets, i.first_seen, i.last_seen, i.status, o.file_id, i.mitigations, i.mapped_by"
    " FROM identities i JOIN observations o ON o.id = i.latest WHERE i.status = 'open' AND o.result = 'fail'"
)


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


def _db_path(conn: sqlite3.Connection) -> str | None:
    """The file of the connection's main database (None for an in-memory or temporary one)."""
    for _, name, path in conn.execute("PRAGMA database_list"):
        if name == "main":
            return str(path) or None
    return None


def _split_points(conn: sqlite3.Connection, parts: int) -> list[str]:
    """Identities that cut the identities table into ``parts`` ranges of about equal size."""
    n = conn.execute("SELECT count(*) FROM identities").fetchone()[0]
    points: list[str] = []
    for j in range(1, parts):
        row = conn.execute("SELECT identity FROM identities ORDER BY identity LIMIT 1 OFFSET ?", (n * j // parts,)).fetchone()
        if row is not None and (not points or row[0] > points[-1]):
            points.append(row[0])
    return points


def _read_part(path: str, sql: str, args: tuple[str, ...], out: list[Any]) -> None:
    """Run one range of the groups query on a connection of its own (a worker thread: SQLite releases the GIL)."""
    try:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=30)
        try:
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-65536")
            out.append(conn.execute(sql, args).fetchall())
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        out.append(exc)


class _Groups:
    """The rows of the groups query, read by ``workers`` threads over ranges of identities when the store is a
    file and the connection has nothing uncommitted (each range is grouped on its own; the caller merges).
    The threads start at once; :meth:`batches` waits for them."""

    def __init__(self, conn: sqlite3.Connection, sql: str, workers: int) -> None:
        self.conn, self.sql = conn, sql
        self.path = _db_path(conn)
        points = _split_points(conn, workers) if workers > 1 and self.path and not conn.in_transaction else []
        self.results: list[list[Any]] = []
        self.threads: list[threading.Thread] = []
        if not points:
            return
        bounds: list[str | None] = [None, *points, None]
        for lo, hi in itertools.pairwise(bounds):
            where = " AND ".join(w for w, b in (("i.identity >= ?", lo), ("i.identity < ?", hi)) if b is not None)
            args = tuple(b for b in (lo, hi) if b is not None)
            out: list[Any] = []
            self.results.append(out)
            part_sql = sql.replace("/*where*/", " WHERE " + where)
            self.threads.append(threading.Thread(target=_read_part, args=(self.path, part_sql, args, out), daemon=True))
        for t in self.threads:
            t.start()

    def batches(self) -> Iterator[list[tuple[Any, ...]]]:
        if not self.threads:
            cur = self.conn.execute(self.sql)
            yield from iter(lambda: cur.fetchmany(4096), [])
            return
        for t, out in zip(self.threads, self.results, strict=True):
            t.join()
            if isinstance(out[0], BaseException):
                raise StoreError(f"{self.path}: cannot read the evidence store: {out[0]}")
            yield out[0]

    def wait(self) -> None:
        for t in self.threads:
            t.join()


def assess_store(
    kb: KB,
    store: Any,
    *,
    scopes: list[str],
    now: datetime,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    unmapped: str = "warn",
    progress: Callable[[int], None] | None = None,
    workers: int = 2,
    blob_out: list[bytes] | None = None,
) -> Assessment:
    """Assess the evidence store ``store`` (a ``compliance.evidence.store.Store``). ``workers`` threads group
    the findings (SQLite runs them in parallel); the result does not depend on it."""
    with _gc_paused():
        return _assess_store(
            kb,
            store,
            scopes=scopes,
            now=now,
            max_age_days=max_age_days,
            unmapped=unmapped,
            progress=progress,
            workers=workers,
            blob_out=blob_out,
        )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the assessment allocates its ~10^5 acyclic records (its
    passes over them cost about as much as building them); the previous state is restored afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _assess_store(
    kb: KB,
    store: Any,
    *,
    scopes: list[str],
    now: datetime,
    max_age_days: int,
    unmapped: str,
    progress: Callable[[int], None] | None,
    workers: int,
    blob_out: list[bytes] | None,
) -> Assessment:
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
    groups = _Groups(conn, _groups_sql(start_s, now_s), workers)
    try:
        # the fresh open failures, read in full while the worker threads group the findings
        shas: dict[Any, str] = dict(conn.execute("SELECT id, sha256 FROM files"))
        failing_error: InputError | None = None
        try:
            # a canonical window is a string range (non-canonical times send everything to the record path below)
            cur = conn.execute(_FAILING_SQL + " AND i.last_seen >= ? AND i.last_seen <= ?", (start_s, now_s))
            kept, unmapped_ids, failing_keys = acc.add_failing_rows(cur, shas)
        except InputError as exc:  # a bad first_seen: an error unless the record path is taken anyway
            failing_error = exc
        agg: dict[tuple[Any, ...], list[Any]] = {}
        subjects: set[tuple[Any, str, str, str]] = set()
        n = 0
        for batch in groups.batches():
            for row in batch:
                key = row[:8]
                e = agg.get(key)
                if e is None:
                    agg[key] = [row[8], row[9]]
                else:  # the same key from another range of identities
                    e[0] += row[8]
                    if row[9] > e[1]:
                        e[1] = row[9]
                n += row[8]
                if row[3] < _STALE:
                    tool, rule_id, fid = row[0], row[1], row[2]
                    for subject in orjson.loads(row[10]):
                        if subject:
                            subjects.add((fid, tool, rule_id, subject))
            if progress is not None:
                progress(n)
    finally:
        groups.wait()
    acc.n = n
    # in key order: a tally takes its ``mapped_by`` from the first key that reaches it, so the result must not
    # depend on the order in which the ranges of identities came back
    acc._expand(dict(sorted(agg.items())), subjects, _decoder(conn))
    if acc.irregular:  # some time is not canonical ISO: string comparison would be wrong, take the record path
        return assess(kb, store.findings(), store.files(), scopes=scopes, now=now, max_age_days=max_age_days, unmapped=unmapped)
    if failing_error is not None:
        raise failing_error
    acc.attach_failing(failing_keys)
    return _finish(
        kb,
        acc,
        kept,
        unmapped_ids,
        store.files(),
        scopes=scopes,
        now=now,
        max_age_days=max_age_days,
        unmapped=unmapped,
        blob_out=blob_out,
    )
