"""End to end: ingest the whole ../shared/corpus through the evidence store's ingest API, assess
fedramp-moderate and hipaa through the CLI, check named controls against hand-worked expectations,
export OSCAL (schema-checked, references resolved, byte-identical across runs), diff and gate exit codes.

Hand-worked expectation for AC-6 (read from the raw evidence, not from sckb):
``checkov-json/sp-s3-lambda-dynamodb-terraform__results_json.json`` reports CKV_AWS_290 ("IAM policies
does not allow write access without constraints") FAILED on ``module.s3_event.aws_iam_policy.write_to_ddb``:
that policy (iac/sp-s3-lambda-dynamodb-terraform/.../modules/s3_event/main.tf, line 29) gives the S3-event
Lambda function's role dynamodb:PutItem/UpdateItem/CreateTable/... on Resource "*". The KB maps
checkov:CKV_AWS_290 -> least-privilege-execution-role -> AC-6, so by status rule 3 the mitigation is
not-satisfied and by rule 4 AC-6 is not-satisfied, whatever else passes.
Other expectations: PE-3 (physical access) is provider responsibility -> inherited; AT-2 (training) is
reached by no mitigation -> not-assessed; HIPAA 164.312(a)(1) crosswalks to AC-6 -> not-satisfied.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from compliance.cli import main

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
CORPUS = SHARED / "corpus"
SCHEMAS = SHARED / "oscal" / "schemas"
NOW = "2026-12-01"  # the corpus files made here carry scan times of 2026-11-30
INGEST_NOW = datetime(2026, 11, 30, tzinfo=UTC)
LP_FILE = CORPUS / "checkov-json" / "sp-s3-lambda-dynamodb-terraform__results_json.json"


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not beside the checkout")
    from compliance import kb as kbmod
    from compliance.evidence.ingest import ingest
    from compliance.evidence.mapping import Mapper
    from compliance.evidence.store import Store

    ws = tmp_path_factory.mktemp("corpus") / "ws"
    with Store.open(ws) as store:
        summary = ingest(store, [CORPUS], mapper=Mapper(kbmod.load()), now=INGEST_NOW)
        assert sum(1 for r in summary.results if r.error is None) > 150
    return ws


@pytest.fixture
def ws(ingested: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "ws"
    shutil.copytree(ingested, dest)
    return dest


def sckb(runner: CliRunner, ws: Path, *args: str, now: str = NOW) -> Any:
    if args[:1] == ("assess",) and "--scope" in args:
        # most corpus files state no scan time (checkov, cfn-lint, semgrep JSON): they were made on the day they
        # were ingested, so the ingest time is accepted as their scan time (status rule 1)
        args = (*args, "--accept-ingest-time")
    return runner.invoke(main, ["--workspace", str(ws), "--now", now, *args], catch_exceptions=False)


def assess_json(runner: CliRunner, ws: Path, *args: str) -> dict[str, Any]:
    r = sckb(
        runner, ws, "assess", "--scope", "fedramp-moderate", "--scope", "hipaa", "--max-age", "3650", "--format", "json", *args
    )
    assert r.exit_code == 0, r.output
    data: dict[str, Any] = orjson.loads(r.output)
    return data


def test_corpus_assessment_matches_hand_worked_expectations(runner: CliRunner, ws: Path) -> None:
    data = assess_json(runner, ws)
    status = {c["control"]: c["status"] for c in data["controls"]}
    assert status["AC-6"] == "not-satisfied"
    assert status["PE-3"] == "inherited"
    assert status["AT-2"] == "not-assessed"
    safeguards = {s["id"]: s["status"] for s in data["safeguards"]}
    assert safeguards["164.312(a)(1)"] == "not-satisfied"
    assert data["assessment"]["scopes"] == ["fedramp-moderate", "hipaa"]
    # every fedramp-moderate member is in scope (plus what the HIPAA crosswalk adds)
    assert {"AC-2(7)", "SC-45(1)", "IR-9(4)"} <= set(status)

    # the explanation path: AC-6 <- least-privilege-execution-role <- checkov:CKV_AWS_290 <- the write_to_ddb finding
    r = sckb(runner, ws, "assess", "explain", "AC-6", "--json")
    assert r.exit_code == 0, r.output
    path = orjson.loads(r.output)
    lp = next(m for m in path["mitigations"] if m["id"] == "least-privilege-execution-role")
    assert lp["status"] == "not-satisfied"
    rule = next(x for x in lp["rules"] if x["rule"] == "checkov:CKV_AWS_290")
    assert rule["outcome"] == "fail"
    # the JSON, JUnit and SARIF of that scan are one finding, shown as its latest observation: the SARIF names the
    # block (from its snippet), the JSON and JUnit the module's address
    subjects = ("module.s3_event.aws_iam_policy.write_to_ddb", "aws_iam_policy.write_to_ddb")
    hit = [f for f in rule["failing_findings"] if f["subject"] in subjects and f["file"].endswith("modules/s3_event/main.tf")]
    assert len(hit) == 1, rule["failing_findings"]
    evidence_shas = {
        hashlib.sha256(p.read_bytes()).hexdigest() for p in CORPUS.glob("checkov-*/sp-s3-lambda-dynamodb-terraform__*")
    }
    assert hit[0]["evidence_sha256"] in evidence_shas
    # the same check is reported by the json, junit and sarif outputs of that scan: one finding identity whose
    # latest observation names one of the three files
    assert rule["evidence_files"] and set(rule["evidence_files"]) <= evidence_shas
    assert hashlib.sha256(LP_FILE.read_bytes()).hexdigest() in evidence_shas
    text = sckb(runner, ws, "assess", "explain", "ac-6").output
    assert "<- least-privilege-execution-role [subset-of, decides]: not-satisfied" in text
    assert "<- checkov:CKV_AWS_290 (rule, subset-of): fail" in text
    assert "aws_iam_policy.write_to_ddb" in text
    # the HIPAA view explains a safeguard: its own mitigations decide, its crosswalked controls are related
    sg = orjson.loads(sckb(runner, ws, "assess", "explain", "164.312(a)(1)", "--json").output)
    assert {"id": "AC-6", "status": "not-satisfied", "related": True} in sg["controls"]
    assert "crosswalked control AC-6 is not-satisfied" in sg["review"]
    assert "<- control AC-6 [crosswalk, related]: not-satisfied" in sckb(runner, ws, "assess", "explain", "164.312(a)(1)").output
    assert sckb(runner, ws, "assess", "explain", "ZZ-99").exit_code == 4


def test_freshness_window_reports_stale_evidence(runner: CliRunner, ws: Path) -> None:
    r = sckb(runner, ws, "assess", "--scope", "fedramp-moderate", "--format", "json")  # default --max-age 30
    data = orjson.loads(r.output)
    assert data["assessment"]["window"] == {"start": "2026-11-01T00:00:00Z", "end": "2026-12-01T00:00:00Z", "max_age_days": 30}
    assert data["assessment"]["stale_findings"] > 100
    assert data["assessment"]["stale_files"]  # e.g. the 2021 prowler output
    # the checkov evidence was ingested on 2026-11-30 and is fresh: AC-6 is still not-satisfied
    assert {c["control"]: c["status"] for c in data["controls"]}["AC-6"] == "not-satisfied"
    # ten years later everything is stale and nothing is decided except inheritance
    later = orjson.loads(sckb(runner, ws, "assess", "--scope", "fedramp-moderate", "--format", "json", now="2036-12-01").output)
    assert set(later["assessment"]["counts"]) >= {"not-assessed", "inherited"}
    assert later["assessment"]["counts"]["not-satisfied"] == 0 and later["assessment"]["counts"]["satisfied"] == 0


def test_gates_and_exit_codes(runner: CliRunner, ws: Path) -> None:
    base = ["assess", "--scope", "fedramp-moderate", "--max-age", "3650"]
    r = sckb(runner, ws, *base, "--fail-on", "not-satisfied")
    assert r.exit_code == 1 and "gate: FAILED" in r.output
    assert sckb(runner, ws, *base, "--fail-on", "partially-satisfied").exit_code == 0
    assert sckb(runner, ws, *base, "--min-satisfied", "0").exit_code == 0
    r = sckb(runner, ws, *base, "--min-satisfied", "50", "--format", "markdown")
    assert r.exit_code == 1
    assert "**Gate: FAILED**" in r.output and "| not-satisfied |" in r.output
    assert sckb(runner, ws, *base, "--unmapped-failures", "fail").exit_code == 1  # the corpus has unmapped failures
    assert sckb(runner, ws, *base, "--unmapped-failures", "ignore").exit_code == 0
    # the stored latest assessment can be gated again without reassessing
    assert sckb(runner, ws, "assess", "show", "--fail-on", "not-satisfied").exit_code == 1
    # usage, not found
    assert sckb(runner, ws, "assess").exit_code == 2
    r = sckb(runner, ws, "assess", "--scope", "fedramp-nano")
    assert r.exit_code == 4 and "unknown scope 'fedramp-nano'" in r.output
    assert sckb(runner, ws, "assess", "show", "A-0000").exit_code == 4
    assert sckb(runner, ws.parent / "nowhere", "assess", "--scope", "hipaa").exit_code == 4


def test_formats_csv_and_list(runner: CliRunner, ws: Path) -> None:
    r = sckb(runner, ws, "assess", "--scope", "nist-low", "--max-age", "3650", "--format", "csv")
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert lines[0] == "control,title,status,party,mitigations,failing_findings,scopes,reason"
    assert any(line.startswith("PE-3,") and ",inherited," in line for line in lines)
    assert sckb(runner, ws, "assess", "--scope", "serverless", "--max-age", "3650").exit_code == 0
    listed = orjson.loads(sckb(runner, ws, "assess", "list", "--json").output)
    assert [x["scopes"] for x in listed] == [["serverless"], ["nist-low"]]  # latest first


def test_diff_opened_closed_and_regression(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    from compliance import kb as kbmod
    from compliance.evidence.ingest import ingest
    from compliance.evidence.mapping import Mapper
    from compliance.evidence.store import Store

    # a workspace that starts with only the passing-heavy checkov outputs, then gets the whole corpus
    small = tmp_path / "small"
    with Store.open(small) as store:
        ingest(store, sorted(CORPUS.glob("checkov-json/*.json")), mapper=Mapper(kbmod.load()), now=INGEST_NOW)
    first = assess_json(runner, small)["assessment"]["id"]
    with Store.open(small) as store:
        ingest(store, [CORPUS], mapper=Mapper(kbmod.load()), now=INGEST_NOW)
    second = assess_json(runner, small)["assessment"]["id"]
    assert first != second
    r = sckb(runner, small, "assess", "diff", first, second, "--json")
    assert r.exit_code == 0
    d = orjson.loads(r.output)
    assert d["old"] == first and d["new"] == second
    assert d["opened"]
    # nothing closes but findings on a path that several corpus projects share (each project's root main.tf is
    # "main.tf"): a later scan of that path by the same tool that no longer reports them closes them
    with Store.open(small, create=False) as store:
        rows = store.conn.execute(
            "SELECT DISTINCT o.file, f.name FROM observations o JOIN files f ON f.id = o.file_id WHERE o.file IS NOT NULL"
        ).fetchall()
        file_of = {f.identity: f.file for f in store.findings()}
    projects: dict[str, set[str]] = {}
    for path, name in rows:
        projects.setdefault(path, set()).add(Path(name).name.split("__")[0])
    assert {file_of[c["identity"]] for c in d["closed"]} <= {p for p, names in projects.items() if len(names) > 1}
    assert all(f["identity"] and f["rule"] for f in d["opened"])
    assert d["changed"] and d["regressions"] >= 1
    assert sckb(runner, small, "assess", "diff", first, second, "--fail-on-regression").exit_code == 1
    # NEW defaults to the latest; the reverse direction closes what was opened
    back = orjson.loads(sckb(runner, small, "assess", "diff", second, first, "--json").output)
    assert len(back["closed"]) == len(d["opened"])
    assert sckb(runner, small, "assess", "diff", second, first, "--fail-on-regression").exit_code == 0
    assert "Status changes" in sckb(runner, small, "assess", "diff", first).output


def test_oscal_export_of_the_corpus(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    from compliance.oscal import broken_references

    if not SCHEMAS.is_dir():
        pytest.skip("../shared/oscal missing")
    assess_json(runner, ws)
    out1, out2 = tmp_path / "o1", tmp_path / "o2"
    r = sckb(runner, ws, "export", "oscal", "--out", str(out1), "--schema-dir", str(SCHEMAS))
    assert r.exit_code == 0, r.output
    assert "schema check: all documents valid" in r.output
    # a second, separate assessment run with the same evidence and --now, exported again: byte-identical files
    assert (
        assess_json(runner, ws)["assessment"]["id"] == orjson.loads(sckb(runner, ws, "assess", "list", "--json").output)[0]["id"]
    )
    assert sckb(runner, ws, "export", "oscal", "--out", str(out2)).exit_code == 0
    docs = {}
    for name in ("assessment-plan.json", "assessment-results.json", "poam.json", "component-definition.json"):
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes(), name  # byte-identical runs
        docs[name] = orjson.loads((out1 / name).read_bytes())
    assert broken_references(docs) == []
    ar = docs["assessment-results.json"]["assessment-results"]
    # every back-matter resource's file was copied beside the documents and carries its SHA-256
    for res in ar["back-matter"]["resources"]:
        (rlink,) = res["rlinks"]
        copy = out1 / rlink["href"]
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == rlink["hashes"][0]["value"]
    (result,) = ar["results"]
    ac6 = next(f for f in result["findings"] if f["target"]["target-id"] == "ac-6_smt")
    assert ac6["target"]["status"]["state"] == "not-satisfied" and ac6["related-observations"] and ac6["related-risks"]
    poam = docs["poam.json"]["plan-of-action-and-milestones"]
    assert any(i["title"].startswith("checkov:CKV_AWS_290") for i in poam["poam-items"])
    # an older assessment is still exportable by id
    first_id = orjson.loads(sckb(runner, ws, "assess", "list", "--json").output)[-1]["id"]
    assert sckb(runner, ws, "export", "oscal", "--assessment", first_id[:8], "--out", str(tmp_path / "o3")).exit_code == 0


def test_catalog_import_cli(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    catalog = SHARED / "oscal" / "nist" / "NIST_SP-800-53_rev5_catalog.json"
    r = sckb(runner, ws, "catalog", "import", str(catalog), "--json")
    assert r.exit_code == 0 and orjson.loads(r.output)["controls"] == 1196
    from compliance.oscal import statements

    assert statements(ws)["SC-28"].startswith("Protect the [Selection (one or more): confidentiality; integrity]")
    bad = tmp_path / "bad.json"
    bad.write_text('{"catalog": {"groups": []}}')
    r = sckb(runner, ws, "catalog", "import", str(bad))
    assert r.exit_code == 3 and "bad.json#/catalog/groups: the catalog holds no controls" in r.output
    conn = sqlite3.connect(ws / "evidence.db")
    assert conn.execute("SELECT count(*) FROM assess_catalog").fetchone()[0] == 1196  # a bad import lost nothing
    conn.close()


@pytest.mark.parametrize(("scopes", "max_age"), [(["fedramp-moderate", "hipaa"], 3650), (["serverless"], 30)])
def test_fast_store_read_equals_the_record_path(ingested: Path, scopes: list[str], max_age: int) -> None:
    from compliance import kb as kbmod
    from compliance.assess import assess, db
    from compliance.assess.engine import content_id
    from compliance.assess.model import Assessment, dump
    from compliance.assess.storeread import assess_store
    from compliance.evidence.store import SQLiteStore, Store

    kb = kbmod.load()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with Store.open(ingested, create=False) as store:
        slow = assess(kb, store.findings(), store.files(), scopes=scopes, now=now, max_age_days=max_age)
        for workers in (1, 2, 3):  # one query on the store's connection, or ranges of identities grouped in threads
            blob: list[bytes] = []
            fast = assess_store(kb, store, scopes=scopes, now=now, max_age_days=max_age, workers=workers, blob_out=blob)
            assert fast.findings and fast.observations
            assert fast == slow, workers
            # the one serialisation made for the id (the assessment with an empty id) is what the database stores
            assert fast.id == content_id(fast) == "A-" + hashlib.sha256(blob[0]).hexdigest()[:16]
            # (model.dump: the dataclasses' JSON, fields added later left out while at their default)
            assert orjson.loads(blob[0]) == {**orjson.loads(dump(fast)), "id": ""}
            assert Assessment.from_dict({**orjson.loads(blob[0]), "id": fast.id}) == fast
    mem = SQLiteStore(Path("memory"), sqlite3.connect(":memory:"))
    db.save(mem, fast, blob[0])
    assert db.load(mem) == fast  # the id comes back from its column
    db.save(mem, slow)  # serialised by save itself
    assert db.load(mem, slow.id) == slow


def test_fast_read_sees_uncommitted_changes_of_the_store_connection(ingested: Path, tmp_path: Path) -> None:
    """Inside a transaction the worker threads' own connections could not see its changes: one query is used."""
    from compliance import kb as kbmod
    from compliance.assess import assess
    from compliance.assess.storeread import assess_store
    from compliance.evidence.store import Store

    dest = tmp_path / "ws"
    shutil.copytree(ingested, dest)
    kb = kbmod.load()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with Store.open(dest, create=False) as store:
        before = assess_store(kb, store, scopes=["serverless"], now=now, max_age_days=3650)
        store.conn.execute("BEGIN")
        store.conn.execute("UPDATE identities SET status = 'closed' WHERE status = 'open'")
        fast = assess_store(kb, store, scopes=["serverless"], now=now, max_age_days=3650, workers=2)
        slow = assess(kb, store.findings(), store.files(), scopes=["serverless"], now=now, max_age_days=3650)
        store.conn.execute("ROLLBACK")
    assert before.findings and not fast.findings
    assert fast == slow


