"""The format registry: every module in this package that defines ``FORMAT`` is a supported format.

A format is one small object (the :class:`Format` protocol): ``name``, ``title``, ``priority`` (lower
is tried first), ``detect(head, sniff)`` deciding from content only, and ``parse(path, ctx)`` yielding
:class:`~compliance.evidence.model.Finding` records. Adding a format is adding one module.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from compliance.evidence.model import Finding
from compliance.evidence.parsing import ParseContext, Sniff


@runtime_checkable
class Format(Protocol):
    name: str
    title: str
    priority: int

    def detect(self, head: bytes, sniff: Sniff) -> bool: ...

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]: ...


def registry() -> list[Format]:
    """Every format, in detection order (priority, then name)."""
    found: list[Format] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        fmt = getattr(module, "FORMAT", None)
        if fmt is not None:
            found.append(fmt)
    return sorted(found, key=lambda f: (f.priority, f.name))


#: How sure an ingest is that a file of a format was whole (see :func:`completeness`).
VERIFIED, WHOLE, UNVERIFIED = "verified", "whole-document", "unverified-complete"


def completeness(fmt: Format | str | None, found: str | None = None) -> str:
    """How a file of format ``name`` is known to be complete: ``verified`` (it states its own totals, which
    were checked), ``whole-document`` (a JSON, XML or YAML document cut short does not parse) or
    ``unverified-complete`` (nothing tells a cut at a record boundary from a shorter scan, e.g. CSV).

    ``fmt`` is the format (or its name); ``found`` what the parse of the file decided
    (``ParseContext.completeness``: a JUnit report whose suites state no ``tests=`` is only whole-document).
    Without it, the format's ``completeness`` attribute (the default ``whole-document``). The ingest stores
    the answer per file; a file ingested before sckb stored it is shown with its format's."""
    if found in (VERIFIED, WHOLE, UNVERIFIED):
        return found
    if isinstance(fmt, str):
        fmt = by_name(fmt)
    value = getattr(fmt, "completeness", WHOLE) if fmt is not None else WHOLE
    return value if value in (VERIFIED, WHOLE, UNVERIFIED) else WHOLE


#: Other tools' JSON that sckb does not read, known by keys only they write together (dotted paths as the sniff
#: sees them), so that such a file is refused naming the tool and what to run instead: (tool, keys, advice).
UNREAD: tuple[tuple[str, frozenset[str], str], ...] = (
    ("npm audit JSON (npm 7 and later)", frozenset({"auditReportVersion", "vulnerabilities"}),
     "scan the lockfile with osv-scanner or trivy instead"),
    ("npm audit JSON (npm 6)", frozenset({"advisories", "actions"}), "scan the lockfile with osv-scanner or trivy instead"),
    ("grype JSON", frozenset({"matches", "descriptor"}), "run grype with -o sarif or -o cyclonedx-json"),
    ("syft JSON (an SBOM, no vulnerabilities)", frozenset({"artifacts", "artifactRelationships"}),
     "scan the SBOM for vulnerabilities (grype -o sarif, trivy sbom -f json)"),
    ("Snyk JSON", frozenset({"vulnerabilities", "ok", "dependencyCount"}), "run snyk test with --sarif"),
    ("Snyk JSON (--all-projects)", frozenset({"item.vulnerabilities", "item.ok", "item.dependencyCount"}),
     "run snyk test with --sarif"),
)  # fmt: skip


def unread(sniff: Sniff) -> str | None:
    """Why a file no format recognised is not read, when it is another tool's JSON sckb knows of (else None)."""
    for tool, keys, advice in UNREAD:
        if keys <= sniff.keys:
            return f"{tool} is not a format sckb reads: {advice} (or use --format)"
    return None


def by_name(name: str) -> Format | None:
    return next((f for f in registry() if f.name == name), None)


def detect(head: bytes, sniff: Sniff, formats: list[Format] | None = None) -> Format | None:
    for fmt in formats if formats is not None else registry():
        if fmt.detect(head, sniff):
            return fmt
    return None
