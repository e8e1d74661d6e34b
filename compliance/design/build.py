"""Finishing a design after the readers: role permissions onto functions, function-to-store access,
public exposure, derived properties (secrets in plain environment variables, deprecated runtimes)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any, TypedDict

from compliance.design.iam import STORE_SERVICES, Permissions, RoleSummary, access_to
from compliance.design.model import (
    Classification,
    Design,
    Element,
    FunctionProps,
    Ref,
    Unknown,
    function_element,
    route_element,
)
from compliance.kb.designdata import design_data

#: environment variable names and literal values that look like credentials
SECRET_NAME = re.compile(r"(?i)(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth[_-]?key|access[_-]?key)")
SECRET_VALUE = re.compile(
    r"(AccountKey=|SharedAccessKey=|AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|xox[baprs]-[0-9A-Za-z-]{10,}|gh[pousr]_[0-9A-Za-z]{30,})"
)
#: names that identify or locate a secret rather than hold it (SECRET_NAME, TOKEN_URL, API_KEY_ID ...)
SECRET_POINTER_NAME = re.compile(r"(?i)[_-]?(name|arn|id|url|uri|path|endpoint|region|table|bucket|param|parameter|header)$")
#: values that point at a secrets store rather than holding the secret
SECRET_REFERENCE = re.compile(
    r"(?i)(secretsmanager|ssm:|\{\{resolve:|@Microsoft\.KeyVault|projects/[^/]+/secrets/|arn:aws:secretsmanager)"
)


# ------------------------------------------------------------------ constructors two readers share


class AzureFunctionApp(TypedDict):
    """What the ARM and Terraform readers find on an Azure Function App resource."""

    function_name: Any  # str | Unknown
    runtime: Any  # "language|version" | Unknown
    concurrency_limit: Any  # int | None | Unknown
    environment: dict[str, Any]  # app settings
    tracing: str | None  # "Active" when Application Insights is wired
    vpc: Any  # a subnet reference or None
    https_only: bool
    min_tls: Any
    framework: str  # "arm" | "terraform"


def azure_function_app(design: Design, eid: str, name: str, file: str, line: int | None, app: AzureFunctionApp) -> Element:
    """An Azure Function App as a function element. Timeouts live in host.json and the AWS-only features do not
    exist there, whatever reads the app; fresh values each call, so no element shares a mutable value."""
    props: FunctionProps = {
        "function_name": app["function_name"],
        "runtime": app["runtime"],
        "timeout": Unknown("functionTimeout is set in host.json"),
        "memory": None,
        "env_kms_key": None,
        "dlq": None,
        "on_failure": None,
        "layers": [],
        "code_signing": None,
        "published": None,
        "url": None,
        "log": None,
        "alarms": 0,
        "invoke_permissions": [],
        "concurrency_limit": app["concurrency_limit"],
        "environment": app["environment"],
        "tracing": app["tracing"],
        "vpc": app["vpc"],
        "https_only": app["https_only"],
        "min_tls": app["min_tls"],
        "framework": app["framework"],
        "role_id": None,
    }
    return design.add(function_element(eid, name, "azure", file, line, props))


def azure_http_route(
    design: Design, function: Element, rid: str, api: str, *, auth_on: bool, cors_origins: Any, public: bool
) -> Element:
    """The HTTP triggers of an Azure Function App, as one route (their authLevel is in function code)."""
    route = design.add(
        route_element(
            rid,
            f"{api} HTTP triggers",
            "azure",
            function.file,
            function.line,
            {
                "type": "http-trigger",
                "api": api,
                "api_kind": "azure-http",
                "path": "/api/*",
                "method": "ANY",
                "auth": "APP_SERVICE_AUTH" if auth_on else Unknown("HTTP trigger authLevel is set in function code"),
                "validated": False,
                "throttled": False,
                "waf": False,
                "cors_origins": cors_origins,
                "public": public,
                "function": api,
            },
        )
    )
    design.link(rid, function.id, "invokes")
    return route


# ------------------------------------------------------------------ derived properties


def runtime_table() -> Mapping[str, Mapping[str, date]]:
    """Deprecated runtimes per provider (``compliance/design/data/runtimes.yaml``, typed and validated with the KB)."""
    return design_data().runtimes


def runtime_status(provider: str, runtime: Any, today: date) -> Any:
    """True when the runtime is past its deprecation date on ``today``; Unknown when not resolved."""
    if runtime is None:
        return False  # container images and custom runtimes carry no managed runtime
    if isinstance(runtime, Unknown):
        return runtime
    if not isinstance(runtime, str):
        return Unknown("runtime not a literal")
    when = runtime_table().get(provider, {}).get(runtime.strip().lower())
    return bool(when is not None and when <= today)


def runtime_deprecated_on(provider: str, runtime: Any) -> str | None:
    if not isinstance(runtime, str):
        return None
    when = runtime_table().get(provider, {}).get(runtime.strip().lower())
    return when.isoformat() if when else None


def plain_secret_env(env: Any) -> list[Any]:
    """Names of environment variables that hold a literal secret (by name or by value)."""
    if isinstance(env, Unknown):
        return [env]
    if not isinstance(env, dict):
        return []
    out: list[Any] = []
    for k, v in sorted(env.items()):
        if isinstance(v, (Unknown, Ref)):
            continue  # a reference to another resource or an unresolved value is not a literal secret
        text = str(v)
        if not text or SECRET_REFERENCE.search(text) or "${" in text:
            continue
        if SECRET_VALUE.search(text) or (
            SECRET_NAME.search(str(k))
            and not SECRET_POINTER_NAME.search(str(k))
            and len(text) >= 6
            and not text.lower().startswith(("arn:", "http"))
        ):
            out.append(str(k))
    return out


def classification_of(el: Element, classes: Classification) -> dict[str, Any]:
    """Data classification of a store: sckb.yaml (by logical id or physical name), then tags."""
    out: dict[str, Any] = {}
    default = classes.get("default")
    if isinstance(default, dict):
        out.update(default)
    per = classes.get("resources") or {}
    for key in (el.name, el.props.get("name")):
        if isinstance(key, str) and isinstance(per.get(key), dict):
            out.update(per[key])
    tags = el.props.get("tags") or {}
    if isinstance(tags, dict):
        for k, v in tags.items():
            lk = str(k).lower()
            if lk in ("phi", "pii", "sensitive", "confidential"):
                out[lk] = str(v).lower() in ("true", "yes", "1")
            elif lk in ("dataclassification", "data-classification", "data_classification", "classification"):
                val = str(v).lower()
                out[val] = True
    return out


_REF_IN_TEXT = re.compile(r"\$\{([A-Za-z0-9_]+)")
_ADDR_IN_TEXT = re.compile(r"(aws_[a-z0-9_]+\.[A-Za-z0-9_\-]+)")


def _candidates(perms: Permissions, stores: list[Element], index: dict[str, list[Element]]) -> list[Element]:
    """The data stores a role's statements can name: all stores of a service for a wildcard resource, else those
    the resource texts name (logical id, Terraform address, physical name). Keeps large designs linear."""
    services: set[str] = set()
    everything = False
    named: dict[str, Element] = {}
    for st in perms.statements:
        st_services = set()
        for a in ["*"] if st.not_action else st.actions:
            if isinstance(a, str):
                if a == "*":
                    everything = True
                st_services.add(a.split(":", 1)[0].lower())
        for r in st.resources:
            if not isinstance(r, str):
                continue
            tail = re.split(r"[/:]", r.replace(":::", ":"))[-1] if r != "*" else "*"
            hits = [m for m in _REF_IN_TEXT.findall(r)] + _ADDR_IN_TEXT.findall(r) + [tail]
            found = False
            for h in hits:
                for s in index.get(h, []):
                    named[s.id] = s
                    found = True
            if not found and ("*" in tail or "?" in tail or "${" in r):
                services |= st_services
    if everything:
        return stores
    out = dict(named)
    for svc in services:
        for s in index.get("service:" + svc, []):
            out[s.id] = s
    return [out[k] for k in sorted(out)]


def finish(design: Design, roles: dict[str, Permissions], classes: Classification, today: date) -> None:
    """Derive what every predicate and the attack-path search need from what the readers recorded."""
    funcs = design.of_kind("function")
    props_cache: dict[str, RoleSummary] = {}
    # role sharing
    role_use = Counter(f.props.get("role_id") for f in funcs if f.props.get("role_id"))
    for f in funcs:
        rid = f.props.get("role_id")
        perms = roles.get(rid) if rid else None
        if perms is None:
            role_props: RoleSummary = {
                "actions": [Unknown("execution role not in the design")],
                "resources": [Unknown("execution role not in the design")],
                "managed": [],
                "admin_managed": [],
                "statement_count": 0,
            }
        else:
            if rid not in props_cache:
                props_cache[str(rid)] = perms.props()
            role_props = props_cache[str(rid)].copy()
        role_props["shared_by"] = role_use.get(rid, 1) if rid else Unknown("no execution role found")
        role_el = design.elements.get(rid) if rid else None
        if role_el is not None and rid is not None:
            role_props["boundary"] = role_el.props.get("boundary")
            role_props["trust"] = role_el.props.get("trust", [])
            role_el.props.update({k: v for k, v in role_props.items() if k not in ("boundary", "trust")})
            design.link(f.id, rid, "assumes")
        f.props["role"] = role_props
        f.props["secret_env_names"] = plain_secret_env(f.props.get("environment"))
        f.props["runtime_deprecated"] = runtime_status(f.provider, f.props.get("runtime"), today)
        f.props["runtime_deprecated_on"] = runtime_deprecated_on(f.provider, f.props.get("runtime"))
        env = f.props.get("environment")
        f.props["has_environment"] = bool(env) if not isinstance(env, Unknown) else env
    # stores: classification and access
    stores = design.of_kind("datastore")
    emitting = {src for src, _d, kind, _a in design.links if kind == "emits"}
    for s in stores:
        cls = classification_of(s, classes)
        s.props["classification"] = cls
        if any(cls.get(k) for k in ("phi", "pii", "sensitive", "confidential")):
            s.props["sensitive"] = True
        elif cls:
            s.props["sensitive"] = False
        else:
            s.props["sensitive"] = None  # unclassified: treated as possibly sensitive
        s.props["phi"] = bool(cls.get("phi"))
        s.props["emits_events"] = s.id in emitting
    aws_stores = [s for s in stores if s.provider == "aws" and s.props.get("type") in STORE_SERVICES]
    index: dict[str, list[Element]] = {}
    for s in aws_stores:
        for key in (s.name, s.props.get("address"), s.props.get("name"), "service:" + STORE_SERVICES[s.props["type"]][0]):
            if isinstance(key, str) and key:
                index.setdefault(key, []).append(s)
    # access is a property of the role: computed once per role, linked role -> store
    role_ids = sorted({str(f.props["role_id"]) for f in funcs if f.provider == "aws" and f.props.get("role_id")})
    for rid in role_ids:
        perms = roles.get(rid)
        if perms is None or rid not in design.elements:
            continue
        for s in _candidates(perms, aws_stores, index):
            keys = ["${" + s.name + "}", "${" + s.name + ".", s.props.get("address") or "\0"]
            pname = s.props.get("name")
            if isinstance(pname, str) and pname:
                keys.append(pname)
            level, actions = access_to(perms.statements, s.props["type"], keys, pname if isinstance(pname, str) else None)
            if level is not None:
                design.link(rid, s.id, "can-access", level=level, actions=actions[:5])
    # triggers and exposure
    incoming: dict[str, list[Element]] = {}
    for src, dst, kind, _ in design.links:
        if kind in ("triggers", "invokes") and dst in design.elements and src in design.elements:
            incoming.setdefault(dst, []).append(design.elements[src])
    for f in funcs:
        srcs = incoming.get(f.id, [])
        url = f.props.get("url")
        public_url = isinstance(url, dict) and url.get("auth") == "NONE"
        unauth = [s for s in srcs if s.props.get("public") is True and s.props.get("auth") == "NONE"] + (
            [f] if public_url else []
        )
        f.props["triggers"] = sorted({str(s.props.get("type")) for s in srcs})
        f.props["public"] = bool(public_url or any(s.props.get("public") is True for s in srcs) or f.props.get("public_invoke"))
        f.props["unauthenticated_public"] = bool(unauth or f.props.get("public_invoke"))
        f.props["route_count"] = sum(1 for s in srcs if s.kind == "route")
