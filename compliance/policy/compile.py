"""Decide which design predicates each engine can express, and compile them for Guard into a clause form.

Guard: a compiled check is a conjunction of clauses; a clause is a disjunction of :class:`Atom` tests on one
path of a template resource (``Properties.<path>`` in CloudFormation/SAM, ``values.<path>`` in a Terraform
plan). Only predicates whose every property is listed in ``data/properties.yaml`` for their subject compile;
the others get a reason (the manifest lists them). Rego (:func:`check_rego`): a predicate compiles when the
policy library derives every property it names; the expression itself is rendered by the exporter.
Engines are two-valued: a value the design check calls *unknown* (an unresolved parameter) is simply a
failed test for them, which ``policy test`` reports apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from compliance.errors import InputError
from compliance.kb.model import AllOf, AnyOf, DesignExpr, DesignPredicate, NotOf, PropertyCheck
from compliance.kb.yamlio import load_yaml

PROPERTIES_FILE = Path(__file__).resolve().parent / "data" / "properties.yaml"

#: The template formats a policy reads: CloudFormation/SAM (JSON or YAML) and a Terraform plan's JSON.
Fmt = Literal["cfn", "tf"]
FORMATS: tuple[Fmt, ...] = ("cfn", "tf")

Test = Literal["nonempty", "equals", "gte", "lte", "missing", "in", "not_in", "each_matches"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PropertyPaths(_Strict):
    cfn: tuple[str, ...] = ()
    tf: tuple[str, ...] = ()
    default: Any = None
    nonempty: bool = False
    #: the property is "the path's value is in this KB list" (deprecated_runtimes: the runtimes deprecated on the
    #: export day, from compliance/design/data/runtimes.yaml)
    in_list: Literal["deprecated_runtimes"] | None = None
    #: a list whose items a ``[*]`` check tests one by one (``layers[*]``)
    items: bool = False

    def paths(self, fmt: Fmt) -> tuple[str, ...]:
        return self.cfn if fmt == "cfn" else self.tf


class SubjectMap(_Strict):
    cfn_types: tuple[str, ...]
    sam_type: str
    tf_types: tuple[str, ...]
    properties: dict[str, PropertyPaths]


class PropertyMap(_Strict):
    subjects: dict[str, SubjectMap]
    rego_function_properties: tuple[str, ...] = ()
    rego_datastore_properties: tuple[str, ...] = ()
    rego_route_properties: tuple[str, ...] = ()
    not_derived: dict[str, str] = {}
    guard_reasons: dict[str, str] = {}
    rego_subjects: dict[str, str] = {}


@cache
def property_map(path: Path = PROPERTIES_FILE) -> PropertyMap:
    doc = load_yaml(path)
    try:
        return PropertyMap.model_validate(doc.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        raise InputError(f"{'.'.join(str(x) for x in loc)}: {err['msg']}", path=path.name, line=doc.line_of(loc)) from None


@dataclass(frozen=True, slots=True)
class Atom:
    """One test on one resource path (dotted, relative to the resource's properties / values)."""

    path: str
    test: Test
    value: Any = None


Clause = tuple[Atom, ...]


@dataclass(frozen=True)
class Compiled:
    """A predicate in clause form, per template format. ``applies``: the subjects it judges (empty: all)."""

    pred: DesignPredicate
    subject: SubjectMap
    check: dict[Fmt, tuple[Clause, ...]]
    applies: dict[Fmt, tuple[Clause, ...]]


class Unsupported(Exception):
    """The predicate cannot be expressed; the message says why (it goes to the manifest)."""


def _atoms(pc: PropertyCheck, props: dict[str, PropertyPaths], fmt: Fmt, reasons: dict[str, str]) -> tuple[Clause, ...]:
    root = pc.property.split(".")[0].removesuffix("[*]")
    if root in reasons:
        raise Unsupported(f"property {root}: {reasons[root]}")
    if "[*]" in pc.property:
        base, _, rest = pc.property.partition("[*]")
        spec = props.get(base)
        if spec is None or not spec.items or rest:
            raise Unsupported(f"property {pc.property} fans out over a list the design reader builds")
        if pc.op == "exists" and pc.each == "any":
            return (tuple(Atom(p, "nonempty") for p in spec.paths(fmt)),)
        if pc.op == "matches" and pc.each == "all":
            return (tuple(Atom(p, "each_matches", pc.value) for p in spec.paths(fmt)),)
        raise Unsupported(f"test {pc.op} ({pc.each} items) on {pc.property}")
    spec = props.get(pc.property)
    if spec is None:
        raise Unsupported(f"property {pc.property} is derived across resources or from curated data, not one resource's field")
    paths = spec.paths(fmt)
    if spec.in_list is not None:
        if pc.op != "equals" or not isinstance(pc.value, bool):
            raise Unsupported(f"test {pc.op} {pc.value!r} on list membership {pc.property}")
        # unset: no managed runtime (a container image), which is never deprecated
        # the atom names the list; the rule file declares it once (`let sckb_<list> = [...]`)
        tests = tuple(Atom(p, "in" if pc.value else "not_in", spec.in_list) for p in paths)
        return (tests if pc.value else tests + tuple(Atom(p, "missing") for p in paths),)
    if spec.nonempty:
        if (pc.op == "equals" and pc.value is True) or pc.op == "exists":
            return (tuple(Atom(p, "nonempty") for p in paths),)
        raise Unsupported(f"test {pc.op} {pc.value!r} on derived flag {pc.property}")
    if pc.op == "exists":
        return (tuple(Atom(p, "nonempty") for p in paths),)
    if pc.op == "equals":
        return (tuple(Atom(p, "equals", pc.value) for p in paths),)
    if pc.op in ("gte", "lte"):
        atoms = tuple(Atom(p, pc.op, pc.value) for p in paths)
        d = spec.default
        if isinstance(d, (int, float)) and (d >= pc.value if pc.op == "gte" else d <= pc.value):
            # unset means the platform default, which passes; one format has one path, so "unset" is one atom
            atoms += tuple(Atom(p, "missing") for p in paths)
        return (atoms,)
    raise Unsupported(f"operator {pc.op} on {pc.property}")


def _clauses(e: DesignExpr, props: dict[str, PropertyPaths], fmt: Fmt, reasons: dict[str, str]) -> tuple[Clause, ...]:
    if isinstance(e, PropertyCheck):
        return _atoms(e, props, fmt, reasons)
    if isinstance(e, AllOf):
        return tuple(c for x in e.all for c in _clauses(x, props, fmt, reasons))
    if isinstance(e, AnyOf):
        parts = [_clauses(x, props, fmt, reasons) for x in e.any]
        if any(len(p) != 1 for p in parts):
            raise Unsupported("an any-of over conjunctions (not a conjunction of disjunctions)")
        return (tuple(a for p in parts for a in p[0]),)
    assert isinstance(e, NotOf)
    for p in _properties(e.not_):  # a property Guard cannot reach is the better reason
        root = p.split(".")[0].removesuffix("[*]")
        if root in reasons:
            raise Unsupported(f"property {root}: {reasons[root]}")
    raise Unsupported("a negation over a list property (not compiled for Guard)")


def compile_predicate(pred: DesignPredicate, pmap: PropertyMap) -> Compiled:
    """The predicate in clause form, or :class:`Unsupported` with the reason."""
    subject = pmap.subjects.get(pred.subject)
    if subject is None:
        raise Unsupported(
            f"subject {pred.subject}: assembled from several resources (SAM events, OpenAPI bodies, API Gateway "
            "methods, store policies), which a Guard rule over one resource type cannot join"
        )
    if pred.providers.get("aws") == "unknown":
        raise Unsupported("the KB marks it unknowable in AWS templates")
    check: dict[Fmt, tuple[Clause, ...]] = {}
    applies: dict[Fmt, tuple[Clause, ...]] = {}
    for fmt in FORMATS:
        # the applicability test first: its property is the one a reader meets first in the manifest
        reasons = pmap.guard_reasons
        applies[fmt] = _clauses(pred.applies_if, subject.properties, fmt, reasons) if pred.applies_if is not None else ()
        check[fmt] = _clauses(pred.check, subject.properties, fmt, reasons)
        if any(not c for c in check[fmt] + applies[fmt]):
            raise Unsupported(f"a property has no {fmt} path")
    return Compiled(pred, subject, check, applies)


def _properties(e: DesignExpr) -> list[str]:
    if isinstance(e, PropertyCheck):
        return [e.property]
    if isinstance(e, AllOf):
        return [p for x in e.all for p in _properties(x)]
    if isinstance(e, AnyOf):
        return [p for x in e.any for p in _properties(x)]
    assert isinstance(e, NotOf)
    return _properties(e.not_)


def check_rego(pred: DesignPredicate, pmap: PropertyMap) -> DesignExpr:
    """The expression a Rego rule evaluates on the library's function records, or :class:`Unsupported`."""
    derived = {
        "function": pmap.rego_function_properties,
        "datastore": pmap.rego_datastore_properties,
        "route": pmap.rego_route_properties,
    }.get(pred.subject)
    if derived is None:
        raise Unsupported(f"subject {pred.subject}: {pmap.rego_subjects.get(pred.subject, 'no records built')}")
    override = pred.providers.get("aws")
    if override == "unknown":
        raise Unsupported("the KB marks it unknowable in AWS templates")
    check = override if override is not None else pred.check
    assert not isinstance(check, str)
    exprs = [check] + ([pred.applies_if] if pred.applies_if is not None else [])
    for prop in (p for e in exprs for p in _properties(e)):
        root = prop.split(".")[0].removesuffix("[*]")
        if root in pmap.not_derived:
            raise Unsupported(f"property {root} {pmap.not_derived[root]}")
        if root not in derived:
            raise Unsupported(f"property {root} is not derived by the policy library")
        if prop.count("[*]") > 1:
            raise Unsupported(f"property {prop} fans out twice")
    return check
