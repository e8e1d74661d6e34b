"""Whole-graph export for other tools: JSON, GraphML and CSV.

The contract (documented in the README): every node has ``id``, ``kind`` and
``title``; every edge has ``from``, ``to`` and ``kind``; every mapping edge also has
``relationship``, ``rationale`` and ``source``. Output is sorted, so the same KB
gives byte-identical files.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import orjson

from compliance.kb.graph import node_attrs
from compliance.kb.load import KB
from compliance.kb.model import MAPPING_EDGES

EXPORT_FORMATS = ("json", "graphml", "csv")
NODE_COLUMNS = ("id", "kind", "title")
EDGE_COLUMNS = ("from", "to", "kind", "relationship", "rationale", "source")


def nodes_table(kb: KB) -> list[dict[str, Any]]:
    return [{"id": n, **node_attrs(kb, n)} for n in sorted(kb.nodes)]


def edges_table(kb: KB) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(kb.edges):
        e = kb.edges[key]
        if e.source not in kb.nodes or e.target not in kb.nodes:
            continue
        row: dict[str, Any] = {"from": e.source, "to": e.target, "kind": e.kind.value}
        if e.kind in MAPPING_EDGES or e.relationship or e.rationale or e.ref:
            row.update(relationship=e.relationship, rationale=e.rationale, source=e.ref)
        rows.append(row)
    return rows


def to_json(kb: KB) -> bytes:
    doc = {"schema": "sckb-graph/1", "nodes": nodes_table(kb), "edges": edges_table(kb)}
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def to_graphml(kb: KB) -> bytes:
    import networkx as nx

    g = nx.DiGraph()
    for row in nodes_table(kb):
        g.add_node(row["id"], **{k: _gml(v) for k, v in row.items() if k != "id" and v is not None})
        g.nodes[row["id"]]["id"] = row["id"]
    for row in edges_table(kb):
        g.add_edge(row["from"], row["to"], **{k: _gml(v) for k, v in row.items() if k not in ("from", "to") and v is not None})
    buf = io.BytesIO()
    nx.write_graphml(g, buf, encoding="utf-8", prettyprint=True)
    return buf.getvalue()


def _gml(v: Any) -> Any:
    return v if isinstance(v, (str, int, float, bool)) else str(v)


def to_csv(kb: KB) -> dict[str, bytes]:
    """Two files: ``nodes.csv`` (id, kind, title, then other attributes) and ``edges.csv``."""
    nodes = nodes_table(kb)
    extra = sorted({k for row in nodes for k in row} - set(NODE_COLUMNS))
    out: dict[str, bytes] = {}
    for name, rows, cols in (("nodes.csv", nodes, [*NODE_COLUMNS, *extra]), ("edges.csv", edges_table(kb), list(EDGE_COLUMNS))):
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow({k: ("" if row.get(k) is None else row[k]) for k in cols})
        out[name] = buf.getvalue().encode("utf-8")
    return out


def export(kb: KB, fmt: str, out: Path | None) -> list[Path] | bytes:
    """Write the export; returns the written paths, or the bytes when ``out`` is None (json/graphml)."""
    if fmt == "csv":
        files = to_csv(kb)
        if out is None:
            raise ValueError("csv export needs an output directory")
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, data in files.items():
            (out / name).write_bytes(data)
            written.append(out / name)
        return written
    data = to_json(kb) if fmt == "json" else to_graphml(kb)
    if out is None:
        return data
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return [out]
