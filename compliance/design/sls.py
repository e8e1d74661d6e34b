"""Serverless Framework ``serverless.yml`` -> design elements (AWS provider).

``${...}`` variables are resolved where the file itself answers them (``self:``, defaults given after a
comma); others (``env:``, ``ssm:``, ``file(...)``, ``cf:`` ...) stay unknown. Functions are turned into
SAM-like records and read together with ``resources.Resources`` by the CloudFormation reader.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compliance.design.cfn import read_template
from compliance.design.cfnyaml import load_template_text
from compliance.design.iam import Permissions, add_managed, parse_document
from compliance.design.model import Design, Raw, Unknown, role_element
from compliance.errors import InputError

_VAR = re.compile(r"\$\{([^{}]*)\}")
MAX_PASSES = 10
#: Bounds on ``${...}`` expansion: variables that refer to each other several times per level grow
#: exponentially, so the lookups made for one file and the length of any string they build are capped.
MAX_LOOKUPS = 100_000
MAX_STRING = 1 << 20


class SlsVars:
    """Resolves ``${...}`` variables from the file itself and from ``${file(...)}`` files beside it."""

    def __init__(self, doc: Raw, base: Path | None = None, path: str = "serverless.yml") -> None:
        self.doc = doc
        self.base = base
        self.path = path
        self._files: Raw = {}
        self._lookups = 0

    def _count(self, expr: str) -> None:
        self._lookups += 1
        if self._lookups > MAX_LOOKUPS:
            raise InputError(
                f"variables expand too much (over {MAX_LOOKUPS:,} lookups, last ${{{expr}}}): "
                "variables that refer to each other several times per level?",
                path=self.path,
            )

    def _file(self, part: str, depth: int) -> Any:
        m = re.fullmatch(r"file\(\s*['\"]?([^)'\"]+)['\"]?\s*\)(?::(.+))?", part)
        if m is None or self.base is None:
            return Unknown(f"variable ${{{part}}}")
        rel = m.group(1).strip()
        target = (self.base / rel).resolve()
        if not target.is_file() or (self.base.resolve() not in target.parents and target.parent != self.base.resolve()):
            return Unknown(f"${{{part}}}: {rel} not found beside the file")
        key = str(target)
        if key not in self._files:
            try:
                self._files[key] = load_template_text(target.read_text(encoding="utf-8"), target.name)
            except (OSError, UnicodeDecodeError, InputError) as exc:
                self._files[key] = Unknown(f"{rel}: {exc}")
        cur = self._files[key]
        for k in (m.group(2) or "").split(".") if m.group(2) else []:
            cur = cur.get(k) if isinstance(cur, dict) else None
        if cur is None:
            return Unknown(f"${{{part}}} not found")
        return self.resolve(cur, depth + 1)

    def lookup(self, expr: str, depth: int) -> Any:
        expr = expr.strip()
        self._count(expr)
        parts = [p.strip() for p in _split_top(expr)]
        first: Unknown | None = None
        for part in parts:
            val = self._one(part, depth)
            if not isinstance(val, Unknown):
                return val
            first = first or val
        return first if first is not None and len(parts) == 1 else Unknown(f"variable ${{{expr}}}")

    def _one(self, part: str, depth: int) -> Any:
        if (part.startswith("'") and part.endswith("'")) or (part.startswith('"') and part.endswith('"')):
            return part[1:-1]
        if re.fullmatch(r"-?\d+", part):
            return int(part)
        if part.startswith("self:"):
            cur: Any = self.doc
            for key in part[5:].split("."):
                if isinstance(cur, dict) and key in cur:
                    cur = cur[key]
                else:
                    return Unknown(f"${{{part}}} not in the file")
            return self.resolve(cur, depth + 1)
        if part.startswith("file("):
            return self._file(part, depth)
        if part.startswith("ssm:") or part.startswith("secretsmanager:"):
            return Unknown(f"secret reference ${{{part}}}")
        return Unknown(f"variable ${{{part}}}")

    def resolve(self, v: Any, depth: int = 0) -> Any:
        if depth > 20:
            return Unknown("variables nested too deeply (circular?)")
        if isinstance(v, dict):
            return {k: self.resolve(x, depth + 1) for k, x in v.items()}
        if isinstance(v, list):
            return [self.resolve(x, depth + 1) for x in v]
        if not isinstance(v, str) or "${" not in v:
            return v
        s = v
        for _ in range(MAX_PASSES):
            m = _VAR.search(s)
            if m is None:
                return s.replace("\x00{", "${")
            if m.start() == 0 and m.end() == len(s):
                val = self.lookup(m.group(1), depth)
                if isinstance(val, Unknown) and m.group(1).strip().startswith(("ssm:", "secretsmanager:")):
                    return "ssm:" + m.group(1)  # a reference to a secret store, not a literal
                return val
            val = self.lookup(m.group(1), depth)
            # an unresolved part stays as a ${...} placeholder (matched like a wildcard), not a guess
            text = "\x00{" + m.group(1) + "}" if isinstance(val, Unknown) else str(val)
            if len(s) - (m.end() - m.start()) + len(text) > MAX_STRING:
                raise InputError(f"variable ${{{m.group(1)}}} expands to a string over {MAX_STRING:,} characters", path=self.path)
            s = s[: m.start()] + text + s[m.end() :]
        return Unknown("variables nested too deeply")


def _d(v: Any) -> Raw:
    """``v`` when it is a mapping, else an empty one."""
    return v if isinstance(v, dict) else {}


def _split_top(expr: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in expr:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def _http_event(cfg: Any) -> Raw:
    cfg = cfg if isinstance(cfg, dict) else {"path": str(cfg).split(" ", 1)[-1], "method": str(cfg).split(" ", 1)[0]}
    authz = cfg.get("authorizer")
    auth = "NONE"
    if authz:
        auth = "AWS_IAM" if authz == "aws_iam" or (isinstance(authz, dict) and authz.get("type") == "aws_iam") else "AUTHORIZER"
    elif cfg.get("private") is True:
        auth = "API_KEY"
    req: Raw = cfg["request"] if isinstance(cfg.get("request"), dict) else {}
    validated = bool(req.get("schemas") or req.get("schema") or (isinstance(req.get("parameters"), dict) and req["parameters"]))
    return {
        "Type": "Api",
        "Properties": {
            "Path": "/" + str(cfg.get("path", "")).lstrip("/"),
            "Method": str(cfg.get("method", "ANY")),
            "Auth": {"Authorizer": auth},
            "RequestModel": {"Required": validated} if validated else None,
        },
    }


def _http_api_event(cfg: Any) -> Raw:
    cfg = cfg if isinstance(cfg, dict) else {"method": "ANY", "path": str(cfg)} if cfg != "*" else {"method": "ANY", "path": "*"}
    authz = cfg.get("authorizer")
    return {
        "Type": "HttpApi",
        "Properties": {
            "Path": str(cfg.get("path", "*")),
            "Method": str(cfg.get("method", "ANY")),
            "Auth": {"Authorizer": "AUTHORIZER" if authz else "NONE"},
        },
    }


def _s3_event(cfg: Any) -> Raw:
    return {"Type": "S3", "Properties": {"Bucket": cfg.get("bucket") if isinstance(cfg, dict) else cfg}}


def _sqs_event(cfg: Any) -> Raw:
    return {"Type": "SQS", "Properties": {"Queue": cfg.get("arn") if isinstance(cfg, dict) else cfg}}


def _sns_event(cfg: Any) -> Raw:
    topic = (cfg.get("arn") or cfg.get("topicName")) if isinstance(cfg, dict) else cfg
    return {"Type": "SNS", "Properties": {"Topic": topic}}


def _stream_event(cfg: Any) -> Raw:
    arn = cfg.get("arn") if isinstance(cfg, dict) else cfg
    return {"Type": "DynamoDB" if "dynamodb" in str(arn) else "Kinesis", "Properties": {"Stream": arn}}


def _fixed(sam_type: str) -> Callable[[Any], Raw]:
    """An event whose settings the design check does not read: only its SAM type matters."""
    return lambda _cfg: {"Type": sam_type, "Properties": {}}


#: Serverless Framework event kind -> its SAM form; any other kind keeps its name as the SAM type
EVENT_KINDS: dict[str, Callable[[Any], Raw]] = {
    "http": _http_event,
    "httpApi": _http_api_event,
    "s3": _s3_event,
    "sqs": _sqs_event,
    "sns": _sns_event,
    "stream": _stream_event,
    "schedule": _fixed("Schedule"),
    "eventBridge": _fixed("EventBridgeRule"),
    "cloudwatchEvent": _fixed("EventBridgeRule"),
    "cognitoUserPool": _fixed("CognitoUserPool"),
}


def _event(ev: Any, fname: str, i: int) -> tuple[str, Raw] | None:
    if not isinstance(ev, dict) or len(ev) != 1:
        return None
    ((typ, cfg),) = ev.items()
    convert = EVENT_KINDS.get(typ) if isinstance(typ, str) else None
    return f"{typ}{i}", convert(cfg) if convert is not None else _fixed(str(typ))(cfg)


def read_serverless(
    doc: Any, text: str, path: str, design: Design, roles: dict[str, Permissions], base: Path | None = None
) -> set[Path]:
    """Read one serverless.yml; returns the files it included with ``${file(...)}``."""
    v = SlsVars(doc, base, path)
    provider = v.resolve(doc.get("provider") or {})
    if not isinstance(provider, dict):
        provider = {}
    pname = provider.get("name", "aws")
    if pname != "aws":
        design.warnings.append(f"{path}: Serverless provider {pname} not read (only aws)")
        return set()
    functions = v.resolve(doc.get("functions"))
    if isinstance(functions, Unknown) or (functions is not None and not isinstance(functions, dict)):
        design.warnings.append(
            f"{path}: functions come from outside the file ({getattr(functions, 'reason', 'not a mapping')}); not read"
        )
        functions = {}
    functions = functions or {}
    res_section = doc.get("resources")
    resources_doc: Raw = {"Resources": {}}
    for part in res_section if isinstance(res_section, list) else [res_section]:
        part = v.resolve(part)
        if isinstance(part, dict) and isinstance(part.get("Resources"), dict):
            resources_doc["Resources"].update(part["Resources"])
        elif isinstance(part, Unknown):
            design.warnings.append(f"{path}: resources from outside the file ({part.reason}); not read")
    iam = _d(provider.get("iam"))
    prole = iam.get("role", provider.get("role"))
    shared_statements = (prole.get("statements") if isinstance(prole, dict) else None) or provider.get("iamRoleStatements") or []
    shared_managed = (
        (prole.get("managedPolicies") if isinstance(prole, dict) else None) or provider.get("iamManagedPolicies") or []
    )
    shared_id = f"role:{path}#IamRoleLambdaExecution"
    tracing = _d(provider.get("tracing"))
    penv = _d(provider.get("environment"))
    extra: list[tuple[str, Raw]] = []
    role_for: dict[str, str] = {}
    for fname, f in functions.items():
        if not isinstance(f, dict):
            continue
        env = dict(penv)
        if isinstance(f.get("environment"), dict):
            env.update(f["environment"])
        tr = f.get("tracing", tracing.get("lambda"))
        props: Raw = {
            "FunctionName": f.get("name", fname),
            "Runtime": f.get("runtime", provider.get("runtime", Unknown("runtime not set"))),
            "Timeout": f.get("timeout", provider.get("timeout", 6)),
            "MemorySize": f.get("memorySize", provider.get("memorySize", 1024)),
            "ReservedConcurrentExecutions": f.get("reservedConcurrency"),
            "Environment": {"Variables": env},
            "KmsKeyArn": f.get("kmsKeyArn", provider.get("kmsKeyArn")),
            "Tracing": "Active" if tr in (True, "Active", "true") else ("PassThrough" if tr == "PassThrough" else None),
            "VpcConfig": _vpc(f.get("vpc", provider.get("vpc"))),
            "DeadLetterQueue": {"TargetArn": f["onError"]} if f.get("onError") else None,
            "Layers": f.get("layers", provider.get("layers")) or [],
            "AutoPublishAlias": "live" if provider.get("versionFunctions", True) is not False else None,
        }
        dest = f.get("destinations")
        if isinstance(dest, dict) and dest.get("onFailure"):
            props["EventInvokeConfig"] = {"DestinationConfig": {"OnFailure": {"Destination": dest["onFailure"]}}}
        url = f.get("url")
        if url:
            auth = "AWS_IAM" if isinstance(url, dict) and url.get("authorizer") == "aws_iam" else "NONE"
            props["FunctionUrlConfig"] = {"AuthType": auth, "Cors": url.get("cors") if isinstance(url, dict) else None}
        events = {}
        for i, ev in enumerate(f.get("events") or []):
            got = _event(ev, str(fname), i)
            if got:
                events[got[0]] = got[1]
        props["Events"] = events
        if f.get("role"):
            props["Role"] = f["role"] if not isinstance(f["role"], str) or f["role"].startswith("arn:") else {"Ref": f["role"]}
        elif f.get("iamRoleStatements"):  # serverless-iam-roles-per-function plugin: a dedicated role
            props["Policies"] = [{"Version": "2012-10-17", "Statement": f["iamRoleStatements"]}]
        elif isinstance(prole, str):
            props["Role"] = {"Ref": prole} if not prole.startswith("arn:") else prole
        else:
            role_for[str(fname)] = shared_id
        extra.append((str(fname), props))
    ctx = read_template(resources_doc, text, path, design, roles, extra_functions=extra)
    if role_for:
        perms = Permissions()
        add_managed("AWSLambdaBasicExecutionRole", perms)
        sts, unk = parse_document({"Statement": shared_statements}, "provider.iam.role.statements")
        perms.statements.extend(sts)
        perms.unknown.extend(unk)
        for m in shared_managed if isinstance(shared_managed, list) else []:
            add_managed(m, perms)
        roles[shared_id] = perms
        design.add(
            role_element(
                shared_id,
                "IamRoleLambdaExecution",
                "aws",
                path,
                ctx.lines.get("provider"),
                {"generated": True, "trust": ["lambda.amazonaws.com"]},
            )
        )
        for fname, rid in role_for.items():
            el = design.elements.get(ctx.eid("function", fname))
            if el is not None:
                gen = ctx.eid("role", fname + "Role")
                design.elements.pop(gen, None)
                roles.pop(gen, None)
                el.props["role_id"] = rid
    retention = provider.get("logRetentionInDays")
    for fname in functions:
        el = design.elements.get(ctx.eid("function", str(fname)))
        if el is not None:
            el.props["framework"] = "serverless"
            el.line = ctx.lines.get(str(fname), el.line)
            if el.props.get("log") is None:
                el.props["log"] = {
                    "name": f"/aws/lambda/{fname}",
                    "retention": retention,
                    "kms_key": (provider.get("logs") or {}).get("lambda", {}).get("kmsKeyArn")
                    if isinstance(provider.get("logs"), dict) and isinstance((provider.get("logs") or {}).get("lambda"), dict)
                    else None,
                    "subscription": False,
                }
    return {Path(k) for k in v._files}


def _vpc(v: Any) -> Any:
    if isinstance(v, dict):
        return {"SubnetIds": v.get("subnetIds")}
    return v
