"""Design check on real templates from ../shared/iac with hand-worked expectations, bad input, Checkov agreement."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance import kb as kbmod
from compliance.cli import main
from compliance.design.check import run_check
from compliance.errors import InputError

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
IAC = SHARED / "iac"
DATA = Path(__file__).resolve().parent / "data" / "design"
TODAY = date(2026, 11, 30)
pytestmark = pytest.mark.skipif(not IAC.is_dir(), reason="../shared/iac not available")


@pytest.fixture(scope="module")
def kb() -> kbmod.KB:
    return kbmod.load([])


def _verdicts(res, name: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {v.predicate: v.status for v in res.verdicts if v.name == name}


def test_sam_dvsa(kb: kbmod.KB) -> None:
    res = run_check(kb, IAC / "dvsa" / "template.yml", "fedramp-moderate", today=TODAY)
    names = {f.name for f in res.design.of_kind("function")}
    assert len(names) == 26 and {"AdminShellFunction", "OrderManagerFunction", "UserCreateFunction"} <= names
    admin = _verdicts(res, "AdminShellFunction")
    assert admin["design-least-privilege"] == "absent"  # AmazonDynamoDBFullAccess, AWSLambda_FullAccess
    assert admin["design-tracing"] == "absent" and admin["design-supported-runtime"] == "absent"  # nodejs18.x
    route = _verdicts(res, "ApiGatewayApi POST /admin")
    assert route["design-api-auth"] == "absent" and route["design-cors"] == "absent"
    assert res.mitigations["api-authentication"] == "absent"
    crit = [p for p in res.paths if p["kind"] == "public-data-access" and p["function"] == "AdminShellFunction"]
    assert len(crit) == 1 and crit[0]["datastores"] == ["OrdersTable", "UsersTable"]
    assert crit[0]["severity"] == "critical" and "AC-6" in crit[0]["controls_at_risk"]
    assert "164.312(a)(1)" in crit[0]["safeguards_at_risk"]
    assert res.controls["AC-6"]["status"] == "unmet"


def test_serverless_framework(kb: kbmod.KB) -> None:
    res = run_check(kb, IAC / "slsex-aws-node-rest-api-with-dynamodb", "serverless", today=TODAY)
    assert {f.name for f in res.design.of_kind("function")} == {"create", "list", "get", "update", "delete"}
    v = _verdicts(res, "create")
    assert v["design-dedicated-role"] == "absent"  # one provider-level role shared by five functions
    assert v["design-no-wildcard-permissions"] == "present"
    assert any(p["kind"] == "denial-of-wallet" and p["function"] == "create" for p in res.paths)
    # the shared role may change the todos table; every route is unauthenticated
    path = next(p for p in res.paths if p["kind"] == "public-data-access" and p["function"] == "create")
    assert path["datastores"] == ["TodosDynamoDbTable"] and path["access"] == "write" and path["severity"] == "high"
    assert path["chain"][0]["name"] == "ServerlessRestApi POST /todos"


def test_terraform_module(kb: kbmod.KB) -> None:
    res = run_check(kb, IAC / "sp-s3-lambda-dynamodb-terraform", "fedramp-moderate", today=TODAY)
    assert [f.name for f in res.design.of_kind("function")] == ["aws_lambda_function.test_lambda"]
    v = _verdicts(res, "aws_lambda_function.test_lambda")
    assert v["design-no-wildcard-permissions"] == "absent"  # dynamodb:* actions on Resource "*"
    assert v["design-vpc"] == "absent" and v["design-supported-runtime"] == "present"
    assert [p["kind"] for p in res.paths] == ["wildcard-permissions"]


def test_arm_function_app(kb: kbmod.KB) -> None:
    res = run_check(kb, IAC / "azarm-function-app-vnet-integration", "hipaa", today=TODAY)
    (fn,) = res.design.of_kind("function")
    assert fn.provider == "azure" and fn.name == "[format('func-{0}', uniqueString(resourceGroup().id))]"
    v = _verdicts(res, fn.name)
    assert v["design-https-only"] == "absent"  # httpsOnly not set
    assert v["design-tracing"] == "present"  # APPINSIGHTS_INSTRUMENTATIONKEY
    assert v["design-vpc"] == "present"  # Microsoft.Web/sites/networkConfig (VNet integration)
    assert v["design-no-plain-secrets"] == "absent"  # storage account key from listKeys() in AzureWebJobsStorage
    assert v["design-supported-runtime"] == "unknown"  # linuxFxVersion depends on if(isReserved, ...)
    secret = next(p for p in res.paths if p["kind"] == "plain-secret")
    assert "AzureWebJobsStorage" in secret["variables"]


def test_function_url_terraform(kb: kbmod.KB) -> None:
    res = run_check(kb, IAC / "sp-lambda-function-url-terraform", "nist-moderate", today=TODAY)
    assert _verdicts(res, "aws_lambda_function.lambda_function")["design-function-url-auth"] == "present"


def test_bad_input(kb: kbmod.KB, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="circular reference between resources"):
        run_check(kb, DATA / "circular.yaml", "serverless", today=TODAY)
    with pytest.raises(InputError, match="invalid HCL"):
        run_check(kb, DATA / "invalid.tf", "serverless", today=TODAY)
    odd = tmp_path / "odd.yaml"
    odd.write_text(
        "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: !Bogus x\n      Role: !GetAtt R.Arn\n"
        "  R:\n    Type: AWS::IAM::Role\n"
    )
    res = run_check(kb, odd, "serverless", today=TODAY)
    assert any("unknown intrinsic function Fn::Bogus" in w for w in res.design.warnings)
    assert _verdicts(res, "F")["design-supported-runtime"] == "unknown"
    r = CliRunner().invoke(main, ["design", "check", str(DATA / "circular.yaml")])
    assert r.exit_code == 3 and "Traceback" not in r.output


def test_cli_json(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["--now", "2026-11-30", "design", "check", str(IAC / "dvsa" / "template.yml"), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["summary"]["functions"] == 26 and data["attack_paths"]


CHECKOV_EQUIV = {
    "CKV_AWS_50": "design-tracing",
    "CKV_AWS_116": "design-dlq",
    "CKV_AWS_115": "design-concurrency",
    "CKV_AWS_173": "design-env-encryption",
    "CKV_AWS_117": "design-vpc",
    "CKV_AWS_272": "design-code-signing",
    "CKV_AWS_258": "design-function-url-auth",
    "CKV_AWS_45": "design-no-plain-secrets",
    "CKV_AZURE_70": "design-https-only",
    "CKV_AZURE_57": "design-cors",
}


def test_agreement_with_checkov(kb: kbmod.KB) -> None:
    corpus = SHARED / "corpus" / "checkov-json"
    agree = total = skipped = 0
    for report in sorted(corpus.glob("*__results_json.json")):
        project = report.name.split("__")[0]
        if not (IAC / project).is_dir():
            continue
        data = json.loads(report.read_text())
        runs = data if isinstance(data, list) else [data]
        try:
            res = run_check(kb, IAC / project, "serverless", today=TODAY)
        except InputError:  # ARM/Bicep-only projects: not read by the design check
            continue
        by_name: dict[tuple[str, str], str] = {}
        for v in res.verdicts:
            by_name[(v.name.split(".")[-1], v.predicate)] = v.status
            by_name[(v.name, v.predicate)] = v.status
        for run in runs:
            for key, want in (("passed_checks", "present"), ("failed_checks", "absent")):
                for c in (run.get("results") or {}).get(key, []):
                    pred = CHECKOV_EQUIV.get(c["check_id"])
                    if pred is None:
                        continue
                    arm = re.match(r"^Microsoft\.[A-Za-z]+/[A-Za-z/]+\.(.*)$", str(c["resource"]))  # ARM type has a dot
                    name = arm.group(1) if arm else str(c["resource"]).split(".", 1)[-1]
                    got = by_name.get((name, pred))
                    if got is None:  # an Azure function app's HTTP triggers are a route element of their own
                        got = by_name.get((name + " HTTP triggers", pred))
                    if got is None and c["check_id"] == "CKV_AWS_258":
                        got = next((s for (n, p), s in by_name.items() if p == pred), None)
                    if got in (None, "unknown"):
                        skipped += 1
                        continue
                    total += 1
                    agree += got == want
    rate = agree / total if total else 0.0
    print(f"agreement with Checkov: {agree}/{total} = {rate:.1%} ({skipped} Checkov verdicts not compared: ours unknown)")
    assert total >= 50 and rate >= 0.9


# ----------------------------------------------------------------------------- design check as a CI gate (issue 23)

PHI = Path(__file__).resolve().parents[1] / "examples" / "phi-app" / "template.yaml"


def _design(*args: str) -> object:
    return CliRunner().invoke(main, ["design", "check", str(PHI), *args])


def test_scopes_repeat_and_add_up() -> None:
    one = json.loads(_design("--scope", "fedramp-moderate", "--json").stdout)
    both = json.loads(_design("--scope", "fedramp-moderate", "--scope", "hipaa", "--json").stdout)
    assert both["scope"] == "fedramp-moderate + hipaa"
    assert {c["id"] for c in one["controls"]} < {c["id"] for c in both["controls"]}


def test_fail_on_gates_attack_paths_and_unmet_controls() -> None:
    data = json.loads(_design("--json").stdout)
    severities = {p["severity"] for p in data["attack_paths"]}
    assert "critical" in severities  # the example grants a wildcard role
    r = _design("--fail-on", "critical")
    assert r.exit_code == 1 and "gate failed: " in r.stderr and "critical" in r.stderr
    assert _design().exit_code == 0  # no gate, no failure
    unmet = [c for c in data["controls"] if c["status"] == "unmet"]
    r = _design("--fail-on", "unmet")
    assert (r.exit_code == 1) == bool(unmet) and (f"{len(unmet)} control(s) unmet" in r.stderr) == bool(unmet)


def test_sarif_output_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "design.sarif"
    r = _design("--format", "sarif", "--out", str(out))
    assert r.exit_code == 0, r.output
    sarif = json.loads(out.read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "sckb-design" and run["results"]


def test_a_design_without_functions_is_an_error(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Bucket:\n    Type: AWS::S3::Bucket\n", encoding="utf-8"
    )
    r = CliRunner().invoke(main, ["design", "check", str(template)])
    assert r.exit_code == 3 and "no function could be read" in r.output and len(r.output.strip().splitlines()) == 1


def test_markdown_says_where_and_what_to_fix() -> None:
    md = _design("--format", "markdown").stdout
    section = md[md.index("## What to fix") : md.index("## Functions and elements")]
    assert "| `template.yaml:114` | AdminExportFunction | high | The runtime is not deprecated | supported-runtimes |" in section
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    order = ["critical", "high", "medium", "low"]
    assert [order.index(r.split(" | ")[2]) for r in rows] == sorted(order.index(r.split(" | ")[2]) for r in rows)
