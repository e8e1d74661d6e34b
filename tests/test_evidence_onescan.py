"""One finding per scan whatever the format: the JSON, SARIF, JUnit and CycloneDX outputs of one scan collapse to
one finding identity (every observation and evidence file kept), while distinct findings stay distinct; the
store refuses an older schema without touching it; and scan times say where they came from (file, given, ingest).
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from compliance.cli import main
from compliance.errors import StoreError
from compliance.evidence.ingest import Ingester, identity_of, ingest
from compliance.evidence.mapping import Mapper
from compliance.evidence.parsing import relpath
from compliance.evidence.prepare import resource_key
from compliance.evidence.store import Store

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not here")


@pytest.fixture(autouse=True)
def _shared_kb_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("SCKB_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "evidence-kb-cache"))


def _ingest(ws: Path, *paths: Path, scan_time: datetime | None = None) -> list[Any]:
    with Store.open(ws) as store:
        summary = ingest(store, list(paths), mapper=Mapper(None), now=NOW, jobs=1, scan_time=scan_time)
    for r in summary.results:
        assert r.error is None, r.error
    return summary.results


def _open(ws: Path, tool: str) -> list[Any]:
    with Store.open(ws, create=False) as store:
        return list(store.findings(tool=tool, status="open"))


# --------------------------------------------------------------------------- the real corpus

#: (tool, project, format folders of one scan): every pair the corpus holds for one scan of one project
SCANS = [
    ("checkov", "dvsa", ("checkov-json", "checkov-sarif", "checkov-junit-xml", "cyclonedx-json")),
    ("checkov", "gcp-event-function", ("checkov-json", "checkov-sarif", "checkov-junit-xml", "cyclonedx-json")),
    ("checkov", "tf-aws-lambda", ("checkov-json", "checkov-sarif", "checkov-junit-xml", "cyclonedx-json")),
    ("checkov", "sp-lambda-vpc-secrets-sls", ("checkov-json", "checkov-sarif", "checkov-junit-xml", "cyclonedx-json")),
    ("checkov", "sp-s3-lambda-dynamodb-terraform", ("checkov-json", "checkov-sarif", "checkov-junit-xml")),
    ("checkov", "azarm-function-app-linux-consumption", ("checkov-json", "checkov-sarif", "checkov-junit-xml")),
    (
        "checkov",
        "azarm-function-app-storage-private-endpoints",
        ("checkov-json", "checkov-sarif", "checkov-junit-xml", "cyclonedx-json"),
    ),
    ("checkov", "sp-apigw-s3-lambda-sls-py", ("checkov-json", "checkov-sarif", "checkov-junit-xml")),
    ("cfn-lint", "dvsa", ("cfn-lint-json", "cfn-lint-sarif", "cfn-lint-junit-xml")),
    ("bandit", "dvsa", ("bandit-json", "bandit-sarif")),
    ("bandit", "tf-aws-lambda", ("bandit-json", "bandit-sarif")),
    ("semgrep", "dvsa", ("semgrep-json", "semgrep-sarif")),
    ("semgrep", "tf-aws-lambda", ("semgrep-json", "semgrep-sarif")),
]


def _scan_files(project: str, folders: tuple[str, ...]) -> list[Path]:
    out = []
    for folder in folders:
        found = sorted((CORPUS / folder).glob(f"{project}__*"))
        assert len(found) == 1, (folder, project, found)
        out.append(found[0])
    return out


@needs_corpus
@pytest.mark.parametrize(("tool", "project", "folders"), SCANS, ids=[f"{t}-{p}" for t, p, _ in SCANS])
def test_every_format_of_one_scan_gives_the_single_format_open_count(
    tmp_path: Path, tool: str, project: str, folders: tuple[str, ...]
) -> None:
    files = _scan_files(project, folders)
    single = tmp_path / "single"
    _ingest(single, files[0])
    expected = len(_open(single, tool))
    assert expected > 0
    every = tmp_path / "every"
    results = _ingest(every, *files)
    assert [r.findings > 0 for r in results] == [True] * len(files)
    opened = _open(every, tool)
    assert len(opened) == expected
    # every observation is kept: each failed check was seen once per file (scan errors are only in the JSON)
    assert {f.observations for f in opened if f.result == "fail"} == {len(files)}
    with Store.open(every, create=False) as store:
        assert store.counts()["files"] == len(files)
        assert store.verify() == []


@needs_corpus
def test_checkov_json_and_sarif_one_finding_two_evidence_files(tmp_path: Path) -> None:
    """The case of issue 21: one checkov scan as JSON and as SARIF is 129 open findings, not 258."""
    json_file, sarif_file = _scan_files("dvsa", ("checkov-json", "checkov-sarif"))
    ws = str(tmp_path / "ws")
    runner = CliRunner()
    for f in (json_file, sarif_file):
        res = runner.invoke(main, ["--workspace", ws, "--now", "2026-11-30", "evidence", "ingest", str(f), "--jobs", "1"])
        assert res.exit_code == 0, res.output
    listed = orjson.loads(runner.invoke(main, ["--workspace", ws, "evidence", "list", "--status", "open", "--json"]).stdout)
    assert len(listed) == 129
    fn = next(f for f in listed if f["rule_id"] == "CKV_AWS_116")
    assert fn["observations"] == 2
    shown = orjson.loads(runner.invoke(main, ["--workspace", ws, "evidence", "show", fn["identity"], "--json"]).stdout)
    assert sorted(Path(h["file"]).name for h in shown["history"]) == sorted([json_file.name, sarif_file.name])
    table = runner.invoke(main, ["--workspace", ws, "evidence", "show", fn["identity"]]).stdout
    assert json_file.name[:20] in table and sarif_file.name[:20] in table


@needs_corpus
def test_checkov_sarif_reads_the_resource_from_the_snippet() -> None:
    """Checkov's SARIF names the resource only in the snippet: the parser spells it as the JSON does."""
    from compliance.evidence.formats import by_name
    from compliance.evidence.parsing import HEAD_BYTES, ParseContext, sniff

    def parse(p: Path) -> list[Any]:
        head = p.read_bytes()[:HEAD_BYTES]
        fmt = by_name("sarif" if p.suffix == ".sarif" else "checkov-json")
        assert fmt is not None
        return list(fmt.parse(p, ParseContext(p, str(p), size=p.stat().st_size, sniff=sniff(head, str(p)))))

    json_file, sarif_file = _scan_files("dvsa", ("checkov-json", "checkov-sarif"))
    failed = {(f.rule_id, f.file, f.line): f.resource for f in parse(json_file) if f.result == "fail"}
    sarif = parse(sarif_file)
    assert {(f.rule_id, f.file, f.line): f.resource for f in sarif} == failed
    assert all(f.function for f in sarif if f.resource and f.resource.startswith("AWS::Serverless::Function."))