def test_unwritable_outputs_are_one_line_errors(runner: CliRunner, ws: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = sckb(runner, ws, "assess", "--scope", "hipaa", "--summary-out", str(blocker / "s.md"))
    assert r.exit_code == 3 and "cannot write the summary" in r.output
    assert sckb(runner, ws, "assess", "list", "--json").exit_code == 0  # the assessment itself was stored
    assert sckb(runner, ws, "export", "oscal", "--out", str(blocker)).exit_code == 2  # a file is not a folder (usage)
    r = sckb(runner, ws, "export", "oscal", "--out", str(blocker / "sub"))
    assert r.exit_code == 3 and r.output.startswith("sckb: error: ") and len(r.output.strip().splitlines()) == 1


def test_fast_read_falls_back_on_irregular_times(ws: Path) -> None:
    from compliance import kb as kbmod
    from compliance.assess import assess
    from compliance.assess.storeread import assess_store
    from compliance.evidence.store import Store

    kb = kbmod.load()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with Store.open(ws, create=False) as store:
        ident, last = store.conn.execute("SELECT identity, last_seen FROM identities WHERE status = 'open' LIMIT 1").fetchone()
        store.conn.execute("UPDATE identities SET last_seen = ? WHERE identity = ?", (last.replace("Z", "+00:00"), ident))
        fast = assess_store(kb, store, scopes=["serverless"], now=now, max_age_days=3650, accept_ingest_time=True)
        slow = assess(
            kb, store.findings(), store.files(), scopes=["serverless"], now=now, max_age_days=3650, accept_ingest_time=True
        )
        # by default, undated evidence (no scan time stated) is left out the same way on both paths
        fast_dated = assess_store(kb, store, scopes=["serverless"], now=now, max_age_days=3650)
        slow_dated = assess(kb, store.findings(), store.files(), scopes=["serverless"], now=now, max_age_days=3650)
    assert fast == slow
    assert fast.findings[ident].last_seen == last  # normalised back to the canonical form
    assert fast_dated == slow_dated
    assert fast_dated.undated_findings > 0 and len(fast_dated.findings) < len(fast.findings)
