#!/usr/bin/env python3
# ruff: noqa: E501  (long judgement sentences and official titles read better unwrapped)
"""Developer tool: generate the official catalogues and crosswalks of the KB.

Reads the reference fact sheets in ``../shared/reference`` (CSV/YAML) and, when present,
the official NIST OSCAL SP 800-53 rev5 catalog in ``../shared/oscal`` (for official titles
and withdrawal status), and writes:

- ``controls/nist-800-53r5.yaml``   families and every control / enhancement
- ``controls/baselines.yaml``       NIST SP 800-53B and FedRAMP rev5 baselines
- ``controls/hipaa.yaml``           HIPAA Security Rule standards and implementation specs
- ``controls/nist-800-204.yaml``    SP 800-204 / 204A strategies with a known topic
- ``mappings/hipaa-crosswalk.yaml`` SP 800-66r2 HIPAA -> SP 800-53r5 crosswalk
- ``mappings/cwe-risks.yaml``       CWE -> CSA serverless risk links
- ``mappings/responsibility.yaml``  FaaS shared responsibility (judgement, below)

The product never runs this; the generated YAML is committed. Output is deterministic.

    python tools/gen_catalogues.py [--shared ../shared] [--out .]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import yaml

ROOT = Path(__file__).resolve().parent.parent

# ----------------------------------------------------------------------------- YAML writing

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9 _.()/'&-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "none", "y", "n"}


def q(value: Any) -> str:
    """A YAML scalar: plain when unambiguous, else a JSON (= YAML double-quoted) string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    s = str(value)
    if _PLAIN.match(s) and s.lower() not in _RESERVED and not s.endswith(" "):
        return s
    return json.dumps(s, ensure_ascii=False)


def flow(record: dict[str, Any]) -> str:
    """A one-line flow mapping, keys in the given order, empty values left out."""
    parts = []
    for k, v in record.items():
        if v is None or v == [] or (v is False and k != "confirmed"):
            continue
        if isinstance(v, list):
            parts.append(f"{k}: [{', '.join(q(x) for x in v)}]")
        else:
            parts.append(f"{k}: {q(v)}")
    return "{" + ", ".join(parts) + "}"


def block(record: dict[str, Any], indent: str = "  ") -> str:
    """A block mapping as a list item (first key after ``- ``); nested lists of dicts go one per line in flow style."""
    lines: list[str] = []
    first = True
    for k, v in record.items():
        if v is None or v == []:
            continue
        lead = f"{indent}- " if first else f"{indent}  "
        first = False
        if isinstance(v, list) and v and isinstance(v[0], dict):
            lines.append(f"{lead}{k}:")
            lines.extend(f"{indent}    - {flow(x)}" for x in v)
        elif isinstance(v, list):
            lines.append(f"{lead}{k}: [{', '.join(q(x) for x in v)}]")
        elif isinstance(v, dict):
            inner = ", ".join(f"{q(kk)}: [{', '.join(q(x) for x in vv)}]" for kk, vv in v.items())
            lines.append(f"{lead}{k}: {{{inner}}}")
        else:
            lines.append(f"{lead}{k}: {q(v)}")
    return "\n".join(lines)


def header(lines: Iterable[str]) -> str:
    return "".join(f"# {line}\n" if line else "#\n" for line in lines)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    yaml.load(text, Loader=yaml.CSafeLoader)  # refuse to write anything that does not parse
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({len(text.splitlines())} lines)")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


# ----------------------------------------------------------------------------- SP 800-53

_ID = re.compile(r"\b([A-Z]{2})-(\d+)(?:\((\d+)\))?")
_HREF = re.compile(r"^#([a-z]{2})(?:-(\d+)(?:\.(\d+))?)?")


def ours_from_oscal(oscal_id: str) -> str:
    m = _HREF.match("#" + oscal_id.lstrip("#"))
    if not m:
        raise ValueError(f"not an SP 800-53 OSCAL id: {oscal_id}")
    fam, num, enh = m.groups()
    if num is None:
        return fam.upper()
    return f"{fam.upper()}-{num}" + (f"({enh})" if enh else "")


def parse_disposition(text: str) -> list[str]:
    """Ids named by a NIST withdrawal disposition ("incorporated into: AC-2; AU-6", "moved to: SR-5")."""
    return [f"{a}-{b}" + (f"({c})" if c else "") for a, b, c in _ID.findall(text)]


def load_oscal_catalog(shared: Path) -> dict[str, dict[str, Any]] | None:
    """Official OSCAL catalog facts per OSCAL id: title (own part), parent, withdrawn, withdrawn_to, version."""
    path = shared / "oscal" / "nist" / "NIST_SP-800-53_rev5_catalog.json"
    if not path.is_file():
        print(f"note: {path} not found; titles and withdrawal status come from the reference CSV only", file=sys.stderr)
        return None
    cat = orjson.loads(path.read_bytes())["catalog"]
    out: dict[str, dict[str, Any]] = {}

    def walk(controls: list[dict[str, Any]], parent: str | None) -> None:
        for c in controls:
            status = [p["value"] for p in c.get("props", []) if p.get("name") == "status"]
            targets = [
                ours_from_oscal(ln["href"]) for ln in c.get("links", []) if ln.get("rel") in ("incorporated-into", "moved-to")
            ]
            out[c["id"]] = {
                "title": " ".join(c["title"].split()),
                "parent": parent,
                "withdrawn": "withdrawn" in status,
                "withdrawn_to": list(dict.fromkeys(targets)),
            }
            walk(c.get("controls", []), c["id"])

    for g in cat["groups"]:
        out["family:" + g["id"]] = {"title": g["title"]}
        walk(g.get("controls", []), None)
    out["#version"] = {"title": cat["metadata"]["version"]}
    return out


