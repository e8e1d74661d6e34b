"""Check OSCAL JSON documents beyond their schema: reference integrity and FedRAMP's constraints.

Two checks, each a list of :class:`Problem` (file, JSON pointer, severity, message):

- **reference integrity** (:func:`reference_problems`): every ``*-uuid`` / ``*-uuids`` value names a ``uuid``
  defined in the document or in a document it imports (``import-ap``, ``import-ssp``); every ``role-id`` names a
  role of ``metadata.roles``; every ``#uuid`` href names a back-matter resource; a ``file.json#uuid`` href names
  a ``uuid`` of that file when it is beside the document; no ``uuid`` is defined twice in one document.
- **FedRAMP constraints** (:func:`constraint_problems`): the rules of GSA/fedramp-automation's constraint
  files that apply to assessment plans, results and POA&Ms, written as data in ``data/fedramp-constraints.yaml``
  and evaluated by one generic evaluator per check kind over a small path language (:func:`select`).

OSCAL documents are found by their root key; a sibling document (an import, a ``file.json#uuid`` link) is
read through a *loader* so the same code checks files on disk (:func:`check_files`) and documents still in
memory (:func:`check_documents`, used by ``sckb export oscal`` before it writes).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from compliance.errors import InputError
from compliance.oscal.validate import read_json

Severity = Literal["error", "warning"]
Kind = Literal["allowed-values", "expect", "has-cardinality", "matches", "index-has-key"]
KINDS: tuple[Kind, ...] = ("allowed-values", "expect", "has-cardinality", "matches", "index-has-key")

#: the root keys of the OSCAL 1.1 document models
OSCAL_ROOTS = frozenset(
    {
        "catalog",
        "profile",
        "component-definition",
        "system-security-plan",
        "assessment-plan",
        "assessment-results",
        "plan-of-action-and-milestones",
        "mapping-collection",
    }
)
#: the fields through which a document imports another whose UUIDs it may reference
IMPORT_FIELDS = ("import-ap", "import-ssp")
CONSTRAINTS_FILE = Path(__file__).parent / "data" / "fedramp-constraints.yaml"
#: the check name of reference-integrity problems (constraint problems carry the constraint id)
REFERENCE = "reference"

Json = Any  # a parsed JSON value (orjson gives dict / list / str / int / float / bool / None)
Loader = Callable[[str], "dict[str, Json] | None"]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in one document, located by a JSON pointer."""

    file: str
    pointer: str
    severity: Severity
    check: str  # "reference" or a FedRAMP constraint id
    message: str

    def line(self) -> str:
        return f"{self.file}#{self.pointer}: {self.severity}: {self.message}"

    def as_json(self) -> dict[str, str]:
        return {
            "file": self.file,
            "pointer": self.pointer,
            "severity": self.severity,
            "check": self.check,
            "message": self.message,
        }


# ------------------------------------------------------------------ documents


def root_key(doc: Json, *, name: str) -> str:
    """The OSCAL model of ``doc`` (its one root key besides ``$schema``); InputError when it is not OSCAL."""
    if not isinstance(doc, dict):
        raise InputError("not an OSCAL document (the top level is not an object)", path=name)
    roots = [k for k in doc if k != "$schema"]
    if len(roots) != 1 or roots[0] not in OSCAL_ROOTS or not isinstance(doc[roots[0]], dict):
        raise InputError(f"not an OSCAL document (root keys: {', '.join(roots) or 'none'})", path=name)
    return str(roots[0])


def load_file(path: Path) -> dict[str, Json]:
    """Read one OSCAL JSON file; InputError (exit 3) when it cannot be read, is not JSON or not OSCAL."""
    doc = read_json(path)
    root_key(doc, name=str(path))
    return cast(dict[str, Json], doc)


def _escape(key: str | int) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _walk(node: Json, pointer: str = "") -> Iterator[tuple[str, Json]]:
    """Every value below ``node`` (itself first) with its JSON pointer."""
    yield pointer, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, f"{pointer}/{_escape(k)}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{pointer}/{i}")


