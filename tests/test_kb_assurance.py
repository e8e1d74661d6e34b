"""Controls and framework items only EXAMINE/INTERVIEW evidence can show satisfied (mappings/assurance.yaml, section
``assurance``; ``KB.methods_required``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compliance import kb as kbmod
from compliance.kb.core import KB, oscal_id
from compliance.kb.model import Control, NodeKind, Safeguard

ROOT = Path(__file__).resolve().parents[1]
PEOPLE = frozenset({"EXAMINE", "INTERVIEW"})


@pytest.fixture(scope="module")
def kb() -> KB:
    return kbmod.load()


def test_every_live_policy_and_procedures_control_is_listed(kb: KB) -> None:
    dash_one = [
        e.id
        for e in kb.of_kind(NodeKind.CONTROL)
        if re.fullmatch(r"[A-Z]{2}-1", e.id) and isinstance(e.record, Control) and not e.record.withdrawn
    ]
    assert len(dash_one) >= 19
    assert [c for c in dash_one if kb.methods_required(c) != PEOPLE] == []


@pytest.mark.parametrize(
    "target",
    ["SA-9", "AC-20", "PL-2", "AT-2", "PS-3", "CA-2", "164.308(b)(1)", "164.316(b)(1)", "164.308(a)(1)(ii)(A)", "KSI-CED-01"],
)
def test_documents_and_people_items_are_listed(kb: KB, target: str) -> None:
    assert kb.methods_required(target) == PEOPLE


@pytest.mark.parametrize("target", ["AC-6", "SC-28", "SI-10", "AU-11", "SC-8(1)", "164.312(a)(1)", "KSI-IAM-01"])
def test_technical_items_are_not_listed(kb: KB, target: str) -> None:
    assert kb.methods_required(target) is None


def test_entries_are_well_formed(kb: KB) -> None:
    assert len(kb.assurance) > 100
    frameworks = set()
    for target, (rec, origin) in kb.assurance.items():
        assert Path(origin.file).name == "assurance.yaml"
        entry = kb.nodes[target]
        assert entry.kind in (NodeKind.CONTROL, NodeKind.SAFEGUARD), target
        assert "TEST" not in {m.value for m in rec.methods} and rec.methods, target
        assert rec.rationale and "sckb judgement" in rec.source
        if isinstance(entry.record, Control):
            assert not entry.record.withdrawn, target
            # the SP 800-53A objective the judgement rests on
            assert f"objective {oscal_id(target)}_obj;" in rec.source, target
        elif isinstance(entry.record, Safeguard):
            frameworks.add(entry.record.framework)
    assert len(frameworks) == 2  # both shipped frameworks have items of this nature


def test_assurance_controls_leave_the_parts_gap(kb: KB) -> None:
    """AU-6 is reached by a subset-of link without parts, but only a review shows it: no gap to report."""
    from compliance.kb.rigor import check_parts_gap

    (warning,) = check_parts_gap(kb)
    assert "AU-6," not in warning.message and "AC-6," in warning.message
