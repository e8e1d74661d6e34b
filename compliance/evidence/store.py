"""The evidence store: one SQLite database (WAL) and a content-addressed locker in a workspace folder.

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

Tamper evidence, without a key: every observation row stores a digest of its fields; every file row
stores the digest over its observations' digests and a chain digest over the previous file row. An
edited row, a deleted row or an edited file row breaks a digest that ``verify`` recomputes; a flipped
byte in the locker breaks the file's SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from compliance.errors import NotFoundError, StoreError
from compliance.evidence.model import EvidenceFile, StoredFinding

SCHEMA_VERSION = 1
DB_NAME = "evidence.db"
GENESIS = "0" * 64

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
    chain TEXT NOT NULL
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

#: Observation columns, in table order (after ``id`` and ``file_id``), as digested.
OBS_COLUMNS = (
    "identity",
    "tool",
    "tool_version",
    "scan_time",
    "scan_time_source",
    "rule_id",
    "rule_title",
    "severity",
    "result",
    "resource",
    "function",
    "file",
    "line",
    "provider",
    "account",
    "region",
    "cwes",
    "pointer",
    "message",
    "method",
    "targets",
)
FILE_COLUMNS = (
    "sha256",
    "name",
    "format",
    "tool",
    "tool_version",
    "scan_time",
    "scan_time_source",
    "ingested_at",
    "bytes",
    "findings",
    "failed",
    "passed",
    "other",
    "mapped",
    "rows_digest",
)


def row_digest(obs_id: int, file_id: int, values: tuple[Any, ...]) -> str:
    """Digest of one observation row (its id, file and every field)."""
    return hashlib.sha256(orjson.dumps([obs_id, file_id, *values])).hexdigest()[:32]


def chain_digest(prev: str, file_values: tuple[Any, ...]) -> str:
    return hashlib.sha256(prev.encode() + orjson.dumps(list(file_values))).hexdigest()


def _split(value: str) -> tuple[str, ...]:
    return tuple(value.split()) if value else ()


@dataclass
class VerifyProblem:
    kind: str  # locker | row | file | chain | identity | missing | orphan
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class Store:
    """The evidence store of one workspace. Use as a context manager."""

    def __init__(self, workspace: Path, conn: sqlite3.Connection) -> None:
        self.workspace = workspace
        self.conn = conn
        self.locker = workspace / "locker"

    # ------------------------------------------------------------------ open / close
    @classmethod
    def open(cls, workspace: Path, *, create: bool = True) -> Store:
        workspace = Path(workspace)
        db = workspace / DB_NAME
        if not db.exists() and not create:
            raise NotFoundError(f"{workspace}: no evidence store here (run 'sckb evidence ingest' first)")
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
            conn.executescript(_SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif row[0] != str(SCHEMA_VERSION):
                conn.close()
                raise StoreError(f"{db}: store schema {row[0]} is not supported (this sckb reads {SCHEMA_VERSION})")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{db}: cannot open the evidence store: {exc}") from None
        except OSError as exc:
            raise StoreError(f"{workspace}: cannot create the workspace: {exc.strerror}") from None
        return cls(workspace, conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------ locker
    def locker_path(self, sha256: str) -> Path:
        return self.locker / sha256[:2] / sha256

    def tmp_dir(self) -> Path:
        d = self.locker / "tmp"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def put_locker(self, tmp: Path, sha256: str) -> Path:
        """Move a fully written temp copy into its content address (atomic rename)."""
        dest = self.locker_path(sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            tmp.unlink(missing_ok=True)
        else:
            os.replace(tmp, dest)
        return dest

    # ------------------------------------------------------------------ reading
    def has_file(self, sha256: str) -> bool:
        return self.conn.execute("SELECT 1 FROM files WHERE sha256=?", (sha256,)).fetchone() is not None

    def files(self) -> list[EvidenceFile]:
        rows = self.conn.execute(
            "SELECT sha256, name, format, tool, tool_version, scan_time, scan_time_source, ingested_at, findings,"
            " failed, passed, other, mapped, bytes FROM files ORDER BY id"
        ).fetchall()
        return [EvidenceFile(*r) for r in rows]

    _FINDING_SQL = (
        "SELECT i.identity, o.tool, o.tool_version, o.scan_time, o.scan_time_source, o.rule_id, o.rule_title, o.severity,"
        " o.result, o.resource, o.function, o.file, o.line, o.provider, o.account, o.region, o.cwes, o.pointer, o.message,"
        " o.method, o.targets, i.first_seen, i.last_seen, i.status, f.sha256, i.mitigations, i.controls, i.mapped_by, i.seen"
        " FROM identities i JOIN observations o ON o.id = i.latest JOIN files f ON f.id = o.file_id"
    )

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
        """Finding identities with the fields of their latest observation, filtered, in a stable order."""
        where: list[str] = []
        args: list[Any] = []
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
        sql = self._FINDING_SQL + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY i.tool, i.rule_id, o.resource, o.file, o.line, i.identity"
        for r in self.conn.execute(sql, args):
            yield _stored(r)

    def finding(self, identity: str) -> StoredFinding:
        hits = list(self.findings(identity=identity))
        if not hits:
            raise NotFoundError(f"no finding with identity {identity!r}")
        if len(hits) > 1 and not any(h.identity == identity for h in hits):
            raise NotFoundError(f"identity prefix {identity!r} is ambiguous ({len(hits)} findings)")
        return next((h for h in hits if h.identity == identity), hits[0])

    def history(self, identity: str) -> list[dict[str, Any]]:
        """Every observation of one identity, oldest scan first."""
        rows = self.conn.execute(
            "SELECT f.sha256, f.name, o.scan_time, o.result, o.pointer FROM observations o JOIN files f ON f.id=o.file_id"
            " WHERE o.identity=? ORDER BY o.scan_time, o.id",
            (identity,),
        ).fetchall()
        return [{"file_sha256": r[0], "file": r[1], "scan_time": r[2], "result": r[3], "pointer": r[4]} for r in rows]

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in ("open", "closed", "passing", "info")}
        for status, n in self.conn.execute("SELECT status, count(*) FROM identities GROUP BY status"):
            out[status] = n
        out["files"] = self.conn.execute("SELECT count(*) FROM files").fetchone()[0]
        out["observations"] = self.conn.execute("SELECT count(*) FROM observations").fetchone()[0]
        return out

    # ------------------------------------------------------------------ verify
    def verify(self) -> list[VerifyProblem]:
        """Re-hash the locker and recompute every digest. An empty list means the store is intact."""
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
        cur = self.conn.execute("SELECT id, chain, " + ", ".join(FILE_COLUMNS) + " FROM files ORDER BY id")
        for row in cur.fetchall():
            fid, chain, values = row[0], row[1], tuple(row[2:])
            sha, name, nbytes, rows_digest = values[0], values[1], values[8], values[14]
            known.add(sha)
            where = f"file {name} ({sha[:12]})"
            expect = chain_digest(prev, values)
            if expect != chain:
                problems.append(VerifyProblem("chain", where, "file record was changed (hash chain broken)"))
            prev = chain
            path = self.locker_path(sha)
            if not path.is_file():
                problems.append(VerifyProblem("missing", where, f"locker copy is missing ({path})"))
            else:
                actual, size = _hash_file(path)
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
            if not path.is_file() or _hash_file(path)[0] != psha:
                problems.append(VerifyProblem("locker", f"attachment {ppath} ({psha[:12]})", "locker copy missing or changed"))
            known.add(psha)
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

    def locker_orphans(self) -> list[Path]:
        """Locker files no database row names (left by an interrupted ingest; harmless)."""
        known = {r[0] for r in self.conn.execute("SELECT sha256 FROM files UNION SELECT sha256 FROM attachments")}
        out: list[Path] = []
        for sub in sorted(self.locker.iterdir()) if self.locker.is_dir() else []:
            if sub.name == "tmp" or not sub.is_dir():
                continue
            out.extend(p for p in sorted(sub.iterdir()) if p.name not in known)
        return out

    def last_chain(self) -> str:
        row = self.conn.execute("SELECT chain FROM files ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else GENESIS


def _hash_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


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
