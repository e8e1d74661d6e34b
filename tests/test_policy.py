"""Policy as code: `sckb policy export` (Guard 3, Rego v1), `sckb policy test` with the real engines in-process,
and the OPA / conftest evidence formats mapped back to mitigations."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.evidence.ingest import Ingester
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store
from compliance.kb.core import KB
from compliance.policy.export import export
from compliance.policy.run import compare_policies, rego_interpreter, rego_queries, run_guard, run_rego

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)

SAM = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Tracing: Active
    VpcConfig: {SubnetIds: [subnet-1], SecurityGroupIds: [sg-1]}
    Environment:
      Variables:
        STAGE: prod
Resources:
  Good:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      CodeUri: src/
      Timeout: 30
      ReservedConcurrentExecutions: 5
      KmsKeyArn: arn:aws:kms:us-east-1:111122223333:key/abc
      CodeSigningConfigArn: arn:aws:lambda:us-east-1:111122223333:code-signing-config:csc-1
      DeadLetterQueue: {Type: SQS, TargetArn: arn:aws:sqs:us-east-1:111122223333:dlq}
      VpcConfig: {SubnetIds: [subnet-1], SecurityGroupIds: [sg-1]}
  Bad:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      CodeUri: src/
      Timeout: 900
      Tracing: PassThrough
      VpcConfig: {SecurityGroupIds: [sg-2]}
  Plain:
    Type: AWS::Lambda::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      Code: {ZipFile: "def handler(e, c): pass"}
      Role: arn:aws:iam::111122223333:role/r
      TracingConfig: {Mode: Active}
"""

TF = """\
resource "aws_lambda_function" "good" {
  function_name                  = "good"
  role                           = "arn:aws:iam::111122223333:role/r"
  handler                        = "app.handler"
  runtime                        = "python3.12"
  timeout                        = 60
  reserved_concurrent_executions = 2
  tracing_config {
    mode = "Active"
  }
}

resource "aws_lambda_function" "bad" {
  function_name = "bad"
  role          = "arn:aws:iam::111122223333:role/r"
  handler       = "app.handler"
  runtime       = "python3.12"
  timeout       = 600
  environment {
    variables = { STAGE = "prod" }
  }
}
"""


@pytest.fixture(scope="module")
def kb() -> KB:
    return kbmod.load()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("engine", ["cfn-guard", "rego"])
def test_export_is_deterministic_and_annotated(runner: CliRunner, tmp_path: Path, engine: str) -> None:
    for run in ("a", "b"):
        res = runner.invoke(
            main, ["policy", "export", "--engine", engine, "--scope", "fedramp-moderate", "--out", str(tmp_path / run)]
        )
        assert res.exit_code == 0, res.output
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first == second
    manifest = json.loads(first["manifest.json"])
    assert manifest["engine"] == engine and manifest["rules"]
    # one file per mitigation, named for it; every rule names its predicate, mitigation and severity
    for rule in manifest["rules"]:
        text = first[rule["file"]].decode()
        assert rule["file"].startswith(rule["mitigation"] + ".")
        assert rule["predicate"] in text and rule["severity"] in text
        if engine == "rego":
            assert "# METADATA" in text and f"#   predicate: {rule['predicate']}" in text
        else:
            assert f"rule {rule['rule']} {{" in text and "<<" in text
    tracing = next(r for r in manifest["rules"] if r["predicate"] == "design-tracing")
    assert "AU-12" in tracing["controls"]
    skipped = {s["predicate"]: s["reason"] for s in manifest["not_expressed"]}
    assert "design-tracing" not in skipped
    if engine == "cfn-guard":
        # Guard cannot join resources: routes and roles are listed with the reason
        assert "route" in skipped["design-api-auth"] and "role" in skipped["design-least-privilege"]
    else:
        # the Rego library joins them; only the Azure/Google-only property is left out, with why
        assert set(skipped) == {"design-https-only"} and "Azure" in skipped["design-https-only"]


