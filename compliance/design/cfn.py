"""CloudFormation and AWS SAM templates (YAML with intrinsic tags, or JSON) -> design elements.

Also used for the ``resources:`` section of Serverless Framework files.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypedDict, Unpack

import networkx as nx

from compliance.design.iam import Permissions, add_managed, as_text, expand_sam_policy, parse_document
from compliance.design.model import (
    Design,
    Element,
    FunctionProps,
    Props,
    Raw,
    Ref,
    StoreProps,
    Unknown,
    function_element,
    role_element,
    route_element,
    source_element,
    store_element,
)
from compliance.errors import InputError

PSEUDO = {
    "AWS::Region",
    "AWS::AccountId",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::Partition",
    "AWS::URLSuffix",
    "AWS::NotificationARNs",
}
#: intrinsic functions we know; those not evaluated give Unknown values (never a guess)
KNOWN_FN = {
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::Join",
    "Fn::If",
    "Fn::Select",
    "Fn::FindInMap",
    "Fn::Split",
    "Fn::ImportValue",
    "Fn::GetAZs",
    "Fn::Base64",
    "Fn::Cidr",
    "Fn::Transform",
    "Fn::ToJsonString",
    "Fn::Length",
    "Fn::Equals",
    "Fn::And",
    "Fn::Or",
    "Fn::Not",
    "Fn::ForEach",
    "Fn::GetParam",
}
MAX_DEPTH = 60
_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass
class Resolver:
    """Evaluates the intrinsic functions a design check can evaluate statically."""

    params: Raw
    resources: Raw
    mappings: Raw
    warnings: set[str] = field(default_factory=set)
    #: extra name -> value substitutions (Serverless Framework has none; kept for Fn::Sub variable maps)

    def ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            return Unknown("!Ref to a non-name")
        if name == "AWS::NoValue":
            return None
        if name in PSEUDO:
            return "${" + name + "}"
        if name in self.params:
            p = self.params[name]
            if isinstance(p, dict) and "Default" in p:
                d = p["Default"]
                return d if isinstance(d, (str, int, float, bool, list)) else Unknown(f"parameter {name}")
            return Unknown(f"parameter {name} has no default")
        if name in self.resources:
            return Ref(name)
        return Unknown(f"!Ref to undefined {name}")

    def resolve(self, v: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            return Unknown("value nested too deeply")
        if isinstance(v, list):
            return [self.resolve(x, depth + 1) for x in v]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            ((k, arg),) = v.items()
            if k == "Ref":
                return self.ref(arg)
            if isinstance(k, str) and k.startswith("Fn::"):
                return self.fn(k, arg, depth)
        return {k: self.resolve(x, depth + 1) for k, x in v.items()}

    def text(self, v: Any, depth: int) -> Any:
        r = self.resolve(v, depth + 1)
        if isinstance(r, (Ref, str, int, float, bool, Unknown)):
            return as_text(r)
        return Unknown("not a text value")

    def fn(self, k: str, arg: Any, depth: int) -> Any:
        if k == "Fn::GetAtt":
            parts = arg if isinstance(arg, list) else [arg]
            if len(parts) >= 1 and isinstance(parts[0], str) and parts[0] in self.resources:
                attr = parts[1] if len(parts) > 1 and isinstance(parts[1], str) else None
                return Ref(parts[0], attr)
            return Unknown(f"!GetAtt of undefined {parts[0] if parts else '?'}")
        if k == "Fn::Sub":
            if isinstance(arg, list) and arg:
                tmpl, vars_ = arg[0], (arg[1] if len(arg) > 1 and isinstance(arg[1], dict) else {})
            else:
                tmpl, vars_ = arg, {}
            if not isinstance(tmpl, str):
                return Unknown("!Sub of a non-string")
            local = {n: self.text(x, depth) for n, x in vars_.items()}

            def sub(m: re.Match[str]) -> str:
                name = m.group(1).strip()
                if name in local:
                    val = local[name]
                    return val if isinstance(val, str) else "${" + name + "}"
                base = name.split(".", 1)[0]
                if base in self.params:
                    val = self.ref(base)
                    return str(val) if isinstance(val, (str, int, float)) else "${" + name + "}"
                return "${" + name + "}"

            return _SUB_VAR.sub(sub, tmpl)
        if k == "Fn::Join":
            if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
                return Unknown("!Join with bad arguments")
            items = self.resolve(arg[1], depth + 1)
            if not isinstance(items, list):
                return Unknown("!Join of a non-list")
            texts = [as_text(x) for x in items]
            if any(isinstance(t, Unknown) for t in texts):
                return Unknown("!Join of unresolved parts")
            return arg[0].join(texts)
        if k == "Fn::If":
            if not (isinstance(arg, list) and len(arg) == 3):
                return Unknown("!If with bad arguments")
            a, b = self.resolve(arg[1], depth + 1), self.resolve(arg[2], depth + 1)
            return a if a == b else Unknown(f"depends on condition {arg[0]}")
        if k == "Fn::Select":
            if isinstance(arg, list) and len(arg) == 2:
                idx, items = self.resolve(arg[0], depth + 1), self.resolve(arg[1], depth + 1)
                try:
                    if isinstance(items, list):
                        return items[int(idx)]
                except (ValueError, TypeError, IndexError):
                    pass
            return Unknown("!Select not evaluated")
        if k == "Fn::FindInMap":
            if isinstance(arg, list) and len(arg) >= 3:
                keys = [self.resolve(x, depth + 1) for x in arg[:3]]
                cur: Any = self.mappings
                for key in keys:
                    if not isinstance(key, str) or not isinstance(cur, dict) or key not in cur:
                        return Unknown("!FindInMap not evaluated")
                    cur = cur[key]
                return self.resolve(cur, depth + 1)
            return Unknown("!FindInMap with bad arguments")
        if k in KNOWN_FN:
            return Unknown(f"{k} not evaluated")
        self.warnings.add(f"unknown intrinsic function {k}")
        return Unknown(f"unknown intrinsic {k}")


def _d(v: Any) -> Raw:
    """``v`` when it is a mapping, else an empty one."""
    return v if isinstance(v, dict) else {}


def resource_lines(text: str) -> dict[str, int]:
    """First line of each mapping key (used to point at logical ids)."""
    out: dict[str, int] = {}
    for i, ln in enumerate(text.splitlines(), start=1):
        m = re.match(r"\s*[\"']?([A-Za-z0-9_.\-]+)[\"']?\s*:", ln)
        if m and m.group(1) not in out:
            out[m.group(1)] = i
    return out


def _refs_in(v: Any, names: set[str], out: set[str], depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        return
    if isinstance(v, dict):
        for k, x in v.items():
            if k == "Ref" and isinstance(x, str) and x in names:
                out.add(x)
            elif k == "Fn::GetAtt":
                t = x[0] if isinstance(x, list) and x else (x.split(".", 1)[0] if isinstance(x, str) else None)
                if isinstance(t, str) and t in names:
                    out.add(t)
            elif k == "Fn::Sub":
                tmpl = x[0] if isinstance(x, list) and x else x
                if isinstance(tmpl, str):
                    for m in _SUB_VAR.finditer(tmpl):
                        base = m.group(1).split(".", 1)[0].strip()
                        if base in names:
                            out.add(base)
                if isinstance(x, list) and len(x) > 1:
                    _refs_in(x[1], names, out, depth + 1)
            else:
                _refs_in(x, names, out, depth + 1)
    elif isinstance(v, list):
        for x in v:
            _refs_in(x, names, out, depth + 1)


def check_cycles(resources: Raw, path: Path | str, lines: dict[str, int]) -> None:
    """CloudFormation rejects circular dependencies; so do we, with a one-line error naming the cycle."""
    names = set(resources)
    g = nx.DiGraph()
    for name, res in resources.items():
        if not isinstance(res, dict):
            continue
        deps: set[str] = set()
        # a function's own events refer back to it legitimately only through other resources; Outputs excluded
        props = res.get("Properties")
        if res.get("Type") == "AWS::Serverless::Function" and isinstance(props, dict):
            props = {k: v for k, v in props.items() if k != "Events"}  # SAM turns events into resources of their own
        _refs_in(props, names, deps)
        dep_on = res.get("DependsOn")
        for d in dep_on if isinstance(dep_on, list) else [dep_on]:
            if isinstance(d, str) and d in names:
                deps.add(d)
        for d in deps:
            if d != name:
                g.add_edge(name, d)
            else:
                raise InputError(f"resource {name} refers to itself", path=path, line=lines.get(name))
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return
    chain = [cycle[0][0]] + [v for _, v in cycle]
    raise InputError(f"circular reference between resources: {' -> '.join(chain)}", path=path, line=lines.get(chain[0]))


def _str(v: Any) -> Any:
    return v if isinstance(v, (str, Unknown)) or v is None else as_text(v)


def _int(v: Any) -> Any:
    if v is None or isinstance(v, Unknown):
        return v
    try:
        return int(v)
    except (TypeError, ValueError):
        return Unknown(f"not a number: {v}")


def _ref_target(v: Any) -> str | None:
    if isinstance(v, Ref):
        return v.target
    if isinstance(v, str):
        m = re.match(r"^\$\{([A-Za-z0-9]+)(\.[A-Za-z.]+)?\}$", v)
        if m:
            return m.group(1)
    return None


def _cors_origins(v: Any) -> Any:
    if v is None:
        return []
    if isinstance(v, Unknown):
        return [v]
    if isinstance(v, str):
        return [v.strip("'\"")]
    if isinstance(v, dict):
        o = v.get("AllowOrigin", v.get("AllowOrigins"))
        if isinstance(o, list):
            return [str(x).strip("'\"") if not isinstance(x, Unknown) else x for x in o]
        if o is None:
            return []
        return [o.strip("'\"") if isinstance(o, str) else Unknown("CORS origin")]
    return [Unknown("CORS settings not readable")]


#: The Serverless Framework's functions, which its reader hands over in SAM form (no SAM ``Globals`` apply).
SLS_FUNCTION = "Serverless::Function"


@dataclass(frozen=True, slots=True)
class BodyRoute:
    """A route of an OpenAPI/Swagger API body."""

    path: str
    method: str
    function: str | None  # logical id of the function its integration names
    auth: str | None  # AUTHORIZER, NONE (explicitly off), or None (the API's default)
    validated: bool
    mock: bool


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """What routes inherit from their API: default authorizer, throttling, WAF, CORS, routes from the body."""

    kind: str  # rest | http
    default_auth: Any
    api_key: bool
    throttled: bool
    waf: bool
    public: bool
    cors_origins: list[Any]
    body: tuple[BodyRoute, ...]


@dataclass
class CfnContext:
    """One template being read: what every handler shares, and indexes (built on first use) over resource types
    that handlers of other types look things up in."""

    design: Design
    roles: dict[str, Permissions]
    path: str
    res: Raw  # resolved resources: logical id -> {"Type", "Properties", ...}
    lines: dict[str, int]
    r: Resolver
    globals_: Raw
    by_type: dict[str, list[tuple[str, Raw]]] = field(default_factory=dict)

    def eid(self, kind: str, name: str) -> str:
        return f"{kind}:{self.path}#{name}"

    def function(self, name: str, props: FunctionProps) -> Element:
        eid = self.eid("function", name)
        return self.design.add(function_element(eid, name, "aws", self.path, self.lines.get(name), props))

    def store(self, name: str, props: StoreProps) -> Element:
        eid = self.eid("datastore", name)
        return self.design.add(store_element(eid, name, "aws", self.path, self.lines.get(name), props))

    def of(self, typ: str) -> list[tuple[str, Raw]]:
        return self.by_type.get(typ, [])

    # ---- indexes
    @cached_property
    def bucket_policies(self) -> dict[Any, list[Any]]:
        out: dict[Any, list[Any]] = {}
        for _n, p in self.of("AWS::S3::BucketPolicy"):
            out.setdefault(as_text(p.get("Bucket")), []).append(p.get("PolicyDocument"))
        return out

    @cached_property
    def queue_policies(self) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for _n, p in self.of("AWS::SQS::QueuePolicy"):
            for q in p.get("Queues") or []:
                out.setdefault(str(q), []).append(p.get("PolicyDocument"))
        return out

    @cached_property
    def topic_policies(self) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for _n, p in self.of("AWS::SNS::TopicPolicy"):
            for t in p.get("Topics") or []:
                out.setdefault(str(t), []).append(p.get("PolicyDocument"))
        return out

    @cached_property
    def rotated_secrets(self) -> set[str | None]:
        return {_ref_target(p.get("SecretId")) for _n, p in self.of("AWS::SecretsManager::RotationSchedule")}

    @cached_property
    def apis(self) -> dict[str, ApiSettings]:
        return _apis(self)

    @cached_property
    def rest_paths(self) -> Raw:
        return {n: p.get("PathPart", "") for n, p in self.of("AWS::ApiGateway::Resource")}

    @cached_property
    def http_integrations(self) -> Raw:
        return {n: as_text(p.get("IntegrationUri")) for n, p in self.of("AWS::ApiGatewayV2::Integration")}


#: (context, logical id, resolved properties)
Handler = Callable[[CfnContext, str, Raw], None]


def read_template(
    doc: Any,
    text: str,
    path: str,
    design: Design,
    roles: dict[str, Permissions],
    extra_functions: list[tuple[str, Raw]] | None = None,
) -> CfnContext:
    """Read one CloudFormation/SAM document. ``extra_functions`` lets the Serverless reader add its
    functions (already in SAM-like form) so both share one resolver and one set of resources."""
    if not isinstance(doc, dict):
        raise InputError("a template must be a mapping", path=path, line=1)
    resources = doc.get("Resources") or {}
    if not isinstance(resources, dict):
        raise InputError("Resources must be a mapping", path=path, line=resource_lines(text).get("Resources"))
    lines = resource_lines(text)
    check_cycles(resources, path, lines)
    params = doc.get("Parameters") or {}
    r = Resolver(params if isinstance(params, dict) else {}, resources, doc.get("Mappings") or {})
    resolved: Raw = {}
    for name, res in resources.items():
        if not isinstance(res, dict) or "Type" not in res:
            design.warnings.append(f"{path}: resource {name} has no Type; skipped")
            continue
        resolved[str(name)] = {"Type": res["Type"], "Properties": r.resolve(res.get("Properties") or {})}
    glob = doc.get("Globals") or {}
    ctx = CfnContext(design, roles, path, resolved, lines, r, r.resolve(glob) if isinstance(glob, dict) else {})
    for name, res in ctx.res.items():
        props = res["Properties"] if isinstance(res["Properties"], dict) else {}
        ctx.by_type.setdefault(str(res["Type"]), []).append((name, props))
    ctx.by_type[SLS_FUNCTION] = [(n, r.resolve(p)) for n, p in (extra_functions or [])]
    for typ, handler in HANDLERS.items():
        for name, props in ctx.of(typ):
            handler(ctx, name, props)
        after = AFTER.get(typ)
        if after is not None:
            after(ctx)
    for w in sorted(r.warnings):
        design.warnings.append(f"{path}: {w}")
    return ctx


# ---------------------------------------------------------------------------------------------- data stores


def _table(ctx: CfnContext, name: str, p: Raw) -> None:
    sse = _d(p.get("SSESpecification"))
    enabled = sse.get("SSEEnabled")
    enc = (
        ("cmk" if sse.get("KMSMasterKeyId") else "kms")
        if enabled is True
        else ("default" if not isinstance(enabled, Unknown) else enabled)
    )
    pitr = p.get("PointInTimeRecoverySpecification")
    backup = pitr.get("PointInTimeRecoveryEnabled") is True if isinstance(pitr, dict) else False
    ctx.store(
        name,
        {
            "type": "table",
            "name": _str(p.get("TableName", name)),
            "encryption": enc,
            "encryption_explicit": enabled is True,
            "backup": backup,
            "public": False,
            "tags": _tags(p.get("Tags")),
        },
    )


def _bucket(ctx: CfnContext, name: str, p: Raw) -> None:
    be = p.get("BucketEncryption")
    enc = "default"
    explicit = False
    if isinstance(be, dict):
        explicit = True
        rules = be.get("ServerSideEncryptionConfiguration") or []
        rule = rules[0] if isinstance(rules, list) and rules else {}
        d = rule.get("ServerSideEncryptionByDefault", {}) if isinstance(rule, dict) else {}
        algo = d.get("SSEAlgorithm") if isinstance(d, dict) else None
        enc = ("cmk" if d.get("KMSMasterKeyID") else "kms") if isinstance(algo, str) and "kms" in algo else "default"
    ver = p.get("VersioningConfiguration")
    bname = _str(p.get("BucketName", name))
    policies = ctx.bucket_policies
    docs = policies.get("${" + name + "}", []) + (policies.get(bname, []) if isinstance(bname, str) else [])
    public, tls = _policy_flags(docs)
    pab = p.get("PublicAccessBlockConfiguration")
    ctx.store(
        name,
        {
            "type": "bucket",
            "name": bname,
            "encryption": enc,
            "encryption_explicit": explicit,
            "backup": isinstance(ver, dict) and ver.get("Status") == "Enabled",
            "public": public,
            "public_write": public == "write",
            "tls_enforced": tls,
            "public_access_block": isinstance(pab, dict)
            and all(
                pab.get(k) is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
            ),
            "tags": _tags(p.get("Tags")),
        },
    )


def _queue(ctx: CfnContext, name: str, p: Raw) -> None:
    kms = p.get("KmsMasterKeyId")
    managed = p.get("SqsManagedSseEnabled")
    enc = (
        ("kms" if isinstance(kms, str) and "alias/aws/sqs" in kms else "cmk")
        if kms
        else ("none" if managed is False else "default")
    )
    public, _tls = _policy_flags(ctx.queue_policies.get("${" + name + "}", []))
    ctx.store(
        name,
        {
            "type": "queue",
            "name": _str(p.get("QueueName", name)),
            "encryption": enc,
            "encryption_explicit": bool(kms) or managed is True,
            "public": public,
            "tags": _tags(p.get("Tags")),
        },
    )


def _topic(ctx: CfnContext, name: str, p: Raw) -> None:
    kms = p.get("KmsMasterKeyId")
    public, _tls = _policy_flags(ctx.topic_policies.get("${" + name + "}", []))
    ctx.store(
        name,
        {
            "type": "topic",
            "name": _str(p.get("TopicName", name)),
            "encryption": ("kms" if isinstance(kms, str) and "alias/aws/sns" in kms else "cmk") if kms else "none",
            "encryption_explicit": bool(kms),
            "public": public,
            "tags": _tags(p.get("Tags")),
        },
    )


def _secret(ctx: CfnContext, name: str, p: Raw) -> None:
    ctx.store(
        name,
        {
            "type": "secret",
            "name": _str(p.get("Name", name)),
            "encryption": "cmk" if p.get("KmsKeyId") else "kms",
            "encryption_explicit": True,
            "public": False,
            "rotation": name in ctx.rotated_secrets,
            "tags": _tags(p.get("Tags")),
        },
    )


def _stream(ctx: CfnContext, name: str, p: Raw) -> None:
    se = p.get("StreamEncryption")
    ctx.store(
        name,
        {
            "type": "stream",
            "name": _str(p.get("Name", name)),
            "encryption": "cmk" if isinstance(se, dict) else "none",
            "encryption_explicit": isinstance(se, dict),
            "public": False,
            "tags": _tags(p.get("Tags")),
        },
    )


def _tags(v: Any) -> Raw:
    if isinstance(v, dict):
        return {str(k): x for k, x in v.items()}
    if isinstance(v, list):
        return {str(t.get("Key")): t.get("Value") for t in v if isinstance(t, dict)}
    return {}


def _policy_flags(docs: list[Any]) -> tuple[Any, bool]:
    """(public: False | "read" | "write", TLS enforced) from resource policies."""
    public: Any = False
    tls = False
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        sts = doc.get("Statement") or []
        for st in sts if isinstance(sts, list) else [sts]:
            if not isinstance(st, dict):
                continue
            pr = st.get("Principal")
            star = pr == "*" or (isinstance(pr, dict) and pr.get("AWS") in ("*", ["*"]))
            cond = st.get("Condition")
            if st.get("Effect") == "Deny" and isinstance(cond, dict) and "aws:SecureTransport" in str(cond):
                tls = True
            if st.get("Effect") == "Allow" and star and not cond:
                acts = st.get("Action")
                acts = acts if isinstance(acts, list) else [acts]
                writes = any(
                    isinstance(a, str) and (a.endswith("*") or ":Put" in a or ":Delete" in a or ":Send" in a or ":Publish" in a)
                    for a in acts
                )
                public = "write" if writes else (public or "read")
    return public, tls


# -------------------------------------------------------------------------------------------------- roles


def _role(ctx: CfnContext, name: str, p: Raw) -> None:
    perms = Permissions()
    for pol in p.get("Policies") or []:
        if isinstance(pol, dict):
            sts, unk = parse_document(pol.get("PolicyDocument"), f"inline {pol.get('PolicyName', '')}".strip())
            perms.statements.extend(sts)
            perms.unknown.extend(unk)
    for arn in p.get("ManagedPolicyArns") or []:
        add_managed(arn, perms)
    trust: list[Any] = []
    ar = p.get("AssumeRolePolicyDocument")
    if isinstance(ar, dict):
        sts = ar.get("Statement") or []
        for st in sts if isinstance(sts, list) else [sts]:
            pr = st.get("Principal") if isinstance(st, dict) else None
            if isinstance(pr, dict):
                for v in pr.values():
                    trust.extend(as_text(x) for x in (v if isinstance(v, list) else [v]))
            elif pr is not None:
                trust.append(as_text(pr))
    ctx.roles[ctx.eid("role", name)] = perms
    ctx.design.add(
        role_element(
            ctx.eid("role", name),
            name,
            "aws",
            ctx.path,
            ctx.lines.get(name),
            {"trust": trust, "boundary": p.get("PermissionsBoundary"), "generated": False},
        )
    )


def _role_policy(ctx: CfnContext, _name: str, p: Raw) -> None:
    """``AWS::IAM::Policy`` / ``ManagedPolicy``: its statements go to every role of the template it names."""
    sts, unk = parse_document(p.get("PolicyDocument"), "policy")
    for role in p.get("Roles") or []:
        t = _ref_target(role)
        if t and ctx.eid("role", t) in ctx.roles:
            ctx.roles[ctx.eid("role", t)].statements.extend(sts)
            ctx.roles[ctx.eid("role", t)].unknown.extend(unk)


# ---------------------------------------------------------------------------------------------- functions


def _fn_by_ref(ctx: CfnContext, v: Any) -> Element | None:
    t = _ref_target(v)
    if t is not None:
        return ctx.design.elements.get(ctx.eid("function", t))
    if isinstance(v, str):  # a physical function name or an ARN with it
        for f in ctx.design.of_kind("function"):
            if f.file == ctx.path and isinstance(f.props.get("function_name"), str) and f.props["function_name"] in v:
                return f
    return None


def _common_function(props: Raw) -> FunctionProps:
    env = props.get("Environment")
    variables = env.get("Variables") if isinstance(env, dict) else None
    if isinstance(env, Unknown):
        variables = env
    vpc = props.get("VpcConfig")
    if isinstance(vpc, dict):
        subnets = vpc.get("SubnetIds")
        vpc = {"subnets": subnets} if subnets else None
    tracing = props.get(
        "Tracing", (props.get("TracingConfig") or {}).get("Mode") if isinstance(props.get("TracingConfig"), dict) else None
    )
    dlq = props.get("DeadLetterQueue", props.get("DeadLetterConfig"))
    if isinstance(dlq, dict):
        dlq = dlq.get("TargetArn")
    on_failure = None
    eic = props.get("EventInvokeConfig")
    if isinstance(eic, dict):
        dc = eic.get("DestinationConfig")
        if isinstance(dc, dict) and isinstance(dc.get("OnFailure"), dict):
            on_failure = dc["OnFailure"].get("Destination", dc["OnFailure"].get("Type"))
    layers = props.get("Layers") or []
    logging = _d(props.get("LoggingConfig"))
    image = props.get("PackageType") == "Image" or bool(props.get("ImageUri"))
    return {
        "function_name": _str(props.get("FunctionName")),
        "runtime": None if image else _str(props.get("Runtime", Unknown("runtime not set"))),
        "timeout": _int(props.get("Timeout", 3)),
        "memory": _int(props.get("MemorySize", 128)),
        "concurrency_limit": _int(props.get("ReservedConcurrentExecutions")),
        "environment": variables if variables is not None else {},
        "env_kms_key": props.get("KmsKeyArn"),
        "tracing": _str(tracing) if tracing is not None else None,
        "vpc": vpc,
        "dlq": dlq,
        "on_failure": on_failure,
        "layers": layers if isinstance(layers, list) else [layers],
        "code_signing": props.get("CodeSigningConfigArn"),
        "published": bool(props.get("AutoPublishAlias")) or None,
        "log_group_name": logging.get("LogGroup"),
        "url": None,
        "log": None,
        "alarms": 0,
        "invoke_permissions": [],
    }


def _sam_function_with_globals(ctx: CfnContext, name: str, props: Raw) -> None:
    """``AWS::Serverless::Function``: the template's ``Globals.Function`` under its own properties (environment
    variables merged key by key, as SAM does)."""
    gfun = _d(ctx.globals_.get("Function"))
    merged = dict(gfun)
    merged.update(props)
    genv = (gfun.get("Environment") or {}).get("Variables") if isinstance(gfun.get("Environment"), dict) else None
    fenv = (props.get("Environment") or {}).get("Variables") if isinstance(props.get("Environment"), dict) else None
    if isinstance(genv, dict) or isinstance(fenv, dict):
        env = dict(genv or {})
        env.update(fenv or {})
        merged["Environment"] = {"Variables": env}
    _sam_function(ctx, name, merged)


def _sam_function(ctx: CfnContext, name: str, props: Raw) -> None:
    p = _common_function(props)
    role = props.get("Role")
    if role is not None:
        t = _ref_target(role)
        p["role_id"] = ctx.eid("role", t) if t else None
        if t is None:
            p["role_note"] = "execution role defined outside the design"
    else:
        rid = ctx.eid("role", name + "Role")
        perms = Permissions()
        add_managed("AWSLambdaBasicExecutionRole", perms)
        pols = props.get("Policies") or []
        for item in pols if isinstance(pols, list) else [pols]:
            expand_sam_policy(item, perms)
        ctx.roles[rid] = perms
        ctx.design.add(
            role_element(
                rid,
                name + "Role",
                "aws",
                ctx.path,
                ctx.lines.get(name),
                {"generated": True, "trust": ["lambda.amazonaws.com"], "boundary": props.get("PermissionsBoundary")},
            )
        )
        p["role_id"] = rid
    url = props.get("FunctionUrlConfig")
    if isinstance(url, dict):
        p["url"] = {
            "auth": _str(url.get("AuthType", "NONE")),
            "cors_origins": _cors_origins(
                (url.get("Cors") or {}).get("AllowOrigins") if isinstance(url.get("Cors"), dict) else None
            ),
        }
    p["framework"] = "sam"
    f = ctx.function(name, p)
    events = props.get("Events") or {}
    if isinstance(events, dict):
        for ename, ev in events.items():
            if isinstance(ev, dict):
                _sam_event(ctx, f, str(ename), ev)


def _lambda_function(ctx: CfnContext, name: str, props: Raw) -> None:
    p = _common_function(props)
    p["published"] = None
    t = _ref_target(props.get("Role"))
    p["role_id"] = ctx.eid("role", t) if t else None
    p["framework"] = "cloudformation"
    ctx.function(name, p)


# --------------------------------------------------------------------------------------------------- APIs


def _swagger_routes(body: Any) -> tuple[BodyRoute, ...]:
    """Routes of an OpenAPI/Swagger body: path, method, auth, validation, target function."""
    if not isinstance(body, dict) or not isinstance(body.get("paths"), dict):
        return ()
    top_sec = body.get("security")
    validators = body.get("x-amazon-apigateway-request-validators") or {}
    default_v = body.get("x-amazon-apigateway-request-validator")
    out = []
    for path, ops in body["paths"].items():
        if not isinstance(ops, dict):
            continue
        for method, op in ops.items():
            if not isinstance(op, dict) or method.lower() in ("parameters",):
                continue
            integ = op.get("x-amazon-apigateway-integration") or {}
            uri = as_text(integ.get("uri")) if isinstance(integ, dict) else None
            m = re.search(r"functions/\$\{([A-Za-z0-9]+)(\.Arn)?\}", uri) if isinstance(uri, str) else None
            sec = op.get("security", top_sec)
            vname = op.get("x-amazon-apigateway-request-validator", default_v)
            v = validators.get(vname) if isinstance(validators, dict) and isinstance(vname, str) else None
            validated = isinstance(v, dict) and bool(v.get("validateRequestBody") or v.get("validateRequestParameters"))
            out.append(
                BodyRoute(
                    path=str(path),
                    method=str(method).upper(),
                    function=m.group(1) if m else None,
                    # an explicit empty security list switches authorization off for the operation
                    auth="AUTHORIZER" if sec else ("NONE" if sec == [] and "security" in op else None),
                    validated=validated,
                    mock=isinstance(integ, dict) and integ.get("type") == "mock",
                )
            )
    return tuple(out)


def _throttles(settings: Any) -> bool:
    return isinstance(settings, dict) and ("ThrottlingRateLimit" in settings or "ThrottlingBurstLimit" in settings)


def _apis(ctx: CfnContext) -> dict[str, ApiSettings]:
    """API id -> settings that routes inherit (default authorizer, throttling, WAF, CORS, routes from the body)."""
    gapi = _d(ctx.globals_.get("Api"))
    ghttp = _d(ctx.globals_.get("HttpApi"))
    waf = {_ref_target(p.get("ResourceArn")) or str(p.get("ResourceArn")) for _n, p in ctx.of("AWS::WAFv2::WebACLAssociation")}
    waf_text = " ".join(str(p.get("ResourceArn")) for _n, p in ctx.of("AWS::WAFv2::WebACLAssociation"))
    plans: set[str] = set()
    for _n, p in ctx.of("AWS::ApiGateway::UsagePlan"):
        if p.get("Throttle") or p.get("Quota"):
            for st in p.get("ApiStages") or []:
                if isinstance(st, dict) and _ref_target(st.get("ApiId")):
                    plans.add(str(_ref_target(st.get("ApiId"))))
    stage_throttle: set[str] = set()
    for _n, p in ctx.of("AWS::ApiGateway::Stage") + ctx.of("AWS::ApiGatewayV2::Stage"):
        ms = p.get("MethodSettings") or []
        if any(_throttles(m) for m in ms) or _throttles(p.get("DefaultRouteSettings") or {}):
            t = _ref_target(p.get("RestApiId", p.get("ApiId")))
            if t:
                stage_throttle.add(t)

    def settings(name: str, p: Raw, kind: str, glob: Raw, body_key: str = "DefinitionBody") -> ApiSettings:
        merged = dict(glob)
        merged.update(p)
        auth = _d(merged.get("Auth"))
        ms = merged.get("MethodSettings") or []
        throttled = (
            name in plans
            or name in stage_throttle
            or bool(isinstance(auth.get("UsagePlan"), dict))
            or any(_throttles(m) for m in (ms if isinstance(ms, list) else []))
            or _throttles(merged.get("DefaultRouteSettings") or {})
        )
        endpoint = merged.get("EndpointConfiguration")
        private = (isinstance(endpoint, dict) and endpoint.get("Type") == "PRIVATE") or endpoint == "PRIVATE"
        return ApiSettings(
            kind=kind,
            default_auth=auth.get("DefaultAuthorizer"),
            api_key=auth.get("ApiKeyRequired") is True,
            throttled=throttled,
            waf=name in waf or ("${" + name) in waf_text,
            public=not private,
            cors_origins=_cors_origins(merged.get("Cors", merged.get("CorsConfiguration"))),
            body=_swagger_routes(p.get(body_key) if body_key == "Body" else merged.get(body_key)),
        )

    apis: dict[str, ApiSettings] = {}
    for name, p in ctx.of("AWS::Serverless::Api"):
        apis[name] = settings(name, p, "rest", gapi)
    for name, p in ctx.of("AWS::Serverless::HttpApi"):
        apis[name] = settings(name, p, "http", ghttp)
    for name, p in ctx.of("AWS::ApiGateway::RestApi"):
        apis[name] = settings(name, p, "rest", {}, body_key="Body")
    for name, p in ctx.of("AWS::ApiGatewayV2::Api"):
        apis[name] = settings(name, p, "http", {})
    apis["ServerlessRestApi"] = settings("ServerlessRestApi", {}, "rest", gapi)
    apis["ServerlessHttpApi"] = settings("ServerlessHttpApi", {}, "http", ghttp)
    return apis


def _route(
    ctx: CfnContext, f: Element, api_name: str, api: ApiSettings | None, path: str, method: str, auth: Any, validated: bool
) -> None:
    """A route that invokes ``f``; ``api`` is None for a route whose API is not in the template."""
    rname = f"{api_name} {method} {path}"
    rid = ctx.eid("route", rname)
    if rid in ctx.design.elements:
        ctx.design.link(rid, f.id, "invokes")
        return
    if isinstance(auth, str):
        auth = auth.upper() if auth.upper() in ("NONE", "AWS_IAM") else (auth if auth else "NONE")
    ctx.design.add(
        route_element(
            rid,
            rname,
            "aws",
            ctx.path,
            ctx.lines.get(api_name),
            {
                "type": "api",
                "api": api_name,
                "api_kind": api.kind if api else "rest",
                "path": path,
                "method": method,
                "auth": auth,
                "validated": validated,
                "throttled": api.throttled if api else False,
                "waf": api.waf if api else False,
                "cors_origins": api.cors_origins if api else [],
                "public": api.public if api else True,
                "function": f.name,
            },
        )
    )
    ctx.design.link(rid, f.id, "invokes")


def _body_routes(ctx: CfnContext) -> None:
    """Routes from API definition bodies (SAM and raw) whose integration names a function."""
    for api_name, api in ctx.apis.items():
        for r in api.body:
            if r.function and not r.mock:
                f = ctx.design.elements.get(ctx.eid("function", r.function))
                if f is not None:
                    _route(ctx, f, api_name, api, r.path, r.method, r.auth or api.default_auth or "NONE", r.validated)


_FN_IN_URI = re.compile(r"\$\{([A-Za-z0-9]+)(\.Arn)?\}")


def _rest_method(ctx: CfnContext, _name: str, p: Raw) -> None:
    uri = as_text(_d(p.get("Integration")).get("Uri"))
    m = _FN_IN_URI.search(uri) if isinstance(uri, str) else None
    f = ctx.design.elements.get(ctx.eid("function", m.group(1))) if m else None
    if f is not None:
        api = _ref_target(p.get("RestApiId")) or "?"
        path = "/" + str(ctx.rest_paths.get(_ref_target(p.get("ResourceId")) or "", ""))
        method = str(p.get("HttpMethod", "ANY"))
        _route(
            ctx, f, api, ctx.apis.get(api), path, method, p.get("AuthorizationType", "NONE"), bool(p.get("RequestValidatorId"))
        )


def _http_route(ctx: CfnContext, _name: str, p: Raw) -> None:
    target = as_text(p.get("Target"))
    integ = None
    if isinstance(target, str):
        mm = re.search(r"\$\{([A-Za-z0-9]+)\}", target)
        integ = ctx.http_integrations.get(mm.group(1)) if mm else None
    m = _FN_IN_URI.search(integ) if isinstance(integ, str) else None
    f = ctx.design.elements.get(ctx.eid("function", m.group(1))) if m else None
    if f is not None:
        rk = str(p.get("RouteKey", "$default"))
        method, _, path = rk.partition(" ")
        api = _ref_target(p.get("ApiId")) or "?"
        _route(ctx, f, api, ctx.apis.get(api), path or rk, method if path else "ANY", p.get("AuthorizationType", "NONE"), False)


# ---------------------------------------------------------------------------------------------- event sources


class _SourceExtra(TypedDict, total=False):
    batch_size: Any
    on_failure: bool


def _source(
    ctx: CfnContext, f: Element, ename: str, typ: str, target: Any, public: Any, auth: str = "NONE", **extra: Unpack[_SourceExtra]
) -> Element:
    sid = ctx.eid("source", f"{f.name}.{ename}")
    store = None
    t = _ref_target(target)
    if t:
        store = ctx.design.elements.get(ctx.eid("datastore", t))
    if store is not None and public is None:
        public = store.props.get("public") == "write"
    el = ctx.design.add(
        source_element(
            sid,
            f"{f.name}.{ename}",
            "aws",
            ctx.path,
            ctx.lines.get(ename, f.line),
            {
                "type": typ,
                "resource": store.name if store else (as_text(target) if target is not None else None),
                "public": bool(public),
                "auth": auth,
                **extra,
            },
        )
    )
    ctx.design.link(sid, f.id, "triggers")
    if store is not None:
        ctx.design.link(store.id, sid, "emits")
    return el


#: (context, function, event name, event type, event properties)
EventHandler = Callable[[CfnContext, Element, str, str, Raw], None]


def _api_event(ctx: CfnContext, f: Element, ename: str, typ: str, p: Raw) -> None:
    default = "ServerlessRestApi" if typ == "Api" else "ServerlessHttpApi"
    api_name = _ref_target(p.get("RestApiId", p.get("ApiId"))) or default
    api = ctx.apis.get(api_name, ctx.apis[default])
    auth_cfg = _d(p.get("Auth"))
    authz = auth_cfg.get("Authorizer")
    path, method = str(p.get("Path", "/")), str(p.get("Method", "ANY")).upper()
    body_hit = next((r for r in api.body if r.path == path and r.method == method), None)
    if authz is None:
        authz = (
            (body_hit.auth if body_hit else None)
            or api.default_auth
            or ("API_KEY" if (auth_cfg.get("ApiKeyRequired") or api.api_key) else "NONE")
        )
    rm = p.get("RequestModel")
    validated = bool(isinstance(rm, dict) and (rm.get("ValidateBody") or rm.get("Required"))) or bool(
        body_hit.validated if body_hit else None
    )
    rp = p.get("RequestParameters")
    if isinstance(rp, list) and any(
        isinstance(x, dict) and any(isinstance(v, dict) and v.get("Required") for v in x.values()) for x in rp
    ):
        validated = True
    _route(ctx, f, api_name, api, path, method, authz, validated)


def _s3_event(ctx: CfnContext, f: Element, ename: str, _typ: str, p: Raw) -> None:
    _source(ctx, f, ename, "s3", p.get("Bucket"), None)


def _sqs_event(ctx: CfnContext, f: Element, ename: str, _typ: str, p: Raw) -> None:
    _source(ctx, f, ename, "sqs", p.get("Queue"), None, batch_size=p.get("BatchSize"))


def _sns_event(ctx: CfnContext, f: Element, ename: str, _typ: str, p: Raw) -> None:
    _source(ctx, f, ename, "sns", p.get("Topic"), None)


def _stream_event(ctx: CfnContext, f: Element, ename: str, typ: str, p: Raw) -> None:
    dc = p.get("DestinationConfig")
    on_failure = bool((dc or {}).get("OnFailure")) if isinstance(dc, dict) else False
    _source(ctx, f, ename, typ.lower(), p.get("Stream"), False, on_failure=on_failure)
    if isinstance(dc, dict) and dc.get("OnFailure"):
        f.props["on_failure"] = dc["OnFailure"]


def _schedule_event(ctx: CfnContext, f: Element, ename: str, _typ: str, _p: Raw) -> None:
    _source(ctx, f, ename, "schedule", None, False, auth="INTERNAL")


def _eventbridge_event(ctx: CfnContext, f: Element, ename: str, _typ: str, p: Raw) -> None:
    _source(ctx, f, ename, "eventbridge", p.get("EventBusName"), False, auth="INTERNAL")


def _cognito_event(ctx: CfnContext, f: Element, ename: str, _typ: str, p: Raw) -> None:
    _source(ctx, f, ename, "cognito", p.get("UserPool"), True, auth="NONE")


def _other_event(ctx: CfnContext, f: Element, ename: str, typ: str, _p: Raw) -> None:
    _source(ctx, f, ename, typ.lower(), None, False, auth="INTERNAL")


#: SAM event type -> handler; any other type becomes an internal source named after it
EVENT_HANDLERS: dict[str, EventHandler] = {
    "Api": _api_event,
    "HttpApi": _api_event,
    "S3": _s3_event,
    "SQS": _sqs_event,
    "SNS": _sns_event,
    "DynamoDB": _stream_event,
    "Kinesis": _stream_event,
    "Schedule": _schedule_event,
    "ScheduleV2": _schedule_event,
    "EventBridgeRule": _eventbridge_event,
    "CloudWatchEvent": _eventbridge_event,
    "CognitoUserPool": _cognito_event,
}


def _sam_event(ctx: CfnContext, f: Element, ename: str, ev: Raw) -> None:
    typ = ev.get("Type")
    if not isinstance(typ, str):
        return
    p: Raw = ev["Properties"] if isinstance(ev.get("Properties"), dict) else {}
    EVENT_HANDLERS.get(typ, _other_event)(ctx, f, ename, typ, p)


def _user_pool(ctx: CfnContext, pool: str, p: Raw) -> None:
    """A Cognito user pool's Lambda triggers: with self sign-up, anyone on the internet can fire them."""
    admin_only = _d(p.get("AdminCreateUserConfig")).get("AllowAdminCreateUserOnly") is True
    for trigger, target in sorted(_d(p.get("LambdaConfig")).items()):
        f = _fn_by_ref(ctx, target)
        if f is not None:
            auth = "INTERNAL" if admin_only else "NONE"
            src = _source(ctx, f, f"{pool}.{trigger}", "cognito", None, not admin_only, auth=auth)
            src.props["resource"] = f"{pool} {trigger}"


