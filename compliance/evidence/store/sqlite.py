"""The SQLite engine of the evidence store: one SQLite database (WAL) and the locker in a workspace folder.

Layout of ``<workspace>/``::

    evidence.db                 SQLite, WAL journal
    locker/<aa>/<sha256>        every ingested file (and attestation attachment), named by its SHA-256
    locker/tmp/                 copies in progress (removed when an ingest starts)

Tables (later stages may add their own, prefixed ``assess_`` or ``design_``):

``files``         one row per ingested evidence file, in ingest order, with a hash chain over the rows
``observations``  one row per finding as a file stated it, each with the digest of its own fields
``identities``    one row per finding identity (tool + rule + subject): first/last seen, status, mapping
                  (``latest``: its newest observation; ``last_file``: the file that last reported it)
                  (no index on tool and location: an identity starts with 8 hex digits of a hash of its
                  tool and location, so a scope's identities are one key range of the primary key)
``coverage``      per tool and location (file or account/region), the latest scan that looked there
``attachments``   attestation attachments (their bytes are in the locker)

``assess_runs``, ``assess_controls``, ``assess_catalog``  assessments and catalog statements (see
                  :meth:`SQLiteStore.save_assessment`)
``assess_determinations``  assessors' determinations, append-only history (see
                  :meth:`SQLiteStore.add_determinations`)
``triage``        triage decisions about findings, append-only history (see :meth:`SQLiteStore.add_triage`;
                  their supporting documents are in the locker)
``systems``       the systems (authorization boundaries) of the workspace, by name (made when the first is
                  added; a store without the table has no systems)

Every SQLite-specific thing (the connection, PRAGMAs, URIs, WAL, SQL) is in this module.

Tamper evidence, without a key: every observation row stores a digest of its fields; every file row
stores the digest over its observations' digests and a chain digest over the previous file row. An
edited row, a deleted row or an edited file row breaks a digest that ``verify`` recomputes; a flipped
byte in the locker breaks the file's SHA-256.
"""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import orjson

from compliance.errors import InputError, NotFoundError, StoreError
from compliance.evidence.model import EvidenceFile, StoredFinding
from compliance.evidence.store.base import (
    ADD_COMPLETENESS,
    FILE_COLUMNS,
    GENESIS,
    MIGRATES_FROM,
    OBS_COLUMNS,
    SCHEMA_VERSION,
    AssessmentBlob,
    AssessmentRow,
    Batch,
    DeterminationRecord,
    EngineError,
    FailingRow,
    FileWrite,
    GroupRow,
    GroupScan,
    HistoryEntry,
    NewFile,
    SlotCodes,
    Store,
    SubjectFilter,
    SystemRow,
    TriageRecord,
    VerifyProblem,
    chain_digest,
    hash_file,
    row_digest,
)