def test_export_json_and_bad_out(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["policy", "export", "--engine", "rego", "--out", str(tmp_path / "p"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["engine"] == "rego"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = runner.invoke(main, ["policy", "export", "--engine", "rego", "--out", str(blocker / "sub")])
    assert res.exit_code == 3 and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_engines_judge_each_function(kb: KB) -> None:
    guard = export(kb, "cfn-guard", scope="fedramp-moderate")
    rules = "\n\n".join(guard.files.values())
    bad = {"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Timeout": 900}}}}
    good = {
        "Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Timeout": 10, "TracingConfig": {"Mode": "Active"}}}}
    }
    assert run_guard(rules, bad, "t")["design_timeout"] == "fail"
    assert run_guard(rules, good, "t")["design_timeout"] == "pass"
    assert run_guard(rules, good, "t")["design_tracing"] == "pass"
    # no environment: the encryption rule does not apply
    assert run_guard(rules, good, "t")["design_env_encryption"] == "skip"
    # the deprecated runtimes of the export day, in a list the rule file declares once
    guard_then = export(kb, "cfn-guard", scope="fedramp-moderate", today=date(2025, 1, 1))
    text = guard_then.files["supported-runtimes.guard"]
    assert "let sckb_deprecated_runtimes = [" in text and "in %sckb_deprecated_runtimes" in text
    old = {"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "nodejs18.x"}}}}
    assert run_guard("\n\n".join(guard_then.files.values()), old, "t")["design_supported_runtime"] == "pass"
    guard_now = export(kb, "cfn-guard", scope="fedramp-moderate", today=date(2026, 1, 1))
    assert run_guard("\n\n".join(guard_now.files.values()), old, "t")["design_supported_runtime"] == "fail"
    # layer ARNs item by item: a version number, or a Sub whose text ends in one, or a template layer (Ref)
    layered = {
        "Resources": {
            "F": {"Type": "AWS::Lambda::Function", "Properties": {"Layers": ["arn:aws:lambda:us-east-1:111122223333:layer:a:3"]}},
            "G": {"Type": "AWS::Lambda::Function", "Properties": {"Layers": [{"Ref": "L"}, "arn:aws:lambda:::layer:b"]}},
            "H": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Layers": [{"Fn::Sub": "arn:${AWS::Partition}:lambda:::layer:c:7"}]},
            },
        }
    }
    verdicts = {n: run_guard(rules, {"Resources": {n: r}}, "t")["design_pinned_layers"] for n, r in layered["Resources"].items()}
    assert verdicts == {"F": "pass", "G": "fail", "H": "pass"}
    assert run_guard(rules, good, "t")["design_pinned_layers"] == "skip"
    policy = export(kb, "rego", scope="fedramp-moderate")
    got = run_rego(
        rego_interpreter(policy), {"Resources": {**bad["Resources"], "G": good["Resources"]["F"]}}, "t", rego_queries(policy)
    )
    assert got[("F", "design-timeout")] == "fail" and got[("G", "design-timeout")] == "pass"
    assert ("G", "design-env-encryption") not in got


def test_policy_test_agrees_on_sam_and_terraform(runner: CliRunner, tmp_path: Path, kb: KB) -> None:
    (tmp_path / "sam").mkdir()
    (tmp_path / "sam" / "template.yaml").write_text(SAM)
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(TF)
    res = compare_policies(kb, tmp_path, today=TODAY)
    assert res.disagreements() == []
    guard = [p for p in res.pairs if p.engine == "cfn-guard"]
    rego = [p for p in res.pairs if p.engine == "rego"]
    # Guard reads the SAM template (3 functions x its rules); Rego also the Terraform folder (2 functions)
    n_guard = len(export(kb, "cfn-guard", scope="fedramp-moderate").manifest["rules"])  # type: ignore[index]
    rego_rules = export(kb, "rego", scope="fedramp-moderate").manifest["rules"]  # type: ignore[index]
    # the fixtures hold functions only: the store rules judge nothing here
    n_rego = sum(1 for r in rego_rules if kb.design_predicates[r["predicate"]][0].subject == "function")
    assert n_rego > n_guard
    assert len(guard) == 3 * n_guard and len(rego) == 5 * n_rego
    results = {(p.engine, p.resource, p.predicate): p.engine_result for p in res.pairs}
    assert results[("cfn-guard", "Bad", "design-timeout")] == "fail"
    assert results[("cfn-guard", "Good", "design-timeout")] == "pass"
    assert results[("cfn-guard", "Good", "design-tracing")] == "pass"  # from Globals
    assert results[("cfn-guard", "Bad", "design-tracing")] == "fail"  # PassThrough overrides Globals
    assert results[("rego", "Good", "design-vpc")] == "pass"
    # the function's VpcConfig replaces the global one whole (no subnets left), in both engines
    assert results[("rego", "Bad", "design-vpc")] == results[("cfn-guard", "Bad", "design-vpc")] == "fail"
    assert results[("rego", "Good", "design-env-encryption")] == "pass"
    assert results[("rego", "Bad", "design-env-encryption")] == "fail"  # Globals' variables, no key
    assert results[("rego", "Plain", "design-env-encryption")] == "skip"
    assert results[("rego", "aws_lambda_function.good", "design-tracing")] == "pass"
    assert results[("rego", "aws_lambda_function.bad", "design-timeout")] == "fail"
    assert results[("rego", "aws_lambda_function.bad", "design-env-encryption")] == "fail"
    cli = runner.invoke(main, ["--now", "2026-12-01", "policy", "test", str(tmp_path), "--json"])
    assert cli.exit_code == 0, cli.output
    out = json.loads(cli.output)
    rego_counts = out["counts"]["rego"]
    assert rego_counts["agree"] + rego_counts["design_unknown"] == 5 * n_rego and out["disagreements"] == []


