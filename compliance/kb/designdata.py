"""The design check's curated facts (``compliance/design/data/*.yaml``), typed and validated with the KB.

- ``attack-paths.yaml``: the attack-path kinds and the mitigations that break each (KB mitigation ids);
- ``iam.yaml``: SAM policy templates and AWS managed policies reduced to statements, and action verbs;
- ``runtimes.yaml``: deprecated language runtimes per provider, with the date.

:func:`design_data` gives the design stage the parsed, typed data; :func:`check_design_data` reports schema
problems and ids the KB does not know as ``file:line: message`` (run by ``sckb kb validate``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, RootModel, ValidationError

from compliance.errors import InputError
from compliance.kb.core import KB
from compliance.kb.entries import Problem
from compliance.kb.model import NodeKind
from compliance.kb.yamlio import Document, load_yaml

#: Where the shipped design data lives (inside the package, so wheels ship it with the design stage).
DESIGN_DATA_DIR = Path(__file__).resolve().parent.parent / "design" / "data"

ATTACK_PATHS_FILE = "attack-paths.yaml"
IAM_FILE = "iam.yaml"
RUNTIMES_FILE = "runtimes.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathKind(_Strict):
    """One attack-path kind."""

    title: str
    #: KB mitigation ids whose presence breaks the chain
    breaks_with: tuple[str, ...]


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


@dataclass(frozen=True)
class DesignData:
    """All design data, typed. ``runtimes``: provider -> lower-case runtime name -> deprecation date."""

    attack_paths: Mapping[str, PathKind]
    iam: IamData
    runtimes: Mapping[str, Mapping[str, date]]


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
    data = None
    if paths is not None and iam is not None and runtimes is not None:
        data = DesignData(
            attack_paths=paths.root,
            iam=iam,
            runtimes={prov: {k.strip().lower(): v for k, v in table.items()} for prov, table in runtimes.root.items()},
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
    """Schema problems of the design data, and the KB ids it names that the KB does not have."""
    loaded = _load(data_dir or DESIGN_DATA_DIR)
    out = list(loaded.problems)
    if loaded.data is None or loaded.attack_doc is None:
        return out
    doc = loaded.attack_doc
    shown = _shown(doc.path)
    for kind, spec in loaded.data.attack_paths.items():
        for i, mid in enumerate(spec.breaks_with):
            node = kb.nodes.get(mid)
            if node is None:
                out.append(
                    Problem(shown, doc.line_of((kind, "breaks_with", i)), f"attack path {kind} names unknown mitigation {mid!r}")
                )
            elif node.kind is not NodeKind.MITIGATION:
                msg = f"attack path {kind}: {mid!r} is a {node.kind.value}, expected mitigation"
                out.append(Problem(shown, doc.line_of((kind, "breaks_with", i)), msg))
    return out
