"""Run the generated policies with the real engines in-process and compare every verdict with the design check.

- CloudFormation Guard 3 (``guardpycfn``) reads each CloudFormation/SAM template; to get one verdict per
  resource, each function is evaluated in a template of its own (its resource plus ``Globals``);
- OPA Rego (``regopy``, rego-cpp) reads the same templates as JSON and, for Terraform, the plan-shaped JSON
  (``planned_values.root_module.resources[]``) of the HCL the design reader parses (a ``terraform show -json``
  plan gives the same shape), all rules in one query per file; each rule's ``<rule>_passing`` and
  ``<rule>_failing`` sets name the functions, data stores or routes it judged (routes by API, method and path,
  as the design check names them).

A pair (resource, predicate) agrees when the design check's present / absent / not applicable matches the
engine's pass / fail / skip. The design check's *unknown* (a value the template leaves open) has no engine
counterpart: those pairs are counted apart, not as agreement or disagreement.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from compliance.design.check import evaluate
from compliance.design.model import Design, Ref, Unknown
from compliance.design.read import _tf_dirs, _yaml_candidates, kind_of, read_design
from compliance.errors import InputError, SckbError
from compliance.kb.core import KB
from compliance.kb.model import DesignPredicate
from compliance.policy.export import ENGINES, Engine, Policy, export, rule_name

PASS, FAIL, SKIP = "pass", "fail", "skip"
#: design verdict -> the engine result that agrees with it
EXPECTED = {"present": PASS, "absent": FAIL, "n/a": SKIP}


class EngineError(InputError):
    """A policy engine refused a policy or an input (a bug in the generated policy, or a broken template)."""


def _engine(module: str, engine: str) -> Any:
    """The engine's Python binding; a one-line error naming the extra to install when it is missing."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise EngineError(
            f"the {engine} engine ({module}) is not installed: pip install 'sckb[policy]'", path="sckb policy test"
        ) from None


@dataclass(frozen=True)
class Pair:
    engine: str
    file: str
    resource: str
    predicate: str
    design: str  # present | absent | unknown | n/a
    engine_result: str  # pass | fail | skip

    @property
    def agrees(self) -> bool | None:
        return None if self.design == "unknown" else EXPECTED[self.design] == self.engine_result


@dataclass
class Comparison:
    pairs: list[Pair] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: files with functions the engines do not read (Serverless Framework, ARM, Google/Azure Terraform)
    not_covered: list[str] = field(default_factory=list)

    def counts(self, engine: str) -> dict[str, int]:
        mine = [p for p in self.pairs if p.engine == engine]
        return {
            "pairs": len(mine),
            "agree": sum(1 for p in mine if p.agrees is True),
            "disagree": sum(1 for p in mine if p.agrees is False),
            "design_unknown": sum(1 for p in mine if p.agrees is None),
        }

    def disagreements(self) -> list[Pair]:
        return [p for p in self.pairs if p.agrees is False]


# ---------------------------------------------------------------------------------------------- inputs


def _plain(v: Any) -> Any:
    """A parsed template as JSON: a resolved reference as ``${...}`` text, an open value as null."""
    if isinstance(v, Unknown):
        return None
    if isinstance(v, Ref):
        return str(v)
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)  # a YAML date or timestamp


def terraform_plan(folder: Path) -> dict[str, Any]:
    """The plan-shaped JSON (``planned_values.root_module.resources``) of a Terraform folder's resources, values
    resolved as the design reader resolves them (variables from defaults; nested blocks as lists)."""
    import hcl2

    from compliance.design.tf import TfModule

    blocks: dict[str, list[Any]] = {}
    for f in sorted(folder.glob("*.tf")):
        try:
            parsed = hcl2.loads(f.read_text(encoding="utf-8", errors="replace"))
        except Exception:  # the design reader reports unreadable HCL; here it only has no resources
            continue
        for k, v in parsed.items():
            if isinstance(v, list):
                blocks.setdefault(k, []).extend(v)
    mod = TfModule(folder.name, blocks)
    resources: list[dict[str, Any]] = []
    for (typ, name), body in sorted(mod.resources.items()):
        values: dict[str, Any] = {}
        for k, raw in body.items():
            if k.startswith("__") or k == "dynamic":
                continue
            v = _plain(mod.value(raw))
            is_block = (isinstance(raw, dict) and raw.get("__is_block__")) or (
                isinstance(raw, list) and raw and isinstance(raw[0], dict) and raw[0].get("__is_block__")
            )
            values[k] = ([v] if isinstance(v, dict) else v) if is_block else v
        resources.append({"address": f"{typ}.{name}", "mode": "managed", "type": typ, "name": name, "values": values})
    return {"format_version": "1.2", "planned_values": {"root_module": {"resources": resources}}}


