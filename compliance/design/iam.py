"""IAM: policy documents, SAM policy templates and managed policies reduced to allowed statements, and what
those statements let a function do to a data store (read, write, administer)."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NotRequired, TypedDict

from compliance.design.model import Ref, Unknown
from compliance.kb.designdata import IamData, design_data


def tables() -> IamData:
    """The shipped IAM facts (``compliance/design/data/iam.yaml``), typed and validated with the KB."""
    return design_data().iam


#: resource patterns that name every resource of a service (``*``, ``arn:aws:s3:::*``, ``table/*``)
_STAR_RESOURCE = re.compile(
    r"^\*$|^arn:aws:[a-z0-9-]+:[^:]*:[^:]*:\*$|:::\*$|:(table|stream|function|secret|key|parameter)[/:]\*$"
)


@dataclass
class Statement:
    actions: list[Any]  # str | Unknown
    resources: list[Any]  # str | Unknown
    source: str  # where it came from: "inline", "SAM DynamoDBCrudPolicy", "managed AmazonS3FullAccess"
    not_action: bool = False


class RoleSummary(TypedDict):
    """A role's permissions as the function property ``role`` (predicates read ``role.actions`` ...)."""

    actions: list[Any]  # str | Unknown; NotAction statements count as "*"
    resources: list[Any]  # str | Unknown
    managed: list[Any]  # managed policy names (str | Unknown)
    admin_managed: list[Any]  # those that grant full control or permissions management
    statement_count: int
    star_resource_actions: NotRequired[list[Any]]  # actions granted on every resource
    # set when the design is finished (design/build.py)
    shared_by: NotRequired[Any]  # how many functions use the role (int | Unknown)
    boundary: NotRequired[Any]
    trust: NotRequired[list[Any]]


@dataclass
class Permissions:
    """Everything a role allows, flattened."""

    statements: list[Statement] = field(default_factory=list)
    managed: list[Any] = field(default_factory=list)  # managed policy names (str | Unknown)
    unknown: list[str] = field(default_factory=list)  # reasons parts could not be read

    def props(self) -> RoleSummary:
        t = tables()
        actions: list[Any] = []
        res: list[Any] = []
        for st in self.statements:
            actions.extend(["*"] if st.not_action else st.actions)
            res.extend(st.resources)
        for r in self.unknown:
            actions.append(Unknown(r))
            res.append(Unknown(r))
        admin = [m for m in self.managed if isinstance(m, str) and m in t.managed_policies and t.managed_policies[m].admin]
        star: list[Any] = []
        for st in self.statements:
            if any(isinstance(r, str) and _STAR_RESOURCE.search(r) for r in st.resources):
                for a in ["*"] if st.not_action else st.actions:
                    if isinstance(a, str) and not any(fnmatch.fnmatchcase(a, ok) for ok in t.star_resource_ok) and a not in star:
                        star.append(a)
        return {
            "actions": actions,
            "resources": res,
            "managed": list(self.managed),
            "admin_managed": admin,
            "statement_count": len(self.statements),
            "star_resource_actions": star,
        }


def as_text(v: Any) -> Any:
    """A resolved value as text for matching: refs become ``${Target.Attr}``; Unknown stays Unknown."""
    if isinstance(v, Unknown):
        return v
    if isinstance(v, Ref):
        return str(v)
    if isinstance(v, (int, float, bool)):
        return str(v)
    if isinstance(v, str):
        return v
    return Unknown(f"non-text value {type(v).__name__}")


def _listify(v: Any) -> list[Any]:
    if v is None:
        return []
    if isinstance(v, list):
        return v
    return [v]


def parse_document(doc: Any, source: str) -> tuple[list[Statement], list[str]]:
    """Allow statements of a policy document (dict, JSON text, or resolved value). Deny statements are ignored
    (they only narrow). Returns (statements, reasons for unknown parts)."""
    if isinstance(doc, str):
        text = doc.strip()
        if text.startswith("<<"):
            text = text.split("\n", 1)[1].rsplit("\n", 1)[0] if "\n" in text else ""
        try:
            doc = json.loads(text)
        except ValueError:
            return [], [f"{source}: policy document is not JSON"]
    if isinstance(doc, Unknown):
        return [], [f"{source}: {doc.reason}"]
    if not isinstance(doc, dict):
        return [], [f"{source}: policy document not readable"]
    out: list[Statement] = []
    unknown: list[str] = []
    stmts = doc.get("Statement", doc.get("statement"))
    for st in _listify(stmts):
        if isinstance(st, Unknown):
            unknown.append(f"{source}: {st.reason}")
            continue
        if not isinstance(st, dict):
            unknown.append(f"{source}: statement not readable")
            continue
        effect = st.get("Effect", st.get("effect", "Allow"))
        if isinstance(effect, Unknown):
            unknown.append(f"{source}: effect {effect.reason}")
            continue
        if str(effect).lower() != "allow":
            continue
        not_action = "NotAction" in st
        acts = _listify(st.get("Action", st.get("actions", st.get("NotAction"))))
        res = _listify(st.get("Resource", st.get("resources", st.get("NotResource", ["*"]))))
        out.append(Statement([as_text(a) for a in acts], [as_text(r) for r in res], source, not_action))
    return out, unknown


