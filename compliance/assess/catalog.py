"""Control statements stored by ``sckb catalog import``, read back for the report and anything else
that shows them.

The reader lives in ``assess`` rather than with the OSCAL importer (:mod:`compliance.oscal.catalog`), so
that the report reads statements without importing ``oscal``.
"""

from __future__ import annotations

from pathlib import Path

from compliance.errors import NotFoundError
from compliance.evidence.store import Store


def statements(workspace: Path) -> dict[str, str]:
    """control id -> statement text from the workspace (empty when no catalog was imported). Reads only:
    a workspace without a store stays without one."""
    try:
        with Store.open(workspace, read_only=True) as store:
            return store.statements()
    except NotFoundError:
        return {}
