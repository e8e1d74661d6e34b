"""The pipe framing the ingest's helper processes speak (worker.py, peer.py): one kind byte, an 8-byte
little-endian length, then the payload."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

HEAD = 9  # one kind byte and an 8-byte length


def send(fd: int, kind: bytes, data: bytes) -> None:
    """Write one message (all of it, however many writes the pipe needs)."""
    view = memoryview(kind + len(data).to_bytes(8, "little") + data)
    while view:
        view = view[os.write(fd, view) :]


def _recv_exact(fd: int, n: int) -> bytes:
    parts: list[bytes] = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def recv(fd: int) -> tuple[bytes, bytes]:
    """Read one message: (kind, payload). :class:`EOFError` when the other end closed the pipe."""
    head = _recv_exact(fd, HEAD)
    return head[:1], _recv_exact(fd, int.from_bytes(head[1:], "little"))


def grow(fd: int) -> None:
    """Make the pipe's buffer 1 MB where the system allows it (Linux)."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass  # the default pipe size only costs some overlap


def die_with_parent(parent: int) -> None:
    """Be killed when process ``parent`` (which started this one) dies: Linux's ``PR_SET_PDEATHSIG``, asked
    through libc. (The signal follows the parent *thread* that started this process; the ingest starts its
    helpers from the thread that runs it and stops them before that thread returns.) Exits at once if the
    parent died before the request took effect. Elsewhere the end of the job pipe does the same, later."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def start_helper(module: str) -> subprocess.Popen[bytes]:
    """A fresh interpreter running ``python -m module`` with pipes on stdin and stdout (never a fork of a process that
    may run threads); the package is put on its PYTHONPATH so an uninstalled checkout works too."""
    package_root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.Popen(
        [sys.executable, "-m", module],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": path},
    )
