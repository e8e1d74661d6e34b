"""The PostgreSQL engine of the evidence store (issue 16): a team store that many ingesters write at once.

Opened by a ``postgresql://`` URL (``--store`` / ``SCKB_STORE``); the locker is a folder named by configuration
(``--locker`` / ``SCKB_LOCKER``, default ``<workspace>/locker``) that every ingester and verifier can reach.

The tables and their columns are the SQLite engine's (:mod:`compliance.evidence.store.sqlite`), with the same
meaning, so ``sckb store copy`` moves rows between the engines unchanged. Text columns use the ``"C"``
collation (byte order, as SQLite compares), so listings come out in the same order on both engines.

Concurrency: one file is one transaction, as in SQLite. Its rows are numbered, digested, written and chained
while the transaction holds a transaction-level advisory lock (:data:`INGEST_LOCK`), so files from any number of
processes get consecutive ids, a consistent hash chain and a clear order. The lock is taken late: the expensive
work (copying, hashing, parsing, mapping, and copying the identity rows into a staging table) runs in parallel,
the rows held until the file is parsed (up to :data:`BUFFER_ROWS`; a bigger file streams the rest under the lock).
Under the lock: numbering, one SHA-256 per row, the observations' ``COPY``, one upsert of the staged identities,
coverage and the file row. Writers of the same bytes take turns through an advisory lock per file, taken when the
transaction checks for the file, so the second one sees the first one's file and skips it as a duplicate. A
connection lost mid-file rolls that file back (the server does it).

The lock makes the writing serial: with two or more ingesters the throughput is the time under the lock per row
(most of it the server's: the observations' ``COPY`` with their two indexes, the identities' upsert).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
import psycopg
from psycopg.conninfo import conninfo_to_dict

from compliance.errors import InputError, NotFoundError, StoreError
from compliance.evidence.model import EvidenceFile, StoredFinding
from compliance.evidence.store.base import (
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

#: The advisory lock (a bigint key) a file's writing holds until its transaction ends: "sckb" in ASCII.
INGEST_LOCK = 0x73636B62
#: The advisory lock of schema creation and of the append-only histories (determinations, triage).
SCHEMA_LOCK = INGEST_LOCK + 1
#: The first key of the advisory locks per evidence file (the second is a hash of its SHA-256).
FILE_LOCK_SPACE = 0x73636B
#: The largest value (and protocol message) the server accepts, less room for the rest of the statement.
_MAX_VALUE = (1 << 30) - (1 << 20)
#: Rows a file's transaction holds before it takes the ingest lock (bigger files stream the rest under the lock).
BUFFER_ROWS = 200_000

#: The locker folder of copies in progress, one subfolder per ingesting process.
TMP = ".tmp"

_T = 'TEXT COLLATE "C"'
#: The tables, as in SQLite (same names, columns and order); created by :meth:`PostgresStore.migrate`.
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key {_T} PRIMARY KEY, value {_T} NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id BIGINT PRIMARY KEY, sha256 {_T} NOT NULL UNIQUE, name {_T} NOT NULL, format {_T} NOT NULL,
    tool {_T} NOT NULL, tool_version {_T}, scan_time {_T} NOT NULL, scan_time_source {_T} NOT NULL,
    ingested_at {_T} NOT NULL, bytes BIGINT NOT NULL, findings BIGINT NOT NULL, failed BIGINT NOT NULL,
    passed BIGINT NOT NULL, other BIGINT NOT NULL, mapped BIGINT NOT NULL, rows_digest {_T} NOT NULL,
    chain {_T} NOT NULL, completeness {_T}
);
CREATE TABLE IF NOT EXISTS observations (
    id BIGINT PRIMARY KEY, file_id BIGINT NOT NULL, identity {_T} NOT NULL, tool {_T} NOT NULL,
    tool_version {_T}, scan_time {_T} NOT NULL, scan_time_source {_T} NOT NULL, rule_id {_T} NOT NULL,
    rule_title {_T}, severity {_T}, result {_T} NOT NULL, resource {_T}, function {_T}, file {_T}, line BIGINT,
    provider {_T}, account {_T}, region {_T}, cwes {_T} NOT NULL, pointer {_T} NOT NULL, message {_T},
    method {_T} NOT NULL, targets {_T} NOT NULL, digest {_T} NOT NULL
);
CREATE INDEX IF NOT EXISTS observations_identity ON observations (identity);
CREATE TABLE IF NOT EXISTS identities (
    identity {_T} PRIMARY KEY, tool {_T} NOT NULL, rule_id {_T} NOT NULL, loc {_T} NOT NULL,
    first_seen {_T} NOT NULL, last_seen {_T} NOT NULL, status {_T} NOT NULL, latest BIGINT NOT NULL,
    last_file BIGINT NOT NULL, seen BIGINT NOT NULL, mapped_by {_T} NOT NULL, mitigations {_T} NOT NULL,
    controls {_T} NOT NULL
);
CREATE TABLE IF NOT EXISTS coverage (
    tool {_T} NOT NULL, loc {_T} NOT NULL, scan_time {_T} NOT NULL, PRIMARY KEY (tool, loc)
);
CREATE TABLE IF NOT EXISTS attachments (file_id BIGINT NOT NULL, pointer {_T} NOT NULL, path {_T} NOT NULL, sha256 {_T} NOT NULL);
CREATE TABLE IF NOT EXISTS assess_runs (
    id {_T} PRIMARY KEY, seq BIGINT NOT NULL, now {_T} NOT NULL, scopes {_T} NOT NULL,
    max_age_days BIGINT NOT NULL, summary BYTEA NOT NULL, data BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS assess_controls (
    assessment_id {_T} NOT NULL, control_id {_T} NOT NULL, status {_T} NOT NULL, PRIMARY KEY (assessment_id, control_id)
);
CREATE TABLE IF NOT EXISTS assess_catalog (
    control_id {_T} PRIMARY KEY, title {_T} NOT NULL, statement {_T} NOT NULL, source {_T} NOT NULL
);
CREATE TABLE IF NOT EXISTS assess_determinations (
    seq BIGINT PRIMARY KEY, target {_T} NOT NULL, status {_T} NOT NULL, rationale {_T} NOT NULL,
    by_whom {_T} NOT NULL, role {_T} NOT NULL, date {_T} NOT NULL, methods {_T} NOT NULL, source {_T} NOT NULL
);
CREATE TABLE IF NOT EXISTS triage (
    seq BIGINT PRIMARY KEY, target {_T} NOT NULL, kind {_T} NOT NULL, withdrawn BIGINT NOT NULL,
    rationale {_T} NOT NULL, by_whom {_T} NOT NULL, date {_T} NOT NULL, expires {_T}, approved_by {_T},
    details {_T} NOT NULL, documents {_T} NOT NULL, source {_T} NOT NULL
);
CREATE TABLE IF NOT EXISTS systems (name {_T} PRIMARY KEY, data BYTEA NOT NULL, source {_T} NOT NULL, added_at {_T} NOT NULL);
"""

