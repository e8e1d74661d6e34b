"""Import control statements from the official SP 800-53 rev5 OSCAL catalog (supplied by the user).

``sckb catalog import FILE`` parses the catalog and stores each control's title and statement text in
the workspace store. Reports and the site read them with :func:`compliance.assess.catalog.statements` and
fall back to ids and KB titles when nothing was imported.

Statement text: the ``statement`` part's prose followed by its items ("a. ...", indented by depth), with
each parameter insertion rendered as ``[Assignment: <label>]`` or ``[Selection (<how many>): a; b]``,
as the printed publication shows them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson

from compliance.errors import InputError
from compliance.evidence.store import Store
from compliance.oscal.build import kb_control_id

_INSERT = re.compile(r"\{\{\s*insert:\s*param,\s*([^\s}]+)\s*\}\}")


def _param_text(p: dict[str, Any], params: dict[str, dict[str, Any]]) -> str:
    sel = p.get("select")
    if isinstance(sel, dict):
        choices = [_subst(str(c), params) for c in sel.get("choice", [])]
        how = sel.get("how-many")
        head = f"Selection ({str(how).replace('-', ' ')})" if how else "Selection"
        return f"[{head}: {'; '.join(choices)}]"
    label = p.get("label")
    return f"[Assignment: {label}]" if label else f"[Assignment: {p.get('id', '?')}]"


def _subst(text: str, params: dict[str, dict[str, Any]]) -> str:
    if "{{" not in text:
        return text
    return _INSERT.sub(lambda m: _param_text(params[m.group(1)], params) if m.group(1) in params else f"[{m.group(1)}]", text)


def _label(part: dict[str, Any]) -> str:
    for p in part.get("props", ()):
        if p.get("name") == "label" and "class" not in p:
            return str(p.get("value", ""))
    return ""


def _statement(part: dict[str, Any], params: dict[str, dict[str, Any]], depth: int, out: list[str]) -> None:
    prose = part.get("prose")
    label = _label(part)
    if prose is not None or label:
        text = _subst(str(prose or ""), params)
        out.append("  " * depth + (f"{label} {text}" if label else text).strip())
    for child in part.get("parts", ()):
        if child.get("name") == "item":
            _statement(child, params, depth + 1 if (prose is not None or label) else depth, out)


def parse_catalog(data: bytes, *, path: Path | str = "<catalog>") -> dict[str, tuple[str, str]]:
    """control id (``AC-6(1)`` form) -> (title, statement text), for every control in the catalog."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc}", path=path) from exc
    cat = doc.get("catalog") if isinstance(doc, dict) else None
    if not isinstance(cat, dict):
        raise InputError("not an OSCAL catalog (no top-level 'catalog' object)", path=path, pointer="/catalog")
    out: dict[str, tuple[str, str]] = {}
    groups: list[dict[str, Any]] = [cat]
    controls: list[dict[str, Any]] = []
    while groups:
        g = groups.pop()
        groups.extend(g.get("groups", ()))
        controls.extend(g.get("controls", ()))
    while controls:
        node = controls.pop()
        controls.extend(node.get("controls", ()))
        cid = node.get("id")
        title = node.get("title")
        if not isinstance(cid, str) or not isinstance(title, str):
            continue
        params = {p["id"]: p for p in node.get("params", ()) if isinstance(p, dict) and "id" in p}
        lines: list[str] = []
        for part in node.get("parts", ()):
            if part.get("name") == "statement":
                _statement(part, params, 0, lines)
        withdrawn = any(p.get("name") == "status" and p.get("value") == "withdrawn" for p in node.get("props", ()))
        if withdrawn and not lines:
            lines = ["[Withdrawn]"]
        out[kb_control_id(cid)] = (title, "\n".join(lines))
    if not out:
        raise InputError("the catalog holds no controls", path=path, pointer="/catalog/groups")
    return out


def store_statements(store: Store, found: dict[str, tuple[str, str]], source: str) -> int:
    """Replace the workspace's catalog statements with ``found``; their count."""
    return store.put_statements(found, source)


def import_catalog(store: Store, path: Path) -> int:
    """Parse the catalog at ``path`` and store its statements (replacing an earlier import)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
    return store_statements(store, parse_catalog(data, path=path), path.name)