# ------------------------------------------------------------------ reference integrity


@dataclass
class _Index:
    """What one document defines: UUIDs, role ids and back-matter resources."""

    uuids: dict[str, str] = field(default_factory=dict)  # uuid -> pointer of its first definition
    roles: set[str] = field(default_factory=set)
    resources: dict[str, Json] = field(default_factory=dict)  # back-matter resource uuid -> resource
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (pointer, uuid, first pointer)


def _index(doc: dict[str, Json], root: str) -> _Index:
    idx = _Index()
    body = doc[root]
    for pointer, node in _walk(body, f"/{_escape(root)}"):
        if isinstance(node, dict) and isinstance(node.get("uuid"), str):
            uuid = node["uuid"]
            if uuid in idx.uuids:
                idx.duplicates.append((f"{pointer}/uuid", uuid, idx.uuids[uuid]))
            else:
                idx.uuids[uuid] = pointer
    idx.roles = {r["id"] for r in body.get("metadata", {}).get("roles", []) if isinstance(r, dict) and "id" in r}
    for res in body.get("back-matter", {}).get("resources", []):
        if isinstance(res, dict) and isinstance(res.get("uuid"), str):
            idx.resources[res["uuid"]] = res
    return idx


def _is_relative(href: str) -> bool:
    return bool(href) and "://" not in href and not href.startswith(("/", "urn:", "mailto:"))


@dataclass(frozen=True)
class _Import:
    pointer: str  # of the import's href
    file: str | None = None  # a relative file name to read beside the document
    external: str | None = None  # an address sckb does not fetch: what it defines is unknown
    empty: bool = False  # a back-matter resource without any link: there is no document to read


def _imports(doc: dict[str, Json], root: str, idx: _Index) -> list[_Import]:
    out: list[_Import] = []
    for fld in IMPORT_FIELDS:
        imp = doc[root].get(fld)
        if not isinstance(imp, dict) or not isinstance(imp.get("href"), str):
            continue
        pointer = f"/{root}/{fld}/href"
        href: str = imp["href"]
        if href.startswith("#"):
            # the import names a back-matter resource (a missing one is a link problem): its rlink is the document
            res = idx.resources.get(href[1:])
            if res is None:
                continue
            links = [str(lk.get("href", "")) for lk in res.get("rlinks", []) if isinstance(lk, dict)]
            local = [lk for lk in links if _is_relative(lk)]
            if local:
                out.append(_Import(pointer, file=local[0].split("#")[0]))
            elif links:
                out.append(_Import(pointer, external=links[0]))
            else:
                out.append(_Import(pointer, empty=True))
        elif _is_relative(href):
            out.append(_Import(pointer, file=href.split("#")[0]))
        else:
            out.append(_Import(pointer, external=href))
    return out


