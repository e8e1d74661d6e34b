"""Ingest evidence files into the store: detect, parse, map, and write each file in one transaction.

One file is one store transaction (:meth:`Store.write_file`): its observations, the finding identities it touches, the coverage
it adds, the closing of findings it no longer reports, and its ``files`` row (with the hash chain) are
committed together or not at all, so a crash or ``kill -9`` mid-file leaves the store as it was.
The raw bytes are copied into the locker first (hashed while copied) and the copy is what gets parsed.

Files are committed in the order they are named (folders walked in sorted order). The CPU work is shared
without changing that order or any row: files of :data:`WORKER_BYTES` and more are prepared by a
helper process while this one writes (worker.py), and the smaller files of a large batch are shared with
peer processes that prepare one file while another writes (peer.py). What a file's rows are is
:mod:`compliance.evidence.prepare`; how they are numbered, digested and written is the store's.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import stat
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from compliance.errors import InputError, StoreError
from compliance.evidence import peer
from compliance.evidence.formats import Format, by_name, completeness, detect, registry, unread
from compliance.evidence.mapping import Mapper
from compliance.evidence.parsing import HEAD_BYTES, STREAM_THRESHOLD, ParseContext, loads_json, sniff, sniff_whole
from compliance.evidence.prepare import BATCH, FileResult, Pending, Tally, identity_of, prepare, scope_prefix
from compliance.evidence.store import Batch, EngineError, FileWrite, NewFile, Store
from compliance.evidence.worker import ParseWorker

__all__ = [
    "ATTACHMENTS",
    "BATCH",
    "LOCK_WAIT",
    "PEER_BYTES",
    "WORKER_BYTES",
    "FileResult",
    "Ingester",
    "Pending",
    "Summary",
    "Tally",
    "check_paths",
    "default_jobs",
    "expand",
    "identity_of",
    "ingest",
    "open_regular",
    "prepare",
    "workspace_lock",
]
#: Files at least this big are parsed by a helper process while this one writes (see worker.py). Smaller
#: files gain little: the helper parses a whole document before its first batch, and this process waits.
WORKER_BYTES = 8 << 20
#: A batch is shared with peer processes (see peer.py) when its files under WORKER_BYTES add up to this much:
#: starting a peer costs about a tenth of a second.
PEER_BYTES = 32 << 20
#: Folders with this name hold attestation attachments; folder walks do not ingest them as evidence.
ATTACHMENTS = "attachments"


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


def open_regular(path: Path, display: str) -> Any:
    """``path`` opened for binary reading if it is a regular file; anything else (a FIFO, a device such as
    ``/dev/zero``, a socket) is an :class:`InputError`. Opened without blocking and checked on the open
    descriptor, so a FIFO never blocks the open and nothing can be swapped in between check and read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except IsADirectoryError:
        raise InputError("is a directory", path=display) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=display) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError("is a directory", path=display)
        if not stat.S_ISREG(mode):
            raise InputError(f"not a regular file ({_kind(mode)}): only files and folders are read", path=display)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"


#: How long an ingest waits, by default, for another one on the same workspace to finish.
LOCK_WAIT = 60.0
#: The lock file in the workspace folder that one ingest at a time holds.
LOCK_NAME = "ingest.lock"


@contextlib.contextmanager
def workspace_lock(workspace: Path, *, wait: float = LOCK_WAIT, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the workspace's ingest lock (an advisory ``flock`` on ``ingest.lock``, released by the kernel when
    the holder ends, however it ends). If another ingest holds it, ``on_wait`` is told once and this waits up
    to ``wait`` seconds, then raises :class:`StoreError`. Where ``flock`` does not exist, no lock is taken."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    workspace.mkdir(parents=True, exist_ok=True)
    fd = os.open(workspace / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"{workspace}: another ingest is still running on this workspace after {wait:g} s "
                        "(try again later, or give it longer with --wait SECONDS)"
                    ) from None
                if not told and on_wait is not None:
                    on_wait(f"{workspace}: another ingest is running on this workspace; waiting up to {wait:g} s")
                told = True
                time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        yield
    finally:
        os.close(fd)  # releases the lock