#: Every table in the order ``sckb store copy`` moves them, with the columns that order its rows.
TABLES: tuple[tuple[str, str], ...] = (
    ("meta", "key"),
    ("files", "id"),
    ("observations", "id"),
    ("identities", "identity"),
    ("coverage", "tool, loc"),
    ("attachments", "file_id, path, pointer, sha256"),
    ("assess_runs", "seq"),
    ("assess_controls", "assessment_id, control_id"),
    ("assess_catalog", "control_id"),
    ("assess_determinations", "seq"),
    ("triage", "seq"),
    ("systems", "name"),
)

_UPSERT = """
INSERT INTO identities AS t
  (identity, tool, rule_id, loc, first_seen, last_seen, status, latest, last_file, seen, mapped_by, mitigations, controls)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 1, %s, %s, %s)
ON CONFLICT (identity) DO UPDATE SET
  first_seen = least(t.first_seen, excluded.first_seen),
  last_file = excluded.last_file,
  seen = t.seen + 1,
  status = CASE WHEN excluded.last_seen >= t.last_seen THEN excluded.status ELSE t.status END,
  latest = CASE WHEN excluded.last_seen >= t.last_seen THEN excluded.latest ELSE t.latest END,
  mapped_by = CASE WHEN excluded.last_seen >= t.last_seen THEN excluded.mapped_by ELSE t.mapped_by END,
  mitigations = CASE WHEN excluded.last_seen >= t.last_seen THEN excluded.mitigations ELSE t.mitigations END,
  controls = CASE WHEN excluded.last_seen >= t.last_seen THEN excluded.controls ELSE t.controls END,
  last_seen = greatest(t.last_seen, excluded.last_seen)
"""
#: A file's identity rows are copied into a staging table as they arrive (``latest`` counted from the file's first row,
#: ``last_file`` unset), then upserted in one statement (as _UPSERT does) when the file holds the ingest lock.
_ID_COLS = "identity, tool, rule_id, loc, first_seen, last_seen, status, latest, last_file, mapped_by, mitigations, controls"
_STAGE = f"CREATE TEMP TABLE IF NOT EXISTS sckb_stage ON COMMIT DROP AS SELECT {_ID_COLS} FROM identities WITH NO DATA"
_COPY_STAGE = f"COPY sckb_stage ({_ID_COLS}) FROM STDIN"
_STAGED = "identity, tool, rule_id, loc, first_seen, last_seen, status, latest + %s, %s, mapped_by, mitigations, controls"
#: each identity's first row of the file (one INSERT ... SELECT may not touch a row twice) ...
_UPSERT_STAGED = (
    f"INSERT INTO identities AS t ({_ID_COLS}, seen) SELECT DISTINCT ON (identity) {_STAGED}, 1 FROM sckb_stage"
    " ORDER BY identity, latest\n" + _UPSERT[_UPSERT.index("ON CONFLICT") :]
)
#: (when every identity comes once in the file, simply)
_INSERT_STAGED = (
    f"INSERT INTO identities AS t ({_ID_COLS}, seen) SELECT {_STAGED}, 1 FROM sckb_stage ORDER BY identity\n"
    + _UPSERT[_UPSERT.index("ON CONFLICT") :]
)
#: ... then its later rows, in file order, upserted one by one with _UPSERT
_AGAIN_STAGED = (
    f"SELECT {_STAGED} FROM (SELECT *, row_number() OVER (PARTITION BY identity ORDER BY latest) AS k FROM sckb_stage) s"
    " WHERE k > 1 ORDER BY latest"
)
_COPY_OBS = "COPY observations (id, file_id, " + ", ".join(OBS_COLUMNS) + ", digest) FROM STDIN"

FINDING_SQL = (
    "SELECT i.identity, "
    + ", ".join("o." + c for c in OBS_COLUMNS[1:])
    + ", i.first_seen, i.last_seen, i.status, f.sha256, i.mitigations, i.controls, i.mapped_by, i.seen"
    " FROM identities i JOIN observations o ON o.id = i.latest JOIN files f ON f.id = o.file_id"
)
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
#: the subject columns a system's boundary looks at (:data:`SubjectFilter`'s arguments, in order)
_SUBJECT = "o.provider, o.account, o.region, o.resource, o.function, o.file, o.method"
_FAILING_SQL = (
    "SELECT "
    + ", ".join(_FAILING_COLS.get(name, "o." + name) for name in FailingRow._fields)
    + f", {_SUBJECT} FROM identities i JOIN observations o ON o.id = i.latest WHERE i.status = 'open' AND o.result = 'fail'"
    " AND i.last_seen >= %s AND i.last_seen <= %s"
)
#: every identity with its latest observation
_LATEST = " FROM identities i JOIN observations o ON o.id = i.latest"
_DET_COLS = "target, status, rationale, by_whom, role, date, methods, source"
_TRIAGE_COLS = "target, kind, withdrawn, rationale, by_whom, date, expires, approved_by, details, documents, source"