def reference_problems(
    name: str, doc: dict[str, Json], loader: Loader, *, package: frozenset[str] = frozenset()
) -> list[Problem]:
    """Reference-integrity problems of one document; ``loader(relative_name)`` gives a sibling document or None.

    ``package``: UUIDs the other documents checked together define. A reference found only there resolves for
    a reader holding the whole package but not by OSCAL's rules (the document does not import that one): a
    warning that the document is not self-contained, not an error.
    """
    root = root_key(doc, name=name)
    idx = _index(doc, root)
    problems = [
        Problem(name, pointer, "error", REFERENCE, f"uuid {uuid} is defined twice (first at {first})")
        for pointer, uuid, first in idx.duplicates
    ]
    # what the imported documents define (transitively: results -> plan -> SSP)
    known_uuids, known_roles = set(idx.uuids), set(idx.roles)
    missing: list[str] = []  # imports that could not be read: unresolved references are then only warnings
    seen = {name}
    todo = [(name, doc, root, idx)]
    while todo:
        cur_name, cur, cur_root, cur_idx = todo.pop()
        top = cur_name == name
        for imp in _imports(cur, cur_root, cur_idx):
            if imp.external is not None:
                missing.append(imp.external)
                continue
            if imp.empty:
                if top:
                    msg = "the imported back-matter resource has no link: there is no document to resolve references in"
                    problems.append(Problem(name, imp.pointer, "warning", REFERENCE, msg))
                continue
            rel = imp.file
            if rel is None or rel in seen:
                continue
            seen.add(rel)
            sub = loader(rel)
            if sub is None:
                missing.append(rel)
                if top:
                    msg = f"imported {rel} is not beside this file: references into it are not checked"
                    problems.append(Problem(name, imp.pointer, "warning", REFERENCE, msg))
                continue
            sub_root = root_key(sub, name=rel)
            sub_idx = _index(sub, sub_root)
            known_uuids |= set(sub_idx.uuids)
            known_roles |= sub_idx.roles
            todo.append((rel, sub, sub_root, sub_idx))
    unresolved: Severity = "warning" if missing else "error"
    why = f" (not checked against {', '.join(sorted(set(missing)))})" if missing else ""

    for pointer, node in _walk(doc[root], f"/{_escape(root)}"):
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            here = f"{pointer}/{_escape(key)}"
            if key.endswith("-uuid") and isinstance(value, str):
                refs = [(here, value)]
            elif key.endswith("-uuids") and isinstance(value, list):
                refs = [(f"{here}/{i}", v) for i, v in enumerate(value) if isinstance(v, str)]
            else:
                refs = []
            for p, v in refs:
                if v in known_uuids:
                    continue
                if v in package:
                    msg = f"{key} {v} is defined only in another document of the package, which this one does not import"
                    problems.append(Problem(name, p, "warning", REFERENCE, msg))
                else:
                    msg = f"{key} {v} names no uuid of this document or its imports{why}"
                    problems.append(Problem(name, p, unresolved, REFERENCE, msg))
            if key == "role-id" and isinstance(value, str) and value not in known_roles:
                problems.append(Problem(name, here, unresolved, REFERENCE, f"role-id {value!r} is not a metadata role{why}"))
            elif key == "role-ids" and isinstance(value, list):
                problems += [
                    Problem(name, f"{here}/{i}", unresolved, REFERENCE, f"role-id {v!r} is not a metadata role{why}")
                    for i, v in enumerate(value)
                    if v not in known_roles
                ]
            elif key == "href" and isinstance(value, str):
                problems += _href_problem(name, here, value, idx, loader)
    return problems


def _href_problem(name: str, pointer: str, href: str, idx: _Index, loader: Loader) -> list[Problem]:
    if href.startswith("#"):
        if href[1:] not in idx.resources:
            return [Problem(name, pointer, "error", REFERENCE, f"href {href} names no back-matter resource")]
        return []
    file, hash_, frag = href.partition("#")
    if not hash_ or not frag or not _is_relative(file) or not file:
        return []  # an external address or a plain relative file (evidence): not a fragment reference
    other = loader(file)
    if other is None:
        return [Problem(name, pointer, "warning", REFERENCE, f"href {href}: {file} is not beside this file, not checked")]
    other_root = root_key(other, name=file)
    if frag not in _index(other, other_root).uuids:
        return [Problem(name, pointer, "error", REFERENCE, f"href {href} names no uuid of {file}")]
    return []


# ------------------------------------------------------------------ the path language

_SEGMENT = re.compile(r"^(?P<name>\*\*|\.|[A-Za-z0-9_$-]+)(?P<filters>(\[[^\]=]+=[^\]]*\])*)$")
_FILTER = re.compile(r"\[([^\]=]+)=([^\]]*)\]")