#: data store type -> the event source type of a mapping that reads it
_MAPPING_SOURCES = {"queue": "sqs", "table": "dynamodb", "stream": "kinesis"}


def _event_source_mapping(ctx: CfnContext, name: str, p: Raw) -> None:
    f = _fn_by_ref(ctx, p.get("FunctionName"))
    if f is None:
        return
    arn = p.get("EventSourceArn")
    t = _ref_target(arn)
    store = ctx.design.elements.get(ctx.eid("datastore", t)) if t else None
    typ = (store.props.get("type") if store else "event-source-mapping") or "event-source-mapping"
    _source(ctx, f, name, _MAPPING_SOURCES.get(str(typ), str(typ)), arn, False, auth="INTERNAL")
    dc = _d(p.get("DestinationConfig"))
    if isinstance(dc.get("OnFailure"), dict):
        f.props["on_failure"] = dc["OnFailure"].get("Destination")


# ------------------------------------------------------------------------------- what configures a function


def _function_url(ctx: CfnContext, _name: str, p: Raw) -> None:
    f = _fn_by_ref(ctx, p.get("TargetFunctionArn"))
    if f is not None:
        cors = _d(p.get("Cors"))
        f.props["url"] = {"auth": _str(p.get("AuthType", "NONE")), "cors_origins": _cors_origins(cors.get("AllowOrigins"))}


