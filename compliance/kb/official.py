"""Compare the KB's catalogues with official OSCAL content.

``sckb kb validate --against DIR`` calls :func:`compare_with_official`. Every ``*.json``
file below DIR is identified by its content, not its name:

- an OSCAL **catalog** whose metadata title is a KB baseline's ``official_title`` is a
  *resolved* baseline (its controls are the baseline's members); any other catalog is
  the SP 800-53 rev5 catalog, compared id by id (missing / extra ids, withdrawn status
  and targets, parent, titles, families);
- an OSCAL **profile** is matched to the KB baseline whose ``official_title`` equals its
  metadata title (release numbers such as ``5.1.1`` are ignored), then compared for
  membership (missing / extra ids) and tailoring (the FedRAMP ``method`` prop).

A KB control absent from an older catalog is not a difference when the control's
``added_in`` release is newer than the catalog's version: that comes back as a note.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from compliance.errors import InputError
from compliance.kb.load import KB
from compliance.kb.model import Baseline, Control, NodeKind

#: Root key of an OSCAL document, read from the first bytes without parsing the file.
_ROOT = re.compile(rb'^\s*\{\s*"(catalog|profile)"\s*:')
_OSCAL_ID = re.compile(r"^#?([a-z]{2})(?:-(\d+)(?:\.(\d+))?)?(?:_.*)?$")
_VERSION = re.compile(r"\d+(?:\.\d+)+")
#: The profile prop that carries a baseline's per-control tailoring (FedRAMP LI-SaaS).
TAILORING_PROP = "method"


@dataclass
class Artifact:
    """One official file and what it was identified as."""

    path: str
    kind: str  # "catalog", "resolved-baseline", "profile", "unmatched-profile", "other-catalog"
    title: str
    version: str
    baseline: str | None = None
    controls: int = 0


@dataclass
class Comparison:
    """The outcome: real differences, and notes that are not differences."""

    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "differences": self.differences,
            "notes": self.notes,
            "artifacts": [a.__dict__ for a in self.artifacts],
        }


def ours(oscal_id: str) -> str:
    """``ac-2.1`` -> ``AC-2(1)``; ``#ac-2_smt.k`` -> ``AC-2``; ``#sr`` -> ``SR`` (a family)."""
    m = _OSCAL_ID.match(oscal_id)
    if not m:
        return oscal_id
    fam, num, enh = m.groups()
    if num is None:
        return fam.upper()
    return f"{fam.upper()}-{num}" + (f"({enh})" if enh else "")


def version_tuple(text: str) -> tuple[int, ...]:
    m = _VERSION.search(text)
    return tuple(int(x) for x in m.group(0).split(".")) if m else ()


def _norm_title(title: str) -> str:
    """Title for matching a profile to a baseline: release numbers dropped, case and spaces folded."""
    return " ".join(_VERSION.sub("", title).casefold().split())


def _ws(text: str) -> str:
    return " ".join(text.split())


def _walk(controls: Iterable[dict[str, Any]], parent: str | None, out: dict[str, dict[str, Any]]) -> None:
    for c in controls:
        cid = ours(c["id"])
        status = [p.get("value") for p in c.get("props", []) if p.get("name") == "status"]
        targets = [ours(ln["href"]) for ln in c.get("links", []) if ln.get("rel") in ("incorporated-into", "moved-to")]
        out[cid] = {
            "title": _ws(c.get("title", "")),
            "parent": parent,
            "withdrawn": "withdrawn" in status,
            "withdrawn_to": sorted(set(targets)),
        }
        _walk(c.get("controls", []), cid, out)


