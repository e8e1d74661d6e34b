"""Scanner rules -> mitigations (mappings/rules/*.yaml) and the corpus rule-id helper (tools/corpus_rule_ids.py)."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest

from compliance.kb import load
from compliance.kb.load import KB
from compliance.kb.model import EdgeKind, NodeKind, Relationship, Rule
from compliance.kb.validate import validate

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RULES_CSV = SHARED / "reference" / "scanner-rules.csv"
CORPUS = SHARED / "corpus"
RULES_DIR = ROOT / "mappings" / "rules"

#: Canonical tool names shared by KB rule ids and the evidence parsers.
TOOLS = {
    "checkov", "prowler", "bandit", "cfn_nag", "trivy", "kics", "semgrep", "cfn-lint", "gitleaks", "cfn-guard", "tfsec",
    "codeql", "guardduty", "inspector", "aws-config", "securityhub", "gcp-scc", "osv-scanner", "pip-audit", "grype",
    "cyclonedx", "junit", "sckb-attestation",
}  # fmt: skip


@pytest.fixture(scope="module")
def kb() -> KB:
    return load()


@pytest.fixture(scope="module")
def rules(kb: KB) -> dict[str, Rule]:
    """The scanner rules curated in mappings/rules/<tool>.yaml, one file per canonical tool (other stages may
    declare rules of their own, e.g. design checks, which these tests leave alone)."""
    out: dict[str, Rule] = {}
    for entry in kb.of_kind(NodeKind.RULE):
        assert isinstance(entry.record, Rule)
        origin = Path(entry.origin.file)
        if origin.parent.name == "rules" and origin.stem in TOOLS:
            out[entry.id] = entry.record
    assert len(out) > 431
    return out


@pytest.fixture(scope="module")
def csv_rows() -> list[dict[str, str]]:
    if not RULES_CSV.is_file():
        pytest.skip("../shared/reference/scanner-rules.csv is not beside the checkout")
    with RULES_CSV.open(encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def _evidences(kb: KB, rule_id: str) -> dict[str, str]:
    """mitigation id -> relationship for a rule's evidences edges."""
    return {e.target: str(e.relationship) for e in kb.edges.values() if e.kind is EdgeKind.EVIDENCES and e.source == rule_id}


def _corpus_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_rule_ids", ROOT / "tools" / "corpus_rule_ids.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---- the published rule list is fully represented ------------------------------------------------


def test_every_csv_rule_has_a_kb_rule_with_same_tool_id_and_title(csv_rows: list[dict[str, str]], rules: dict[str, Rule]) -> None:
    assert len(csv_rows) == 431
    missing, wrong = [], []
    for row in csv_rows:
        rec = rules.get(f"{row['tool']}:{row['rule_id']}")
        if rec is None:
            missing.append(f"{row['tool']}:{row['rule_id']}")
        elif (rec.tool, rec.rule_id, rec.title) != (row["tool"], row["rule_id"], row["title"]):
            wrong.append(rec.id)
    assert not missing, missing
    assert not wrong, wrong


def test_csv_facts_carried_over(csv_rows: list[dict[str, str]], rules: dict[str, Rule]) -> None:
    for row in csv_rows:
        rec = rules[f"{row['tool']}:{row['rule_id']}"]
        assert rec.severity == (row["severity"] or None), rec.id
        assert rec.cwes == ([row["cwe"]] if row["cwe"] else []), rec.id
        assert rec.source == row["source"], rec.id
        long_id = re.search(r"long id: ([a-z0-9-]+)", row["other_mappings"])
        if long_id:  # trivy: the legacy tfsec-style id is an alias
            assert long_id.group(1) in rec.aliases, rec.id


def test_at_least_95_percent_of_csv_rules_map_and_every_not_applicable_says_why(
    csv_rows: list[dict[str, str]], rules: dict[str, Rule]
) -> None:
    recs = [rules[f"{r['tool']}:{r['rule_id']}"] for r in csv_rows]
    mapped = [r for r in recs if r.mitigations]
    na = [r for r in recs if not r.mitigations]
    assert len(mapped) / len(recs) >= 0.95, f"{len(mapped)}/{len(recs)} mapped"
    assert len(na) <= 21
    for r in na:
        assert r.not_applicable and len(r.not_applicable) > 40, f"{r.id}: not_applicable needs a real reason"
    for r in mapped:
        assert r.not_applicable is None, f"{r.id} maps and is also marked not applicable"