def gen_800_53(ref: Path, shared: Path, out: Path) -> list[dict[str, str]]:
    rows = read_csv(ref / "nist-800-53r5-controls.csv")
    fams = read_csv(ref / "nist-800-53r5-families.csv")
    oscal = load_oscal_catalog(shared)
    changes: list[str] = []
    controls = []
    for r in rows:
        cid = r["control_id"]
        title = r["title"].strip()
        withdrawn = r["withdrawn"] == "true"
        withdrawn_to = parse_disposition(r["withdrawn_disposition"]) if withdrawn else []
        if oscal is not None and r["oscal_id"] in oscal:
            o = oscal[r["oscal_id"]]
            official = o["title"] if not o["parent"] else f"{oscal[o['parent']]['title']} | {o['title']}"
            if official != title:
                changes.append(f"{cid}: title {title!r} -> official {official!r}")
                title = official
            if o["withdrawn"] != withdrawn:
                changes.append(f"{cid}: withdrawn {withdrawn} -> official {o['withdrawn']}")
                withdrawn = o["withdrawn"]
            if withdrawn and o["withdrawn_to"] != withdrawn_to:
                changes.append(f"{cid}: withdrawn_to {withdrawn_to} -> official {o['withdrawn_to']}")
                withdrawn_to = o["withdrawn_to"]
        release = r["added_in_release"]
        added_in = release if re.fullmatch(r"\d+\.\d+\.\d+", release) else None
        src = f"NIST SP 800-53 Rev. 5{' (release ' + added_in + ')' if added_in else ''}, {cid}"
        controls.append(
            {
                "id": cid,
                "title": title,
                "family": r["family_id"],
                "parent": r["parent_id"] or None,
                "withdrawn": withdrawn,
                "withdrawn_to": withdrawn_to,
                "added_in": added_in,
                "source": src,
            }
        )
    for c in changes:
        print("  official catalog:", c)
    version = oscal["#version"]["title"] if oscal else "(reference CSV only)"
    text = header(
        [
            "NIST SP 800-53 Rev. 5: the 20 control families and every control and control enhancement",
            "(incl. withdrawn ones). GENERATED by tools/gen_catalogues.py; do not edit by hand.",
            "Ids, family, parent and baseline facts: the reference fact sheet built from NIST's",
            "sp800-53r5-control-catalog.csv (1,189 entries) plus the 5.1.1 / 5.2.0 additions",
            "(IA-13, IA-13(1)-(3), SA-15(13), SA-24, SI-2(7); 'added_in' names the release).",
            f"Titles and withdrawal status/targets: the official NIST OSCAL catalog, version {version}",
            "(usnistgov/oscal-content NIST_SP-800-53_rev5_catalog.json). Enhancement titles are written",
            "'Control | Enhancement'. withdrawn_to lists where a withdrawn control went (incorporated",
            "into / moved to); a bare family id (e.g. SR) means the whole family.",
        ]
    )
    fam_lines = [f"  - {flow({'id': f['family_id'], 'title': f['family_name']})}" for f in fams]
    if oscal:
        for f in fams:
            official = oscal.get("family:" + f["family_id"].lower(), {}).get("title")
            if official and official != f["family_name"]:
                print(f"  family {f['family_id']}: reference {f['family_name']!r} vs official {official!r}")
    ctl_lines = [f"  - {flow(c)}" for c in controls]
    write(
        out / "controls" / "nist-800-53r5.yaml",
        text + "families:\n" + "\n".join(fam_lines) + "\ncontrols:\n" + "\n".join(ctl_lines) + "\n",
    )
    return rows


# ----------------------------------------------------------------------------- baselines

NIST_PROFILE = (
    "usnistgov/oscal-content v1.3.0, nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_{}-baseline_profile.json (5.1.1+u4)"
)
FEDRAMP_PROFILE = "GSA/fedramp-automation, dist/content/rev5/baselines/json/FedRAMP_rev5_{}-baseline_profile.json (2024-09-24)"
#: where the publishers keep those profiles (the repositories and folders above, on their default branches)
NIST_PROFILE_HREF = "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_{}-baseline_profile.json"
FEDRAMP_PROFILE_HREF = "https://raw.githubusercontent.com/GSA/fedramp-automation/master/dist/content/rev5/baselines/json/FedRAMP_rev5_{}-baseline_profile.json"

#: (our id, title, framework, CSV column, official profile title, source file level)
BASELINES = [
    (
        "nist-low",
        "NIST SP 800-53B Low",
        "nist-800-53b",
        "nist_low",
        "NIST Special Publication 800-53 Revision 5.1.1 LOW IMPACT BASELINE",
        "LOW",
    ),
    (
        "nist-moderate",
        "NIST SP 800-53B Moderate",
        "nist-800-53b",
        "nist_moderate",
        "NIST Special Publication 800-53 Revision 5.1.1 MODERATE IMPACT BASELINE",
        "MODERATE",
    ),
    (
        "nist-high",
        "NIST SP 800-53B High",
        "nist-800-53b",
        "nist_high",
        "NIST Special Publication 800-53 Revision 5.1.1 HIGH IMPACT BASELINE",
        "HIGH",
    ),
    (
        "nist-privacy",
        "NIST SP 800-53B Privacy",
        "nist-800-53b",
        "nist_privacy",
        "NIST Special Publication 800-53 Revision 5.1.1 PRIVACY BASELINE",
        "PRIVACY",
    ),
    ("fedramp-low", "FedRAMP Rev. 5 Low", "fedramp", "fedramp_low", "FedRAMP Rev 5 Low Baseline", "LOW"),
    ("fedramp-moderate", "FedRAMP Rev. 5 Moderate", "fedramp", "fedramp_moderate", "FedRAMP Rev 5 Moderate Baseline", "MODERATE"),
    ("fedramp-high", "FedRAMP Rev. 5 High", "fedramp", "fedramp_high", "FedRAMP Rev 5 High Baseline", "HIGH"),
    (
        "fedramp-li-saas",
        "FedRAMP Rev. 5 LI-SaaS (Tailored Low Impact SaaS)",
        "fedramp",
        "fedramp_li_saas",
        "FedRAMP Rev 5 Tailored Low Impact Software as a Service (LI-SaaS) Baseline",
        "LI-SaaS",
    ),
]


