"""Attack paths over the architecture graph, each with the mitigations that would break it and, through the
KB, the controls (in scope) and HIPAA safeguards it puts at risk."""

from __future__ import annotations

from compliance.design.model import Design, Element, LinkAttrs
from compliance.design.result import AttackPath, PathStep
from compliance.kb.designdata import design_data
from compliance.kb.load import KB
from compliance.kb.model import EdgeKind, NodeKind
from compliance.kb.query import control_sort_key
from compliance.vocab import severity_order


def _maps(kb: KB) -> dict[str, tuple[set[str], set[str]]]:
    """mitigation -> (controls, safeguards) it maps to."""
    out: dict[str, tuple[set[str], set[str]]] = {}
    for e in kb.edges.values():
        if e.kind is EdgeKind.MAPS_TO and e.target in kb.nodes:
            controls, safeguards = out.setdefault(e.source, (set(), set()))
            kind = kb.nodes[e.target].kind
            if kind is NodeKind.CONTROL:
                controls.add(e.target)
            elif kind is NodeKind.SAFEGUARD:
                safeguards.add(e.target)
    return out


def _at_risk(
    maps: dict[str, tuple[set[str], set[str]]], mitigations: list[str], in_scope: dict[str, list[str]]
) -> tuple[list[str], list[str]]:
    controls: set[str] = set()
    safeguards: set[str] = set()
    for m in mitigations:
        c, h = maps.get(m, (set(), set()))
        controls |= {x for x in c if not in_scope or x in in_scope}
        safeguards |= h
    return sorted(controls, key=control_sort_key), sorted(safeguards)


#: at most this many data stores are named per path (the count is always given)
MAX_LISTED = 50


#: (strongest level, store names, actions, any unclassified) for the sensitive stores a role can change
Writable = tuple[str, list[str], list[str], bool]


def _writable(links: list[tuple[Element, LinkAttrs]]) -> Writable | None:
    """(strongest level, store names, actions, any unclassified) for the sensitive stores a role can change."""
    rows = [(st, a) for st, a in links if a.get("level") in ("write", "admin") and st.props.get("sensitive") is not False]
    if not rows:
        return None
    level = "admin" if any(a.get("level") == "admin" for _st, a in rows) else "write"
    actions = sorted({x for _st, a in rows for x in a.get("actions", [])})
    return level, sorted(st.name for st, _a in rows), actions, any(st.props.get("sensitive") is None for st, _a in rows)


def _step(el: Element, note: str | None = None) -> PathStep:
    out: PathStep = {"kind": el.kind, "name": el.name}
    if note:
        out["note"] = note
    return out