def test_not_applicable_rules_are_not_reported_as_orphans(kb: KB) -> None:
    problems = [str(p) for p in validate(kb) if Path(p.file).parent.name == "rules" and Path(p.file).stem in TOOLS]
    assert problems == []


# ---- link quality ----------------------------------------------------------------------------------


def test_every_rule_link_has_relationship_rationale_and_source(kb: KB, rules: dict[str, Rule]) -> None:
    for rec in rules.values():
        seen_rationales: set[str] = set()
        for link in rec.mitigations:
            assert isinstance(link.relationship, Relationship)
            assert len(link.rationale) >= 30 and link.rationale.endswith("."), f"{rec.id} -> {link.to}: {link.rationale!r}"
            assert link.rationale != rec.title
            assert link.rationale not in seen_rationales, f"{rec.id}: the same rationale for two mitigations"
            seen_rationales.add(link.rationale)
            assert "sckb judgement" in link.source, f"{rec.id} -> {link.to}: source must say it is our judgement"
    edges = [e for e in kb.edges.values() if e.kind is EdgeKind.EVIDENCES and e.source in rules]
    assert len(edges) >= 500
    for e in edges:
        assert e.relationship and e.rationale and e.ref, e.key


def test_every_named_mitigation_exists_in_the_kb(kb: KB, rules: dict[str, Rule]) -> None:
    mitigations = {n.id for n in kb.of_kind(NodeKind.MITIGATION)}
    if not mitigations:
        pytest.skip("the mitigation files (mappings/mitigations/*.yaml) are not in the KB yet")
    named = {link.to for r in rules.values() for link in r.mitigations}
    assert named - mitigations == set()
    assert len(named) >= 45, "rules should spread over most of the catalogue"


def test_named_cwes_exist_as_cwe_nodes(kb: KB, rules: dict[str, Rule]) -> None:
    cwes = {n.id for n in kb.of_kind(NodeKind.CWE)}
    for rec in rules.values():
        assert set(rec.cwes) <= cwes, rec.id


def test_prowler_mappings_cited_in_rationales_are_the_ones_prowler_publishes(
    csv_rows: list[dict[str, str]], rules: dict[str, Rule]
) -> None:
    """A rationale that quotes Prowler's NIST/HIPAA mapping must quote it correctly (a cross-check, not a copy)."""
    cited = 0
    for row in csv_rows:
        if row["tool"] != "prowler":
            continue
        base = {x.strip() for x in row["mapped_800_53_base"].split(";") if x.strip()}
        hipaa = {x.strip() for x in row["mapped_hipaa"].split(";") if x.strip()}
        for link in rules[f"prowler:{row['rule_id']}"].mitigations:
            if "Prowler" not in link.rationale:
                continue
            cited += 1
            tail = link.rationale[link.rationale.index("Prowler") :]
            assert set(re.findall(r"\b([A-Z]{2}-\d+(?:\(\d+\))?)", tail)) <= base, link.rationale
            assert set(re.findall(r"(164\.3\d\d(?:\([A-Za-z0-9]+\))+)", tail)) <= hipaa, link.rationale
            assert "cross-checked with prowler/compliance/aws/" in link.source
    assert cited >= 10


