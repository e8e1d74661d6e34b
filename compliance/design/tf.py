"""Terraform (``*.tf``, read with python-hcl2) -> design elements for AWS Lambda, Google Cloud Functions and
Azure Functions.

Each folder is one module; references resolve inside it. ``var.x`` takes the variable's default, ``local.x``
its value; anything else that Terraform would only know at plan time (module outputs, data sources other than
``aws_iam_policy_document``, conditionals, ``dynamic`` blocks) is unknown. Module calls are not expanded.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import hcl2

from compliance.design.iam import Permissions, Statement, add_managed, as_text, parse_document
from compliance.design.model import Design, Element, Ref, Unknown, azure_function_fixed
from compliance.errors import InputError

_ADDR = re.compile(r"^(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z0-9_\-]+)(\[[^\]]*\])?(?:\.([A-Za-z0-9_]+))?")
MAX_DEPTH = 40


def _unq(s: str) -> str:
    return s[1:-1] if len(s) >= 2 and s[0] == '"' and s[-1] == '"' else s


class TfModule:
    def __init__(self, folder: str, blocks: dict[str, Any]) -> None:
        self.folder = folder
        self.vars: dict[str, Any] = {}
        self.locals: dict[str, Any] = {}
        self.resources: dict[tuple[str, str], dict[str, Any]] = {}
        self.data: dict[tuple[str, str], dict[str, Any]] = {}
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


def _first(block: Any) -> dict[str, Any]:
    if isinstance(block, list) and block and isinstance(block[0], dict):
        return block[0]
    return block if isinstance(block, dict) else {}


def read_terraform_dir(folder: Path, only: list[Path] | None, shown: str, design: Design, roles: dict[str, Permissions]) -> int:
    """Read the ``*.tf`` files of one folder (or just ``only``). Returns how many functions it found."""
    files = only if only else sorted(folder.glob("*.tf"))
    blocks: dict[str, list[Any]] = {}
    lines: dict[str, int] = {}
    for f in files:
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


def _build(mod: TfModule, design: Design, roles: dict[str, Permissions]) -> int:
    R = mod.resources
    V = mod.value
    path = mod.folder

    def eid(kind: str, addr: str) -> str:
        return f"{kind}:{path}#{addr}"

    def el(kind: str, addr: str, provider: str, props: dict[str, Any]) -> Element:
        return design.add(Element(eid(kind, addr), kind, addr, provider, path, mod.lines.get(addr), props))

    def of(typ: str) -> list[tuple[str, dict[str, Any]]]:
        return [(f"{t}.{n}", b) for (t, n), b in R.items() if t == typ]

    def target(v: Any) -> str | None:
        v = V(v)
        if isinstance(v, Ref):
            return v.target
        return None

    # ---- data stores
    enc_cfg = {target(b.get("bucket")): b for _a, b in of("aws_s3_bucket_server_side_encryption_configuration")}
    versioning = {target(b.get("bucket")): b for _a, b in of("aws_s3_bucket_versioning")}
    bpol = {target(b.get("bucket")): V(b.get("policy")) for _a, b in of("aws_s3_bucket_policy")}
    for addr, b in of("aws_dynamodb_table"):
        sse = _first(b.get("server_side_encryption"))
        enabled = V(sse.get("enabled")) if sse else False
        pitr = _first(b.get("point_in_time_recovery"))
        el(
            "datastore",
            addr,
            "aws",
            {
                "type": "table",
                "name": V(b.get("name")),
                "address": addr,
                "public": False,
                "encryption": ("cmk" if sse.get("kms_key_arn") else "kms") if enabled is True else "default",
                "encryption_explicit": enabled is True,
                "backup": V(pitr.get("enabled")) is True if pitr else False,
                "tags": V(b.get("tags")) or {},
            },
        )
    for addr, b in of("aws_s3_bucket"):
        ec = enc_cfg.get(addr)
        explicit = ec is not None or bool(b.get("server_side_encryption_configuration"))
        enc = "default"
        if ec is not None:
            rule = _first(_first(ec.get("rule")).get("apply_server_side_encryption_by_default"))
            algo = V(rule.get("sse_algorithm"))
            enc = ("cmk" if rule.get("kms_master_key_id") else "kms") if isinstance(algo, str) and "kms" in algo else "default"
        ver = versioning.get(addr)
        pol = bpol.get(addr)
        public: Any = False
        if isinstance(pol, (str, dict)):
            sts, _u = parse_document(pol, "bucket policy")
            public = False
            if isinstance(pol, str) and '"Principal": "*"' in pol.replace("'", '"'):
                public = "write" if any(":Put" in str(a) for st in sts for a in st.actions) else "read"
        el(
            "datastore",
            addr,
            "aws",
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
    for addr, b in of("aws_sqs_queue"):
        kms = V(b.get("kms_master_key_id"))
        managed = V(b.get("sqs_managed_sse_enabled"))
        el(
            "datastore",
            addr,
            "aws",
            {
                "type": "queue",
                "name": V(b.get("name")),
                "address": addr,
                "public": False,
                "encryption": "cmk" if kms else ("none" if managed is False else "default"),
                "encryption_explicit": bool(kms) or managed is True,
                "tags": V(b.get("tags")) or {},
            },
        )
    for addr, b in of("aws_sns_topic"):
        kms = V(b.get("kms_master_key_id"))
        el(
            "datastore",
            addr,
            "aws",
            {
                "type": "topic",
                "name": V(b.get("name")),
                "address": addr,
                "public": False,
                "encryption": "cmk" if kms else "none",
                "encryption_explicit": bool(kms),
                "tags": V(b.get("tags")) or {},
            },
        )
    rotated = {target(b.get("secret_id")) for _a, b in of("aws_secretsmanager_secret_rotation")}
    for addr, b in of("aws_secretsmanager_secret"):
        el(
            "datastore",
            addr,
            "aws",
            {
                "type": "secret",
                "name": V(b.get("name")),
                "address": addr,
                "public": False,
                "encryption": "cmk" if b.get("kms_key_id") else "kms",
                "encryption_explicit": True,
                "rotation": addr in rotated,
                "tags": V(b.get("tags")) or {},
            },
        )
    # ---- roles
    docs: dict[str, Any] = {}
    for (t, n), b in mod.data.items():
        if t == "aws_iam_policy_document":
            raw_sts: list[dict[str, Any]] = []
            for st in b.get("statement", []) if isinstance(b.get("statement"), list) else []:
                sv = V(st)
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

    def doc_of(v: Any) -> Any:
        v = V(v)
        if isinstance(v, Ref) and v.target in docs:
            return docs[v.target]
        if isinstance(v, Ref):
            return Unknown(f"policy from {v.target}")
        return v

    policies: dict[str, tuple[list[Statement], list[str]]] = {}
    for addr, b in of("aws_iam_policy"):
        policies[addr] = parse_document(doc_of(b.get("policy")), addr)
    for addr, b in of("aws_iam_role"):
        perms = Permissions()
        for ip in b.get("inline_policy", []) if isinstance(b.get("inline_policy"), list) else []:
            sts, unk = parse_document(doc_of(ip.get("policy")), f"{addr} inline")
            perms.statements.extend(sts)
            perms.unknown.extend(unk)
        for arn in V(b.get("managed_policy_arns")) or []:
            add_managed(arn, perms)
        trust_doc = doc_of(b.get("assume_role_policy"))
        trust = (
            re.findall(r"[a-z0-9.-]+\.amazonaws\.com|arn:aws:iam::[^\"']+|\"\*\"", json.dumps(trust_doc, default=str))
            if not isinstance(trust_doc, Unknown)
            else [trust_doc]
        )
        roles[eid("role", addr)] = perms
        el("role", addr, "aws", {"trust": trust, "boundary": V(b.get("permissions_boundary")), "generated": False})
    for addr, b in of("aws_iam_role_policy"):
        rid = eid("role", target(b.get("role")) or "")
        if rid in roles:
            sts, unk = parse_document(doc_of(b.get("policy")), addr)
            roles[rid].statements.extend(sts)
            roles[rid].unknown.extend(unk)
    for _a, b in of("aws_iam_role_policy_attachment"):
        rid = eid("role", target(b.get("role")) or "")
        if rid not in roles:
            continue
        arn = V(b.get("policy_arn"))
        if isinstance(arn, Ref) and arn.target in policies:
            sts, unk = policies[arn.target]
            roles[rid].statements.extend(sts)
            roles[rid].unknown.extend(unk)
        elif isinstance(arn, Ref) and arn.target.startswith("data.aws_iam_policy."):
            name = V(mod.data.get(("aws_iam_policy", arn.target.split(".")[2]), {}).get("name"))
            add_managed(name if isinstance(name, str) else Unknown("managed policy data source"), roles[rid])
        else:
            add_managed(arn, roles[rid])
    # ---- functions
    count = 0
    log_groups = {V(b.get("name")): b for _a, b in of("aws_cloudwatch_log_group")}
    for addr, b in of("aws_lambda_function"):
        count += 1
        env = _first(b.get("environment")).get("variables") if b.get("environment") else {}
        dyn = {_unq(k) for d in (b.get("dynamic") or []) for k in d} if isinstance(b.get("dynamic"), list) else set()

        def block(name: str, key: str, b: dict[str, Any] = b, dyn: set[str] = dyn) -> Any:
            if name in dyn:
                return Unknown(f"dynamic {name} block")
            blk = _first(b.get(name))
            return V(blk.get(key)) if blk else None

        vpc_subnets = block("vpc_config", "subnet_ids")
        image = V(b.get("package_type")) == "Image"
        fname = V(b.get("function_name"))
        lg = log_groups.get(f"/aws/lambda/{fname}") if isinstance(fname, str) else None
        logging_group = block("logging_config", "log_group")
        if lg is None and isinstance(logging_group, str):
            lg = log_groups.get(logging_group)
        props: dict[str, Any] = {
            "function_name": fname,
            "runtime": None
            if image
            else V(b.get("runtime", '"?"'))
            if b.get("runtime") is not None
            else Unknown("runtime not set"),
            "timeout": V(b.get("timeout", 3)),
            "memory": V(b.get("memory_size", 128)),
            "concurrency_limit": V(b.get("reserved_concurrent_executions"))
            if V(b.get("reserved_concurrent_executions")) != -1
            else None,
            "environment": V(env)
            if env is not None
            else ({} if "environment" not in dyn else Unknown("dynamic environment block")),
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
        for k in ("runtime", "timeout", "memory"):
            if isinstance(props[k], str) and k != "runtime":
                try:
                    props[k] = int(props[k])
                except ValueError:
                    props[k] = Unknown(f"{k} not a number")
        role = target(b.get("role"))
        props["role_id"] = eid("role", role) if role else None
        el("function", addr, "aws", props)
    fns = {a: design.elements[eid("function", a)] for a, _b in of("aws_lambda_function")}

    def fn_of(v: Any) -> Element | None:
        t = target(v)
        if t in fns:
            return fns[t]
        val = V(v)
        for f in fns.values():
            if isinstance(val, str) and f.props.get("function_name") == val:
                return f
        return None

    for _a, b in of("aws_lambda_function_url"):
        f = fn_of(b.get("function_name"))
        if f is not None:
            cors = _first(b.get("cors"))
            f.props["url"] = {"auth": V(b.get("authorization_type")), "cors_origins": V(cors.get("allow_origins")) or []}
    for _a, b in of("aws_lambda_permission"):
        f = fn_of(b.get("function_name"))
        if f is not None:
            principal = V(b.get("principal"))
            conditioned = bool(b.get("source_arn") or b.get("source_account") or b.get("principal_org_id"))
            f.props["invoke_permissions"].append({"principal": as_text(principal), "conditioned": conditioned})
            if principal == "*" and not conditioned:
                f.props["public_invoke"] = True
    for _a, b in of("aws_lambda_function_event_invoke_config"):
        f = fn_of(b.get("function_name"))
        dc = _first(b.get("destination_config"))
        if f is not None and dc.get("on_failure"):
            f.props["on_failure"] = V(_first(dc.get("on_failure")).get("destination"))
    for _a, b in of("aws_lambda_alias"):
        f = fn_of(b.get("function_name"))
        if f is not None:
            f.props["published"] = True
    for _addr, b in of("aws_cloudwatch_metric_alarm"):
        dims = V(b.get("dimensions"))
        if isinstance(dims, dict):
            f = fn_of(b.get("dimensions", {}).get("FunctionName")) if isinstance(b.get("dimensions"), dict) else None
            if f is not None:
                f.props["alarms"] += 1

    def source(f: Element, name: str, typ: str, store_addr: str | None, public: bool, auth: str) -> None:
        sid = eid("source", f"{f.name}.{name}")
        store = design.elements.get(eid("datastore", store_addr)) if store_addr else None
        if store is not None and store.props.get("public") == "write":
            public = True
        design.add(
            Element(
                sid,
                "source",
                f"{f.name}.{name}",
                f.provider,
                path,
                mod.lines.get(name, f.line),
                {"type": typ, "resource": store.name if store else store_addr, "public": public, "auth": auth},
            )
        )
        design.link(sid, f.id, "triggers")
        if store is not None:
            design.link(store.id, sid, "emits")

    for addr, b in of("aws_lambda_event_source_mapping"):
        f = fn_of(b.get("function_name"))
        if f is None:
            continue
        t_addr = target(b.get("event_source_arn"))
        typ = (t_addr or "").split(".")[0].replace("aws_", "").replace("_queue", "").replace("_table", "")
        kinds = {"sqs": "sqs", "dynamodb": "dynamodb", "kinesis_stream": "kinesis"}
        source(f, addr, kinds.get(typ, typ or "event-source-mapping"), t_addr, False, "INTERNAL")
        dc = _first(b.get("destination_config"))
        if dc.get("on_failure"):
            f.props["on_failure"] = V(_first(dc.get("on_failure")).get("destination_arn"))
    for addr, b in of("aws_s3_bucket_notification"):
        bucket = target(b.get("bucket"))
        for lf in b.get("lambda_function", []) if isinstance(b.get("lambda_function"), list) else []:
            f = fn_of(lf.get("lambda_function_arn"))
            if f is not None:
                source(f, addr, "s3", bucket, False, "NONE")
    for addr, b in of("aws_sns_topic_subscription"):
        f = fn_of(b.get("endpoint"))
        if f is not None:
            source(f, addr, "sns", target(b.get("topic_arn")), False, "INTERNAL")
    for addr, b in of("aws_cloudwatch_event_target"):
        f = fn_of(b.get("arn"))
        if f is not None:
            source(f, addr, "eventbridge", None, False, "INTERNAL")
    # ---- API Gateway v2 (HTTP) and v1 (REST)
    waf_targets = " ".join(str(V(b.get("resource_arn"))) for _a, b in of("aws_wafv2_web_acl_association"))
    integrations = {a: fn_of(b.get("integration_uri")) for a, b in of("aws_apigatewayv2_integration")}
    throttled_apis = set()
    for _a, b in of("aws_apigatewayv2_stage"):
        drs = _first(b.get("default_route_settings"))
        if drs.get("throttling_rate_limit") is not None or drs.get("throttling_burst_limit") is not None:
            throttled_apis.add(target(b.get("api_id")))

    def route(addr: str, f: Any, api: str, props: dict[str, Any]) -> None:
        """An API route (HTTP or REST API) that invokes function ``f``."""
        rid = eid("route", addr)
        props = {"type": "api", "api": api, **props, "waf": api in waf_targets, "public": True, "function": f.name}
        design.add(Element(rid, "route", addr, "aws", path, mod.lines.get(addr), props))
        design.link(rid, f.id, "invokes")

    for addr, b in of("aws_apigatewayv2_route"):
        tgt = V(b.get("target"))
        m = re.search(r"\$\{?(aws_apigatewayv2_integration\.[A-Za-z0-9_\-]+)", str(tgt))
        f = integrations.get(m.group(1)) if m else None
        if f is None:
            continue
        api = target(b.get("api_id")) or "?"
        apib = R.get(tuple(api.split(".", 1)), {}) if "." in api else {}  # type: ignore[arg-type]
        cors = _first(apib.get("cors_configuration"))
        route(addr, f, api, {
            "api_kind": "http",
            "path": V(b.get("route_key")),
            "method": "ANY",
            "auth": V(b.get("authorization_type", '"NONE"')),
            "validated": False,
            "throttled": api in throttled_apis,
            "cors_origins": V(cors.get("allow_origins")) or [],
        })  # fmt: skip
    validators = {a: b for a, b in of("aws_api_gateway_request_validator")}
    rest_integ = {}
    for _a, b in of("aws_api_gateway_integration"):
        rest_integ[(target(b.get("rest_api_id")), target(b.get("resource_id")), str(V(b.get("http_method"))))] = fn_of(
            b.get("uri")
        )
    plans = " ".join(
        str(V(b.get("api_stages")))
        for _a, b in of("aws_api_gateway_usage_plan")
        if b.get("throttle_settings") or b.get("quota_settings")
    )
    for addr, b in of("aws_api_gateway_method"):
        key = (target(b.get("rest_api_id")), target(b.get("resource_id")), str(V(b.get("http_method"))))
        f = rest_integ.get(key)
        if f is None:
            continue
        api = key[0] or "?"
        route(addr, f, api, {
            "api_kind": "rest",
            "path": key[1],
            "method": key[2],
            "auth": V(b.get("authorization")),
            "validated": bool(b.get("request_validator_id")) and bool(validators),
            "throttled": api in plans,
            "cors_origins": [],
        })  # fmt: skip
    count += _gcp(mod, design, el, of, V)
    count += _azure(mod, design, el, of, V)
    return count


def _gcp(mod: TfModule, design: Design, el: Any, of: Any, V: Any) -> int:
    n = 0
    public: dict[str, bool] = {}
    for typ in (
        "google_cloudfunctions_function_iam_member",
        "google_cloudfunctions_function_iam_binding",
        "google_cloudfunctions2_function_iam_member",
        "google_cloud_run_service_iam_member",
        "google_cloud_run_v2_service_iam_member",
    ):
        for _a, b in of(typ):
            members = V(b.get("members", b.get("member")))
            members = members if isinstance(members, list) else [members]
            fn = V(b.get("cloud_function", b.get("service", b.get("name"))))
            if any(m in ("allUsers", "allAuthenticatedUsers") for m in members):
                public[str(fn.target if isinstance(fn, Ref) else fn)] = True
    for typ in ("google_cloudfunctions_function", "google_cloudfunctions2_function"):
        for addr, b in of(typ):
            n += 1
            gen2 = typ.endswith("2_function")
            sc = _first(b.get("service_config")) if gen2 else b
            bc = _first(b.get("build_config")) if gen2 else b
            trig = _first(b.get("event_trigger"))
            http = not trig if gen2 else bool(V(b.get("trigger_http")))
            ingress = V(sc.get("ingress_settings"))
            env = V(sc.get("environment_variables")) or {}
            f = el(
                "function",
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
                    "https_only": True
                    if gen2
                    else (V(b.get("https_trigger_security_level")) == "SECURE_ALWAYS" if http else None),
                },
            )
            f.props["role_id"] = None
            if http:
                allow = public.get(f"{typ}.{addr.split('.', 1)[1]}") or any(k.endswith(addr.split(".", 1)[1]) for k in public)
                rid = f"route:{mod.folder}#{addr}.http"
                design.add(
                    Element(
                        rid,
                        "route",
                        f"{addr} HTTPS trigger",
                        "gcp",
                        mod.folder,
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
                design.link(rid, f.id, "invokes")
            elif trig:
                sid = f"source:{mod.folder}#{addr}.event"
                design.add(
                    Element(
                        sid,
                        "source",
                        f"{addr}.event",
                        "gcp",
                        mod.folder,
                        f.line,
                        {
                            "type": str(V(trig.get("event_type"))),
                            "resource": as_text(V(trig.get("resource", trig.get("pubsub_topic")))),
                            "public": False,
                            "auth": "INTERNAL",
                        },
                    )
                )
                design.link(sid, f.id, "triggers")
    return n


def _azure(mod: TfModule, design: Design, el: Any, of: Any, V: Any) -> int:
    n = 0
    for typ in ("azurerm_linux_function_app", "azurerm_windows_function_app", "azurerm_function_app"):
        for addr, b in of(typ):
            n += 1
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
            f = el(
                "function",
                addr,
                "azure",
                {
                    "function_name": V(b.get("name")),
                    "runtime": runtime if runtime else Unknown("application stack not set"),
                    **azure_function_fixed(),
                    "concurrency_limit": V(sc.get("app_scale_limit")),
                    "environment": settings if isinstance(settings, dict) else {},
                    "tracing": "Active" if ai else None,
                    "vpc": V(b.get("virtual_network_subnet_id")),
                    "https_only": V(b.get("https_only")) is True,
                    "min_tls": V(sc.get("minimum_tls_version")),
                    "framework": "terraform",
                },
            )
            f.props["role_id"] = None
            rid = f"route:{mod.folder}#{addr}.http"
            design.add(
                Element(
                    rid,
                    "route",
                    f"{addr} HTTP triggers",
                    "azure",
                    mod.folder,
                    f.line,
                    {
                        "type": "http-trigger",
                        "api": addr,
                        "api_kind": "azure-http",
                        "path": "/api/*",
                        "method": "ANY",
                        "auth": "APP_SERVICE_AUTH" if auth_on else Unknown("HTTP trigger authLevel is set in function code"),
                        "validated": False,
                        "throttled": False,
                        "waf": False,
                        "cors_origins": V(cors.get("allowed_origins")) or [],
                        "public": V(b.get("public_network_access_enabled")) is not False,
                        "function": addr,
                    },
                )
            )
            design.link(rid, f.id, "invokes")
    return n