def _split(value: str) -> tuple[str, ...]:
    return tuple(value.split()) if value else ()


def _slot_sql(start_s: str, now_s: str, s: SlotCodes) -> str:
    """Status rule 1 (as the SQLite engine words it) over ``o.result``, ``i.status`` and ``i.last_seen``."""
    if len(start_s) != 20 or len(now_s) != 20 or "'" in start_s + now_s:
        raise ValueError("the window must be canonical ISO 8601 times")
    return (
        f"CASE WHEN length(i.last_seen) != 20 OR substr(i.last_seen, 20) != 'Z' THEN {int(s.irregular)}"
        f" WHEN i.last_seen < '{start_s}' THEN {int(s.stale)} WHEN i.last_seen > '{now_s}' THEN {int(s.future)}"
        + (f" WHEN o.scan_time_source = 'ingest' THEN {int(s.undated)}" if s.undated is not None else "")
        + f" WHEN o.result = 'fail' THEN (CASE WHEN i.status = 'open' THEN {int(s.failed)} ELSE {int(s.closed)} END)"
        f" WHEN o.result = 'pass' THEN {int(s.passed)} WHEN o.result = 'error' THEN {int(s.error)} ELSE {int(s.info)} END"
    )


def _row_sql(start_s: str, now_s: str, slots: SlotCodes) -> str:
    return (
        "SELECT i.tool AS tool, i.rule_id AS rule_id, o.file_id AS fid, "
        + _slot_sql(start_s, now_s, slots)
        + " AS slot, o.method AS method, i.mitigations AS mits, o.targets AS targets, i.mapped_by AS mapped_by,"
        " i.last_seen AS last, coalesce(nullif(o.function, ''), nullif(o.resource, ''), nullif(o.file, '')) AS subject"
    )