@dataclass(frozen=True)
class Source:
    shown: str  # as the design check names the file or folder
    fmt: str  # cfn | tf
    doc: dict[str, Any]


def sources(path: Path) -> tuple[list[Source], list[str]]:
    """The CloudFormation/SAM templates and Terraform folders under ``path``; and the other templates found."""
    from compliance.design.cfnyaml import load_template_text

    single = path.is_file()
    base = path if path.is_dir() else path.parent
    out: list[Source] = []
    other: list[str] = []
    for p in _yaml_candidates(path):
        shown = p.name if single else str(p.relative_to(base))
        try:
            doc = load_template_text(p.read_text(encoding="utf-8"), shown)
        except (SckbError, UnicodeDecodeError):
            continue
        kind = kind_of(doc)
        if kind == "cfn":
            out.append(Source(shown, "cfn", _plain(doc)))
        elif kind is not None:
            other.append(shown)
    for d in _tf_dirs(path):
        if d.is_file():
            continue
        shown = str(d.relative_to(base)) if d != base else "."
        out.append(Source(shown, "tf", terraform_plan(d)))
    return out, other


# ---------------------------------------------------------------------------------------------- engines


def run_guard(rules: str, doc: dict[str, Any], where: str) -> dict[str, str]:
    """rule name -> pass / fail / skip for one data document.

    Read from the verbose evaluation tree (one ``RuleCheck`` per rule): guardpycfn 0.1.0 hands the structured
    summary back as a truncated string once it passes about 4 KB, the tree it returns whole."""
    guardpycfn = _engine("guardpycfn", "cfn-guard")
    res = guardpycfn.validate_with_guard(json.dumps(doc), rules, True)
    body = res.get("result")
    if not res.get("success") or not isinstance(body, dict):
        raise EngineError(f"cfn-guard: {str(res.get('error', 'no result'))[:300]}", path=where)
    out: dict[str, str] = {}
    for child in body.get("children") or []:
        rc = (child.get("container") or {}).get("RuleCheck")
        if isinstance(rc, dict):
            out[str(rc["name"])] = {"PASS": PASS, "FAIL": FAIL}.get(str(rc["status"]), SKIP)
    return out


def rego_interpreter(policy: Policy, today: date | None = None) -> Any:
    """An interpreter with the policy's modules; ``today`` (the date deprecation checks compare with) as
    ``data.sckb_clock.today``, else the policies use the evaluation day."""
    regopy = _engine("regopy", "rego")
    interp = regopy.Interpreter()
    if today is not None:
        interp.add_data_json(json.dumps({"sckb_clock": {"today": today.isoformat()}}))
    for name, text in sorted(policy.files.items()):
        try:
            if name.endswith(".json"):
                interp.add_data_json(text)
            else:
                interp.add_module(name, text)
        except regopy.RegoError as exc:
            raise EngineError(f"rego: {str(exc).splitlines()[0][:300]}", path=name) from None
    return interp


def rego_queries(policy: Policy) -> list[tuple[str, str]]:
    """(predicate id, ``data.<package>.<rule>``) of every rule of an export."""
    assert policy.manifest is not None
    return [
        (r["predicate"], "data.sckb." + r["file"][: -len(".rego")].replace("-", "_") + "." + r["rule"])
        for r in policy.manifest["rules"]
    ]


