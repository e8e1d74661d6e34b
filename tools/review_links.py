"""Review checker for the curated links in mappings/ (standalone; PyYAML only).

Reports, as ``file:line: message``, the problems of the curated graph that can be decided mechanically:

- ``contradictory-subset``   a node is ``subset-of`` two targets of one framework that do not nest
                             (a control and its own enhancement nest; two enhancements of one control, or two
                             controls, do not; a HIPAA standard and its own implementation specification nest)
- ``multiple-equal``         more than one ``equal`` link from one node into one framework
- ``circular-source``        a mitigation -> control/safeguard source that, once the document name is removed,
                             is only the target id (it names no basis for the claim)
- ``hipaa-no-crosswalk``     a mitigation -> HIPAA safeguard link whose mitigation shares no SP 800-53 control
                             with the safeguard's SP 800-66r2 crosswalk set, and whose rationale does not say so
- ``alarm-rule-placement``   a scanner rule whose check is an alarm, metric filter or notification evidences a
                             mitigation that is not detective
- ``design-rule-equal``      an sckb-design rule typed ``equal`` (a design predicate checks only part of it)
- ``strategy-direction``     a strategy link typed ``subset-of``/``equal``: strategy links are exported
                             strategy -> mitigation, so ``subset-of`` claims the whole strategy sits inside the
                             mitigation
- ``cwe-copied-note``        a CWE's secondary risk link whose note repeats the primary link's note
- ``unknown-control``        a control target absent from the official SP 800-53 rev5 OSCAL catalog (only when
                             ``<shared>/oscal/nist/NIST_SP-800-53_rev5_catalog.json`` is present)

The crosswalk sets come from mappings/hipaa-crosswalk.yaml (SP 800-66r2 as generated from the reference sheet), one
set per HIPAA standard; a safeguard shares the set of its standard.

Each check is a small function (``check_*``) over the loaded records, so each can become a
``sckb kb validate`` rule later. Run: ``python tools/review_links.py [--root .] [--shared ../shared]``;
exit status 1 when something is reported. ``--summary`` prints counts per check only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent

#: Mitigations that detect and raise alerts; alarm, metric-filter and notification checks belong to these.
DETECTIVE_MITIGATIONS = frozenset(
    {
        "alerting-on-anomalies",
        "billing-alarms",
        "runtime-threat-detection",
        "configuration-drift-monitoring",
        "centralized-logging-to-siem",
    }
)
ALARM_WORDS = re.compile(r"alarm|metric[ _-]?filter|notification", re.IGNORECASE)
#: Document names that may precede a bare target id in a source.
DOC_NAMES = re.compile(
    r"NIST\s+SP\s*800-53\s*(Rev\.?\s*5|r5)?|SP\s*800-53\s*(Rev\.?\s*5|r5)?|45\s*CFR|HIPAA(\s+Security\s+Rule)?|"
    r"NIST\s+SP\s*800-204[A-D]?",
    re.IGNORECASE,
)
CROSSWALK_WORDS = re.compile(r"crosswalk|800-66", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    check: str
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: [{self.check}] {self.message}"


# ----------------------------------------------------------------------------- loading


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records the 1-based line of every mapping as key ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)


@dataclass
class Data:
    root: Path
    mitigations: list[tuple[str, dict[str, Any]]]  # (file, record)
    rules: list[tuple[str, dict[str, Any]]]
    cwes: list[tuple[str, dict[str, Any]]]
    crosswalk: dict[str, set[str]]  # safeguard id -> SP 800-53 controls (base ids) of its 800-66r2 crosswalk set
    safeguard_standard: dict[str, str]


def _rel(root: Path, p: Path) -> str:
    try:
        return str(p.relative_to(root))
    except ValueError:
        return str(p)


def _records(root: Path, pattern: str, key: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for p in sorted(root.glob(pattern)):
        doc = load(p) or {}
        out += [(_rel(root, p), r) for r in doc.get(key) or []]
    return out


def _base(cid: str) -> str:
    return cid.split("(")[0].strip().upper()


def load_crosswalk(root: Path) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Safeguard -> SP 800-53 base controls of its SP 800-66r2 crosswalk set (mappings/hipaa-crosswalk.yaml).

    SP 800-66r2 lists controls per standard, key activity and specification element; the set of a safeguard is
    the union over its standard (the standard itself and all its specifications)."""
    standard: dict[str, str] = {}
    for p in sorted((root / "controls").glob("*.yaml")):
        doc = load(p) or {}
        for s in doc.get("safeguards") or []:
            standard[str(s["id"])] = str(s.get("standard") or s["id"])
    by_std: dict[str, set[str]] = {}
    doc = load(root / "mappings" / "hipaa-crosswalk.yaml") or {}
    for e in doc.get("edges") or []:
        src = str(e["from"])
        by_std.setdefault(standard.get(src, src), set()).add(_base(str(e["to"])))
    sets = {sg: by_std.get(std, set()) for sg, std in standard.items()}
    return sets, standard