def _segments(path: str) -> list[str]:
    """Split on '/' outside brackets (filter values hold URLs)."""
    out, cur, depth = [], "", 0
    for ch in path:
        if ch == "/" and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "["
        depth -= ch == "]"
        cur += ch
    out.append(cur)
    segs = [s for s in out if s]
    for s in segs:
        if not _SEGMENT.match(s):
            raise ValueError(f"bad path segment {s!r} in {path!r}")
    return segs


def select(node: Json, path: str, pointer: str = "") -> list[tuple[str, Json]]:
    """Evaluate ``path`` from ``node``: (JSON pointer, value) of every match, in document order.

    A path is '/'-separated steps: ``name`` takes that key of an object (each item when the value is an array);
    ``name[key=value]`` also keeps only objects whose ``key`` equals ``value``; ``**`` is the node and every
    object below it; ``.`` is the node itself. It is the subset of Metapath FedRAMP's constraints on assessment
    documents need (``prop[@name='x'][@ns='y']/@value`` is ``props[name=x][ns=y]/value`` here).
    """
    current: list[tuple[str, Json]] = [(pointer, node)]
    for seg in _segments(path):
        m = _SEGMENT.match(seg)
        assert m is not None  # checked by _segments
        step, filters = m["name"], _FILTER.findall(m["filters"] or "")
        nxt: list[tuple[str, Json]] = []
        for p, n in current:
            if step == ".":
                cands = [(p, n)]
            elif step == "**":
                cands = [(q, v) for q, v in _walk(n, p) if isinstance(v, dict)]
            elif isinstance(n, dict) and step in n:
                v = n[step]
                q = f"{p}/{_escape(step)}"
                cands = [(f"{q}/{i}", x) for i, x in enumerate(v)] if isinstance(v, list) else [(q, v)]
            else:
                cands = []
            nxt += [(q, v) for q, v in cands if all(isinstance(v, dict) and str(v.get(k)) == want for k, want in filters)]
        current = nxt
    return current


# ------------------------------------------------------------------ constraints as data


@dataclass(frozen=True)
class Constraint:
    """One FedRAMP constraint, as ``data/fedramp-constraints.yaml`` states it.

    Each of ``contexts`` selects nodes from the document's root object; ``target`` is relative to each context node.
    allowed-values: every target value is one of ``values``. expect: ``test`` selects at least one node from each
    target (and, with ``equals``, one of that value). has-cardinality: each context node has between ``min`` and
    ``max`` target nodes. matches: every target value matches ``pattern`` in full. index-has-key: every ``key``
    of each target is a ``index_key`` of some node the ``index`` path selects from the root.
    """

    id: str
    kind: Kind
    documents: tuple[str, ...]
    level: Severity
    contexts: tuple[str, ...]
    target: str
    message: str
    source: str
    values: tuple[str, ...] = ()
    test: str = ""
    equals: str | None = None
    min: int | None = None
    max: int | None = None
    pattern: str = ""
    index: str = ""
    index_key: str = ""
    key: str = ""


@dataclass(frozen=True)
class ConstraintSet:
    constraints: tuple[Constraint, ...]
    #: where the constraints come from (repository, path, commit), as the data file says
    source: Mapping[str, str]
    #: the KB framework whose scopes these constraints are meant for (``export oscal --strict`` enforces them there)
    framework: str | None = None


def _contexts(raw: Mapping[str, Any], where: str, path: Path) -> tuple[str, ...]:
    v = raw.get("context", ".")
    items = [v] if isinstance(v, str) else v
    if not isinstance(items, list) or not items or not all(isinstance(x, str) and x for x in items):
        raise InputError(f"{where}: 'context' must be a path or a list of paths", path=path)
    return tuple(items)


