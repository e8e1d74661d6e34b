"""The one exception hierarchy of sckb, and the exit code each maps to.

Every error the library raises on purpose is a :class:`SckbError`. The CLI prints
``str(error)`` as one line and exits with ``error.exit_code``; anything else is a
bug and exits with :data:`EXIT_INTERNAL`.

Exit codes (documented in the README and the CLI reference):

====  =====================================================================
0     success
1     a check ran and failed (validation problems, a CI gate, a failed verify)
2     usage error (unknown option, missing argument) — raised by the CLI layer
3     bad input: a file could not be read or parsed, or holds invalid data
4     not found: an id, assessment or file named on the command line does not exist
5     workspace or store error (locked, corrupt, incompatible)
6     network: a download could not be made (offline, refused, timed out)
70    internal error (a bug: please report it with the ``-v`` traceback)
====  =====================================================================
"""

from __future__ import annotations

import re
from pathlib import Path

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_NOT_FOUND = 4
EXIT_STORE = 5
EXIT_NETWORK = 6
EXIT_INTERNAL = 70


class SckbError(Exception):
    """Base of every deliberate sckb error."""

    exit_code: int = EXIT_CHECK_FAILED


class InputError(SckbError):
    """A file could not be read, parsed or validated.

    ``path`` names the file; ``line`` (1-based) or ``pointer`` (a JSON pointer)
    say where in it, when known.
    """

    exit_code = EXIT_INPUT

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        pointer: str | None = None,
    ) -> None:
        self.message = _one_line(message)
        self.path = str(path) if path is not None else None
        self.line = line
        self.pointer = _one_line(pointer, 200) if pointer is not None else None
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        if self.pointer is not None:
            where += f"#{self.pointer}"
        return f"{where}: {self.message}"


#: Longest message an :class:`InputError` prints: messages can quote the input, and the input can be huge.
MAX_MESSAGE = 500


def _one_line(message: str, limit: int = MAX_MESSAGE) -> str:
    """The message on one line (line breaks quoted from the input become spaces), at most ``limit`` long."""
    text = re.sub(r"\s*[\r\n\u2028\u2029\x0b\x0c\x85]+\s*", " ", message)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class CheckFailed(SckbError):
    """A check ran to completion and found problems (validation, gating, verify)."""

    exit_code = EXIT_CHECK_FAILED


class NotFoundError(SckbError):
    """Something named by the user (an id, an assessment, a file) does not exist."""

    exit_code = EXIT_NOT_FOUND


class StoreError(SckbError):
    """The workspace store cannot be used (locked, corrupt, wrong version)."""

    exit_code = EXIT_STORE


class NetworkError(SckbError):
    """A download could not be made (no network, the host refused, a timeout); the message names the URL and
    the offline way out."""

    exit_code = EXIT_NETWORK