def gen_baselines(rows: list[dict[str, str]], out: Path) -> None:
    parts = []
    for bid, title, framework, col, official, level in BASELINES:
        members = [r["control_id"] for r in rows if r[col] == "x"]
        src = (NIST_PROFILE if framework.startswith("nist") else FEDRAMP_PROFILE).format(level)
        href = (NIST_PROFILE_HREF if framework.startswith("nist") else FEDRAMP_PROFILE_HREF).format(level)
        rec: dict[str, Any] = {
            "id": bid,
            "title": title,
            "framework": framework,
            "official_title": official,
            "profile": href,
            "source": src,
            "members": members,
        }
        if col == "fedramp_li_saas":
            rec["tailoring"] = {r["control_id"]: r["fedramp_li_saas_method"].split(";") for r in rows if r[col] == "x"}
        parts.append(block(rec))
        print(f"  baseline {bid}: {len(members)} controls")
    text = header(
        [
            "NIST SP 800-53B and FedRAMP rev5 baselines. GENERATED by tools/gen_catalogues.py.",
            "Membership: the official OSCAL baseline profiles named in each 'source' (include-controls with-ids).",
            "LI-SaaS 'tailoring': the FedRAMP 'method' prop per control (ASSESS, ATTEST, CONDITIONAL, NSO, FED).",
            "'official_title' is the profile's metadata title; 'sckb kb validate --against DIR' uses it to",
            "recognise the profile and reports every membership difference. 'profile' is where the publisher keeps",
            "that profile (the import-profile of 'sckb export ssp').",
        ]
    )
    write(out / "controls" / "baselines.yaml", text + "baselines:\n" + "\n".join(parts) + "\n")


# ----------------------------------------------------------------------------- HIPAA


def standard_ids(hipaa: list[dict[str, str]]) -> dict[str, str]:
    """Reference ``standard_ref`` -> our standard id: the CFR paragraph that states the standard
    (the citation without the trailing ``(i)`` that the CFR gives a standard with specifications)."""
    out = {}
    for r in hipaa:
        if r["type"] == "standard":
            cit = r["citation"]
            out[r["standard_ref"]] = cit[: -len("(i)")] if cit.endswith("(i)") and r["standard_has_specs"] == "true" else cit
    return out


