"""Control statements stored by ``sckb catalog import``, read back for the report and anything else
that shows them.

The reader lives in ``assess`` rather than with the OSCAL importer (:mod:`compliance.oscal.catalog`), so
that the report reads statements without importing ``oscal``.

Each parameter insertion in a stored statement is marked: ``\\x02 param-id \\x1f text \\x03``, where ``text``
is what the import rendered there (NIST's ``[Assignment: ...]``, or the imported profile's value). The
markers are ASCII control characters no catalog text contains, and :func:`render` removes them: it keeps the
imported text, or, for a parameter a tailored baseline sets (``assess --profile``), shows that profile's value
instead. Statements imported before parameters were marked carry no markers and read as they were stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from compliance.errors import NotFoundError
from compliance.evidence.store import Store
from compliance.kb.profile import ProfileInfo

PARAM_OPEN, PARAM_SEP, PARAM_CLOSE = "\x02", "\x1f", "\x03"
#: an insertion holding no other insertion (inner ones, e.g. inside a selection's choices, are rendered first)
_INNERMOST = re.compile("\x02([^\x02\x03\x1f]*)\x1f([^\x02\x03]*)\x03")


@dataclass(frozen=True, slots=True)
class ProfileValues:
    """The parameter values a profile sets (param id -> value text), and how statements name it."""

    title: str
    file: str
    values: Mapping[str, str]


def profile_values(info: ProfileInfo) -> ProfileValues:
    """The values a resolved profile sets: each parameter's ``values``, else its ``constraints`` (FedRAMP states
    its values as constraints), joined with "; "."""
    values: dict[str, str] = {}
    for p in info.parameters:
        text = "; ".join(p.values or p.constraints)
        if text:
            values[p.param_id] = " ".join(text.split())
    return ProfileValues(title=info.title, file=info.file, values=values)


def mark_param(param_id: str, text: str) -> str:
    """``text`` rendered for parameter ``param_id``, marked so that a later reader can put another value there."""
    return f"{PARAM_OPEN}{param_id}{PARAM_SEP}{text}{PARAM_CLOSE}"


def param_ids(text: str) -> list[str]:
    """The parameters marked in a stored statement, in order (inner ones included)."""
    return re.findall("\x02([^\x02\x03\x1f]*)\x1f", text)


def render(text: str, fill: ProfileValues | None = None) -> str:
    """A stored statement as a reader sees it: the imported text, with ``fill``'s value (labelled with its title)
    for each parameter ``fill`` sets."""
    if PARAM_OPEN not in text:
        return text

    def one(m: re.Match[str]) -> str:
        pid, shown = m.group(1), m.group(2)
        if fill is not None and pid in fill.values:
            return f"[{fill.title}: {fill.values[pid]}]"
        return shown

    while True:
        text, n = _INNERMOST.subn(one, text)
        if not n:
            return text


def stored_statements(workspace: Path) -> dict[str, str]:
    """control id -> statement as stored, markers included (empty when no catalog was imported). Reads only:
    a workspace without a store stays without one."""
    try:
        with Store.open(workspace, read_only=True) as store:
            return store.statements()
    except NotFoundError:
        return {}


def statements(workspace: Path, fill: ProfileValues | None = None) -> dict[str, str]:
    """control id -> statement text from the workspace, rendered (see :func:`render`)."""
    return {cid: render(text, fill) for cid, text in stored_statements(workspace).items()}
