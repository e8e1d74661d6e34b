"""Load the curated KB (shipped data plus optional overlays) into one :class:`KB`.

Loading never stops at the first problem: every file is read, every record is
checked, and all problems come back together as ``file:line: message``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from compliance.errors import InputError
from compliance.kb.core import KB
from compliance.kb.entries import EdgeEntry, NodeEntry, Origin, Problem
from compliance.kb.model import (
    EDGE_ENDPOINTS,
    MAPPING_EDGES,
    NODE_SECTIONS,
    PARTIAL_EDGES,
    Baseline,
    Control,
    Cwe,
    EdgeKind,
    KBFile,
    Link,
    Mitigation,
    Node,
    PartialLink,
    Relationship,
    Risk,
    Rule,
    Safeguard,
)
from compliance.kb.yamlio import Document, load_yaml
from compliance.paths import shipped_data_dirs

#: Environment variable naming overlay directories (os.pathsep separated).
KB_ENV = "SCKB_KB"


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return str(path)


def discover(dirs: Iterable[Path]) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` file below the given directories, sorted for determinism."""
    out: list[Path] = []
    for d in dirs:
        if d.is_file():
            out.append(d)
            continue
        out.extend(sorted(p for p in d.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
    return out


def overlay_dirs_from_env(environ: dict[str, str] | None = None) -> list[Path]:
    env = os.environ if environ is None else environ
    raw = env.get(KB_ENV, "")
    return [Path(p) for p in raw.split(os.pathsep) if p]


def default_cache_dir(environ: Mapping[str, str]) -> Path | None:
    """Where the CLI keeps its KB cache: ``SCKB_CACHE_DIR``, else ``$XDG_CACHE_HOME/sckb``, else
    ``~/.cache/sckb``; ``SCKB_NO_CACHE=1`` turns caching off."""
    if environ.get("SCKB_NO_CACHE"):
        return None
    if environ.get("SCKB_CACHE_DIR"):
        return Path(environ["SCKB_CACHE_DIR"])
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sckb"


def _fingerprint(files: Sequence[tuple[Path, bool]]) -> str:
    """Changes whenever a KB file or the KB code changes (path, size and mtime of each)."""
    h = hashlib.sha256(f"sckb-kb-cache/1 {sys.version_info[:2]}".encode())
    code = sorted(Path(__file__).resolve().parent.glob("*.py"))
    for p, overlay in [(c, False) for c in code] + list(files):
        st = p.stat()
        h.update(f"{p}\0{overlay}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:32]


def load(
    overlays: Sequence[Path] = (),
    *,
    data_dirs: Sequence[Path] | None = None,
    cache_dir: Path | None = None,
) -> KB:
    """Load the shipped KB plus ``overlays`` (directories or files). Never raises for bad data:
    problems are collected in ``kb.problems``. Raises :class:`InputError` only when an
    overlay path does not exist.

    With ``cache_dir``, the loaded KB (graph included) is pickled there, keyed by a fingerprint
    of every file and of this code, so the next command starts without re-parsing. The cache
    is the user's own, trusted like their home folder; a stale or unreadable one is rebuilt."""
    base_dirs = list(data_dirs) if data_dirs is not None else shipped_data_dirs()
    root = base_dirs[0].parent if base_dirs else None
    for d in overlays:
        if not d.exists():
            raise InputError("overlay directory does not exist", path=d)
    files = [(p, False) for p in discover(base_dirs)] + [(p, True) for d in overlays for p in discover([d])]
    cached: Path | None = None
    if cache_dir is not None:
        cached = cache_dir / f"kb-{_fingerprint(files)}.pickle"
        try:
            with cached.open("rb") as f:
                kb = pickle.load(f)
            if isinstance(kb, KB):
                return kb
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
            pass
    kb = KB()
    for d in overlays:
        if not discover([d]):
            kb.problems.append(Problem(str(d), None, "overlay holds no .yaml/.yml file: nothing loaded from it", "warning"))
    for path, overlay in files:
        _load_file(kb, path, str(path) if overlay else _display(path, root), overlay=overlay)
    _default_frameworks(kb)
    # imported here: the checks (and the design data's models) cost a cached load's start-up otherwise
    from compliance.kb.validate import check_references

    check_references(kb)
    if cached is not None:
        _ = kb.graph
        _write_cache(cached, kb)
    return kb


def _default_frameworks(kb: KB) -> None:
    """Give a safeguard that names no framework the first one declared (safeguard records predate the
    ``frameworks`` section, and every one of them meant the shipped data's first framework)."""
    first = next(iter(kb.frameworks), None)
    if first is None:
        return
    for entry in kb.nodes.values():
        rec = entry.record
        if isinstance(rec, Safeguard) and rec.framework is None:
            entry.record = rec.model_copy(update={"framework": first})


def _write_cache(path: Path, kb: KB) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob("kb-*.pickle"):
            old.unlink(missing_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".kb-", delete=False) as f:
            pickle.dump(kb, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(f.name, path)
    except OSError:
        pass  # a read-only cache folder only costs speed


def _load_file(kb: KB, path: Path, shown: str, *, overlay: bool) -> None:
    kb.files.append(path)
    try:
        doc = load_yaml(path)
    except InputError as exc:
        kb.problems.append(Problem(shown, exc.line, exc.message))
        return
    if doc.data is None or doc.data == {}:
        if overlay:  # an overlay the user named: say it added nothing (a shipped file may be a placeholder)
            kb.problems.append(Problem(shown, None, "empty file: nothing loaded from it", "warning"))
        return
    if not isinstance(doc.data, dict):
        kb.problems.append(Problem(shown, 1, "a KB file must be a mapping of sections (risks:, mitigations:, ...)"))
        return
    try:
        parsed = KBFile.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            # pydantic adds union-member names to loc; keep the data path for the line lookup
            data_loc = tuple(x for x in loc if isinstance(x, int) or x in _known_keys(doc, loc))
            where = ".".join(str(x) for x in loc) or "<root>"
            kb.problems.append(Problem(shown, doc.line_of(data_loc), f"{where}: {err['msg']}"))
        return
    _merge(kb, parsed, doc, shown, overlay)


def _known_keys(doc: Document, loc: tuple[Any, ...]) -> set[Any]:
    """Keys that really occur in the data along ``loc`` (filters pydantic's union tags)."""
    keys: set[Any] = set()
    cur: Any = doc.data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            keys.add(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and part < len(cur):
            cur = cur[part]
    return keys


def _merge(kb: KB, parsed: KBFile, doc: Document, shown: str, overlay: bool) -> None:
    def origin(*loc: str | int) -> Origin:
        return Origin(shown, doc.line_of(loc), overlay)

    for section, kind in NODE_SECTIONS.items():
        for i, rec in enumerate(getattr(parsed, section)):
            o = origin(section, i)
            _add_node(kb, NodeEntry(rec.id, kind, rec, o))
            for edge in _inline_edges(rec, section, i, origin):
                edge.declared_by = rec.id
                _add_edge(kb, edge, override=edge.override)
    for i, e in enumerate(parsed.edges):
        entry = EdgeEntry(e.source_id, e.to, e.kind, origin("edges", i), e.relationship, e.rationale, e.source)
        if e.relationship is not None:
            entry.relationship = e.relationship.value
        if e.confidence is not None:
            entry.confidence = e.confidence.value
        _add_edge(kb, entry, override=e.override)
    for i, fw in enumerate(parsed.frameworks):
        o = origin("frameworks", i)
        if fw.id in kb.frameworks and not (fw.override and overlay):
            kb.problems.append(Problem(o.file, o.line, f"duplicate framework {fw.id!r} (first at {kb.framework_origins[fw.id]})"))
            continue
        kb.frameworks[fw.id] = fw
        kb.framework_origins[fw.id] = o
    for i, dp in enumerate(parsed.design_predicates):
        o = origin("design_predicates", i)
        if dp.id in kb.design_predicates and not (dp.override and overlay):
            first = kb.design_predicates[dp.id][1]
            kb.problems.append(Problem(o.file, o.line, f"duplicate design predicate {dp.id!r} (first at {first})"))
            continue
        kb.design_predicates[dp.id] = (dp, o)
    for i, sp in enumerate(parsed.statements):
        o = origin("statements", i)
        if sp.control in kb.statements and not (sp.override and overlay):
            kb.problems.append(
                Problem(o.file, o.line, f"duplicate statement parts for {sp.control!r} (first at {kb.statements[sp.control][1]})")
            )
            continue
        kb.statements[sp.control] = (tuple(sp.parts), o)
    for i, a in enumerate(parsed.assurance):
        o = origin("assurance", i)
        if a.target in kb.assurance and not (a.override and overlay):
            kb.problems.append(
                Problem(o.file, o.line, f"duplicate assurance entry for {a.target!r} (first at {kb.assurance[a.target][1]})")
            )
            continue
        kb.assurance[a.target] = (a, o)
    for i, r in enumerate(parsed.responsibility):
        o = origin("responsibility", i)
        if (r.control is None) == (r.family is None):
            kb.problems.append(Problem(o.file, o.line, "responsibility entry needs exactly one of control or family"))
            continue
        key = r.control if r.control is not None else "family:" + str(r.family)
        if key in kb.responsibility and not r.override:
            prev = kb.responsibility[key][1]
            kb.problems.append(Problem(o.file, o.line, f"duplicate responsibility for {key} (first at {prev})"))
            continue
        kb.responsibility[key] = (r, o)


def _add_node(kb: KB, entry: NodeEntry) -> None:
    prev = kb.nodes.get(entry.id)
    o = entry.origin
    if prev is not None:
        if entry.record.override and entry.origin.overlay:
            # drop edges the replaced record declared inline; the new record brings its own
            for key in [k for k, e in kb.edges.items() if e.declared_by == prev.id and not e.origin.overlay]:
                del kb.edges[key]
            kb.nodes[entry.id] = entry
            return
        hint = "; set override: true in the overlay to replace it" if entry.origin.overlay and not prev.origin.overlay else ""
        kb.problems.append(Problem(o.file, o.line, f"duplicate id {entry.id!r} (first defined at {prev.origin}){hint}"))
        return
    if entry.record.override:
        kb.problems.append(Problem(o.file, o.line, f"override: true but no shipped record {entry.id!r} to replace", "warning"))
    kb.nodes[entry.id] = entry


def _edge_relationship(rel: Relationship | None, src: str, owner: str) -> str | None:
    """The link's relationship read *source REL target* of the edge: a link the edge's target declared (YAML reads
    *declaring record REL linked item*) is inverted, subset-of <-> superset-of."""
    if rel is None:
        return None
    return rel.value if owner == src else rel.inverse().value


def _link_edge(src: str, dst: str, kind: EdgeKind, link: Link, o: Origin, owner: str) -> EdgeEntry:
    conf = link.confidence.value if link.confidence is not None else None
    rel = _edge_relationship(link.relationship, src, owner)
    return EdgeEntry(src, dst, kind, o, rel, link.rationale, link.source, owner, link.override, conf, tuple(link.parts))


def _partial_edge(src: str, dst: str, kind: EdgeKind, link: str | PartialLink, o: Origin, owner: str) -> EdgeEntry:
    """An edge from a link that may be a bare id (older form): missing fields stay None."""
    if isinstance(link, str):
        return EdgeEntry(src, dst, kind, o, declared_by=owner)
    rel = _edge_relationship(link.relationship, src, owner)
    conf = link.confidence.value if link.confidence is not None else None
    return EdgeEntry(src, dst, kind, o, rel, link.rationale, link.source, owner, confidence=conf)


def _to(link: str | PartialLink) -> str:
    return link if isinstance(link, str) else link.to


def _inline_edges(rec: Node, section: str, i: int, origin: Any) -> Iterable[EdgeEntry]:
    """Edges a record declares about itself, oriented as in the model docstring."""
    if isinstance(rec, Control):
        if rec.parent:
            yield EdgeEntry(rec.id, rec.parent, EdgeKind.ENHANCEMENT_OF, origin(section, i, "parent"))
        yield EdgeEntry(rec.id, rec.family, EdgeKind.PART_OF, origin(section, i, "family"))
    elif isinstance(rec, Baseline):
        for j, member in enumerate(rec.members):
            yield EdgeEntry(member, rec.id, EdgeKind.MEMBER_OF, origin(section, i, "members", j))
    elif isinstance(rec, Safeguard):
        if rec.standard and rec.standard != rec.id:
            yield EdgeEntry(rec.id, rec.standard, EdgeKind.PART_OF, origin(section, i, "standard"))
    elif isinstance(rec, Risk):
        for j, other in enumerate(rec.corresponds_to):
            o = origin(section, i, "corresponds_to", j)
            yield _partial_edge(rec.id, _to(other), EdgeKind.CORRESPONDS_TO, other, o, rec.id)
    elif isinstance(rec, Mitigation):
        for j, r in enumerate(rec.risks):
            yield _partial_edge(_to(r), rec.id, EdgeKind.MITIGATED_BY, r, origin(section, i, "risks", j), rec.id)
        for j, link in enumerate(rec.controls):
            yield _link_edge(rec.id, link.to, EdgeKind.MAPS_TO, link, origin(section, i, "controls", j), rec.id)
        for j, link in enumerate(rec.safeguards):
            yield _link_edge(rec.id, link.to, EdgeKind.MAPS_TO, link, origin(section, i, "safeguards", j), rec.id)
        for j, link in enumerate(rec.strategies):
            yield _link_edge(link.to, rec.id, EdgeKind.IMPLEMENTED_BY, link, origin(section, i, "strategies", j), rec.id)
    elif isinstance(rec, Rule):
        for j, link in enumerate(rec.mitigations):
            yield _link_edge(rec.id, link.to, EdgeKind.EVIDENCES, link, origin(section, i, "mitigations", j), rec.id)
    elif isinstance(rec, Cwe):
        for j, link in enumerate(rec.risks):
            yield _link_edge(rec.id, link.to, EdgeKind.INDICATES, link, origin(section, i, "risks", j), rec.id)


def _add_edge(kb: KB, edge: EdgeEntry, *, override: bool) -> None:
    prev = kb.edges.get(edge.key)
    o = edge.origin
    if prev is not None:
        if override and o.overlay:
            kb.edges[edge.key] = edge
            return
        hint = "; set override: true in the overlay to replace it" if o.overlay and not prev.origin.overlay else ""
        kb.problems.append(
            Problem(
                o.file, o.line, f"duplicate {edge.kind.value} edge {edge.source} -> {edge.target} (first at {prev.origin}){hint}"
            )
        )
        return
    if edge.kind in MAPPING_EDGES and edge.kind not in PARTIAL_EDGES:  # those: rigor.check_link_fields
        missing = [
            name
            for name, v in (("relationship", edge.relationship), ("rationale", edge.rationale), ("source", edge.ref))
            if not v
        ]
        if missing:
            kb.problems.append(
                Problem(o.file, o.line, f"{edge.kind.value} edge {edge.source} -> {edge.target} lacks {', '.join(missing)}")
            )
    kb.edges[edge.key] = edge


__all__ = [
    "EDGE_ENDPOINTS",
    "KB",
    "KB_ENV",
    "EdgeEntry",
    "NodeEntry",
    "Origin",
    "Problem",
    "discover",
    "load",
    "overlay_dirs_from_env",
]