def gen_hipaa(ref: Path, out: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    rows = read_csv(ref / "hipaa-security-rule.csv")
    std = standard_ids(rows)
    parts = []
    for r in rows:
        kind = {"standard": "standard", "implementation_specification": "implementation-specification", "element": "element"}[
            r["type"]
        ]
        sid = std[r["standard_ref"]] if kind == "standard" else r["citation"]
        title = r["name"].strip()
        if r["name_is_descriptive"] == "true":  # our own label for an untitled paragraph
            title = title.strip("[]")
            title = title[:1].upper() + title[1:]
        rec = {
            "id": sid,
            "title": title,
            "framework": "hipaa",
            "section": r["section"],
            "section_title": r["section_title"],
            "type": kind,
            "standard": None if kind == "standard" else std[r["standard_ref"]],
            "requirement": r["requirement"].lower() or None,
            "source": f"45 CFR {r['citation']}",
        }
        parts.append(f"  - {flow(rec)}")
    text = header(
        [
            "HIPAA Security Rule, 45 CFR 164.308-164.316 (as amended 78 FR 5694, 2013): every standard,",
            "implementation specification and lettered element. GENERATED by tools/gen_catalogues.py.",
            "A standard's id is the CFR paragraph that states it (164.312(a)(1)); a specification's or",
            "element's id is its own citation. requirement: required / addressable per 45 CFR 164.306(d).",
            "Titles in the CFR's words; where the CFR gives a paragraph no heading, the title is our short label.",
            "Pending: HHS NPRM 90 FR 898 (2025-01-06) proposes removing the required/addressable split",
            "(final-rule status unconfirmed).",
        ]
    )
    write(out / "controls" / "hipaa.yaml", text + "safeguards:\n" + "\n".join(parts) + "\n")
    return rows, std


CROSSWALK_SOURCE = "NIST SP 800-66r2 (CPRT SP800_66_2_0_0) via intuitem/ciso-assistant-community mapping library"


def crosswalk_pairs(ref: Path, std: dict[str, str]) -> dict[tuple[str, str], list[dict[str, str]]]:
    """(safeguard, control) -> the reference rows behind it (a row may name several citations)."""
    pairs: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for r in read_csv(ref / "hipaa-to-800-53r5.csv"):
        cits = [c.strip() for c in r["hipaa_citation"].split(";") if c.strip()] or [std[r["hipaa_standard_ref"]]]
        for c in cits:
            pairs[(c, r["sp800_53r5_control"])].append(r)
    return pairs


def gen_crosswalk(ref: Path, std: dict[str, str], out: Path) -> None:
    pairs = crosswalk_pairs(ref, std)
    lines = []
    for (sg, ctl), rs in sorted(pairs.items(), key=lambda kv: (_cfr_key(kv[0][0]), _ctl_key(kv[0][1]))):
        acts = sorted({(int(r["key_activity_no"]), r["key_activity_title"]) for r in rs if r["element_kind"] == "key_activity"})
        specs = any(r["element_kind"] == "implementation_specification" for r in rs)
        std_name = rs[0]["hipaa_standard_name"]
        bits = [f"key activity {n} ({t})" for n, t in acts]
        if specs:
            bits.append(f"its implementation-specification element for {sg}")
        why = f"SP 800-66r2 lists {ctl} under {std_name}: " + "; ".join(bits) + "."
        lines.append(
            "  - "
            + flow(
                {
                    "kind": "crosswalk",
                    "from": sg,
                    "to": ctl,
                    "relationship": "intersects-with",
                    "rationale": why,
                    "source": CROSSWALK_SOURCE,
                }
            )
        )
    text = header(
        [
            "HIPAA Security Rule -> NIST SP 800-53 Rev. 5 crosswalk of NIST SP 800-66 Rev. 2 (Feb 2024),",
            "as published in NIST CPRT (SP800_66_2_0_0) and packaged by intuitem/ciso-assistant-community.",
            "GENERATED by tools/gen_catalogues.py. One edge per (safeguard, control) pair; the rationale names",
            "the 800-66r2 key activities / specification elements behind it. The safeguard is the CFR",
            "citation the 800-66r2 element restates (our assignment), else the standard. Every link is",
            "'intersects-with': the packager labels all links 'intersect' and no source here gives a",
            "stronger IR 8477 relationship, so none is upgraded.",
        ]
    )
    write(out / "mappings" / "hipaa-crosswalk.yaml", text + "edges:\n" + "\n".join(lines) + "\n")
    print(f"  crosswalk: {len(lines)} edges")


def _cfr_key(cit: str) -> tuple[Any, ...]:
    return tuple((0, int(x)) if x.isdigit() else (1, x) for x in re.findall(r"\d+|[A-Za-z]+", cit))


def _ctl_key(cid: str) -> tuple[Any, ...]:
    m = _ID.match(cid)
    assert m
    return (m[1], int(m[2]), int(m[3] or 0))


# ----------------------------------------------------------------------------- SP 800-204

STRATEGY_LABELS = {
    "MS-SS-1": "Strong authentication of callers and services",
    "MS-SS-2": "Central access policy, enforced at gateway and service",
    "MS-SS-3": "Secure service discovery and registry",
    "MS-SS-4": "Mutually authenticated, encrypted communication",
    "MS-SS-8": "Rate limiting and throttling of requests",
    "MS-SS-9": "Integrity checks when rolling out new service versions",
    "MS-SS-10": "Keep internal tokens and sessions behind the gateway",
    "MS-SS-11": "Defend against credential abuse and stuffing",
    "MS-SS-13": "Network segmentation so callers cannot bypass the proxy",
    "SM-DR1": "Proxies deny traffic their configuration does not allow",
    "SM-DR2": "Restrict which services each proxy can reach",
    "SM-DR6": "Proxy-to-proxy traffic over mutual TLS",
    "SM-DR8": "Egress outside the mesh denied unless explicitly allowed",
    "SM-DR12": "Mesh signing certificate chained to the enterprise PKI",
    "SM-DR13": "Short-lived workload identity certificates",
    "SM-DR15": "Workload certificates are not signing certificates",
}


def gen_800_204(ref: Path, out: Path) -> None:
    raw = (ref / "nist-800-204-series.yaml").read_text(encoding="utf-8")
    data = yaml.load(raw, Loader=yaml.CSafeLoader)
    known = {s["id"]: s for s in data["sp_800_204"]["strategies"]}
    known.update({s["id"]: s for s in data["sp_800_204a"]["recommendations_seen"]})
    # the sheet's unquoted flow-style topics contain commas, which YAML splits: take the topic text verbatim
    for m in re.finditer(r"\{id: ([A-Z-]+\d+), topic: (.*?), (?:confidence|evidence): ", raw):
        if m[1] in known:
            known[m[1]]["topic"] = m[2].strip('"')
    lines = []
    for sid, label in STRATEGY_LABELS.items():
        s = known[sid]
        assert s.get("confidence", "secondary").startswith("secondary"), sid
        pub = "NIST SP 800-204A" if sid.startswith("SM-DR") else "NIST SP 800-204"
        doc = data["sp_800_204a" if sid.startswith("SM-DR") else "sp_800_204"]
        rec = {
            "id": sid,
            "title": label,
            "publication": pub,
            "confirmed": False,
            "topic": f"{s['topic']} [secondary: id and topic seen in public repositories quoting the PDF; the PDF was not available]",
            "source": f"{pub}, {doc['title']} ({str(doc['published'])[:4]}, doi:{doc['doi']}), recommendation {sid}; section unconfirmed",
        }
        lines.append(f"  - {flow(rec)}")
    text = header(
        [
            "NIST SP 800-204 (microservices security strategies, MS-SS-n) and SP 800-204A (service-mesh",
            "deployment recommendations, SM-DRn). GENERATED by tools/gen_catalogues.py.",
            "Only ids whose topic is known are listed, all 'confirmed: false': the ids and topics come from public",
            "repositories quoting the PDFs (secondary), the NIST PDFs themselves were not available.",
            "Left out on purpose: MS-SS-5, MS-SS-6, MS-SS-7 (an availability/resiliency group whose order is",
            "unknown), MS-SS-12 (id seen, topic unknown) and SM-DR3-5, 7, 9-11, 14, 16-23 (ids implied by",
            "the range, topics unknown). Titles are our own short labels.",
        ]
    )
    write(out / "controls" / "nist-800-204.yaml", text + "strategies:\n" + "\n".join(lines) + "\n")


# ----------------------------------------------------------------------------- CWE -> risk

SAS_NAMES = {
    "SAS-1": "Function Event-Data Injection",
    "SAS-2": "Broken Authentication",
    "SAS-3": "Insecure Serverless Deployment Configuration",
    "SAS-4": "Over-Privileged Function Permissions and Roles",
    "SAS-5": "Inadequate Function Monitoring and Logging",
    "SAS-6": "Insecure Third-Party Dependencies",
    "SAS-7": "Insecure Application Secrets Storage",
    "SAS-8": "Denial of Service and Financial Resource Exhaustion",
    "SAS-9": "Serverless Business Logic Manipulation",
    "SAS-10": "Improper Exception Handling and Verbose Error Messages",
    "SAS-11": "Obsolete Functions, Cloud Resources and Event Triggers",
    "SAS-12": "Cross-Execution Data Persistency",
}

#: CWE ids that scanner rules publish but the reference CWE sheet lacks: (MITRE name, SAS risk, why).
EXTRA_CWES = {
    "CWE-80": (
        "Improper Neutralization of Script-Related HTML Tags in a Web Page (Basic XSS)",
        "SAS-1",
        "event data rendered into HTML without escaping is injection through the function's output",
    ),
    "CWE-155": (
        "Improper Neutralization of Wildcards or Matching Symbols",
        "SAS-1",
        "event-controlled file names expanded by a shell wildcard let input change the command's arguments",
    ),
    "CWE-605": (
        "Multiple Binds to the Same Port",
        "SAS-3",
        "a listener bound to every interface is an exposure created by deployment configuration",
    ),
    "CWE-838": (
        "Inappropriate Encoding for Output Context",
        "SAS-6",
        "hidden bidirectional characters in shipped source make reviewed code differ from what runs, a code supply-chain weakness",
    ),
}

CWE_SOURCE = "sckb judgement; CWE names from MITRE CWE"

#: Why each secondary CWE -> risk link holds (sckb judgement, reviewed 2026-12-07); the primary link uses the
#: reference sheet's note.
SECONDARY_NOTES: dict[tuple[str, str], str] = {
    ("CWE-20", "SAS-9"): (
        "input that is not validated lets callers send repeated, out-of-order or out-of-range values that steer a workflow past its business rules"
    ),
    ("CWE-22", "SAS-12"): (
        "a traversal path inside /tmp can read or overwrite files that an earlier invocation left in the reused execution environment"
    ),
    ("CWE-117", "SAS-1"): ("the forged log lines arrive in event fields, so the way in is event-data injection"),
    ("CWE-200", "SAS-3"): (
        "settings such as public buckets, verbose stage logging or open function URLs expose data without any fault in the code"
    ),
    ("CWE-284", "SAS-2"): (
        "a policy open to any principal lets callers reach the function or its data without being authenticated at all"
    ),
    ("CWE-312", "SAS-3"): (
        "cleartext storage is usually a missing encryption setting on the function, log group or parameter, that is a deployment configuration fault"
    ),
    ("CWE-327", "SAS-7"): (
        "weak algorithms used to encrypt or derive stored secrets leave those secrets recoverable by whoever obtains the ciphertext"
    ),
    ("CWE-330", "SAS-7"): (
        "keys, API tokens or other secrets generated with a predictable generator can be guessed wherever they are stored"
    ),
    ("CWE-345", "SAS-1"): (
        "an unverified message lets an attacker place crafted data in the event that triggers the next function"
    ),
    ("CWE-362", "SAS-12"): (
        "state kept across warm invocations (globals, /tmp, connection pools) is where unsynchronised access mixes one request's data into another's"
    ),
    ("CWE-459", "SAS-11"): (
        "resources a function creates and never removes (temporary objects, queues, triggers) outlive it as unowned cloud resources"
    ),
    ("CWE-494", "SAS-3"): (
        "whether the platform verifies a package signature is a deployment setting, the code-signing configuration, which is missing"
    ),
    ("CWE-532", "SAS-5"): (
        "logs that carry secrets or PHI have to be locked down and cannot feed monitoring freely, so the logging set-up itself falls short"
    ),
    ("CWE-668", "SAS-3"): (
        "the exposure is set by configuration (public URLs, resource policies, triggers) rather than by the function code"
    ),
    ("CWE-674", "SAS-9"): (
        "a self-triggering loop changes the intended order of execution between functions, and an attacker can start it on purpose"
    ),
    ("CWE-703", "SAS-9"): (
        "an unhandled exception can skip a step of a multi-function workflow and leave it in a state the business logic never expects"
    ),
    ("CWE-732", "SAS-4"): (
        "a resource policy granting broad rights is the same over-permissioning as an over-broad role, seen from the resource side"
    ),
    ("CWE-770", "SAS-3"): (
        "concurrency caps, throttles and timeouts are deployment settings, so leaving them out is a configuration fault"
    ),
    ("CWE-798", "SAS-3"): (
        "credentials placed in environment variables or IaC templates are a deployment configuration choice as well as a code fault"
    ),
    ("CWE-862", "SAS-2"): (
        "without a per-caller check the function treats any authenticated caller as entitled to every record, so the identity established at the edge is never tied to the data"
    ),
    ("CWE-863", "SAS-2"): ("errors in authorizer or token-claim logic let callers pass as identities or roles they do not hold"),
    ("CWE-918", "SAS-4"): (
        "what a forged request can reach depends on the function's credentials, so an over-privileged role turns SSRF into data access"
    ),
    ("CWE-1104", "SAS-11"): (
        "functions and layers built on unmaintained packages or runtimes keep running long after anyone maintains that code"
    ),
    ("CWE-1333", "SAS-1"): ("the costly pattern is set off by crafted strings in event data, the injection path"),
}


def gen_cwes(ref: Path, out: Path) -> None:
    rows = read_csv(ref / "cwe-to-serverless-risk.csv")
    rules = read_csv(ref / "scanner-rules.csv")
    seen = {r["cwe_id"] for r in rows}
    published = sorted({c for r in rules for c in re.findall(r"CWE-\d+", r["cwe"])}, key=lambda c: int(c[4:]))
    parts = []

    def link(cwe: str, risk: str, note: str, primary: bool) -> dict[str, str]:
        lead = "Judgement" if primary else "Judgement, secondary link"
        return {
            "to": risk,
            "relationship": "intersects-with",
            "rationale": f"{lead}: {cwe} falls under {risk} ({SAS_NAMES[risk]}) in a function: {note}.",
            "source": CWE_SOURCE,
        }

    for r in sorted(rows, key=lambda r: int(r["cwe_id"][4:])):
        links = [link(r["cwe_id"], r["csa_primary"], r["note"], True)]
        for sec in filter(None, (s.strip() for s in r["csa_secondary"].split(";"))):
            links.append(link(r["cwe_id"], sec, SECONDARY_NOTES[(r["cwe_id"], sec)], False))
        parts.append(block({"id": r["cwe_id"], "title": r["cwe_name"], "risks": links}))
    missing = [c for c in published if c not in seen]
    for cwe in missing:
        name, risk, why = EXTRA_CWES[cwe]
        parts.append(block({"id": cwe, "title": name, "risks": [link(cwe, risk, why, True)]}))
    print(f"  cwes: {len(rows)} from the reference sheet, {len(missing)} added from scanner rules: {', '.join(missing)}")
    text = header(
        [
            "CWE weaknesses reported by SAST / SCA / IaC scanners, linked to the CSA serverless risks",
            "(SAS-1..SAS-12) they indicate. GENERATED by tools/gen_catalogues.py.",
            "Names: MITRE CWE list (written from the list and spot-checked; verify before quoting).",
            "Links: sckb judgement (no CSA, OWASP or MITRE source maps CWEs to these risks), all",
            "'intersects-with'. The last entries are CWEs that scanner rules publish but the",
            "reference sheet lacked (CWE-80, 155, 605, 838).",
            "Review 2026-12-07: the 24 secondary links carry their own note (why that CWE leads to that",
            "second risk) instead of repeating the primary link's note.",
        ]
    )
    write(out / "mappings" / "cwe-risks.yaml", text + "cwes:\n" + "\n".join(parts) + "\n")


# ----------------------------------------------------------------------------- responsibility

#: Family defaults: (party, rationale). Judgement for FaaS (Lambda, Cloud Functions, Azure Functions);
#: see the reference NOTES section 3 (PE/MA/MP inherited; AC/IA/AU/SC/SI/CM shared; the rest customer).
FAMILY_PARTY: dict[str, tuple[str, str]] = {
    "AC": (
        "shared",
        "The platform enforces access decisions; the customer writes the roles, policies and resource permissions it enforces.",
    ),
    "AT": (
        "customer",
        "Training the customer's developers and operators is the customer's job; the provider trains its own staff.",
    ),
    "AU": (
        "shared",
        "The platform records invocations and API calls; the customer chooses what the code logs, how long logs are kept and who reviews them.",
    ),
    "CA": (
        "customer",
        "The customer assesses and authorizes its own serverless system; it may rely on, but must review, the provider's authorization package.",
    ),
    "CM": (
        "shared",
        "The provider manages the runtime's configuration; the customer manages function settings, triggers and infrastructure as code.",
    ),
    "CP": (
        "shared",
        "The provider runs redundant zones and durable storage; the customer plans regions, backups of its data and redeployment of its functions.",
    ),
    "IA": (
        "shared",
        "The provider operates the identity services and token validation; the customer configures users, authorizers, federation and credentials.",
    ),
    "IR": (
        "customer",
        "The customer handles incidents in its functions and data; the provider only handles incidents in the platform and notifies customers.",
    ),
    "MA": (
        "shared",
        "The provider maintains the servers and networks behind the functions; the customer keeps up what it runs on them (code, dependencies, its admin workstations). Controls the provider covers alone are listed one by one.",
    ),
    "MP": (
        "shared",
        "Data-centre storage media are the provider's to handle and destroy; media the customer copies data onto (exports, laptops, backups it keeps) are its own.",
    ),
    "PE": (
        "shared",
        "The provider guards its data centres; the customer guards its own offices and the devices its staff administer the system from. Data-centre controls are listed one by one.",
    ),
    "PL": (
        "customer",
        "Security and privacy plans, rules of behaviour and architecture of the serverless system are the customer's to write.",
    ),
    "PM": ("customer", "Program management is the customer organisation's own security program."),
    "PS": ("customer", "Screening, transfer and termination of the customer's own staff; the provider covers its personnel."),
    "PT": ("customer", "The customer decides what personal data its functions process and why, and tells the people concerned."),
    "RA": ("customer", "The customer categorises its system and assesses the risks of its functions, data and event sources."),
    "SA": (
        "customer",
        "The customer acquires, develops and tests the function code, its dependencies and the external services it calls.",
    ),
    "SC": (
        "shared",
        "The platform provides isolation, TLS endpoints and encryption; the customer configures keys, endpoints, network access and egress.",
    ),
    "SI": (
        "shared",
        "The provider keeps the managed runtime patched and monitored; the customer fixes its code and dependencies and watches its functions.",
    ),
    "SR": (
        "customer",
        "The function's software supply chain (packages, layers, images, build pipeline) is chosen and controlled by the customer.",
    ),
}

#: The provider statements a ``provider`` entry rests on (document and section, described in our own words).
#: Every provider entry names one of them as its ``basis`` (``sckb kb validate`` requires it).
BASIS_FACILITIES = (
    "AWS Shared Responsibility Model (aws.amazon.com/compliance/shared-responsibility-model), 'security of the cloud': "
    "AWS answers for the facilities, hardware and host infrastructure its services run on; Microsoft Learn, Shared "
    "responsibility in the cloud, division-of-responsibility table: physical datacenter, network and hosts stay with "
    "Microsoft for every service type; Google Cloud Architecture Framework, Shared responsibilities and shared fate on "
    "Google Cloud: Google secures the underlying infrastructure, hardware and data centres"
)
BASIS_PLATFORM = (
    "AWS Lambda Developer Guide, Security in AWS Lambda (with the AWS Shared Responsibility Model): for a managed "
    "service AWS runs the infrastructure, operating system and platform, customers their code, data and settings; "
    "Microsoft Learn, Shared responsibility in the cloud, table rows for PaaS: the provider keeps the operating "
    "system and runtime hosts; Google Cloud Architecture Framework, Shared responsibilities and shared fate: for "
    "managed and serverless services Google also runs the platform layer"
)
BASIS_NETWORK = (
    "AWS Shared Responsibility Model, 'security of the cloud': the networking and global infrastructure of the "
    "regions is AWS's; Microsoft Learn, Shared responsibility in the cloud, table row for physical network (always "
    "the provider's); Google Cloud Architecture Framework, Shared responsibilities and shared fate: network "
    "infrastructure is Google's"
)
BASIS_CRYPTO = (
    "AWS FIPS 140 compliance page and the FedRAMP package of each provider (customer responsibility matrix, SC-13 "
    "and IA-7 rows): the service endpoints use the provider's validated modules; Microsoft Learn, Shared "
    "responsibility in the cloud (platform services); Google Cloud FIPS 140 validated cryptography page"
)

#: Per-control entries where the control differs from its family default: (party, rationale), or
#: (party, rationale, basis) for a provider entry.
CONTROL_PARTY: dict[str, tuple[str, ...]] = {
    # policy and procedure controls (-1): every family's are the customer organisation's own documents
    **{
        f"{f}-1": ("customer", "Policy and procedures for this family are the customer organisation's own documents.")
        for f in sorted(FAMILY_PARTY)
    },
    # data-centre controls: the provider's alone (the customer's own offices fall under PE-17 and the family default)
    **{
        f"PE-{n}": (
            "provider",
            "The provider runs the data centres behind the functions: their buildings, power, cooling and physical access.",
            BASIS_FACILITIES,
        )
        for n in (2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 21, 22, 23)
    },
    "PE-17": ("customer", "Alternate work sites (staff working from home or elsewhere) are the customer's to set rules for."),
    **{
        f"MA-{n}": (
            "provider",
            "The provider maintains the hardware and hosts behind the functions, with its own tools, staff, remote sessions and schedule.",
            BASIS_FACILITIES,
        )
        for n in (2, 3, 4, 5, 6, 7)
    },
    "AC-2": ("customer", "The customer creates, reviews and removes the IAM principals, app users and roles of its system."),
    "AC-5": ("customer", "Separating duties among deployers, operators and approvers is a customer decision."),
    "AC-6": ("customer", "Execution roles and their policies are written and attached by the customer."),
    "AC-8": ("customer", "Any sign-in banner of the customer's application or portal is the customer's."),
    "AC-10": ("customer", "Session limits for the application's users are set by the customer."),
    "AC-11": ("customer", "Session lock applies to the customer's users and administrators' devices."),
    "AC-12": ("customer", "The application decides when user sessions and tokens end."),
    "AC-14": ("customer", "Which function endpoints may be called without identification is the customer's choice."),
    "AC-18": (
        "provider",
        "There is no wireless access into the serverless platform; the provider secures its data-centre networks.",
        BASIS_NETWORK,
    ),
    "AC-19": ("customer", "Mobile devices used by the customer's staff to administer the system are the customer's."),
    "AC-20": ("customer", "Use of external systems by the customer's staff and functions is governed by the customer."),
    "AC-21": ("customer", "Decisions to share information processed by the functions are the customer's."),
    "AC-22": ("customer", "Content the customer's functions publish is reviewed by the customer."),
    "AU-4": ("provider", "The managed log service scales its storage; the customer does not size audit storage.", BASIS_PLATFORM),
    "AU-6": ("customer", "Reviewing and analysing the function and API logs is the customer's task."),
    "AU-8": ("provider", "Log time stamps come from the provider's synchronised clocks.", BASIS_PLATFORM),
    "AU-11": ("customer", "The customer sets log retention periods on its log groups and sinks."),
    "AU-16": ("customer", "Coordinating audit information across organisations is the customer's."),
    "CA-8": ("customer", "The customer penetration-tests its own functions and APIs within the provider's testing rules."),
    "CM-10": ("customer", "Licences and usage restrictions of the software the customer deploys are the customer's."),
    "CM-11": ("customer", "Which packages and layers go into a deployment package is decided by the customer."),
    "CP-2": ("customer", "The contingency plan for the serverless system (regions, redeploy, data restore) is the customer's."),
    "CP-3": ("customer", "Contingency training of the customer's staff is the customer's."),
    "CP-4": ("customer", "The customer tests failover and redeployment of its functions and data."),
    "CP-8": ("provider", "Telecommunications services to the data centres are arranged by the provider.", BASIS_NETWORK),
    "IA-3": (
        "provider",
        "Devices inside the provider's infrastructure are identified by the provider; functions have no customer devices.",
        BASIS_FACILITIES,
    ),
    "IA-4": ("customer", "The customer manages identifiers of its users, roles and service accounts."),
    "IA-6": (
        "shared",
        "The provider's consoles and sign-in services hide authenticator feedback; sign-in pages the customer builds into its application must too.",
    ),
    "IA-7": ("provider", "The provider's endpoints and key services use validated cryptographic modules.", BASIS_CRYPTO),
    "IA-8": (
        "customer",
        "Authenticating the application's external users (authorizers, identity pools) is configured by the customer.",
    ),
    "IA-11": ("customer", "When users must re-authenticate is set in the customer's application and identity configuration."),
    "IA-12": ("customer", "Identity proofing of the customer's users is the customer's."),
    "IR-4": (
        "shared",
        "The provider handles incidents in the platform and informs customers; the customer handles incidents in its functions and data.",
    ),
    "RA-5": (
        "shared",
        "The provider scans the managed runtime and hosts; the customer scans its code, dependencies and configuration.",
    ),
    "SA-9": (
        "customer",
        "External services that the functions call, including the cloud provider itself, are overseen by the customer.",
    ),
    "SA-22": (
        "shared",
        "The provider deprecates old runtimes; the customer must move functions off unsupported runtimes and libraries.",
    ),
    "SC-2": (
        "shared",
        "The platform separates the control plane from function execution; the customer keeps admin functions apart from user-facing ones.",
    ),
    "SC-3": (
        "provider",
        "Isolation of the security functions of the platform (hypervisor, sandbox) is the provider's.",
        BASIS_PLATFORM,
    ),
    "SC-4": (
        "provider",
        "The provider isolates memory and temporary storage between tenants and between executions it does not reuse.",
        BASIS_PLATFORM,
    ),
    "SC-6": ("shared", "The provider guarantees account quotas; the customer reserves and limits concurrency per function."),
    "SC-10": (
        "shared",
        "The provider's front ends end idle platform connections; the customer sets the session and idle timeouts of its "
        "own APIs and application sessions.",
    ),
    "SC-15": (
        "provider",
        "The platform has no collaborative computing devices; the provider's facilities are its own.",
        BASIS_FACILITIES,
    ),
    "SC-17": (
        "shared",
        "The provider issues certificates for its endpoints; the customer obtains and rotates certificates for custom domains.",
    ),
    "SC-18": ("customer", "Mobile code served or run by the customer's application is the customer's."),
    "SC-20": (
        "provider",
        "The provider's DNS service signs and serves authoritative answers; the customer only sets records.",
        BASIS_NETWORK,
    ),
    "SC-21": ("provider", "Recursive DNS resolution for functions is provided by the platform.", BASIS_NETWORK),
    "SC-22": ("provider", "The provider runs redundant, separated name servers.", BASIS_NETWORK),
    "SC-24": ("provider", "The platform decides how its execution environments fail.", BASIS_PLATFORM),
    "SC-39": ("provider", "Each execution runs in its own isolated sandbox managed by the provider.", BASIS_PLATFORM),
    "SC-45": ("provider", "Clock synchronisation of the execution hosts is the provider's.", BASIS_PLATFORM),
    "SI-5": ("customer", "The customer subscribes to and acts on advisories for its runtime versions and dependencies."),
    "SI-10": ("customer", "Validating event input is done in the customer's function code."),
    "SI-11": ("customer", "What error messages the functions return is decided by the customer's code."),
    "SI-12": ("customer", "Retention of the data and outputs the functions produce is the customer's."),
    "SI-16": ("provider", "Memory protection of the execution environment is provided by the platform.", BASIS_PLATFORM),
    "SR-11": (
        "shared",
        "The provider checks the authenticity of its hardware and runtime; the customer checks the packages and images it deploys.",
    ),
}

SI2 = ("shared", "The provider patches the managed runtime; the customer patches its dependencies and redeploys the functions.")
CONTROL_PARTY["SI-2"] = SI2


def gen_responsibility(rows: list[dict[str, str]], out: Path) -> None:
    ids = {r["control_id"] for r in rows}
    parent = {r["control_id"]: r["parent_id"] for r in rows}
    fams = sorted({r["family_id"] for r in rows})
    assert set(FAMILY_PARTY) == set(fams), set(fams) ^ set(FAMILY_PARTY)
    # provider only ever comes from a per-control entry that cites the provider statement it rests on
    assert all(p != "provider" for p, _ in FAMILY_PARTY.values()), "a family default may be customer or shared only"
    for cid, entry in CONTROL_PARTY.items():
        assert cid in ids, cid
        assert (entry[0] == "provider") == (len(entry) == 3), f"{cid}: basis on provider entries, and only there"
    for f in fams:
        assert CONTROL_PARTY[f"{f}-1"][0] == "customer", f"{f}-1 (policy and procedures) is the customer's"
    lines = [f"  - {flow({'family': f, 'party': p, 'rationale': why})}" for f, (p, why) in sorted(FAMILY_PARTY.items())]
    for c, entry in sorted(CONTROL_PARTY.items(), key=lambda kv: _ctl_key(kv[0])):
        rec = {"control": c, "party": entry[0], "rationale": entry[1]}
        if len(entry) == 3:
            rec["basis"] = entry[2]
        lines.append(f"  - {flow(rec)}")
    high = [r["control_id"] for r in rows if r["fedramp_high"] == "x"]
    unresolved = [c for c in high if c not in CONTROL_PARTY and parent[c] not in CONTROL_PARTY and c[:2] not in FAMILY_PARTY]
    assert not unresolved, unresolved
    text = header(
        [
            "FaaS shared responsibility (AWS Lambda, Google Cloud Functions, Azure Functions) per SP 800-53",
            "family, with per-control entries where a control differs. GENERATED by tools/gen_catalogues.py.",
            "sckb judgement: no public FedRAMP or provider data file lists which controls a serverless",
            "customer inherits (that lives in each provider's CIS/CRM workbook, SSP Appendix J). Lookup order:",
            "the control, then its parent control, then its family; every FedRAMP High control resolves.",
            "provider = inherited from the cloud provider; customer = the organisation deploying the",
            "functions; shared = both must act.",
            "Rules (checked by sckb kb validate): a family default is customer or shared, never provider;",
            "provider comes only from a per-control entry, and every such entry has a basis naming the",
            "provider statement it rests on (document and section, in our words); every -1 control (policy",
            "and procedures) is the customer's. 2026-12-07 (issue 14): MA, MP and PE were provider by",
            "family default (so PE-1 and MA-1 read inherited); now shared, with the data-centre PE and MA",
            "controls listed as provider one by one, PE-17 (alternate work sites) and every -1 customer,",
            "and IA-6 shared (sign-in pages of the customer's own application).",
        ]
    )
    write(out / "mappings" / "responsibility.yaml", text + "responsibility:\n" + "\n".join(lines) + "\n")
    n_provider = sum(1 for e in CONTROL_PARTY.values() if e[0] == "provider")
    print(
        f"  responsibility: {len(FAMILY_PARTY)} families, {len(CONTROL_PARTY)} controls ({n_provider} provider, each with a basis);"
        f" FedRAMP High {len(high)} all resolve"
    )


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the shared read-only folder")
    ap.add_argument("--out", type=Path, default=ROOT, help="repository root to write controls/ and mappings/ into")
    args = ap.parse_args(argv)
    ref = args.shared / "reference"
    if not ref.is_dir():
        print(f"error: {ref} not found", file=sys.stderr)
        return 2
    rows = gen_800_53(ref, args.shared, args.out)
    gen_baselines(rows, args.out)
    _, std = gen_hipaa(ref, args.out)
    gen_crosswalk(ref, std, args.out)
    gen_800_204(ref, args.out)
    gen_cwes(ref, args.out)
    gen_responsibility(rows, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