def expand_sam_policy(item: Any, perms: Permissions) -> None:
    """One entry of a SAM function's ``Policies``: a managed policy name or ARN, a policy template, or a document."""
    t = tables()
    if isinstance(item, str):
        add_managed(item, perms)
        return
    if isinstance(item, Unknown):
        perms.unknown.append(item.reason)
        return
    if isinstance(item, Ref):
        perms.managed.append(str(item))
        perms.unknown.append(f"policy {item} defined elsewhere")
        return
    if not isinstance(item, dict):
        perms.unknown.append("policy entry not readable")
        return
    if "Statement" in item:
        sts, unk = parse_document(item, "inline")
        perms.statements.extend(sts)
        perms.unknown.extend(unk)
        return
    for name, params in item.items():
        tmpl = t.sam_policy_templates.get(name)
        if tmpl is None:
            perms.unknown.append(f"SAM policy template {name} not in the table")
            continue
        params = params if isinstance(params, dict) else {}
        for st in tmpl:
            resources_ = []
            for r in st.resources:
                val: Any = r
                for key in re.findall(r"\{(\w+)\}", r):
                    p = as_text(params.get(key, Unknown(f"{name} parameter {key} missing")))
                    if isinstance(p, Unknown):
                        val = p
                        break
                    val = val.replace("{" + key + "}", p)
                resources_.append(val)
            perms.statements.append(Statement(list(st.actions), resources_, f"SAM {name}"))


def managed_name(arn_or_name: str) -> str:
    return arn_or_name.rsplit("/", 1)[-1] if arn_or_name.startswith("arn:") else arn_or_name


def add_managed(value: Any, perms: Permissions) -> None:
    t = tables()
    if isinstance(value, Unknown):
        perms.managed.append(value)
        perms.unknown.append(value.reason)
        return
    text = as_text(value)
    if isinstance(text, Unknown):
        perms.unknown.append(text.reason)
        return
    name = managed_name(text)
    perms.managed.append(name)
    pol = t.managed_policies.get(name)
    if pol is None:
        if isinstance(value, str) and value.startswith("arn:aws:iam::aws:policy"):
            perms.unknown.append(f"managed policy {name} not in the table")
        elif not isinstance(value, Ref):
            perms.unknown.append(f"policy {name} not in the table")
        return
    for st in pol.statements:
        perms.statements.append(Statement(list(st.actions), list(st.resources), f"managed {name}"))


# ------------------------------------------------------------------------------------------- access to stores

#: data store type -> (IAM service prefix, ARN template for matching resource patterns)
STORE_SERVICES: dict[str, tuple[str, str]] = {
    "table": ("dynamodb", "arn:aws:dynamodb:region:account:table/{name}"),
    "bucket": ("s3", "arn:aws:s3:::{name}"),
    "queue": ("sqs", "arn:aws:sqs:region:account:{name}"),
    "topic": ("sns", "arn:aws:sns:region:account:{name}"),
    "secret": ("secretsmanager", "arn:aws:secretsmanager:region:account:secret:{name}"),
    "stream": ("kinesis", "arn:aws:kinesis:region:account:stream/{name}"),
}


@cache
def _pattern(p: str) -> re.Pattern[str]:
    # ${...} placeholders (unresolved parts) match anything, like IAM wildcards
    p = re.sub(r"\$\{[^}]*\}", "*", p)
    return re.compile(fnmatch.translate(p))


@cache
def action_level(action: str, service: str) -> str | None:
    """'admin', 'write', 'read' or None (action does not apply to the service)."""
    if action == "*":
        return "admin"
    svc, _, verb = action.partition(":")
    if svc.lower() != service:
        return None
    t = tables()
    if verb == "*":
        return "admin"
    if any(verb.startswith(v) or fnmatch.fnmatchcase(v, verb) for v in t.admin_verbs):
        return "admin"
    if any(verb.startswith(v) or (("*" in verb) and fnmatch.fnmatchcase(v, verb)) for v in t.write_verbs):
        return "write"
    return "read"


def access_to(
    perms_statements: list[Statement], store_type: str, keys: list[str], name: str | None
) -> tuple[str | None, list[str]]:
    """The strongest access (admin > write > read) the statements grant on one data store, and the actions giving it.

    ``keys`` are strings that identify the store inside resource texts (its logical id as ``${Id``, its name);
    ``name`` builds an ARN to test resource patterns against."""
    service, arn_t = STORE_SERVICES[store_type]
    arn = arn_t.format(name=name) if name else None
    rank = {"read": 1, "write": 2, "admin": 3}
    best: str | None = None
    why: list[str] = []
    for st in perms_statements:
        hit = False
        for r in st.resources:
            if isinstance(r, Unknown):
                continue
            if r == "*" or any(k and k in r for k in keys) or (arn is not None and _pattern(r).match(arn)):
                hit = True
                break
        if not hit:
            continue
        for a in ["*"] if st.not_action else st.actions:
            if isinstance(a, Unknown):
                continue
            lvl = action_level(a, service)
            if lvl is None:
                continue
            if best is None or rank[lvl] > rank[best]:
                best, why = lvl, [a]
            elif lvl == best and a not in why:
                why.append(a)
    return best, why