def _fields(raw: Mapping[str, Any], where: str, path: Path) -> Constraint:
    def s(key: str, default: str | None = None) -> str:
        v = raw.get(key, default)
        if not isinstance(v, str) or (default is None and not v):
            raise InputError(f"{where}: '{key}' must be a non-empty string", path=path)
        return v

    kind = s("kind")
    if kind not in KINDS:
        raise InputError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}", path=path)
    level = s("level", "error")
    if level not in ("error", "warning"):
        raise InputError(f"{where}: level must be error or warning", path=path)
    docs = raw.get("documents")
    if not isinstance(docs, list) or not docs or not all(d in OSCAL_ROOTS for d in docs):
        raise InputError(f"{where}: 'documents' must list OSCAL root keys", path=path)

    def opt_int(key: str) -> int | None:
        v = raw.get(key)
        if v is not None and not isinstance(v, int):
            raise InputError(f"{where}: '{key}' must be an integer", path=path)
        return v

    c = Constraint(
        id=s("id"),
        kind=kind,
        documents=tuple(docs),
        level=cast(Severity, level),
        contexts=_contexts(raw, where, path),
        target=s("target", "."),
        message=s("message"),
        source=s("source"),
        values=tuple(str(v) for v in raw.get("values", [])),
        test=s("test", ""),
        equals=None if raw.get("equals") is None else str(raw["equals"]),
        min=opt_int("min"),
        max=opt_int("max"),
        pattern=s("pattern", ""),
        index=s("index", ""),
        index_key=s("index_key", ""),
        key=s("key", ""),
    )
    needs: dict[str, tuple[str, ...]] = {
        "allowed-values": ("values",),
        "expect": ("test",),
        "has-cardinality": (),
        "matches": ("pattern",),
        "index-has-key": ("index", "index_key", "key"),
    }
    for f in needs[c.kind]:
        if not getattr(c, f):
            raise InputError(f"{where}: a {c.kind} constraint needs '{f}'", path=path)
    if c.kind == "has-cardinality" and c.min is None and c.max is None:
        raise InputError(f"{where}: a has-cardinality constraint needs 'min' or 'max'", path=path)
    try:
        for p in (*c.contexts, c.target, c.test or ".", c.index or ".", c.index_key or ".", c.key or "."):
            _segments(p)
        re.compile(c.pattern)
    except (ValueError, re.error) as exc:
        raise InputError(f"{where}: {exc}", path=path) from exc
    return c


