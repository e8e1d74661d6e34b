"""Import control statements from the official SP 800-53 rev5 OSCAL catalog (supplied by the user).

``sckb catalog import FILE`` parses the catalog and stores each control's title and statement text in
the workspace store. Reports and the site read them with :func:`compliance.assess.catalog.statements` and
fall back to ids and KB titles when nothing was imported.

Statement text: the ``statement`` part's prose followed by its items ("a. ...", indented by depth), with
each parameter insertion rendered as ``[Assignment: <label>]`` or ``[Selection (<how many>): a; b]``,
as the printed publication shows them. When a profile's values are given (``sckb catalog import --profile``,
``sckb catalog fetch``), a parameter the profile sets is shown as ``[<profile title>: <value>]`` instead: the
value an organisation under that profile must use, marked as the profile's, not NIST's.

``sckb catalog fetch`` (:func:`fetch`) downloads the catalog and a FedRAMP baseline profile from the
commit-pinned URLs in ``data/catalog-sources.yaml``, refuses any download whose SHA-256 is not the pinned
one, and imports them as ``catalog import`` does.
"""

from __future__ import annotations

import hashlib
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from compliance.assess.catalog import ProfileValues, mark_param
from compliance.assess.catalog import profile_values as values_of_profile
from compliance.errors import InputError, NetworkError
from compliance.evidence.store import Store
from compliance.kb.core import KB
from compliance.kb.profile import load_profile
from compliance.kb.yamlio import load_yaml
from compliance.oscal.build import kb_control_id

#: The pinned download locations and hashes (data, not code).
SOURCES_FILE = Path(__file__).parent / "data" / "catalog-sources.yaml"

_INSERT = re.compile(r"\{\{\s*insert:\s*param,\s*([^\s}]+)\s*\}\}")


def _param_text(p: dict[str, Any], params: dict[str, dict[str, Any]], fill: ProfileValues | None = None) -> str:
    """The parameter as the statement shows it, marked with its id (:func:`compliance.assess.catalog.mark_param`)
    so that a report can show a tailored baseline's value in its place."""
    return mark_param(str(p.get("id", "?")), _shown_param(p, params, fill))


def _shown_param(p: dict[str, Any], params: dict[str, dict[str, Any]], fill: ProfileValues | None = None) -> str:
    if fill is not None and p.get("id") in fill.values:
        return f"[{fill.title}: {fill.values[str(p['id'])]}]"
    sel = p.get("select")
    if isinstance(sel, dict):
        choices = [_subst(str(c), params, fill) for c in sel.get("choice", [])]
        how = sel.get("how-many")
        head = f"Selection ({str(how).replace('-', ' ')})" if how else "Selection"
        return f"[{head}: {'; '.join(choices)}]"
    label = p.get("label")
    return f"[Assignment: {label}]" if label else f"[Assignment: {p.get('id', '?')}]"


def _subst(text: str, params: dict[str, dict[str, Any]], fill: ProfileValues | None = None) -> str:
    if "{{" not in text:
        return text
    return _INSERT.sub(
        lambda m: _param_text(params[m.group(1)], params, fill) if m.group(1) in params else f"[{m.group(1)}]", text
    )


def _label(part: dict[str, Any]) -> str:
    for p in part.get("props", ()):
        if p.get("name") == "label" and "class" not in p:
            return str(p.get("value", ""))
    return ""


def _statement(
    part: dict[str, Any], params: dict[str, dict[str, Any]], depth: int, out: list[str], fill: ProfileValues | None = None
) -> None:
    prose = part.get("prose")
    label = _label(part)
    if prose is not None or label:
        text = _subst(str(prose or ""), params, fill)
        out.append("  " * depth + (f"{label} {text}" if label else text).strip())
    for child in part.get("parts", ()):
        if child.get("name") == "item":
            _statement(child, params, depth + 1 if (prose is not None or label) else depth, out, fill)


def parse_catalog(
    data: bytes, *, path: Path | str = "<catalog>", fill: ProfileValues | None = None
) -> dict[str, tuple[str, str]]:
    """control id (``AC-6(1)`` form) -> (title, statement text), for every control in the catalog; with ``fill``,
    the parameters it sets show the profile's values."""
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
                _statement(part, params, 0, lines, fill)
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


def profile_values(kb: KB, path: Path) -> ProfileValues:
    """The parameter values the profile at ``path`` sets (resolved as ``assess --profile`` resolves it): its
    ``values``, else its ``constraints`` (FedRAMP states its values as constraints), joined with "; "."""
    return values_of_profile(load_profile(kb, path).info)


