"""Render compiled predicates as CloudFormation Guard 3 rules or Rego (OPA v1) policies, one file per mitigation.

Every rule carries its predicate id, mitigation, the controls in scope it supports, severity and a fix hint
(Guard: the clause's custom message; Rego: the rule's METADATA annotation and each violation object). The
output is deterministic: files and rules sorted by id, no clock, keys sorted in the manifest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal, TypedDict

from compliance.kb.core import KB
from compliance.kb.model import AllOf, AnyOf, DesignExpr, DesignPredicate, Mitigation, NotOf, PropertyCheck
from compliance.kb.profile import ResolvedProfile
from compliance.kb.scope import KBIndex, resolve
from compliance.policy.compile import Atom, Clause, Compiled, Unsupported, check_rego, compile_predicate, property_map

Engine = Literal["cfn-guard", "rego"]
ENGINES: tuple[Engine, ...] = ("cfn-guard", "rego")
SUFFIX: dict[Engine, str] = {"cfn-guard": ".guard", "rego": ".rego"}
MANIFEST = "manifest.json"
LIB_REGO = "sckb_lib.rego"
#: the library's tables, a data document (``opa eval -d DIR`` and ``conftest --data`` read it)
DATA_JSON = "data.json"


class Skipped(TypedDict):
    predicate: str
    mitigation: str
    reason: str


class ManifestRule(TypedDict):
    predicate: str
    rule: str
    mitigation: str
    file: str
    severity: str
    controls: list[str]


class Manifest(TypedDict):
    engine: str
    scope: str
    rules: list[ManifestRule]
    not_expressed: list[Skipped]


@dataclass
class Policy:
    """What ``export`` produced: file name -> text, and the manifest."""

    engine: Engine
    files: dict[str, str] = field(default_factory=dict)
    manifest: Manifest | None = None


def rule_name(pred_id: str) -> str:
    """The engine-side rule name of a predicate (``design-tracing`` -> ``design_tracing``)."""
    return pred_id.replace("-", "_")


def _fix(pred: DesignPredicate, mit: Mitigation | None) -> str:
    hint = mit.guidance.aws if mit is not None else pred.title
    first = hint.split(". ")[0].strip().rstrip(".")
    return " ".join(first.split())


def _controls(kb: KB, scope: str | None, profile: ResolvedProfile | None) -> tuple[str, dict[str, list[str]]]:
    """The scope's name and, per mitigation, the controls (and framework safeguards) in scope it supports."""
    idx = KBIndex.build(kb)
    sc = resolve(kb, [scope] if scope is not None else [], idx, profile)
    per_mit: dict[str, set[str]] = {}
    targets = [(c, idx.control_mitigations.get(c, [])) for c in sc.controls]
    targets += [(s, idx.safeguard_mitigations.get(s, [])) for s in sc.safeguards]
    for cid, links in targets:
        # every mapped control, whatever the relationship: the rule supports it (the design check decides a
        # control's status from the determinative links only)
        for m, _rel in links:
            per_mit.setdefault(m, set()).add(cid)
    return " + ".join(sc.names), {m: sorted(v, key=_natural) for m, v in per_mit.items()}


def _lists(today: date) -> dict[str, list[str]]:
    """The KB lists a Guard clause may test membership in, as of ``today``."""
    from compliance.design.build import runtime_table

    return {"deprecated_runtimes": sorted(r for r, d in runtime_table().get("aws", {}).items() if d <= today)}