def describe(url: str) -> str:
    """``host:port/dbname`` of a PostgreSQL URL (never its password), for messages."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://?"
    host = str(info.get("host") or "localhost")
    port = str(info.get("port") or "5432")
    return f"{host}:{port}/{info.get('dbname') or info.get('user') or ''}"


def _reason(exc: BaseException) -> str:
    """The server's or libpq's reason, on one line, without the connection preamble."""
    text = " ".join(str(exc).split())
    text = re.sub(r"^connection failed: ", "", text)
    text = re.sub(r'connection to server at "[^"]*"( \([^)]*\))?, port \d+ failed: ', "", text)
    text = re.sub(r'connection to server on socket "[^"]*" failed: ', "", text)
    return text.replace("FATAL: ", "")


def connect(url: str, *, read_only: bool = False) -> psycopg.Connection[tuple[Any, ...]]:
    """A connection (autocommit; writes open their own transactions); a one-line :class:`StoreError` naming the
    host when the server cannot be reached, refuses the credentials or has no such database."""
    where = describe(url)
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10, application_name="sckb")
    except psycopg.Error as exc:
        reason = _reason(exc)
        if "does not exist" in reason and "database" in reason:
            hint = " (create it with createdb, then run 'sckb store migrate')"
        elif "password" in reason or "authentication" in reason:
            hint = " (check the user and password in the store URL)"
        else:
            hint = " (is the server running and reachable?)"
        raise StoreError(f"{where}: cannot connect to the PostgreSQL evidence store: {reason}{hint}") from None
    if read_only:
        conn.execute("SET default_transaction_read_only = on")
    return conn


class PostgresStore(Store):
    """The evidence store in a PostgreSQL database (see the module's notes)."""

    def __init__(self, workspace: Path, conn: psycopg.Connection[tuple[Any, ...]], url: str, locker: Path | None) -> None:
        super().__init__(workspace)
        self.conn = conn
        self.url = url
        self.where = describe(url)
        if locker is not None:
            self.locker = locker

    # ------------------------------------------------------------------ open / close
    @classmethod
    def open(cls, workspace: Path, *, create: bool = True, read_only: bool = False) -> PostgresStore:
        url = os.environ.get("SCKB_STORE", "")
        locker = os.environ.get("SCKB_LOCKER")
        return cls.open_url(url, Path(workspace), locker=Path(locker) if locker else None, create=create, read_only=read_only)

    @classmethod
    def open_url(
        cls,
        url: str,
        workspace: Path,
        *,
        locker: Path | None = None,
        create: bool = True,
        read_only: bool = False,
        check: bool = True,
    ) -> PostgresStore:
        """Open the store at ``url`` (with ``create``, make its tables in an empty database; without ``check``,
        neither look at nor make them: for :meth:`migrate`)."""
        conn = connect(url, read_only=read_only)
        store = cls(workspace, conn, url, locker)
        try:
            version = store.schema_version() if check else str(SCHEMA_VERSION)
            if version is None:
                if not create or read_only:
                    raise NotFoundError(f"{store.where}: no evidence store in this database (run 'sckb store migrate')")
                store.migrate()
            else:
                store._check(version)
            if not read_only:
                store.locker.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            conn.close()
            raise StoreError(f"{store.locker}: cannot create the locker: {exc.strerror}") from None
        except BaseException:
            conn.close()
            raise
        return store

    def schema_version(self) -> str | None:
        """The recorded schema version (None: an empty database)."""
        try:
            row = self.conn.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()
            if not row or not row[0]:
                return None
            got = self.conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot read the evidence store: {_reason(exc)}") from None
        return str(got[0]) if got else None

    def _check(self, version: str) -> None:
        if version == str(SCHEMA_VERSION):
            return
        if version.isdigit() and int(version) < SCHEMA_VERSION:
            raise StoreError(
                f"{self.where}: this evidence store has schema {version}, older than this sckb's {SCHEMA_VERSION}: "
                "run 'sckb store migrate' (the store is left unchanged)"
            )
        raise StoreError(f"{self.where}: store schema {version} is newer than this sckb reads ({SCHEMA_VERSION}): upgrade sckb")

    def migrate(self) -> tuple[str | None, str]:
        """Create the tables (or bring an older layout up to date) and record the schema version: (before, after).
        Several processes may call it at once (an advisory lock makes them take turns)."""
        try:
            with self.conn.transaction():
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                before = self.schema_version()
                if before is not None and before.isdigit() and int(before) > SCHEMA_VERSION:
                    self._check(before)
                old = before is not None and before != str(SCHEMA_VERSION)
                if old and before == str(MIGRATES_FROM):  # schema 2 -> 3: files gain their completeness column
                    self.conn.execute(f"ALTER TABLE files ADD COLUMN IF NOT EXISTS completeness {_T}")
                elif old and self._count("files"):
                    # finding identities of schema 1 were made another way: they cannot be converted in place
                    raise StoreError(
                        f"{self.where}: store schema {before} holds evidence whose finding identities this sckb makes "
                        "another way: ingest it again into a new database (this one is left unchanged)"
                    )
                self.conn.execute(_SCHEMA)
                try:  # a stored assessment is tens of MB of JSON: lz4 stores it several times faster than the default
                    with self.conn.transaction():
                        self.conn.execute("ALTER TABLE assess_runs ALTER COLUMN data SET COMPRESSION lz4")
                except psycopg.errors.FeatureNotSupported:
                    pass  # a server built without lz4 keeps its default
                self.conn.execute(
                    "INSERT INTO meta VALUES ('schema', %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(SCHEMA_VERSION),),
                )
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot create the evidence store's tables: {_reason(exc)}") from None
        return before, str(SCHEMA_VERSION)

    def _count(self, table: str) -> int:
        row = self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.conn.close()
        with contextlib.suppress(OSError):  # this process's folder of copies in progress, when it is empty
            (self.locker / TMP / f"{os.uname().nodename}-{os.getpid()}").rmdir()

    def __enter__(self) -> PostgresStore:
        return self

    # ------------------------------------------------------------------ locker
    def tmp_dir(self) -> Path:
        # per process, and not under locker/tmp (which an ingest clears when it starts): many ingesters on many
        # machines share a team locker while they copy
        d = self.locker / TMP / f"{os.uname().nodename}-{os.getpid()}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    # ------------------------------------------------------------------ reading
    def _q(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, args).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot read the evidence store: {_reason(exc)}") from None

    def has_file(self, sha256: str) -> bool:
        return bool(self._q("SELECT 1 FROM files WHERE sha256 = %s", (sha256,)))

    def files(self) -> list[EvidenceFile]:
        rows = self._q(
            "SELECT sha256, name, format, tool, tool_version, scan_time, scan_time_source, ingested_at, findings,"
            " failed, passed, other, mapped, bytes, completeness FROM files ORDER BY id"
        )
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
        for column, value in (("i.status", status), ("i.tool", tool), ("i.rule_id", rule)):
            if value:
                where.append(f"{column} = %s")
                args.append(value)
        if mitigation:
            where.append("strpos(i.mitigations, %s) > 0")
            args.append(f" {mitigation} ")
        if control:
            where.append("strpos(i.controls, %s) > 0")
            args.append(f" {control} ")
        if mapped is not None:
            where.append("(i.mitigations != '' OR i.controls != '')" if mapped else "(i.mitigations = '' AND i.controls = '')")
        if identity:
            where.append("i.identity LIKE %s")
            args.append(identity.replace("%", "").replace("_", "").replace("\\", "") + "%")
        sql = FINDING_SQL + (" WHERE " + " AND ".join(where) if where else "")
        # SQLite sorts NULL first: so does this, for the same order on both engines
        sql += " ORDER BY i.tool, i.rule_id, o.resource NULLS FIRST, o.file NULLS FIRST, o.line NULLS FIRST, i.identity"
        for r in self._q(sql, args):
            yield _stored(r)

    def statuses(self, identities: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(identities))
        return {str(i): str(s) for i, s in self._q("SELECT identity, status FROM identities WHERE identity = ANY(%s)", (ids,))}

    def history(self, identity: str) -> list[HistoryEntry]:
        rows = self._q(
            "SELECT f.sha256, f.name, o.scan_time, o.result, o.pointer FROM observations o JOIN files f ON f.id = o.file_id"
            " WHERE o.identity = %s ORDER BY o.scan_time, o.id",
            (identity,),
        )
        return [HistoryEntry(file_sha256=r[0], file=r[1], scan_time=r[2], result=r[3], pointer=r[4]) for r in rows]

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in ("open", "closed", "passing", "info")}
        for status, n in self._q("SELECT status, count(*) FROM identities GROUP BY status"):
            out[status] = int(n)
        out["files"] = int(self._q("SELECT count(*) FROM files")[0][0])
        out["observations"] = int(self._q("SELECT count(*) FROM observations")[0][0])
        return out

    def identity_count(self) -> int:
        return int(self._q("SELECT count(*) FROM identities")[0][0])

    def observation_rows(self) -> Iterator[tuple[Any, ...]]:
        """Every observation row (id, file_id, the observation columns, digest), in id order (streamed)."""
        with self.conn.transaction(), self.conn.cursor(name="sckb_obs") as cur:
            cur.itersize = 10000
            cur.execute("SELECT id, file_id, " + ", ".join(OBS_COLUMNS) + ", digest FROM observations ORDER BY id")
            yield from cur

    # ------------------------------------------------------------------ verify
    def verify(self) -> list[VerifyProblem]:
        problems: list[VerifyProblem] = []
        per_file: dict[int, tuple[Any, list[int], list[tuple[Any, ...]]]] = {}
        try:
            for obs in self.observation_rows():
                acc = per_file.get(obs[1])
                if acc is None:
                    acc = per_file[obs[1]] = (hashlib.sha256(), [0], [])
                acc[1][0] += 1
                if row_digest(obs[0], obs[1], tuple(obs[2:-1])) != obs[-1]:
                    acc[2].append(obs)
                acc[0].update(obs[-1].encode())
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot read the evidence store: {_reason(exc)}") from None
        prev = GENESIS
        for row in self._q("SELECT id, chain, completeness, " + ", ".join(FILE_COLUMNS) + " FROM files ORDER BY id"):
            fid, chain, complete, values = row[0], row[1], row[2], tuple(row[3:])
            sha, name, nbytes, rows_digest = values[0], values[1], values[8], values[14]
            where = f"file {name} ({sha[:12]})"
            if chain_digest(prev, values, complete) != chain:
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
            for obs in edited:
                problems.append(VerifyProblem("row", f"{where} observation {obs[0]} ({obs[7]} at {obs[19]})", "row was edited"))
            if h.hexdigest() != rows_digest or count[0] != values[9]:
                problems.append(
                    VerifyProblem("file", where, f"observation rows were added, removed or re-digested ({count[0]} rows)")
                )
        for _fid, psha, ppath in self._q("SELECT file_id, sha256, path FROM attachments ORDER BY file_id, path"):
            path = self.locker_path(psha)
            if not path.is_file() or hash_file(path)[0] != psha:
                problems.append(VerifyProblem("locker", f"attachment {ppath} ({psha[:12]})", "locker copy missing or changed"))
        for tseq, tdocs in self._triage_documents():
            for dname, dsha in tdocs:
                path = self.locker_path(dsha)
                if not path.is_file() or hash_file(path)[0] != dsha:
                    where = f"triage record {tseq} document {dname} ({dsha[:12]})"
                    problems.append(VerifyProblem("locker", where, "locker copy missing or changed"))
        for ident, first, last in self._q(
            "SELECT i.identity, i.first_seen, i.last_seen FROM identities i LEFT JOIN "
            "(SELECT identity, min(scan_time) f, max(scan_time) l FROM observations GROUP BY identity) o USING (identity)"
            " WHERE o.f IS NULL OR i.first_seen != o.f OR i.last_seen != o.l ORDER BY i.identity"
        ):
            problems.append(
                VerifyProblem("identity", f"finding {ident}", f"first/last seen ({first}, {last}) disagree with its observations")
            )
        orphans = self._q("SELECT count(*) FROM observations o LEFT JOIN identities i USING (identity) WHERE i.identity IS NULL")[
            0
        ][0]
        if orphans:
            problems.append(VerifyProblem("identity", "identities", f"{orphans} observations have no finding identity"))
        return problems

    def _triage_documents(self) -> list[tuple[int, list[tuple[str, str]]]]:
        rows = self._q("SELECT seq, documents FROM triage WHERE documents != '[]' ORDER BY seq")
        return [(int(seq), [(str(n), str(h)) for n, h in orjson.loads(docs)]) for seq, docs in rows]

    def locker_names(self) -> set[str]:
        names = {str(r[0]) for r in self._q("SELECT sha256 FROM files UNION SELECT sha256 FROM attachments")}
        return names | {sha for _seq, docs in self._triage_documents() for _name, sha in docs}

    def locker_orphans(self) -> list[Path]:
        return [p for p in super().locker_orphans() if p.parent.name != TMP]

    def last_chain(self) -> str:
        rows = self._q("SELECT chain FROM files ORDER BY id DESC LIMIT 1")
        return str(rows[0][0]) if rows else GENESIS

    # ------------------------------------------------------------------ ingest
    def write_file(self) -> PostgresFileWrite:
        return PostgresFileWrite(self)

    def bulk_ingest(self) -> None:
        """Nothing to tune: the server manages its own journal."""

    def checkpoint(self) -> None:
        """Nothing to fold back (the server checkpoints on its own)."""

    # ------------------------------------------------------------------ assessment reading
    def can_tally(self) -> bool:
        return True  # the layout is checked at open (schema version)

    def file_shas(self) -> dict[int, str]:
        return {int(i): str(s) for i, s in self._q("SELECT id, sha256 FROM files")}

    def tally_groups(
        self, start: str, now: str, slots: SlotCodes, workers: int = 1, inside: SubjectFilter | None = None
    ) -> PostgresGroupScan:
        return PostgresGroupScan(self, _row_sql(start, now, slots), inside)

    def open_failures(
        self, start: str, now: str, inside: SubjectFilter | None = None, dated_only: bool = False
    ) -> Iterator[FailingRow]:
        sql = _FAILING_SQL + (" AND o.scan_time_source != 'ingest'" if dated_only else "")
        n = len(FailingRow._fields)
        for r in self._q(sql, (start, now)):
            if inside is None or inside(*r[n:]):
                yield FailingRow._make(r[:n])

    # ------------------------------------------------------------------ assessments
    def _write(self, what: str, sql_args: Sequence[tuple[str, Sequence[Any]]]) -> None:
        try:
            with self.conn.transaction():
                for sql, args in sql_args:
                    self.conn.execute(sql, args)
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot {what}: {_reason(exc)}") from None

    def save_assessment(self, blob: AssessmentBlob) -> None:
        size = len(blob.data) + len(blob.summary)
        if size >= _MAX_VALUE:  # the server would drop the connection ("invalid message length")
            raise StoreError(
                f"{self.where}: cannot save the assessment: {size / 1e6:,.0f} MB is more than PostgreSQL takes in one "
                "value (1 GB)"
            )
        try:
            with self.conn.transaction():
                self.conn.execute("LOCK TABLE assess_runs IN EXCLUSIVE MODE")  # one seq per saving
                seq = self.conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM assess_runs").fetchone()
                self.conn.execute("DELETE FROM assess_controls WHERE assessment_id = %s", (blob.id,))
                self.conn.execute(
                    "INSERT INTO assess_runs (id, seq, now, scopes, max_age_days, summary, data) VALUES (%s,%s,%s,%s,%s,%s,%s)"
                    " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, now = excluded.now, scopes = excluded.scopes,"
                    " max_age_days = excluded.max_age_days, summary = excluded.summary, data = excluded.data",
                    (blob.id, seq[0] if seq else 1, blob.now, ",".join(blob.scopes), blob.max_age_days, blob.summary, blob.data),
                )
                with self.conn.cursor() as cur:
                    cur.executemany("INSERT INTO assess_controls VALUES (%s,%s,%s)", [(blob.id, c, s) for c, s in blob.controls])
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot save the assessment: {_reason(exc)}") from None

    def resolve_assessment(self, ident: str | None) -> str:
        if ident is None or ident == "latest":
            rows = self._q("SELECT id FROM assess_runs ORDER BY seq DESC LIMIT 1")
            if not rows:
                raise NotFoundError("no assessment in this workspace yet: run 'sckb assess --scope ...' first")
            return str(rows[0][0])
        like = ident.replace("%", "").replace("_", "").replace("\\", "") + "%"
        ids = [
            str(r[0]) for r in self._q("SELECT id FROM assess_runs WHERE id = %s OR id LIKE %s ORDER BY seq DESC", (ident, like))
        ]
        if ident in ids:
            return ident
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise NotFoundError(f"no assessment {ident!r} in this workspace (see 'sckb assess list')")
        raise NotFoundError(f"assessment id prefix {ident!r} is ambiguous: " + ", ".join(ids))

    def assessment_data(self, full_id: str) -> bytes:
        rows = self._q("SELECT data FROM assess_runs WHERE id = %s", (full_id,))
        if not rows:
            raise NotFoundError(f"no assessment {full_id!r} in this workspace (see 'sckb assess list')")
        return bytes(rows[0][0])

    def assessments(self) -> list[AssessmentRow]:
        return [
            AssessmentRow(str(i), int(seq), str(now), tuple(str(scopes).split(",")), bytes(summary))
            for i, seq, now, scopes, summary in self._q("SELECT id, seq, now, scopes, summary FROM assess_runs ORDER BY seq DESC")
        ]

    # ------------------------------------------------------------------ determinations and triage (append-only)
    def _append(self, table: str, cols: str, rows: list[tuple[Any, ...]]) -> int:
        """Append rows not equal in every column to a stored one, in one transaction; how many were new."""
        names = [c.strip() for c in cols.split(",")]
        same = " AND ".join(f"{c} IS NOT DISTINCT FROM %s" for c in names)
        new = 0
        try:
            with self.conn.transaction():
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                for row in rows:
                    if self.conn.execute(f"SELECT 1 FROM {table} WHERE {same}", row).fetchone():
                        continue
                    self.conn.execute(
                        f"INSERT INTO {table} (seq, {cols}) SELECT coalesce(max(seq), 0) + 1, "
                        + ", ".join(["%s"] * len(names))
                        + f" FROM {table}",
                        row,
                    )
                    new += 1
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot record the {table.replace('assess_', '')}: {_reason(exc)}") from None
        return new

    def add_determinations(self, records: Sequence[DeterminationRecord]) -> int:
        rows = [(r.target, r.status, r.rationale, r.by, r.role, r.date, " ".join(r.methods), r.source) for r in records]
        return self._append("assess_determinations", _DET_COLS, rows)

    def determinations(self) -> list[DeterminationRecord]:
        return [
            DeterminationRecord(
                target=t, status=st, rationale=ra, by=by, role=ro, date=da, methods=_split(me), source=so, seq=int(seq)
            )
            for seq, t, st, ra, by, ro, da, me, so in self._q(f"SELECT seq, {_DET_COLS} FROM assess_determinations ORDER BY seq")
        ]

    def add_triage(self, records: Sequence[TriageRecord]) -> int:
        rows = [
            (r.target, r.kind, int(r.withdrawn), r.rationale, r.by, r.date, r.expires, r.approved_by, r.details,
             orjson.dumps([list(d) for d in r.documents]).decode(), r.source)
            for r in records
        ]  # fmt: skip
        return self._append("triage", _TRIAGE_COLS, rows)

    def triage(self) -> list[TriageRecord]:
        return [
            TriageRecord(
                target=t, kind=k, withdrawn=bool(w), rationale=ra, by=by, date=da, expires=ex, approved_by=ap,
                details=de, documents=tuple((str(n), str(h)) for n, h in orjson.loads(do)), source=so, seq=int(seq),
            )
            for seq, t, k, w, ra, by, da, ex, ap, de, do, so in self._q(f"SELECT seq, {_TRIAGE_COLS} FROM triage ORDER BY seq")
        ]  # fmt: skip

    # ------------------------------------------------------------------ catalog statements
    def put_statements(self, found: Mapping[str, tuple[str, str]], source: str) -> int:
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                cur.execute("DELETE FROM assess_catalog")
                cur.executemany(
                    "INSERT INTO assess_catalog (control_id, title, statement, source) VALUES (%s,%s,%s,%s)",
                    [(cid, t, s, source) for cid, (t, s) in sorted(found.items())],
                )
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot store the catalog: {_reason(exc)}") from None
        return len(found)

    def statements(self) -> dict[str, str]:
        return {str(c): str(s) for c, s in self._q("SELECT control_id, statement FROM assess_catalog")}

    # ------------------------------------------------------------------ systems
    def put_system(self, row: SystemRow, *, replace: bool = False) -> bool:
        try:
            with self.conn.transaction():
                had = self.conn.execute("SELECT 1 FROM systems WHERE name = %s FOR UPDATE", (row.name,)).fetchone() is not None
                if had and not replace:
                    raise InputError(
                        f"system {row.name!r} is already in this workspace (add --replace to replace it)", path=row.source
                    )
                self.conn.execute(
                    "INSERT INTO systems (name, data, source, added_at) VALUES (%s,%s,%s,%s) ON CONFLICT (name) DO UPDATE"
                    " SET data = excluded.data, source = excluded.source, added_at = excluded.added_at",
                    (row.name, row.data, row.source, row.added_at),
                )
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot store the system: {_reason(exc)}") from None
        return had

    def systems(self) -> list[SystemRow]:
        return [
            SystemRow(str(n), bytes(d), str(s), str(a))
            for n, d, s, a in self._q("SELECT name, data, source, added_at FROM systems ORDER BY name")
        ]

    def remove_system(self, name: str) -> None:
        self.system(name)
        self._write("remove the system", [("DELETE FROM systems WHERE name = %s", (name,))])