def import_catalog(store: Store, path: Path, *, fill: ProfileValues | None = None) -> int:
    """Parse the catalog at ``path`` and store its statements (replacing an earlier import); with ``fill``,
    the parameters that profile sets show its values."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
    source = path.name + (f" + {fill.file}" if fill is not None else "")
    return store_statements(store, parse_catalog(data, path=path, fill=fill), source)


# --------------------------------------------------------------------------- catalog fetch


@dataclass(frozen=True, slots=True)
class Download:
    """One pinned download: the file name, its official URL and the SHA-256 its bytes must have."""

    name: str
    url: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Sources:
    catalog: Download
    profiles: dict[str, Download]


def sources(path: Path = SOURCES_FILE) -> Sources:
    """The pinned locations of ``data/catalog-sources.yaml``."""
    doc = load_yaml(path)

    def one(d: Any, where: tuple[str, ...]) -> Download:
        try:
            return Download(name=str(d["name"]), url=str(d["url"]), sha256=str(d["sha256"]).lower(), size=int(d["size"]))
        except (KeyError, TypeError, ValueError):
            raise InputError("needs name, url, sha256 and size", path=path, line=doc.line_of(where) or 1) from None

    data = doc.data if isinstance(doc.data, dict) else {}
    profiles = data.get("profiles") or {}
    return Sources(
        catalog=one(data.get("catalog"), ("catalog",)),
        profiles={str(k): one(v, ("profiles", k)) for k, v in profiles.items()},
    )


#: progress callback: (bytes read so far, bytes expected)
Progress = Callable[[int, int], None]
OFFLINE_HINT = "download it elsewhere and run 'sckb catalog import FILE'"


def download(item: Download, *, mirror: str | None = None, timeout: float = 60.0, progress: Progress | None = None) -> bytes:
    """The bytes of ``item`` (from ``mirror``/<name> instead of its URL when given), checked against its pinned
    SHA-256: a :class:`NetworkError` when it cannot be read, an :class:`InputError` when the hash differs."""
    url = f"{mirror.rstrip('/')}/{item.name}" if mirror else item.url
    digest = hashlib.sha256()
    chunks: list[bytes] = []
    done = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # https, or file/http for a mirror
            while chunk := resp.read(1 << 16):
                digest.update(chunk)
                chunks.append(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, item.size)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise NetworkError(f"cannot download {url} ({reason}); {OFFLINE_HINT}") from exc
    got = digest.hexdigest()
    if got != item.sha256:
        raise InputError(f"SHA-256 {got} is not the pinned {item.sha256}: refused, nothing imported", path=url)
    return b"".join(chunks)


@dataclass(frozen=True, slots=True)
class Fetched:
    catalog_url: str
    profile_url: str | None
    controls: int
    parameters: int
    profile_title: str | None


def fetch(
    kb: KB,
    store: Store,
    *,
    baseline: str | None = "moderate",
    mirror: str | None = None,
    save: Path | None = None,
    timeout: float = 60.0,
    progress: Callable[[str], Progress] | None = None,
) -> Fetched:
    """Download the pinned SP 800-53 catalog (and the FedRAMP ``baseline`` profile, None: none), check both
    hashes, and import the statements with the profile's parameter values. ``save``: a folder to keep the
    downloaded files in (under their official names). ``progress(name)`` gives a callback per download."""
    src = sources()
    prof_item: Download | None = None
    if baseline is not None:
        if baseline not in src.profiles:
            raise InputError(f"no FedRAMP baseline {baseline!r} (known: {', '.join(src.profiles)})", path=SOURCES_FILE)
        prof_item = src.profiles[baseline]
    items = [src.catalog] + ([prof_item] if prof_item is not None else [])
    got: dict[str, bytes] = {}
    for item in items:
        got[item.name] = download(item, mirror=mirror, timeout=timeout, progress=progress(item.name) if progress else None)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sckb-catalog-") as tmp:
        folder = save if save is not None else Path(tmp)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name, data in got.items():
                (folder / name).write_bytes(data)
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror}", path=folder) from exc
        fill = profile_values(kb, folder / prof_item.name) if prof_item is not None else None
        n = import_catalog(store, folder / src.catalog.name, fill=fill)
    return Fetched(
        catalog_url=src.catalog.url,
        profile_url=prof_item.url if prof_item is not None else None,
        controls=n,
        parameters=len(fill.values) if fill is not None else 0,
        profile_title=fill.title if fill is not None else None,
    )
