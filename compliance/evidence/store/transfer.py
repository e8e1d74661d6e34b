"""Moving a whole store between engines (``sckb store copy``), creating or upgrading one (``sckb store migrate``), and
reading its rows in bulk for the Parquet export (:mod:`compliance.evidence.parquet`).

Both engines keep the same tables with the same columns (:data:`compliance.evidence.store.postgres.TABLES`), so a
copy moves every row unchanged (ids, digests and the hash chain included): ``verify`` passes on the copy and an
assessment of it gives the same results. The locker files the rows name are copied too, when the target's locker
is another folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

from compliance.errors import StoreError
from compliance.evidence.model import EvidenceFile
from compliance.evidence.store.base import OBS_COLUMNS, SCHEMA_VERSION, Store

#: Rows moved per round trip.
_CHUNK = 5000


def is_url(location: str) -> bool:
    return "://" in location


def open_location(
    location: str,
    *,
    workspace: Path,
    locker: Path | None = None,
    create: bool = False,
    read_only: bool = False,
    check: bool = True,
) -> Store:
    """The store at ``location``: a ``postgresql://`` URL (its locker: ``locker``, else ``<workspace>/locker``) or a
    workspace folder (SQLite). Without ``check``, a PostgreSQL store's tables are left for :func:`migrate`."""
    if is_url(location):
        from compliance.evidence.store.base import url_engine
        from compliance.evidence.store.postgres import PostgresStore

        engine = url_engine(location)
        if not issubclass(engine, PostgresStore):
            raise StoreError(f"{location.split('://')[0]}: this kind of store cannot be copied")
        return engine.open_url(location, workspace, locker=locker, create=create, read_only=read_only, check=check)
    from compliance.evidence.store.sqlite import SQLiteStore

    return SQLiteStore.open(Path(location), create=create, read_only=read_only)


def migrate(store: Store) -> tuple[str | None, str]:
    """Create the store's tables or bring them up to date: (schema version before, after)."""
    from compliance.evidence.store.postgres import PostgresStore
    from compliance.evidence.store.sqlite import SQLiteStore

    if isinstance(store, PostgresStore):
        return store.migrate()
    # SQLite makes, checks and upgrades its layout when it is opened for writing (a schema 1 store is refused)
    return (store.schema_before if isinstance(store, SQLiteStore) else str(SCHEMA_VERSION)), str(SCHEMA_VERSION)


def _sqlite_schema(conn: sqlite3.Connection) -> None:
    from compliance.evidence.store import sqlite as eng

    for script in (eng._ASSESS_SCHEMA, eng._DETERMINATIONS_SCHEMA, eng._TRIAGE_SCHEMA, eng._SYSTEMS_SCHEMA):
        conn.executescript(script)


def _read(store: Store, table: str, order: str) -> Iterator[list[tuple[Any, ...]]]:
    from compliance.evidence.store.postgres import PostgresStore
    from compliance.evidence.store.sqlite import SQLiteStore

    sql = f"SELECT * FROM {table} ORDER BY {order}"
    if isinstance(store, SQLiteStore) and table == "files" and store.completeness_sql == "NULL":
        sql = f"SELECT *, NULL FROM {table} ORDER BY {order}"  # a schema 2 store read as it is: no completeness
    if isinstance(store, SQLiteStore):
        try:
            cur = store.conn.execute(sql)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # made when first needed: nothing of that kind was stored
                return
            raise StoreError(f"{store.workspace}: cannot read {table}: {exc}") from None
        while chunk := cur.fetchmany(_CHUNK):
            yield chunk
    elif isinstance(store, PostgresStore):
        with store.conn.transaction(), store.conn.cursor(name=f"sckb_copy_{table}") as pcur:
            pcur.itersize = _CHUNK
            pcur.execute(sql)
            while pchunk := pcur.fetchmany(_CHUNK):
                yield pchunk
    else:
        raise StoreError(f"{type(store).__name__}: this kind of store cannot be copied")


def _empty(store: Store) -> bool:
    return (
        not store.files()
        and not store.assessments()
        and not store.systems()
        and not store.determinations()
        and not store.triage()
    )


