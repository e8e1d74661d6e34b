"""The main loop of an ingest peer process (see :mod:`compliance.evidence.peer`): ``python -m
compliance.evidence.peer_process``. It reads the ingest's settings, then prepares and writes the files it is
told to, in turn, through its own :class:`~compliance.evidence.ingest.Ingester` on its own store."""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compliance.evidence.framing import die_with_parent, recv, send
from compliance.evidence.ingest import Ingester
from compliance.evidence.peer import Settings
from compliance.evidence.prepare import FileResult, Pending
from compliance.evidence.store import Batch, Store


def serve() -> None:
    """The peer process's main loop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the coordinator's to handle
    fd_in, fd_out = 0, os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing printed may mix with the answers
    try:
        _, data = recv(fd_in)
    except EOFError:
        return
    settings: Settings = pickle.loads(data)
    die_with_parent(settings.parent)
    prepared: dict[int, tuple[Pending | FileResult, list[Batch] | FileResult | None]] = {}
    try:
        with Store.open(Path(settings.workspace), create=False) as store:
            ing = Ingester(
                store, settings.mapper, settings.now, stream_threshold=settings.stream_threshold, worker_bytes=1 << 62,
                clean_tmp=False, scan_time=settings.scan_time,
            )  # fmt: skip
            for msg in _messages(fd_in):
                if msg[0] == "job":
                    _, index, path, display, base = msg
                    pending = ing.open(Path(path), display=display, base=Path(base), fmt_name=settings.fmt_name)
                    rows = ing.rows(pending) if isinstance(pending, Pending) else None
                    prepared[index] = (pending, rows)
                elif msg[0] == "go":
                    pending, rows = prepared.pop(msg[1])
                    if isinstance(pending, FileResult):
                        res = pending
                    elif isinstance(rows, FileResult):
                        res = rows
                    else:
                        res = ing.write(pending, rows)
                    send(fd_out, b"M", pickle.dumps(("done", msg[1], res)))
                else:
                    break
    except (BrokenPipeError, EOFError):
        pass
    except Exception as exc:  # reported to the coordinator, which raises it as a store error
        with contextlib.suppress(OSError):
            send(fd_out, b"M", pickle.dumps(("fail", type(exc).__name__, str(exc))))
    finally:
        for pending, _rows in prepared.values():
            if isinstance(pending, Pending):
                pending.discard()


def _messages(fd: int) -> Iterator[Any]:
    while True:
        try:
            _, data = recv(fd)
        except EOFError:
            return
        yield pickle.loads(data)


if __name__ == "__main__":
    serve()
