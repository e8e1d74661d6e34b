"""The KB's curated links as an OSCAL 1.2 mapping collection (``sckb kb export --format oscal-mapping``).

Shape (field names and required fields of the OSCAL 1.2 control mapping model, as compliance-trestle 5's
``trestle.oscal.mapping`` generates it from NIST's schema):

- one back-matter ``resource`` per catalogue the links run between: the KB's framework key of an item
  (:func:`compliance.kb.rigor.framework_key`: node kind, split by framework, risk taxonomy or strategy
  publication). Framework items take title and source from the KB's ``frameworks`` records; the other
  catalogues are described in ``data/mapping-resources.yaml``. Nothing here names a framework;
- one ``mapping`` per (source catalogue, target catalogue) pair of the graph's mapping edges
  (:data:`compliance.kb.model.MAPPING_EDGES`), its ``source-resource`` and ``target-resource`` pointing to
  those resources (``type: catalog``, ``href: #<resource uuid>``);
- one ``map`` per link, in the graph's direction (source -> target, as ``kb export`` writes json and csv):
  ``relationship`` is the edge's NIST IR 8477 type, which the loader stores read *source REL target*, in OSCAL's
  spelling (:data:`OSCAL_RELATIONSHIP`; IR 8477's ``equal``, sameness of meaning, is OSCAL's ``equivalent-to``).
  A link declared on the edge's target (a mitigation's ``risks:`` and ``strategies:``) reads the other way in
  YAML; its map keeps that declared reading in a prop. ``confidence-score`` carries the link's
  ``high``/``medium``/``low`` as the model's category, ``remarks`` its rationale, props its kind and its source
  document, and the target item of a mitigation -> control link one prop per statement part it covers.

Every item is ``type: control`` (the model's closed list is control / statement); the resource says what kind
of item it holds. Links that state no relationship (older, bare risk links) cannot be a map and are left out
(:attr:`MappingExport.skipped`).

Determinism: UUIDs are version 5 (:func:`compliance.oscal.build.uid`) of a per-subject key (resource, mapping
pair, link), so they stay the same across revisions; the collection's own UUID and ``metadata.version`` come
from a digest of the content, so they change when a link does; ``last-modified`` is the caller's clock
(``--now``), or :data:`FIXED_LAST_MODIFIED` without one. Keys are sorted: the same KB gives a byte-identical file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field

from compliance import __version__
from compliance.errors import InputError
from compliance.kb.core import KB, oscal_id
from compliance.kb.entries import EdgeEntry
from compliance.kb.model import MAPPING_EDGES, Relationship
from compliance.kb.rigor import framework_key
from compliance.oscal.build import NS, uid

#: The model's version this document follows (trestle 5 reads 1.2.0 and 1.2.1).
OSCAL_MAPPING_VERSION = "1.2.0"
#: ``last-modified`` when no clock is given: the file then depends on the KB alone.
FIXED_LAST_MODIFIED = "1970-01-01T00:00:00Z"
#: The catalogue descriptions shipped with sckb.
RESOURCES_FILE = Path(__file__).parent / "data" / "mapping-resources.yaml"

#: NIST IR 8477 relationship (as the KB states it) -> the OSCAL mapping model's token.
OSCAL_RELATIONSHIP: dict[Relationship, str] = {
    Relationship.EQUAL: "equivalent-to",
    Relationship.SUBSET_OF: "subset-of",
    Relationship.SUPERSET_OF: "superset-of",
    Relationship.INTERSECTS_WITH: "intersects-with",
}
#: The model's allowed values (checked by the tests; the pydantic model does not enforce them).
RELATIONSHIPS = ("equivalent-to", "equal-to", "subset-of", "superset-of", "intersects-with", "no-relationship")
MATCHING_RATIONALES = ("syntactic", "semantic", "functional")


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResourceInfo(_Data):
    """How one catalogue is described (``data/mapping-resources.yaml``)."""

    key: str
    title: str
    description: str | None = None
    source: str | None = None
    href: str | None = None
    #: ``oscal-catalog``: item ids as the OSCAL catalog spells them (``ac-2.1``)
    ids: Literal["oscal-catalog"] | None = None


class Matching(_Data):
    default: Literal["syntactic", "semantic", "functional"]
    kinds: dict[str, Literal["syntactic", "semantic", "functional"]] = Field(default_factory=dict)


class ResourcesData(_Data):
    resources: list[ResourceInfo]
    matching: Matching


def resources_data(path: Path = RESOURCES_FILE) -> ResourcesData:
    """The catalogue descriptions, validated."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the mapping resources: {exc}", path=path) from exc
    try:
        return ResourcesData.model_validate(raw)
    except ValueError as exc:
        raise InputError(f"invalid mapping resources: {exc}", path=path) from exc


