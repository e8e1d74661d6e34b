"""More ingest processes for a batch of files: each prepares its files' rows while another one writes.

Preparing a file's rows (parsing, identities, mapping) costs about as much CPU as writing them (numbering,
digests, SQLite), and only one process may write to the store at a time. So a batch of many files is
shared among the ingesting process (the *coordinator*) and peer processes: each prepares its next file in
full while another writes, then writes it when its turn comes. Turns follow the batch's order, so files are
numbered and committed exactly as a one-process ingest would do it: the store ends up the same, row for row.

A peer is a fresh interpreter, not a fork (a database connection must not cross a fork) running
:mod:`compliance.evidence.peer_process`. It gets the ingest's settings and the KB mapper, pickled, on its stdin,
opens the store itself and answers on its stdout. Messages are length-prefixed pickles (:mod:`.framing`):

- coordinator → peer: the settings; then ``("job", index, path, display, base)`` (prepare this file),
  ``("go", index)`` (its turn: write it) and at last ``("stop",)``;
- peer → coordinator: ``("done", index, FileResult)`` after each write, or ``("fail", kind, message)``.

A peer that loses its coordinator dies with it (Linux ``PR_SET_PDEATHSIG``) or exits on end-of-file; a write
it had not committed is rolled back, as for any interrupted ingest.
"""

from __future__ import annotations

import contextlib
import pickle
import subprocess
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from compliance.errors import StoreError
from compliance.evidence.framing import recv, send, start_helper
from compliance.evidence.mapping import Mapper
from compliance.evidence.prepare import FileResult

#: Jobs a peer holds beyond the one it writes: one, prepared while the others write. (With more, a peer could
#: be busy preparing when its turn comes, and everyone would wait for it.)
AHEAD = 1


@dataclass(frozen=True)
class Settings:
    """What a peer needs to ingest as the coordinator does."""

    workspace: str
    mapper: Mapper
    now: datetime
    stream_threshold: int
    fmt_name: str | None
    parent: int
    scan_time: datetime | None = None


class Peer:
    """One peer process, seen from the coordinator."""

    def __init__(self, settings: Settings) -> None:
        self.proc = start_helper("compliance.evidence.peer_process")
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in, self._out = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        self.sent: deque[int] = deque()  # files it was given and has not written yet
        self.send(settings)

    def send(self, message: Any) -> None:
        try:
            send(self._in, b"M", pickle.dumps(message))
        except OSError:
            raise self._ended() from None

    def done(self, index: int) -> FileResult:
        """Wait for the peer to have written file ``index``; its FileResult."""
        try:
            _, data = recv(self._out)
        except (EOFError, OSError):
            raise self._ended() from None
        msg = pickle.loads(data)
        if msg[0] == "fail":
            raise StoreError(msg[2]) if msg[1] == "StoreError" else StoreError(f"ingest peer process failed: {msg[1]}: {msg[2]}")
        if msg[0] != "done" or msg[1] != index:
            raise StoreError(f"ingest peer process out of step: expected file {index}, got {msg[:2]}")
        self.sent.popleft()
        res: FileResult = msg[2]
        return res

    def _ended(self) -> StoreError:
        code = self.proc.poll()
        return StoreError(f"an ingest peer process ended unexpectedly (exit code {code})")

    def stop(self, *, kill: bool = False) -> None:
        """End the peer: at once (``kill``), or once it has discarded what it prepared. Told so in words: a
        parsing helper forked later holds a copy of the pipe, so the peer would not see end-of-file."""
        if kill:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        else:
            with contextlib.suppress(StoreError):
                self.send(("stop",))
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            self.proc.wait(timeout=None if kill else 60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Plan:
    """Who ingests which file: ``owner[i]`` is a peer's index, or -1 for the coordinator."""

    owner: list[int]
    peers: int
    per_peer: list[deque[int]] = field(default_factory=list)

    @classmethod
    def make(cls, sizes: list[int | None], jobs: int, small: int, min_bytes: int) -> Plan:
        """Files under ``small`` bytes are shared round-robin among ``jobs`` processes when they add up to
        ``min_bytes`` or more; bigger files (streamed, perhaps by a parsing helper) and files that cannot be
        read (reported by the coordinator) stay with the coordinator."""
        ok = [s is not None and s < small for s in sizes]
        total = sum(s or 0 for s, k in zip(sizes, ok, strict=True) if k)
        peers = jobs - 1 if jobs > 1 and sum(ok) >= 2 and total >= min_bytes else 0
        owner = [-1] * len(sizes)
        turn = 0
        for i, k in enumerate(ok):
            if k and peers:
                owner[i] = turn if turn < peers else -1  # peer 0, 1, …, then the coordinator
                turn = (turn + 1) % (peers + 1)
        plan = cls(owner, peers)
        plan.per_peer = [deque(i for i, o in enumerate(owner) if o == p) for p in range(peers)]
        return plan


def spawn(count: int, settings: Settings) -> list[Peer]:
    """Start ``count`` peers; none if a process cannot be started here (the batch then runs in one process)."""
    peers: list[Peer] = []
    try:
        for _ in range(count):
            peers.append(Peer(settings))
    except (OSError, StoreError):
        for p in peers:
            p.stop(kill=True)
        return []
    return peers


def run(
    plan: Plan,
    peers: list[Peer],
    n: int,
    own: Callable[[int, bool], Any],
    job: Callable[[int], tuple[str, str, str]],
    start: Callable[[int], None],
) -> Iterator[tuple[int, Any]]:
    """Drive a batch: yields ``(index, FileResult)`` in file order. ``own(i, ahead)`` ingests the coordinator's
    file ``i`` (with ``ahead``: only prepare it, to be written at its turn by a later ``own(i, False)``);
    ``job(i)`` gives a peer's file as (path, display, base); ``start(i)`` is called as file ``i``'s turn comes.
    Closing the generator early (``--strict`` after a bad file) lets the peers discard what they prepared."""
    ok = False
    try:
        for p, peer in enumerate(peers):
            _top_up(peer, plan.per_peer[p], job)
        mine = deque(i for i, o in enumerate(plan.owner) if o < 0)
        for i in range(n):
            p = plan.owner[i]
            start(i)
            if p < 0:
                mine.popleft()
                yield i, own(i, False)
                continue
            peer = peers[p]
            peer.send(("go", i))
            if mine:  # while the peer writes, prepare the coordinator's next file
                own(mine[0], True)
            yield i, peer.done(i)
            _top_up(peer, plan.per_peer[p], job)
        ok = True
    except GeneratorExit:
        ok = True  # stopped early: every turn given was answered, so the peers are idle
        raise
    finally:
        for peer in peers:
            peer.stop(kill=not ok)


def _top_up(peer: Peer, todo: deque[int], job: Callable[[int], tuple[str, str, str]]) -> None:
    while todo and len(peer.sent) < AHEAD:
        i = todo.popleft()
        peer.send(("job", i, *job(i)))
        peer.sent.append(i)