@pytest.mark.parametrize(
    ("rule_id", "mitigation"),
    [
        ("checkov:CKV_AWS_45", "secrets-in-secrets-manager"),
        ("prowler:awslambda_function_no_secrets_in_variables", "secrets-in-secrets-manager"),
        ("checkov:CKV_AWS_50", "distributed-tracing"),
        ("trivy:AVD-AWS-0066", "distributed-tracing"),
        ("kics:8152e0cf-d2f0-47ad-96d5-d003a76eabd1", "distributed-tracing"),
        ("checkov:CKV_AWS_116", "dead-letter-queues-and-retries"),
        ("prowler:awslambda_function_no_dead_letter_queue", "dead-letter-queues-and-retries"),
        ("checkov:CKV_AWS_115", "reserved-concurrency-limits"),
        ("cfn_nag:W92", "reserved-concurrency-limits"),
        ("bandit:B602", "no-os-command-injection"),
        ("bandit:B608", "parameterized-queries"),
        ("bandit:B301", "safe-deserialization"),
        ("bandit:B506", "safe-deserialization"),
        ("checkov:CKV_AWS_258", "function-url-authentication"),
        ("prowler:awslambda_function_url_public", "function-url-authentication"),
        ("checkov:CKV_AWS_173", "encrypt-environment-variables"),
        ("checkov:CKV_AWS_158", "encrypt-phi-logs"),
        ("checkov:CKV_AWS_272", "code-signing"),
        ("checkov:CKV_AWS_363", "supported-runtimes"),
        ("cfn_nag:F13", "restrictive-resource-policies"),
        ("checkov:CKV2_AWS_29", "waf-on-public-endpoints"),
        ("checkov:CKV2_AWS_53", "api-request-validation"),
        ("checkov:CKV_AWS_49", "no-wildcard-permissions"),
        ("semgrep:python.aws-lambda.security.tainted-sql-string.tainted-sql-string", "parameterized-queries"),
        ("semgrep:python.aws-lambda.security.requests-ssrf.requests-ssrf", "ssrf-and-metadata-protection"),
        ("tfsec:aws-lambda-restrict-source-arn", "restrictive-resource-policies"),
        ("gitleaks:aws-access-token", "secret-scanning"),
    ],
)
def test_hand_checked_mappings(kb: KB, rule_id: str, mitigation: str) -> None:
    assert _evidences(kb, rule_id).get(mitigation) in {"subset-of", "equal"}, f"{rule_id} should evidence {mitigation}"


@pytest.mark.parametrize(
    ("rule_id", "wrong"),
    [
        ("bandit:B602", "secrets-in-secrets-manager"),
        ("checkov:CKV_AWS_45", "distributed-tracing"),
        ("checkov:CKV_AWS_115", "dead-letter-queues-and-retries"),
    ],
)
def test_no_obviously_wrong_links(kb: KB, rule_id: str, wrong: str) -> None:
    assert wrong not in _evidences(kb, rule_id)


# ---- ids, aliases and tool-wide fallbacks ----------------------------------------------------------


def test_rule_ids_use_canonical_tool_names_and_aliases_are_unambiguous(rules: dict[str, Rule]) -> None:
    per_tool: dict[str, dict[str, str]] = defaultdict(dict)
    for rec in rules.values():
        assert rec.tool in TOOLS, rec.id
        assert rec.id == f"{rec.tool}:{rec.rule_id}"
        for name in [rec.rule_id, *rec.aliases]:
            other = per_tool[rec.tool].get(name)
            assert other is None, f"{rec.tool} id or alias {name!r} names both {other} and {rec.id}"
            per_tool[rec.tool][name] = rec.id


@pytest.mark.parametrize(
    ("tool", "mitigation"),
    [
        ("pip-audit", "dependency-vulnerability-scanning"),
        ("osv-scanner", "dependency-vulnerability-scanning"),
        ("grype", "dependency-vulnerability-scanning"),
        ("cyclonedx", "dependency-vulnerability-scanning"),
        ("inspector", "dependency-vulnerability-scanning"),
        ("gitleaks", "secret-scanning"),
        ("guardduty", "runtime-threat-detection"),
        ("bandit", "static-analysis-of-function-code"),
        ("checkov", "policy-as-code-at-deploy"),
        ("prowler", "configuration-drift-monitoring"),
    ],
)
def test_tool_wide_fallbacks(kb: KB, rules: dict[str, Rule], tool: str, mitigation: str) -> None:
    rec = rules[f"{tool}:*"]
    assert rec.rule_id == "*" and rec.not_applicable is None
    assert mitigation in _evidences(kb, rec.id)


def test_no_fallback_for_tools_whose_findings_mean_different_things(rules: dict[str, Rule]) -> None:
    # trivy reports CVEs, IaC misconfigurations and secrets; cfn-lint mostly template correctness
    assert "trivy:*" not in rules
    assert "cfn-lint:*" not in rules


def test_trivy_short_ids_and_semgrep_folder_ids_are_aliases(rules: dict[str, Rule]) -> None:
    assert "AWS-0066" in rules["trivy:AVD-AWS-0066"].aliases
    assert "aws-lambda-enable-tracing" in rules["trivy:AVD-AWS-0066"].aliases
    assert "AVD-AWS-0066" in rules["tfsec:aws-lambda-enable-tracing"].aliases
    eval_rule = rules["semgrep:python.lang.security.audit.eval-detected.eval-detected"]
    assert "semgrep-rules.python.lang.security.audit.eval-detected" in eval_rule.aliases