def load_data(root: Path, shared: Path | None) -> Data:
    crosswalk, standard = load_crosswalk(root)
    return Data(
        root=root,
        mitigations=_records(root, "mappings/mitigations/*.yaml", "mitigations"),
        rules=_records(root, "mappings/rules/*.yaml", "rules"),
        cwes=_records(root, "mappings/cwe-risks.yaml", "cwes"),
        crosswalk=crosswalk,
        safeguard_standard=standard,
    )


def load_catalog_ids(shared: Path | None) -> set[str] | None:
    """Ids of the official SP 800-53 rev5 catalog (upper case), or None when it is absent."""
    if not shared:
        return None
    p = shared / "oscal" / "nist" / "NIST_SP-800-53_rev5_catalog.json"
    if not p.is_file():
        return None
    cat = json.loads(p.read_text(encoding="utf-8"))["catalog"]
    ids: set[str] = set()

    def walk(ctrls: list[dict[str, Any]]) -> None:
        for c in ctrls:
            ids.add(_label(c))
            walk(c.get("controls") or [])

    for g in cat.get("groups") or []:
        walk(g.get("controls") or [])
    return ids


def _label(c: dict[str, Any]) -> str:
    for prop in c.get("props") or []:
        if prop.get("name") == "label" and prop.get("class") != "zero-padded":
            return str(prop["value"]).upper()
    return str(c["id"]).upper()


# ----------------------------------------------------------------------------- helpers

#: mitigation link section -> framework name
SECTIONS = {"controls": "NIST SP 800-53", "safeguards": "HIPAA Security Rule"}


def nests(a: str, b: str, standard: dict[str, str] | None = None) -> bool:
    """True when one id contains the other: equal ids, a control and its own enhancement, or a HIPAA standard and
    its own implementation specification (``standard`` maps a safeguard to its standard)."""
    std = standard or {}
    if a in (b, std.get(b)) or b == std.get(a):
        return True
    a, b = a.upper(), b.upper()
    return b.startswith(a + "(") or a.startswith(b + "(")


def links(rec: dict[str, Any], section: str) -> Iterator[dict[str, Any]]:
    yield from rec.get(section) or []


def bare_source(source: str) -> str:
    """The source text with document names, punctuation and filler removed."""
    s = DOC_NAMES.sub(" ", source)
    s = re.sub(r"\(id as quoted by secondary sources\)|sckb\s+judg(e)?ment|basis:?", " ", s, flags=re.IGNORECASE)
    return re.sub(r"[\s,;:]+", " ", s).strip(" .")


# ----------------------------------------------------------------------------- checks


def check_contradictory_subset(data: Data) -> Iterator[Finding]:
    for file, m in data.mitigations:
        for section, framework in SECTIONS.items():
            subs = [link for link in links(m, section) if link["relationship"] == "subset-of"]
            for i, later in enumerate(subs):
                for earlier in subs[:i]:
                    if not nests(str(earlier["to"]), str(later["to"]), data.safeguard_standard):
                        yield Finding(
                            "contradictory-subset",
                            file,
                            later["__line__"],
                            f"{m['id']} is subset-of both {earlier['to']} and {later['to']} ({framework}), which do not nest",
                        )


def check_multiple_equal(data: Data) -> Iterator[Finding]:
    for file, m in data.mitigations:
        for section, framework in SECTIONS.items():
            eq = [link for link in links(m, section) if link["relationship"] == "equal"]
            for link in eq[1:]:
                yield Finding("multiple-equal", file, link["__line__"], f"{m['id']} has {len(eq)} equal links into {framework}")
    for file, r in data.rules:
        eq = [link for link in links(r, "mitigations") if link["relationship"] == "equal"]
        for link in eq[1:]:
            yield Finding("multiple-equal", file, link["__line__"], f"{r['id']} has {len(eq)} equal links into mitigations")


def check_circular_source(data: Data) -> Iterator[Finding]:
    for file, m in data.mitigations:
        for section in SECTIONS:
            for link in links(m, section):
                if bare_source(str(link.get("source") or "")).upper() == str(link["to"]).upper():
                    yield Finding(
                        "circular-source",
                        file,
                        link["__line__"],
                        f"{m['id']} -> {link['to']}: source {link.get('source')!r} only restates the target",
                    )


