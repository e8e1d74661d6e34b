"""The evidence store: the one owner of the workspace database (every byte of SQL is in this package).

:class:`Store` is the engine-neutral interface every stage uses (:mod:`.base`); :meth:`Store.open` opens the
default engine, SQLite (:mod:`.sqlite`, the only one so far; a PostgreSQL engine would implement the same
interface).

>>> with Store.open(Path(".sckb")) as store:          # doctest: +SKIP
...     for f in store.findings(status="open"):
...         print(f.tool, f.rule_id, f.mitigations)
"""

from __future__ import annotations

from compliance.evidence.store.base import (
    FILE_COLUMNS,
    GENESIS,
    OBS_COLUMNS,
    SCHEMA_VERSION,
    WITHDRAWN,
    AssessmentBlob,
    AssessmentRow,
    Batch,
    DeterminationRecord,
    EngineError,
    FailingRow,
    FileWrite,
    GroupRow,
    GroupScan,
    HistoryEntry,
    IdentityRow,
    NewFile,
    ObsRow,
    SlotCodes,
    Store,
    SubjectFilter,
    SystemRow,
    TriageRecord,
    VerifyProblem,
    chain_digest,
    hash_file,
    row_digest,
    set_default_engine,
)
from compliance.evidence.store.sqlite import DB_NAME, SQLiteStore

set_default_engine(SQLiteStore)

__all__ = [
    "DB_NAME",
    "FILE_COLUMNS",
    "GENESIS",
    "OBS_COLUMNS",
    "SCHEMA_VERSION",
    "WITHDRAWN",
    "AssessmentBlob",
    "AssessmentRow",
    "Batch",
    "DeterminationRecord",
    "EngineError",
    "FailingRow",
    "FileWrite",
    "GroupRow",
    "GroupScan",
    "HistoryEntry",
    "IdentityRow",
    "NewFile",
    "ObsRow",
    "SQLiteStore",
    "SlotCodes",
    "Store",
    "SubjectFilter",
    "SystemRow",
    "TriageRecord",
    "VerifyProblem",
    "chain_digest",
    "hash_file",
    "row_digest",
]