def check_paths(paths: Iterable[Path]) -> None:
    """Every path named on the command line exists (a file or a folder), else an :class:`InputError` for the
    first that does not, before anything is ingested."""
    for p in paths:
        if not os.path.lexists(p):
            raise InputError("no such file or folder", path=p)
        if not p.exists():
            raise InputError("a broken symbolic link", path=p)


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
        scan_time: datetime | None = None,
    ) -> None:
        self.store = store
        self.mapper = mapper
        self.now_iso = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        #: the time a file that states none is dated with, and its scan_time_source: the user's --scan-time
        #: ("given") or else the time of the ingest ("ingest")
        given = scan_time.astimezone(UTC) if scan_time is not None and scan_time.tzinfo else scan_time
        self.undated = (given.strftime("%Y-%m-%dT%H:%M:%SZ"), "given") if given is not None else (self.now_iso, "ingest")
        self.stream_threshold = stream_threshold
        self.formats = formats if formats is not None else registry()
        self._seq = 0
        self.worker_bytes = worker_bytes
        self._worker: ParseWorker | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        if clean_tmp:  # copies left by an interrupted run (those of a live process are its own to clean)
            store.clean_stale_tmp()
        store.bulk_ingest()

    def _known(self, target: str) -> bool:
        """Whether the KB has this mitigation or control (every id passes when the ingest has no KB)."""
        m = self.mapper
        if not m.mitigation_ids and not m.control_ids:
            return True
        return target in m.mitigation_ids or target in m.control_ids

    def checkpoint(self) -> None:
        """Let the store tidy up after a batch (SQLite: fold the WAL back into the database)."""
        self.store.checkpoint()

    def close(self) -> None:
        """Stop the parsing helper process (if one was started)."""
        if self._finalizer is not None:
            self._finalizer()

    def _helper(self, fmt: Format, ctx: ParseContext) -> ParseWorker | None:
        """The helper process that prepares big files of formats that can be parsed there (None: parse here)."""
        if ctx.size < self.worker_bytes or getattr(fmt, "in_process", False):
            return None
        if {f.name: f for f in registry()}.get(fmt.name) is not fmt:
            return None  # the helper knows the registered formats only
        if self._worker is None or not self._worker.alive:
            self._worker = ParseWorker(self.mapper, *self.undated)
            self._finalizer = weakref.finalize(self, self._worker.close)
        return self._worker

    # ------------------------------------------------------------------ locker copy
    def _copy(self, src: Path, display: str) -> tuple[Path, str, int]:
        self._seq += 1
        tmp = self.store.tmp_dir() / f"{os.getpid()}-{self._seq}"
        h = hashlib.sha256()
        size = 0
        try:
            with open_regular(src, display) as fin, tmp.open("wb") as fout:
                while chunk := fin.read(1 << 20):
                    h.update(chunk)
                    fout.write(chunk)
                    size += len(chunk)
        except InputError:
            tmp.unlink(missing_ok=True)
            raise
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
                if fmt is None and sn.kind == "json" and not sn.ndjson and size > len(head):
                    sn = sniff_whole(tmp, sn)  # the telling key may come after the head
                    fmt = detect(head, sn, self.formats)
                if fmt is None:
                    if sn.kind == "json" and size <= self.stream_threshold and not sn.ndjson:
                        loads_json(tmp.read_bytes(), shown)  # a broken document: report where it breaks
                    raise InputError(_unknown(sn), path=shown)
            res.format = fmt.name
            root = (base or path.parent).resolve()

            def attach(rel: str, ptr: str) -> str:
                return self._attach(root, path.parent, rel, ptr, shown, pending)

            ctx = ParseContext(
                tmp, shown, size=size, sniff=sn, stream_threshold=self.stream_threshold, attach=attach,
                now=self.now_iso, known=self._known,
            )  # fmt: skip
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
            with self.store.write_file() as tx:
                if tx.has_file(res.sha256 or ""):  # the same bytes came in earlier in this batch
                    res.skipped = "already ingested (same SHA-256)"
                    res.format = None
                else:
                    self._write(tx, pending, self._batches(pending) if batches is None else batches, on_progress)
                    self.store.put_locker(pending.tmp, res.sha256 or "")
                    for p in pending.extra:
                        self.store.put_locker(p, p.name.rsplit("-", 1)[1])
                    pending.extra.clear()
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
        except InputError as exc:  # (the transaction, if any, was rolled back on its way out)
            res.error = str(exc)
        except (KeyError, TypeError, AttributeError, ValueError, IndexError, RecursionError) as exc:
            # a shape the parser did not expect: bad input for that format
            res.error = str(InputError(f"unexpected content for format {res.format}: {type(exc).__name__}: {exc}", path=res.path))
        except EngineError as exc:  # the transaction was rolled back
            pending.discard()
            raise StoreError(f"{self.store.workspace}: evidence store error while ingesting {res.path}: {exc}") from None
        except BaseException:
            pending.discard()
            raise
        if res.error is not None:
            res.failed = res.passed = res.other = res.mapped = 0
            pending.discard()

    def _attach(self, root: Path, folder: Path, rel: str, pointer: str, shown: str, pending: Pending) -> str:
        if not rel or Path(rel).is_absolute() or rel.startswith(("/", "\\")) or ":" in rel.split("/")[0]:
            raise InputError(f"attachment path {rel!r} must be relative to the attestation's folder", path=shown, pointer=pointer)
        try:
            target = (folder / rel).resolve()
            if not target.is_relative_to(root):
                raise InputError(
                    f"attachment path {rel!r} escapes the evidence folder {root.name!r}", path=shown, pointer=pointer
                )
            if not target.is_file():
                raise InputError(f"attachment {rel!r} not found", path=shown, pointer=pointer)
        except (OSError, ValueError) as exc:  # a name too long for the system, a NUL byte in it, ...
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            short = rel if len(rel) <= 80 else rel[:79] + "…"
            raise InputError(f"attachment path cannot be used: {reason}: {short!r}", path=shown, pointer=pointer) from None
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
        return prepare(pending.fmt.parse(pending.ctx.path, pending.ctx), pending.ctx, tally, self.mapper, *self.undated)

    # ------------------------------------------------------------------ transaction
    def _write(
        self, tx: FileWrite, pending: Pending, batches: Iterable[Batch], on_progress: Callable[[int], None] | None
    ) -> None:
        fmt, ctx, res = pending.fmt, pending.ctx, pending.res
        now = self.now_iso
        for batch in batches:
            k = tx.add(batch)
            if on_progress is not None:
                on_progress(k)
        tally = pending.tally
        n = tx.count
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
            file_time, file_time_source = self.undated
        # coverage and closing: findings of this tool in the covered locations that this scan no longer reports
        tx.cover(tool, list(tools or {tool: 0}), sorted(tally.locs | ctx.covered), scope_prefix, file_time)
        counts = tally.counts
        failed, passed, other = counts["fail"], counts["pass"], n - counts["fail"] - counts["pass"]
        new = NewFile(
            sha256=res.sha256 or "",
            name=res.path,
            format=fmt.name,
            tool=tool,
            tool_version=version,
            scan_time=file_time,
            scan_time_source=file_time_source,
            ingested_at=now,
            bytes=ctx.size,
            failed=failed,
            passed=passed,
            other=other,
            mapped=tally.mapped,
            completeness=completeness(fmt, ctx.completeness),
        )
        tx.finish(new, pending.attachments)
        res.tool, res.failed, res.passed, res.other, res.mapped = tool, failed, passed, other, tally.mapped


