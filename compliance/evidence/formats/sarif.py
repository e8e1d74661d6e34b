"""SARIF 2.1.0 from any tool (Checkov, Semgrep, Trivy, KICS, Bandit, gitleaks, cfn-lint, cfn-guard, CodeQL…).

Result: ``kind`` (absent or ``fail`` → fail, ``pass`` → pass, ``informational``/``notApplicable``/``review``/
``open`` → info). Severity, first hit wins: tool-specific ``properties`` (``issue_severity``, ``security-severity``),
the result ``level``, the rule's ``defaultConfiguration.level``; tools that set no level at all encode it in the
rule id prefix (cfn-lint E/W/I). CWEs: rule ``properties.tags`` ("external/cwe/cwe-377", "CWE-798: …") and
rule relationships into a "CWE" taxonomy (KICS). Scan time: ``invocations[0].endTimeUtc`` / ``startTimeUtc``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from compliance.evidence.model import Finding
from compliance.evidence.parsing import (
    ParseContext,
    Sniff,
    as_int,
    canonical_tool,
    cwes,
    function_of,
    iso_time,
    pointer,
    provider_from_rule,
    relpath,
    severity,
    text,
)

_KIND = {"fail": "fail", "pass": "pass", "open": "info", "review": "info", "informational": "info", "notapplicable": "info"}
_LEVEL = {"error": "high", "warning": "medium", "note": "low", "none": "info"}
#: Tools whose SARIF has no levels but whose rule ids start with a severity letter.
_PREFIX_SEVERITY = {"cfn-lint": {"E": "high", "W": "medium", "I": "info"}}


class Sarif:
    name = "sarif"
    title = "SARIF 2.1.0 from any tool (results of kind fail, pass, informational…)"
    tool = "sarif"
    priority = 10

    def detect(self, head: bytes, sniff: Sniff) -> bool:
        if sniff.kind != "json" or sniff.top != "map":
            return False
        schema = str(sniff.value("$schema") or "").lower()
        version = str(sniff.value("version") or "")
        if "runs.item.tool" in sniff.keys or "runs.item.results" in sniff.keys:
            return True
        return ("sarif" in schema or version.startswith("2.1")) and ("runs" in sniff.keys or b'"runs"' in head)

    def parse(self, path: Path, ctx: ParseContext) -> Iterator[Finding]:
        _check_version(ctx.first("version") if not ctx.streaming else ctx.sniff.value("version"), ctx)
        if not ctx.streaming:
            doc = ctx.load()
            if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
                raise ctx.error("SARIF without a runs list", pointer="/runs")
            for r, run in enumerate(doc["runs"]):
                if not isinstance(run, dict):
                    raise ctx.error("a SARIF run must be an object", pointer=pointer("runs", r))
                yield from self._run(r, run, enumerate(run.get("results") or []), ctx)
            return
        tools = list(ctx.stream("runs.item.tool"))
        if len(tools) != 1:
            raise ctx.error(f"large SARIF files with {len(tools)} runs are not supported (split the runs)")
        run = {
            "tool": tools[0],
            "invocations": ctx.first("runs.item.invocations") or [],
            "properties": ctx.first("runs.item.properties") or {},
        }
        yield from self._run(0, run, enumerate(ctx.stream("runs.item.results.item")), ctx)

    def _run(self, r: int, run: dict[str, Any], results: Iterator[tuple[int, Any]], ctx: ParseContext) -> Iterator[Finding]:
        driver = (run.get("tool") or {}).get("driver") or {}
        tool = canonical_tool(driver.get("name"), "sarif")
        version = text(driver.get("version") or driver.get("semanticVersion"))
        inv = (run.get("invocations") or [{}])[0] or {}
        when = iso_time(inv.get("endTimeUtc") or inv.get("startTimeUtc"))
        ctx.tool_version = ctx.tool_version or version
        ctx.scan_time = ctx.scan_time or when
        taxa = _cwe_taxa(run)
        rules = [_rule(rule, taxa) for rule in driver.get("rules") or []]
        by_id = {rl[0]: rl for rl in rules if rl[0]}
        prefix_sev = _PREFIX_SEVERITY.get(tool)
        maker = _SUBJECT.get(tool)
        subject = maker(run, driver) if maker is not None else None
        source = "file" if when else "ingest"
        # OSCAL method of the evidence: a run (or result) may say EXAMINE / INTERVIEW, e.g. sckb design check
        run_method = _method((run.get("properties") or {}).get("method")) or "TEST"
        base = pointer("runs", r, "results")
        no_rule = (None, None, None, (), None)
        # per rule id named by a result's ruleId and found among the rules: the rule's fields and its cloud
        known: dict[str, tuple[tuple[str | None, str | None, str | None, tuple[str, ...], str | None], str | None]] = {}
        providers: dict[str, str | None] = {}
        for i, res in results:
            if type(res) is not dict:
                raise ctx.error("a SARIF result must be an object", pointer=pointer("runs", r, "results", i))
            get = res.get
            raw: Any = get("ruleId")
            hit = known.get(raw) if type(raw) is str else None
            if hit is not None:
                rule_id: str = raw
                (_, title, default_level, rule_cwes, rule_sev), prov = hit
            else:
                found_id = raw if isinstance(raw, str) and raw.strip() else text((get("rule") or {}).get("id"))
                rl = by_id.get(found_id) if found_id else None
                if rl is not None and found_id is not None and found_id == raw:
                    known[found_id] = (rl, provider_from_rule(found_id))
                if rl is None:
                    idx = as_int(get("ruleIndex"))
                    if idx is not None and 0 <= idx < len(rules):
                        rl = rules[idx]
                        found_id = found_id or rl[0]
                _, title, default_level, rule_cwes, rule_sev = rl or no_rule
                rule_id = found_id or "unknown"
                prov = providers.get(rule_id, "")
                if prov == "":
                    prov = providers[rule_id] = provider_from_rule(rule_id)
            props = get("properties")
            sev = rule_sev
            found_cwes = rule_cwes
            if props:
                sev = (
                    severity(props.get("issue_severity") or props.get("severity"))
                    or severity(_num(props.get("security-severity")))
                    or sev
                )
                found_cwes = found_cwes or cwes(props.get("tags"), props.get("cwe"))
            if sev is None:
                level = get("level") or default_level
                if prefix_sev is not None:
                    sev = prefix_sev.get(rule_id[:1].upper())
                if sev is None and level:
                    sev = _LEVEL.get(str(level).lower())
            kind = get("kind")
            result = _KIND.get(kind.lower(), "info") if isinstance(kind, str) else "fail"
            file, line, logical = _location(res)
            msg = get("message")
            if subject is not None:
                logical, line = subject(res, logical, line)
            method = (_method(props.get("method")) if props else None) or run_method
            yield Finding(
                tool, version, when, source, rule_id, title, sev, result, logical,
                function_of(logical) if subject is not None else None, file, line,
                prov, None, None, found_cwes,
                f"{base}/{i}", text(msg.get("text") if isinstance(msg, dict) else msg), method,
            )  # fmt: skip


_Subject = Callable[[dict[str, Any], str | None, int | None], tuple[str | None, int | None]]

_SNIPPET_TF = re.compile(r'^\s*(resource|data|module|provider)\s+"([^"]+)"(?:\s+"([^"]+)")?')
_SNIPPET_BICEP = re.compile(r"^\s*resource\s+([A-Za-z_]\w*)\s+'([^'@]+)@[^']*'")
_SNIPPET_KEY = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*:\s*(?:#.*)?$")
_SNIPPET_TYPE = re.compile(r"^\s+Type\s*:\s*['\"]?([A-Za-z0-9:]+)")
_SNIPPET_JSON_TYPE = re.compile(r'"type"\s*:\s*"([^"]+)"')
_HELP_RESOURCE = re.compile(r"^Resource:[ \t]*(.+?)[ \t]*$", re.M)


def _snippet(res: dict[str, Any]) -> str:
    for loc in res.get("locations") or ():
        region = ((loc or {}).get("physicalLocation") or {}).get("region") or {}
        text_ = (region.get("snippet") or {}).get("text")
        if text_:
            return str(text_)
    return ""


def _snippet_resource(snippet: str) -> str | None:
    """The resource a checkov code snippet shows, in checkov's own spelling: a CloudFormation/SAM/Serverless
    ``Type.LogicalId`` (or the bare key, e.g. a Serverless function), a Terraform ``type.name``, a module call's
    name, ``provider.default``, a Bicep ``type.symbolicName``. None for an ARM JSON block (checkov names
    those by their evaluated ``name``, which the snippet does not show)."""
    lines = snippet.splitlines()
    if not lines:
        return None
    tf = _SNIPPET_TF.match(lines[0])
    if tf:
        kind, a, b = tf.groups()
        return f"{a}.default" if kind == "provider" else a if kind == "module" or not b else f"{a}.{b}"
    bicep = _SNIPPET_BICEP.match(lines[0])
    if bicep:
        return f"{bicep.group(2)}.{bicep.group(1)}"
    key = _SNIPPET_KEY.match(lines[0])
    if key:
        indent = len(lines[0]) - len(lines[0].lstrip())
        for nxt in lines[1:]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                break
            typ = _SNIPPET_TYPE.match(nxt)
            if typ:
                return f"{typ.group(1)}.{key.group(1)}"
        return key.group(1)
    return None


def _checkov_subject(run: dict[str, Any], driver: dict[str, Any]) -> _Subject:
    """Checkov's SARIF names no resource per result (its JSON, JUnit and CycloneDX do): the resource is read
    from the code snippet (:func:`_snippet_resource`). For a snippet that does not show it (ARM JSON), the
    rule's help text, which names the resource of one result of the rule, is used when that can only be this
    result: the run's only result of the rule whose snippet shows no resource, of the type the help names,
    and the help does not name a resource another result's snippet shows. (A SARIF too big to read whole is
    streamed, and only the snippets are read.)"""
    helps: dict[str, str] = {}
    results = run.get("results")
    if isinstance(results, list):
        shown: dict[str, set[str]] = {}
        unshown: dict[str, list[str]] = {}
        for r in results:
            if isinstance(r, dict) and isinstance(r.get("ruleId"), str):
                snip = _snippet(r)
                found = _snippet_resource(snip)
                if found is None:
                    unshown.setdefault(r["ruleId"], []).append(snip)
                else:
                    shown.setdefault(r["ruleId"], set()).add(found)
        for rule in driver.get("rules") or ():
            rid = rule.get("id") if isinstance(rule, dict) else None
            help_ = _HELP_RESOURCE.search(str((rule.get("help") or {}).get("text") or "")) if rid else None
            snips = unshown.get(rid or "") or []
            if help_ and len(snips) == 1 and help_.group(1) not in shown.get(rid or "", ()):
                typ = _SNIPPET_JSON_TYPE.search(snips[0])
                if typ and help_.group(1).startswith(typ.group(1) + "."):
                    helps[str(rid)] = help_.group(1)

    def subject(res: dict[str, Any], logical: str | None, line: int | None) -> tuple[str | None, int | None]:
        if logical:
            return logical, line
        return _snippet_resource(_snippet(res)) or helps.get(str(res.get("ruleId"))), line

    return subject


_TRIVY_PACKAGE = re.compile(r"^Package: (.+)\nInstalled Version: (.+)$", re.M)


def _trivy_package(res: dict[str, Any], logical: str | None, line: int | None) -> tuple[str | None, int | None]:
    """Trivy's SARIF puts a vulnerable package in the message text and a dummy ``1:1`` region on it; its JSON
    names the package and no line. The package becomes the resource (``name@version``, as the JSON parser
    spells it) and the dummy line is dropped."""
    msg = res.get("message")
    found = _TRIVY_PACKAGE.search(str(msg.get("text") or "")) if isinstance(msg, dict) else None
    if found is None:
        return logical, line
    return f"{found.group(1).strip()}@{found.group(2).strip()}", None


def _trivy_subject(run: dict[str, Any], driver: dict[str, Any]) -> _Subject:
    return _trivy_package


#: Per tool: how its SARIF results name what the tool's other formats name (see prepare.SUBJECT_KEYS); made
#: once per run from the run (its results when it was read whole) and its driver.
_SUBJECT: dict[str, Callable[[dict[str, Any], dict[str, Any]], _Subject]] = {
    "checkov": _checkov_subject,
    "trivy": _trivy_subject,
}


def _method(value: Any) -> str | None:
    m = str(value).upper() if isinstance(value, str) else None
    return m if m in ("TEST", "EXAMINE", "INTERVIEW") else None


def _num(value: Any) -> float | None:
    try:
        return float(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _cwe_taxa(run: dict[str, Any]) -> dict[tuple[str, int | None], str]:
    """(taxon id, index) -> "CWE-n" for taxonomies named CWE."""
    out: dict[tuple[str, int | None], str] = {}
    for tax in run.get("taxonomies") or []:
        if str(tax.get("name", "")).upper() != "CWE":
            continue
        for j, t in enumerate(tax.get("taxa") or []):
            found = cwes(str(t.get("id", "")))
            if found:
                out[(str(t.get("id")), j)] = found[0]
                out[(str(t.get("id")), None)] = found[0]
    return out


def _rule(
    rule: dict[str, Any], taxa: dict[tuple[str, int | None], str]
) -> tuple[str | None, str | None, str | None, tuple[str, ...], str | None]:
    rid = text(rule.get("id"))
    short = rule.get("shortDescription") or {}
    title = text(rule.get("name") if not isinstance(short, dict) or not short.get("text") else short.get("text")) or text(
        rule.get("name")
    )
    level = (rule.get("defaultConfiguration") or {}).get("level")
    props = rule.get("properties") or {}
    found = list(cwes(props.get("tags"), props.get("cwe")))
    for rel in rule.get("relationships") or []:
        target = rel.get("target") or {}
        if str((target.get("toolComponent") or {}).get("name", "")).upper() == "CWE":
            hit = taxa.get((str(target.get("id")), as_int(target.get("index")))) or next(
                iter(cwes(str(target.get("id", "")))), None
            )
            if hit:
                found.append(hit)
    sev = severity(_num(props.get("security-severity"))) if props.get("security-severity") else None
    return rid, title, level, tuple(dict.fromkeys(found)), sev


def _location(res: dict[str, Any]) -> tuple[str | None, int | None, str | None]:
    """(file, line, logical location) of a result's first location that has them."""
    locs = res.get("locations")
    if type(locs) is list and len(locs) == 1:  # the common shape: one physical location, no logical one
        loc = locs[0]
        if type(loc) is dict and not loc.get("logicalLocations"):
            phys = loc.get("physicalLocation")
            if not phys:
                return None, None, None
            art = phys.get("artifactLocation")
            uri = relpath(art.get("uri")) if art else None
            region = phys.get("region")
            line = region.get("startLine") if region else None
            return uri, line if type(line) is int else as_int(line), None
    uri = None
    line = None
    logical: str | None = None
    for loc in locs or ():
        if not isinstance(loc, dict):
            continue
        phys = loc.get("physicalLocation")
        if phys and uri is None and line is None:
            uri = relpath((phys.get("artifactLocation") or {}).get("uri"))
            line = as_int((phys.get("region") or {}).get("startLine"))
        if logical is None:
            for ll in loc.get("logicalLocations") or ():
                logical = text(ll.get("fullyQualifiedName") or ll.get("name"))
                if logical:
                    break
    return uri, line, logical


def _check_version(version: Any, ctx: ParseContext) -> None:
    """Only SARIF 2.1.0 is read: SARIF 1.0.0 and the 2.0.0 drafts name result locations and rules differently
    (``resultFile``, ``fileLocation``), so their findings would lose their files. A file that states no
    version is read as 2.1.0."""
    if version is None:
        return
    v = str(version).strip()
    if not v.startswith("2.1"):
        raise ctx.error(
            f"SARIF version {v} is not read (only 2.1.0): convert it, e.g. with the SARIF Multitool", pointer="/version"
        )


FORMAT = Sarif()
