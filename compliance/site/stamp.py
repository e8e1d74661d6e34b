"""What a built site folder was built from, so that ``sckb site serve`` serves a current build at once.

After a build, ``.sckb-build.json`` in the folder records the inputs that decide the pages: the sckb version,
the KB's content fingerprint (the one the edition page shows), a digest of the site's own sources (``site/``
and this package's code), the assessment the dashboards show, the imported control statements and the
previous export the edition page compares with. The build date is left out: a site built yesterday from the
same inputs is the same site. The record is removed before a build starts, so a build cut short never
passes for a current one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import orjson

from compliance.kb.core import KB
from compliance.kb.export import to_json
from compliance.site.guides import fingerprint
from compliance.site.pages import site_source

STAMP = ".sckb-build.json"

#: How each input reads when it differs (the line ``site serve`` prints says why it builds).
_CHANGED = {
    "version": "another sckb version built it",
    "kb": "the KB changed",
    "sources": "the site's own pages or code changed",
    "assessment": "it shows another assessment",
    "statements": "the imported control statements changed",
    "previous": "its edition page compares with another export",
}


@dataclass(frozen=True)
class BuildKey:
    """The inputs of a site build; two builds with equal keys give the same pages."""

    version: str
    kb: str
    sources: str
    assessment: str = ""
    statements: str = ""
    previous: str = ""

    def describe(self) -> str:
        """``KB 1a2b3c4d5e6f, assessment A-..., with control statements`` (for the one line serve prints)."""
        parts = [f"KB {self.kb}", f"assessment {self.assessment}" if self.assessment else "no assessment"]
        if self.statements:
            parts.append("with control statements")
        if self.previous:
            parts.append("with a changelog")
        return ", ".join(parts)


def _digest(chunks: list[bytes]) -> str:
    h = hashlib.sha256()
    for c in chunks:
        h.update(hashlib.sha256(c).digest())
    return h.hexdigest()[:16]


def sources_digest() -> str:
    """The hand-written pages, ``mkdocs.yml`` and the site code: an edit to any changes the pages."""
    src = site_source()
    files = sorted(p for p in src.rglob("*") if p.is_file()) + sorted(Path(__file__).resolve().parent.glob("*.py"))
    return _digest([f"{p.name}\0".encode() + p.read_bytes() for p in files])


def build_key(
    kb: KB,
    *,
    version: str,
    assessment_id: str | None = None,
    statements: Mapping[str, str] | None = None,
    previous: bytes | None = None,
) -> BuildKey:
    return BuildKey(
        version=version,
        kb=fingerprint(to_json(kb)),
        sources=sources_digest(),
        assessment=assessment_id or "",
        statements=_digest([orjson.dumps(dict(statements), option=orjson.OPT_SORT_KEYS)]) if statements else "",
        previous=_digest([previous]) if previous is not None else "",
    )


def read_stamp(out: Path) -> BuildKey | None:
    """The key recorded in ``out``, or None (no build there, an older sckb's build, an unreadable record)."""
    try:
        doc = orjson.loads((out / STAMP).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    names = {f.name for f in fields(BuildKey)}
    if not isinstance(doc, dict) or set(doc) != names or not all(isinstance(v, str) for v in doc.values()):
        return None
    return BuildKey(**doc)


def write_stamp(out: Path, key: BuildKey) -> None:
    (out / STAMP).write_bytes(orjson.dumps(asdict(key), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2))


def clear_stamp(out: Path) -> None:
    (out / STAMP).unlink(missing_ok=True)


def stale_reason(out: Path, key: BuildKey) -> str | None:
    """None when ``out`` holds a complete build with this key; else why not, in a few words."""
    if not (out / "index.html").is_file():
        return "no site is built there"
    found = read_stamp(out)
    if found is None:
        return "the build there records no inputs"
    changed = [_CHANGED[f.name] for f in fields(BuildKey) if getattr(found, f.name) != getattr(key, f.name)]
    return "; ".join(changed) if changed else None
