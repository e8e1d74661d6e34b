"""Terraform (``*.tf``, read with python-hcl2) -> design elements for AWS Lambda, Google Cloud Functions and
Azure Functions.

Each folder is one module; references resolve inside it. ``var.x`` takes the variable's default, ``local.x``
its value; anything else that Terraform would only know at plan time (module outputs, data sources other than
``aws_iam_policy_document``, conditionals, ``dynamic`` blocks) is unknown. Module calls are not expanded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypedDict

import hcl2

from compliance.design.build import azure_function_app, azure_http_route
from compliance.design.iam import Permissions, Statement, add_managed, as_text, parse_document
from compliance.design.model import (
    Design,
    Element,
    FunctionProps,
    Raw,
    Ref,
    RoleProps,
    RouteProps,
    StoreProps,
    Unknown,
    function_element,
    role_element,
    route_element,
    source_element,
    store_element,
)
from compliance.errors import InputError

_ADDR = re.compile(r"^(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z0-9_\-]+)(\[[^\]]*\])?(?:\.([A-Za-z0-9_]+))?")
MAX_DEPTH = 40
#: Largest ``.tf`` file read (python-hcl2 parses about a megabyte a second; real files are kilobytes).
MAX_TF_BYTES = 4_000_000


def _unq(s: str) -> str:
    return s[1:-1] if len(s) >= 2 and s[0] == '"' and s[-1] == '"' else s


class TfModule:
    def __init__(self, folder: str, blocks: Raw) -> None:
        self.folder = folder
        self.vars: Raw = {}
        self.locals: Raw = {}
        self.resources: dict[tuple[str, str], Raw] = {}
        self.data: dict[tuple[str, str], Raw] = {}
        self.lines: dict[str, int] = {}
        for v in blocks.get("variable", []):
            for name, body in v.items():
                self.vars[_unq(name)] = (
                    body.get("default", Unknown(f"variable {_unq(name)} has no default")) if isinstance(body, dict) else None
                )
        for loc in blocks.get("locals", []):
            for k, val in loc.items():
                if not k.startswith("__"):
                    self.locals[k] = val
        for section, target in (("resource", self.resources), ("data", self.data)):
            for item in blocks.get(section, []):
                for typ, named in item.items():
                    for name, body in named.items():
                        target[(_unq(typ), _unq(name))] = body if isinstance(body, dict) else {}

    # ----------------------------------------------------------------------------------- expressions
    def value(self, v: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            return Unknown("expression nested too deeply (circular?)")
        if isinstance(v, dict):
            return {_unq(k): self.value(x, depth + 1) for k, x in v.items() if not k.startswith("__")}
        if isinstance(v, list):
            return [self.value(x, depth + 1) for x in v]
        if not isinstance(v, str):
            return v
        if v.startswith('"<<') or v.startswith("<<"):
            body = v.strip('"')
            return body.split("\n", 1)[1].rsplit("\n", 1)[0] if "\n" in body else ""
        if v.startswith('"') and v.endswith('"'):
            inner = v[1:-1]
            if "${" not in inner:
                return inner
            return self.interpolate(inner, depth)
        if v.startswith("${") and v.endswith("}"):
            return self.expr(v[2:-1].strip(), depth)
        return v

    def interpolate(self, s: str, depth: int) -> Any:
        out = ""
        i = 0
        while i < len(s):
            j = s.find("${", i)
            if j < 0:
                out += s[i:]
                break
            out += s[i:j]
            k, level = j + 2, 1
            while k < len(s) and level:
                level += {"{": 1, "}": -1}.get(s[k], 0)
                k += 1
            val = self.expr(s[j + 2 : k - 1].strip(), depth + 1)
            out += str(val) if isinstance(val, (str, int, float, Ref)) else "${" + s[j + 2 : k - 1] + "}"
            i = k
        return out

    def expr(self, e: str, depth: int) -> Any:
        m = re.fullmatch(r"var\.([A-Za-z0-9_]+)", e)
        if m:
            return self.value(self.vars.get(m.group(1), Unknown(f"var.{m.group(1)} not declared")), depth + 1)
        m = re.fullmatch(r"local\.([A-Za-z0-9_]+)", e)
        if m:
            return self.value(self.locals.get(m.group(1), Unknown(f"local.{m.group(1)} not declared")), depth + 1)
        if e.startswith("jsonencode(") and e.endswith(")"):
            try:
                parsed = hcl2.loads("x = " + e[len("jsonencode(") : -1] + "\n")
            except Exception:
                return Unknown("jsonencode() not readable")
            return self.value(parsed.get("x"), depth + 1)
        m = _ADDR.fullmatch(e) or _ADDR.match(e)
        if m and m.end() == len(e):
            typ, name, attr = m.group(2), m.group(3), m.group(5)
            if m.group(1) and (typ, name) in self.data:
                return Ref(f"data.{typ}.{name}", attr)
            if (typ, name) in self.resources:
                return Ref(f"{typ}.{name}", attr)
            if typ in ("module", "path", "each", "count", "terraform"):
                return Unknown(f"{e} known only at plan time")
        if re.fullmatch(r"-?\d+", e):
            return int(e)
        if e in ("true", "false"):
            return e == "true"
        if e == "null":
            return None
        return Unknown(f"expression {e[:60]}")


def _first(block: Any) -> Raw:
    if isinstance(block, list) and block and isinstance(block[0], dict):
        return block[0]
    return block if isinstance(block, dict) else {}


def read_terraform_dir(folder: Path, only: list[Path] | None, shown: str, design: Design, roles: dict[str, Permissions]) -> int:
    """Read the ``*.tf`` files of one folder (or just ``only``). Returns how many functions it found."""
    files = only if only else sorted(folder.glob("*.tf"))
    blocks: dict[str, list[Any]] = {}
    lines: dict[str, int] = {}
    for f in files:
        if f.stat().st_size > MAX_TF_BYTES:
            raise InputError(
                f"Terraform file larger than {MAX_TF_BYTES // 1_000_000} MB (the HCL parser is slow on big files)",
                path=f.name if only else f"{shown}/{f.name}",
            )
        text = f.read_text(encoding="utf-8", errors="replace")
        try:
            parsed = hcl2.loads(text)
        except Exception as exc:
            line = getattr(exc, "line", None)
            msg = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise InputError(
                f"invalid HCL: {msg}",
                path=f.name if only else f"{shown}/{f.name}",
                line=line if isinstance(line, int) and line > 0 else None,
            ) from None
        for k, v in parsed.items():
            if isinstance(v, list):
                blocks.setdefault(k, []).extend(v)
        for i, ln in enumerate(text.splitlines(), start=1):
            m = re.match(r'\s*(resource|data)\s+"([^"]+)"\s+"([^"]+)"', ln)
            if m:
                lines.setdefault(f"{m.group(2)}.{m.group(3)}", i)
                lines.setdefault(f"@{m.group(2)}.{m.group(3)}", hash(f.name) & 0)  # placeholder keeps order
        design.files.append(f.name if only else f"{shown}/{f.name}")
    mod = TfModule(shown, blocks)
    mod.lines = {k: v for k, v in lines.items() if not k.startswith("@")}
    return _build(mod, design, roles)


# ----------------------------------------------------------------------------------- building the design


@dataclass(frozen=True, slots=True)
class TfResource:
    """One ``resource "type" "name"`` block."""

    type: str
    addr: str  # "type.name"
    body: Raw


class TfBuild:
    """One module being turned into design elements: what every handler shares, and the indexes (built on first
    use) that handlers of later resource types look things up in."""

    def __init__(self, mod: TfModule, design: Design, roles: dict[str, Permissions]) -> None:
        self.mod = mod
        self.design = design
        self.roles = roles
        self.V = mod.value
        self.path = mod.folder
        self.functions = 0
        self.by_type: dict[str, list[TfResource]] = {}
        for (t, n), b in mod.resources.items():
            self.by_type.setdefault(t, []).append(TfResource(t, f"{t}.{n}", b))

    def eid(self, kind: str, addr: str) -> str:
        return f"{kind}:{self.path}#{addr}"

    def function(self, addr: str, provider: str, props: FunctionProps) -> Element:
        eid = self.eid("function", addr)
        return self.design.add(function_element(eid, addr, provider, self.path, self.mod.lines.get(addr), props))

    def store(self, addr: str, props: StoreProps) -> Element:
        eid = self.eid("datastore", addr)
        return self.design.add(store_element(eid, addr, "aws", self.path, self.mod.lines.get(addr), props))

    def of(self, typ: str) -> list[TfResource]:
        return self.by_type.get(typ, [])

    def target(self, v: Any) -> str | None:
        v = self.V(v)
        return v.target if isinstance(v, Ref) else None

    # ---- indexes over other resource types
    @cached_property
    def s3_encryption(self) -> dict[str | None, Raw]:
        return {self.target(r.body.get("bucket")): r.body for r in self.of("aws_s3_bucket_server_side_encryption_configuration")}

    @cached_property
    def s3_versioning(self) -> dict[str | None, Raw]:
        return {self.target(r.body.get("bucket")): r.body for r in self.of("aws_s3_bucket_versioning")}

    @cached_property
    def s3_policies(self) -> dict[str | None, Any]:
        return {self.target(r.body.get("bucket")): self.V(r.body.get("policy")) for r in self.of("aws_s3_bucket_policy")}

    @cached_property
    def rotated_secrets(self) -> set[str | None]:
        return {self.target(r.body.get("secret_id")) for r in self.of("aws_secretsmanager_secret_rotation")}

    @cached_property
    def policy_documents(self) -> Raw:
        """``data.aws_iam_policy_document.X`` -> the policy document it renders."""
        docs: Raw = {}
        for (t, n), b in self.mod.data.items():
            if t == "aws_iam_policy_document":
                raw_sts: list[Raw] = []
                for st in b.get("statement", []) if isinstance(b.get("statement"), list) else []:
                    sv = self.V(st)
                    raw_sts.append(
                        {
                            "Effect": sv.get("effect", "Allow"),
                            "Action": sv.get("actions", []),
                            "Resource": sv.get("resources", ["*"]),
                            "Principal": [p.get("identifiers") for p in sv.get("principals", [])]
                            if isinstance(sv.get("principals"), list)
                            else None,
                        }
                    )
                docs[f"data.aws_iam_policy_document.{n}"] = {"Statement": raw_sts}
        return docs

    def doc_of(self, v: Any) -> Any:
        v = self.V(v)
        if isinstance(v, Ref) and v.target in self.policy_documents:
            return self.policy_documents[v.target]
        if isinstance(v, Ref):
            return Unknown(f"policy from {v.target}")
        return v

    @cached_property
    def policies(self) -> dict[str, tuple[list[Statement], list[str]]]:
        return {r.addr: parse_document(self.doc_of(r.body.get("policy")), r.addr) for r in self.of("aws_iam_policy")}

    @cached_property
    def log_groups(self) -> dict[Any, Raw]:
        return {self.V(r.body.get("name")): r.body for r in self.of("aws_cloudwatch_log_group")}

    @cached_property
    def lambdas(self) -> dict[str, Element]:
        """The Lambda functions of the module (read only after the function handlers ran)."""
        return {r.addr: self.design.elements[self.eid("function", r.addr)] for r in self.of("aws_lambda_function")}

    def fn_of(self, v: Any) -> Element | None:
        """The Lambda function an attribute names: by reference, else by its function name."""
        t = self.target(v)
        if t in self.lambdas:
            return self.lambdas[t]
        val = self.V(v)
        for f in self.lambdas.values():
            if isinstance(val, str) and f.props.get("function_name") == val:
                return f
        return None

    @cached_property
    def waf_targets(self) -> str:
        return " ".join(str(self.V(r.body.get("resource_arn"))) for r in self.of("aws_wafv2_web_acl_association"))

    @cached_property
    def http_integrations(self) -> dict[str, Element | None]:
        return {r.addr: self.fn_of(r.body.get("integration_uri")) for r in self.of("aws_apigatewayv2_integration")}

    @cached_property
    def throttled_http_apis(self) -> set[str | None]:
        out: set[str | None] = set()
        for r in self.of("aws_apigatewayv2_stage"):
            drs = _first(r.body.get("default_route_settings"))
            if drs.get("throttling_rate_limit") is not None or drs.get("throttling_burst_limit") is not None:
                out.add(self.target(r.body.get("api_id")))
        return out

    @cached_property
    def rest_integrations(self) -> dict[tuple[str | None, str | None, str], Element | None]:
        return {
            (self.target(b.get("rest_api_id")), self.target(b.get("resource_id")), str(self.V(b.get("http_method")))): self.fn_of(
                b.get("uri")
            )
            for b in (r.body for r in self.of("aws_api_gateway_integration"))
        }

    @cached_property
    def usage_plans(self) -> str:
        return " ".join(
            str(self.V(r.body.get("api_stages")))
            for r in self.of("aws_api_gateway_usage_plan")
            if r.body.get("throttle_settings") or r.body.get("quota_settings")
        )

    @cached_property
    def gcp_public(self) -> dict[str, bool]:
        """Cloud Functions / Cloud Run services that IAM opens to allUsers or allAuthenticatedUsers."""
        public: dict[str, bool] = {}
        for typ in _GCP_INVOKER_BINDINGS:
            for r in self.of(typ):
                members = self.V(r.body.get("members", r.body.get("member")))
                members = members if isinstance(members, list) else [members]
                fn = self.V(r.body.get("cloud_function", r.body.get("service", r.body.get("name"))))
                if any(m in ("allUsers", "allAuthenticatedUsers") for m in members):
                    public[str(fn.target if isinstance(fn, Ref) else fn)] = True
        return public

    # ---- shared element builders
    def source(self, f: Element, name: str, typ: str, store_addr: str | None, public: bool, auth: str) -> None:
        """An event source that triggers ``f`` (from ``store_addr`` when it is a data store of the module)."""
        sid = self.eid("source", f"{f.name}.{name}")
        store = self.design.elements.get(self.eid("datastore", store_addr)) if store_addr else None
        if store is not None and store.props.get("public") == "write":
            public = True
        self.design.add(
            source_element(
                sid,
                f"{f.name}.{name}",
                f.provider,
                self.path,
                self.mod.lines.get(name, f.line),
                {"type": typ, "resource": store.name if store else store_addr, "public": public, "auth": auth},
            )
        )
        self.design.link(sid, f.id, "triggers")
        if store is not None:
            self.design.link(store.id, sid, "emits")

    def route(self, addr: str, f: Element, api: str, s: ApiRoute) -> None:
        """An API route (HTTP or REST API) that invokes function ``f``."""
        rid = self.eid("route", addr)
        props: RouteProps = {"type": "api", "api": api, **s, "waf": api in self.waf_targets, "public": True, "function": f.name}
        self.design.add(route_element(rid, addr, "aws", self.path, self.mod.lines.get(addr), props))
        self.design.link(rid, f.id, "invokes")


class ApiRoute(TypedDict):
    """What an API Gateway route or method says about itself (the rest comes from its API)."""

    api_kind: str  # http | rest
    path: Any
    method: str
    auth: Any
    validated: bool
    throttled: bool
    cors_origins: Any


Handler = Callable[[TfBuild, TfResource], None]

_GCP_INVOKER_BINDINGS = (
    "google_cloudfunctions_function_iam_member",
    "google_cloudfunctions_function_iam_binding",
    "google_cloudfunctions2_function_iam_member",
    "google_cloud_run_service_iam_member",
    "google_cloud_run_v2_service_iam_member",
)


# ---- AWS data stores


def _dynamodb_table(ctx: TfBuild, r: TfResource) -> None:
    V, b = ctx.V, r.body
    sse = _first(b.get("server_side_encryption"))
    enabled = V(sse.get("enabled")) if sse else False
    pitr = _first(b.get("point_in_time_recovery"))
    ctx.store(
        r.addr,
        {
            "type": "table",
            "name": V(b.get("name")),
            "address": r.addr,
            "public": False,
            "encryption": ("cmk" if sse.get("kms_key_arn") else "kms") if enabled is True else "default",
            "encryption_explicit": enabled is True,
            "backup": V(pitr.get("enabled")) is True if pitr else False,
            "tags": V(b.get("tags")) or {},
        },
    )


def _s3_bucket(ctx: TfBuild, r: TfResource) -> None:
    V, b, addr = ctx.V, r.body, r.addr
    ec = ctx.s3_encryption.get(addr)
    explicit = ec is not None or bool(b.get("server_side_encryption_configuration"))
    enc = "default"
    if ec is not None:
        rule = _first(_first(ec.get("rule")).get("apply_server_side_encryption_by_default"))
        algo = V(rule.get("sse_algorithm"))
        enc = ("cmk" if rule.get("kms_master_key_id") else "kms") if isinstance(algo, str) and "kms" in algo else "default"
    ver = ctx.s3_versioning.get(addr)
    pol = ctx.s3_policies.get(addr)
    public: Any = False
    if isinstance(pol, (str, dict)):
        sts, _u = parse_document(pol, "bucket policy")
        public = False
        if isinstance(pol, str) and '"Principal": "*"' in pol.replace("'", '"'):
            public = "write" if any(":Put" in str(a) for st in sts for a in st.actions) else "read"
    ctx.store(
        addr,
        {
            "type": "bucket",
            "name": V(b.get("bucket", b.get("bucket_prefix"))),
            "address": addr,
            "encryption": enc,
            "encryption_explicit": explicit,
            "backup": ver is not None and V(_first(ver.get("versioning_configuration")).get("status")) == "Enabled",
            "public": public,
            "public_write": public == "write",
            "tags": V(b.get("tags")) or {},
        },
    )


def _sqs_queue(ctx: TfBuild, r: TfResource) -> None:
    V, b = ctx.V, r.body
    kms = V(b.get("kms_master_key_id"))
    managed = V(b.get("sqs_managed_sse_enabled"))
    ctx.store(
        r.addr,
        {
            "type": "queue",
            "name": V(b.get("name")),
            "address": r.addr,
            "public": False,
            "encryption": "cmk" if kms else ("none" if managed is False else "default"),
            "encryption_explicit": bool(kms) or managed is True,
            "tags": V(b.get("tags")) or {},
        },
    )


def _sns_topic(ctx: TfBuild, r: TfResource) -> None:
    V, b = ctx.V, r.body
    kms = V(b.get("kms_master_key_id"))
    ctx.store(
        r.addr,
        {
            "type": "topic",
            "name": V(b.get("name")),
            "address": r.addr,
            "public": False,
            "encryption": "cmk" if kms else "none",
            "encryption_explicit": bool(kms),
            "tags": V(b.get("tags")) or {},
        },
    )


def _secret(ctx: TfBuild, r: TfResource) -> None:
    V, b = ctx.V, r.body
    ctx.store(
        r.addr,
        {
            "type": "secret",
            "name": V(b.get("name")),
            "address": r.addr,
            "public": False,
            "encryption": "cmk" if b.get("kms_key_id") else "kms",
            "encryption_explicit": True,
            "rotation": r.addr in ctx.rotated_secrets,
            "tags": V(b.get("tags")) or {},
        },
    )


# ---- IAM roles and their policies


_PRINCIPAL = re.compile(r"[a-z0-9.-]+\.amazonaws\.com|arn:aws:iam::[^\"']+|\"\*\"")


def trust_principals(doc: Any) -> list[str]:
    """The principals a trust policy names: services, account or role ARNs, and ``"*"``, read only under
    ``Principal``/``NotPrincipal``. A statement's ``Resource: "*"`` (which ``aws_iam_policy_document`` writes by
    default) or a service named in a condition is no principal. A policy given as JSON text is parsed first; text
    that is not JSON is scanned whole, as before."""
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            return _PRINCIPAL.findall(json.dumps(doc))
    found: list[str] = []

    def walk(value: Any, under: bool) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, under or key in ("Principal", "NotPrincipal"))
        elif isinstance(value, list):
            for item in value:
                walk(item, under)
        elif under and value is not None:
            found.extend(_PRINCIPAL.findall(json.dumps(value, default=str)))

    walk(doc, False)
    return found


def _iam_role(ctx: TfBuild, r: TfResource) -> None:
    V, b, addr = ctx.V, r.body, r.addr
    perms = Permissions()
    for ip in b.get("inline_policy", []) if isinstance(b.get("inline_policy"), list) else []:
        sts, unk = parse_document(ctx.doc_of(ip.get("policy")), f"{addr} inline")
        perms.statements.extend(sts)
        perms.unknown.extend(unk)
    for arn in V(b.get("managed_policy_arns")) or []:
        add_managed(arn, perms)
    trust_doc = ctx.doc_of(b.get("assume_role_policy"))
    trust = trust_principals(trust_doc) if not isinstance(trust_doc, Unknown) else [trust_doc]
    ctx.roles[ctx.eid("role", addr)] = perms
    props: RoleProps = {"trust": trust, "boundary": V(b.get("permissions_boundary")), "generated": False}
    ctx.design.add(role_element(ctx.eid("role", addr), addr, "aws", ctx.path, ctx.mod.lines.get(addr), props))


def _iam_role_policy(ctx: TfBuild, r: TfResource) -> None:
    rid = ctx.eid("role", ctx.target(r.body.get("role")) or "")
    if rid in ctx.roles:
        sts, unk = parse_document(ctx.doc_of(r.body.get("policy")), r.addr)
        ctx.roles[rid].statements.extend(sts)
        ctx.roles[rid].unknown.extend(unk)


def _iam_role_policy_attachment(ctx: TfBuild, r: TfResource) -> None:
    rid = ctx.eid("role", ctx.target(r.body.get("role")) or "")
    if rid not in ctx.roles:
        return
    arn = ctx.V(r.body.get("policy_arn"))
    if isinstance(arn, Ref) and arn.target in ctx.policies:
        sts, unk = ctx.policies[arn.target]
        ctx.roles[rid].statements.extend(sts)
        ctx.roles[rid].unknown.extend(unk)
    elif isinstance(arn, Ref) and arn.target.startswith("data.aws_iam_policy."):
        name = ctx.V(ctx.mod.data.get(("aws_iam_policy", arn.target.split(".")[2]), {}).get("name"))
        add_managed(name if isinstance(name, str) else Unknown("managed policy data source"), ctx.roles[rid])
    else:
        add_managed(arn, ctx.roles[rid])


# ---- Lambda functions and what configures them


def _lambda_function(ctx: TfBuild, r: TfResource) -> None:
    V, b, addr = ctx.V, r.body, r.addr
    ctx.functions += 1
    env = _first(b.get("environment")).get("variables") if b.get("environment") else {}
    dyn = {_unq(k) for d in (b.get("dynamic") or []) for k in d} if isinstance(b.get("dynamic"), list) else set()

    def block(name: str, key: str) -> Any:
        if name in dyn:
            return Unknown(f"dynamic {name} block")
        blk = _first(b.get(name))
        return V(blk.get(key)) if blk else None

    vpc_subnets = block("vpc_config", "subnet_ids")
    image = V(b.get("package_type")) == "Image"
    fname = V(b.get("function_name"))
    lg = ctx.log_groups.get(f"/aws/lambda/{fname}") if isinstance(fname, str) else None
    logging_group = block("logging_config", "log_group")
    if lg is None and isinstance(logging_group, str):
        lg = ctx.log_groups.get(logging_group)
    props: FunctionProps = {
        "function_name": fname,
        "runtime": None if image else V(b.get("runtime", '"?"')) if b.get("runtime") is not None else Unknown("runtime not set"),
        "timeout": V(b.get("timeout", 3)),
        "memory": V(b.get("memory_size", 128)),
        "concurrency_limit": V(b.get("reserved_concurrent_executions"))
        if V(b.get("reserved_concurrent_executions")) != -1
        else None,
        "environment": V(env) if env is not None else ({} if "environment" not in dyn else Unknown("dynamic environment block")),
        "env_kms_key": V(b.get("kms_key_arn")),
        "tracing": block("tracing_config", "mode"),
        "vpc": vpc_subnets if isinstance(vpc_subnets, Unknown) else ({"subnets": vpc_subnets} if vpc_subnets else None),
        "dlq": block("dead_letter_config", "target_arn"),
        "on_failure": None,
        "layers": V(b.get("layers")) or [],
        "code_signing": V(b.get("code_signing_config_arn")),
        "published": V(b.get("publish")) is True,
        "url": None,
        "alarms": 0,
        "invoke_permissions": [],
        "log": None
        if lg is None
        else {
            "name": V(lg.get("name")),
            "retention": V(lg.get("retention_in_days")),
            "kms_key": V(lg.get("kms_key_id")),
            "subscription": False,
        },
        "framework": "terraform",
    }
    props["timeout"] = _number(props["timeout"], "timeout")
    props["memory"] = _number(props["memory"], "memory")
    role = ctx.target(b.get("role"))
    props["role_id"] = ctx.eid("role", role) if role else None
    ctx.function(addr, "aws", props)


def _number(v: Any, what: str) -> Any:
    """A number written as text ("30") as an int; other text is unknown."""
    if not isinstance(v, str):
        return v
    try:
        return int(v)
    except ValueError:
        return Unknown(f"{what} not a number")


def _lambda_function_url(ctx: TfBuild, r: TfResource) -> None:
    f = ctx.fn_of(r.body.get("function_name"))
    if f is not None:
        cors = _first(r.body.get("cors"))
        f.props["url"] = {"auth": ctx.V(r.body.get("authorization_type")), "cors_origins": ctx.V(cors.get("allow_origins")) or []}


def _lambda_permission(ctx: TfBuild, r: TfResource) -> None:
    b = r.body
    f = ctx.fn_of(b.get("function_name"))
    if f is not None:
        principal = ctx.V(b.get("principal"))
        conditioned = bool(b.get("source_arn") or b.get("source_account") or b.get("principal_org_id"))
        f.props["invoke_permissions"].append({"principal": as_text(principal), "conditioned": conditioned})
        if principal == "*" and not conditioned:
            f.props["public_invoke"] = True


def _lambda_event_invoke_config(ctx: TfBuild, r: TfResource) -> None:
    f = ctx.fn_of(r.body.get("function_name"))
    dc = _first(r.body.get("destination_config"))
    if f is not None and dc.get("on_failure"):
        f.props["on_failure"] = ctx.V(_first(dc.get("on_failure")).get("destination"))


def _lambda_alias(ctx: TfBuild, r: TfResource) -> None:
    f = ctx.fn_of(r.body.get("function_name"))
    if f is not None:
        f.props["published"] = True


def _metric_alarm(ctx: TfBuild, r: TfResource) -> None:
    b = r.body
    dims = ctx.V(b.get("dimensions"))
    if isinstance(dims, dict):
        f = ctx.fn_of(b.get("dimensions", {}).get("FunctionName")) if isinstance(b.get("dimensions"), dict) else None
        if f is not None:
            f.props["alarms"] += 1


# ---- event sources

#: event source mapping: resource type (without aws_ and _queue/_table) -> source type
_MAPPING_SOURCES = {"sqs": "sqs", "dynamodb": "dynamodb", "kinesis_stream": "kinesis"}


def _event_source_mapping(ctx: TfBuild, r: TfResource) -> None:
    f = ctx.fn_of(r.body.get("function_name"))
    if f is None:
        return
    t_addr = ctx.target(r.body.get("event_source_arn"))
    typ = (t_addr or "").split(".")[0].replace("aws_", "").replace("_queue", "").replace("_table", "")
    ctx.source(f, r.addr, _MAPPING_SOURCES.get(typ, typ or "event-source-mapping"), t_addr, False, "INTERNAL")
    dc = _first(r.body.get("destination_config"))
    if dc.get("on_failure"):
        f.props["on_failure"] = ctx.V(_first(dc.get("on_failure")).get("destination_arn"))


def _s3_notification(ctx: TfBuild, r: TfResource) -> None:
    bucket = ctx.target(r.body.get("bucket"))
    lfs = r.body.get("lambda_function")
    for lf in lfs if isinstance(lfs, list) else []:
        f = ctx.fn_of(lf.get("lambda_function_arn"))
        if f is not None:
            ctx.source(f, r.addr, "s3", bucket, False, "NONE")


def _sns_subscription(ctx: TfBuild, r: TfResource) -> None:
    f = ctx.fn_of(r.body.get("endpoint"))
    if f is not None:
        ctx.source(f, r.addr, "sns", ctx.target(r.body.get("topic_arn")), False, "INTERNAL")


def _event_target(ctx: TfBuild, r: TfResource) -> None:
    f = ctx.fn_of(r.body.get("arn"))
    if f is not None:
        ctx.source(f, r.addr, "eventbridge", None, False, "INTERNAL")


# ---- API Gateway v2 (HTTP) and v1 (REST)


def _http_api_route(ctx: TfBuild, r: TfResource) -> None:
    V, b = ctx.V, r.body
    m = re.search(r"\$\{?(aws_apigatewayv2_integration\.[A-Za-z0-9_\-]+)", str(V(b.get("target"))))
    f = ctx.http_integrations.get(m.group(1)) if m else None
    if f is None:
        return
    api = ctx.target(b.get("api_id")) or "?"
    api_type, _, api_name = api.partition(".")
    apib = ctx.mod.resources.get((api_type, api_name), {}) if api_name else {}
    cors = _first(apib.get("cors_configuration"))
    ctx.route(r.addr, f, api, {
        "api_kind": "http",
        "path": V(b.get("route_key")),
        "method": "ANY",
        "auth": V(b.get("authorization_type", '"NONE"')),
        "validated": False,
        "throttled": api in ctx.throttled_http_apis,
        "cors_origins": V(cors.get("allow_origins")) or [],
    })  # fmt: skip


def _rest_api_method(ctx: TfBuild, r: TfResource) -> None:
    V, b = ctx.V, r.body
    key = (ctx.target(b.get("rest_api_id")), ctx.target(b.get("resource_id")), str(V(b.get("http_method"))))
    f = ctx.rest_integrations.get(key)
    if f is None:
        return
    api = key[0] or "?"
    ctx.route(r.addr, f, api, {
        "api_kind": "rest",
        "path": key[1],
        "method": key[2],
        "auth": V(b.get("authorization")),
        "validated": bool(b.get("request_validator_id")) and bool(ctx.of("aws_api_gateway_request_validator")),
        "throttled": api in ctx.usage_plans,
        "cors_origins": [],
    })  # fmt: skip


# ---- Google Cloud Functions (1st and 2nd gen)


def _gcp_function(ctx: TfBuild, r: TfResource) -> None:
    V, b, addr, typ = ctx.V, r.body, r.addr, r.type
    ctx.functions += 1
    gen2 = typ.endswith("2_function")
    sc = _first(b.get("service_config")) if gen2 else b
    bc = _first(b.get("build_config")) if gen2 else b
    trig = _first(b.get("event_trigger"))
    http = not trig if gen2 else bool(V(b.get("trigger_http")))
    ingress = V(sc.get("ingress_settings"))
    env = V(sc.get("environment_variables")) or {}
    f = ctx.function(
        addr,
        "gcp",
        {
            "function_name": V(b.get("name")),
            "runtime": V(bc.get("runtime")),
            "timeout": V(sc.get("timeout_seconds", sc.get("timeout", 60))),
            "memory": V(sc.get("available_memory_mb", sc.get("available_memory", 256))),
            "concurrency_limit": V(sc.get("max_instance_count", sc.get("max_instances"))),
            "environment": env,
            "env_kms_key": V(b.get("kms_key_name")),
            "tracing": None,
            "vpc": V(sc.get("vpc_connector")),
            "dlq": None,
            "on_failure": None,
            "layers": [],
            "code_signing": None,
            "published": True,
            "url": None,
            "log": None,
            "alarms": 0,
            "invoke_permissions": [],
            "secret_env": V(sc.get("secret_environment_variables")),
            "ingress": ingress,
            "framework": "terraform",
            "retry": V(_first(trig.get("failure_policy")).get("retry")) if trig else None,
            # 2nd gen serves HTTPS only; 1st gen HTTP functions also answer plain HTTP unless SECURE_ALWAYS
            "https_only": True if gen2 else (V(b.get("https_trigger_security_level")) == "SECURE_ALWAYS" if http else None),
        },
    )
    f.props["role_id"] = None
    path = ctx.path
    if http:
        short = addr.split(".", 1)[1]
        allow = ctx.gcp_public.get(f"{typ}.{short}") or any(k.endswith(short) for k in ctx.gcp_public)
        rid = f"route:{path}#{addr}.http"
        ctx.design.add(
            route_element(
                rid,
                f"{addr} HTTPS trigger",
                "gcp",
                path,
                f.line,
                {
                    "type": "http-trigger",
                    "api": addr,
                    "api_kind": "gcf-http",
                    "path": "/",
                    "method": "ANY",
                    "auth": "NONE" if allow else "IAM",
                    "validated": False,
                    "throttled": False,
                    "waf": False,
                    "cors_origins": [],
                    "public": ingress in (None, "ALLOW_ALL"),
                    "function": addr,
                },
            )
        )
        ctx.design.link(rid, f.id, "invokes")
    elif trig:
        sid = f"source:{path}#{addr}.event"
        ctx.design.add(
            source_element(
                sid,
                f"{addr}.event",
                "gcp",
                path,
                f.line,
                {
                    "type": str(V(trig.get("event_type"))),
                    "resource": as_text(V(trig.get("resource", trig.get("pubsub_topic")))),
                    "public": False,
                    "auth": "INTERNAL",
                },
            )
        )
        ctx.design.link(sid, f.id, "triggers")


# ---- Azure Function Apps


def _azure_function_app(ctx: TfBuild, r: TfResource) -> None:
    V, b, addr = ctx.V, r.body, r.addr
    ctx.functions += 1
    sc = _first(b.get("site_config"))
    stack = _first(sc.get("application_stack"))
    runtime = None
    for k, v in stack.items():
        if k.endswith("_version") and v is not None:
            runtime = f"{k.replace('_version', '')}|{V(v)}"
    settings = V(b.get("app_settings")) or {}
    ai = (
        sc.get("application_insights_connection_string")
        or sc.get("application_insights_key")
        or (
            isinstance(settings, dict)
            and any(k in settings for k in ("APPLICATIONINSIGHTS_CONNECTION_STRING", "APPINSIGHTS_INSTRUMENTATIONKEY"))
        )
    )
    auth = _first(b.get("auth_settings_v2")) or _first(b.get("auth_settings"))
    auth_on = V(auth.get("auth_enabled", auth.get("enabled"))) is True if auth else False
    cors = _first(sc.get("cors"))
    f = azure_function_app(
        ctx.design,
        ctx.eid("function", addr),
        addr,
        ctx.path,
        ctx.mod.lines.get(addr),
        {
            "function_name": V(b.get("name")),
            "runtime": runtime if runtime else Unknown("application stack not set"),
            "concurrency_limit": V(sc.get("app_scale_limit")),
            "environment": settings if isinstance(settings, dict) else {},
            "tracing": "Active" if ai else None,
            "vpc": V(b.get("virtual_network_subnet_id")),
            "https_only": V(b.get("https_only")) is True,
            "min_tls": V(sc.get("minimum_tls_version")),
            "framework": "terraform",
        },
    )
    azure_http_route(
        ctx.design,
        f,
        f"route:{ctx.path}#{addr}.http",
        addr,
        auth_on=auth_on,
        cors_origins=V(cors.get("allowed_origins")) or [],
        public=V(b.get("public_network_access_enabled")) is not False,
    )


#: resource type -> handler, run in this order: data stores, roles (and their policies), functions, what
#: configures functions, event sources, API routes, Google and Azure functions. A handler may read what the
#: handlers before it built (sources look up stores, routes look up functions), never what comes after.
HANDLERS: dict[str, Handler] = {
    "aws_dynamodb_table": _dynamodb_table,
    "aws_s3_bucket": _s3_bucket,
    "aws_sqs_queue": _sqs_queue,
    "aws_sns_topic": _sns_topic,
    "aws_secretsmanager_secret": _secret,
    "aws_iam_role": _iam_role,
    "aws_iam_role_policy": _iam_role_policy,
    "aws_iam_role_policy_attachment": _iam_role_policy_attachment,
    "aws_lambda_function": _lambda_function,
    "aws_lambda_function_url": _lambda_function_url,
    "aws_lambda_permission": _lambda_permission,
    "aws_lambda_function_event_invoke_config": _lambda_event_invoke_config,
    "aws_lambda_alias": _lambda_alias,
    "aws_cloudwatch_metric_alarm": _metric_alarm,
    "aws_lambda_event_source_mapping": _event_source_mapping,
    "aws_s3_bucket_notification": _s3_notification,
    "aws_sns_topic_subscription": _sns_subscription,
    "aws_cloudwatch_event_target": _event_target,
    "aws_apigatewayv2_route": _http_api_route,
    "aws_api_gateway_method": _rest_api_method,
    "google_cloudfunctions_function": _gcp_function,
    "google_cloudfunctions2_function": _gcp_function,
    "azurerm_linux_function_app": _azure_function_app,
    "azurerm_windows_function_app": _azure_function_app,
    "azurerm_function_app": _azure_function_app,
}


def _build(mod: TfModule, design: Design, roles: dict[str, Permissions]) -> int:
    """Turn a module into design elements through :data:`HANDLERS`; returns how many functions it found."""
    ctx = TfBuild(mod, design, roles)
    for typ, handler in HANDLERS.items():
        for r in ctx.of(typ):
            handler(ctx, r)
    return ctx.functions
