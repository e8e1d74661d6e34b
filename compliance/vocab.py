"""Small shared vocabularies every stage uses: severities and the one timestamp format.

This module is below every stage (it imports nothing from ``compliance``), like ``errors`` and ``paths``.
"""

from __future__ import annotations

from datetime import UTC, datetime

#: Normalised finding and risk severities, worst first.
SEVERITIES = ("critical", "high", "medium", "low", "info")

#: Severity words other tools use for the same levels (FedRAMP and some scanners say "moderate").
_ALIASES = {"moderate": "medium"}

#: Worst first: critical 0 ... info 4; anything else (none, unknown) sorts after info.
_ORDER = {s: i for i, s in enumerate(SEVERITIES)}
UNKNOWN_ORDER = len(SEVERITIES)


def severity_order(severity: str | None) -> int:
    """Sort key, worst first: 0 for critical, 4 for info, 5 for a missing or unknown severity."""
    s = (severity or "").lower()
    return _ORDER.get(_ALIASES.get(s, s), UNKNOWN_ORDER)


def worst_severity(severities: list[str]) -> str:
    """The worst of several severities (as given; the first of equals)."""
    return min(severities, key=severity_order)


def iso(dt: datetime) -> str:
    """UTC ISO 8601 with a Z, seconds precision: the one timestamp format sckb writes."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: Prefix of a POA&M item's id (the FedRAMP template's "POAM ID"; the OSCAL POA&M's FedRAMP ``POAM-ID`` prop).
POAM_ID_PREFIX = "SCKB-"


def poam_id(rule: str) -> str:
    """The one POA&M item id of a rule (``tool:rule_id``): the same in every assessment and every output (the
    spreadsheet, the OSCAL POA&M, the PDF and the site), since sckb keeps one POA&M item per rule."""
    return POAM_ID_PREFIX + rule


#: The kinds of triage decision about findings (see :mod:`compliance.evidence.triage`), in the order the FedRAMP
#: POA&M template's columns name them. Here so that the command line can offer them without importing the store.
TRIAGE_KINDS = (
    "false-positive",
    "risk-adjustment",
    "operational-requirement",
    "risk-acceptance",
    "vendor-dependency",
    "remediation-plan",
)
