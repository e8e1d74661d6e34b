"""The design check's curated facts (``compliance/design/data/*.yaml``), typed and validated with the KB.

- ``attack-paths.yaml``: the attack-path kinds and the mitigations that break each (KB mitigation ids), in
  general and per entry type;
- ``entry-types.yaml``: the kinds of entry that start a chain (API route, function URL, S3 notification, ...),
  told apart by the design element's kind and type;
- ``iam.yaml``: SAM policy templates and AWS managed policies reduced to statements, and action verbs;
- ``runtimes.yaml``: deprecated language runtimes per provider, with the date.

:func:`design_data` gives the design stage the parsed, typed data; :func:`check_design_data` reports schema
problems and ids the KB does not know as ``file:line: message`` (run by ``sckb kb validate``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, RootModel, ValidationError

from compliance.errors import InputError
from compliance.kb.core import KB
from compliance.kb.entries import Problem
from compliance.kb.model import NodeKind
from compliance.kb.yamlio import Document, load_yaml

#: Where the shipped design data lives (inside the package, so wheels ship it with the design stage).
DESIGN_DATA_DIR = Path(__file__).resolve().parent.parent / "design" / "data"

ATTACK_PATHS_FILE = "attack-paths.yaml"
ENTRY_TYPES_FILE = "entry-types.yaml"
IAM_FILE = "iam.yaml"
RUNTIMES_FILE = "runtimes.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathKind(_Strict):
    """One attack-path kind."""

    title: str
    #: KB mitigation ids whose presence breaks the chain, whatever entry starts it
    breaks_with: tuple[str, ...]
    #: entry type id (entry-types.yaml) -> the KB mitigation ids that break a chain started by that entry
    by_entry: dict[str, tuple[str, ...]] = {}

    def breaking(self, entry: str | None) -> tuple[str, ...]:
        """The mitigations that break a chain started by an entry of type ``entry``: its own first."""
        own = self.by_entry.get(entry, ()) if entry is not None else ()
        return tuple(dict.fromkeys(own + self.breaks_with))


class EntryType(_Strict):
    """A kind of entry that starts an attack path: the design element's kind and type patterns that match it."""

    title: str
    element: Literal["route", "source", "function-url", "resource-policy"]
    #: lower-case glob patterns over the element's ``type`` (routes and event sources)
    types: tuple[str, ...] = ("*",)


class PolicyStatement(_Strict):
    actions: tuple[str, ...]
    resources: tuple[str, ...]


class ManagedPolicy(_Strict):
    #: grants permissions management or full control of a service
    admin: bool = False
    statements: tuple[PolicyStatement, ...]


class IamData(_Strict):
    sam_policy_templates: dict[str, tuple[PolicyStatement, ...]]
    managed_policies: dict[str, ManagedPolicy]
    write_verbs: tuple[str, ...]
    admin_verbs: tuple[str, ...]
    star_resource_ok: tuple[str, ...]


class _AttackPaths(RootModel[dict[str, PathKind]]):
    pass


class _Runtimes(RootModel[dict[str, dict[str, date]]]):
    pass


class _EntryTypes(RootModel[dict[str, EntryType]]):
    pass


@dataclass(frozen=True)
class DesignData:
    """All design data, typed. ``runtimes``: provider -> lower-case runtime name -> deprecation date."""

    attack_paths: Mapping[str, PathKind]
    iam: IamData
    runtimes: Mapping[str, Mapping[str, date]]
    entry_types: Mapping[str, EntryType]

    def entry_type(self, element: str, typ: object = None) -> str | None:
        """The id of the first entry type matching an entry element of kind ``element`` and type ``typ``."""
        t = str(typ).lower() if typ is not None else ""
        for eid, spec in self.entry_types.items():
            if spec.element == element and any(fnmatchcase(t, pat) for pat in spec.types):
                return eid
        return None


