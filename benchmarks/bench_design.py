"""Design check of a generated SAM template with 500 functions (goal: <= 2 s), beside Checkov's wall time on the
same template when Checkov is on PATH, and beside a bare YAML parse of the template."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import best_of, report

FUNCTIONS = 500


def template(n: int) -> str:
    """n functions, each behind an API route, with its own table, queue and SAM policy templates."""
    out = [
        "AWSTemplateFormatVersion: '2010-09-09'",
        "Transform: AWS::Serverless-2016-10-31",
        "Globals:",
        "  Function:",
        "    Runtime: python3.12",
        "    Timeout: 10",
        "Resources:",
        "  Api:",
        "    Type: AWS::Serverless::Api",
        "    Properties:",
        "      StageName: prod",
    ]
    for i in range(n):
        out += [
            f"  Table{i}:",
            "    Type: AWS::DynamoDB::Table",
            "    Properties:",
            f"      TableName: table-{i}",
            "      SSESpecification: {SSEEnabled: true}",
            f"  Queue{i}:",
            "    Type: AWS::SQS::Queue",
            "    Properties:",
            "      SqsManagedSseEnabled: true",
            f"  Fn{i}:",
            "    Type: AWS::Serverless::Function",
            "    Properties:",
            f"      Handler: app{i}.handler",
            f"      CodeUri: src/{i}/",
            "      Tracing: Active" if i % 2 else "      MemorySize: 256",
            "      Environment:",
            "        Variables:",
            f"          TABLE: !Ref Table{i}",
            "      Policies:",
            f"        - DynamoDBCrudPolicy: {{TableName: !Ref Table{i}}}",
            f"        - SQSPollerPolicy: {{QueueName: !GetAtt Queue{i}.QueueName}}",
            "      Events:",
            "        Http:",
            "          Type: Api",
            f"          Properties: {{RestApiId: !Ref Api, Path: /item{i}, Method: post}}",
            "        Q:",
            "          Type: SQS",
            f"          Properties: {{Queue: !GetAtt Queue{i}.Arn}}",
        ]
    return "\n".join(out) + "\n"


def main() -> None:
    from compliance import kb as kbmod
    from compliance.design.cfnyaml import load_template_text
    from compliance.design.check import run_check

    kb = kbmod.load([])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "template.yaml"
        text = template(FUNCTIONS)
        path.write_text(text)
        parse = best_of(lambda: load_template_text(text, path), runs=3)
        check = best_of(lambda: run_check(kb, path, "fedramp-moderate", today=date(2026, 11, 30)), runs=3)
        report(f"design check, {FUNCTIONS} functions", check, "s", baseline=parse, baseline_name="bare YAML parse", goal="<= 2 s")
        checkov = shutil.which("checkov")
        if checkov is None:
            print("checkov not installed (not a project dependency): no Checkov wall time to compare", flush=True)
            return
        t0 = time.perf_counter()
        subprocess.run(
            [checkov, "-f", str(path), "--quiet", "--compact", "-o", "json"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        report(
            f"design check, {FUNCTIONS} functions",
            check,
            "s",
            baseline=time.perf_counter() - t0,
            baseline_name="checkov -f",
            goal="<= 2 s",
        )


if __name__ == "__main__":
    main()