def check_hipaa_crosswalk(data: Data) -> Iterator[Finding]:
    for file, m in data.mitigations:
        mine = {_base(str(c["to"])) for c in links(m, "controls")}
        for link in links(m, "safeguards"):
            sg = str(link["to"])
            shared_controls = mine & data.crosswalk.get(sg, set())
            if shared_controls or CROSSWALK_WORDS.search(str(link.get("rationale") or "")):
                continue
            yield Finding(
                "hipaa-no-crosswalk",
                file,
                link["__line__"],
                f"{m['id']} -> {sg}: no SP 800-53 control shared with the SP 800-66r2 crosswalk set of "
                f"{data.safeguard_standard.get(sg, sg)}, and the rationale does not say why",
            )


def check_alarm_rule_placement(data: Data) -> Iterator[Finding]:
    for file, r in data.rules:
        if r.get("tool") == "sckb-design" or not ALARM_WORDS.search(f"{r.get('rule_id', '')} {r.get('title', '')}"):
            continue
        for link in links(r, "mitigations"):
            if link["to"] not in DETECTIVE_MITIGATIONS:
                yield Finding(
                    "alarm-rule-placement",
                    file,
                    link["__line__"],
                    f"{r['id']} is an alarm/metric-filter/notification check but evidences non-detective {link['to']}",
                )


def check_design_rule_equal(data: Data) -> Iterator[Finding]:
    for file, r in data.rules:
        if r.get("tool") != "sckb-design":
            continue
        for link in links(r, "mitigations"):
            if link["relationship"] == "equal":
                yield Finding(
                    "design-rule-equal",
                    file,
                    link["__line__"],
                    f"{r['id']} -> {link['to']} is equal, but a design predicate checks only part of a mitigation",
                )


def check_strategy_direction(data: Data) -> Iterator[Finding]:
    for file, m in data.mitigations:
        for link in links(m, "strategies"):
            if link["relationship"] in ("subset-of", "equal"):
                yield Finding(
                    "strategy-direction",
                    file,
                    link["__line__"],
                    f"exported as {link['to']} {link['relationship']} {m['id']}: use intersects-with, or superset-of "
                    "when the mitigation lies within the strategy",
                )


def _note(rationale: str) -> str:
    """The part of a CWE link rationale after the risk name (what the generator appends per CWE)."""
    return rationale.split(" in a function:", 1)[-1].strip().lower()


def check_cwe_copied_note(data: Data) -> Iterator[Finding]:
    for file, c in data.cwes:
        risks = list(links(c, "risks"))
        if len(risks) < 2:
            continue
        first = _note(str(risks[0].get("rationale") or ""))
        for link in risks[1:]:
            if _note(str(link.get("rationale") or "")) == first:
                yield Finding(
                    "cwe-copied-note",
                    file,
                    link["__line__"],
                    f"{c['id']} -> {link['to']}: the note repeats the primary link's note instead of saying why",
                )


def check_unknown_controls(data: Data, catalog: set[str] | None) -> Iterator[Finding]:
    """Control targets absent from the official catalog (only when the catalog is available)."""
    if catalog is None:
        return
    for file, m in data.mitigations:
        for link in links(m, "controls"):
            if str(link["to"]).upper() not in catalog:
                yield Finding(
                    "unknown-control", file, link["__line__"], f"{m['id']} -> {link['to']}: not in the SP 800-53 rev5 catalog"
                )


CHECKS = (
    check_contradictory_subset,
    check_multiple_equal,
    check_circular_source,
    check_hipaa_crosswalk,
    check_alarm_rule_placement,
    check_design_rule_equal,
    check_strategy_direction,
    check_cwe_copied_note,
)


def run(root: Path, shared: Path | None) -> list[Finding]:
    data = load_data(root, shared)
    found: list[Finding] = []
    for check in CHECKS:
        found += check(data)
    found += check_unknown_controls(data, load_catalog_ids(shared))
    return sorted(found, key=lambda f: (f.file, f.line, f.check))


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--root", type=Path, default=ROOT)
    ap.add_argument("--shared", type=Path, default=None, help="default: <root>/../shared when present")
    ap.add_argument("--summary", action="store_true", help="print counts per check only")
    args = ap.parse_args(list(argv) if argv is not None else None)
    shared = args.shared
    if shared is None:
        cand = args.root.resolve().parent / "shared"
        shared = cand if cand.is_dir() else None
    found = run(args.root.resolve(), shared)
    if not args.summary:
        for f in found:
            print(f)
    counts = Counter(f.check for f in found)
    print(f"{len(found)} finding(s)" + "".join(f"; {k} {v}" for k, v in sorted(counts.items())), file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
