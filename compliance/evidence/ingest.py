"""Ingest evidence files into the store: detect, parse, map, and write each file in one transaction.

One file is one SQLite transaction: its observations, the finding identities it touches, the coverage
it adds, the closing of findings it no longer reports, and its ``files`` row (with the hash chain) are
committed together or not at all, so a crash or ``kill -9`` mid-file leaves the store as it was.
The raw bytes are copied into the locker first (hashed while copied) and the copy is what gets parsed.

Files are committed in the order they are named (folders walked in sorted order). The CPU work is shared
without changing that order or any row: files of :data:`WORKER_BYTES` and more are prepared by a forked
helper process while this one writes (worker.py), and the smaller files of a large batch are shared with
peer processes that prepare one file while another writes (peer.py).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import operator
import os
import shutil
import sqlite3
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from compliance.errors import InputError, StoreError
from compliance.evidence.formats import Format, by_name, detect, registry
from compliance.evidence.mapping import Mapper
from compliance.evidence.model import Finding
from compliance.evidence.parsing import HEAD_BYTES, STREAM_THRESHOLD, ParseContext, loads_json, sniff
from compliance.evidence.store import FILE_COLUMNS, Store, chain_digest
from compliance.evidence.worker import ParseWorker

BATCH = 5000
#: Files at least this big are parsed by a helper process while this one writes (see worker.py). Smaller
#: files gain little: the helper parses a whole document before its first batch, and this process waits.
WORKER_BYTES = 8 << 20
#: A batch is shared with peer processes (see peer.py) when its files under WORKER_BYTES add up to this much:
#: starting a peer costs about a tenth of a second.
PEER_BYTES = 32 << 20
#: Folders with this name hold attestation attachments; folder walks do not ingest them as evidence.
ATTACHMENTS = "attachments"

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
_INSERT_OBS = "INSERT INTO observations VALUES (" + ", ".join("?" * 24) + ")"
_STATUS = {"pass": "passing", "fail": "open", "error": "open", "info": "info"}
#: identity rows are sorted by identity alone: the sort is stable, so repeats of one identity stay in file order
_IDENTITY = operator.itemgetter(0)


@dataclass
class FileResult:
    """The outcome of one file, as the summary lists it."""

    path: str
    format: str | None = None
    tool: str | None = None
    sha256: str | None = None
    failed: int = 0
    passed: int = 0
    other: int = 0
    mapped: int = 0
    skipped: str | None = None
    error: str | None = None

    @property
    def findings(self) -> int:
        return self.failed + self.passed + self.other

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "tool": self.tool,
            "sha256": self.sha256,
            "findings": {"failed": self.failed, "passed": self.passed, "other": self.other},
            "mapped": self.mapped,
            "skipped": self.skipped,
            "error": self.error,
        }


@dataclass
class Summary:
    results: list[FileResult] = field(default_factory=list)

    @property
    def files(self) -> int:
        return sum(1 for r in self.results if r.error is None and r.skipped is None)

    @property
    def findings(self) -> int:
        return sum(r.findings for r in self.results)

    @property
    def mapped(self) -> int:
        return sum(r.mapped for r in self.results)

    @property
    def skipped(self) -> int:
        return sum(1 for r in self.results if r.skipped is not None)

    @property
    def errors(self) -> int:
        return sum(1 for r in self.results if r.error is not None)


def identity_of(f: Finding) -> tuple[str, str]:
    """(identity, location key). The location is the scope a later scan of the same tool must cover to
    close the finding. The identity is 32 hex digits: 8 from a hash of tool + location, then 24 from a hash
    of tool + rule + subject. Findings of one file or account thus sit together in the identity index, so a
    scan's upserts touch a few regions of it instead of pages all over a large store."""
    if f.resource:
        subject = f"r\0{f.resource}\0{f.file or ''}"
    elif f.function:
        subject = f"f\0{f.function}"
    elif f.file:
        subject = f"l\0{f.file}\0{f.line or ''}"
    elif f.targets:
        subject = "t\0" + "\0".join(f.targets)
    else:
        subject = f"a\0{f.provider or ''}\0{f.account or ''}\0{f.region or ''}"
    if f.file:
        loc = f.file
    elif f.account or f.region:
        loc = f"{f.provider or ''}:{f.account or ''}:{f.region or ''}"
    else:
        loc = f.resource or f.function or ""
    ident = _scope_prefix(f.tool, loc) + hashlib.sha256(f"{f.tool}\0{f.rule_id}\0{subject}".encode()).hexdigest()[:24]
    return ident, loc