def attack_paths(design: Design, kb: KB, in_scope: dict[str, list[str]]) -> list[AttackPath]:
    """Every attack path through the design; the controls at risk are those of ``in_scope`` (all when empty)."""
    data = design_data()
    kinds = data.attack_paths
    els = design.elements
    maps = _maps(kb)
    risk_cache: dict[tuple[str, ...], tuple[list[str], list[str]]] = {}
    role_access: dict[str, Writable | None] = {}
    # role -> the data stores it can access, with the link's level and actions
    access: dict[str, list[tuple[Element, LinkAttrs]]] = {}
    for link in design.links:
        if link.kind == "can-access" and link.src in els and link.dst in els:
            access.setdefault(link.src, []).append((els[link.dst], link.attrs))
    out: list[AttackPath] = []
    g = design.graph()  # the architecture graph: event source -> function -> role -> data store

    def into_of(fid: str) -> list[Element]:
        return [els[u] for u, _v, k in g.in_edges(fid, data="kind") if k in ("invokes", "triggers")]

    def add(kind: str, severity: str, chain: list[PathStep], function: Element, entry: str | None = None) -> AttackPath:
        """Record a path of ``kind`` (started by an entry of type ``entry``, when an entry starts it); the caller
        sets the kind's own keys on the row returned."""
        spec = kinds[kind]
        breaks = [m for m in spec.breaking(entry) if m in kb.nodes]
        key = tuple(breaks)
        if key not in risk_cache:
            risk_cache[key] = _at_risk(maps, breaks, in_scope)
        controls, safeguards = risk_cache[key]
        row: AttackPath = {
            "kind": kind,
            "title": spec.title,
            "severity": severity,
            "function": function.name,
            "file": function.file,
            "chain": chain,
            "breaks_with": breaks,
            "controls_at_risk": controls,
            "safeguards_at_risk": safeguards,
        }
        if entry is not None:
            row["entry"] = entry
        out.append(row)
        return row

    for f in sorted(design.of_kind("function"), key=lambda e: e.id):
        entries: list[tuple[PathStep, bool, str | None]] = []  # (step, unauthenticated, entry type)
        for s in into_of(f.id):
            if s.props.get("public") is True:
                auth = s.props.get("auth")
                unauth = auth == "NONE"
                label = s.name if s.kind == "route" else f"{s.props.get('type')} {s.props.get('resource') or s.name}"
                step: PathStep = {"kind": s.kind, "name": label, "note": "unauthenticated" if unauth else f"auth {auth}"}
                entries.append((step, unauth, data.entry_type(s.kind, s.props.get("type"))))
        url = f.props.get("url")
        if isinstance(url, dict) and url.get("auth") == "NONE":
            step = {"kind": "function-url", "name": f"{f.name} URL", "note": "AuthType NONE"}
            entries.append((step, True, data.entry_type("function-url")))
        if f.props.get("public_invoke"):
            step = {"kind": "resource-policy", "name": f"{f.name} invoke permission", "note": "principal *"}
            entries.append((step, True, data.entry_type("resource-policy")))
        role = f.props.get("role") or {}
        rid = f.props.get("role_id")
        role_name = els[rid].name if rid in els else "execution role"
        if str(rid) not in role_access:
            role_access[str(rid)] = _writable(access.get(str(rid), []))
        summary_ = role_access[str(rid)]
        if summary_ is not None:
            level, names, actions, unclassified = summary_
            shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
            note = f"{level} access" + ("; unclassified stores treated as sensitive" if unclassified else "")
            for entry, unauth, entry_type in entries:
                severity = ("critical" if level == "admin" else "high") if unauth else "medium"
                chain: list[PathStep] = [
                    entry,
                    _step(f),
                    {"kind": "role", "name": role_name, "note": ", ".join(actions[:6])},
                    {"kind": "datastore", "name": shown, "note": note},
                ]
                row = add("public-data-access", severity, chain, f, entry_type)
                row["access"] = level
                row["datastores"] = names[:MAX_LISTED]
                row["datastore_count"] = len(names)
                row["unauthenticated"] = unauth
        wild = [a for a in role.get("actions", []) if isinstance(a, str) and (a == "*" or a.endswith(":*"))]
        star = [a for a in role.get("star_resource_actions", []) if isinstance(a, str)]
        if wild or star:
            sev = "critical" if "*" in wild else "high"
            note = ", ".join(sorted(set(wild + star))[:8])
            row = add("wildcard-permissions", sev, [_step(f), {"kind": "role", "name": role_name, "note": note}], f)
            row["actions"] = sorted(set(wild + star))
        secrets = [s for s in f.props.get("secret_env_names", []) if isinstance(s, str)]
        if secrets:
            row = add("plain-secret", "high", [_step(f), {"kind": "environment", "name": ", ".join(secrets)}], f)
            row["variables"] = secrets
        if f.props.get("runtime_deprecated") is True:
            add(
                "deprecated-runtime",
                "high" if f.props.get("public") else "medium",
                [
                    _step(f),
                    {
                        "kind": "runtime",
                        "name": str(f.props.get("runtime")),
                        "note": f"deprecated {f.props.get('runtime_deprecated_on')}",
                    },
                ],
                f,
            )
        if entries and f.props.get("concurrency_limit") is None:
            first, _unauth, first_type = entries[0]
            add("denial-of-wallet", "medium", [first, _step(f, "no reserved concurrency")], f, first_type)
    out.sort(
        key=lambda p: (
            severity_order(p["severity"]),
            p["kind"],
            p["file"],
            p["function"],
            ",".join(p.get("datastores", [])),
        )
    )
    return out
