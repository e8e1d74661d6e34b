"""The design data (compliance/design/data/*.yaml) is typed and validated with the KB: schema problems and ids
the KB does not know are reported by ``sckb kb validate`` as FILE:LINE: MESSAGE."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.errors import InputError
from compliance.kb import designdata
from compliance.kb.designdata import DESIGN_DATA_DIR, check_design_data, design_data


@pytest.fixture(scope="module")
def kb() -> kbmod.KB:
    return kbmod.load()


def _copy_with(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / "design-data"
    shutil.copytree(DESIGN_DATA_DIR, d)
    (d / name).write_text(text, encoding="utf-8")
    return d


def test_shipped_design_data_is_typed_and_clean(kb: kbmod.KB) -> None:
    data = design_data()
    assert data.attack_paths["plain-secret"].breaks_with == ("secrets-in-secrets-manager", "encrypt-environment-variables")
    assert data.iam.managed_policies["AdministratorAccess"].admin is True
    assert str(data.runtimes["aws"]["python3.7"]) == "2023-12-04"
    assert check_design_data(kb) == []


def test_dangling_mitigation_reported_by_kb_validate_with_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        "# header\n"
        "plain-secret:\n"
        "  title: Secret in a plain environment variable\n"
        "  breaks_with: [secrets-in-secrets-manager,\n"
        "                no-such-mitigation]\n"
    )
    d = _copy_with(tmp_path, "attack-paths.yaml", text)
    monkeypatch.setattr(designdata, "DESIGN_DATA_DIR", d)
    res = CliRunner().invoke(main, ["kb", "validate"])
    assert res.exit_code == 1, res.output
    line = next(x for x in res.output.splitlines() if "no-such-mitigation" in x)
    assert line.endswith("attack-paths.yaml:5: attack path plain-secret names unknown mitigation 'no-such-mitigation'")


def test_schema_problem_reported_with_line(tmp_path: Path, kb: kbmod.KB) -> None:
    text = "deprecated-runtime:\n  title: Deprecated runtime\n  breaks_with: [supported-runtimes]\n  severity: high\n"
    d = _copy_with(tmp_path, "attack-paths.yaml", text)
    problems = check_design_data(kb, d)
    assert [(Path(p.file).name, p.line) for p in problems] == [("attack-paths.yaml", 4)]
    assert "deprecated-runtime.severity" in problems[0].message
    with pytest.raises(InputError, match="design data"):
        design_data(d)


def test_runtime_dates_are_checked(tmp_path: Path, kb: kbmod.KB) -> None:
    d = _copy_with(tmp_path, "runtimes.yaml", "aws:\n  nodejs: 2016-10-31\n  python2.7: someday\n")
    problems = check_design_data(kb, d)
    assert [(Path(p.file).name, p.line) for p in problems] == [("runtimes.yaml", 3)]


TWO_ENTRIES = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Uploads:
    Type: AWS::S3::Bucket
  UploadsPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Uploads
      PolicyDocument:
        Statement:
          - {Effect: Allow, Principal: "*", Action: "s3:PutObject", Resource: "arn:aws:s3:::uploads/*"}
  Records:
    Type: AWS::DynamoDB::Table
    Properties:
      Tags: [{Key: DataClassification, Value: phi}]
  Handler:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Policies:
        - DynamoDBCrudPolicy: {TableName: !Ref Records}
      Events:
        Post:
          Type: Api
          Properties: {Path: /records, Method: post}
        Upload:
          Type: S3
          Properties: {Bucket: !Ref Uploads, Events: "s3:ObjectCreated:*"}
"""


def test_breaks_with_depends_on_the_entry_type(tmp_path: Path) -> None:
    """An API route and an S3 notification into the same function: each chain lists what breaks that entry."""
    template = tmp_path / "template.yaml"
    template.write_text(TWO_ENTRIES, encoding="utf-8")
    res = CliRunner().invoke(main, ["--now", "2026-11-30", "design", "check", str(template), "--json"])
    assert res.exit_code == 0, res.output
    paths = [p for p in json.loads(res.output)["attack_paths"] if p["kind"] == "public-data-access"]
    by_entry = {p["entry"]: p for p in paths}
    assert set(by_entry) == {"api-route", "object-storage-trigger"}, [p["chain"][0] for p in paths]
    api, s3 = by_entry["api-route"]["breaks_with"], by_entry["object-storage-trigger"]["breaks_with"]
    assert api != s3
    spec = design_data().attack_paths["public-data-access"]
    assert api == list(spec.breaking("api-route")) and s3 == list(spec.breaking("object-storage-trigger"))
    assert api[0] == "api-authentication" and "api-authentication" not in s3
    assert "event-input-validation" in s3 and "event-input-validation" not in api
    # what breaks every chain is in both, after the entry's own
    assert api[-2:] == s3[-2:] == ["least-privilege-execution-role", "no-wildcard-permissions"]
    assert by_entry["api-route"]["controls_at_risk"] != by_entry["object-storage-trigger"]["controls_at_risk"]


def test_entry_types_come_from_the_data_in_file_order() -> None:
    data = design_data()
    assert data.entry_type("route", "api") == "api-route"
    assert data.entry_type("route", "http-trigger") == "http-trigger"
    assert data.entry_type("source", "s3") == "object-storage-trigger"
    assert data.entry_type("source", "google.storage.object.finalize") == "object-storage-trigger"
    assert data.entry_type("source", "sqs") == "queue-or-topic"
    assert data.entry_type("source", "alexaskill") == "other-event-source"
    assert data.entry_type("function-url") == "function-url"
    assert data.entry_type("datastore", "table") is None


def test_unknown_entry_type_and_mitigation_under_by_entry_are_reported_with_lines(tmp_path: Path, kb: kbmod.KB) -> None:
    text = (
        "public-data-access:\n"
        "  title: Public entry\n"
        "  breaks_with: [least-privilege-execution-role]\n"
        "  by_entry:\n"
        "    api-route: [api-authentication, no-such-mitigation]\n"
        "    carrier-pigeon: [api-authentication]\n"
    )
    problems = check_design_data(kb, _copy_with(tmp_path, "attack-paths.yaml", text))
    got = [(Path(p.file).name, p.line, p.message) for p in problems]
    assert got[0] == ("attack-paths.yaml", 5, "attack path public-data-access names unknown mitigation 'no-such-mitigation'")
    assert got[1][:2] == ("attack-paths.yaml", 6) and "unknown entry type 'carrier-pigeon'" in got[1][2]
    assert len(got) == 2


def test_entry_type_element_is_checked(tmp_path: Path, kb: kbmod.KB) -> None:
    text = "api-route:\n  title: API route\n  element: router\n  types: [api]\n"
    problems = check_design_data(kb, _copy_with(tmp_path, "entry-types.yaml", text))
    assert [(Path(p.file).name, p.line) for p in problems] == [("entry-types.yaml", 3)]