@functools.lru_cache(maxsize=65536)
def _scope_prefix(tool: str, loc: str) -> str:
    return hashlib.sha256(f"{tool}\0{loc}".encode()).hexdigest()[:8]


def expand(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """(file, base folder) for every file named or found below a named folder (sorted). Hidden files and
    ``attachments/`` folders (attestation attachments, ingested through their attestation) are skipped."""
    for p in paths:
        if p.is_dir():
            for sub in sorted(p.rglob("*")):
                rel = sub.relative_to(p)
                if any(part.startswith(".") or part == ATTACHMENTS for part in rel.parts[:-1]) or rel.name.startswith("."):
                    continue
                if sub.is_file():
                    yield sub, p
        else:
            yield p, p.parent


@dataclass
class Tally:
    """What a file's findings add up to, gathered while their rows are prepared."""

    counts: dict[str, int] = field(default_factory=lambda: {"fail": 0, "pass": 0, "error": 0, "info": 0})
    locs: set[str] = field(default_factory=set)
    by_tool: dict[tuple[str, str | None], int] = field(default_factory=dict)
    latest_time: str = ""
    time_source: str = "ingest"
    mapped: int = 0
    n: int = 0


@dataclass
class Pending:
    """A file copied into the locker tmp folder and recognised, not yet written to the store."""

    res: FileResult
    tmp: Path
    fmt: Format
    ctx: ParseContext
    #: (pointer, path, sha256) of attestation attachments, and their locker tmp copies
    attachments: list[tuple[str, str, str]] = field(default_factory=list)
    extra: list[Path] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)

    def discard(self) -> None:
        """Remove the tmp copies (after a failure, or when the file is not written after all)."""
        self.tmp.unlink(missing_ok=True)
        for p in self.extra:
            p.unlink(missing_ok=True)
        self.extra.clear()


#: One batch of a file's rows before the store numbers them: observation rows (two leading slots for the
#: observation and file ids, then :data:`OBS_COLUMNS`; the digest is appended when numbered) and identity
#: rows sorted by identity (slot 7 holds the row's position in the batch until it becomes its observation id;
#: slot 8 becomes the file id).
Batch = tuple[list[list[Any]], list[list[Any]]]