@dataclass
class MappingExport:
    """The document and what it left out."""

    document: dict[str, Any]
    #: links that state no relationship, as ``kind source -> target``
    skipped: list[str] = field(default_factory=list)


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": _line(value)}


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    """Drop empty values (OSCAL arrays have at least one item)."""
    return {k: v for k, v in d.items() if v not in ([], {}, None, "")}


def _describe(kb: KB, key: str, known: dict[str, ResourceInfo]) -> ResourceInfo:
    if key in known:
        return known[key]
    kind, _, name = key.partition(":")
    fw = kb.frameworks.get(name) if kind == "safeguard" else None
    if fw is not None:
        return ResourceInfo(key=key, title=fw.title, description=f"{fw.label} {fw.name}: its {fw.items}.", source=fw.source)
    return ResourceInfo(key=key, title=name or key)


def _line(text: str) -> str:
    """One line (a title or citation in OSCAL holds no line break)."""
    return " ".join(text.split())


def _resource(info: ResourceInfo, kind: str) -> dict[str, Any]:
    return _clean(
        {
            "uuid": uid("mapping-resource:" + info.key),
            "title": _line(info.title),
            "description": info.description,
            "props": [_prop("framework-key", info.key), _prop("node-kind", kind)],
            "citation": {"text": _line(info.source)} if info.source else None,
            "rlinks": [{"href": info.href}] if info.href else None,
        }
    )


def _item(node_id: str, info: ResourceInfo, parts: tuple[str, ...] = ()) -> dict[str, Any]:
    ref = oscal_id(node_id) if info.ids == "oscal-catalog" else node_id
    props = [_prop("covers-statement-part", p) for p in parts]
    if ref != node_id:
        props.insert(0, _prop("sckb-id", node_id))
    return _clean({"type": "control", "id-ref": ref, "props": props})


def _map(e: EdgeEntry, src: ResourceInfo, tgt: ResourceInfo, matching: str | None) -> dict[str, Any]:
    token = OSCAL_RELATIONSHIP[Relationship(e.relationship or "")]  # links without one were left out before
    props = [_prop("link-kind", e.kind.value)]
    declared = e.declared_relationship or ""
    if e.inverted:
        props.append(_prop("declared-relationship", f"{e.target} {declared} {e.source}"))
    elif token != declared:
        props.append(_prop("declared-relationship", f"{e.source} {declared} {e.target}"))
    if e.ref:
        props.append(_prop("source", e.ref))
    return _clean(
        {
            "uuid": uid(f"map:{e.kind.value}:{e.source}->{e.target}"),
            "relationship": token,
            "matching-rationale": matching,
            "sources": [_item(e.source, src)],
            "targets": [_item(e.target, tgt, e.parts)],
            "confidence-score": {"category": e.confidence} if e.confidence else None,
            "props": props,
            "remarks": e.rationale,
        }
    )


def _timestamp(now: datetime | None) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ") if now is not None else FIXED_LAST_MODIFIED


