"""Remediation policy and CISA KEV catalogue: when a POA&M item is due.

A :class:`RemediationPolicy` gives the days after first seen within which a weakness of a rating must be
remediated; the default ships as ``data/remediation-policy.yaml`` (FedRAMP continuous-monitoring windows) and
``sckb assess --remediation-policy FILE`` replaces it. A :class:`KevCatalog` is a CISA Known Exploited
Vulnerabilities JSON file the user gives (``sckb assess --kev FILE``): a POA&M item whose findings name a CVE in
it is also due by the catalogue's due date, whichever comes first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from compliance.errors import InputError
from compliance.kb.yamlio import Document, load_yaml

DEFAULT_POLICY_FILE = Path(__file__).parent / "data" / "remediation-policy.yaml"

_KEYS = {"name", "source", "windows", "aliases", "default", "unrated", "vendor_checkin_days"}
_CVE = re.compile(r"\bCVE-\d{4}-\d{4,}\b", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class RemediationPolicy:
    """Remediation windows in days per rating; ``aliases`` map other spellings to a rating."""

    name: str
    source: str
    windows: dict[str, int]
    aliases: dict[str, str] = field(default_factory=dict)
    #: the rating of a weakness nobody rated (neither the tool nor the KB rule states a severity)
    unrated: str = "high"
    #: a vendor dependency keeps its item from counting overdue while the last check-in is this recent
    vendor_checkin_days: int = 30

    def rating(self, severity: str | None) -> str | None:
        """The policy's rating of ``severity`` (None: unknown or missing)."""
        s = (severity or "").lower()
        s = self.aliases.get(s, s)
        return s if s in self.windows else None

    @property
    def default(self) -> int:
        """The window of an unknown or missing rating (the unrated rating's)."""
        return self.windows[self.unrated]

    def days(self, severity: str | None) -> int:
        r = self.rating(severity)
        return self.windows[r] if r is not None else self.default


def _fail(doc: Document, loc: tuple[Any, ...], message: str) -> InputError:
    return InputError(message, path=doc.path, line=doc.line_of(loc))


def _days(doc: Document, loc: tuple[Any, ...], value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(doc, loc, f"{'.'.join(map(str, loc))}: a window is a whole number of days >= 0, not {value!r}")
    return value


def load_policy(path: Path) -> RemediationPolicy:
    """Read a remediation policy YAML; :class:`InputError` naming the file and line on any problem."""
    doc = load_yaml(path)
    d = doc.data
    if not isinstance(d, dict):
        raise _fail(doc, (), "a remediation policy is a mapping with name, source, windows, aliases and default")
    for key in sorted(set(d) - _KEYS):
        raise _fail(doc, (key,), f"unknown key {key!r} (expected one of {', '.join(sorted(_KEYS))})")
    for key in ("name", "source"):
        if not isinstance(d.get(key), str) or not d[key].strip():
            raise _fail(doc, (key,), f"{key}: a non-empty string is required")
    windows = d.get("windows")
    if not isinstance(windows, dict) or not windows:
        raise _fail(doc, ("windows",), "windows: a mapping of rating -> days is required")
    wins = {str(k).lower(): _days(doc, ("windows", k), v) for k, v in windows.items()}
    aliases_raw = d.get("aliases", {}) or {}
    if not isinstance(aliases_raw, dict):
        raise _fail(doc, ("aliases",), "aliases: a mapping of spelling -> rating is required")
    aliases: dict[str, str] = {}
    for k, v in aliases_raw.items():
        if not isinstance(v, str) or v.lower() not in wins:
            raise _fail(doc, ("aliases", k), f"aliases.{k}: {v!r} is not a rating in windows ({', '.join(sorted(wins))})")
        aliases[str(k).lower()] = v.lower()
    if "default" in d:
        raise _fail(
            doc, ("default",), "default: replaced by 'unrated: <rating>' (the rating, and so the window, of an unrated weakness)"
        )
    unrated = str(d.get("unrated", max(wins, key=lambda r: (-wins[r], r)))).lower()
    unrated = aliases.get(unrated, unrated)
    if unrated not in wins:
        raise _fail(doc, ("unrated",), f"unrated: {d.get('unrated')!r} is not a rating in windows ({', '.join(sorted(wins))})")
    checkin = _days(doc, ("vendor_checkin_days",), d.get("vendor_checkin_days", 30))
    return RemediationPolicy(d["name"].strip(), " ".join(d["source"].split()), wins, aliases, unrated, checkin)


def default_policy() -> RemediationPolicy:
    """The shipped policy (FedRAMP continuous-monitoring windows)."""
    return load_policy(DEFAULT_POLICY_FILE)


@dataclass(frozen=True)
class KevCatalog:
    """CVE id (upper case) -> the catalogue's due date (``YYYY-MM-DD``)."""

    name: str
    due: dict[str, str]

    def match(self, texts: Iterable[str | None]) -> list[str]:
        """The catalogue's CVE ids named in ``texts``, sorted."""
        return sorted({m.upper() for t in texts if t for m in _CVE.findall(t)} & self.due.keys())


def load_kev(path: Path) -> KevCatalog:
    """Read a CISA KEV catalogue JSON (``vulnerabilities``: objects with ``cveID`` and ``dueDate``)."""
    try:
        d = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg}", path=path, line=exc.lineno) from None
    vulns = d.get("vulnerabilities") if isinstance(d, dict) else None
    if not isinstance(vulns, list):
        raise InputError("not a CISA KEV catalogue: no top-level 'vulnerabilities' list", path=path, pointer="/vulnerabilities")
    due: dict[str, str] = {}
    for i, v in enumerate(vulns):
        cve = v.get("cveID") if isinstance(v, dict) else None
        date = v.get("dueDate") if isinstance(v, dict) else None
        if not isinstance(cve, str) or not _CVE.fullmatch(cve.strip()):
            raise InputError(f"cveID {cve!r} is not a CVE id", path=path, pointer=f"/vulnerabilities/{i}/cveID")
        if not isinstance(date, str) or not _DATE.match(date):
            raise InputError(f"dueDate {date!r} is not YYYY-MM-DD", path=path, pointer=f"/vulnerabilities/{i}/dueDate")
        key = cve.strip().upper()
        due[key] = min(date, due.get(key, date))
    version = d.get("catalogVersion")
    return KevCatalog(f"CISA KEV {version}" if isinstance(version, str) else "CISA KEV", due)