@contextlib.contextmanager
def _collector_off() -> Iterator[None]:
    """The ingest allocates millions of small objects none of which form cycles: the cyclic collector would
    only walk the parsed document again and again."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


class Ingester:
    """Ingests files into one store with one KB mapper and one clock.

    A file goes through :meth:`open` (locker copy, SHA-256, duplicate check, format), :meth:`rows` (parse,
    identities, mapping: no database work) and :meth:`write` (numbering, digests, inserts, closing, commit).
    :meth:`ingest_file` streams the rows into the open transaction; a second ingest process
    (:mod:`compliance.evidence.peer`) prepares a file's rows in full before its turn to write comes.
    """

    def __init__(
        self,
        store: Store,
        mapper: Mapper,
        now: datetime,
        *,
        stream_threshold: int = STREAM_THRESHOLD,
        formats: list[Format] | None = None,
        worker_bytes: int = WORKER_BYTES,
        clean_tmp: bool = True,
    ) -> None:
        self.store = store
        self.mapper = mapper
        self.now_iso = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.stream_threshold = stream_threshold
        self.formats = formats if formats is not None else registry()
        self._seq = 0
        self.worker_bytes = worker_bytes
        self._worker: ParseWorker | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        if clean_tmp:  # copies left by an interrupted ingest (a second ingest process keeps the first one's)
            shutil.rmtree(store.locker / "tmp", ignore_errors=True)
        # checkpoint the WAL every 256 MB rather than every 16 MB: pages that many files touch (the identity
        # index) are copied into the database once per checkpoint, not once per file; see checkpoint()
        store.conn.execute("PRAGMA wal_autocheckpoint=16384")

    def checkpoint(self) -> None:
        """Fold the WAL back into the database (after a batch)."""
        self.store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        """Stop the parsing helper process (if one was started)."""
        if self._finalizer is not None:
            self._finalizer()

    def _helper(self, fmt: Format, ctx: ParseContext) -> ParseWorker | None:
        """The helper process that prepares big files of formats that can be parsed there (None: parse here)."""
        if ctx.size < self.worker_bytes or getattr(fmt, "in_process", False) or not hasattr(os, "fork"):
            return None
        if self._worker is None or not self._worker.alive:
            known = {f.name: f for f in [*registry(), *self.formats]}
            if known.get(fmt.name) is not fmt:
                return None
            self._worker = ParseWorker(known, self.mapper, self.now_iso)
            self._finalizer = weakref.finalize(self, self._worker.close)
        return self._worker

    # ------------------------------------------------------------------ locker copy
    def _copy(self, src: Path, display: str) -> tuple[Path, str, int]:
        self._seq += 1
        tmp = self.store.tmp_dir() / f"{os.getpid()}-{self._seq}"
        h = hashlib.sha256()
        size = 0
        try:
            with src.open("rb") as fin, tmp.open("wb") as fout:
                while chunk := fin.read(1 << 20):
                    h.update(chunk)
                    fout.write(chunk)
                    size += len(chunk)
        except IsADirectoryError:
            tmp.unlink(missing_ok=True)
            raise InputError("is a directory", path=display) from None
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise InputError(f"cannot read: {exc.strerror}", path=display) from None
        return tmp, h.hexdigest(), size

    # ------------------------------------------------------------------ one file
    def ingest_file(
        self,
        path: Path,
        *,
        display: str | None = None,
        base: Path | None = None,
        fmt_name: str | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> FileResult:
        """Ingest one file, its rows streamed into the open transaction as they are parsed."""
        pending = self.open(path, display=display, base=base, fmt_name=fmt_name)
        if isinstance(pending, FileResult):
            return pending
        return self.write(pending, None, on_progress=on_progress)

    def open(
        self, path: Path, *, display: str | None = None, base: Path | None = None, fmt_name: str | None = None
    ) -> Pending | FileResult:
        """Copy the file into the locker's tmp folder (hashing it) and recognise its format. A file already in
        the store, or one that cannot be read or recognised, gives its :class:`FileResult` at once."""
        shown = display or str(path)
        res = FileResult(path=shown)
        tmp: Path | None = None
        try:
            tmp, sha, size = self._copy(path, shown)
            res.sha256 = sha
            if self.store.has_file(sha):
                res.skipped = "already ingested (same SHA-256)"
                return res
            with tmp.open("rb") as f:
                head = f.read(HEAD_BYTES)
            sn = sniff(head, shown)
            if fmt_name:
                fmt = by_name(fmt_name)
                if fmt is None:
                    raise InputError(f"unknown format {fmt_name!r} (see 'sckb evidence formats')", path=shown)
            else:
                fmt = detect(head, sn, self.formats)
                if fmt is None:
                    if sn.kind == "json" and size <= self.stream_threshold and not sn.ndjson:
                        loads_json(tmp.read_bytes(), shown)  # a broken document: report where it breaks
                    raise InputError(_unknown(sn), path=shown)
            res.format = fmt.name
            root = (base or path.parent).resolve()

            def attach(rel: str, ptr: str) -> str:
                return self._attach(root, path.parent, rel, ptr, shown, pending)

            ctx = ParseContext(tmp, shown, size=size, sniff=sn, stream_threshold=self.stream_threshold, attach=attach)
            pending = Pending(res, tmp, fmt, ctx)
            tmp = None
            return pending
        except InputError as exc:
            res.error = str(exc)
            return res
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)

    def rows(self, pending: Pending) -> list[Batch] | FileResult:
        """Every row of the file, prepared in full (no database work), or its result if it cannot be parsed."""
        with self._outcome(pending), _collector_off():
            return list(self._batches(pending))
        return pending.res

    def write(
        self, pending: Pending, batches: Iterable[Batch] | None, *, on_progress: Callable[[int], None] | None = None
    ) -> FileResult:
        """Write the file in one transaction: its rows (``None``: parse them now, streamed into the transaction),
        coverage and closing, its ``files`` row, its locker copies; then commit."""
        res = pending.res
        committed = False
        with self._outcome(pending), _collector_off():
            conn = self.store.conn
            conn.execute("BEGIN IMMEDIATE")
            if self.store.has_file(res.sha256 or ""):  # the same bytes came in earlier in this batch
                res.skipped = "already ingested (same SHA-256)"
                res.format = None
            else:
                self._write(pending, self._batches(pending) if batches is None else batches, on_progress)
                self.store.put_locker(pending.tmp, res.sha256 or "")
                for p in pending.extra:
                    self.store.put_locker(p, p.name.rsplit("-", 1)[1])
                pending.extra.clear()
            conn.execute("COMMIT")
            committed = True
        if not committed or res.skipped:
            pending.discard()
        return res

    @contextlib.contextmanager
    def _outcome(self, pending: Pending) -> Iterator[None]:
        """Bad input becomes the file's error (the transaction, if any, rolled back); a store error is raised."""
        res = pending.res
        try:
            yield
        except InputError as exc:
            self._rollback()
            res.error = str(exc)
        except (KeyError, TypeError, AttributeError, ValueError, IndexError, RecursionError) as exc:
            self._rollback()  # a shape the parser did not expect: bad input for that format
            res.error = str(InputError(f"unexpected content for format {res.format}: {type(exc).__name__}: {exc}", path=res.path))
        except sqlite3.DatabaseError as exc:
            self._rollback()
            pending.discard()
            raise StoreError(f"{self.store.workspace}: evidence store error while ingesting {res.path}: {exc}") from None
        except BaseException:
            self._rollback()
            pending.discard()
            raise
        if res.error is not None:
            res.failed = res.passed = res.other = res.mapped = 0
            pending.discard()

    def _rollback(self) -> None:
        if self.store.conn.in_transaction:
            self.store.conn.execute("ROLLBACK")

    def _attach(self, root: Path, folder: Path, rel: str, pointer: str, shown: str, pending: Pending) -> str:
        if not rel or Path(rel).is_absolute() or rel.startswith(("/", "\\")) or ":" in rel.split("/")[0]:
            raise InputError(f"attachment path {rel!r} must be relative to the attestation's folder", path=shown, pointer=pointer)
        target = (folder / rel).resolve()
        if not target.is_relative_to(root):
            raise InputError(f"attachment path {rel!r} escapes the evidence folder {root.name!r}", path=shown, pointer=pointer)
        if not target.is_file():
            raise InputError(f"attachment {rel!r} not found", path=shown, pointer=pointer)
        tmp, sha, _size = self._copy(target, rel)
        named = tmp.with_name(f"{tmp.name}-{sha}")
        os.replace(tmp, named)
        pending.extra.append(named)
        pending.attachments.append((pointer, rel, sha))
        return sha

    # ------------------------------------------------------------------ rows
    def _batches(self, pending: Pending) -> Iterator[Batch]:
        """The file's rows, in batches: prepared here, or by the helper process for big files."""
        tally = pending.tally = Tally()
        helper = self._helper(pending.fmt, pending.ctx)
        if helper is not None:
            return helper.batches(pending.fmt.name, pending.ctx, tally)
        return prepare(pending.fmt.parse(pending.ctx.path, pending.ctx), pending.ctx, tally, self.mapper, self.now_iso)

    # ------------------------------------------------------------------ transaction
    def _write(self, pending: Pending, batches: Iterable[Batch], on_progress: Callable[[int], None] | None) -> None:
        conn = self.store.conn
        fmt, ctx, res = pending.fmt, pending.ctx, pending.res
        sha, shown, size = res.sha256 or "", res.path, ctx.size
        file_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM files").fetchone()[0]
        obs_id = conn.execute("SELECT coalesce(max(id), 0) FROM observations").fetchone()[0]
        first_obs = obs_id + 1
        now = self.now_iso
        rows_hash = hashlib.sha256()
        sha256, dumps = hashlib.sha256, orjson.dumps
        for obs_rows, id_rows in batches:
            base = obs_id + 1
            for row in obs_rows:
                obs_id += 1
                row[0] = obs_id
                row[1] = file_id
                row.append(sha256(dumps(row)).hexdigest()[:32])  # = row_digest(obs_id, file_id, values)
            for r in id_rows:
                r[7] += base
                r[8] = file_id
            rows_hash.update("".join([r[23] for r in obs_rows]).encode())  # the file's digest over its rows' digests
            conn.executemany(_INSERT_OBS, obs_rows)
            conn.executemany(_UPSERT, id_rows)
            if on_progress is not None:
                on_progress(len(obs_rows))
        tally = pending.tally
        n = obs_id - first_obs + 1
        tools: dict[str, int] = {}
        versions: dict[str, int] = {}
        for (t, v), k in tally.by_tool.items():
            tools[t] = tools.get(t, 0) + k
            if v:
                versions[v] = versions.get(v, 0) + k
        tool = max(tools, key=lambda t: (tools[t], t)) if tools else getattr(fmt, "tool", fmt.name)
        version = ctx.tool_version or (max(versions, key=lambda v: (versions[v], v)) if versions else None)
        file_time_source = tally.time_source
        if ctx.scan_time:
            file_time, file_time_source = ctx.scan_time, "file"
        elif tally.latest_time:
            file_time = tally.latest_time
        else:
            file_time, file_time_source = now, "ingest"
        # coverage and closing: findings of this tool in the covered locations that this scan no longer reports
        covered = tally.locs | ctx.covered
        newest = conn.execute("SELECT max(scan_time) FROM coverage WHERE tool=?", (tool,)).fetchone()[0]
        for scope_tool in tools or {tool: 0}:
            conn.executemany(  # a scope's identities share their first 8 hex digits: a key range
                "UPDATE identities SET status='closed' WHERE identity >= ? AND identity < ? AND tool=? AND loc=?"
                " AND status IN ('open','info') AND last_seen < ? AND last_file != ?",
                [
                    (prefix, prefix + "g", scope_tool, loc, file_time, file_id)
                    for loc in sorted(covered)
                    for prefix in (_scope_prefix(scope_tool, loc),)
                ],
            )
            if newest is not None and newest > file_time:  # an older scan arrived late: newer scans may have closed these
                conn.execute(
                    "UPDATE identities SET status='closed' WHERE tool=? AND status IN ('open','info') AND latest >= ?"
                    " AND EXISTS (SELECT 1 FROM coverage c WHERE c.tool=identities.tool AND c.loc=identities.loc"
                    " AND c.scan_time > identities.last_seen)",
                    (scope_tool, first_obs),
                )
            conn.executemany(
                "INSERT INTO coverage VALUES (?, ?, ?)"
                " ON CONFLICT(tool, loc) DO UPDATE SET scan_time=max(scan_time, excluded.scan_time)",
                [(scope_tool, loc, file_time) for loc in sorted(covered)],
            )
        counts = tally.counts
        failed, passed, other = counts["fail"], counts["pass"], n - counts["fail"] - counts["pass"]
        fvalues = (
            sha, shown, fmt.name, tool, version, file_time, file_time_source, now, size, n, failed, passed, other,
            tally.mapped, rows_hash.hexdigest(),
        )  # fmt: skip
        assert len(fvalues) == len(FILE_COLUMNS)
        chain = chain_digest(self.store.last_chain(), fvalues)
        conn.execute(
            "INSERT INTO files (id, "
            + ", ".join(FILE_COLUMNS)
            + ", chain) VALUES ("
            + ", ".join("?" * (len(FILE_COLUMNS) + 2))
            + ")",
            (file_id, *fvalues, chain),
        )
        conn.executemany("INSERT INTO attachments VALUES (?, ?, ?, ?)", [(file_id, *a) for a in pending.attachments])
        res.tool, res.failed, res.passed, res.other, res.mapped = tool, failed, passed, other, tally.mapped


