"""Evidence as Parquet (``sckb evidence export --format parquet``), for engines that scale further than one
store: DuckDB on one machine, Spark or Trino across many.

Three files, the same from either store engine (the schema is :data:`SCHEMAS`, documented in the README):

``files.parquet``         one row per ingested evidence file, in ingest order
``observations.parquet``  one row per finding as a file stated it (``file_id`` is ``files.id``), in store order
``findings.parquet``      one row per finding identity with its latest observation's fields and its status, in
                          identity order
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from compliance.errors import StoreError
from compliance.evidence.model import OBSERVATION_FIELDS, EvidenceFile, StoredFinding
from compliance.evidence.store import Store
from compliance.evidence.store.transfer import export_csv, export_rows, snapshot

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
#: Rows per read from SQLite (and so per Parquet row group).
_BATCH = 65536
#: Bytes of CSV parsed at once when the server sends the rows as CSV (PostgreSQL), in blocks of _CSV_PART per thread.
_CSV_BLOCK = 32 << 20
_CSV_PART = 2 << 20


def _raw(schema: pa.Schema) -> pa.Schema:
    """``schema`` as the store gives it: list columns are space-separated text."""
    return pa.schema([pa.field(f.name, _S if f.name in _LISTS else f.type) for f in schema])


def _lists(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Space-separated text as lists (``" a b "`` -> ``["a", "b"]``; empty or null -> ``[]``), column at a time."""
    if isinstance(text, pa.ChunkedArray):
        return pa.chunked_array([_lists(c) for c in text.chunks], type=_LIST)
    trimmed = pc.utf8_trim_whitespace(text)
    split = pc.utf8_split_whitespace(pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, _S), trimmed))
    # a null splits into a null of no items: the same offsets without the nulls are the empty lists
    return pa.ListArray.from_arrays(split.offsets, split.values)


def _finish(table: pa.Table, schema: pa.Schema) -> pa.Table:
    cols = [_lists(table.column(i)) if f.name in _LISTS else table.column(i) for i, f in enumerate(schema)]
    return pa.Table.from_arrays(cols, schema=schema)


def _from_rows(chunks: Iterator[list[tuple[Any, ...]]], schema: pa.Schema) -> Iterator[pa.Table]:
    """Row chunks (SQLite) as tables: one column at a time, never a Python loop per row."""
    raw = _raw(schema)
    for chunk in chunks:
        cols = [pa.array(c, type=f.type) for c, f in zip(zip(*chunk, strict=True), raw, strict=True)]
        yield _finish(pa.Table.from_arrays(cols, schema=raw), schema)


def _from_csv(chunks: Iterator[bytes], schema: pa.Schema) -> Iterator[pa.Table]:
    """The server's CSV (PostgreSQL ``COPY``) as tables, parsed by pyarrow on every core: a null is an empty field, an
    empty text ``""``. The server sends one row per chunk (its COPY protocol does), so a block of whole chunks is a
    block of whole rows."""
    raw = _raw(schema)
    read = pcsv.ReadOptions(column_names=raw.names, block_size=_CSV_PART)
    # a value with a line break in it (quoted) makes the parser slower: asked for only by a block that has one
    lines, broken = pcsv.ParseOptions(newlines_in_values=False), pcsv.ParseOptions(newlines_in_values=True)
    convert = pcsv.ConvertOptions(column_types=raw, null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False)
    block: list[bytes] = []
    size = 0
    for chunk in itertools.chain(chunks, [b""]):
        if chunk:
            block.append(chunk)
            size += len(chunk)
        if size >= _CSV_BLOCK or (not chunk and block):
            data = b"".join(block)
            parse = lines if data.count(b"\n") == len(block) and b"\r" not in data else broken
            table = pcsv.read_csv(io.BytesIO(data), read_options=read, parse_options=parse, convert_options=convert)
            block, size = [], 0
            yield _finish(table, schema)


def _write(path: Path, schema: pa.Schema, tables: Iterator[pa.Table], progress: Callable[[int], None] | None) -> int:
    """Write the tables as one Parquet file (a row group each, as big as the tables come), atomically."""
    n = 0
    tmp = path.with_name(path.name + ".part")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for table in tables:
            writer.write_table(table, row_group_size=max(1, table.num_rows))
            n += table.num_rows
            if progress is not None:
                progress(table.num_rows)
    tmp.replace(path)  # a reader never sees half a file
    return n


def export_parquet(store: Store, out: Path, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write ``files``, ``observations`` and ``findings`` as Parquet into ``out``; rows per file. The rows are read
    in bulk (PostgreSQL sends CSV that pyarrow parses; SQLite's rows are turned into columns a chunk at a time) from
    one snapshot of the store; from PostgreSQL the findings come on a second connection at the same time."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{out}: cannot create the folder: {exc.strerror}") from None
    counts: dict[str, int] = {}

    def one(reader: Store, name: str) -> None:
        schema = SCHEMAS[name]
        csv = export_csv(reader, name)
        batches = _from_rows(export_rows(reader, name, _BATCH), schema) if csv is None else _from_csv(csv, schema)
        counts[name] = _write(out / f"{name}.parquet", schema, batches, progress)

    with snapshot(store, readers=2) as readers:
        if len(readers) == 1:
            for name in SCHEMAS:
                one(store, name)
        else:  # the findings (a join: the server's heaviest part) on a second connection, meanwhile the rest here
            with ThreadPoolExecutor(max_workers=1) as pool:
                findings = pool.submit(one, readers[1], "findings")
                for name in SCHEMAS:
                    if name != "findings":
                        one(readers[0], name)
                findings.result()
    return {name: counts[name] for name in SCHEMAS}