def _permission(ctx: CfnContext, _name: str, p: Raw) -> None:
    f = _fn_by_ref(ctx, p.get("FunctionName"))
    if f is None:
        return
    principal = as_text(p.get("Principal"))
    conditioned = bool(p.get("SourceArn") or p.get("SourceAccount") or p.get("PrincipalOrgID"))
    f.props["invoke_permissions"].append(
        {"principal": principal, "conditioned": conditioned, "url_auth": p.get("FunctionUrlAuthType")}
    )
    if principal == "*" and not conditioned:
        f.props["public_invoke"] = True


def _event_invoke_config(ctx: CfnContext, _name: str, p: Raw) -> None:
    f = _fn_by_ref(ctx, p.get("FunctionName"))
    dc = _d(p.get("DestinationConfig"))
    if f is not None and isinstance(dc.get("OnFailure"), dict):
        f.props["on_failure"] = dc["OnFailure"].get("Destination")


def _version_or_alias(ctx: CfnContext, _name: str, p: Raw) -> None:
    f = _fn_by_ref(ctx, p.get("FunctionName"))
    if f is not None:
        f.props["published"] = True


def _log_groups(ctx: CfnContext) -> None:
    """Each function's log group (``/aws/lambda/<name>`` or its LoggingConfig.LogGroup); unpublished otherwise."""
    groups: dict[str, Props] = {}  # log group id -> the function property "log"
    for n, p in ctx.of("AWS::Logs::LogGroup"):
        groups[n] = {
            "name": as_text(p.get("LogGroupName")),
            "retention": _int(p.get("RetentionInDays")),
            "kms_key": p.get("KmsKeyId"),
            "subscription": False,
        }
    for _n, p in ctx.of("AWS::Logs::SubscriptionFilter"):
        t = _ref_target(p.get("LogGroupName"))
        for gname, g in groups.items():
            if t == gname or (isinstance(g["name"], str) and g["name"] == as_text(p.get("LogGroupName"))):
                g["subscription"] = True
    for f in ctx.design.of_kind("function"):
        if f.file != ctx.path:
            continue
        for gname, g in groups.items():
            gn = g["name"]
            own = isinstance(gn, str) and (
                gn.endswith("/" + f.name)
                or "${" + f.name + "}" in gn
                or (isinstance(f.props.get("function_name"), str) and gn.endswith("/" + f.props["function_name"]))
            )
            if (
                own
                or _ref_target(f.props.get("log_group_name")) == gname
                or (isinstance(gn, str) and gn == f.props.get("log_group_name"))
            ):
                f.props["log"] = g
        if f.props.get("published") is None:
            f.props["published"] = False


