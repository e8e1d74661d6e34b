"""Evidence as Parquet (``sckb evidence export --format parquet``), for engines that scale further than one
store: DuckDB on one machine, Spark or Trino across many.

Three files, the same from either store engine (the schema is :data:`SCHEMAS`, documented in the README):

``files.parquet``         one row per ingested evidence file, in ingest order
``observations.parquet``  one row per finding as a file stated it (``file_id`` is ``files.id``), in store order
``findings.parquet``      one row per finding identity with its latest observation's fields and its status
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import astuple, fields
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from compliance.errors import StoreError
from compliance.evidence.model import OBSERVATION_FIELDS, EvidenceFile, StoredFinding
from compliance.evidence.store import Store

_S, _I = pa.string(), pa.int64()
_LIST = pa.list_(pa.string())
#: Columns whose value is an integer (every other is text, ``*_list`` a list of text).
_INTS = {"line", "bytes", "findings", "failed", "passed", "other", "mapped", "observations", "id", "file_id"}
_LISTS = {"cwes", "targets", "mitigations", "controls"}


def _field(name: str) -> pa.Field:
    kind = _I if name in _INTS else _LIST if name in _LISTS else _S
    return pa.field(name, kind)


#: The schema of each file (column, Arrow type).
SCHEMAS: dict[str, pa.Schema] = {
    "files": pa.schema([_field("id"), *(_field(f.name) for f in fields(EvidenceFile))]),
    "observations": pa.schema([_field("id"), _field("file_id"), *(_field(n) for n in OBSERVATION_FIELDS), _field("digest")]),
    "findings": pa.schema([_field(f.name) for f in fields(StoredFinding)]),
}
_BATCH = 65536


def _batches(schema: pa.Schema, rows: Iterator[tuple[Any, ...]]) -> Iterator[pa.RecordBatch]:
    buf: list[tuple[Any, ...]] = []
    names = schema.names

    def flush() -> pa.RecordBatch:
        cols = list(zip(*buf, strict=True)) if buf else [() for _ in names]
        return pa.RecordBatch.from_arrays(
            [pa.array(list(c), type=schema.field(i).type) for i, c in enumerate(cols)], schema=schema
        )

    for row in rows:
        buf.append(row)
        if len(buf) >= _BATCH:
            yield flush()
            buf.clear()
    if buf:
        yield flush()


def _write(path: Path, schema: pa.Schema, rows: Iterator[tuple[Any, ...]], progress: Callable[[int], None] | None) -> int:
    n = 0
    tmp = path.with_name(path.name + ".part")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for batch in _batches(schema, rows):
            writer.write_batch(batch)
            n += batch.num_rows
            if progress is not None:
                progress(batch.num_rows)
    tmp.replace(path)  # a reader never sees half a file
    return n


def _split_lists(row: tuple[Any, ...], names: list[str]) -> tuple[Any, ...]:
    return tuple(
        (list(v) if isinstance(v, tuple) else (v.split() if v else [])) if n in _LISTS else v
        for n, v in zip(names, row, strict=True)
    )


def export_parquet(store: Store, out: Path, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write ``files``, ``observations`` and ``findings`` as Parquet into ``out``; rows per file."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{out}: cannot create the folder: {exc.strerror}") from None
    counts: dict[str, int] = {}
    files = store.files()
    counts["files"] = _write(
        out / "files.parquet", SCHEMAS["files"], ((i, *astuple(f)) for i, f in enumerate(files, 1)), progress
    )
    obs_names = SCHEMAS["observations"].names
    counts["observations"] = _write(
        out / "observations.parquet",
        SCHEMAS["observations"],
        (_split_lists(tuple(r), obs_names) for r in store.observation_rows()),
        progress,
    )
    find_names = SCHEMAS["findings"].names
    counts["findings"] = _write(
        out / "findings.parquet",
        SCHEMAS["findings"],
        (_split_lists(tuple(getattr(f, n) for n in find_names), find_names) for f in store.findings()),
        progress,
    )
    return counts