# --------------------------------------------------------------------------- hand-made: collapse and stay distinct


def _checkov(path: Path, recs: list[tuple[str, str, str, int]], failed: bool = True) -> Path:
    """A checkov JSON report: records are (check id, resource, file_path, start line)."""
    checks = [
        {"check_id": c, "check_name": "a check", "check_result": {"result": "FAILED"}, "resource": r, "file_path": f,
         "file_line_range": [line, line + 3]}
        for c, r, f, line in recs
    ]  # fmt: skip
    key = "failed_checks" if failed else "passed_checks"
    path.write_bytes(orjson.dumps({"check_type": "terraform", "results": {key: checks}, "summary": {"checkov_version": "3"}}))
    return path


def _sarif(path: Path, tool: str, results: list[dict[str, Any]]) -> Path:
    doc = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": tool, "rules": []}}, "results": results}]}
    path.write_bytes(orjson.dumps(doc))
    return path


def _result(rule: str, uri: str, line: int, snippet: str | None = None, message: str = "m") -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": line}
    if snippet is not None:
        region["snippet"] = {"text": snippet}
    location = {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}
    return {"ruleId": rule, "message": {"text": message}, "locations": [location]}


def test_two_resources_on_one_line_stay_two_findings(tmp_path: Path) -> None:
    """A minified template puts two resources on one line: one rule failing on both is two findings."""
    src = _checkov(
        tmp_path / "c.json",
        [("CKV_AWS_1", "AWS::S3::Bucket.A", "/t.json", 1), ("CKV_AWS_1", "AWS::S3::Bucket.B", "/t.json", 1)],
    )
    ws = tmp_path / "ws"
    _ingest(ws, src)
    assert sorted(f.resource for f in _open(ws, "checkov")) == ["AWS::S3::Bucket.A", "AWS::S3::Bucket.B"]