def _natural(cid: str) -> tuple[object, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", cid))


# ---------------------------------------------------------------------------------------------- Guard


def _guard_value(v: object) -> str:
    return json.dumps(v)


def _guard_atom(a: Atom, root: str, msg: str = "") -> str:
    ref = f"{root}.{a.path}"
    if a.test == "each_matches":
        # every item: text that matches, a Sub whose text matches, or a reference to a template resource; the
        # message goes inside the block (Guard takes none after one)
        rx = "/" + str(a.value).replace("/", "\\/") + "/"
        return "\n".join(
            [
                f"{ref}[*] {{",
                f"                this == {rx} or",
                f"                'Fn::Sub' == {rx} or",
                "                Ref exists or",
                "                'Fn::GetAtt' exists",
                f"                << {msg} >>",
                "            }",
            ]
        )
    if a.test == "nonempty":
        return f"{ref} !empty"
    if a.test == "missing":
        return f"{ref} not exists"
    if a.test in ("in", "not_in"):
        return f"{ref} {'not ' if a.test == 'not_in' else ''}in %sckb_{a.value}"
    op = {"equals": "==", "gte": ">=", "lte": "<="}[a.test]
    return f"{ref} {op} {_guard_value(a.value)}"


def _guard_clauses(clauses: tuple[Clause, ...], sam: bool, msg: str = "") -> list[list[str]]:
    """Clauses as Guard text. In a SAM block a property comes from the function or, when the function does not
    set its top-level key, from ``Globals.Function`` (as SAM merges them): a clause C becomes
    ``C(fn) or key unset`` for each key, and ``C(fn) or C(Globals)``."""
    out: list[list[str]] = []
    for clause in clauses:
        if not sam:
            out.append([_guard_atom(a, "Properties", msg) for a in clause])
            continue
        tests = [a for a in clause if a.test != "missing"]
        own = [_guard_atom(a, "Properties", msg) for a in tests]
        for key in sorted({a.path.split(".")[0] for a in tests}):
            out.append([*own, f"Properties.{key} not exists"])
        out.append([*own, *(_guard_atom(a, "%sckb_globals", msg) for a in clause)])
    return out


def _guard_rule(c: Compiled, mit: Mitigation | None, controls: list[str]) -> str:
    p = c.pred
    name = rule_name(p.id)
    msg = (
        f"[{p.id}] {p.title}. Mitigation: {p.mitigation}. Severity: {p.severity}. "
        f"Controls: {', '.join(controls) or 'none in scope'}. Fix: {_fix(p, mit)}."
    )
    lines = [f"# {p.id} ({p.mitigation}): {p.title}", f"rule {name} {{"]
    for var, sam in (("sckb_lambda", False), ("sckb_sam", True)):
        sel = f"%{var}"
        if c.applies["cfn"]:
            filt = " ".join(" or ".join(cl) for cl in _guard_clauses(c.applies["cfn"], sam))
            lines.append(f"    let {var}_{name} = {sel}[ {filt} ]")
            sel = f"%{var}_{name}"
        lines.append(f"    when {sel} !empty {{")
        lines.append(f"        {sel} {{")
        blocks = any(a.test == "each_matches" for cl in c.check["cfn"] for a in cl)
        for cl in _guard_clauses(c.check["cfn"], sam, msg if blocks else ""):
            lines.append("            " + " or\n            ".join(cl))
        if not blocks:
            lines += ["            <<", f"                {msg}", "            >>"]
        lines.append("        }")
        lines.append("    }")
    lines.append("}")
    return "\n".join(lines)


def _guard_header(types: tuple[str, ...], sam_type: str) -> str:
    lambda_types = " or ".join(f'Type == "{t}"' for t in types if t != sam_type)
    return "\n".join(
        [
            f"let sckb_lambda = Resources.*[ {lambda_types} ]",
            f'let sckb_sam = Resources.*[ Type == "{sam_type}" ]',
            "let sckb_globals = Globals.Function",
        ]
    )


# ---------------------------------------------------------------------------------------------- Rego


def _rego_path(path: str) -> str:
    return json.dumps([int(x) if x.isdigit() else x for x in path.split(".")])


class _RegoExpr:
    """A design expression as Rego helper functions over a function record's ``props`` (``p``): one helper per
    sub-expression, ``any`` as one body per alternative, ``not`` as negation, ``[*]`` as ``some`` / ``every``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0
        self.lines: list[str] = []

    def helper(self, e: DesignExpr) -> str:
        self.count += 1
        name = f"_{self.prefix}_{self.count}"
        if isinstance(e, AllOf):
            parts = [self.helper(x) for x in e.all]
            self._body(name, [f"{h}(p)" for h in parts] or ["true"])
        elif isinstance(e, AnyOf):
            parts = [self.helper(x) for x in e.any]
            for h in parts:
                self._body(name, [f"{h}(p)"])
        elif isinstance(e, NotOf):
            self._body(name, [f"not {self.helper(e.not_)}(p)"])
        else:
            assert isinstance(e, PropertyCheck)
            self._body(name, self._check(e))
        return name

    def _body(self, name: str, body: list[str]) -> None:
        self.lines += [f"{name}(p) if {{", *(f"\t{b}" for b in body), "}", ""]

    def _check(self, pc: PropertyCheck) -> list[str]:
        if "[*]" not in pc.property:
            # the library sets every property (null when unset): a plain reference, undefined only under a null
            return _rego_test(pc, "p." + pc.property)
        head, _, rest = pc.property.partition("[*]")
        items = f"lib.as_list(object.get(p, {_rego_path(head)}, null))"
        item = f"x.{rest.lstrip('.')}" if rest.strip(".") else "x"
        tests = _rego_test(pc, item)
        if pc.each == "any":
            return [f"some x in {items}", *tests]
        return [f"every x in {items} {{", *(f"\t{t}" for t in tests), "}"]


def _rego_test(pc: PropertyCheck, v: str) -> list[str]:
    want = json.dumps(pc.value)
    if pc.op == "exists":
        return [f"lib.nonempty({v})"]
    if pc.op == "equals":
        return [f"{v} == {want}"]
    if pc.op == "in":
        return [f"{v} in {want}"]
    if pc.op == "not_in":
        return [f"not {v} in {want}"]
    if pc.op in ("lte", "gte"):
        return [f"is_number({v})", f"{v} {'<=' if pc.op == 'lte' else '>='} {want}"]
    if pc.op == "matches":
        return [f"is_string({v})", f"regex.match({json.dumps(str(pc.value))}, {v})"]
    raise Unsupported(f"operator {pc.op}")


def _rego_rules(p: DesignPredicate, check: DesignExpr, mit: Mitigation | None, controls: list[str]) -> str:
    name = rule_name(p.id)
    fix = _fix(p, mit)
    meta = [
        "# METADATA",
        f"# title: {json.dumps(p.title)}",
        f"# description: {json.dumps(p.rationale or p.title)}",
        "# custom:",
        f"#   predicate: {p.id}",
        f"#   mitigation: {p.mitigation}",
        f"#   severity: {p.severity}",
        f"#   controls: {json.dumps(controls)}",
        f"#   fix: {json.dumps(fix)}",
    ]
    gen = _RegoExpr(name)
    ok = gen.helper(check)
    records, names = {"datastore": ("stores", "store_names"), "route": ("routes", "route_names")}.get(
        p.subject, ("functions", "function_names")
    )
    head = [f"\tsome name, fn in lib.{records}"]
    if p.applies_if is not None:
        head.append(f"\t{gen.helper(p.applies_if)}(fn.props)")
    result = {
        "predicate": p.id,
        "mitigation": p.mitigation,
        "severity": p.severity,
        "controls": controls,
        "msg": f"[{p.id}] {p.title}. Fix: {fix}.",
    }
    fields = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in result.items())
    # the verdicts as sets of resource names (cheap: rego-cpp dedupes a set of objects in quadratic time), and
    # the conftest-style violation objects built from them
    body = [
        f"# {p.id} ({p.mitigation}): {p.title}",
        *gen.lines,
        f"{name}_failing contains name if {{",
        *head,
        f"\tnot {ok}(fn.props)",
        "}",
        "",
        *(
            [f"{name}_judged contains name if {{", *head, "}", "", f"{name}_passing := {name}_judged - {name}_failing"]
            if p.applies_if is not None
            else [f"{name}_passing := lib.{names} - {name}_failing"]
        ),
        "",
        *meta,
        "violation contains v if {",
        f"\tsome name in {name}_failing",
        f'\tv := {{{fields}, "resource": name}}',
        "}",
    ]
    return "\n".join(body)


LIB_TEMPLATE = Path(__file__).resolve().parent / "data" / LIB_REGO


def _glob_regex(pattern: str) -> str:
    """An IAM-style glob (``*``, ``?``) as an anchored RE2 pattern, as ``fnmatch.fnmatchcase`` reads it."""
    return "^" + "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + "$"


def _lowered(pattern: str) -> str:
    """A case-insensitive ``(?i)`` pattern in lower case, for matching lower-cased text: rego-cpp's regular
    expressions take no inline flags. Only patterns without letter escapes (``\\d``, ``\\S``) are lowered."""
    body = pattern.removeprefix("(?i)")
    assert body != pattern and not re.search(r"\\[A-Za-z]", body), pattern
    return body.lower()


def _rego_tables() -> str:
    """``data.json``: the tables the library reads (``data.sckb_tables``): the shipped IAM and runtime facts and
    the design reader's secret patterns, so the policies and ``sckb design check`` judge from the same data."""
    import fnmatch

    from compliance.design.build import SECRET_NAME, SECRET_POINTER_NAME, SECRET_REFERENCE, SECRET_VALUE, runtime_table
    from compliance.design.iam import _STAR_RESOURCE, tables

    t = tables()

    def not_ok(actions: tuple[str, ...] | list[str]) -> list[str]:
        """The actions a role should not hold on every resource (star_resource_ok lists the harmless ones)."""
        return [a for a in actions if not any(fnmatch.fnmatchcase(a, ok) for ok in t.star_resource_ok)]

    managed: dict[str, object] = {}
    for mname, pol in sorted(t.managed_policies.items()):
        actions = [a for st in pol.statements for a in st.actions]
        star = [a for st in pol.statements if any(_STAR_RESOURCE.search(r) for r in st.resources) for a in not_ok(st.actions)]
        managed[mname] = {"admin": pol.admin, "actions": actions, "star_actions": star}

    templates: dict[str, object] = {}
    for n, sts in sorted(t.sam_policy_templates.items()):
        # granted on every resource as written, and when a parameter is "*" (DynamoDBCrudPolicy TableName "*")
        literal = [a for st in sts if any(_STAR_RESOURCE.search(r) for r in st.resources) for a in not_ok(st.actions)]
        wild = [
            a
            for st in sts
            if not any(_STAR_RESOURCE.search(r) for r in st.resources)
            and any(_STAR_RESOURCE.search(re.sub(r"\{\w+\}", "*", r)) for r in st.resources)
            for a in not_ok(st.actions)
        ]
        templates[n] = {"actions": [a for st in sts for a in st.actions], "star_actions": literal, "star_if_wildcard": wild}
    runtimes = {r: d.isoformat() for r, d in sorted(runtime_table().get("aws", {}).items())}
    tables_ = [
        ("runtime_deprecation", runtimes),
        ("managed_policies", managed),
        ("sam_policy_templates", templates),
        ("star_resource", _STAR_RESOURCE.pattern),
        ("star_resource_ok", [_glob_regex(g) for g in t.star_resource_ok]),
        ("secret_name", _lowered(SECRET_NAME.pattern)),
        ("secret_value", SECRET_VALUE.pattern),
        ("secret_pointer_name", _lowered(SECRET_POINTER_NAME.pattern)),
        ("secret_reference", _lowered(SECRET_REFERENCE.pattern)),
    ]
    # data, not Rego literals: rego-cpp rebuilds a literal table on every reference, a data document it reads
    return json.dumps({"sckb_tables": dict(tables_)}, indent=1, sort_keys=True) + "\n"


# ---------------------------------------------------------------------------------------------- export


def export(
    kb: KB, engine: Engine, *, scope: str | None, profile: ResolvedProfile | None = None, today: date | None = None
) -> Policy:
    """The policy files for ``engine`` (file name -> text) and the manifest; nothing is written. ``today``: the day
    a Guard rule's list of deprecated runtimes is taken on (default: the current day; Rego compares dates when it
    runs)."""
    pmap = property_map()
    scope_name, controls = _controls(kb, scope, profile)
    preds = [p for p, _o in sorted(kb.design_predicates.values(), key=lambda x: x[0].id)]
    per_mit: dict[str, list[Compiled]] = {}
    rego_checks: dict[str, DesignExpr] = {}
    skipped: list[Skipped] = []
    for p in preds:
        try:
            if engine == "rego":
                rego_checks[p.id] = check_rego(p, pmap)
                compiled = Compiled(p, pmap.subjects["function"], {}, {})
            else:
                compiled = compile_predicate(p, pmap)
        except Unsupported as exc:
            skipped.append({"predicate": p.id, "mitigation": p.mitigation, "reason": str(exc)})
            continue
        per_mit.setdefault(p.mitigation, []).append(compiled)
    out = Policy(engine)
    rules: list[ManifestRule] = []
    fn = pmap.subjects["function"]
    for mid, group in sorted(per_mit.items()):
        node = kb.nodes.get(mid)
        mit = node.record if node is not None and isinstance(node.record, Mitigation) else None
        fname = mid + SUFFIX[engine]
        head = [
            f"# sckb policy for mitigation {mid}" + (f": {mit.title}" if mit is not None else ""),
            f"# generated from the KB's design predicates ({', '.join(c.pred.id for c in group)}); scope {scope_name}.",
            "# Do not edit: regenerate with `sckb policy export`.",
        ]
        if engine == "cfn-guard":
            parts = [*head, "", _guard_header(fn.cfn_types, fn.sam_type)]
            used = sorted({str(a.value) for c in group for cl in c.check["cfn"] for a in cl if a.test in ("in", "not_in")})
            day = today or date.today()
            for name, values in sorted(_lists(day).items()):
                if name in used:
                    parts.append(f"# {name.replace('_', ' ')} on {day.isoformat()} (compliance/design/data/runtimes.yaml)")
                    parts.append(f"let sckb_{name} = {_guard_value(values)}")
            parts += ["\n" + _guard_rule(c, mit, controls.get(mid, [])) for c in group]
        else:
            parts = [*head, f"package sckb.{mid.replace('-', '_')}", "", "import data.sckb.lib"]
            parts += ["\n" + _rego_rules(c.pred, rego_checks[c.pred.id], mit, controls.get(mid, [])) for c in group]
        out.files[fname] = "\n".join(parts).rstrip("\n") + "\n"
        for c in group:
            rules.append(
                {
                    "predicate": c.pred.id,
                    "rule": rule_name(c.pred.id),
                    "mitigation": mid,
                    "file": fname,
                    "severity": c.pred.severity,
                    "controls": controls.get(mid, []),
                }
            )
    if engine == "rego":
        out.files[LIB_REGO] = LIB_TEMPLATE.read_text(encoding="utf-8")
        out.files[DATA_JSON] = _rego_tables()
    out.manifest = {"engine": engine, "scope": scope_name, "rules": rules, "not_expressed": skipped}
    return out


def write(policy: Policy, out_dir: Path) -> list[Path]:
    """Write the files and ``manifest.json`` into ``out_dir`` (made if missing); returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, text in sorted(policy.files.items()):
        (out_dir / name).write_text(text, encoding="utf-8")
        written.append(out_dir / name)
    (out_dir / MANIFEST).write_text(json.dumps(policy.manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    written.append(out_dir / MANIFEST)
    return written
