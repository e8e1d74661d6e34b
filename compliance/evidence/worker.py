"""Prepare big evidence files in a helper process while the ingesting process writes the store.

Preparing rows (orjson, the format's Python code, identities and mapping) and writing them (numbering,
digests, SQLite) take about the same time; one helper process, forked once per
:class:`~compliance.evidence.ingest.Ingester`, prepares a file's rows (:func:`~compliance.evidence.prepare.prepare`)
and sends them in batches through a pipe while the ingesting process writes the previous batch. The helper
never touches the store (it was forked with the KB mapper; it only reads the locker copy it is told to
parse). What the parse learned about the file (tool version, scan time, covered locations, the tally) and any
error it raised come back at the end of the file, so the ingest sees exactly what an in-process parse would
have given it (errors included, re-raised in the ingesting process). If the ingesting process dies, the
helper reads end-of-file on its job pipe and exits.
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
from compliance.evidence.formats import Format
from compliance.evidence.framing import grow, recv, send
from compliance.evidence.mapping import Mapper
from compliance.evidence.parsing import ParseContext
from compliance.evidence.prepare import Tally, prepare
from compliance.evidence.store import Batch


class ParseWorker:
    """One forked helper process that parses the files it is sent, one at a time."""

    def __init__(self, formats: dict[str, Format], mapper: Mapper, now: str, now_source: str = "ingest") -> None:
        job_r, job_w = os.pipe()
        out_r, out_w = os.pipe()
        grow(out_w)
        pid = os.fork()
        if pid == 0:  # the helper: never returns
            os.close(job_w)
            os.close(out_r)
            code = 0
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the ingesting process's to handle
                _serve(job_r, out_w, formats, mapper, now, now_source)
            except BaseException:
                code = 1
            os._exit(code)
        os.close(job_r)
        os.close(out_w)
        self.pid, self._job, self._out = pid, job_w, out_r

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
                    ctx.tool_version, ctx.scan_time, ctx.covered, theirs = pickle.loads(data)
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
            for fd in (self._job, self._out):
                with contextlib.suppress(OSError):
                    os.close(fd)
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ChildProcessError, ProcessLookupError):
                pass
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
            out.send(b"E", pickle.dumps((ctx.tool_version, ctx.scan_time, ctx.covered, tally)))
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
