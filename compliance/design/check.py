"""The design check: predicates per element, mitigation and control status in a scope, attack paths.

Status rules (also in the README, "Design check"):

- an element's verdict for a predicate is present / absent / unknown (:mod:`compliance.design.predicates`);
- a mitigation's design status: ``absent`` if any judged element is absent, else ``unknown`` if any is unknown,
  else ``present``; a mitigation no predicate judged anywhere in this design is not *checkable* here;
- a control in scope is ``met`` when every checkable mitigation that maps to it is present, ``unmet`` when one
  is absent, ``unknown`` otherwise (some unknown, or no checkable mitigation maps to it). This is the
  assessment stage's :func:`compliance.kb.status.combine` read with present = satisfied,
  absent = not-satisfied, unknown = not-assessed (satisfied -> met, not-satisfied -> unmet, else unknown).
  HIPAA safeguards (``--scope hipaa``) follow the same rule over the mitigations mapped to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import networkx as nx

from compliance.design.attack import attack_paths
from compliance.design.model import Design, Element, Unknown
from compliance.design.predicates import ABSENT, PRESENT, UNKNOWN, applies, explain_unknown, judge
from compliance.design.read import read_design
from compliance.design.result import DesignJson, DesignResult, FunctionJson, Summary, Verdict
from compliance.kb.load import KB
from compliance.kb.model import DesignPredicate
from compliance.kb.profile import ResolvedProfile
from compliance.kb.scope import KBIndex, resolve
from compliance.kb.status import NOT_ASSESSED, NOT_SATISFIED, SATISFIED, combine, is_determinative

MET, UNMET = "met", "unmet"


def design_status(values: list[str]) -> str:
    """A mitigation's status from its verdicts (see the module docstring)."""
    if ABSENT in values:
        return ABSENT
    if UNKNOWN in values:
        return UNKNOWN
    return PRESENT


def control_status(children: list[str]) -> str:
    """met / unmet / unknown from the checkable mitigations' statuses, through the assessment's rule."""
    mapped = [{PRESENT: SATISFIED, ABSENT: NOT_SATISFIED}.get(c, NOT_ASSESSED) for c in children]
    out = combine(mapped)
    return MET if out == SATISFIED else UNMET if out == NOT_SATISFIED else UNKNOWN


def predicates_of(kb: KB) -> list[DesignPredicate]:
    return [p for p, _o in sorted(kb.design_predicates.values(), key=lambda x: x[0].id)]


def evaluate(design: Design, preds: list[DesignPredicate]) -> list[Verdict]:
    out: list[Verdict] = []
    by_kind: dict[str, list[Element]] = {}
    for el in design.elements.values():
        by_kind.setdefault(el.kind, []).append(el)
    for pred in preds:
        for el in sorted(by_kind.get(pred.subject, []), key=lambda e: e.id):
            if not applies(pred, el):
                continue
            st = judge(pred, el)
            fn = el.name if el.kind == "function" else el.props.get("function") if el.kind == "route" else None
            out.append(
                Verdict(
                    pred.id,
                    pred.mitigation,
                    el.id,
                    el.kind,
                    el.name,
                    fn,
                    st,
                    pred.severity,
                    pred.title,
                    el.file,
                    el.line,
                    el.provider,
                    explain_unknown(pred, el) if st == UNKNOWN else None,
                    qualified_name(el),
                )
            )
    return out


#: how scanners name a function resource, per reader framework
_QUALIFIED = {
    "sam": "AWS::Serverless::Function.",
    "cloudformation": "AWS::Lambda::Function.",
    "serverless": "AWS::Lambda::Function.",
}


def qualified_name(el: Element) -> str:
    """The element as scanner findings name it: ``AWS::Serverless::Function.X`` for SAM functions, the address for
    Terraform resources, ``route:...`` / ``datastore:...`` otherwise."""
    if el.kind == "function":
        prefix = _QUALIFIED.get(str(el.props.get("framework")))
        return prefix + el.name if prefix else el.name
    if el.name.startswith(("aws_", "google_", "azurerm_")) and " " not in el.name:
        return el.name
    return f"{el.kind}:{el.name}"