def _shown(path: Path) -> str:
    """The path as problems name it: relative to the folder holding the ``compliance`` package."""
    root = Path(__file__).resolve().parent.parent.parent
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


M = TypeVar("M", bound=BaseModel)


def _parse(path: Path, model: type[M], problems: list[Problem]) -> tuple[M | None, Document | None]:
    shown = _shown(path)
    try:
        doc = load_yaml(path)
    except InputError as exc:
        problems.append(Problem(shown, exc.line, exc.message))
        return None, None
    try:
        return model.model_validate(doc.data), doc
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(x for x in err["loc"] if x != "root")
            where = ".".join(str(x) for x in loc) or "<root>"
            problems.append(Problem(shown, doc.line_of(loc), f"{where}: {err['msg']}"))
        return None, doc


@dataclass(frozen=True)
class _Loaded:
    data: DesignData | None
    problems: tuple[Problem, ...]
    attack_doc: Document | None


@cache
def _load(data_dir: Path) -> _Loaded:
    problems: list[Problem] = []
    paths, attack_doc = _parse(data_dir / ATTACK_PATHS_FILE, _AttackPaths, problems)
    iam, _d = _parse(data_dir / IAM_FILE, IamData, problems)
    runtimes, _d = _parse(data_dir / RUNTIMES_FILE, _Runtimes, problems)
    entries, _d = _parse(data_dir / ENTRY_TYPES_FILE, _EntryTypes, problems)
    data = None
    if paths is not None and iam is not None and runtimes is not None and entries is not None:
        data = DesignData(
            attack_paths=paths.root,
            iam=iam,
            runtimes={prov: {k.strip().lower(): v for k, v in table.items()} for prov, table in runtimes.root.items()},
            entry_types=entries.root,
        )
    return _Loaded(data, tuple(problems), attack_doc)


def design_data(data_dir: Path | None = None) -> DesignData:
    """The design data (read once per folder). Raises :class:`InputError` when it does not parse: the design
    check cannot run without it, and ``sckb kb validate`` names every problem."""
    loaded = _load(data_dir or DESIGN_DATA_DIR)
    if loaded.data is None:
        first = loaded.problems[0]
        raise InputError(f"design data: {first.message}", path=first.file, line=first.line)
    return loaded.data


def check_design_data(kb: KB, data_dir: Path | None = None) -> list[Problem]:
    """Schema problems of the design data, the KB ids it names that the KB does not have, and entry types
    ``by_entry`` names that ``entry-types.yaml`` does not define."""
    loaded = _load(data_dir or DESIGN_DATA_DIR)
    out = list(loaded.problems)
    if loaded.data is None or loaded.attack_doc is None:
        return out
    doc = loaded.attack_doc
    shown = _shown(doc.path)
    entry_types = loaded.data.entry_types

    def mitigation(kind: str, mid: str, loc: tuple[str | int, ...]) -> None:
        node = kb.nodes.get(mid)
        if node is None:
            out.append(Problem(shown, doc.line_of(loc), f"attack path {kind} names unknown mitigation {mid!r}"))
        elif node.kind is not NodeKind.MITIGATION:
            msg = f"attack path {kind}: {mid!r} is a {node.kind.value}, expected mitigation"
            out.append(Problem(shown, doc.line_of(loc), msg))

    for kind, spec in loaded.data.attack_paths.items():
        for i, mid in enumerate(spec.breaks_with):
            mitigation(kind, mid, (kind, "breaks_with", i))
        for entry, mids in spec.by_entry.items():
            if entry not in entry_types:
                known = ", ".join(entry_types)
                msg = f"attack path {kind} names unknown entry type {entry!r} (entry-types.yaml has: {known})"
                out.append(Problem(shown, doc.line_of((kind, "by_entry", entry)), msg))
            for i, mid in enumerate(mids):
                mitigation(kind, mid, (kind, "by_entry", entry, i))
    return out