def test_checkov_json_and_sarif_by_hand_collapse_per_resource(tmp_path: Path) -> None:
    src = _checkov(
        tmp_path / "c.json",
        [
            ("CKV_AWS_116", "AWS::Serverless::Function.Fn", "/app/template.yaml", 5),
            ("CKV_AWS_116", "AWS::Serverless::Function.Other", "/app/template.yaml", 30),
            ("CKV_AWS_50", "module.m.aws_lambda_function.this[0]", "/mod/main.tf", 12),
        ],
    )
    sarif = _sarif(
        tmp_path / "c.sarif",
        "Checkov",
        [
            _result("CKV_AWS_116", "app/template.yaml", 5, "  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {}\n"),
            _result("CKV_AWS_116", "./app/template.yaml", 30, "  Other:\n    Type: 'AWS::Serverless::Function'\n"),
            _result("CKV_AWS_50", "file:///mod/main.tf", 12, 'resource "aws_lambda_function" "this" {\n  count = 1\n}'),
        ],
    )
    ws = tmp_path / "ws"
    _ingest(ws, src, sarif)
    opened = _open(ws, "checkov")
    assert len(opened) == 3
    assert {f.observations for f in opened} == {2}


def _arm(rule: str, line: int, name: str) -> dict[str, Any]:
    snippet = f'    {{\n      "type": "Microsoft.Web/sites",\n      "name": "[variables(\'{name}\')]",\n'
    return _result(rule, "azuredeploy.json", line, snippet)


def test_checkov_arm_sarif_takes_the_rule_help_resource_only_when_it_can_be_no_other(tmp_path: Path) -> None:
    """An ARM snippet does not show checkov's resource name; the rule's help text names one result's resource.
    It is used for a rule with one such result; two ARM sites failing one rule stay apart by line."""
    site_a, site_b = "Microsoft.Web/sites.[format('a-{0}', x)]", "Microsoft.Web/sites.[format('b-{0}', x)]"
    src = _checkov(
        tmp_path / "c.json",
        [("CKV_AZURE_1", site_a, "/azuredeploy.json", 10), ("CKV_AZURE_2", site_a, "/azuredeploy.json", 10),
         ("CKV_AZURE_2", site_b, "/azuredeploy.json", 40)],
    )  # fmt: skip
    arm = [_arm("CKV_AZURE_1", 10, "a"), _arm("CKV_AZURE_2", 10, "a"), _arm("CKV_AZURE_2", 40, "b")]
    doc = orjson.loads(_sarif(tmp_path / "c.sarif", "Checkov", arm).read_bytes())
    doc["runs"][0]["tool"]["driver"]["rules"] = [
        {"id": "CKV_AZURE_1", "help": {"text": f"a check\nResource: {site_a}"}},
        {"id": "CKV_AZURE_2", "help": {"text": f"a check\nResource: {site_a}"}},
    ]
    (tmp_path / "c.sarif").write_bytes(orjson.dumps(doc))
    ws = tmp_path / "ws"
    _ingest(ws, src, tmp_path / "c.sarif")
    opened = {(f.rule_id, f.resource, f.line): f.observations for f in _open(ws, "checkov")}
    assert opened[("CKV_AZURE_1", site_a, 10)] == 2  # the help named the only ARM result of the rule
    # the rule with two ARM results: the help could be either, so the SARIF results stay by line
    assert sorted(v for k, v in opened.items() if k[0] == "CKV_AZURE_2") == [1, 1, 1, 1]


