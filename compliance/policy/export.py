"""Render compiled predicates as CloudFormation Guard 3 rules or Rego (OPA v1) policies, one file per mitigation.

Every rule carries its predicate id, mitigation, the controls in scope it supports, severity and a fix hint
(Guard: the clause's custom message; Rego: the rule's METADATA annotation and each violation object). The
output is deterministic: files and rules sorted by id, no clock, keys sorted in the manifest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict

from compliance.kb.core import KB
from compliance.kb.model import DesignPredicate, Mitigation
from compliance.kb.profile import ResolvedProfile
from compliance.kb.scope import KBIndex, resolve
from compliance.policy.compile import Atom, Clause, Compiled, Fmt, Unsupported, compile_predicate, property_map

Engine = Literal["cfn-guard", "rego"]
ENGINES: tuple[Engine, ...] = ("cfn-guard", "rego")
SUFFIX: dict[Engine, str] = {"cfn-guard": ".guard", "rego": ".rego"}
MANIFEST = "manifest.json"
LIB_REGO = "sckb_lib.rego"


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


def _natural(cid: str) -> tuple[object, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", cid))


# ---------------------------------------------------------------------------------------------- Guard


def _guard_value(v: object) -> str:
    return json.dumps(v)


def _guard_atom(a: Atom, root: str) -> str:
    ref = f"{root}.{a.path}"
    if a.test == "nonempty":
        return f"{ref} !empty"
    if a.test == "missing":
        return f"{ref} not exists"
    op = {"equals": "==", "gte": ">=", "lte": "<="}[a.test]
    return f"{ref} {op} {_guard_value(a.value)}"


def _guard_clauses(clauses: tuple[Clause, ...], sam: bool) -> list[list[str]]:
    """Clauses as Guard text. In a SAM block a property comes from the function or, when the function does not
    set its top-level key, from ``Globals.Function`` (as SAM merges them): a clause C becomes
    ``C(fn) or key unset`` for each key, and ``C(fn) or C(Globals)``."""
    out: list[list[str]] = []
    for clause in clauses:
        if not sam:
            out.append([_guard_atom(a, "Properties") for a in clause])
            continue
        tests = [a for a in clause if a.test != "missing"]
        own = [_guard_atom(a, "Properties") for a in tests]
        for key in sorted({a.path.split(".")[0] for a in tests}):
            out.append([*own, f"Properties.{key} not exists"])
        out.append([*own, *(_guard_atom(a, "%sckb_globals") for a in clause)])
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
        for cl in _guard_clauses(c.check["cfn"], sam):
            lines.append("            " + " or\n            ".join(cl))
        lines.append("            <<")
        lines.append(f"                {msg}")
        lines.append("            >>")
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


def _rego_atom(a: Atom) -> str:
    v = f"object.get(p, {_rego_path(a.path)}, null)"
    if a.test == "nonempty":
        return f"lib.nonempty({v})"
    if a.test == "missing":
        return f"{v} == null"
    if a.test == "equals":
        return f"{v} == {json.dumps(a.value)}"
    op = ">=" if a.test == "gte" else "<="
    return f"is_number({v})\n\t{v} {op} {json.dumps(a.value)}"


def _rego_fn(name: str, clauses: Mapping[Fmt, tuple[Clause, ...]]) -> list[str]:
    """``name(fn)`` holds when the format's clauses all hold; each clause is a helper with one body per atom."""
    out: list[str] = []
    for fmt, cls in clauses.items():
        for i, cl in enumerate(cls, start=1):
            for a in cl:
                out += [f"_{name}_{fmt}_{i}(p) if {{", f"\t{_rego_atom(a)}", "}", ""]
        calls = [f'\tfn.format == "{fmt}"'] + [f"\t_{name}_{fmt}_{i}(fn.props)" for i in range(1, len(cls) + 1)]
        out += [f"_{name}(fn) if {{", *calls, "}", ""]
    return out