def _alarm(ctx: CfnContext, _name: str, p: Raw) -> None:
    for d in p.get("Dimensions") or []:
        if isinstance(d, dict) and d.get("Name") == "FunctionName":
            f = _fn_by_ref(ctx, d.get("Value"))
            if f is not None:
                f.props["alarms"] = f.props.get("alarms", 0) + 1


#: resource type -> handler, run in this order: data stores and roles (what functions refer to), functions,
#: API routes, then what triggers or configures a function. A handler may read what the handlers before it
#: built, never what comes after.
HANDLERS: dict[str, Handler] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::Serverless::SimpleTable": _table,
    "AWS::S3::Bucket": _bucket,
    "AWS::SQS::Queue": _queue,
    "AWS::SNS::Topic": _topic,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Kinesis::Stream": _stream,
    "AWS::IAM::Role": _role,
    "AWS::IAM::Policy": _role_policy,
    "AWS::IAM::ManagedPolicy": _role_policy,
    "AWS::Serverless::Function": _sam_function_with_globals,
    SLS_FUNCTION: _sam_function,
    "AWS::Lambda::Function": _lambda_function,
    "AWS::ApiGateway::Method": _rest_method,
    "AWS::ApiGatewayV2::Route": _http_route,
    "AWS::Cognito::UserPool": _user_pool,
    "AWS::Lambda::Url": _function_url,
    "AWS::Lambda::Permission": _permission,
    "AWS::Lambda::EventInvokeConfig": _event_invoke_config,
    "AWS::Lambda::EventSourceMapping": _event_source_mapping,
    "AWS::Lambda::Version": _version_or_alias,
    "AWS::Lambda::Alias": _version_or_alias,
    "AWS::CloudWatch::Alarm": _alarm,
}

#: template-wide passes, each run right after the handlers of the resource type named
AFTER: dict[str, Callable[[CfnContext], None]] = {
    "AWS::Lambda::Function": _body_routes,  # every function exists: routes from API bodies
    "AWS::Lambda::Alias": _log_groups,  # every function is configured: log groups, published or not
}


def read_cfn_file(path: Path, shown: str, text: str, doc: Any, design: Design, roles: dict[str, Permissions]) -> None:
    read_template(doc, text, shown, design, roles)
