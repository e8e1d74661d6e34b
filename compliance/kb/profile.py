"""Tailored baselines: resolve a user's OSCAL profile to the set of KB controls it selects.

A profile (OSCAL 1.1.3, JSON or YAML) imports catalogs or other profiles and selects controls from each
(``include-all``; ``include-controls`` by ``with-ids`` or glob ``matching`` patterns, optionally
``with-child-controls: yes``; ``exclude-controls``), then sets parameters and alters controls. Resolution
follows the NIST OSCAL profile resolution specification (usnistgov/OSCAL, src/specifications/
profile-resolution) as far as a *set of controls* is concerned:

- an imported profile is resolved first, and its import selects from that result;
- an import with neither ``include-all`` nor ``include-controls`` includes everything it imports;
- a control both included and excluded is excluded;
- a child control (an enhancement) comes only when named, matched, or its parent is selected with
  ``with-child-controls: yes``;
- a profile importing itself, directly or through others, is an error.

What the result is *not*: a resolved catalog. ``merge`` directives only shape such a catalog (groups,
duplicate handling), so they are read and noted as ignored; ``set-parameters`` and ``alters`` are
recorded (the later, outer profile wins per parameter) and change no control's status.

Import hrefs: an official NIST or FedRAMP rev5 catalog or baseline profile (recognised by file name, see
``data/oscal-imports.yaml``) resolves to the KB's own catalog or baseline; a relative href resolves to a
file next to the importing profile; ``#uuid`` goes through the profile's back-matter resource. Nothing is
fetched from the network. Every error is one line: the file and the JSON pointer of the offending value.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from compliance.errors import InputError
from compliance.kb.core import KB, oscal_id
from compliance.kb.model import Baseline, Control, NodeKind
from compliance.kb.official import ours
from compliance.kb.query import control_sort_key
from compliance.kb.yamlio import load_yaml

#: The table of official import targets (file stem -> ``catalog`` or a KB baseline id).
IMPORTS_FILE = Path(__file__).parent / "data" / "oscal-imports.yaml"
CATALOG = "catalog"
#: A scope name for the controls a profile selects: this prefix and the profile's file name.
SCOPE_PREFIX = "profile:"
_SUFFIX = re.compile(r"(?:-min)?\.(?:json|ya?ml|xml)$", re.IGNORECASE)
#: A parameter id names its control first: ``ac-01_odp.05``, ``ac-2_prm_1``, ``ac-2.3_odp``.
_CONTROL_ID = re.compile(r"[a-z]{2}-\d+(?:\.\d+)?")
_PARAM = re.compile(r"^([a-z]{2})-0*(\d+)(?:\.0*(\d+))?_")


# --------------------------------------------------------------------------- what a resolution records


@dataclass(frozen=True, slots=True)
class ProfileImport:
    """One import of a profile: its href as written and what it resolved to."""

    href: str
    #: ``kb:catalog``, ``kb:<baseline id>`` or ``file:<file name>``
    source: str
    controls: int


@dataclass(frozen=True, slots=True)
class ParameterSetting:
    """One ``set-parameters`` entry (the effective one when several profiles set the parameter)."""

    param_id: str
    #: the KB control the parameter belongs to, read from its id; None when the id does not say
    control: str | None
    values: list[str]
    constraints: list[str]
    label: str | None
    #: file name of the profile that set it
    source: str


@dataclass(frozen=True, slots=True)
class Alteration:
    """One ``alters`` entry: how many parts/props it adds and removes (recorded; no status changes)."""

    control: str
    adds: int
    removes: int
    source: str


@dataclass(slots=True)
class ProfileInfo:
    """What an assessment records about the profile that set its scope."""

    title: str
    #: the profile's file name (no folder: the record must not depend on where the file lies)
    file: str
    #: SHA-256 of the profile file's bytes; when it imports local files, of the hashes of every file read
    sha256: str
    #: the scope name its controls are listed under (``profile:<file name>``)
    scope: str
    version: str | None
    controls: int
    imports: list[ProfileImport] = field(default_factory=list)
    parameters: list[ParameterSetting] = field(default_factory=list)
    alterations: list[Alteration] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProfileInfo:
        return cls(
            title=d["title"],
            file=d["file"],
            sha256=d["sha256"],
            scope=d["scope"],
            version=d.get("version"),
            controls=d["controls"],
            imports=[ProfileImport(**i) for i in d.get("imports", [])],
            parameters=[ParameterSetting(**p) for p in d.get("parameters", [])],
            alterations=[Alteration(**a) for a in d.get("alterations", [])],
            notes=list(d.get("notes", [])),
        )


@dataclass(slots=True)
class ResolvedProfile:
    """A resolved profile: the KB controls it selects (sorted AC-1, AC-2, AC-2(1), ...) and its record."""

    info: ProfileInfo
    controls: list[str]


@dataclass(frozen=True, slots=True)
class BaselineDelta:
    """How a tailored control set differs from one KB baseline."""

    baseline: str
    #: in the profile, not in the baseline / in the baseline, not in the profile (catalogue order)
    added: list[str]
    removed: list[str]


def nearest_baseline(kb: KB, controls: Iterable[str]) -> BaselineDelta | None:
    """The KB baseline closest to ``controls`` (fewest additions plus removals; ties by id), and the difference:
    what a tailoring changed, in the terms an assessor reads it."""
    mine = set(controls)
    best: BaselineDelta | None = None
    for entry in sorted(kb.of_kind(NodeKind.BASELINE), key=lambda e: e.id):
        if not isinstance(entry.record, Baseline):
            continue
        theirs = set(entry.record.members)
        delta = BaselineDelta(
            entry.id,
            sorted(mine - theirs, key=control_sort_key),
            sorted(theirs - mine, key=control_sort_key),
        )
        if best is None or len(delta.added) + len(delta.removed) < len(best.added) + len(best.removed):
            best = delta
    return best


# --------------------------------------------------------------------------- the subset of the schema read


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _Matching(_Strict):
    pattern: str


class _Select(_Strict):
    with_child_controls: Literal["yes", "no"] | None = Field(None, alias="with-child-controls")
    with_ids: list[str] | None = Field(None, alias="with-ids", min_length=1)
    matching: list[_Matching] | None = Field(None, min_length=1)


class _IncludeAll(_Strict):
    pass


class _Import(_Strict):
    href: str = Field(min_length=1)
    include_all: _IncludeAll | None = Field(None, alias="include-all")
    include_controls: list[_Select] | None = Field(None, alias="include-controls", min_length=1)
    exclude_controls: list[_Select] | None = Field(None, alias="exclude-controls", min_length=1)


class _Metadata(_Loose):
    title: str
    version: str | None = None


class _Constraint(_Loose):
    description: str | None = None


class _SetParameter(_Loose):
    param_id: str = Field(alias="param-id")
    label: str | None = None
    values: list[str] | None = None
    constraints: list[_Constraint] | None = None


class _Alter(_Loose):
    control_id: str = Field(alias="control-id")
    adds: list[dict[str, Any]] = Field(default_factory=list)
    removes: list[dict[str, Any]] = Field(default_factory=list)


class _Modify(_Strict):
    set_parameters: list[_SetParameter] = Field(default_factory=list, alias="set-parameters")
    alters: list[_Alter] = Field(default_factory=list)


class _Merge(_Strict):
    combine: dict[str, Any] | None = None
    flat: dict[str, Any] | None = None
    as_is: bool | None = Field(None, alias="as-is")
    custom: dict[str, Any] | None = None


class _Rlink(_Loose):
    href: str


class _Resource(_Loose):
    uuid: str
    rlinks: list[_Rlink] = Field(default_factory=list)


class _BackMatter(_Loose):
    resources: list[_Resource] = Field(default_factory=list)


class _Profile(_Strict):
    uuid: str
    metadata: _Metadata
    imports: list[_Import] = Field(min_length=1)
    merge: _Merge | None = None
    modify: _Modify | None = None
    back_matter: _BackMatter | None = Field(None, alias="back-matter")


# --------------------------------------------------------------------------- reading files


@cache
def official_imports() -> dict[str, str]:
    """File stem of an official catalog or profile -> ``catalog`` or a KB baseline id (a data table)."""
    doc = load_yaml(IMPORTS_FILE)
    table = doc.data.get("imports") if isinstance(doc.data, dict) else None
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise InputError("expected a mapping 'imports' of file stem -> catalog or baseline id", path=IMPORTS_FILE)
    return {str(k): v for k, v in table.items()}


def _official_target(href: str) -> str | None:
    name = unquote(urlsplit(href).path).rstrip("/").rsplit("/", 1)[-1]
    return official_imports().get(_SUFFIX.sub("", name))


def _read(path: Path) -> tuple[dict[str, Any], bytes]:
    """The parsed document (JSON or YAML, by suffix; JSON if the text starts with ``{``) and its bytes."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None
    suffix = path.suffix.lower()
    if suffix == ".xml" or raw.lstrip()[:1] == b"<":
        raise InputError("OSCAL XML is not supported: give the profile as JSON or YAML", path=path)
    data: Any
    if suffix == ".json" or (suffix not in (".yaml", ".yml") and raw.lstrip()[:1] == b"{"):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc.msg}", path=path, line=exc.lineno) from None
    else:
        try:
            data = load_yaml(path).data
        except InputError as exc:
            raise InputError(f"not valid JSON or YAML: {exc.message}", path=path, line=exc.line) from None
    if not isinstance(data, dict):
        raise InputError("not an OSCAL document: expected an object with a 'profile' or 'catalog' key", path=path)
    return data, raw