def copy_store(src: Store, dst: Store, on_rows: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Copy every row of ``src`` into the empty store ``dst`` in one transaction, then the locker files it names;
    rows per table."""
    from compliance.evidence.store.postgres import TABLES, PostgresStore
    from compliance.evidence.store.sqlite import SQLiteStore

    if not _empty(dst):
        raise StoreError("the target store is not empty: copy into a new workspace or an empty database")
    counts: dict[str, int] = {}
    tables = [(t, o) for t, o in TABLES if t != "meta"]  # the target records its own schema version
    if isinstance(dst, SQLiteStore):
        conn = dst.conn
        _sqlite_schema(conn)
        try:
            conn.execute("BEGIN IMMEDIATE")
            for table, order in tables:
                n = 0
                for chunk in _read(src, table, order):
                    marks = ",".join("?" * len(chunk[0]))
                    conn.executemany(f"INSERT INTO {table} VALUES ({marks})", [tuple(_plain(v) for v in r) for r in chunk])
                    n += len(chunk)
                    if on_rows is not None:
                        on_rows(table, len(chunk))
                counts[table] = n
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    elif isinstance(dst, PostgresStore):
        import psycopg

        try:
            with dst.conn.transaction(), dst.conn.cursor() as cur:
                for table, order in tables:
                    n = 0
                    with cur.copy(f"COPY {table} FROM STDIN") as copy:
                        for chunk in _read(src, table, order):
                            for row in chunk:
                                copy.write_row(row)
                            n += len(chunk)
                            if on_rows is not None:
                                on_rows(table, len(chunk))
                    counts[table] = n
        except psycopg.Error as exc:
            raise StoreError(f"{dst.where}: cannot copy into the store: {exc}") from None
    else:
        raise StoreError(f"{type(dst).__name__}: this kind of store cannot be copied into")
    counts["locker"] = _copy_locker(src, dst)
    return counts


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def _copy_locker(src: Store, dst: Store) -> int:
    """Copy the locker files ``src``'s rows name that ``dst``'s locker lacks; how many."""
    n = 0
    for sha in sorted(src.locker_names()):
        source, target = src.locker_path(sha), dst.locker_path(sha)
        if target.exists() or not source.is_file():
            continue  # a missing source copy is verify's to report on the target too
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{sha}.{os.getpid()}.part")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        n += 1
    return n


# ---------------------------------------------------------------------------------------------------- export reading
_FINDING_SQL = (
    "SELECT i.identity, "
    + ", ".join("o." + c for c in OBS_COLUMNS[1:])
    + ", i.first_seen, i.last_seen, i.status, f.sha256, i.mitigations, i.controls, i.mapped_by, i.seen"
    " FROM identities i JOIN observations o ON o.id = i.latest JOIN files f ON f.id = o.file_id"
)
#: The rows of each file of the Parquet export, as one query over the tables: the same on both engines, in the same
#: order (findings by identity: the primary key's order, so neither engine sorts a million rows). List columns come
#: out as the stored space-separated text.
EXPORT_SQL: dict[str, str] = {
    "files": "SELECT id, " + ", ".join(f.name for f in fields(EvidenceFile)) + " FROM files ORDER BY id",
    "observations": "SELECT id, file_id, " + ", ".join(OBS_COLUMNS) + ", digest FROM observations ORDER BY id",
    "findings": _FINDING_SQL + " ORDER BY i.identity",
}


@contextlib.contextmanager
def snapshot(store: Store, readers: int = 1) -> Iterator[list[Store]]:
    """One read transaction around the export's queries, so its files agree with each other while ingests go on:
    up to ``readers`` stores to read it from (PostgreSQL: more connections, each importing the first one's snapshot,
    so files can be read at once; SQLite: the one store)."""
    from compliance.evidence.store.postgres import PostgresStore
    from compliance.evidence.store.sqlite import SQLiteStore

    if isinstance(store, PostgresStore):
        import psycopg

        try:
            with store.conn.transaction(), contextlib.ExitStack() as more:
                _read_only(store.conn)
                extra: list[Store] = []
                if readers > 1:
                    row = store.conn.execute("SELECT pg_export_snapshot()").fetchone()
                    snap = str(row[0]) if row else ""
                    if not re.fullmatch(r"[0-9A-F-]+", snap):
                        raise StoreError(f"{store.where}: unexpected snapshot name {snap!r}")
                    for _ in range(readers - 1):
                        other = more.enter_context(
                            PostgresStore.open_url(store.url, store.workspace, locker=store.locker, read_only=True)
                        )
                        more.enter_context(other.conn.transaction())
                        _read_only(other.conn)
                        other.conn.execute(f"SET TRANSACTION SNAPSHOT '{snap}'")
                        extra.append(other)
                yield [store, *extra]
        except psycopg.Error as exc:
            raise StoreError(f"{store.where}: cannot read the evidence store: {exc}") from None
    elif isinstance(store, SQLiteStore) and not store.conn.in_transaction:
        store.conn.execute("BEGIN")
        try:
            yield [store]
        finally:
            store.conn.execute("COMMIT")  # nothing was written: this only ends the read
    else:
        yield [store]


def _read_only(conn: Any) -> None:
    """The start of a transaction that reads a whole table or two at once."""
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    # compiling the queries costs more than it saves on one pass; the findings' join sorts in memory
    conn.execute("SET LOCAL jit = off")
    conn.execute("SET LOCAL work_mem = '128MB'")


def export_rows(store: Store, name: str, size: int) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of export file ``name`` (:data:`EXPORT_SQL`), ``size`` at a time, from a store that cannot send them
    as CSV (:func:`export_csv`): SQLite."""
    from compliance.evidence.store.sqlite import SQLiteStore

    if not isinstance(store, SQLiteStore):
        raise StoreError(f"{type(store).__name__}: this kind of store cannot be exported")
    try:
        cur = store.conn.execute(EXPORT_SQL[name])
        while chunk := cur.fetchmany(size):
            yield chunk
    except sqlite3.Error as exc:
        raise StoreError(f"{store.workspace}: cannot read the evidence store: {exc}") from None


def export_csv(store: Store, name: str) -> Iterator[bytes] | None:
    """The rows of export file ``name`` as CSV straight from the server (``COPY ... TO STDOUT``: no row passes
    through Python; a null is an empty field, an empty text ``""``), or None when the engine cannot: then
    :func:`export_rows`."""
    from compliance.evidence.store.postgres import PostgresStore

    if not isinstance(store, PostgresStore):
        return None
    return _pg_csv(store, name)


def _pg_csv(store: Any, name: str) -> Iterator[bytes]:
    import psycopg

    try:
        with store.conn.cursor().copy(f"COPY ({EXPORT_SQL[name]}) TO STDOUT (FORMAT csv)") as copy:
            for data in copy:
                yield bytes(data)
    except psycopg.Error as exc:
        raise StoreError(f"{store.where}: cannot read the evidence store: {exc}") from None
