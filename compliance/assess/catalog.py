"""Control statements stored by ``sckb catalog import`` (table ``assess_catalog``), read back for the
report and anything else that shows them.

The reader lives here, beside the table (:mod:`compliance.assess.db`), rather than with the OSCAL
importer (:mod:`compliance.oscal.catalog`), so that the report reads statements without importing
``oscal``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from compliance.evidence.store import DB_NAME


def statements(workspace: Path) -> dict[str, str]:
    """control id -> statement text from the workspace (empty when no catalog was imported)."""
    db = workspace / DB_NAME
    if not db.is_file():
        return {}
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT control_id, statement FROM assess_catalog").fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return {}
    return dict(rows)