class PostgresFileWrite(FileWrite):
    """One file's transaction. What needs no lock is done as rows arrive, while other ingesters write: the identity
    rows are copied into a staging table (numbered from the file's first row). Up to :data:`BUFFER_ROWS` rows are
    held until the file takes :data:`INGEST_LOCK`; then they are numbered, digested and copied, and the staged
    identities upserted in one statement, so files are parsed in parallel by many ingesters and written in turn (see
    the module's notes). A bigger file takes the lock when its buffer fills and streams the rest."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        self.conn = store.conn
        self.tx: AbstractContextManager[Any] | None = None
        self.file_id = 0
        self.obs_id = 0
        self.first_obs = 0
        self._rows_hash = hashlib.sha256()
        #: whether this transaction made its staging table for identity rows, and upserted them
        self.staged = False
        self.settled = False
        self.locked = False
        #: rows of the file so far (the staged identities' ``latest`` counts from the file's first row)
        self.rows = 0
        #: the batches of rows held until the lock is taken
        self.held: list[list[list[Any]]] = []
        self.held_rows = 0
        #: the file's identities so far (None once the file streams: then the server finds the repeats)
        self.seen: set[str] | None = set()
        self.repeats = False

    def __enter__(self) -> PostgresFileWrite:
        try:
            self.tx = self.conn.transaction()
            self.tx.__enter__()
            # a file's statements are small and many: compiling them costs more than it saves
            self.conn.execute("SET LOCAL jit = off")
        except psycopg.Error as exc:
            self._end(exc)
            raise EngineError(f"{self.store.where}: {_reason(exc)}") from None
        return self

    def _lock(self) -> None:
        """Take the ingest lock (waiting for other writers), number from the newest rows, write the held rows."""
        if self.locked:
            return
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (INGEST_LOCK,))
        row = self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM files").fetchone()
        self.file_id = int(row[0]) if row else 1
        row = self.conn.execute("SELECT coalesce(max(id), 0) FROM observations").fetchone()
        self.obs_id = int(row[0]) if row else 0
        self.first_obs = self.obs_id + 1
        self.locked = True
        held, self.held, self.held_rows = self.held, [], 0
        for rows in held:
            self._copy_obs(rows)

    def _end(self, exc: BaseException | None) -> None:
        tx, self.tx = self.tx, None
        self.held = []
        if tx is not None:
            tx.__exit__(type(exc) if exc else None, exc, None)

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self._end(ev if et is not None else None)
        except psycopg.Error as exc:
            if et is None:
                raise EngineError(f"{self.store.where}: {_reason(exc)}") from None
        if isinstance(ev, psycopg.Error):
            raise EngineError(f"{self.store.where}: {_reason(ev)}") from None

    def has_file(self, sha256: str) -> bool:
        # writers of the same bytes take turns from here (a lock per file, until the transaction ends), so the
        # second sees the first one's file: a duplicate. Other files go on in parallel.
        self.conn.execute("SELECT pg_advisory_xact_lock(%s::integer, hashtext(%s))", (FILE_LOCK_SPACE, sha256))
        return self.conn.execute("SELECT 1 FROM files WHERE sha256 = %s", (sha256,)).fetchone() is not None

    @property
    def count(self) -> int:
        return self.obs_id - self.first_obs + 1 + self.held_rows if self.locked else self.held_rows

    def add(self, batch: Batch) -> int:
        obs_rows, id_rows = batch
        offset = self.rows
        seen = self.seen
        for r in id_rows:
            r[7] += offset
        if seen is not None:  # whether an identity comes twice in the file (followed while its rows are held)
            before = len(seen)
            seen.update([r[0] for r in id_rows])
            self.repeats = self.repeats or len(seen) - before != len(id_rows)
        with self.conn.cursor() as cur:
            if not self.staged:
                cur.execute(_STAGE)
                self.staged = True
            with cur.copy(_COPY_STAGE) as copy:
                for r in id_rows:
                    copy.write_row(r)
        self.rows += len(obs_rows)
        if self.locked:
            self._copy_obs(obs_rows)
        else:
            self.held.append(obs_rows)
            self.held_rows += len(obs_rows)
            if self.held_rows >= BUFFER_ROWS:
                self.seen = None
                self._lock()
        return len(obs_rows)

    def _copy_obs(self, obs_rows: list[list[Any]]) -> None:
        """Number, digest and copy rows (under the lock)."""
        file_id, sha256, dumps = self.file_id, hashlib.sha256, orjson.dumps
        obs_id = self.obs_id
        digests = []
        for row in obs_rows:
            obs_id += 1
            row[0] = obs_id
            row[1] = file_id
            d = sha256(dumps(row)).hexdigest()[:32]  # = row_digest(obs_id, file_id, values)
            row.append(d)
            digests.append(d)
        self.obs_id = obs_id
        self._rows_hash.update("".join(digests).encode())
        with self.conn.cursor() as cur, cur.copy(_COPY_OBS) as copy:
            for row in obs_rows:
                copy.write_row(row)

    def _settle(self) -> None:
        """Upsert the staged identity rows (under the lock, after every row is copied): each identity's first row
        of the file in one statement, then any later row of the same identity in file order (as a row-by-row
        upsert of the file would)."""
        self._lock()
        if self.settled or not self.staged:
            return
        self.settled = True
        with self.conn.cursor() as cur:
            if self.seen is not None and not self.repeats:  # (the common case: each identity once in the file)
                cur.execute(_INSERT_STAGED, (self.first_obs, self.file_id))
                return
            cur.execute(_UPSERT_STAGED, (self.first_obs, self.file_id))
            again = cur.execute(_AGAIN_STAGED, (self.first_obs, self.file_id)).fetchall()
            if again:
                cur.executemany(_UPSERT, again)

    def cover(self, main_tool: str, tools: list[str], locs: list[str], prefix: Callable[[str, str], str], scan_time: str) -> None:
        self._settle()
        conn, file_id = self.conn, self.file_id
        row = conn.execute("SELECT max(scan_time) FROM coverage WHERE tool = %s", (main_tool,)).fetchone()
        newest = row[0] if row else None
        with conn.cursor() as cur:
            for scope_tool in tools:
                cur.executemany(
                    "UPDATE identities SET status = 'closed' WHERE identity >= %s AND identity < %s AND tool = %s AND loc = %s"
                    " AND status IN ('open', 'info') AND last_seen < %s AND last_file != %s",
                    [(p, p + "g", scope_tool, loc, scan_time, file_id) for loc in locs for p in (prefix(scope_tool, loc),)],
                )
                if newest is not None and newest > scan_time:
                    cur.execute(
                        "UPDATE identities SET status = 'closed' WHERE tool = %s AND status IN ('open', 'info') AND latest >= %s"
                        " AND EXISTS (SELECT 1 FROM coverage c WHERE c.tool = identities.tool AND c.loc = identities.loc"
                        " AND c.scan_time > identities.last_seen)",
                        (scope_tool, self.first_obs),
                    )
                cur.execute(  # one statement for every location (they are distinct)
                    "INSERT INTO coverage AS c SELECT %s, unnest(%s::text[]), %s"
                    " ON CONFLICT (tool, loc) DO UPDATE SET scan_time = greatest(c.scan_time, excluded.scan_time)",
                    (scope_tool, locs, scan_time),
                )

    def finish(self, file: NewFile, attachments: list[tuple[str, str, str]]) -> None:
        self._settle()
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
            + ", ".join(["%s"] * (len(FILE_COLUMNS) + 3))
            + ")",
            (self.file_id, *fvalues, chain, f.completeness),
        )
        with self.conn.cursor() as cur:
            cur.executemany("INSERT INTO attachments VALUES (%s, %s, %s, %s)", [(self.file_id, *a) for a in attachments])


class PostgresGroupScan(GroupScan):
    """The group rows, grouped by the server on a second connection, started at once: the server groups while the
    assessment reads the open failures on the first. (With a system's boundary, the rows are filtered and grouped
    here, when asked for: the boundary is Python code.)"""

    def __init__(self, store: PostgresStore, row_sql: str, inside: SubjectFilter | None) -> None:
        self.store, self.row_sql, self.inside = store, row_sql, inside
        self.pool: ThreadPoolExecutor | None = None
        self.grouped: Future[list[tuple[Any, ...]]] | None = None
        if inside is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sckb-groups")
            self.grouped = self.pool.submit(self._group)

    def _group(self) -> list[tuple[Any, ...]]:
        sql = (
            "SELECT tool, rule_id, fid, slot, method, mits, targets, mapped_by, count(*), max(last),"
            " json_agg(DISTINCT subject)::text"
            f" FROM ({self.row_sql}{_LATEST}) r GROUP BY fid, rule_id, slot, tool, method, mapped_by, targets, mits"
        )
        with connect(self.store.url, read_only=True) as conn:
            try:
                return conn.execute(sql).fetchall()
            except psycopg.Error as exc:
                raise StoreError(f"{self.store.where}: cannot read the evidence store: {_reason(exc)}") from None

    def batches(self) -> Iterator[list[GroupRow]]:
        if self.grouped is not None:
            yield [GroupRow._make((*r[:8], int(r[8]), r[9], r[10])) for r in self.grouped.result()]
            return
        inside = self.inside
        assert inside is not None  # (without a boundary, the rows were grouped by the server)
        groups: dict[tuple[Any, ...], list[Any]] = {}
        for r in self.store._q(f"{self.row_sql}, {_SUBJECT}{_LATEST}"):
            if not inside(*r[10:]):
                continue
            g = groups.get(r[:8])
            if g is None:
                groups[r[:8]] = [1, r[8], {r[9]}]
            else:
                g[0] += 1
                g[1] = max(g[1], r[8])
                g[2].add(r[9])
        yield [
            GroupRow._make((*k, n, last, orjson.dumps(sorted(subs, key=lambda s: (s is not None, s or ""))).decode()))
            for k, (n, last, subs) in groups.items()
        ]

    def wait(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)


def _stored(r: tuple[Any, ...]) -> StoredFinding:
    return StoredFinding(
        identity=r[0], tool=r[1], tool_version=r[2], scan_time=r[3], scan_time_source=r[4], rule_id=r[5],
        rule_title=r[6], severity=r[7], result=r[8], resource=r[9], function=r[10], file=r[11], line=r[12],
        provider=r[13], account=r[14], region=r[15], cwes=_split(r[16]), pointer=r[17], message=r[18], method=r[19],
        targets=_split(r[20]), first_seen=r[21], last_seen=r[22], status=r[23], file_sha256=r[24],
        mitigations=_split(r[25]), controls=_split(r[26]), mapped_by=r[27], observations=int(r[28]),
    )  # fmt: skip