def _pointer(loc: Iterable[int | str]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in loc)


def _parse_profile(path: Path, data: dict[str, Any]) -> _Profile:
    body = data.get("profile")
    if body is None:
        kinds = [k for k in data if k != "$schema"]
        raise InputError(f"not an OSCAL profile (root {', '.join(kinds) or 'empty'}); expected 'profile'", path=path)
    try:
        return _Profile.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _pointer(("profile", *err["loc"]))
        last = err["loc"][-1] if err["loc"] else "profile"
        why = {"extra_forbidden": f"unknown field {last!r}", "missing": f"missing field {last!r}"}.get(err["type"], err["msg"])
        raise InputError(f"not a valid OSCAL profile: {why}", path=path, pointer=where) from None


# --------------------------------------------------------------------------- control sources


@dataclass
class _Source:
    """What an import selects from: controls in catalog order, each with its parent (if in the source)."""

    label: str
    parents: dict[str, str | None]
    parameters: dict[str, ParameterSetting] = field(default_factory=dict)
    alterations: list[Alteration] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    imports: list[ProfileImport] = field(default_factory=list)

    def children(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for c, p in self.parents.items():
            if p is not None:
                out.setdefault(p, []).append(c)
        return out


def _kb_controls(kb: KB, ids: Iterable[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for cid in sorted(ids, key=control_sort_key):
        entry = kb.nodes.get(cid)
        if entry is not None and isinstance(entry.record, Control):
            out[cid] = entry.record.parent
    return {c: (p if p in out else None) for c, p in out.items()}


def _kb_source(kb: KB, target: str, href: str, path: Path, pointer: str) -> _Source:
    if target == CATALOG:
        ids = [e.id for e in kb.of_kind(NodeKind.CONTROL)]
        return _Source("the SP 800-53 rev5 catalog (KB)", _kb_controls(kb, ids))
    entry = kb.nodes.get(target)
    if entry is None or not isinstance(entry.record, Baseline):
        raise InputError(
            f"import {href!r} is the official {target} baseline, which this KB does not carry", path=path, pointer=pointer
        )
    # the KB carries a baseline's membership, not the official profile's parameter values or alterations
    note = (
        f"import {href}: the official {target} profile is taken as the KB baseline (its set-parameters and alters are not read)"
    )
    return _Source(f"the {target} baseline (KB)", _kb_controls(kb, entry.record.members), notes=[note])


def _catalog_source(kb: KB, path: Path, data: dict[str, Any]) -> _Source:
    """A local OSCAL catalog: its controls (nested ones are children), as KB ids; all must be in the KB."""
    parents: dict[str, str | None] = {}
    unknown: list[str] = []

    def walk(controls: Any, parent: str | None, where: str) -> None:
        if not isinstance(controls, list):
            raise InputError("not a valid OSCAL catalog: 'controls' must be an array", path=path, pointer=where)
        for i, c in enumerate(controls):
            cid = c.get("id") if isinstance(c, dict) else None
            if not isinstance(cid, str):
                raise InputError("not a valid OSCAL catalog: a control has no id", path=path, pointer=f"{where}/{i}")
            kid = ours(cid)
            if kid not in kb.nodes:
                unknown.append(cid)
            parents[kid] = parent
            walk(c.get("controls", []), kid, f"{where}/{i}/controls")

    def walk_groups(groups: Any, where: str) -> None:
        if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
            raise InputError("not a valid OSCAL catalog: 'groups' must be an array of objects", path=path, pointer=where)
        for g, group in enumerate(groups):
            walk(group.get("controls", []), None, f"{where}/{g}/controls")
            walk_groups(group.get("groups", []), f"{where}/{g}/groups")  # groups may nest

    cat = data["catalog"]
    if not isinstance(cat, dict):
        raise InputError("not a valid OSCAL catalog", path=path, pointer="/catalog")
    walk_groups(cat.get("groups", []), "/catalog/groups")
    walk(cat.get("controls", []), None, "/catalog/controls")
    if unknown:
        raise InputError(
            f"catalog controls not in the KB's SP 800-53 rev5 catalog: {', '.join(unknown[:5])}"
            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""),
            path=path,
        )
    title = cat.get("metadata", {}).get("title", path.name) if isinstance(cat.get("metadata"), dict) else path.name
    return _Source(f"catalog {title!r} ({path.name})", parents)


class _Resolver:
    def __init__(self, kb: KB) -> None:
        self.kb = kb
        self.stack: list[Path] = []
        #: SHA-256 of every file read, in reading order (the profile first)
        self.hashes: list[str] = []

    def profile(self, path: Path, data: dict[str, Any], raw: bytes) -> tuple[_Source, _Profile]:
        self.hashes.append(hashlib.sha256(raw).hexdigest())
        prof = _parse_profile(path, data)
        self.stack.append(path.resolve())
        try:
            return self._resolve(path, prof), prof
        finally:
            self.stack.pop()

    def _resolve(self, path: Path, prof: _Profile) -> _Source:
        selected: dict[str, str | None] = {}
        out = _Source(f"profile {prof.metadata.title!r} ({path.name})", selected)
        for n, imp in enumerate(prof.imports):
            where = f"/profile/imports/{n}"
            src, record = self._import(path, prof, imp.href, f"{where}/href")
            picked = _select(src, imp, path, where, self.kb.nodes, out.notes)
            for c in src.parents:
                if c in picked:
                    selected.setdefault(c, src.parents[c])
            out.imports.append(ProfileImport(imp.href, record, len(picked)))
            # what the imported profile set or altered comes along only for the controls selected from it
            out.parameters.update({k: p for k, p in src.parameters.items() if p.control is None or p.control in picked})
            out.alterations.extend(a for a in src.alterations if a.control in picked)
            out.notes.extend(src.notes)
        # parents come back only if selected themselves: a lone enhancement stays a lone enhancement
        out.parents = {
            c: (p if p in selected else None) for c, p in sorted(selected.items(), key=lambda x: control_sort_key(x[0]))
        }
        if prof.merge is not None:
            ignored = [k for k in ("combine", "flat", "custom") if getattr(prof.merge, k) is not None]
            if ignored:
                out.notes.append(
                    f"{path.name}: merge {', '.join(ignored)} ignored (merge shapes a resolved catalog; "
                    "the scope is only the set of selected controls)"
                )
        if prof.modify is not None:
            self._modify(path, prof.modify, out)
        return out

    def _modify(self, path: Path, modify: _Modify, out: _Source) -> None:
        for sp in modify.set_parameters:
            m = _PARAM.match(sp.param_id)
            control = f"{m[1].upper()}-{int(m[2])}" + (f"({int(m[3])})" if m[3] else "") if m else None
            out.parameters[sp.param_id] = ParameterSetting(
                param_id=sp.param_id,
                control=control,
                values=list(sp.values or []),
                constraints=[c.description for c in sp.constraints or [] if c.description],
                label=sp.label,
                source=path.name,
            )
        off_scope: list[str] = []
        for alt in modify.alters:
            control = ours(alt.control_id)
            if control not in out.parents:
                off_scope.append(alt.control_id)
                continue
            out.alterations.append(Alteration(control, len(alt.adds), len(alt.removes), path.name))
        if off_scope:
            out.notes.append(f"{path.name}: alters for controls not selected ignored: {', '.join(off_scope)}")

    def _import(self, path: Path, prof: _Profile, href: str, pointer: str) -> tuple[_Source, str]:
        """Resolve one import href to a control source and a short record of what it became."""
        if href.startswith("#"):
            uuid = href[1:]
            resources = prof.back_matter.resources if prof.back_matter is not None else []
            res = next((r for r in resources if r.uuid == uuid), None)
            if res is None:
                raise InputError(f"import {href!r}: no back-matter resource with uuid {uuid}", path=path, pointer=pointer)
            hrefs = [ln.href for ln in res.rlinks]
            # an rlink in a format we read (JSON, YAML) is tried before XML
            hrefs.sort(key=lambda h: h.lower().endswith(".xml"))
            for h in hrefs:
                found = self._external(path, h, pointer)
                if found is not None:
                    return found
            raise InputError(
                f"import {href!r}: none of its back-matter rlinks ({', '.join(hrefs) or 'none'}) is an official "
                "NIST/FedRAMP rev5 catalog or profile or a file next to the profile",
                path=path,
                pointer=pointer,
            )
        found = self._external(path, href, pointer)
        if found is None:
            raise InputError(
                f"cannot resolve import {href!r}: not an official NIST/FedRAMP rev5 catalog or profile, and no such "
                "file next to the profile (sckb fetches nothing from the network)",
                path=path,
                pointer=pointer,
            )
        return found

    def _external(self, path: Path, href: str, pointer: str) -> tuple[_Source, str] | None:
        parts = urlsplit(href)
        if not parts.scheme and not parts.netloc and parts.path:
            local = (path.parent / unquote(parts.path)).resolve()
            if local.is_file():
                return self._file(local, path, pointer), f"file:{local.name}"
        target = _official_target(href)
        if target is None:
            return None
        return _kb_source(self.kb, target, href, path, pointer), f"kb:{target}"

    def _file(self, local: Path, importer: Path, pointer: str) -> _Source:
        if local in self.stack:
            raise InputError(
                f"circular import: {local.name} imports itself (directly or through others)", path=importer, pointer=pointer
            )
        data, raw = _read(local)
        if "catalog" in data:
            self.hashes.append(hashlib.sha256(raw).hexdigest())
            return _catalog_source(self.kb, local, data)
        return self.profile(local, data, raw)[0]


def _select(src: _Source, imp: _Import, path: Path, where: str, known: Container[str], notes: list[str]) -> set[str]:
    """The controls one import selects from ``src`` (exclusion wins over inclusion); ``notes`` gets what changed
    nothing."""
    children = src.children()
    by_oscal = {oscal_id(c): c for c in src.parents}

    def pick(sel: _Select, at: str, excluding: bool = False) -> set[str]:
        got: set[str] = set()
        for j, wid in enumerate(sel.with_ids or []):
            cid = by_oscal.get(wid)
            if cid is None:
                if not _CONTROL_ID.fullmatch(wid):
                    why = "not an OSCAL control id (they look like ac-2 or ac-2.1)"
                elif ours(wid) in known and excluding:  # excluding what is not there changes nothing: noted
                    notes.append(f"{path.name}: exclude {wid}: not a control of {src.label} (nothing to exclude)")
                    continue
                elif ours(wid) in known:
                    why = f"not a control of {src.label}"
                else:
                    why = "no such control in the SP 800-53 rev5 catalog"
                raise InputError(f"with-ids {wid!r}: {why}", path=path, pointer=f"{at}/with-ids/{j}")
            got.add(cid)
        for m in sel.matching or []:
            hits = [c for o, c in by_oscal.items() if fnmatchcase(o, m.pattern)]
            if not hits:
                notes.append(f"{path.name}: matching {m.pattern!r} selects nothing from {src.label}")
            got.update(hits)
        if sel.with_child_controls == "yes":
            todo = list(got)
            while todo:
                for child in children.get(todo.pop(), []):
                    if child not in got:
                        got.add(child)
                        todo.append(child)
        return got

    included: set[str] = set()
    if imp.include_all is not None or imp.include_controls is None:
        included.update(src.parents)
    for i, sel in enumerate(imp.include_controls or []):
        included |= pick(sel, f"{where}/include-controls/{i}")
    for i, sel in enumerate(imp.exclude_controls or []):
        included -= pick(sel, f"{where}/exclude-controls/{i}", excluding=True)
    return included


# --------------------------------------------------------------------------- entry point


def load_profile(kb: KB, path: Path) -> ResolvedProfile:
    """Read and resolve the OSCAL profile at ``path`` against ``kb``. Raises :class:`InputError` (one line:
    file and JSON pointer) on anything it cannot read or resolve."""
    data, raw = _read(path)
    resolver = _Resolver(kb)
    src, prof = resolver.profile(path, data, raw)
    # the file's own hash; with local imports, a hash over every file read (an import's change is a new profile)
    digest = resolver.hashes[0] if len(resolver.hashes) == 1 else hashlib.sha256(" ".join(resolver.hashes).encode()).hexdigest()
    notes = list(dict.fromkeys(src.notes))
    withdrawn = [
        c for c in src.parents if (e := kb.nodes.get(c)) is not None and isinstance(e.record, Control) and e.record.withdrawn
    ]
    if withdrawn:
        notes.append(
            f"{len(withdrawn)} withdrawn control(s) left out of the scope: {', '.join(withdrawn[:5])}"
            + (" ..." if len(withdrawn) > 5 else "")
        )
    controls = [c for c in src.parents if c not in set(withdrawn)]
    info = ProfileInfo(
        title=" ".join(prof.metadata.title.split()),
        file=path.name,
        sha256=digest,
        scope=SCOPE_PREFIX + path.name,
        version=prof.metadata.version,
        controls=len(controls),
        imports=src.imports,
        parameters=[src.parameters[k] for k in sorted(src.parameters)],
        alterations=sorted(src.alterations, key=lambda a: (control_sort_key(a.control), a.source)),
        notes=notes,
    )
    return ResolvedProfile(info=info, controls=controls)


__all__ = [
    "Alteration",
    "BaselineDelta",
    "ParameterSetting",
    "ProfileImport",
    "ProfileInfo",
    "ResolvedProfile",
    "load_profile",
    "nearest_baseline",
    "official_imports",
]
