"""Design-check engine: predicate logic, KB section and rules, multi-cloud Terraform, classification, SARIF evidence,
large and bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.design.check import run_check
from compliance.design.model import Unknown
from compliance.design.predicates import ABSENT, PRESENT, UNKNOWN, evaluate
from compliance.kb.model import KBFile

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data" / "design"
TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def kb() -> kbmod.KB:
    return kbmod.load([])


def _expr(raw: dict[str, Any]) -> Any:
    rec = {"id": "x", "mitigation": "m", "title": "t", "subject": "function", "rationale": "r", "check": raw}
    return KBFile.model_validate({"design_predicates": [rec]}).design_predicates[0].check


@pytest.mark.parametrize(
    ("raw", "props", "want"),
    [
        ({"property": "tracing", "op": "equals", "value": "Active"}, {"tracing": "Active"}, PRESENT),
        ({"property": "tracing", "op": "equals", "value": "Active"}, {"tracing": None}, ABSENT),
        ({"property": "tracing", "op": "equals", "value": "Active"}, {"tracing": Unknown("param")}, UNKNOWN),
        ({"property": "timeout", "op": "lte", "value": 300}, {"timeout": 900}, ABSENT),
        ({"property": "timeout", "op": "gte", "value": 0}, {}, ABSENT),
        ({"property": "x", "op": "not_in", "value": ["NONE"]}, {}, PRESENT),
        ({"property": "a.b", "op": "exists"}, {"a": {"b": 0}}, PRESENT),
        ({"property": "l[*]", "op": "matches", "value": ":\\d+$"}, {"l": ["arn:1", "arn:x"]}, ABSENT),
        ({"property": "l[*]", "op": "matches", "value": ":\\d+$"}, {"l": []}, PRESENT),
        ({"property": "l[*]", "each": "any", "op": "exists"}, {"l": []}, ABSENT),
        ({"property": "l[*].c", "op": "equals", "value": True}, {"l": [{"c": True}, {"c": Unknown("?")}]}, UNKNOWN),
        ({"all": [{"property": "a", "op": "exists"}, {"property": "b", "op": "exists"}]}, {"a": 1, "b": Unknown("?")}, UNKNOWN),
        ({"all": [{"property": "a", "op": "exists"}, {"property": "b", "op": "exists"}]}, {"b": Unknown("?")}, ABSENT),
        ({"any": [{"property": "a", "op": "exists"}, {"property": "b", "op": "exists"}]}, {"a": 1, "b": Unknown("?")}, PRESENT),
        ({"not": {"property": "a", "op": "exists"}}, {"a": Unknown("?")}, UNKNOWN),
        ({"not": {"property": "a", "op": "exists"}}, {}, PRESENT),
    ],
)
def test_three_valued_logic(raw: dict[str, Any], props: dict[str, Any], want: str) -> None:
    assert evaluate(_expr(raw), props) == want


def test_kb_section_and_generated_rules(kb: kbmod.KB, tmp_path: Path) -> None:
    assert len(kb.design_predicates) >= 30
    mits = {p.mitigation for p, _o in kb.design_predicates.values()}
    for m in mits:
        assert f"sckb-design:{m}" in kb.nodes, m
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_design_rules.py"), "--check"], check=False)
    assert r.returncode == 0, "mappings/rules/sckb-design.yaml is stale: run tools/gen_design_rules.py"
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "p.yaml").write_text(
        "design_predicates:\n  - id: bad\n    mitigation: no-such-mitigation\n    title: t\n    subject: function\n"
        "    rationale: r\n    check: {property: x, op: exists}\n"
    )
    problems = [p.message for p in kbmod.load([overlay]).problems]
    assert any("unknown mitigation 'no-such-mitigation'" in m for m in problems)


def test_multicloud_terraform(kb: kbmod.KB) -> None:
    res = run_check(kb, DATA / "multicloud", "serverless", today=TODAY)
    v = {(x.name, x.predicate): x.status for x in res.verdicts}
    assert v[("google_cloudfunctions2_function.api HTTPS trigger", "design-http-trigger-auth")] == ABSENT  # allUsers
    assert v[("google_cloudfunctions2_function.api", "design-no-plain-secrets")] == ABSENT  # DB_PASSWORD literal
    assert v[("google_cloudfunctions2_function.api", "design-tracing")] == UNKNOWN  # not visible for gcp
    assert v[("azurerm_linux_function_app.app", "design-tracing")] == PRESENT  # Application Insights
    assert v[("azurerm_linux_function_app.app", "design-supported-runtime")] == ABSENT  # python 3.8
    assert v[("azurerm_linux_function_app.app HTTP triggers", "design-http-trigger-auth")] == UNKNOWN  # authLevel in code
    assert v[("aws_apigatewayv2_route.get", "design-api-auth")] == PRESENT  # JWT
    assert v[("aws_lambda_function.fn", "design-concurrency")] == PRESENT
    kinds = {(p["kind"], p["function"]) for p in res.paths}
    assert ("plain-secret", "google_cloudfunctions2_function.api") in kinds
    assert ("deprecated-runtime", "azurerm_linux_function_app.app") in kinds


@pytest.mark.skipif(not (SHARED / "iac").is_dir(), reason="../shared/iac not available")
def test_classification_file(kb: kbmod.KB, tmp_path: Path) -> None:
    shutil.copy(SHARED / "iac" / "dvsa" / "template.yml", tmp_path / "template.yml")
    (tmp_path / "sckb.yaml").write_text(
        "classification:\n  default: {sensitive: false}\n  resources:\n    OrdersTable: {phi: true}\n"
    )
    res = run_check(kb, tmp_path / "template.yml", "hipaa", today=TODAY)
    stores = {s.name: s.props for s in res.design.of_kind("datastore")}
    assert stores["OrdersTable"]["phi"] is True and stores["UsersTable"]["sensitive"] is False
    v = {(x.name, x.predicate): x.status for x in res.verdicts}
    assert v[("OrdersTable", "design-store-encryption")] == ABSENT  # PHI needs a customer-managed key
    assert v[("UsersTable", "design-store-encryption")] == PRESENT
    admin = [p for p in res.paths if p["kind"] == "public-data-access" and p["function"] == "AdminShellFunction"]
    assert admin and admin[0]["datastores"] == ["OrdersTable"]  # non-sensitive stores drop out of the path
    assert any(c["kind"] == "safeguard" for c in res.controls.values())


@pytest.mark.skipif(not (SHARED / "iac").is_dir(), reason="../shared/iac not available")
def test_evidence_sarif_and_outputs(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    tmpl = str(SHARED / "iac" / "sp-lambda-function-url-terraform")
    runner = CliRunner()
    r = runner.invoke(main, ["--now", "2026-11-30", "--workspace", str(ws), "design", "check", tmpl, "--evidence", "--json"])
    assert r.exit_code == 0, r.output
    sarifs = list((ws / "design").glob("*.sarif"))
    assert len(sarifs) == 1
    doc = json.loads(sarifs[0].read_text())
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0" and run["tool"]["driver"]["name"] == "sckb-design"
    assert run["properties"]["method"] == "EXAMINE"
    assert {x["kind"] for x in run["results"]} <= {"pass", "fail", "review"}
    assert any(x["ruleId"] == "function-url-authentication" and x["kind"] == "pass" for x in run["results"])
    assert (ws / "evidence.db").is_file()
    assert any(
        x["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "aws_lambda_function.lambda_function"
        for x in run["results"]
    )
    from compliance.evidence.store import Store

    with Store.open(ws, create=False) as store:
        found = list(store.findings(tool="sckb-design"))
    assert len(found) == len(run["results"])
    url = [f for f in found if f.rule_id == "function-url-authentication"]
    assert url and url[0].mitigations == ("function-url-authentication",) and url[0].mapped_by == "rule"
    # design evidence is an examination of the design, not a test of the running system
    assert {f.method for f in found} == {"EXAMINE"}
    md1 = runner.invoke(main, ["--now", "2026-11-30", "design", "check", tmpl, "--markdown"]).output
    md2 = runner.invoke(main, ["--now", "2026-11-30", "design", "check", tmpl, "--markdown"]).output
    assert md1 == md2 and "## Attack paths" in md1
    table = runner.invoke(main, ["--now", "2026-11-30", "design", "check", tmpl, "--scope", "nist-high"])
    assert table.exit_code == 0 and "Mitigations" in table.output


def test_ten_thousand_resources(kb: kbmod.KB, tmp_path: Path) -> None:
    lines = ["Resources:"]
    for i in range(5000):
        lines += [
            f"  Q{i}:",
            "    Type: AWS::SQS::Queue",
            f"  F{i}:",
            "    Type: AWS::Lambda::Function",
            "    Properties:",
            "      Runtime: python3.12",
            f"      Role: !GetAtt R{i % 10}.Arn",
            "      ReservedConcurrentExecutions: !Ref Missing" if i == 0 else "      Timeout: 5",
        ]
    for i in range(10):
        lines += [
            f"  R{i}:",
            "    Type: AWS::IAM::Role",
            "    Properties:",
            "      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonSQSFullAccess]",
        ]
    path = tmp_path / "big.yaml"
    path.write_text("\n".join(lines) + "\n")
    res = run_check(kb, path, "serverless", today=TODAY)
    assert len(res.design.of_kind("function")) == 5000
    v = {(x.name, x.predicate): x.status for x in res.verdicts}
    assert v[("F0", "design-concurrency")] == UNKNOWN and v[("F1", "design-concurrency")] == ABSENT
    assert v[("F1", "design-least-privilege")] == ABSENT  # AmazonSQSFullAccess


def test_bad_inputs_one_line(tmp_path: Path) -> None:
    cases = {
        "bad.yaml": "Resources:\n  A: [unclosed\n",
        "notatemplate.yaml": "just: a mapping\n",
        "selfref.yaml": "Resources:\n  A:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: !GetAtt A.QueueName}\n",
    }
    runner = CliRunner()
    for name, text in cases.items():
        p = tmp_path / name
        p.write_text(text)
        r = runner.invoke(main, ["design", "check", str(p)])
        assert r.exit_code == 3, (name, r.output)
        lines = [ln for ln in r.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and name in lines[0] and "Traceback" not in r.output
    bicep = tmp_path / "only-bicep"
    bicep.mkdir()
    (bicep / "main.bicep").write_text("param location string = resourceGroup().location\n")
    r = runner.invoke(main, ["design", "check", str(bicep)])
    assert r.exit_code == 3 and "Bicep files are not read" in r.output
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "bad.tf").write_text('resource "aws_lambda_function" "x" {\n  runtime = \n')
    (folder / "sub").mkdir()
    (folder / "sub" / "ok.yaml").write_text(
        "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties: {Runtime: python3.12}\n"
    )
    r = runner.invoke(main, ["design", "check", str(folder), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["summary"]["partial"] is True and any("invalid HCL" in w for w in data["warnings"])
    assert data["summary"]["functions"] == 1


def test_serverless_file_includes_and_graphml(kb: kbmod.KB, tmp_path: Path) -> None:
    (tmp_path / "res").mkdir()
    (tmp_path / "serverless.yml").write_text(
        "service: demo\nprovider:\n  name: aws\n  runtime: python3.12\n  environment:\n    API_TOKEN: ${ssm:/demo/token}\n"
        "functions: ${file(res/functions.yaml)}\nresources:\n  - ${file(res/tables.yaml)}\n  - ${file(res/missing.yaml)}\n"
    )
    (tmp_path / "res" / "functions.yaml").write_text(
        "hello:\n  handler: h.handler\n  reservedConcurrency: 5\n  environment:\n    DB_PASSWORD: s3cr3t-value\n"
        "  events:\n    - httpApi: {method: GET, path: /hello}\n"
    )
    (tmp_path / "res" / "tables.yaml").write_text(
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {TableName: t}\n"
    )
    res = run_check(kb, tmp_path, "serverless", today=TODAY)
    assert [f.name for f in res.design.of_kind("function")] == ["hello"]
    assert [s.name for s in res.design.of_kind("datastore")] == ["T"]  # the included file is not read twice
    assert any("missing.yaml not found" in w for w in res.design.warnings)
    fn = res.design.of_kind("function")[0]
    assert fn.props["secret_env_names"] == ["DB_PASSWORD"]  # API_TOKEN comes from SSM: not a plain secret
    out = tmp_path / "g.graphml"
    r = CliRunner().invoke(main, ["design", "check", str(tmp_path), "--graphml", str(out), "--json"])
    assert r.exit_code == 0, r.output
    import networkx as nx

    g = nx.read_graphml(out)
    kinds = {d["kind"] for _n, d in g.nodes(data=True)}
    assert {"function", "route", "role", "datastore"} <= kinds


def test_json_template_tags_and_unknowns(kb: kbmod.KB, tmp_path: Path) -> None:
    doc = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Trace": {"Type": "String"}, "Mem": {"Type": "Number", "Default": 512}},
        "Resources": {
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {"TableName": "patients", "Tags": [{"Key": "phi", "Value": "true"}]},
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [
                        {
                            "PolicyName": "p",
                            "PolicyDocument": {
                                "Statement": [
                                    {
                                        "Effect": "Allow",
                                        "Action": ["dynamodb:PutItem"],
                                        "Resource": {"Fn::GetAtt": ["Table", "Arn"]},
                                    }
                                ]
                            },
                        }
                    ]
                },
            },
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "nodejs16.x",
                    "MemorySize": {"Ref": "Mem"},
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "TracingConfig": {"Mode": {"Ref": "Trace"}},
                    "KmsKeyArn": {"Fn::ImportValue": "key"},
                    "Environment": {"Variables": {"TABLE": {"Ref": "Table"}}},
                },
            },
            "Url": {
                "Type": "AWS::Lambda::Url",
                "Properties": {"TargetFunctionArn": {"Fn::GetAtt": ["Fn", "Arn"]}, "AuthType": "NONE"},
            },
        },
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(doc))
    res = run_check(kb, path, "hipaa", today=TODAY)
    fn = res.design.elements["function:template.json#Fn"]
    assert fn.props["memory"] == 512
    v = {(x.name, x.predicate): x for x in res.verdicts}
    assert v[("Fn", "design-tracing")].status == UNKNOWN and "Trace" in str(v[("Fn", "design-tracing")].reason)
    assert v[("Fn", "design-env-encryption")].status == UNKNOWN  # Fn::ImportValue is not evaluated
    assert v[("Fn", "design-function-url-auth")].status == ABSENT
    assert v[("Fn", "design-supported-runtime")].status == ABSENT  # nodejs16.x deprecated 2024-06-12
    assert v[("Table", "design-store-encryption")].status == ABSENT  # tagged phi, no customer-managed key
    path_ = next(p for p in res.paths if p["kind"] == "public-data-access")
    assert path_["chain"][0]["kind"] == "function-url" and path_["datastores"] == ["Table"] and path_["severity"] == "high"
    # function-url-authentication (which would break the chain) maps to 164.312(d) person or entity authentication
    assert "164.312(d)" in path_["safeguards_at_risk"] and "function-url-authentication" in path_["breaks_with"]


def test_circular_variables_are_unknown_not_a_hang(kb: kbmod.KB, tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "service: loop\ncustom:\n  a: ${self:custom.b}\n  b: ${self:custom.a}\nprovider:\n  name: aws\n"
        "  runtime: ${self:custom.a}\nfunctions:\n  f:\n    handler: x.y\n"
    )
    (tmp_path / "main.tf").write_text(
        "locals {\n  a = local.b\n  b = local.a\n}\n"
        'resource "aws_lambda_function" "g" {\n  runtime = local.a\n  role = "arn:aws:iam::1:role/x"\n}\n'
    )
    res = run_check(kb, tmp_path, "serverless", today=TODAY)
    v = {(x.name, x.predicate): x.status for x in res.verdicts}
    assert v[("f", "design-supported-runtime")] == UNKNOWN
    assert v[("aws_lambda_function.g", "design-supported-runtime")] == UNKNOWN
    assert v[("aws_lambda_function.g", "design-least-privilege")] == UNKNOWN  # role defined outside the design


def test_openapi_security_and_default_authorizer(kb: kbmod.KB, tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: prod\n"
        "      Auth: {DefaultAuthorizer: Jwt, Authorizers: {Jwt: {UserPoolArn: arn:aws:cognito-idp:::userpool/x}}}\n"
        "      MethodSettings: [{HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 10, ThrottlingBurstLimit: 5}]\n"
        "      DefinitionBody:\n        openapi: 3.0.1\n        paths:\n"
        "          /open:\n            get:\n              security: []\n"
        "              x-amazon-apigateway-integration:\n                type: aws_proxy\n"
        "                uri: !Sub 'arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations'\n"
        "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.12\n      Handler: a.b\n"
        "      Events:\n        Closed: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /closed, Method: get}}\n"
        "        Public: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /public, Method: get, Auth: {Authorizer: NONE}}}\n"
    )
    res = run_check(kb, tmp_path / "template.yaml", "serverless", today=TODAY)
    v = {(x.name, x.predicate): x.status for x in res.verdicts}
    assert v[("Api GET /closed", "design-api-auth")] == PRESENT  # the API's default authorizer
    assert v[("Api GET /public", "design-api-auth")] == ABSENT  # Authorizer: NONE on the event
    assert v[("Api GET /open", "design-api-auth")] == ABSENT  # security: [] in the definition
    assert v[("Api GET /closed", "design-throttling")] == PRESENT  # stage method settings


def test_terraform_trust_reads_principals_not_the_default_resource(kb: kbmod.KB, tmp_path: Path) -> None:
    """A data.aws_iam_policy_document's statements get ``Resource: "*"`` by default: in a trust policy that is no
    principal. Only a ``"*"`` under principals, or an account root, fails the trust restriction."""
    doc = (
        'data "aws_iam_policy_document" "{name}" {{\n  statement {{\n    actions = ["sts:AssumeRole"]\n'
        '    principals {{\n      type = "{kind}"\n      identifiers = ["{who}"]\n    }}\n'
        '    condition {{\n      test = "StringEquals"\n      variable = "aws:SourceAccount"\n'
        '      values = ["events.amazonaws.com", "*"]\n    }}\n  }}\n}}\n'
        'resource "aws_iam_role" "{name}" {{\n  assume_role_policy = data.aws_iam_policy_document.{name}.json\n}}\n'
        'resource "aws_lambda_function" "{name}" {{\n  runtime = "python3.12"\n  role = aws_iam_role.{name}.arn\n}}\n'
    )
    (tmp_path / "main.tf").write_text(
        doc.format(name="service", kind="Service", who="lambda.amazonaws.com")
        + doc.format(name="anyone", kind="AWS", who="*")
        + doc.format(name="root", kind="AWS", who="arn:aws:iam::111122223333:root")
    )
    res = run_check(kb, tmp_path, "serverless", today=TODAY)
    v = {(x.name, x.predicate): x.status for x in res.verdicts}
    assert v[("aws_lambda_function.service", "design-trust-restriction")] == PRESENT
    assert v[("aws_lambda_function.anyone", "design-trust-restriction")] == ABSENT
    assert v[("aws_lambda_function.root", "design-trust-restriction")] == ABSENT
    roles = {r.name: r.props["trust"] for r in res.design.of_kind("role")}
    assert roles["aws_iam_role.service"] == ["lambda.amazonaws.com"]  # the condition's service names no principal
