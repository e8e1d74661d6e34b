"""Every file of ../shared/corpus ingests, and its finding counts match MANIFEST.tsv exactly, per file.

The MANIFEST ``findings`` column is worded per format (see corpus/FORMATS.md, "The findings column");
``expected()`` turns each wording into the counts sckb must report: failed, passed, other (error + info),
or only the total where the column gives no split.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from compliance.evidence.ingest import Ingester
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

#: status words of the MANIFEST histograms -> sckb result bucket
BUCKET = {
    "FAIL": "failed", "FAILED": "failed", "WARNING": "failed", "n/a": "failed", "-": "failed", "fail": "failed",
    "affected": "failed",
    "PASS": "passed", "PASSED": "passed", "Pass": "passed", "pass": "passed", "not_affected": "passed", "fixed": "passed",
    "MANUAL": "other", "INFOED": "other", "Info": "other", "NOT_AVAILABLE": "other", "under_investigation": "other",
    "informational": "other", "notApplicable": "other", "review": "other", "open": "other",
}  # fmt: skip


def _hist(text: str, label: str) -> dict[str, int]:
    """{'failed': n, 'passed': n, 'other': n} from "(label: A=1,B=2)" in the column."""
    m = re.search(re.escape(label) + r":\s*([^;)]*)", text)
    out = {"failed": 0, "passed": 0, "other": 0}
    if m:
        for part in filter(None, (p.strip() for p in m.group(1).split(","))):
            word, n = part.rsplit("=", 1)
            out[BUCKET[word.strip()]] += int(n)
    return out


def _paren(text: str) -> dict[str, int]:
    """The histogram in the first parentheses: "rows=4 (FAIL=2,MANUAL=2)"."""
    out = {"failed": 0, "passed": 0, "other": 0}
    m = re.search(r"\(([^)]*)\)", text)
    for part in filter(None, (p.strip() for p in (m.group(1) if m else "").split(","))):
        word, n = part.rsplit("=", 1)
        out[BUCKET[word.strip()]] += int(n)
    return out


def _num(text: str, key: str) -> int:
    return sum(int(x) for x in re.findall(rf"\b{key}=(\d+)", text))


def _checkov(t: str) -> dict[str, int]:
    return {"failed": _num(t, "failed"), "passed": _num(t, "passed"), "other": _num(t, "skipped") + _num(t, "parsing_errors")}


def _sarif(t: str) -> dict[str, int]:
    got = _hist(t, "kind")
    assert sum(got.values()) == _num(t, "results")
    return got


def _junit(t: str) -> dict[str, int]:
    return {"failed": _num(t, "failure_elements"), "passed": _num(t, "passed"), "other": _num(t, "skipped") + _num(t, "errors")}


def _fails(key: str, other: str | None = None) -> Callable[[str], dict[str, int]]:
    return lambda t: {"failed": _num(t, key), "passed": 0, "other": _num(t, other) if other else 0}


def _cfn_nag(t: str) -> dict[str, int]:
    hist = json.loads(t.split("=", 2)[-1]) if "{" in t else {}
    return {"failed": sum(hist.values()), "passed": 0, "other": 0}


def _gitleaks(t: str) -> dict[str, int]:
    # "(could not count: TypeError: object of type 'NoneType' has no len())": the file is `null`, no leaks
    return {"failed": 0 if "NoneType" in t else _num(t, "findings"), "passed": 0, "other": 0}


def _trivy(t: str) -> dict[str, int]:
    m = re.search(r"misconfigurations=\d+ \(([^)]*)\)", t)
    mis = {"failed": 0, "passed": 0, "other": 0}
    if m:
        for part in filter(None, m.group(1).split(",")):
            word, n = part.split("=")
            mis[BUCKET[word]] += int(n)
    return {
        "failed": _num(t, "vulnerabilities") + mis["failed"] + _num(t, "secrets"),
        "passed": mis["passed"],
        "other": mis["other"],
    }


def _total(key: str) -> Callable[[str], dict[str, int]]:
    return lambda t: {"total": _num(t, key)}


EXPECT: dict[str, Callable[[str], dict[str, int]]] = {
    "checkov-json": _checkov,
    "checkov-sarif": _sarif,
    "bandit-sarif": _sarif,
    "semgrep-sarif": _sarif,
    "cfn-lint-sarif": _sarif,
    "cfn-guard-sarif": _sarif,
    "gitleaks-sarif": _sarif,
    "kics-sarif": _sarif,
    "trivy-sarif": _sarif,
    "checkov-junit-xml": _junit,
    "cfn-lint-junit-xml": _junit,
    "cfn-guard-junit-xml": _junit,
    "cyclonedx-json": _total("vulnerabilities"),
    "cfn-lint-json": _fails("matches"),
    "bandit-json": _fails("results", "errors"),
    "semgrep-json": _fails("results", "errors"),
    "cfn-guard-json": lambda t: {"failed": _num(t, "not_compliant_rules")},
    "cfn-nag-json": _cfn_nag,
    "gitleaks-json": _gitleaks,
    "kics-json": _fails("results"),
    "osv-scanner-json": _fails("vulnerabilities"),
    "pip-audit-json": _fails("vulns"),
    "tfsec-json": _fails("results"),
    "prowler-csv": _paren,
    "prowler-json-legacy": lambda t: _hist(t, "Status"),
    "prowler-ocsf-json": lambda t: _hist(t, "status_code"),
    "asff-json": lambda t: _hist(t, "Compliance.Status"),
    "trivy-json": _trivy,
    "openvex-json": _paren,
}


def manifest() -> list[dict[str, str]]:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        return []
    with (CORPUS / "MANIFEST.tsv").open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


ROWS = manifest()


def test_manifest_parser_covers_every_format() -> None:
    if not ROWS:
        pytest.skip("../shared/corpus is not beside the checkout")
    assert {r["format"] for r in ROWS} <= set(EXPECT), "a corpus format has no expectation parser"
    assert len(ROWS) >= 150


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """Ingest the whole corpus once (orjson path) and once more with streaming forced (ijson path)."""
    if not ROWS:
        pytest.skip("../shared/corpus is not beside the checkout")
    out: dict[str, dict[str, object]] = {}
    for mode, threshold in (("whole", 1 << 30), ("stream", 0)):
        ws = tmp_path_factory.mktemp(f"corpus-{mode}")
        with Store.open(ws) as store:
            ing = Ingester(store, Mapper(None), NOW, stream_threshold=threshold)
            by_sha = {}
            for row in ROWS:
                res = ing.ingest_file(CORPUS / row["file"], display=row["file"])
                if res.skipped:  # byte-identical to an earlier corpus file: same counts
                    res = by_sha[res.sha256]
                by_sha[res.sha256] = res
                out[f"{mode}:{row['file']}"] = {"res": res}
    return out


@pytest.mark.parametrize("mode", ["whole", "stream"])
@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_corpus_counts_match_manifest(row: dict[str, str], mode: str, ingested: dict[str, dict[str, object]]) -> None:
    res = ingested[f"{mode}:{row['file']}"]["res"]
    assert res.error is None, res.error  # type: ignore[attr-defined]
    want = EXPECT[row["format"]](row["findings"])
    got = {"failed": res.failed, "passed": res.passed, "other": res.other}  # type: ignore[attr-defined]
    if "total" in want:
        assert sum(got.values()) == want["total"], (row["findings"], got)
    else:
        for key, value in want.items():
            assert got[key] == value, (key, row["findings"], got)


def test_corpus_tools_and_versions(tmp_path: Path) -> None:
    """The tool named in MANIFEST is what sckb records (where MANIFEST names one of ours), and so is the version."""
    if not ROWS:
        pytest.skip("../shared/corpus is not beside the checkout")
    canonical = {"checkov", "bandit", "semgrep", "cfn-lint", "cfn_nag", "kics", "gitleaks", "trivy", "prowler", "tfsec",
                 "osv-scanner", "pip-audit", "cfn-guard"}  # fmt: skip
    with Store.open(tmp_path / "ws") as store:
        ing = Ingester(store, Mapper(None), NOW)
        checked = 0
        for row in ROWS:
            res = ing.ingest_file(CORPUS / row["file"], display=row["file"])
            if res.skipped or res.findings == 0 or row["tool"] not in canonical:
                continue
            assert res.tool == row["tool"], (row["file"], res.tool)
            checked += 1
        assert checked > 100
        versions = {f.name: f.tool_version for f in store.files()}
    assert versions["checkov-json/dvsa__results_json.json"] == "3.3.30"
    assert versions["cfn-lint-sarif/dvsa__cfn-lint.sarif"] == "1.58.0"
    assert versions["semgrep-json/dvsa__semgrep.json"] == "1.185.0"


def test_scan_time_source_is_recorded(tmp_path: Path) -> None:
    if not ROWS:
        pytest.skip("../shared/corpus is not beside the checkout")
    with Store.open(tmp_path / "ws") as store:
        ing = Ingester(store, Mapper(None), NOW)
        for name in (
            "bandit-json/dvsa__bandit.json",
            "checkov-json/dvsa__results_json.json",
            "asff-json/defectdojo-asff__many_vulns.json",
        ):
            assert ing.ingest_file(CORPUS / name, display=name).error is None
        files = {f.name: f for f in store.files()}
    bandit = files["bandit-json/dvsa__bandit.json"]
    assert bandit.scan_time_source == "file" and bandit.scan_time.endswith("Z") and bandit.scan_time != "2026-11-30T09:00:00Z"
    checkov = files["checkov-json/dvsa__results_json.json"]  # checkov JSON carries no time: the ingest time, and it says so
    assert (checkov.scan_time, checkov.scan_time_source) == ("2026-11-30T09:00:00Z", "ingest")
    assert files["asff-json/defectdojo-asff__many_vulns.json"].scan_time == "2023-09-15T07:00:24Z"