def test_same_cve_in_two_packages_of_one_lock_file_stays_distinct(tmp_path: Path) -> None:
    """Trivy: one CVE in two packages of one lock file is two findings; its SARIF of the same scan adds none."""
    vulns = [
        {"VulnerabilityID": "CVE-2024-1", "PkgName": "alpha", "InstalledVersion": "1.0", "Severity": "HIGH"},
        {"VulnerabilityID": "CVE-2024-1", "PkgName": "beta", "InstalledVersion": "2.0", "Severity": "HIGH"},
        {"VulnerabilityID": "CVE-2024-2", "PkgName": "alpha", "InstalledVersion": "1.0", "Severity": "LOW"},
    ]
    result = {"Target": "poetry.lock", "Class": "lang-pkgs", "Vulnerabilities": vulns}
    doc = {"SchemaVersion": 2, "ArtifactName": ".", "Results": [result]}
    (tmp_path / "t.json").write_bytes(orjson.dumps(doc))
    sarif = _sarif(
        tmp_path / "t.sarif",
        "Trivy",
        [
            _result(
                v["VulnerabilityID"],
                "poetry.lock",
                1,
                message=f"Package: {v['PkgName']}\nInstalled Version: {v['InstalledVersion']}",
            )
            for v in vulns
        ],
    )
    ws = tmp_path / "ws"
    _ingest(ws, tmp_path / "t.json")
    assert sorted(f.resource for f in _open(ws, "trivy")) == ["alpha@1.0", "alpha@1.0", "beta@2.0"]
    _ingest(ws, sarif)
    opened = _open(ws, "trivy")
    assert len(opened) == 3 and {f.observations for f in opened} == {2}


def test_bandit_json_and_sarif_collapse_on_start_line(tmp_path: Path) -> None:
    """A call spread over lines 10-12: bandit JSON says line_number 12, its SARIF startLine 10."""
    doc = {
        "generated_at": "2026-11-01T10:00:00Z", "errors": [], "metrics": {},
        "results": [
            {"filename": "./app.py", "line_number": 12, "line_range": [10, 11, 12], "test_id": "B602", "issue_severity": "HIGH"},
            {"filename": "./app.py", "line_number": 12, "line_range": [12], "test_id": "B603", "issue_severity": "LOW"},
        ],
    }  # fmt: skip
    (tmp_path / "b.json").write_bytes(orjson.dumps(doc))
    sarif = _sarif(tmp_path / "b.sarif", "Bandit", [_result("B602", "app.py", 10), _result("B603", "app.py", 12)])
    ws = tmp_path / "ws"
    _ingest(ws, tmp_path / "b.json", sarif)
    opened = _open(ws, "bandit")
    assert sorted((f.rule_id, f.line, f.observations) for f in opened) == [("B602", 10, 2), ("B603", 12, 2)]


def test_different_lines_and_rules_stay_distinct(tmp_path: Path) -> None:
    sarif = _sarif(
        tmp_path / "s.sarif",
        "semgrep",
        [_result("r1", "a.py", 1), _result("r1", "a.py", 2), _result("r2", "a.py", 1), _result("r1", "b.py", 1)],
    )
    ws = tmp_path / "ws"
    _ingest(ws, sarif)
    assert len(_open(ws, "semgrep")) == 4


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/template.yml", "template.yml"),
        ("./src/app.py", "src/app.py"),
        ("../../main.tf", "main.tf"),
        ("file:///srv/src/a%20b.py", "srv/src/a b.py"),
        ("src\\lambda\\main.tf", "src/lambda/main.tf"),
        ("src//x.py", "src/x.py"),
        ("plain/path.py", "plain/path.py"),
        (".github/workflows/ci.yml", ".github/workflows/ci.yml"),
    ],
)
def test_paths_are_spelled_one_way(raw: str, expected: str) -> None:
    assert relpath(raw) == expected


def test_resource_key_drops_module_path_and_instance_only() -> None:
    assert resource_key("module.a.module.b.aws_lambda_function.this[0]") == "aws_lambda_function.this"
    assert resource_key('module.a["x"].aws_s3_bucket.b["k"]') == "aws_s3_bucket.b"
    assert resource_key("AWS::S3::Bucket.Logs") == "AWS::S3::Bucket.Logs"
    arm = "Microsoft.Web/sites.[format('func-{0}', uniqueString(resourceGroup().id))]"
    assert resource_key(arm) == arm


