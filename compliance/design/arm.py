"""Azure Resource Manager (ARM) JSON templates -> design elements for Azure Functions (``Microsoft.Web/sites`` of
kind ``functionapp``). Bicep is not read (it compiles to ARM: run ``az bicep build`` first).

ARM expressions are evaluated only where the template answers them: ``[parameters('x')]`` (the default value),
``[variables('x')]``; anything else (``reference()``, ``listKeys()``, ``if()``, ``format()`` ...) is unknown,
except that a setting built with ``listKeys(...)`` is known to carry an account key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from compliance.design.build import azure_function_app, azure_http_route
from compliance.design.model import Design, Raw, Unknown

_PARAM = re.compile(r"^\[\s*parameters\('([^']+)'\)\s*\]$")
_VAR = re.compile(r"^\[\s*variables\('([^']+)'\)\s*\]$")
MAX_DEPTH = 20


def is_arm(doc: Any) -> bool:
    return (
        isinstance(doc, dict) and "deploymentTemplate" in str(doc.get("$schema", "")) and isinstance(doc.get("resources"), list)
    )


class ArmValues:
    def __init__(self, doc: Raw) -> None:
        self.params = doc.get("parameters") or {}
        self.vars = doc.get("variables") or {}

    def value(self, v: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            return Unknown("ARM expression nested too deeply (circular?)")
        if isinstance(v, dict):
            return {k: self.value(x, depth + 1) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x, depth + 1) for x in v]
        if not isinstance(v, str) or not (v.startswith("[") and v.endswith("]")) or v.startswith("[["):
            return v
        m = _PARAM.match(v)
        if m:
            p = self.params.get(m.group(1))
            if isinstance(p, dict) and "defaultValue" in p:
                return self.value(p["defaultValue"], depth + 1)
            return Unknown(f"parameter {m.group(1)} has no default")
        m = _VAR.match(v)
        if m:
            if m.group(1) in self.vars:
                return self.value(self.vars[m.group(1)], depth + 1)
            return Unknown(f"variable {m.group(1)} not declared")
        return Unknown(f"ARM expression {v[:60]}")

    def name(self, v: Any) -> str:
        """A display name: the resolved value, or the expression itself when it cannot be evaluated."""
        r = self.value(v)
        if isinstance(r, str):
            return r
        m = _PARAM.match(str(v))
        if m and isinstance(self.params.get(m.group(1)), dict):
            return str(self.params[m.group(1)].get("defaultValue", v))
        return str(v)


def _runtime(site_config: Raw, settings: Raw) -> Any:
    fx = site_config.get("linuxFxVersion")
    if isinstance(fx, str) and "|" in fx:
        lang, _, ver = fx.partition("|")
        return f"{lang.lower()}|{ver}"
    if isinstance(fx, Unknown):
        return fx
    worker = settings.get("FUNCTIONS_WORKER_RUNTIME")
    if worker == "node" and isinstance(settings.get("WEBSITE_NODE_DEFAULT_VERSION"), str):
        return "node|" + str(settings["WEBSITE_NODE_DEFAULT_VERSION"]).lstrip("~")
    if isinstance(worker, Unknown):
        return worker
    return Unknown("runtime version not set in the template")


@dataclass
class ArmTemplate:
    """One ARM template being read: what every handler shares."""

    design: Design
    path: str
    vals: ArmValues
    lines: dict[str, int]  # resource type -> line of its first "type"
    by_type: dict[str, list[Raw]]
    functions: int = 0

    def of(self, typ: str) -> list[Raw]:
        return self.by_type.get(typ, [])


def _site(ctx: ArmTemplate, r: Raw) -> None:
    """``Microsoft.Web/sites`` of kind functionapp: an Azure Function App and its HTTP triggers."""
    vals, path = ctx.vals, ctx.path
    kind = vals.value(r.get("kind"))
    raw_kind = str(r.get("kind", ""))
    if "functionapp" not in (kind if isinstance(kind, str) else raw_kind):
        return
    ctx.functions += 1
    name = vals.name(r.get("name"))
    props = vals.value(r.get("properties") or {})
    props = props if isinstance(props, dict) else {}
    sc: Raw = props["siteConfig"] if isinstance(props.get("siteConfig"), dict) else {}
    settings: Raw = {}
    for item in sc.get("appSettings") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            raw = next(
                (
                    x.get("value")
                    for x in (r.get("properties") or {}).get("siteConfig", {}).get("appSettings", [])
                    if isinstance(x, dict) and x.get("name") == item["name"]
                ),
                None,
            )
            val = item.get("value")
            if isinstance(raw, str) and "listKeys(" in raw:
                val = "AccountKey=<listKeys() in the template>"  # an account key written into the setting
            settings[item["name"]] = val
    prefix = str(r.get("name", ""))[:-1] if str(r.get("name", "")).endswith("]") else str(r.get("name"))
    vnet = bool(props.get("virtualNetworkSubnetId")) or any(
        prefix.replace("[", "").split(",")[0] in str(c.get("name")) or "functionAppName" in str(c.get("name"))
        for c in ctx.of("Microsoft.Web/sites/networkConfig")
    )
    auth_on = any(
        "authsettings" in str(c.get("name")).lower() and "true" in str(c.get("properties")).lower()
        for c in ctx.of("Microsoft.Web/sites/config")
    )
    ai = any(k in settings for k in ("APPINSIGHTS_INSTRUMENTATIONKEY", "APPLICATIONINSIGHTS_CONNECTION_STRING"))
    f = azure_function_app(
        ctx.design,
        f"function:{path}#{name}",
        name,
        path,
        ctx.lines.get("Microsoft.Web/sites"),
        {
            "function_name": name,
            "runtime": _runtime(sc, settings),
            "concurrency_limit": sc.get("functionAppScaleLimit"),
            "environment": settings,
            "tracing": "Active" if ai else None,
            "vpc": {"subnet": "network config"} if vnet else None,
            "https_only": props.get("httpsOnly") is True,
            "min_tls": sc.get("minTlsVersion"),
            "framework": "arm",
        },
    )
    cors: Raw = sc["cors"] if isinstance(sc.get("cors"), dict) else {}
    azure_http_route(
        ctx.design,
        f,
        f"route:{path}#{name} HTTP triggers",
        name,
        auth_on=auth_on,
        cors_origins=cors.get("allowedOrigins") or [],
        public=props.get("publicNetworkAccess") != "Disabled",
    )


#: resource type -> handler (child resources such as ``sites/config`` are read by their parent's handler)
HANDLERS: dict[str, Callable[[ArmTemplate, Raw], None]] = {"Microsoft.Web/sites": _site}


def read_arm(doc: Raw, text: str, path: str, design: Design) -> int:
    """Read one ARM template through :data:`HANDLERS`; returns how many function apps it found."""
    lines = {
        m.group(1): i for i, ln in enumerate(text.splitlines(), start=1) for m in [re.search(r'"type"\s*:\s*"([^"]+)"', ln)] if m
    }
    by_type: dict[str, list[Raw]] = {}
    for r in doc["resources"]:
        if isinstance(r, dict):
            by_type.setdefault(str(r.get("type")), []).append(r)
    ctx = ArmTemplate(design, path, ArmValues(doc), lines, by_type)
    for typ, handler in HANDLERS.items():
        for r in ctx.of(typ):
            handler(ctx, r)
    return ctx.functions