def test_policy_test_bad_path(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["policy", "test", str(tmp_path / "missing")])
    assert res.exit_code == 3 and "missing" in res.output and "Traceback" not in res.output


def _projects(shared: Path) -> list[Path]:
    rows = (shared / "iac" / "SOURCES.tsv").read_text(encoding="utf-8").splitlines()[1:]
    names = [r.split("\t")[0] for r in rows if r.strip()]
    out = []
    for n in names:
        d = shared / "iac" / n
        has_cfn = any(
            "Resources" in p.read_text(encoding="utf-8", errors="replace")
            and "AWS::" in p.read_text(encoding="utf-8", errors="replace")
            for p in d.rglob("*.y*ml")
            if "node_modules" not in p.parts
        )
        has_tf = any(d.rglob("*.tf"))
        if has_cfn or has_tf:
            out.append(d)
    return out


def test_shared_iac_agreement(shared: Path, kb: KB) -> None:
    """Every SAM/CloudFormation and Terraform project: both engines run without error, and at least 99% of the
    comparable (resource, predicate) pairs agree with the design check."""
    agree = disagree = 0
    projects = _projects(shared)
    assert len(projects) >= 8
    for d in projects:
        res = compare_policies(kb, d, today=TODAY)
        for engine in ("cfn-guard", "rego"):
            c = res.counts(engine)
            agree += c["agree"]
            disagree += c["disagree"]
    assert agree > 400
    assert agree / (agree + disagree) >= 0.99


def _ingest(tmp_path: Path, name: str, data: Any, kb: KB) -> list[Any]:
    p = tmp_path / name
    p.write_text(json.dumps(data))
    with Store.open(tmp_path / "ws") as store:
        res = Ingester(store, Mapper(kb), NOW).ingest_file(p)
        found = list(store.findings())
    assert res.error is None, res.error
    return found


def test_opa_eval_output_maps_to_mitigations(tmp_path: Path, kb: KB) -> None:
    interp = rego_interpreter(export(kb, "rego", scope="fedramp-moderate"))
    doc = {
        "Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Timeout": 900, "TracingConfig": {"Mode": "Active"}}}}
    }
    interp.set_input_term(json.dumps(doc))
    tree = json.loads(str(interp.query("data.sckb")))["expressions"][0]
    # the document `opa eval --format json 'data.sckb'` prints
    out = {"result": [{"expressions": [{"value": tree, "text": "data.sckb", "location": {"row": 1, "col": 1}}]}]}
    found = _ingest(tmp_path, "opa.json", out, kb)
    assert {f.tool for f in found} == {"opa"}
    timeout = next(f for f in found if f.rule_id == "design-timeout")
    assert (timeout.result, timeout.resource, timeout.mitigations) == ("fail", "F", ("function-timeouts",))
    tracing = next(f for f in found if f.rule_id == "design-tracing")
    assert tracing.result == "pass" and tracing.mitigations == ("distributed-tracing",)