def mapping_collection(kb: KB, *, now: datetime | None = None, data: ResourcesData | None = None) -> MappingExport:
    """Every mapping edge of ``kb`` as one OSCAL mapping collection (see the module docstring)."""
    data = data or resources_data()
    known = {r.key: r for r in data.resources}
    by_pair: dict[tuple[str, str], list[EdgeEntry]] = {}
    skipped: list[str] = []
    for key in sorted(kb.edges):
        e = kb.edges[key]
        if e.kind not in MAPPING_EDGES or e.source not in kb.nodes or e.target not in kb.nodes:
            continue
        if not e.relationship:
            skipped.append(f"{e.kind.value} {e.source} -> {e.target}")
            continue
        by_pair.setdefault((framework_key(kb, e.source), framework_key(kb, e.target)), []).append(e)

    if not by_pair:
        raise InputError("the knowledge base has no mapping links to export")
    kinds: dict[str, str] = {}
    for edges in by_pair.values():
        for n in (x for e in edges for x in (e.source, e.target)):
            kinds.setdefault(framework_key(kb, n), kb.nodes[n].kind.value)
    keys = sorted(kinds)
    infos = {k: _describe(kb, k, known) for k in keys}
    mappings = []
    for (sk, tk), edges in sorted(by_pair.items()):
        rationales = {data.matching.kinds.get(e.kind.value, data.matching.default) for e in edges}
        shared = rationales.pop() if len(rationales) == 1 else None
        maps = [
            _map(e, infos[sk], infos[tk], None if shared else data.matching.kinds.get(e.kind.value, data.matching.default))
            for e in edges
        ]
        link_kinds = sorted({e.kind.value for e in edges})
        mappings.append(
            _clean(
                {
                    "uuid": uid(f"mapping:{sk}->{tk}"),
                    "matching-rationale": shared,
                    "source-resource": {"type": "catalog", "href": "#" + uid("mapping-resource:" + sk)},
                    "target-resource": {"type": "catalog", "href": "#" + uid("mapping-resource:" + tk)},
                    "mapping-description": f"sckb's {', '.join(link_kinds)} links from {infos[sk].title} "
                    f"to {infos[tk].title} ({len(maps)}).",
                    "props": [_prop("link-kind", k) for k in link_kinds],
                    "maps": maps,
                }
            )
        )
    digest = hashlib.sha256(orjson.dumps([mappings, [infos[k].model_dump() for k in keys]], option=orjson.OPT_SORT_KEYS))
    content = digest.hexdigest()
    doc = {
        "mapping-collection": {
            "uuid": uid("mapping-collection:" + content),
            "metadata": {
                "title": "sckb knowledge base: curated links between serverless risks, mitigations, controls and frameworks",
                "last-modified": _timestamp(now),
                "version": f"{__version__}+kb.{content[:12]}",
                "oscal-version": OSCAL_MAPPING_VERSION,
                "props": [_prop("content-sha256", content)],
            },
            "provenance": {
                "method": "human",
                "matching-rationale": data.matching.default,
                "status": "complete",
                "mapping-description": "Links curated and reviewed by the sckb maintainers, each with a NIST IR 8477 "
                "relationship, a rationale in sckb's own words and the document it rests on. Only what is linked "
                "may be inferred from: an item without a map has simply not been linked.",
            },
            "mappings": mappings,
            "back-matter": {"resources": [_resource(infos[k], kinds[k]) for k in keys]},
        }
    }
    return MappingExport(doc, skipped)


def dumps(doc: dict[str, Any]) -> bytes:
    """Sorted keys, two-space indent, trailing newline (as every sckb OSCAL file)."""
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def write_mapping_collection(kb: KB, out: Path | None, *, now: datetime | None = None) -> tuple[bytes | list[Path], list[str]]:
    """Build the collection; write it to ``out`` (returns the path) or return its bytes when ``out`` is None.
    The second item lists the links left out for lacking a relationship."""
    result = mapping_collection(kb, now=now)
    data = dumps(result.document)
    if out is None:
        return data, result.skipped
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", path=out) from exc
    return [out], result.skipped