def test_rule_files_are_one_per_tool() -> None:
    for path in RULES_DIR.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        tools = set(re.findall(r"^    tool: (\S+)$", text, flags=re.M))
        assert tools == {path.stem}, path.name


# ---- the corpus: real scanner output maps ----------------------------------------------------------


def test_corpus_rule_ids_reads_each_format(tmp_path: Path) -> None:
    mod = _corpus_tool()
    (tmp_path / "bandit-json").mkdir()
    (tmp_path / "bandit-json" / "a.json").write_text(
        json.dumps({"results": [{"test_id": "B602"}, {"test_id": "B602"}, {"test_id": "B101"}]})
    )
    (tmp_path / "checkov-json").mkdir()
    checkov = [
        {"results": {"failed_checks": [{"check_id": "CKV_AWS_45"}], "passed_checks": [{"check_id": "CKV_AWS_50"}]}},
        {"passed": 0, "failed": 0},
    ]
    (tmp_path / "checkov-json" / "b.json").write_text(json.dumps(checkov))
    (tmp_path / "asff-json").mkdir()
    url_public = {"GeneratorId": "prowler-awslambda_function_url_public", "ProductArn": "x", "Compliance": {"Status": "FAILED"}}
    passed = {"GeneratorId": "prowler-x", "ProductArn": "x", "Compliance": {"Status": "PASSED"}}
    guardduty = {"GeneratorId": "d", "ProductArn": "p/aws/guardduty", "Types": ["TTPs/Recon:EC2-Portscan"]}
    asff = {"Findings": [url_public, passed, guardduty]}
    (tmp_path / "asff-json" / "c.json").write_text(json.dumps(asff))
    (tmp_path / "openvex-json").mkdir()  # statements, not findings: ignored
    (tmp_path / "openvex-json" / "d.json").write_text("{}")
    counts = mod.collect(tmp_path)
    assert counts == {
        ("bandit", "B602"): 2,
        ("bandit", "B101"): 1,
        ("checkov", "CKV_AWS_45"): 1,
        ("prowler", "awslambda_function_url_public"): 1,
        ("guardduty", "Recon:EC2-Portscan"): 1,
    }
    assert mod.collect(tmp_path, passes=True)[("checkov", "CKV_AWS_50")] == 1


def test_corpus_script_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mod = _corpus_tool()
    (tmp_path / "gitleaks-json").mkdir()
    (tmp_path / "gitleaks-json" / "a.json").write_text(json.dumps([{"RuleID": "generic-api-key"}, {"RuleID": "odd rule!"}]))
    assert mod.main([str(tmp_path), "--kb"]) == 0
    out = capsys.readouterr().out
    assert "gitleaks\tgeneric-api-key\t1\texact" in out
    assert "gitleaks\todd-rule-\t1\tfallback" in out  # characters outside the KB id set become '-'
    assert "mapped 100.0%" in out
    assert mod.main([str(tmp_path / "missing")]) == 2


def test_most_real_corpus_findings_map_to_a_mitigation() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not beside the checkout")
    mod = _corpus_tool()
    counts = mod.collect(CORPUS)
    exact, fallbacks = mod.kb_index()
    total = sum(counts.values())
    n_exact = sum(n for pair, n in counts.items() if pair in exact)
    n_fallback = sum(n for (tool, rule), n in counts.items() if (tool, rule) not in exact and tool in fallbacks)
    assert total > 900
    assert (n_exact + n_fallback) / total >= 0.95
    assert n_exact / total >= 0.7, "most findings should map through a rule of their own, not a fallback"
    # the serverless-specific checks seen in real output all map exactly
    for pair in [("checkov", "CKV_AWS_116"), ("checkov", "CKV_AWS_173"), ("cfn-lint", "W2531"), ("bandit", "B603"),
                 ("semgrep", "semgrep-rules.python.lang.security.audit.dangerous-subprocess-use-audit"),
                 ("tfsec", "aws-cloudwatch-log-group-customer-key"), ("prowler", "cloudtrail_multi_region_enabled")]:  # fmt: skip
        assert pair in counts and pair in exact, pair