def prepare(findings: Iterable[Any], ctx: ParseContext, tally: Tally, mapper: Mapper, now: str) -> Iterator[Batch]:
    """A file's findings as batches of rows: identity, location key and mapping per finding (no database
    work); ``tally`` adds them up. ``now`` dates findings whose file gives no scan time."""
    counts, locs, by_tool = tally.counts, tally.locs, tally.by_tool
    latest_time, time_source = "", "ingest"
    mapped = n = 0
    status_of = _STATUS
    map_rule, map_attestation = mapper.map, mapper.attestation
    mapped_of: dict[tuple[str, str, tuple[str, ...]], tuple[str, str, str, int]] = {}
    scope_prefix, sha256 = _scope_prefix, hashlib.sha256
    prefixes: dict[tuple[str, str], str] = {}  # scope prefix per tool and location
    obs_rows: list[list[Any]] = []
    id_rows: list[list[Any]] = []
    add_obs, add_id, add_loc = obs_rows.append, id_rows.append, locs.add
    try:
        for f in findings:
            (
                tool, tool_version, scan_time, src, rule_id, rule_title, sev, result, resource, function, file, line,
                provider, account, region, cwes, ptr, message, method, targets,
            ) = f  # fmt: skip
            # identity and location key: identity_of(f), inlined
            if resource:
                subject = f"r\0{resource}\0{file or ''}"
            elif function:
                subject = f"f\0{function}"
            elif file:
                subject = f"l\0{file}\0{line or ''}"
            elif targets:
                subject = "t\0" + "\0".join(targets)
            else:
                subject = f"a\0{provider or ''}\0{account or ''}\0{region or ''}"
            if file:
                loc = file
            elif account or region:
                loc = f"{provider or ''}:{account or ''}:{region or ''}"
            else:
                loc = resource or function or ""
            prefix = prefixes.get((tool, loc))
            if prefix is None:
                prefix = prefixes[(tool, loc)] = scope_prefix(tool, loc)
            ident = prefix + sha256(f"{tool}\0{rule_id}\0{subject}".encode()).hexdigest()[:24]
            if scan_time:
                if scan_time > latest_time:
                    latest_time, time_source = scan_time, src
            else:
                scan_time, src = now, "ingest"
            add_obs(
                [
                    None, None, ident, tool, tool_version, scan_time, src, rule_id, rule_title, sev, result, resource,
                    function, file, line, provider, account, region, " ".join(cwes) if cwes else "", ptr, message,
                    method, " ".join(targets) if targets else "",
                ]
            )  # fmt: skip
            if targets:
                m = map_attestation(targets)
                mapped_by, mits, ctrls, reaches = m.mapped_by, m.mitigations_text, m.controls_text, m.reaches
            else:
                key = (tool, rule_id, cwes)
                hit = mapped_of.get(key)
                if hit is None:
                    m = map_rule(tool, rule_id, cwes)
                    hit = (m.mapped_by, m.mitigations_text, m.controls_text, m.reaches)
                    if len(mapped_of) < 100_000:
                        mapped_of[key] = hit
                mapped_by, mits, ctrls, reaches = hit
            mapped += reaches
            add_id(
                [ident, tool, rule_id, loc, scan_time, scan_time, status_of.get(result, "open"), n % BATCH, None,
                 mapped_by, mits, ctrls]
            )  # fmt: skip
            n += 1
            counts[result] = counts.get(result, 0) + 1
            add_loc(loc)
            key2 = (tool, tool_version)
            by_tool[key2] = by_tool.get(key2, 0) + 1
            if len(obs_rows) >= BATCH:
                id_rows.sort(key=_IDENTITY)  # key order: the upserts walk the index instead of jumping about
                yield obs_rows, id_rows
                obs_rows, id_rows = [], []
                add_obs, add_id = obs_rows.append, id_rows.append
        if obs_rows:
            id_rows.sort(key=_IDENTITY)
            yield obs_rows, id_rows
    finally:
        ctx.release()  # freed while the collector is off: it would walk the document once more
        tally.latest_time, tally.time_source, tally.mapped, tally.n = latest_time, time_source, mapped, n


