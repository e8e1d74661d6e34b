"""The evidence store: the one owner of the workspace database (every byte of SQL is in this package).

:class:`Store` is the engine-neutral interface every stage uses (:mod:`.base`); :meth:`Store.open` opens the
default engine, SQLite (:mod:`.sqlite`), or the engine of the store URL in ``SCKB_STORE`` (``--store``):
PostgreSQL (:mod:`.postgres`), a team store many ingesters write at once.

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
    register_url_engine,
    row_digest,
    set_default_engine,
    store_url,
    url_engine,
)
from compliance.evidence.store.sqlite import DB_NAME, SQLiteStore

set_default_engine(SQLiteStore)


def _postgres() -> type[Store]:
    from compliance.evidence.store.postgres import PostgresStore  # psycopg is imported only for a team store

    return PostgresStore


register_url_engine("postgresql", _postgres)
register_url_engine("postgres", _postgres)

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
    "store_url",
    "url_engine",
]
