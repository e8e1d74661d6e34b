"""Hostile design inputs: alias bombs and exponential Serverless variables are refused with one line, in
bounded time (both used to run without end)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from compliance.cli import main

SAM_BOMB = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Metadata:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Environment:
        Variables:
          X: *h
"""


def _sls_chain(levels: int) -> str:
    """``v0`` refers to ``v1`` twice, ``v1`` to ``v2`` twice, ...: 2**levels lookups if expanded naively."""
    lines = ["service: bomb", "provider:", "  name: aws", "  runtime: python3.12", "custom:"]
    for i in range(levels):
        lines.append(f"  v{i}: '${{self:custom.v{i + 1}}}-${{self:custom.v{i + 1}}}'")
    lines.append(f"  v{levels}: lol")
    lines += ["functions:", "  hello:", "    handler: app.handler", "    environment:", "      X: ${self:custom.v0}"]
    return "\n".join(lines) + "\n"


def _check(path: Path) -> tuple[int, str, float]:
    start = time.monotonic()
    r = CliRunner().invoke(main, ["--now", "2026-11-30", "design", "check", str(path)])
    return r.exit_code, r.stderr, time.monotonic() - start


def test_sam_alias_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(SAM_BOMB)
    code, err, took = _check(path)
    assert code == 3, err
    assert err.strip().startswith("sckb: error: template.yaml:") and "YAML bomb" in err, err
    assert len(err.strip().splitlines()) == 1 and took < 10


def test_recursive_alias_and_deep_nesting_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  A: " + "[" * 500 + "]" * 500 + "\n")
    code, err, _ = _check(path)
    assert code == 3 and "nesting deeper than 200 levels" in err, err


def test_serverless_variables_expanding_exponentially_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "serverless.yml"
    path.write_text(_sls_chain(40))
    code, err, took = _check(path)
    assert code == 3, err
    assert "serverless.yml: variables expand too much" in err, err
    assert len(err.strip().splitlines()) == 1 and took < 20


def test_serverless_variable_string_size_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "serverless.yml"
    text = _sls_chain(22).replace("v22: lol", "v22: " + "x" * 4096)
    path.write_text(text)
    code, err, _ = _check(path)
    assert code == 3 and ("over 1,048,576 characters" in err or "expand too much" in err), err


def test_modest_serverless_variables_still_resolve(tmp_path: Path) -> None:
    """The bounds leave ordinary files alone: a short chain of doubled references resolves."""
    path = tmp_path / "serverless.yml"
    path.write_text(_sls_chain(4))
    r = CliRunner().invoke(main, ["--now", "2026-11-30", "design", "check", str(path), "--json"])
    assert r.exit_code in (0, 1), r.output
    assert "expand" not in r.stderr


def test_control_character_is_a_one_line_error(tmp_path: Path) -> None:
    """PyYAML's reader error spans two lines; sckb's message is one (found by tests/test_fuzz.py)."""
    path = tmp_path / "template.yaml"
    path.write_bytes(b"Resources:\n  A:\n    Type: AWS::SQS::Queue\n  \x01B: 1\n")
    code, err, _ = _check(path)
    assert code == 3, err
    assert err.startswith("sckb: error: template.yaml:4: invalid YAML: ") and err.strip().endswith("(character #x0001)"), err
    assert len(err.strip().splitlines()) == 1


def test_terraform_file_size_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "main.tf"
    path.write_text('resource "aws_sqs_queue" "q" {\n  name = "' + "x" * 4_100_000 + '"\n}\n')
    code, err, took = _check(path)
    assert code == 3 and "main.tf: Terraform file larger than 4 MB" in err, err
    assert took < 60  # refused without being parsed


def test_wrong_types_in_a_template_are_bad_input(tmp_path: Path) -> None:
    """A value of the wrong type (``parameters`` that is not a mapping) used to end in an internal error, exit 70
    (found by tests/test_fuzz.py); it is bad input, exit 3, one line."""
    arm = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": True,
        "resources": [{"type": "Microsoft.Web/sites", "apiVersion": "2022-03-01", "name": "[parameters('functionAppName')]",
                       "kind": "functionapp", "properties": {}}],
    }  # fmt: skip
    path = tmp_path / "azuredeploy.json"
    path.write_text(json.dumps(arm))
    code, err, _ = _check(path)
    assert code == 3, err
    assert err.startswith("sckb: error: azuredeploy.json: unexpected content for an ARM template: AttributeError"), err
    assert len(err.strip().splitlines()) == 1