def run_rego(interp: Any, doc: dict[str, Any], where: str, queries: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(resource, predicate) -> pass / fail for every pair a policy judged, from each rule's ``<rule>_passing``
    and ``<rule>_failing`` sets of resource names, bound in one query."""
    import regopy

    parts = ", ".join(f'"{pid}": [{ref}_passing, {ref}_failing]' for pid, ref in queries)
    try:
        interp.set_input(regopy.Input(doc))
        out = interp.query(f"x := {{{parts}}}")
    except regopy.RegoError as exc:
        raise EngineError(f"rego: {str(exc).splitlines()[0][:300]}", path=where) from None
    except ValueError:  # regopy 1.5.2 hands an evaluation error back as text it then fails to parse as JSON
        raise EngineError("rego: the evaluation failed (an error inside the policies)", path=where) from None
    if not out.ok():
        raise EngineError(f"rego: {str(out)[:300]}", path=where)
    tree = json.loads(str(out))["bindings"]["x"]
    got: dict[tuple[str, str], str] = {}
    for pid, (passing, failing) in tree.items():
        got.update({(n, pid): PASS for n in passing})
        got.update({(n, pid): FAIL for n in failing})
    return got


# ---------------------------------------------------------------------------------------------- compare


def _design_verdicts(design: Design, preds: list[DesignPredicate]) -> dict[tuple[str, str, str], str]:
    """(file, resource, predicate) -> present / absent / unknown for AWS functions and data stores."""
    out: dict[tuple[str, str, str], str] = {}
    for v in evaluate(design, preds):
        if v.provider == "aws" and v.kind in (*SUBJECT_TYPES, "route"):
            out[(v.file, v.name, v.predicate)] = v.status
    return out


#: subject -> (CloudFormation types, Terraform types) of the resources the engines judge
SUBJECT_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "function": (("AWS::Lambda::Function", "AWS::Serverless::Function"), ("aws_lambda_function",)),
    "datastore": (
        (
            "AWS::DynamoDB::Table",
            "AWS::Serverless::SimpleTable",
            "AWS::S3::Bucket",
            "AWS::SQS::Queue",
            "AWS::SNS::Topic",
            "AWS::SecretsManager::Secret",
            "AWS::Kinesis::Stream",
        ),
        ("aws_dynamodb_table", "aws_s3_bucket", "aws_sqs_queue", "aws_sns_topic", "aws_secretsmanager_secret"),
    ),
}


def _subjects(src: Source, subject: str) -> list[str]:
    """The resources of a template or plan a predicate on ``subject`` judges."""
    types, tf_types = SUBJECT_TYPES[subject]
    if src.fmt == "cfn":
        res = src.doc.get("Resources") or {}
        return sorted(n for n, r in res.items() if isinstance(r, dict) and r.get("Type") in types)
    rs = src.doc["planned_values"]["root_module"]["resources"]
    return sorted(r["address"] for r in rs if r["type"] in tf_types)


def compare_policies(
    kb: KB,
    path: Path,
    *,
    today: date,
    engines: tuple[Engine, ...] = ENGINES,
    progress: Callable[[str], None] | None = None,
) -> Comparison:
    """Export the policies for each engine, run them on every template under ``path``, compare with the design
    check of the same path."""
    design = read_design(path, today=today)
    routes: dict[str, list[str]] = {}
    for el in design.of_kind("route"):
        if el.provider == "aws":
            routes.setdefault(el.file, []).append(el.name)
    srcs, other = sources(path)
    result = Comparison(files=[s.shown for s in srcs])
    covered = {s.shown for s in srcs}
    result.not_covered = sorted(
        {el.file for el in design.of_kind("function") if el.file not in covered} | {o for o in other if o not in covered}
    )
    for engine in engines:
        policy = export(kb, engine, scope="fedramp-moderate", today=today)
        assert policy.manifest is not None
        pred_ids = [r["predicate"] for r in policy.manifest["rules"]]
        preds = [kb.design_predicates[p][0] for p in pred_ids]
        verdicts = _design_verdicts(design, preds)
        interp = rego_interpreter(policy, today) if engine == "rego" else None
        rules = "\n\n".join(text for _n, text in sorted(policy.files.items())) if engine == "cfn-guard" else ""
        for src in srcs:
            if progress is not None:
                progress(f"{engine}: {src.shown}")
            judged = {s: _subjects(src, s) for s in SUBJECT_TYPES}
            # routes are named by API, method and path (CloudFormation) or address (Terraform), not by one resource:
            # those the design check built, and below those the engine judged
            judged["route"] = sorted(routes.get(src.shown, []))
            pairs = [(n, p.id) for p in preds for n in judged.get(p.subject, [])]
            names = judged["function"]
            if not pairs:
                continue
            if engine == "cfn-guard":
                if src.fmt != "cfn" or not names:
                    continue
                got: dict[tuple[str, str], str] = {}
                for name in names:
                    one = {"Resources": {name: src.doc["Resources"][name]}}
                    if "Globals" in src.doc:
                        one["Globals"] = src.doc["Globals"]
                    per_rule = run_guard(rules, one, src.shown)
                    for pid in pred_ids:
                        got[(name, pid)] = per_rule.get(rule_name(pid), SKIP)
            else:
                checked = run_rego(interp, src.doc, src.shown, rego_queries(policy))
                route_ids = {p.id for p in preds if p.subject == "route"}
                extra = sorted({n for n, pid in checked if pid in route_ids} - set(judged["route"]))
                pairs += [(n, pid) for pid in sorted(route_ids) for n in extra]
                got = {(n, pid): checked.get((n, pid), SKIP) for n, pid in pairs}
            for (name, pid), res in sorted(got.items()):
                d = verdicts.get((src.shown, name, pid), "n/a")
                result.pairs.append(Pair(engine, src.shown, name, pid, d, res))
    return result