def _unknown(sn: Any) -> str:
    if sn.kind == "json":
        keys = sorted(k for k in sn.keys if "." not in k)[:8]
        shape = f"a JSON {'object' if sn.top == 'map' else 'array'}"
        return f"unknown JSON shape: {shape} with keys {', '.join(keys) or '(none)'}; no format matched (use --format)"
    if sn.kind == "xml":
        return f"unknown XML document <{sn.root_tag}>; no format matched (use --format)"
    return f"unknown {sn.kind} content; no format matched (use --format)"


def default_jobs() -> int:
    """Processes an ingest uses by default: one per CPU this process may run on, at most 4 (the writes to the
    store take turns, so more processes stop paying off)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size if path.is_file() else None
    except OSError:
        return None


def ingest(
    store: Store,
    paths: Iterable[Path],
    *,
    mapper: Mapper,
    now: datetime,
    fmt_name: str | None = None,
    strict: bool = False,
    on_file: Callable[[FileResult], None] | None = None,
    on_start: Callable[[str], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    stream_threshold: int = STREAM_THRESHOLD,
    jobs: int | None = None,
    peer_bytes: int = PEER_BYTES,
    worker_bytes: int = WORKER_BYTES,
) -> Summary:
    """Ingest every file below ``paths``, committed in that order. Bad files are reported per file; with
    ``strict`` the batch stops at the first bad file (files already ingested stay).

    ``jobs`` processes share the work (default :func:`default_jobs`) when the files under the streaming size
    add up to ``peer_bytes`` or more: see :mod:`compliance.evidence.peer`. The store is the same either way.
    Files of ``worker_bytes`` or more are streamed by this process, parsed by a helper process."""
    from compliance.evidence import peer

    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be 1 or more, not {jobs}")
    ing = Ingester(store, mapper, now, stream_threshold=stream_threshold, worker_bytes=worker_bytes)
    files = list(expand(paths))
    sizes = [_size(f) for f, _ in files]
    plan = peer.Plan.make(sizes, default_jobs() if jobs is None else jobs, ing.worker_bytes, peer_bytes)
    ahead: dict[int, tuple[Pending | FileResult, list[Batch] | FileResult | None]] = {}

    def own(i: int, prepare_only: bool) -> FileResult | None:
        file, base = files[i]
        if prepare_only:  # the coordinator's next file, prepared while a peer writes (big files stream at their turn)
            size = sizes[i]
            if i not in ahead and size is not None and size < ing.worker_bytes:
                p = ing.open(file, display=str(file), base=base, fmt_name=fmt_name)
                ahead[i] = (p, ing.rows(p) if isinstance(p, Pending) else None)
            return None
        if i in ahead:
            p, rows = ahead.pop(i)
            if isinstance(p, FileResult):
                return p
            if isinstance(rows, FileResult):
                return rows
            return ing.write(p, rows, on_progress=on_progress)
        return ing.ingest_file(file, display=str(file), base=base, fmt_name=fmt_name, on_progress=on_progress)

    def start(i: int) -> None:
        if on_start is not None:
            on_start(str(files[i][0]))

    results: Iterator[tuple[int, FileResult | None]]
    peers = []
    if plan.peers:
        settings = peer.Settings(str(store.workspace), mapper, now, stream_threshold, fmt_name, os.getpid())
        peers = peer.spawn(plan.peers, settings)
        if not peers:
            plan = peer.Plan.make(sizes, 1, ing.worker_bytes, peer_bytes)
    if peers:

        def job(i: int) -> tuple[str, str, str]:
            return str(files[i][0]), str(files[i][0]), str(files[i][1])

        results = peer.run(plan, peers, len(files), own, job, start)
    else:

        def alone() -> Iterator[tuple[int, FileResult | None]]:
            for i in range(len(files)):
                start(i)
                yield i, own(i, False)

        results = alone()
    summary = Summary()
    try:
        for i, res in results:
            assert res is not None
            if plan.owner[i] >= 0 and on_progress is not None and res.findings:
                on_progress(res.findings)
            summary.results.append(res)
            if on_file is not None:
                on_file(res)
            if strict and res.error is not None:
                break
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
        for p, _rows in ahead.values():
            if isinstance(p, Pending):
                p.discard()
        ing.close()
    ing.checkpoint()
    return summary