def _unknown(sn: Any) -> str:
    if sn.kind == "json" and (why := unread(sn)) is not None:
        return why
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
    scan_time: datetime | None = None,
    wait: float = LOCK_WAIT,
    on_wait: Callable[[str], None] | None = None,
) -> Summary:
    """Ingest every file below ``paths``, committed in that order. Bad files are reported per file; with
    ``strict`` the batch stops at the first bad file (files already ingested stay).

    ``jobs`` processes share the work (default :func:`default_jobs`) when the files under the streaming size
    add up to ``peer_bytes`` or more: see :mod:`compliance.evidence.peer`. The store is the same either way.
    Files of ``worker_bytes`` or more are streamed by this process, parsed by a helper process.

    ``scan_time`` (the user's ``--scan-time``) dates the findings of files that state no scan time of their own,
    with ``scan_time_source`` "given"; without it they are dated ``now``, "ingest". A time the file states wins.

    One ingest at a time writes a workspace: a second one waits for the first (:func:`workspace_lock`, up to
    ``wait`` seconds, ``on_wait`` told once)."""
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be 1 or more, not {jobs}")
    paths = list(paths)
    check_paths(paths)
    with workspace_lock(store.workspace, wait=wait, on_wait=on_wait):
        return _ingest_locked(
            store, paths, mapper=mapper, now=now, fmt_name=fmt_name, strict=strict, on_file=on_file, on_start=on_start,
            on_progress=on_progress, stream_threshold=stream_threshold, jobs=jobs, peer_bytes=peer_bytes,
            worker_bytes=worker_bytes, scan_time=scan_time,
        )  # fmt: skip


def _ingest_locked(
    store: Store,
    paths: list[Path],
    *,
    mapper: Mapper,
    now: datetime,
    fmt_name: str | None,
    strict: bool,
    on_file: Callable[[FileResult], None] | None,
    on_start: Callable[[str], None] | None,
    on_progress: Callable[[int], None] | None,
    stream_threshold: int,
    jobs: int | None,
    peer_bytes: int,
    worker_bytes: int,
    scan_time: datetime | None,
) -> Summary:
    ing = Ingester(store, mapper, now, stream_threshold=stream_threshold, worker_bytes=worker_bytes, scan_time=scan_time)
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
        settings = peer.Settings(str(store.workspace), mapper, now, stream_threshold, fmt_name, os.getpid(), scan_time)
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