def _rego_rules(c: Compiled, mit: Mitigation | None, controls: list[str]) -> str:
    p = c.pred
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
    body = [f"# {p.id} ({p.mitigation}): {p.title}"]
    body += _rego_fn(f"{name}_ok", c.check)
    if any(c.applies.values()):
        body += _rego_fn(f"{name}_applies", c.applies)
        applies = f"\t_{name}_applies(fn)"
    else:
        applies = None
    result = {
        "predicate": p.id,
        "mitigation": p.mitigation,
        "severity": p.severity,
        "controls": controls,
        "msg": f"[{p.id}] {p.title}. Fix: {fix}.",
    }
    fields = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in result.items())
    head = ["\tsome name, fn in lib.functions", *([applies] if applies else [])]
    # the verdicts as sets of resource names (cheap: rego-cpp dedupes a set of objects in quadratic time), and
    # the conftest-style violation objects built from them
    body += [
        f"{name}_failing contains name if {{",
        *head,
        f"\tnot _{name}_ok(fn)",
        "}",
        "",
        f"{name}_passing contains name if {{",
        *head,
        f"\t_{name}_ok(fn)",
        "}",
        "",
        *meta,
        "violation contains v if {",
        f"\tsome name in {name}_failing",
        f'\tv := {{{fields}, "resource": name}}',
        "}",
    ]
    return "\n".join(body)


def _rego_lib(cfn_types: tuple[str, ...], sam_type: str, tf_types: tuple[str, ...]) -> str:
    return "\n".join(
        [
            "# sckb policy library: the functions of a CloudFormation/SAM template or a Terraform plan, normalised",
            "# to {format, props} (a SAM function's props: Globals.Function under its own, as SAM merges them).",
            "package sckb.lib",
            "",
            f"cfn_types := {json.dumps(sorted(cfn_types))}",
            "",
            f"tf_types := {json.dumps(sorted(tf_types))}",
            "",
            "functions[name] := fn if {",
            "\tsome name, r in input.Resources",
            "\tr.Type in cfn_types",
            f'\tr.Type != "{sam_type}"',
            '\tfn := {"format": "cfn", "props": object.get(r, "Properties", {})}',
            "}",
            "",
            "functions[name] := fn if {",
            "\tsome name, r in input.Resources",
            f'\tr.Type == "{sam_type}"',
            '\tglobals := object.get(input, ["Globals", "Function"], {})',
            '\tprops := object.get(r, "Properties", {})',
            "\t# SAM: a key the function sets replaces the global one; environment variables merge name by name",
            '\tenv := object.union(object.get(globals, "Environment", {}), object.get(props, "Environment", {}))',
            "\town := object.union(object.remove(globals, object.keys(props)), props)",
            '\tfn := {"format": "cfn", "props": object.union(own, {"Environment": env})}',
            "}",
            "",
            "functions[r.address] := fn if {",
            "\tsome r in plan_resources",
            "\tr.type in tf_types",
            '\tfn := {"format": "tf", "props": object.get(r, "values", {})}',
            "}",
            "",
            "# a plan's resources, the root module's and its child modules' (two levels, as module trees are shallow)",
            'plan_resources contains r if some r in object.get(input, ["planned_values", "root_module", "resources"], [])',
            "",
            "plan_resources contains r if {",
            '\tsome m in object.get(input, ["planned_values", "root_module", "child_modules"], [])',
            '\tsome r in object.get(m, "resources", [])',
            "}",
            "",
            "nonempty(x) if {",
            "\tx != null",
            '\tx != ""',
            "\tx != []",
            "\tx != {}",
            "\tx != false",
            "}",
            "",
        ]
    )


# ---------------------------------------------------------------------------------------------- export


def export(kb: KB, engine: Engine, *, scope: str | None, profile: ResolvedProfile | None = None) -> Policy:
    """The policy files for ``engine`` (file name -> text) and the manifest; nothing is written."""
    pmap = property_map()
    scope_name, controls = _controls(kb, scope, profile)
    preds = [p for p, _o in sorted(kb.design_predicates.values(), key=lambda x: x[0].id)]
    per_mit: dict[str, list[Compiled]] = {}
    skipped: list[Skipped] = []
    for p in preds:
        try:
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
            parts += ["\n" + _guard_rule(c, mit, controls.get(mid, [])) for c in group]
        else:
            parts = [*head, f"package sckb.{mid.replace('-', '_')}", "", "import data.sckb.lib"]
            parts += ["\n" + _rego_rules(c, mit, controls.get(mid, [])) for c in group]
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
        out.files[LIB_REGO] = _rego_lib(fn.cfn_types, fn.sam_type, fn.tf_types)
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
