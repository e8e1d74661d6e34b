"""Dev helper: list the (tool, rule id, count) pairs that occur in a scanner-output corpus.

Reads the corpus layout of ``../shared/corpus`` (``<format>/<file>`` plus ``MANIFEST.tsv``) and prints one
tab-separated row per (tool, rule id) with the number of *findings* (failed checks, vulnerabilities,
leaks; passes only with ``--passes``). With ``--kb`` it also says how each pair maps in the loaded KB:
``exact`` (rule id or alias), ``fallback`` (``tool:*``) or ``-``, and prints the mapped share.

Only one format per tool family is read, so a finding is not counted twice: SARIF, JUnit and
checkov's CycloneDX output repeat what the JSON files of the same runs hold, and OpenVEX files
are statements, not findings.

    .venv/bin/python tools/corpus_rule_ids.py [CORPUS_DIR] [--kb] [--passes]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Pair = tuple[str, str]
_BAD = re.compile(r"[^A-Za-z0-9_.:()\-/*]")


def _norm(rule_id: str) -> str:
    return _BAD.sub("-", rule_id.strip())


def _json(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError:  # prowler 2.x NDJSON
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _checkov(d: Any, passes: bool) -> Iterator[Pair]:
    for rep in d if isinstance(d, list) else [d]:
        results = rep.get("results") or {}
        keys = ["failed_checks"] + (["passed_checks"] if passes else [])
        for key in keys:
            for r in results.get(key, []):
                yield "checkov", r["check_id"]


def _semgrep(d: Any, passes: bool) -> Iterator[Pair]:
    for r in d.get("results", []):
        yield "semgrep", r["check_id"]


def _cfn_lint(d: Any, passes: bool) -> Iterator[Pair]:
    for r in d or []:
        yield "cfn-lint", r["Rule"]["Id"]


def _cfn_nag(d: Any, passes: bool) -> Iterator[Pair]:
    for f in d:
        for v in f["file_results"]["violations"]:
            for _ in v.get("logical_resource_ids") or [None]:
                yield "cfn_nag", v["id"]


def _kics(d: Any, passes: bool) -> Iterator[Pair]:
    for q in d.get("queries", []):
        for _ in q.get("files", []):
            yield "kics", q["query_id"]


def _trivy(d: Any, passes: bool) -> Iterator[Pair]:
    results = d if isinstance(d, list) else d.get("Results") or []
    for r in results:
        for v in r.get("Vulnerabilities") or []:
            yield "trivy", v.get("VulnerabilityID") or "?"
        for m in r.get("Misconfigurations") or []:
            if m.get("Status", "FAIL") == "FAIL" or passes:
                yield "trivy", m.get("AVDID") or m["ID"]
        for s in r.get("Secrets") or []:
            yield "trivy", s["RuleID"]


def _tfsec(d: Any, passes: bool) -> Iterator[Pair]:
    for r in d.get("results") or []:
        yield "tfsec", r.get("long_id") or r["rule_id"]


def _gitleaks(d: Any, passes: bool) -> Iterator[Pair]:
    for r in d or []:
        yield "gitleaks", r["RuleID"]


def _prowler_ocsf(d: Any, passes: bool) -> Iterator[Pair]:
    for r in d:
        if r.get("status_code") == "FAIL" or passes:
            yield "prowler", r["metadata"]["event_code"]


def _prowler_legacy(d: Any, passes: bool) -> Iterator[Pair]:
    for r in d:
        status = str(r.get("Status", "")).upper()
        if status == "FAIL" or passes:
            if "CheckID" in r:
                yield "prowler", r["CheckID"]
            else:
                m = re.match(r"\[(\w+)\]", r.get("Control", ""))
                yield "prowler", m.group(1) if m else r.get("Control ID", "?")


def _prowler_csv(path: Path, passes: bool) -> Iterator[Pair]:
    text = path.read_text(encoding="utf-8")
    delim = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    for row in csv.DictReader(io.StringIO(text), delimiter=delim):
        status = (row.get("STATUS") or row.get("CHECK_RESULT") or "").upper()
        if status != "FAIL" and not passes:
            continue
        if row.get("CHECK_ID"):
            yield "prowler", row["CHECK_ID"]
        else:
            m = re.match(r"\[(\w+)\]", row.get("TITLE_TEXT", ""))
            yield "prowler", m.group(1) if m else row.get("TITLE_ID", "?")


def _asff(d: Any, passes: bool) -> Iterator[Pair]:
    findings = d if isinstance(d, list) else d.get("Findings") or d.get("findings") or []
    for f in findings:
        status = (f.get("Compliance") or {}).get("Status")
        if status not in (None, "FAILED", "WARNING") and not passes:
            continue
        product = f.get("ProductArn", "")
        gen = f.get("GeneratorId", "")
        if gen.startswith("prowler-"):
            yield "prowler", gen[len("prowler-") :]
        elif "/guardduty" in product:
            yield "guardduty", (f.get("Types") or ["?"])[0].rsplit("/", 1)[-1]
        elif "/inspector" in product:
            vulns = f.get("Vulnerabilities") or [{}]
            yield "inspector", vulns[0].get("Id") or f.get("Title", "?").split(" ")[0]
        elif "aquasecurity" in product:
            yield "trivy", gen.split("/", 1)[-1]
        elif "/securityhub" in product:
            yield "securityhub", (f.get("ProductFields") or {}).get("ControlId") or gen
        else:
            yield "asff", gen


def _pip_audit(d: Any, passes: bool) -> Iterator[Pair]:
    deps = d if isinstance(d, list) else d.get("dependencies", [])
    for dep in deps:
        for v in dep.get("vulns") or []:
            yield "pip-audit", v["id"]


def _osv(d: Any, passes: bool) -> Iterator[Pair]:
    for res in d.get("results", []):
        for pkg in res.get("packages", []):
            groups = pkg.get("groups") or [{"ids": [v["id"]]} for v in pkg.get("vulnerabilities", [])]
            for g in groups:
                yield "osv-scanner", g["ids"][0]


def _cyclonedx(d: Any, passes: bool) -> Iterator[Pair]:
    tools = (d.get("metadata") or {}).get("tools") or []
    names = json.dumps(tools).lower()
    if "checkov" in names:  # the same failed checks as checkov's JSON output of that run
        return
    tool = "grype" if "grype" in names else "trivy" if "trivy" in names else "cyclonedx"
    for v in d.get("vulnerabilities") or []:
        yield tool, v.get("id", "?")


def _cfn_guard(d: Any, passes: bool) -> Iterator[Pair]:
    for rep in d if isinstance(d, list) else [d]:
        for nc in rep.get("not_compliant") or []:
            rule = nc.get("Rule") or {}
            yield "cfn-guard", rule.get("name", "?")


READERS = {
    "checkov-json": _checkov,
    "semgrep-json": _semgrep,
    "cfn-lint-json": _cfn_lint,
    "cfn-nag-json": _cfn_nag,
    "kics-json": _kics,
    "trivy-json": _trivy,
    "tfsec-json": _tfsec,
    "gitleaks-json": _gitleaks,
    "prowler-ocsf-json": _prowler_ocsf,
    "prowler-json-legacy": _prowler_legacy,
    "asff-json": _asff,
    "bandit-json": lambda d, p: (("bandit", r["test_id"]) for r in d.get("results", [])),
    "pip-audit-json": _pip_audit,
    "osv-scanner-json": _osv,
    "cyclonedx-json": _cyclonedx,
    "cfn-guard-json": _cfn_guard,
}


def collect(corpus: Path, passes: bool = False) -> Counter[Pair]:
    counts: Counter[Pair] = Counter()
    for fmt_dir in sorted(p for p in corpus.iterdir() if p.is_dir()):
        fmt = fmt_dir.name
        for path in sorted(fmt_dir.iterdir()):
            if fmt == "prowler-csv":
                pairs: Iterator[Pair] = _prowler_csv(path, passes)
            elif fmt in READERS:
                data = _json(path)
                if data is None:
                    continue
                pairs = READERS[fmt](data, passes)
            else:
                continue
            for tool, rule in pairs:
                counts[(tool, _norm(rule))] += 1
    return counts


def kb_index() -> tuple[dict[Pair, str], set[str]]:
    """(tool, rule id or alias) -> KB rule id; and the tools with a ``tool:*`` fallback."""
    from compliance.kb.load import load
    from compliance.kb.model import NodeKind, Rule

    kb = load()
    exact: dict[Pair, str] = {}
    fallbacks: set[str] = set()
    for entry in kb.of_kind(NodeKind.RULE):
        rec = entry.record
        assert isinstance(rec, Rule)
        if rec.rule_id == "*":
            fallbacks.add(rec.tool)
            continue
        for rid in [rec.rule_id, *rec.aliases]:
            exact[(rec.tool, rid)] = rec.id
    return exact, fallbacks


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
    ap.add_argument("corpus", nargs="?", type=Path, default=default)
    ap.add_argument("--kb", action="store_true", help="say how each pair maps in the shipped KB")
    ap.add_argument("--passes", action="store_true", help="count passed checks too")
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus_rule_ids: error: {args.corpus}: not a directory", file=sys.stderr)
        return 2
    counts = collect(args.corpus, args.passes)
    exact, fallbacks = kb_index() if args.kb else ({}, set())
    mapped: Counter[str] = Counter()
    for (tool, rule), n in sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
        how = ""
        if args.kb:
            how = "exact" if (tool, rule) in exact else "fallback" if tool in fallbacks else "-"
            mapped[how] += n
        print(f"{tool}\t{rule}\t{n}" + (f"\t{how}" if args.kb else ""))
    total = sum(counts.values())
    summary = f"# {len(counts)} (tool, rule) pairs, {total} findings"
    if args.kb and total:
        share = (mapped["exact"] + mapped["fallback"]) / total
        summary += f"; mapped {share:.1%} (exact {mapped['exact']}, fallback {mapped['fallback']}, unmapped {mapped['-']})"
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