def load_constraints(path: Path = CONSTRAINTS_FILE) -> ConstraintSet:
    """Read a constraint data file (default: the FedRAMP constraints shipped with sckb)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
    except yaml.YAMLError as exc:
        raise InputError(f"not YAML: {exc}", path=path) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("constraints"), list):
        raise InputError("expected a mapping with a 'constraints' list", path=path)
    items = raw["constraints"]
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(f"constraints[{i}] is not a mapping", path=path)
        out.append(_fields(item, f"constraints[{i}] ({item.get('id', '?')})", path))
    # FedRAMP reuses an id across its files (fedramp-version is an expect and an allowed-values): unique per source
    ids = [(c.id, c.source) for c in out]
    dup = sorted({i for i, s in ids if ids.count((i, s)) > 1})
    if dup:
        raise InputError(f"constraint id defined twice for one source file: {', '.join(dup)}", path=path)
    source = raw.get("source", {})
    framework = raw.get("framework")
    return ConstraintSet(
        tuple(out),
        {str(k): str(v) for k, v in source.items()} if isinstance(source, dict) else {},
        str(framework) if framework is not None else None,
    )


def _scalar(v: Json) -> str | None:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v) if isinstance(v, str | int | float) else None


def _evaluate(c: Constraint, body: Json, base: str) -> Iterator[tuple[str, str]]:
    """(pointer, detail) of every place ``body`` breaks ``c``; the generic evaluator of all kinds."""
    index: set[str] = set()
    if c.kind == "index-has-key":
        index = {s for _, n in select(body, c.index, base) for _, k in select(n, c.index_key) if (s := _scalar(k))}
    for cp, ctx in [hit for context in c.contexts for hit in select(body, context, base)]:
        targets = select(ctx, c.target, cp)
        if c.kind == "has-cardinality":
            n = len(targets)
            if (c.min is not None and n < c.min) or (c.max is not None and n > c.max):
                bounds = f"{c.min if c.min is not None else 0}..{c.max if c.max is not None else 'n'}"
                yield cp, f"{n} found, {bounds} expected"
            continue
        for tp, t in targets:
            if c.kind == "allowed-values":
                v = _scalar(t)
                if v is not None and v not in c.values:
                    yield tp, f"{v!r} is not one of {', '.join(c.values)}"
            elif c.kind == "matches":
                v = _scalar(t)
                if v is not None and not re.fullmatch(c.pattern, v):
                    yield tp, f"{v!r} does not match {c.pattern}"
            elif c.kind == "expect":
                found = [_scalar(v) for _, v in select(t, c.test, tp)]
                if c.equals is not None:
                    found = [f for f in found if f == c.equals]
                if not found:
                    yield tp, f"nothing at {c.test}" + (f" equal to {c.equals!r}" if c.equals is not None else "")
            else:  # index-has-key
                for kp, k in select(t, c.key, tp):
                    v = _scalar(k)
                    if v is not None and v not in index:
                        yield kp, f"{v!r} is not a {c.index_key} of {c.index}"


def constraint_problems(name: str, doc: dict[str, Json], constraints: ConstraintSet) -> list[Problem]:
    """Problems of one document against the constraints that apply to its model."""
    root = root_key(doc, name=name)
    problems: list[Problem] = []
    for c in constraints.constraints:
        if root not in c.documents:
            continue
        problems += [
            Problem(name, pointer, c.level, c.id, f"[{c.id}] {c.message}: {detail} ({c.source})")
            for pointer, detail in _evaluate(c, doc[root], f"/{_escape(root)}")
        ]
    return problems


# ------------------------------------------------------------------ entry points


def check_documents(
    docs: Mapping[str, dict[str, Json]],
    *,
    constraints: ConstraintSet | None = None,
    loader: Loader | None = None,
) -> list[Problem]:
    """Check documents by name; siblings are the other ``docs`` (then ``loader``). Constraints: None = none."""

    def load(rel: str) -> dict[str, Json] | None:
        if rel in docs:
            return docs[rel]
        return loader(rel) if loader is not None else None

    defined = {name: set(_index(doc, root_key(doc, name=name)).uuids) for name, doc in docs.items()}
    problems: list[Problem] = []
    for name, doc in docs.items():
        package = frozenset(u for other, uuids in defined.items() if other != name for u in uuids)
        problems += reference_problems(name, doc, load, package=package)
        if constraints is not None:
            problems += constraint_problems(name, doc, constraints)
    return _sorted(problems)


def check_files(paths: Sequence[Path], *, constraints: ConstraintSet | None = None) -> list[Problem]:
    """Check OSCAL JSON files (InputError, exit 3, for one that is not JSON or not OSCAL).

    Each file's imports and ``file.json#uuid`` links are read from its own folder when present.
    """
    docs = {str(p): load_file(p) for p in paths}  # every file must parse before any is reported
    cache: dict[Path, dict[str, Json] | None] = {}

    def sibling(base: Path, rel: str) -> dict[str, Json] | None:
        target = (base.parent / rel).resolve()
        if target not in cache:
            cache[target] = load_file(target) if target.is_file() else None
        return cache[target]

    problems: list[Problem] = []
    defined = {name: set(_index(doc, root_key(doc, name=name)).uuids) for name, doc in docs.items()}
    for name, doc in docs.items():
        package = frozenset(u for other, uuids in defined.items() if other != name for u in uuids)
        problems += reference_problems(name, doc, functools.partial(sibling, Path(name)), package=package)
        if constraints is not None:
            problems += constraint_problems(name, doc, constraints)
    return _sorted(problems)


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.severity != "error", p.pointer, p.check, p.message))


def summary(problems: Sequence[Problem]) -> dict[str, int]:
    return {
        "errors": sum(p.severity == "error" for p in problems),
        "warnings": sum(p.severity == "warning" for p in problems),
    }
