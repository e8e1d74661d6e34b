"""The bundled example (examples/phi-app): its committed real scanner outputs ingest cleanly and report the
flaws the example plants; nothing in it names a path of the machine that produced it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from compliance.evidence.ingest import ingest
from compliance.evidence.mapping import Mapper
from compliance.evidence.store import Store

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "phi-app"


def test_example_evidence_reports_the_planted_flaws(tmp_path: Path) -> None:
    with Store.open(tmp_path / "ws") as store:
        summary = ingest(store, [EXAMPLE / "evidence"], mapper=Mapper(None), now=datetime(2026, 11, 30, tzinfo=UTC))
        assert summary.errors == 0 and summary.files == 5
        assert {r.tool for r in summary.results} == {"checkov", "bandit", "semgrep", "cfn-lint", "sckb-attestation"}
        failing = {(f.tool, f.rule_id, f.function or f.resource or f.file) for f in store.findings(status="open")}
        assert store.verify() == []
    assert ("checkov", "CKV_AWS_116", "LabResultsWorkerFunction") in failing  # no dead-letter queue
    assert ("checkov", "CKV_AWS_115", "PatientApiFunction") in failing  # no reserved concurrency
    assert ("checkov", "CKV_AWS_158", "AWS::Logs::LogGroup.AdminExportLogGroup") in failing  # log group without KMS
    assert ("semgrep", "semgrep-rules.sam-wildcard-iam-policy", "template.yaml") in failing
    assert ("bandit", "B602", "src/admin/handler.py") in failing
    assert ("bandit", "B301", "src/worker/handler.py") in failing
    assert ("sckb-attestation", "quarterly-access-review-2026-q4", None) in failing


def test_example_has_no_machine_paths() -> None:
    pattern = re.compile(r"/(work|root|home)/|/tmp/pytest|scanvenv/")
    for p in EXAMPLE.rglob("*"):
        if p.is_file():
            assert not pattern.search(p.read_text(errors="replace")), p