def test_identity_of_matches_the_ingested_identity(tmp_path: Path) -> None:
    src = _checkov(tmp_path / "c.json", [("CKV_AWS_1", "module.m.aws_s3_bucket.b[1]", "/m/main.tf", 3)])
    ws = tmp_path / "ws"
    _ingest(ws, src)
    (stored,) = _open(ws, "checkov")
    from compliance.evidence.formats import by_name
    from compliance.evidence.parsing import ParseContext, sniff

    fmt = by_name("checkov-json")
    assert fmt is not None
    (finding,) = fmt.parse(src, ParseContext(src, str(src), size=src.stat().st_size, sniff=sniff(src.read_bytes(), src)))
    assert identity_of(finding)[0] == stored.identity


# --------------------------------------------------------------------------- the store schema


def test_an_older_store_is_refused_with_one_line_and_left_unchanged(tmp_path: Path) -> None:
    ws = tmp_path / "old"
    _ingest(ws, _checkov(tmp_path / "c.json", [("CKV_AWS_1", "AWS::S3::Bucket.A", "/t.yaml", 1)]))
    db = ws / "evidence.db"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value='1' WHERE key='schema'")
    conn.commit()
    conn.close()
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in ws.iterdir() if p.is_file()}
    with pytest.raises(StoreError, match=r"older sckb .* new workspace"):
        Store.open(ws)
    with pytest.raises(StoreError, match="older sckb"):
        Store.open(ws, create=False, read_only=True)
    res = CliRunner().invoke(main, ["--workspace", str(ws), "evidence", "ingest", str(tmp_path / "c.json")])
    assert res.exit_code != 0
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "new workspace" in lines[0] and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["--workspace", str(ws), "evidence", "list"])
    assert res.exit_code != 0 and "older sckb" in res.output
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in ws.iterdir() if p.is_file()}
    assert after == before


# --------------------------------------------------------------------------- honest scan times


def _files(ws: Path) -> dict[str, dict[str, Any]]:
    res = CliRunner().invoke(main, ["--workspace", str(ws), "evidence", "files", "--json"])
    assert res.exit_code == 0, res.output
    return {Path(f["name"]).name: f for f in orjson.loads(res.stdout)}


def test_scan_time_sources_file_given_ingest(tmp_path: Path) -> None:
    undated = _checkov(tmp_path / "c.json", [("CKV_AWS_1", "AWS::S3::Bucket.A", "/t.yaml", 1)])
    dated = tmp_path / "b.json"
    dated.write_bytes(orjson.dumps({"generated_at": "2026-11-02T08:00:00Z", "errors": [], "metrics": {}, "results": [
        {"filename": "./a.py", "line_number": 1, "test_id": "B101", "issue_severity": "LOW"}]}))  # fmt: skip

    plain = tmp_path / "plain"
    _ingest(plain, undated, dated)
    files = _files(plain)
    assert (files["c.json"]["scan_time_source"], files["c.json"]["scan_time"]) == ("ingest", "2026-11-30T09:00:00Z")
    assert (files["b.json"]["scan_time_source"], files["b.json"]["scan_time"]) == ("file", "2026-11-02T08:00:00Z")

    given = tmp_path / "given"
    _ingest(given, undated, dated, scan_time=datetime(2026, 11, 20, 7, 30, tzinfo=UTC))
    files = _files(given)
    assert (files["c.json"]["scan_time_source"], files["c.json"]["scan_time"]) == ("given", "2026-11-20T07:30:00Z")
    assert (files["b.json"]["scan_time_source"], files["b.json"]["scan_time"]) == ("file", "2026-11-02T08:00:00Z")
    with Store.open(given, create=False) as store:
        by_tool = {f.tool: f for f in store.findings()}
    assert (by_tool["checkov"].scan_time_source, by_tool["checkov"].scan_time) == ("given", "2026-11-20T07:30:00Z")
    assert by_tool["bandit"].scan_time_source == "file"
    table = CliRunner().invoke(main, ["--workspace", str(given), "evidence", "files"]).stdout
    assert "given" in table and "file" in table