def test_conftest_json_maps_to_mitigations(tmp_path: Path, kb: KB) -> None:
    out = [
        {
            "filename": "template.json",
            "namespace": "sckb.function_timeouts",
            "successes": 1,
            "failures": [
                {
                    "msg": "[design-timeout] Function timeout is at most 300 seconds. Fix: lower Timeout.",
                    "metadata": {"query": "data.sckb.function_timeouts.violation", "resource": "F"},
                }
            ],
            "warnings": [],
        }
    ]
    found = _ingest(tmp_path, "conftest.json", out, kb)
    assert len(found) == 1
    f = found[0]
    assert (f.tool, f.rule_id, f.result, f.mitigations) == ("conftest", "design-timeout", "fail", ("function-timeouts",))
    assert f.file == "template.json" and f.resource == "F"


EIC = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      Role: arn:aws:iam::111122223333:role/r
      Code: {ZipFile: "def handler(e, c): pass"}
  FnInvokeConfig:
    Type: AWS::Lambda::EventInvokeConfig
    Properties:
      FunctionName: !Ref Fn
      Qualifier: $LATEST
      DestinationConfig:
        OnFailure: {Destination: arn:aws:sqs:us-east-1:111122223333:failed}
"""


def test_policy_test_reports_a_disagreement(runner: CliRunner, tmp_path: Path) -> None:
    """Guard's limit: an on-failure destination in a resource of its own is seen by the design check and by the
    Rego library (which join resources), not by a Guard rule on the function; `policy test` names the pair and
    exits 1."""
    (tmp_path / "template.yaml").write_text(EIC)
    res = runner.invoke(main, ["policy", "test", str(tmp_path), "--json"])
    assert res.exit_code == 1
    out = json.loads(res.output[: res.output.rindex("}") + 1])
    assert {(d["engine"], d["resource"], d["predicate"], d["design"], d["engine_result"]) for d in out["disagreements"]} == {
        ("cfn-guard", "Fn", "design-dlq", "present", "fail"),
    }


JOINS = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: prod}
Resources:
  SharedRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {AWS: "arn:aws:iam::444455556666:root"}, Action: sts:AssumeRole}
      ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]
  Extra:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: extra
      Roles: [!Ref SharedRole]
      PolicyDocument:
        Statement:
          - {Effect: Allow, Action: "s3:*", Resource: "*"}
  A:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: fn-a
      Runtime: python3.6
      Handler: app.handler
      Role: !GetAtt SharedRole.Arn
      Code: {ZipFile: "x"}
      Layers: [arn:aws:lambda:us-east-1:111122223333:layer:shared]
  B:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Role: !GetAtt SharedRole.Arn
      Code: {ZipFile: "x"}
      Environment:
        Variables: {DB_PASSWORD: hunter2hunter2, TABLE: !Ref Stage}
  C:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      AutoPublishAlias: live
      PermissionsBoundary: arn:aws:iam::111122223333:policy/boundary
      Policies:
        - DynamoDBCrudPolicy: {TableName: "*"}
      FunctionUrlConfig: {AuthType: NONE, Cors: {AllowOrigins: ["*"]}}
  AVersion:
    Type: AWS::Lambda::Version
    Properties: {FunctionName: !Ref A}
  AGroup:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: /aws/lambda/fn-a, RetentionInDays: 14}
  AAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{Name: FunctionName, Value: !Ref A}]
  BUrl:
    Type: AWS::Lambda::Url
    Properties: {TargetFunctionArn: !GetAtt B.Arn, AuthType: AWS_IAM}
  BInvoke:
    Type: AWS::Lambda::Permission
    Properties: {FunctionName: !Ref B, Action: lambda:InvokeFunction, Principal: s3.amazonaws.com}
"""