def run_check(
    kb: KB,
    path: Path,
    scope: str | Sequence[str] | None,
    *,
    today: date,
    classification: Path | None = None,
    profile: ResolvedProfile | None = None,
) -> DesignResult:
    """Check the design at ``path`` against the controls of ``scope`` (one scope name or several) and of a
    tailored baseline ``profile`` (either may be None, not both; together: their union)."""
    design = read_design(path, today=today, classification=classification)
    idx = KBIndex.build(kb)
    names = [scope] if isinstance(scope, str) else list(scope or [])
    sc = resolve(kb, names, idx, profile)
    res = DesignResult(str(path), " + ".join(sc.names), design)
    if kb.frameworks:
        res.safeguards_label = " / ".join(f.label for f in kb.frameworks.values())
    res.verdicts = evaluate(design, predicates_of(kb))
    per_mit: dict[str, list[str]] = {}
    for v in res.verdicts:
        per_mit.setdefault(v.mitigation, []).append(v.status)
    res.mitigations = {m: design_status(vs) for m, vs in sorted(per_mit.items())}
    targets: list[tuple[str, list[tuple[str, str | None]]]] = [(c, idx.control_mitigations.get(c, [])) for c in sc.controls]
    targets += [(s, idx.safeguard_mitigations.get(s, [])) for s in sc.safeguards]
    for cid, links in targets:
        # only determinative links (subset-of/equal) decide, as in the assessment (status rule 2)
        mits = sorted({m for m, rel in links if is_determinative(rel)})
        checkable = {m: res.mitigations[m] for m in mits if m in res.mitigations}
        entry = kb.nodes.get(cid)
        res.controls[cid] = {
            "id": cid,
            "title": entry.record.title if entry else cid,
            "kind": entry.kind.value if entry else "control",
            "status": control_status(list(checkable.values())),
            "mitigations": checkable,
            "checkable": bool(checkable),
            "not_checkable": [m for m in mits if m not in res.mitigations],
        }
    res.paths = attack_paths(design, kb, sc.controls)
    return res


def summary(res: DesignResult) -> Summary:
    def count(values: list[str], keys: tuple[str, ...]) -> dict[str, int]:
        return {k: sum(1 for v in values if v == k) for k in keys}

    return {
        "functions": len(res.design.of_kind("function")),
        "routes": len(res.design.of_kind("route")),
        "datastores": len(res.design.of_kind("datastore")),
        "verdicts": count([v.status for v in res.verdicts], (PRESENT, ABSENT, UNKNOWN)),
        "mitigations": count(list(res.mitigations.values()), (PRESENT, ABSENT, UNKNOWN)),
        "controls": count([c["status"] for c in res.controls.values()], (MET, UNMET, UNKNOWN)),
        # of the unknown ones: controls no design-visible mitigation reaches (the design cannot tell)
        "controls_not_checkable": sum(1 for c in res.controls.values() if not c["checkable"]),
        "attack_paths": len(res.paths),
        "graph": {"nodes": len(res.design.elements), "links": len(res.design.links)},
        "partial": res.partial,
    }


def _plain(v: Any) -> Any:
    if isinstance(v, Unknown):
        return f"<unknown: {v.reason}>"
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def as_json(res: DesignResult) -> DesignJson:
    funcs: list[FunctionJson] = []
    for f in sorted(res.design.of_kind("function"), key=lambda e: e.id):
        funcs.append(
            {
                "name": f.name,
                "file": f.file,
                "line": f.line,
                "provider": f.provider,
                "runtime": _plain(f.props.get("runtime")),
                "public": f.props.get("public"),
                "triggers": f.props.get("triggers", []),
            }
        )
    return {
        "schema": "sckb-design/1",
        "path": res.path,
        "scope": res.scope,
        "files": res.design.files,
        "warnings": res.design.warnings,
        "summary": summary(res),
        "functions": funcs,
        "verdicts": [v.as_dict() for v in sorted(res.verdicts, key=lambda v: (v.file, v.name, v.predicate))],
        "mitigations": res.mitigations,
        "controls": list(res.controls.values()),
        "attack_paths": res.paths,
    }


def write_graphml(design: Design, path: Path) -> None:
    """The architecture graph as GraphML (node attributes kind, name, provider; edge attribute kind and, for
    store access, level and actions)."""
    g = design.graph()
    for _u, _v, data in g.edges(data=True):
        for k, val in list(data.items()):
            if not isinstance(val, (str, int, float, bool)):
                data[k] = ", ".join(map(str, val)) if isinstance(val, (list, tuple)) else str(val)
    path.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(g, str(path))