def test_given_scan_time_reaches_the_helper_process(tmp_path: Path) -> None:
    """Big files are parsed by a helper process: it dates undated findings the same way."""
    src = _checkov(tmp_path / "c.json", [("CKV_AWS_1", f"AWS::S3::Bucket.B{i}", "/t.yaml", i + 1) for i in range(50)])
    with Store.open(tmp_path / "ws") as store:
        ing = Ingester(store, Mapper(None), NOW, worker_bytes=1, scan_time=datetime(2026, 11, 21, tzinfo=UTC))
        try:
            res = ing.ingest_file(src)
        finally:
            ing.close()
        assert res.error is None
        assert {(f.scan_time, f.scan_time_source) for f in store.findings()} == {("2026-11-21T00:00:00Z", "given")}
        assert [(f.scan_time, f.scan_time_source) for f in store.files()] == [("2026-11-21T00:00:00Z", "given")]


CORPUS_TIMES = [
    # (format folder, file, the scan time the file states, or None: it states none)
    ("checkov-json", "dvsa__results_json.json", None),
    ("cfn-lint-json", "dvsa__cfn-lint.json", None),
    ("semgrep-json", "dvsa__semgrep.json", None),
    ("bandit-json", "dvsa__bandit.json", "generated_at"),
    ("bandit-sarif", "dvsa__bandit.sarif", "endTimeUtc"),
    ("checkov-junit-xml", "dvsa__results_junitxml.xml", None),
    ("semgrep-sarif", "dvsa__semgrep.sarif", None),
    ("cyclonedx-json", "dvsa__results_cyclonedx.json", "timestamp"),
    ("trivy-json", "trivy__pip.json.golden", "CreatedAt"),
    ("prowler-ocsf-json", "prowler__example_output_aws.ocsf.json", "time_dt"),
    ("asff-json", "defectdojo-asff__many_vulns.json", "UpdatedAt"),
]


@needs_corpus
@pytest.mark.parametrize(("folder", "name", "field"), CORPUS_TIMES, ids=[c[0] for c in CORPUS_TIMES])
def test_corpus_files_state_their_scan_time_or_say_they_do_not(tmp_path: Path, folder: str, name: str, field: str | None) -> None:
    path = CORPUS / folder / name
    ws = tmp_path / "ws"
    _ingest(ws, path)
    (row,) = _files(ws).values()
    if field is None:
        assert (row["scan_time_source"], row["scan_time"]) == ("ingest", "2026-11-30T09:00:00Z")
    else:
        assert row["scan_time_source"] == "file" and row["scan_time"] != "2026-11-30T09:00:00Z"
        assert row["scan_time"][:10] in path.read_text()


def test_cli_scan_time_is_recorded_as_given(tmp_path: Path) -> None:
    undated = _checkov(tmp_path / "c.json", [("CKV_AWS_1", "AWS::S3::Bucket.A", "/t.yaml", 1)])
    ws = tmp_path / "ws"
    args = [
        "--workspace",
        str(ws),
        "--now",
        "2026-11-30",
        "evidence",
        "ingest",
        str(undated),
        "--scan-time",
        "2026-11-28T06:00:00",
    ]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    (row,) = _files(ws).values()
    assert (row["scan_time"], row["scan_time_source"], row["ingested_at"]) == (
        "2026-11-28T06:00:00Z",
        "given",
        "2026-11-30T00:00:00Z",
    )
    bad = CliRunner().invoke(main, ["--workspace", str(ws), "evidence", "ingest", str(undated), "--scan-time", "yesterday"])
    assert bad.exit_code == 2 and "--scan-time" in bad.output


def test_given_scan_time_reaches_the_peer_processes(tmp_path: Path) -> None:
    """Peer processes share a batch: they date undated findings with the given time as well."""
    batch = tmp_path / "batch"
    batch.mkdir()
    for n in range(6):
        _checkov(batch / f"c{n}.json", [("CKV_AWS_1", f"AWS::S3::Bucket.B{n}", f"/s{n}/t.yaml", 1)])
    with Store.open(tmp_path / "ws") as store:
        summary = ingest(
            store, [batch], mapper=Mapper(None), now=NOW, jobs=2, peer_bytes=0, scan_time=datetime(2026, 11, 22, tzinfo=UTC)
        )
        assert summary.errors == 0 and summary.files == 6
        assert {(f.scan_time, f.scan_time_source) for f in store.findings()} == {("2026-11-22T00:00:00Z", "given")}
        assert {(f.scan_time, f.scan_time_source) for f in store.files()} == {("2026-11-22T00:00:00Z", "given")}