def test_rego_joins_resources_like_the_design_check(kb: KB, tmp_path: Path) -> None:
    """Roles, policies, log groups, alarms, URLs, permissions and versions in resources of their own reach the
    function they name, in the Rego library as in the design check; every pair agrees."""
    (tmp_path / "template.yaml").write_text(JOINS)
    res = compare_policies(kb, tmp_path, today=TODAY, engines=("rego",))
    assert res.disagreements() == []
    got = {(p.resource, p.predicate): p.engine_result for p in res.pairs}
    expected = {
        ("A", "design-least-privilege"): "fail",  # AdministratorAccess on the shared role
        ("B", "design-no-wildcard-permissions"): "fail",  # s3:* from the AWS::IAM::Policy naming the role
        ("A", "design-dedicated-role"): "fail",  # A and B share it
        ("A", "design-trust-restriction"): "fail",  # a whole foreign account
        ("A", "design-published-versions"): "pass",  # AWS::Lambda::Version
        ("B", "design-published-versions"): "fail",
        ("C", "design-published-versions"): "pass",  # AutoPublishAlias
        ("A", "design-log-retention"): "pass",  # /aws/lambda/fn-a
        ("B", "design-log-retention"): "fail",
        ("A", "design-alarms"): "pass",
        ("B", "design-function-url-auth"): "pass",  # AWS::Lambda::Url, AWS_IAM
        ("C", "design-function-url-auth"): "fail",  # FunctionUrlConfig, NONE
        ("C", "design-function-url-cors"): "fail",
        ("B", "design-invoke-policy"): "fail",  # no SourceArn / SourceAccount
        ("A", "design-supported-runtime"): "fail",  # python3.6
        ("B", "design-supported-runtime"): "pass",
        ("B", "design-no-plain-secrets"): "fail",  # DB_PASSWORD holds a literal
        ("A", "design-no-plain-secrets"): "pass",
        ("A", "design-pinned-layers"): "fail",  # no version on the layer ARN
        ("C", "design-no-wildcard-permissions"): "fail",  # DynamoDBCrudPolicy on every table
        ("C", "design-permission-boundary"): "pass",
        ("C", "design-dedicated-role"): "pass",  # SAM's generated role
    }
    assert {k: got.get(k) for k in expected} == expected
    # what no resource decides is not judged
    assert ("A", "design-function-url-auth") not in got or got[("A", "design-function-url-auth")] == "skip"


def test_rego_runtime_check_reads_the_clock_it_is_given(kb: KB) -> None:
    """The deprecation dates ship in the library; the day compared is data.sckb_clock.today when given."""
    policy = export(kb, "rego", scope="fedramp-moderate")
    doc = {"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "nodejs18.x"}}}}
    before = run_rego(rego_interpreter(policy, date(2025, 1, 1)), doc, "t", rego_queries(policy))
    after = run_rego(rego_interpreter(policy, date(2026, 1, 1)), doc, "t", rego_queries(policy))
    assert before[("F", "design-supported-runtime")] == "pass"
    assert after[("F", "design-supported-runtime")] == "fail"


def test_rego_reads_references_from_a_terraform_plans_configuration(kb: KB) -> None:
    """A `terraform show -json` plan leaves values known only after apply (a role's ARN) out of planned_values;
    the library follows the configuration's references instead."""
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    {"address": "aws_lambda_function.f", "mode": "managed", "type": "aws_lambda_function", "name": "f",
                     "values": {"function_name": "f", "runtime": "python3.12", "timeout": 30}},
                    {"address": "aws_iam_role.r", "mode": "managed", "type": "aws_iam_role", "name": "r",
                     "values": {"managed_policy_arns": ["arn:aws:iam::aws:policy/AdministratorAccess"],
                                "assume_role_policy": json.dumps({"Statement": [
                                    {"Effect": "Allow", "Action": "sts:AssumeRole",
                                     "Principal": {"Service": "lambda.amazonaws.com"}}]})}},
                    {"address": "aws_lambda_permission.p", "mode": "managed", "type": "aws_lambda_permission",
                     "name": "p", "values": {"principal": "s3.amazonaws.com", "source_account": "111122223333"}},
                ]
            }
        },
        "configuration": {
            "root_module": {
                "resources": [
                    {"address": "aws_lambda_function.f",
                     "expressions": {"role": {"references": ["aws_iam_role.r.arn", "aws_iam_role.r"]}}},
                    {"address": "aws_lambda_permission.p",
                     "expressions": {"function_name": {"references": ["aws_lambda_function.f.function_name",
                                                                      "aws_lambda_function.f"]}}},
                ]
            }
        },
    }  # fmt: skip
    policy = export(kb, "rego", scope="fedramp-moderate")
    got = run_rego(rego_interpreter(policy, TODAY), plan, "plan.json", rego_queries(policy))
    f = "aws_lambda_function.f"
    assert got[(f, "design-least-privilege")] == "fail"  # AdministratorAccess on the referenced role
    assert got[(f, "design-trust-restriction")] == "pass"
    assert got[(f, "design-dedicated-role")] == "pass"
    assert got[(f, "design-invoke-policy")] == "pass"  # the permission names a source account
    assert got[(f, "design-timeout")] == "pass"


