"""Prepare big evidence files in a helper process while the ingesting process writes the store.

Preparing rows (orjson, the format's Python code, identities and mapping) and writing them (numbering,
digests, SQLite) take about the same time; one helper process, forked once per
:class:`~compliance.evidence.ingest.Ingester`, prepares a file's rows (:func:`~compliance.evidence.prepare.prepare`)
and sends them in batches through a pipe while the ingesting process writes the previous batch. The helper
never touches the store (it gets the KB mapper, pickled; it only reads the locker copy it is told to parse).
What the parse learned about the file (tool version, scan time, covered locations, the tally) and any error
it raised come back at the end of the file, so the ingest sees exactly what an in-process parse would have
given it (errors included, re-raised in the ingesting process).

The helper is a fresh interpreter (``python -m compliance.evidence.worker``), not a fork: the ingesting
process may run threads (a progress bar's, a library user's), and a fork copies any lock another thread holds
at that moment, held for ever, so a forked helper could block on it and outlive the ingest. The helper dies
with the ingesting process: the kernel's parent-death signal (Linux), and end-of-file on its job pipe
(anywhere).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import queue
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson

from compliance.errors import StoreError
from compliance.evidence.formats import Format, registry
from compliance.evidence.framing import die_with_parent, grow, recv, send, start_helper
from compliance.evidence.mapping import Mapper
from compliance.evidence.parsing import ParseContext
from compliance.evidence.prepare import Tally, prepare
from compliance.evidence.store import Batch


class ParseWorker:
    """One forked helper process that parses the files it is sent, one at a time."""

    def __init__(self, mapper: Mapper, now: str, now_source: str = "ingest") -> None:
        self.proc = start_helper("compliance.evidence.worker")
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.pid, self._job, self._out = self.proc.pid, self.proc.stdin.fileno(), self.proc.stdout.fileno()
        try:
            send(self._job, b"S", pickle.dumps((mapper, now, now_source, os.getpid())))
        except OSError:
            self.close()
            raise StoreError("the parsing helper process could not be started") from None

    def batches(self, fmt_name: str, ctx: ParseContext, tally: Tally) -> Iterator[Batch]:
        """The file's rows, prepared by the helper; sets ``ctx``'s parse results and ``tally``."""
        job = pickle.dumps((fmt_name, str(ctx.path), ctx.display, ctx.size, ctx.sniff, ctx.stream_threshold))
        done = False
        try:
            send(self._job, b"J", job)
            while True:
                kind, data = recv(self._out)
                if kind == b"F":
                    obs, ids = orjson.loads(data)
                    yield obs, ids
                elif kind == b"P":
                    yield pickle.loads(data)
                elif kind == b"E":
                    done = True
                    ctx.tool_version, ctx.scan_time, ctx.covered, ctx.completeness, theirs = pickle.loads(data)
                    vars(tally).update(vars(theirs))
                    return
                else:
                    done = True
                    raise pickle.loads(data)
        except (EOFError, BrokenPipeError):
            done = True
            self.close()
            raise StoreError(f"{ctx.display}: the parsing helper process ended unexpectedly") from None
        finally:
            if not done:  # abandoned mid-file: the helper is out of step with us
                self.close()

    def close(self) -> None:
        if self.pid:
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            self.proc.wait()
            self.pid = 0

    @property
    def alive(self) -> bool:
        return self.pid != 0


class _Sender:
    """Sends the helper's messages from a thread, up to ``depth`` of them queued, so the helper prepares the
    next batches while the ingesting process is still writing (a pipe holds only part of one batch)."""

    def __init__(self, fd: int, depth: int = 4) -> None:
        self._queue: queue.Queue[tuple[bytes, bytes] | None] = queue.Queue(depth)
        self._broken = False
        self._thread = threading.Thread(target=self._run, args=(fd,), daemon=True)
        self._thread.start()

    def _run(self, fd: int) -> None:
        while (item := self._queue.get()) is not None:
            try:
                send(fd, *item)
            except OSError:
                self._broken = True
                return

    def send(self, kind: bytes, data: bytes) -> None:
        if self._broken:
            raise BrokenPipeError
        self._queue.put((kind, data))


def _serve(job_fd: int, out_fd: int, formats: dict[str, Format], mapper: Mapper, now: str, now_source: str) -> None:
    gc.disable()  # the parse allocates no cycles; the helper exits without tearing anything down
    out = _Sender(out_fd)
    while True:
        try:
            _, job = recv(job_fd)
        except (EOFError, BrokenPipeError):
            return
        fmt_name, path, display, size, sniff, threshold = pickle.loads(job)
        ctx = ParseContext(Path(path), display, size=size, sniff=sniff, stream_threshold=threshold)
        tally = Tally()
        try:
            for batch in prepare(formats[fmt_name].parse(ctx.path, ctx), ctx, tally, mapper, now, now_source):
                try:
                    out.send(b"F", orjson.dumps(batch))
                except TypeError:  # a value JSON cannot carry as it is (e.g. a lone surrogate): send it pickled
                    out.send(b"P", pickle.dumps(batch))
            out.send(b"E", pickle.dumps((ctx.tool_version, ctx.scan_time, ctx.covered, ctx.completeness, tally)))
        except BrokenPipeError:
            return
        except Exception as exc:  # the ingesting process handles it as if the parse had run there
            try:
                data = pickle.dumps(exc)
                pickle.loads(data)
            except Exception:
                data = pickle.dumps(ValueError(f"{type(exc).__name__}: {exc}"))
            out.send(b"X", data)
        ctx.release()
        del ctx, tally


def main() -> None:
    """The helper process: ``python -m compliance.evidence.worker``. Jobs on stdin, rows on stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the ingesting process's to handle
    job_fd, out_fd = 0, os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing printed may mix with the rows
    grow(out_fd)
    try:
        _, data = recv(job_fd)
    except EOFError:
        return
    mapper, now, now_source, parent = pickle.loads(data)
    die_with_parent(parent)
    code = 0
    try:
        _serve(job_fd, out_fd, {f.name: f for f in registry()}, mapper, now, now_source)
    except BaseException:
        code = 1
    os._exit(code)  # the sender thread may be blocked on a pipe nobody reads any more


if __name__ == "__main__":
    main()