DB_NAME = "evidence.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    format TEXT NOT NULL,
    tool TEXT NOT NULL,
    tool_version TEXT,
    scan_time TEXT NOT NULL,
    scan_time_source TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    findings INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    other INTEGER NOT NULL,
    mapped INTEGER NOT NULL,
    rows_digest TEXT NOT NULL,
    chain TEXT NOT NULL,
    completeness TEXT
);
CREATE TABLE IF NOT EXISTS observations (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    identity TEXT NOT NULL,
    tool TEXT NOT NULL,
    tool_version TEXT,
    scan_time TEXT NOT NULL,
    scan_time_source TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    rule_title TEXT,
    severity TEXT,
    result TEXT NOT NULL,
    resource TEXT,
    function TEXT,
    file TEXT,
    line INTEGER,
    provider TEXT,
    account TEXT,
    region TEXT,
    cwes TEXT NOT NULL,
    pointer TEXT NOT NULL,
    message TEXT,
    method TEXT NOT NULL,
    targets TEXT NOT NULL,
    digest TEXT NOT NULL
);
DROP INDEX IF EXISTS observations_file;
CREATE TABLE IF NOT EXISTS identities (
    identity TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    loc TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    status TEXT NOT NULL,
    latest INTEGER NOT NULL,
    last_file INTEGER NOT NULL,
    seen INTEGER NOT NULL,
    mapped_by TEXT NOT NULL,
    mitigations TEXT NOT NULL,
    controls TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS coverage (
    tool TEXT NOT NULL,
    loc TEXT NOT NULL,
    scan_time TEXT NOT NULL,
    PRIMARY KEY (tool, loc)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attachments (
    file_id INTEGER NOT NULL,
    pointer TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL
);
"""

#: Assessment tables, made when first needed (``sckb assess`` or ``sckb catalog import``):
#: ``assess_runs``      one row per assessment: id, seq (order of saving; the highest is the latest),
#:                      now, scopes, max_age_days, summary (JSON) and the whole assessment (orjson blob)
#: ``assess_controls``  (assessment_id, control_id, status): for SQL readers such as the site
#: ``assess_catalog``   (control_id, title, statement, source): from ``sckb catalog import``
_ASSESS_SCHEMA = """
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

#: Assessors' determinations (issue 21), made when first recorded: one row per determination or withdrawal, in the
#: order recorded (``seq``); never updated or deleted. ``methods`` is space-separated. A row equal in every field to a
#: stored one is not stored again (recording the same file twice changes nothing).
_DETERMINATIONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS assess_determinations (
    seq INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    status TEXT NOT NULL,
    rationale TEXT NOT NULL,
    by_whom TEXT NOT NULL,
    role TEXT NOT NULL,
    date TEXT NOT NULL,
    methods TEXT NOT NULL,
    source TEXT NOT NULL,
    UNIQUE (target, status, rationale, by_whom, role, date, methods, source)
);
"""
_DETERMINATION_COLUMNS = "target, status, rationale, by_whom, role, date, methods, source"
#: Triage decisions (issue 22), made when the first is recorded: one row per decision or withdrawal, in the order
#: recorded; never updated or deleted. ``details`` and ``documents`` are JSON. Equal rows are stored once.
_TRIAGE_SCHEMA = """
CREATE TABLE IF NOT EXISTS triage (
    seq INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    rationale TEXT NOT NULL,
    by_whom TEXT NOT NULL,
    date TEXT NOT NULL,
    expires TEXT,
    approved_by TEXT,
    details TEXT NOT NULL,
    documents TEXT NOT NULL,
    source TEXT NOT NULL,
    UNIQUE (target, kind, withdrawn, rationale, by_whom, date, expires, approved_by, details, documents, source)
);
"""
_TRIAGE_COLUMNS = "target, kind, withdrawn, rationale, by_whom, date, expires, approved_by, details, documents, source"
#: Systems (issue 21), made when the first is added (``sckb system add``): one row per system, its validated
#: record as JSON (``data``), the file it came from and the time it was added.
_SYSTEMS_SCHEMA = """
CREATE TABLE IF NOT EXISTS systems (
    name TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    source TEXT NOT NULL,
    added_at TEXT NOT NULL
);
"""

_UPSERT = """
INSERT INTO identities
  (identity, tool, rule_id, loc, first_seen, last_seen, status, latest, last_file, seen, mapped_by, mitigations, controls)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
ON CONFLICT(identity) DO UPDATE SET
  first_seen = min(first_seen, excluded.first_seen),
  last_file = excluded.last_file,
  seen = seen + 1,
  status = CASE WHEN excluded.last_seen >= last_seen THEN excluded.status ELSE status END,
  latest = CASE WHEN excluded.last_seen >= last_seen THEN excluded.latest ELSE latest END,
  mapped_by = CASE WHEN excluded.last_seen >= last_seen THEN excluded.mapped_by ELSE mapped_by END,
  mitigations = CASE WHEN excluded.last_seen >= last_seen THEN excluded.mitigations ELSE mitigations END,
  controls = CASE WHEN excluded.last_seen >= last_seen THEN excluded.controls ELSE controls END,
  last_seen = max(last_seen, excluded.last_seen)
"""
#: id, file_id, the observation columns, digest
_INSERT_OBS = "INSERT INTO observations VALUES (" + ", ".join("?" * (len(OBS_COLUMNS) + 3)) + ")"
_DIGEST = len(OBS_COLUMNS) + 2  # the digest's slot in an observation row

#: A finding identity with its latest observation: i. and o. columns in StoredFinding's field order.
FINDING_SQL = (
    "SELECT i.identity, "
    + ", ".join("o." + c for c in OBS_COLUMNS[1:])
    + ", i.first_seen, i.last_seen, i.status, f.sha256, i.mitigations, i.controls, i.mapped_by, i.seen"
    " FROM identities i JOIN observations o ON o.id = i.latest JOIN files f ON f.id = o.file_id"
)
#: FailingRow's fields as columns: identity columns from ``identities``, the others from the latest observation.
_FAILING_COLS = {
    "identity": "i.identity",
    "tool": "i.tool",
    "rule_id": "i.rule_id",
    "first_seen": "i.first_seen",
    "last_seen": "i.last_seen",
    "status": "i.status",
    "file_id": "o.file_id",
    "mitigations": "i.mitigations",
    "mapped_by": "i.mapped_by",
}
_FAILING_SQL = (
    "SELECT "
    + ", ".join(_FAILING_COLS.get(name, "o." + name) for name in FailingRow._fields)
    + " FROM identities i JOIN observations o ON o.id = i.latest WHERE i.status = 'open' AND o.result = 'fail'"
    " AND i.last_seen >= ? AND i.last_seen <= ?"
)

#: Columns the assessment's grouping and failing queries read (another store version may lack some)
_NEEDED = {
    "identities": {"identity", "tool", "rule_id", "status", "first_seen", "last_seen", "latest", "mitigations", "mapped_by"},
    "observations": {
        "id",
        "file_id",
        "result",
        "scan_time_source",
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


#: A system's boundary as an SQL condition over the latest observation (issue 21): the function is registered on
#: each connection that runs it (:func:`_register_inside`).
_INSIDE_SQL = "sckb_inside(o.provider, o.account, o.region, o.resource, o.function, o.file, o.method)"


def _register_inside(conn: sqlite3.Connection, inside: SubjectFilter) -> None:
    conn.create_function("sckb_inside", 7, inside, deterministic=True)


def _split(value: str) -> tuple[str, ...]:
    return tuple(value.split()) if value else ()


def _slot_sql(start_s: str, now_s: str, s: SlotCodes) -> str:
    """Status rule 1 as an SQL expression over ``o.result``, ``i.status`` and ``i.last_seen`` (the two times are
    canonical ISO strings, safe to inline; the codes are ints)."""
    if len(start_s) != 20 or len(now_s) != 20 or "'" in start_s + now_s:
        raise ValueError("the window must be canonical ISO 8601 times")
    return (
        f"CASE WHEN length(i.last_seen) != 20 OR substr(i.last_seen, 20) != 'Z' THEN {int(s.irregular)}"
        f" WHEN i.last_seen < '{start_s}' THEN {int(s.stale)} WHEN i.last_seen > '{now_s}' THEN {int(s.future)}"
        + (f" WHEN o.scan_time_source = 'ingest' THEN {int(s.undated)}" if s.undated is not None else "")
        + f" WHEN o.result = 'fail' THEN (CASE WHEN i.status = 'open' THEN {int(s.failed)} ELSE {int(s.closed)} END)"
        f" WHEN o.result = 'pass' THEN {int(s.passed)} WHEN o.result = 'error' THEN {int(s.error)} ELSE {int(s.info)} END"
    )


def _groups_sql(start_s: str, now_s: str, slots: SlotCodes) -> str:
    """One row per distinct tally key (see :class:`GroupRow`), with a ``/*where*/`` placeholder for a range of
    identities."""
    rows = (
        "SELECT i.tool AS tool, i.rule_id AS rule_id, o.file_id AS fid, "
        + _slot_sql(start_s, now_s, slots)
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


class SQLiteStore(Store):
    """The evidence store of one workspace in SQLite (``<workspace>/evidence.db``, WAL)."""

    def __init__(self, workspace: Path, conn: sqlite3.Connection) -> None:
        super().__init__(workspace)
        self.conn = conn
        #: the schema version the store had when this process opened it for writing (None: it was made now)
        self.schema_before: str | None = str(SCHEMA_VERSION)
        #: the ``files.completeness`` column, or NULL in a schema 2 store opened read-only (not brought up to date)
        self.completeness_sql = "completeness" if _has_column(conn, "files", "completeness") else "NULL"

    # ------------------------------------------------------------------ open / close
    @classmethod
    def open(cls, workspace: Path, *, create: bool = True, read_only: bool = False) -> SQLiteStore:
        workspace = Path(workspace)
        db = workspace / DB_NAME
        if not db.exists() and (not create or read_only):
            raise NotFoundError(f"{workspace}: no evidence store here (run 'sckb evidence ingest' first)")
        if read_only:
            try:
                conn = sqlite3.connect(f"file:{quote(str(db))}?mode=ro", uri=True, check_same_thread=False)
                _check_schema(conn, db)  # a schema 2 store is read as it is (its files record no completeness)
                return cls(workspace, conn)
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{db}: cannot open the evidence store: {exc}") from None
        try:
            workspace.mkdir(parents=True, exist_ok=True)
            (workspace / "locker").mkdir(exist_ok=True)
            conn = sqlite3.connect(db, isolation_level=None, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA page_size=16384")  # only takes effect on a new database
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=OFF")
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("PRAGMA temp_store=MEMORY")
            before = _check_schema(conn, db)  # before anything is written
            if before is not None and before != str(SCHEMA_VERSION):
                _migrate(conn)
            conn.executescript(_SCHEMA)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{db}: cannot open the evidence store: {exc}") from None
        except OSError as exc:
            raise StoreError(f"{workspace}: cannot create the workspace: {exc.strerror}") from None
        store = cls(workspace, conn)
        store.schema_before = before
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    # ------------------------------------------------------------------ reading
    def has_file(self, sha256: str) -> bool:
        return self.conn.execute("SELECT 1 FROM files WHERE sha256=?", (sha256,)).fetchone() is not None

    def files(self) -> list[EvidenceFile]:
        rows = self.conn.execute(
            "SELECT sha256, name, format, tool, tool_version, scan_time, scan_time_source, ingested_at, findings,"
            f" failed, passed, other, mapped, bytes, {self.completeness_sql} FROM files ORDER BY id"
        ).fetchall()
        return [EvidenceFile(*r) for r in rows]

    def findings(
        self,
        *,
        status: str | None = None,
        tool: str | None = None,
        rule: str | None = None,
        mitigation: str | None = None,
        control: str | None = None,
        mapped: bool | None = None,
        identity: str | None = None,
    ) -> Iterator[StoredFinding]:
        where: list[str] = []
        args: list[str] = []
        if status:
            where.append("i.status = ?")
            args.append(status)
        if tool:
            where.append("i.tool = ?")
            args.append(tool)
        if rule:
            where.append("i.rule_id = ?")
            args.append(rule)
        if mitigation:
            where.append("instr(i.mitigations, ?) > 0")
            args.append(f" {mitigation} ")
        if control:
            where.append("instr(i.controls, ?) > 0")
            args.append(f" {control} ")
        if mapped is not None:
            where.append("(i.mitigations != '' OR i.controls != '')" if mapped else "(i.mitigations = '' AND i.controls = '')")
        if identity:
            where.append("i.identity LIKE ?")
            args.append(identity.replace("%", "").replace("_", "") + "%")
        sql = FINDING_SQL + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY i.tool, i.rule_id, o.resource, o.file, o.line, i.identity"
        for r in self.conn.execute(sql, args):
            yield _stored(r)

    def history(self, identity: str) -> list[HistoryEntry]:
        rows = self.conn.execute(
            "SELECT f.sha256, f.name, o.scan_time, o.result, o.pointer FROM observations o JOIN files f ON f.id=o.file_id"
            " WHERE o.identity=? ORDER BY o.scan_time, o.id",
            (identity,),
        ).fetchall()
        return [HistoryEntry(file_sha256=r[0], file=r[1], scan_time=r[2], result=r[3], pointer=r[4]) for r in rows]

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in ("open", "closed", "passing", "info")}
        for status, n in self.conn.execute("SELECT status, count(*) FROM identities GROUP BY status"):
            out[status] = n
        out["files"] = self.conn.execute("SELECT count(*) FROM files").fetchone()[0]
        out["observations"] = self.conn.execute("SELECT count(*) FROM observations").fetchone()[0]
        return out

    def identity_count(self) -> int:
        n: int = self.conn.execute("SELECT count(*) FROM identities").fetchone()[0]
        return n

    def observation_rows(self) -> Iterator[tuple[Any, ...]]:
        yield from self.conn.execute("SELECT id, file_id, " + ", ".join(OBS_COLUMNS) + ", digest FROM observations ORDER BY id")

    # ------------------------------------------------------------------ verify
    def verify(self) -> list[VerifyProblem]:
        problems: list[VerifyProblem] = []
        prev = GENESIS
        known: set[str] = set()
        # one pass over the observations in id order (a file's rows have consecutive ids): per file, the digest
        # over its rows' digests, its row count and its edited rows (no index on file_id is needed)
        per_file: dict[int, tuple[Any, list[int], list[tuple[Any, ...]]]] = {}
        for obs in self.conn.execute("SELECT id, file_id, " + ", ".join(OBS_COLUMNS) + ", digest FROM observations ORDER BY id"):
            acc = per_file.get(obs[1])
            if acc is None:
                acc = per_file[obs[1]] = (hashlib.sha256(), [0], [])
            acc[1][0] += 1
            if row_digest(obs[0], obs[1], tuple(obs[2:-1])) != obs[-1]:
                acc[2].append(obs)
            acc[0].update(obs[-1].encode())
        cols = ", ".join(FILE_COLUMNS)
        cur = self.conn.execute(f"SELECT id, chain, {self.completeness_sql}, {cols} FROM files ORDER BY id")
        for row in cur.fetchall():
            fid, chain, complete, values = row[0], row[1], row[2], tuple(row[3:])
            sha, name, nbytes, rows_digest = values[0], values[1], values[8], values[14]
            known.add(sha)
            where = f"file {name} ({sha[:12]})"
            expect = chain_digest(prev, values, complete)
            if expect != chain:
                problems.append(VerifyProblem("chain", where, "file record was changed (hash chain broken)"))
            prev = chain
            path = self.locker_path(sha)
            if not path.is_file():
                problems.append(VerifyProblem("missing", where, f"locker copy is missing ({path})"))
            else:
                actual, size = hash_file(path)
                if actual != sha:
                    problems.append(VerifyProblem("locker", where, f"locker copy changed: SHA-256 is now {actual}"))
                elif size != nbytes:
                    problems.append(VerifyProblem("locker", where, f"locker copy has {size} bytes, expected {nbytes}"))
            h, count, edited = per_file.pop(fid, None) or (hashlib.sha256(), [0], [])
            n = count[0]
            for obs in edited:
                problems.append(VerifyProblem("row", f"{where} observation {obs[0]} ({obs[7]} at {obs[19]})", "row was edited"))
            if h.hexdigest() != rows_digest or n != values[9]:
                problems.append(VerifyProblem("file", where, f"observation rows were added, removed or re-digested ({n} rows)"))
        for _pid, psha, ppath in self.conn.execute("SELECT file_id, sha256, path FROM attachments ORDER BY file_id, path"):
            path = self.locker_path(psha)
            if not path.is_file() or hash_file(path)[0] != psha:
                problems.append(VerifyProblem("locker", f"attachment {ppath} ({psha[:12]})", "locker copy missing or changed"))
            known.add(psha)
        for tseq, tdocs in self._triage_documents():
            for dname, dsha in tdocs:
                path = self.locker_path(dsha)
                if not path.is_file() or hash_file(path)[0] != dsha:
                    where = f"triage record {tseq} document {dname} ({dsha[:12]})"
                    problems.append(VerifyProblem("locker", where, "locker copy missing or changed"))
                known.add(dsha)
        # derived state must agree with the observations
        for ident, first, last in self.conn.execute(
            "SELECT i.identity, i.first_seen, i.last_seen FROM identities i LEFT JOIN "
            "(SELECT identity, min(scan_time) f, max(scan_time) l FROM observations GROUP BY identity) o USING (identity)"
            " WHERE o.f IS NULL OR i.first_seen != o.f OR i.last_seen != o.l"
        ):
            problems.append(
                VerifyProblem("identity", f"finding {ident}", f"first/last seen ({first}, {last}) disagree with its observations")
            )
        orphans = self.conn.execute(
            "SELECT count(*) FROM observations o LEFT JOIN identities i USING (identity) WHERE i.identity IS NULL"
        ).fetchone()[0]
        if orphans:
            problems.append(VerifyProblem("identity", "identities", f"{orphans} observations have no finding identity"))
        return problems

    def locker_names(self) -> set[str]:
        names = {r[0] for r in self.conn.execute("SELECT sha256 FROM files UNION SELECT sha256 FROM attachments")}
        return names | {sha for _seq, docs in self._triage_documents() for _name, sha in docs}

    def last_chain(self) -> str:
        row = self.conn.execute("SELECT chain FROM files ORDER BY id DESC LIMIT 1").fetchone()
        return str(row[0]) if row else GENESIS

    # ------------------------------------------------------------------ ingest
    def write_file(self) -> SQLiteFileWrite:
        return SQLiteFileWrite(self)

    def bulk_ingest(self) -> None:
        # checkpoint the WAL every 256 MB rather than every 16 MB: pages that many files touch (the identity
        # index) are copied into the database once per checkpoint, not once per file; see checkpoint()
        self.conn.execute("PRAGMA wal_autocheckpoint=16384")

    def checkpoint(self) -> None:
        self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    # ------------------------------------------------------------------ assessment reading
    def can_tally(self) -> bool:
        for table, cols in _NEEDED.items():
            have = {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}
            if not cols <= have:
                return False
        return True

    def file_shas(self) -> dict[int, str]:
        return dict(self.conn.execute("SELECT id, sha256 FROM files"))

    def tally_groups(
        self, start: str, now: str, slots: SlotCodes, workers: int = 1, inside: SubjectFilter | None = None
    ) -> SQLiteGroupScan:
        return SQLiteGroupScan(self.conn, _groups_sql(start, now, slots), workers, inside)

    def open_failures(
        self, start: str, now: str, inside: SubjectFilter | None = None, dated_only: bool = False
    ) -> Iterator[FailingRow]:
        sql = _FAILING_SQL + (" AND o.scan_time_source != 'ingest'" if dated_only else "")
        if inside is None:
            return map(FailingRow._make, self.conn.execute(sql, (start, now)))
        _register_inside(self.conn, inside)
        return map(FailingRow._make, self.conn.execute(sql + " AND " + _INSIDE_SQL, (start, now)))

    # ------------------------------------------------------------------ assessments
    def _ensure_assess(self) -> None:
        try:
            self.conn.executescript(_ASSESS_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot create the assessment tables: {exc}") from exc

    def save_assessment(self, blob: AssessmentBlob) -> None:
        self._ensure_assess()
        conn = self.conn
        try:
            with conn:
                seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM assess_runs").fetchone()[0]
                conn.execute("DELETE FROM assess_controls WHERE assessment_id = ?", (blob.id,))
                conn.execute(
                    "INSERT OR REPLACE INTO assess_runs (id, seq, now, scopes, max_age_days, summary, data)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (blob.id, seq, blob.now, ",".join(blob.scopes), blob.max_age_days, blob.summary, blob.data),
                )
                conn.executemany("INSERT INTO assess_controls VALUES (?,?,?)", [(blob.id, c, s) for c, s in blob.controls])
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot save the assessment: {exc}") from exc

    def resolve_assessment(self, ident: str | None) -> str:
        self._ensure_assess()
        conn = self.conn
        if ident is None or ident == "latest":
            row = conn.execute("SELECT id FROM assess_runs ORDER BY seq DESC LIMIT 1").fetchone()
            if row is None:
                raise NotFoundError("no assessment in this workspace yet: run 'sckb assess --scope ...' first")
            return str(row[0])
        rows = conn.execute(
            "SELECT id FROM assess_runs WHERE id = ? OR id LIKE ? ORDER BY seq DESC", (ident, ident + "%")
        ).fetchall()
        exact = [r[0] for r in rows if r[0] == ident]
        if exact:
            return str(exact[0])
        if len(rows) == 1:
            return str(rows[0][0])
        if not rows:
            raise NotFoundError(f"no assessment {ident!r} in this workspace (see 'sckb assess list')")
        raise NotFoundError(f"assessment id prefix {ident!r} is ambiguous: " + ", ".join(r[0] for r in rows))

    def assessment_data(self, full_id: str) -> bytes:
        row = self.conn.execute("SELECT data FROM assess_runs WHERE id = ?", (full_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no assessment {full_id!r} in this workspace (see 'sckb assess list')")
        return bytes(row[0])

    def assessments(self) -> list[AssessmentRow]:
        self._ensure_assess()
        return [
            AssessmentRow(ident, seq, now, tuple(scopes.split(",")), bytes(summary))
            for ident, seq, now, scopes, summary in self.conn.execute(
                "SELECT id, seq, now, scopes, summary FROM assess_runs ORDER BY seq DESC"
            )
        ]

    # ------------------------------------------------------------------ catalog statements
    def put_statements(self, found: Mapping[str, tuple[str, str]], source: str) -> int:
        self._ensure_assess()
        conn = self.conn
        try:
            with conn:
                conn.execute("DELETE FROM assess_catalog")
                conn.executemany(
                    "INSERT INTO assess_catalog (control_id, title, statement, source) VALUES (?,?,?,?)",
                    [(cid, t, s, source) for cid, (t, s) in sorted(found.items())],
                )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot store the catalog: {exc}") from exc
        return len(found)

    def statements(self) -> dict[str, str]:
        try:
            return dict(self.conn.execute("SELECT control_id, statement FROM assess_catalog").fetchall())
        except sqlite3.OperationalError:  # no catalog imported (no table yet)
            return {}

    # ------------------------------------------------------------------ assessors' determinations (issue 21)
    def add_determinations(self, records: Sequence[DeterminationRecord]) -> int:
        rows = [(r.target, r.status, r.rationale, r.by, r.role, r.date, " ".join(r.methods), r.source) for r in records]
        return self._append(_DETERMINATIONS_SCHEMA, "assess_determinations", _DETERMINATION_COLUMNS, rows, "determinations")

    def _append(self, schema: str, table: str, columns: str, rows: Sequence[tuple[Any, ...]], what: str) -> int:
        """Append ``rows`` to an append-only history table in one transaction, leaving out a row equal in every
        column to a stored one (compared with IS, since UNIQUE lets rows with NULLs repeat); how many were new."""
        conn = self.conn
        where = " AND ".join(f"{c.strip()} IS ?" for c in columns.split(","))
        marks = ",".join("?" * len(columns.split(",")))
        try:
            conn.executescript(schema)
            conn.execute("BEGIN IMMEDIATE")  # all of them or none
            try:
                before: int = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                fresh = [r for r in rows if conn.execute(f"SELECT 1 FROM {table} WHERE {where}", r).fetchone() is None]
                conn.executemany(f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})", fresh)
                after: int = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot record the {what}: {exc}") from exc
        return after - before

    def determinations(self) -> list[DeterminationRecord]:
        try:
            rows = self.conn.execute(f"SELECT seq, {_DETERMINATION_COLUMNS} FROM assess_determinations ORDER BY seq").fetchall()
        except sqlite3.OperationalError:  # none recorded yet (no table), e.g. on a read-only open
            return []
        return [
            DeterminationRecord(
                target=t, status=st, rationale=ra, by=by, role=ro, date=da, methods=_split(me), source=so, seq=seq
            )
            for seq, t, st, ra, by, ro, da, me, so in rows
        ]

    # ------------------------------------------------------------------ triage decisions (issue 22)
    def add_triage(self, records: Sequence[TriageRecord]) -> int:
        rows = [
            (r.target, r.kind, int(r.withdrawn), r.rationale, r.by, r.date, r.expires, r.approved_by, r.details,
             orjson.dumps([list(d) for d in r.documents]).decode(), r.source)
            for r in records
        ]  # fmt: skip
        return self._append(_TRIAGE_SCHEMA, "triage", _TRIAGE_COLUMNS, rows, "triage decisions")

    def _triage_documents(self) -> list[tuple[int, list[tuple[str, str]]]]:
        try:
            rows = self.conn.execute("SELECT seq, documents FROM triage WHERE documents != '[]' ORDER BY seq").fetchall()
        except sqlite3.OperationalError:
            return []
        return [(seq, [(str(n), str(h)) for n, h in orjson.loads(docs)]) for seq, docs in rows]

    def statuses(self, identities: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        ids = sorted(set(identities))
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT identity, status FROM identities WHERE identity IN ({marks})"
            out.update(self.conn.execute(sql, chunk).fetchall())
        return out

    def triage(self) -> list[TriageRecord]:
        try:
            rows = self.conn.execute(f"SELECT seq, {_TRIAGE_COLUMNS} FROM triage ORDER BY seq").fetchall()
        except sqlite3.OperationalError:  # none recorded yet (no table)
            return []
        return [
            TriageRecord(
                target=t, kind=k, withdrawn=bool(w), rationale=ra, by=by, date=da, expires=ex, approved_by=ap,
                details=de, documents=tuple((str(n), str(h)) for n, h in orjson.loads(do)), source=so, seq=seq,
            )
            for seq, t, k, w, ra, by, da, ex, ap, de, do, so in rows
        ]  # fmt: skip

    # ------------------------------------------------------------------ systems (issue 21)
    def put_system(self, row: SystemRow, *, replace: bool = False) -> bool:
        conn = self.conn
        try:
            conn.executescript(_SYSTEMS_SCHEMA)
            with conn:
                had = conn.execute("SELECT 1 FROM systems WHERE name = ?", (row.name,)).fetchone() is not None
                if had and not replace:
                    raise InputError(
                        f"system {row.name!r} is already in this workspace (add --replace to replace it)", path=row.source
                    )
                conn.execute(
                    "INSERT OR REPLACE INTO systems (name, data, source, added_at) VALUES (?,?,?,?)",
                    (row.name, row.data, row.source, row.added_at),
                )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot store the system: {exc}") from exc
        return had

    def systems(self) -> list[SystemRow]:
        try:
            rows = self.conn.execute("SELECT name, data, source, added_at FROM systems ORDER BY name").fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # no system added yet
                return []
            raise StoreError(f"cannot read the systems: {exc}") from exc
        return [SystemRow(name, bytes(data), source, added_at) for name, data, source, added_at in rows]

    def remove_system(self, name: str) -> None:
        self.system(name)  # NotFoundError listing the known ones
        try:
            with self.conn:
                self.conn.execute("DELETE FROM systems WHERE name = ?", (name,))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot remove the system: {exc}") from exc


class SQLiteFileWrite(FileWrite):
    """One file's SQLite transaction (``BEGIN IMMEDIATE``: one writer at a time; it waits for the others)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.conn = store.conn
        self.file_id = 0
        self.obs_id = 0
        self.first_obs = 0
        self._rows_hash = hashlib.sha256()

    def __enter__(self) -> SQLiteFileWrite:
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            self.file_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM files").fetchone()[0]
            self.obs_id = conn.execute("SELECT coalesce(max(id), 0) FROM observations").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise EngineError(str(exc)) from None
        self.first_obs = self.obs_id + 1
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if et is not None:
            self._rollback()
            if isinstance(ev, sqlite3.DatabaseError):
                raise EngineError(str(ev)) from None
            return
        try:
            self.conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise EngineError(str(exc)) from None

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def has_file(self, sha256: str) -> bool:
        return self.store.has_file(sha256)

    @property
    def count(self) -> int:
        return self.obs_id - self.first_obs + 1

    def add(self, batch: Batch) -> int:
        obs_rows, id_rows = batch
        obs_id, file_id = self.obs_id, self.file_id
        base = obs_id + 1
        sha256, dumps = hashlib.sha256, orjson.dumps
        for row in obs_rows:
            obs_id += 1
            row[0] = obs_id
            row[1] = file_id
            row.append(sha256(dumps(row)).hexdigest()[:32])  # = row_digest(obs_id, file_id, values)
        for r in id_rows:
            r[7] += base
            r[8] = file_id
        self.obs_id = obs_id
        self._rows_hash.update("".join([r[_DIGEST] for r in obs_rows]).encode())  # the file's digest over its rows' digests
        self.conn.executemany(_INSERT_OBS, obs_rows)
        self.conn.executemany(_UPSERT, id_rows)
        return len(obs_rows)

    def cover(self, main_tool: str, tools: list[str], locs: list[str], prefix: Callable[[str, str], str], scan_time: str) -> None:
        conn, file_id = self.conn, self.file_id
        newest = conn.execute("SELECT max(scan_time) FROM coverage WHERE tool=?", (main_tool,)).fetchone()[0]
        for scope_tool in tools:
            conn.executemany(  # a scope's identities share their first characters: a key range
                "UPDATE identities SET status='closed' WHERE identity >= ? AND identity < ? AND tool=? AND loc=?"
                " AND status IN ('open','info') AND last_seen < ? AND last_file != ?",
                [(p, p + "g", scope_tool, loc, scan_time, file_id) for loc in locs for p in (prefix(scope_tool, loc),)],
            )
            if newest is not None and newest > scan_time:  # an older scan arrived late: newer scans may have closed these
                conn.execute(
                    "UPDATE identities SET status='closed' WHERE tool=? AND status IN ('open','info') AND latest >= ?"
                    " AND EXISTS (SELECT 1 FROM coverage c WHERE c.tool=identities.tool AND c.loc=identities.loc"
                    " AND c.scan_time > identities.last_seen)",
                    (scope_tool, self.first_obs),
                )
            conn.executemany(
                "INSERT INTO coverage VALUES (?, ?, ?)"
                " ON CONFLICT(tool, loc) DO UPDATE SET scan_time=max(scan_time, excluded.scan_time)",
                [(scope_tool, loc, scan_time) for loc in locs],
            )

    def finish(self, file: NewFile, attachments: list[tuple[str, str, str]]) -> None:
        f = file
        fvalues = (
            f.sha256, f.name, f.format, f.tool, f.tool_version, f.scan_time, f.scan_time_source, f.ingested_at, f.bytes,
            self.count, f.failed, f.passed, f.other, f.mapped, self._rows_hash.hexdigest(),
        )  # fmt: skip
        assert len(fvalues) == len(FILE_COLUMNS)
        chain = chain_digest(self.store.last_chain(), fvalues, f.completeness)
        self.conn.execute(
            "INSERT INTO files (id, "
            + ", ".join(FILE_COLUMNS)
            + ", chain, completeness) VALUES ("
            + ", ".join("?" * (len(FILE_COLUMNS) + 3))
            + ")",
            (self.file_id, *fvalues, chain, f.completeness),
        )
        self.conn.executemany("INSERT INTO attachments VALUES (?, ?, ?, ?)", [(self.file_id, *a) for a in attachments])


def _check_schema(conn: sqlite3.Connection, db: Path) -> str | None:
    """The store's schema version (None for a new store). A schema from :data:`MIGRATES_FROM` on is
    read, and brought up to date by a writer (:func:`_migrate`). Any other is refused (the connection is closed):
    its finding identities were made another way, and mixing them would count one finding twice. Nothing in it
    is changed."""
    has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
    row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone() if has_meta else None
    if row is None:
        return None
    if row[0].isdigit() and MIGRATES_FROM <= int(row[0]) <= SCHEMA_VERSION:
        return str(row[0])
    conn.close()
    if row[0].isdigit() and int(row[0]) < SCHEMA_VERSION:
        raise StoreError(
            f"{db}: this evidence store was written by an older sckb (store schema {row[0]}; this sckb reads "
            f"{SCHEMA_VERSION}, with finding identities made another way): ingest the evidence again into a new "
            "workspace (this store is left unchanged)"
        )
    raise StoreError(f"{db}: store schema {row[0]} is not supported (this sckb reads {SCHEMA_VERSION})")


def _has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    return any(r[1] == column for r in conn.execute(f"PRAGMA table_info({table})"))


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a schema 2 store up to :data:`SCHEMA_VERSION` in one transaction: ``files`` gains its
    ``completeness`` column (NULL in the rows already there: not recorded, and not part of their chain digest).
    Two processes may open the same old store at once: the second finds the work done."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not _has_column(conn, "files", "completeness"):
            conn.execute(ADD_COMPLETENESS)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


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


def _read_part(path: str, sql: str, args: tuple[str, ...], out: list[Any], inside: SubjectFilter | None = None) -> None:
    """Run one range of the groups query on a connection of its own (a worker thread: SQLite releases the GIL)."""
    try:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=30)
        try:
            if inside is not None:
                _register_inside(conn, inside)
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-65536")
            out.append(list(map(GroupRow._make, conn.execute(sql, args).fetchall())))
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        out.append(exc)


class SQLiteGroupScan(GroupScan):
    """The rows of the groups query, read by ``workers`` threads over ranges of identities when the store is a
    file and the connection has nothing uncommitted (each range is grouped on its own; the caller merges).
    The threads start at once; :meth:`batches` waits for them."""

    def __init__(self, conn: sqlite3.Connection, sql: str, workers: int, inside: SubjectFilter | None = None) -> None:
        only = [_INSIDE_SQL] if inside is not None else []  # a system's boundary (issue 21)
        if inside is not None:
            _register_inside(conn, inside)
        self.conn, self.sql = conn, sql.replace("/*where*/", " WHERE " + only[0] if only else "")
        self.path = _db_path(conn)
        points = _split_points(conn, workers) if workers > 1 and self.path and not conn.in_transaction else []
        self.results: list[list[Any]] = []
        self.threads: list[threading.Thread] = []
        if not points or self.path is None:
            return
        bounds: list[str | None] = [None, *points, None]
        for lo, hi in itertools.pairwise(bounds):
            where = " AND ".join([*(w for w, b in (("i.identity >= ?", lo), ("i.identity < ?", hi)) if b is not None), *only])
            args = tuple(b for b in (lo, hi) if b is not None)
            out: list[Any] = []
            self.results.append(out)
            part_sql = sql.replace("/*where*/", " WHERE " + where)
            self.threads.append(threading.Thread(target=_read_part, args=(self.path, part_sql, args, out, inside), daemon=True))
        for t in self.threads:
            t.start()

    def batches(self) -> Iterator[list[GroupRow]]:
        if not self.threads:
            try:
                cur = self.conn.execute(self.sql)
                while batch := cur.fetchmany(4096):
                    yield list(map(GroupRow._make, batch))
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path}: cannot read the evidence store: {exc}") from None
            return
        for t, out in zip(self.threads, self.results, strict=True):
            t.join()
            if isinstance(out[0], BaseException):
                raise StoreError(f"{self.path}: cannot read the evidence store: {out[0]}")
            yield out[0]

    def wait(self) -> None:
        for t in self.threads:
            t.join()


def _stored(r: tuple[Any, ...]) -> StoredFinding:
    return StoredFinding(
        identity=r[0],
        tool=r[1],
        tool_version=r[2],
        scan_time=r[3],
        scan_time_source=r[4],
        rule_id=r[5],
        rule_title=r[6],
        severity=r[7],
        result=r[8],
        resource=r[9],
        function=r[10],
        file=r[11],
        line=r[12],
        provider=r[13],
        account=r[14],
        region=r[15],
        cwes=_split(r[16]),
        pointer=r[17],
        message=r[18],
        method=r[19],
        targets=_split(r[20]),
        first_seen=r[21],
        last_seen=r[22],
        status=r[23],
        file_sha256=r[24],
        mitigations=_split(r[25]),
        controls=_split(r[26]),
        mapped_by=r[27],
        observations=r[28],
    )