STORES = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      SSESpecification: {SSEEnabled: true, KMSMasterKeyId: alias/orders}
      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
      Tags: [{Key: phi, Value: "true"}]
  Uploads:
    Type: AWS::S3::Bucket
  UploadsPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Uploads
      PolicyDocument:
        Statement:
          - {Effect: Allow, Principal: "*", Action: s3:PutObject, Resource: "*"}
  Jobs:
    Type: AWS::SQS::Queue
    Properties: {KmsMasterKeyId: alias/jobs}
  Key:
    Type: AWS::SecretsManager::Secret
  KeyRotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties: {SecretId: !Ref Key, RotationRules: {AutomaticallyAfterDays: 30}}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Events:
        Upload: {Type: S3, Properties: {Bucket: !Ref Uploads, Events: s3:ObjectCreated:*}}
"""


def test_rego_judges_data_stores(kb: KB, tmp_path: Path) -> None:
    """Store records: encryption, backup, resource policies (public write, TLS), rotation schedules, PHI tags and
    the triggers that make a store emit events, joined as the design check joins them."""
    (tmp_path / "template.yaml").write_text(STORES)
    res = compare_policies(kb, tmp_path, today=TODAY, engines=("rego",))
    assert res.disagreements() == []
    got = {(p.resource, p.predicate): p.engine_result for p in res.pairs}
    expected = {
        ("Orders", "design-store-encryption"): "pass",  # PHI (tag) with a customer-managed key
        ("Orders", "design-store-backup"): "pass",
        ("Uploads", "design-store-backup"): "fail",
        ("Uploads", "design-bucket-tls"): "fail",
        ("Uploads", "design-event-source-auth"): "fail",  # anyone may write, and it triggers Worker
        ("Jobs", "design-queue-protection"): "pass",
        ("Jobs", "design-event-source-auth"): "skip",  # triggers nothing
        ("Key", "design-secret-rotation"): "pass",
    }
    assert {k: got.get(k) for k in expected} == expected


ROUTES = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Api:
    Cors: {AllowOrigin: "'*'"}
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      Auth: {DefaultAuthorizer: Jwt, Authorizers: {Jwt: {UserPoolArn: arn:aws:cognito-idp:us-east-1:111122223333:userpool/p}}}
      MethodSettings: [{HttpMethod: "*", ResourcePath: "/*", ThrottlingRateLimit: 10}]
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /items, Method: get}}
        Open: {Type: Api, Properties: {Path: /open, Method: post, RequestModel: {Model: Item, Required: true}}}
"""


def test_rego_judges_api_routes(kb: KB, tmp_path: Path) -> None:
    """Route records from SAM events with what their API gives them (default authorizer, throttling, CORS from
    Globals.Api), named as the design check names them."""
    (tmp_path / "template.yaml").write_text(ROUTES)
    res = compare_policies(kb, tmp_path, today=TODAY, engines=("rego",))
    assert res.disagreements() == []
    got = {(p.resource, p.predicate): p.engine_result for p in res.pairs}
    expected = {
        ("Api GET /items", "design-api-auth"): "pass",  # the API's default authorizer
        ("Api GET /items", "design-throttling"): "pass",
        ("Api GET /items", "design-cors"): "fail",  # Globals.Api allows every origin
        ("ServerlessRestApi POST /open", "design-api-auth"): "fail",
        ("ServerlessRestApi POST /open", "design-request-validation"): "pass",
        ("ServerlessRestApi POST /open", "design-waf"): "fail",
    }
    assert {k: got.get(k) for k in expected} == expected


def test_an_evaluation_error_is_one_engine_error() -> None:
    """rego-cpp reports an error met while evaluating (here: recursion) as text regopy cannot parse; it surfaces
    as one EngineError naming the input, not a traceback from the JSON decoder."""
    from compliance.policy.export import Policy
    from compliance.policy.run import EngineError

    broken = (
        "package sckb.x\n\nf(v) := g(v)\n\ng(v) := f(v)\n\nr_passing := {n | some n in input.names; f(n)}\n\nr_failing := set()\n"
    )
    interp = rego_interpreter(Policy("rego", files={"x.rego": broken}))
    with pytest.raises(EngineError, match=r"t\.json: rego: the evaluation failed"):
        run_rego(interp, {"names": ["a"]}, "t.json", [("p", "data.sckb.x.r")])
