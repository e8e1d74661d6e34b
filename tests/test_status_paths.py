"""Every status an assessment gives must follow from a determinative path (issue 21's "done when").

The walk here re-derives, from the stored assessment alone, the evidence that each satisfied,
partially-satisfied or not-satisfied control or framework item rests on, without calling the status rules:
a chain of ``subset-of``/``equal`` links down to a rule outcome with findings behind it, or an attestation
naming the item. It runs over the bundled demo and over the whole shared corpus, through the CLI.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.assess import Assessment, load_assessment
from compliance.assess.model import MitigationResult, RuleEvidence
from compliance.cli import main
from compliance.evidence.store import Store

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEMO = ROOT / "examples" / "phi-app" / "evidence"
CORPUS = ROOT.parent / "shared" / "corpus"
DECIDING = {"subset-of", "equal"}


def _rule_shows(r: RuleEvidence, outcome: str) -> bool:
    """A rule's evidence shows ``outcome`` on a determinative path, with findings behind it."""
    if r.mapped_by == "cwe":
        return False
    if r.mapped_by in ("rule", "tool") and r.relationship not in DECIDING:
        return False
    if outcome == "fail":
        return r.outcome == "fail" and r.failed > 0 and bool(r.failing)
    return r.outcome == "pass" and r.passed > 0 and r.mapped_by != "tool"


def _mitigation_shows(m: MitigationResult | None, outcome: str) -> bool:
    return m is not None and any(_rule_shows(r, outcome) for r in m.rules)


def walk(a: Assessment) -> list[str]:
    """Statuses without a determinative path (empty: every status is backed)."""
    bad: list[str] = []
    for c in a.controls.values():
        status = c.derived_status or c.status
        if status in ("not-assessed", "inherited"):
            continue
        det = [ln for ln in c.mitigations if ln.determinative and ln.relationship in DECIDING]
        fails = [ln.id for ln in det if _mitigation_shows(a.mitigations.get(ln.id), "fail")]
        fails += [r.rule for r in c.direct if r.outcome == "fail" and r.failed > 0]
        passes = [ln.id for ln in det if _mitigation_shows(a.mitigations.get(ln.id), "pass")]
        passes += [r.rule for r in c.direct if r.outcome == "pass" and r.passed > 0]
        if status == "not-satisfied" and not fails:
            bad.append(f"{c.id} not-satisfied without a determinative failure")
        if status in ("satisfied", "partially-satisfied") and not passes:
            bad.append(f"{c.id} {status} without a determinative pass")
        if status == "satisfied":
            direct_pass = any(r.outcome == "pass" and r.passed > 0 for r in c.direct)
            covered = set(c.parts) if direct_pass else set()
            for ln in det:
                if _mitigation_shows(a.mitigations.get(ln.id), "pass") and ln.status == "satisfied":
                    covered |= set(c.parts) if ln.relationship == "equal" else set(ln.parts)
            if not set(c.parts) <= covered:
                bad.append(f"{c.id} satisfied but parts {sorted(set(c.parts) - covered)} have no passing path")
    for s in a.safeguards.values():
        status = s.derived_status or s.status
        if status in ("not-assessed", "inherited"):
            continue
        det = [ln for ln in s.mitigations if ln.determinative and ln.relationship in DECIDING]
        members = [a.safeguards[x] for x in s.specifications if x in a.safeguards]
        fails = [ln.id for ln in det if _mitigation_shows(a.mitigations.get(ln.id), "fail")]
        fails += [r.rule for r in s.direct if r.outcome == "fail"]
        fails += [m.id for m in members if (m.derived_status or m.status) == "not-satisfied"]
        passes = [ln.id for ln in det if _mitigation_shows(a.mitigations.get(ln.id), "pass")]
        passes += [r.rule for r in s.direct if r.outcome == "pass"]
        passes += [m.id for m in members if (m.derived_status or m.status) in ("satisfied", "partially-satisfied")]
        if status == "not-satisfied" and not fails:
            bad.append(f"{s.id} not-satisfied without a determinative failure")
        if status in ("satisfied", "partially-satisfied") and not passes:
            bad.append(f"{s.id} {status} without a determinative pass")
    return bad


def _assess(ws: Path, *args: str) -> Assessment:
    runner = CliRunner()
    r = runner.invoke(main, ["--workspace", str(ws), "--now", "2026-12-01", "assess", *args, "--format", "json"])
    assert r.exit_code == 0, r.output
    with Store.open(ws, read_only=True) as store:
        return load_assessment(store)


def _ingest(ws: Path, src: Path, *args: str) -> None:
    r = CliRunner().invoke(main, ["--workspace", str(ws), "--now", "2026-12-01", "evidence", "ingest", str(src), *args])
    assert r.exit_code in (0, 3), r.output  # 3: some corpus files are refused on purpose (bad input)


def test_demo_statuses_all_have_determinative_paths(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _ingest(ws, DEMO)
    for extra in ((), ("--accept-ingest-time",)):
        a = _assess(ws, "--scope", "fedramp-moderate", "--scope", "hipaa", *extra)
        assert walk(a) == []
        decided = [c for c in a.controls.values() if c.status in ("satisfied", "not-satisfied", "partially-satisfied")]
        assert decided, "the demo decides some controls"


@pytest.fixture(scope="module")
def corpus_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not beside the checkout")
    ws = tmp_path_factory.mktemp("corpus") / "ws"
    _ingest(ws, CORPUS)
    return ws


def test_corpus_statuses_all_have_determinative_paths(corpus_ws: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(corpus_ws, ws)
    a = _assess(ws, "--scope", "fedramp-high", "--scope", "hipaa", "--max-age", "3650", "--accept-ingest-time")
    assert walk(a) == []
    assert sum(1 for c in a.controls.values() if c.status == "not-satisfied") > 5


def test_the_walk_catches_a_status_without_a_path(tmp_path: Path) -> None:
    """The walk can fail: a status forced onto a control with no evidence is reported."""
    ws = tmp_path / "ws"
    _ingest(ws, DEMO)
    a = _assess(ws, "--scope", "fedramp-moderate", "--accept-ingest-time")
    quiet = next(c for c in a.controls.values() if c.status == "not-assessed" and not c.direct)
    quiet.derived_status = quiet.status = "not-satisfied"
    assert walk(a) == [f"{quiet.id} not-satisfied without a determinative failure"]