def _catalog_controls(cat: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    controls: dict[str, dict[str, Any]] = {}
    families: dict[str, str] = {}
    for g in cat.get("groups", []):
        families[ours(g.get("id", ""))] = _ws(g.get("title", ""))
        _walk(g.get("controls", []), None, controls)
    _walk(cat.get("controls", []), None, controls)
    return controls, families


def _profile_members(profile: dict[str, Any]) -> tuple[set[str], list[str]]:
    """Ids a profile selects (with-ids only), and notes on selections it uses that we do not resolve."""
    members: set[str] = set()
    notes: list[str] = []
    for imp in profile.get("imports", []):
        if "include-all" in imp:
            notes.append("uses include-all (needs the imported catalog to resolve; not compared)")
        for inc in imp.get("include-controls", []):
            members.update(ours(i) for i in inc.get("with-ids", []))
            if inc.get("matching"):
                notes.append("uses include-controls/matching patterns (not resolved; only with-ids compared)")
        for exc in imp.get("exclude-controls", []):
            members.difference_update(ours(i) for i in exc.get("with-ids", []))
    return members, notes


def _profile_tailoring(profile: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for alter in profile.get("modify", {}).get("alters", []):
        # control-level adds only: adds aimed at a part (by-id) carry per-objective assessment methods
        values = {
            p["value"]
            for add in alter.get("adds", [])
            if "by-id" not in add
            for p in add.get("props", [])
            if p.get("name") == TAILORING_PROP
        }
        if values:
            out[ours(alter["control-id"])] = sorted(values)
    return out


def _sorted_ids(ids: Iterable[str]) -> list[str]:
    def key(cid: str) -> tuple[str, int, int]:
        m = re.match(r"^([A-Z]{2})-(\d+)(?:\((\d+)\))?$", cid)
        return (m[1], int(m[2]), int(m[3] or 0)) if m else (cid, 0, 0)

    return sorted(ids, key=key)


def _read(path: Path) -> dict[str, Any] | None:
    """The parsed document if ``path`` is an OSCAL catalog or profile, else None (not parsed)."""
    try:
        with path.open("rb") as f:
            head = f.read(256)
            if not _ROOT.match(head):
                return None
            data = head + f.read()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc}", path=path) from exc
    return doc if isinstance(doc, dict) else None


def compare(kb: KB, directory: Path) -> Comparison:
    """Compare the KB with every OSCAL catalog and baseline profile found under ``directory``."""
    if not directory.is_dir():
        raise InputError("not a folder", path=directory)
    result = Comparison()
    baselines: dict[str, Baseline] = {}
    for entry in kb.of_kind(NodeKind.BASELINE):
        rec = entry.record
        if isinstance(rec, Baseline) and rec.official_title:
            baselines[_norm_title(rec.official_title)] = rec
    seen_baselines: set[str] = set()
    for path in sorted(p for p in directory.rglob("*.json") if p.is_file()):
        doc = _read(path)
        if doc is None:
            continue
        shown = str(path.relative_to(directory))
        root = "catalog" if "catalog" in doc else "profile"
        body = doc[root]
        meta = body.get("metadata", {})
        title, version = _ws(str(meta.get("title", ""))), str(meta.get("version", ""))
        baseline = baselines.get(_norm_title(title))
        if root == "catalog":
            controls, families = _catalog_controls(body)
            if baseline is not None:
                seen_baselines.add(baseline.id)
                members = {c for c, v in controls.items() if not v["withdrawn"]}
                result.artifacts.append(Artifact(shown, "resolved-baseline", title, version, baseline.id, len(members)))
                _compare_members(result, shown, baseline, members)
            elif len(controls.keys() & kb.nodes.keys()) * 2 < len(controls):
                # another catalog (not SP 800-53): comparing it id by id would only produce noise
                result.artifacts.append(Artifact(shown, "other-catalog", title, version, None, len(controls)))
                result.notes.append(
                    f"{shown}: catalog {title!r} is not SP 800-53 rev5 (most of its ids are unknown); not compared"
                )
            else:
                result.artifacts.append(Artifact(shown, "catalog", title, version, None, len(controls)))
                _compare_catalog(result, kb, shown, version, controls, families)
        else:
            members, notes = _profile_members(body)
            if baseline is None:
                result.artifacts.append(Artifact(shown, "unmatched-profile", title, version, None, len(members)))
                result.notes.append(f"{shown}: profile {title!r} matches no KB baseline's official_title (not compared)")
                continue
            seen_baselines.add(baseline.id)
            result.artifacts.append(Artifact(shown, "profile", title, version, baseline.id, len(members)))
            result.notes.extend(f"{shown}: {n}" for n in notes)
            _compare_members(result, shown, baseline, members)
            _compare_tailoring(result, shown, baseline, _profile_tailoring(body))
    if not result.artifacts:
        raise InputError("no OSCAL catalog or profile found (looked for *.json with a catalog or profile root)", path=directory)
    if not any(a.kind == "catalog" for a in result.artifacts):
        result.notes.append("no SP 800-53 catalog found: control ids, titles and withdrawn status not compared")
    for rec in sorted(baselines.values(), key=lambda b: b.id):
        if rec.id not in seen_baselines:
            result.notes.append(f"{rec.id}: no official profile titled {rec.official_title!r} found (not compared)")
    return result


def compare_with_official(kb: KB, directory: Path) -> list[str]:
    """Every difference between the KB and the official OSCAL content under ``directory``
    (empty when they agree). Notes that are not differences are in :func:`compare`."""
    return compare(kb, directory).differences


def _compare_members(result: Comparison, shown: str, baseline: Baseline, official: set[str]) -> None:
    mine = set(baseline.members)
    for cid in _sorted_ids(official - mine):
        result.differences.append(f"{shown}: {baseline.id}: {cid} is in the official baseline but not in the KB")
    for cid in _sorted_ids(mine - official):
        result.differences.append(f"{shown}: {baseline.id}: {cid} is in the KB baseline but not in the official one")


def _compare_tailoring(result: Comparison, shown: str, baseline: Baseline, official: dict[str, list[str]]) -> None:
    if not official and not baseline.tailoring:
        return
    mine = {c: sorted(v) for c, v in baseline.tailoring.items()}
    for cid in _sorted_ids(set(official) | set(mine)):
        a, b = official.get(cid), mine.get(cid)
        if a != b:
            result.differences.append(
                f"{shown}: {baseline.id}: {cid} tailoring {TAILORING_PROP} official {a or []} vs KB {b or []}"
            )


def _compare_catalog(
    result: Comparison,
    kb: KB,
    shown: str,
    version: str,
    official: dict[str, dict[str, Any]],
    families: dict[str, str],
) -> None:
    diff = result.differences.append
    cat_version = version_tuple(version)
    mine: dict[str, Control] = {}
    for entry in kb.of_kind(NodeKind.CONTROL):
        if isinstance(entry.record, Control):
            mine[entry.id] = entry.record
    kb_families = {e.id: e.record.title for e in kb.of_kind(NodeKind.FAMILY)}
    for fid in sorted(set(families) - set(kb_families)):
        diff(f"{shown}: family {fid} ({families[fid]}) is in the official catalog but not in the KB")
    for fid in sorted(set(kb_families) - set(families)):
        diff(f"{shown}: family {fid} is in the KB but not in the official catalog")
    for fid in sorted(set(families) & set(kb_families)):
        if _ws(kb_families[fid]) != families[fid]:
            diff(f"{shown}: family {fid} title official {families[fid]!r} vs KB {kb_families[fid]!r}")
    for cid in _sorted_ids(set(official) - set(mine)):
        diff(f"{shown}: {cid} is in the official catalog (version {version}) but not in the KB")
    for cid in _sorted_ids(set(mine) - set(official)):
        added = mine[cid].added_in
        if added and cat_version and version_tuple(added) > cat_version:
            result.notes.append(
                f"{shown}: {cid} is not in this catalog (version {version}); known newer than the catalog "
                f"(added in release {added}), not a difference"
            )
        else:
            diff(f"{shown}: {cid} is in the KB but not in the official catalog (version {version})")
    for cid in _sorted_ids(set(official) & set(mine)):
        o, c = official[cid], mine[cid]
        if o["withdrawn"] != c.withdrawn:
            diff(f"{shown}: {cid} withdrawn: official {str(o['withdrawn']).lower()} vs KB {str(c.withdrawn).lower()}")
        elif c.withdrawn and o["withdrawn_to"] != sorted(set(c.withdrawn_to)):
            diff(f"{shown}: {cid} withdrawn to: official {o['withdrawn_to']} vs KB {sorted(set(c.withdrawn_to))}")
        if o["parent"] != c.parent:
            diff(f"{shown}: {cid} parent: official {o['parent']} vs KB {c.parent}")
        want = o["title"] if not o["parent"] else f"{official[o['parent']]['title']} | {o['title']}"
        if _ws(c.title) != want:
            diff(f"{shown}: {cid} title: official {want!r} vs KB {c.title!r}")
        if c.added_in and cat_version and version_tuple(c.added_in) > cat_version:
            result.notes.append(f"{shown}: {cid} is marked added in {c.added_in} but is already in catalog version {version}")


__all__ = ["Artifact", "Comparison", "compare", "compare_with_official", "ours", "version_tuple"]
