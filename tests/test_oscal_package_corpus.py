"""The OSCAL package over the whole shared corpus (issue 24): every document exported from an assessment of every
corpus file is schema-valid, loads in trestle, and passes `sckb oscal check` with 0 errors."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from compliance.cli import main
from compliance.oscal import Validators, errors

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"
SCHEMAS = SHARED / "oscal" / "schemas"

pytestmark = pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").is_file(), reason="../shared is not beside the checkout")


def test_the_corpus_package_is_valid_loads_and_checks_clean(tmp_path: Path) -> None:
    ws, out = tmp_path / "ws", tmp_path / "oscal"
    run = CliRunner()

    def sckb(*args: str) -> str:
        r = run.invoke(main, ["--workspace", str(ws), "--now", "2026-12-01", *args])
        assert r.exit_code == 0, (args, r.output[-2000:])
        return str(r.stdout)

    sckb("evidence", "ingest", *sorted(str(d) for d in CORPUS.iterdir() if d.is_dir()))  # not its README files
    sckb("assess", "--scope", "fedramp-moderate", "--accept-ingest-time", "--max-age", "100000", "--format", "json")
    sckb("export", "oscal", "--out", str(out), "--marking", "CUI", "--no-copy-evidence", "--schema-dir", str(SCHEMAS))
    docs = sorted(out.glob("*.json"))
    assert [d.name for d in docs] == ["assessment-plan.json", "assessment-results.json", "component-definition.json", "poam.json"]
    validators = Validators(SCHEMAS)
    for d in docs:
        assert errors(orjson.loads(d.read_bytes()), validators) == [], d.name
    check = run.invoke(main, ["oscal", "check", "--json", *map(str, docs)])
    assert check.exit_code == 0, check.output[-2000:]
    from trestle.oscal.assessment_results import AssessmentResults
    from trestle.oscal.poam import PlanOfActionAndMilestones

    assert AssessmentResults.oscal_read(out / "assessment-results.json").results
    assert PlanOfActionAndMilestones.oscal_read(out / "poam.json").poam_items
